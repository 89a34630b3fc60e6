/* The Framer object: framing state, the id table and the queue. */
#ifndef SCRIPTHOST_FRAMER_H
#define SCRIPTHOST_FRAMER_H

#include "core.h"
#include "handlers.h"

typedef enum {
    FRAME_END = 0,          /* no whole record left before the end given */
    FRAME_OTHER = 1,        /* a record neither sample nor round lies whole at pos */
    FRAME_BAD_SIZE = 2,     /* the record at pos claims fewer than 8 bytes */
    FRAME_SHORT_SAMPLE = 3, /* the sample at pos is smaller than its fields */
    FRAME_NO_EVSEL = 4,     /* a sample before any event attribute */
    FRAME_ERROR = -1,       /* a Python exception is set */
} FrameStatus;

typedef struct {
    PyObject_HEAD
    Queue qu;
    IdMap ids;
    EvselInfo *evs;
    Py_ssize_t nevs;
    int id_pos;                 /* offset of the id that picks a sample's evsel, or -1 */
    uint32_t sample_record, round_record;
    unsigned long long records, samples, unknown_ids;
    Entry *out;
    size_t outcap;
    PyObject *planner;          /* evsel -> plan or None; NULL: no plans */
    HandlerPlan **plans;        /* by evsel index, once asked */
    char *plan_state;           /* 1 once the planner was asked */
    Py_ssize_t nplans;
} Framer;

FrameStatus frame_chunk(Framer *f, PyObject *chunk, Py_ssize_t *ppos, Py_ssize_t end);

#endif
