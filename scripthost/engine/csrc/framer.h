/* The Framer object: framing state, the id table and the queue. */
#ifndef SCRIPTHOST_FRAMER_H
#define SCRIPTHOST_FRAMER_H

#include "core.h"
#include "handlers.h"
#include "batch.h"
#include "frames.h"
#include "lines.h"
#include "sample_dicts.h"

typedef enum {
    FRAME_END = 0,          /* no whole record left before the end given */
    FRAME_OTHER = 1,        /* a record neither sample nor round lies whole at pos */
    FRAME_BAD_SIZE = 2,     /* the record at pos claims fewer than 8 bytes */
    FRAME_SHORT_SAMPLE = 3, /* the sample at pos is smaller than its fields */
    FRAME_NO_EVSEL = 4,     /* a sample before any event attribute */
    FRAME_ERROR = -1,       /* a Python exception is set */
} FrameStatus;

/* where an evsel's samples go */
typedef enum { ROUTE_ITEMS = 0, ROUTE_CALL = 1, ROUTE_BATCH = 2, ROUTE_SLICE = 3, ROUTE_DROP = 4, ROUTE_LINE = 5,
               ROUTE_DICT = 6 } RouteKind;

typedef struct {
    char asked, kind;
    uint16_t type;              /* ROUTE_BATCH: the event type the sink is told; ROUTE_SLICE: its id */
    HandlerPlan *plan;          /* ROUTE_CALL */
    LinePlan *line;             /* ROUTE_LINE */
    DictPlan *dict;             /* ROUTE_DICT */
    int frame_kind;             /* ROUTE_SLICE: the frame kind, where the slice starts, RAW's size */
    uint32_t start, raw_size_off;
} Route;

typedef struct {
    PyObject_HEAD
    Queue qu;
    IdMap ids;
    EvselInfo *evs;
    Py_ssize_t nevs;
    SampleFilter filter;
    int filtering;              /* any part of filter on */
    int id_pos;                 /* offset of the id that picks a sample's evsel, or -1 */
    uint32_t sample_record, round_record;
    unsigned long long records, samples, unknown_ids;
    Entry *out;
    size_t outcap;
    PyObject *planner;          /* evsel -> a route (see set_planner); NULL: items for all */
    Route *routes;              /* by evsel index, once asked */
    Py_ssize_t nroutes;
    BatchOut batch;
    FramesOut frames;
    LinesOut lines;
} Framer;

int filter_accepts(const SampleFilter *f, const EvselInfo *e, const unsigned char *r);
void filter_free(SampleFilter *f);
PyObject *Framer_set_filter(Framer *self, PyObject *args);
FrameStatus frame_chunk(Framer *f, PyObject *chunk, Py_ssize_t *ppos, Py_ssize_t end);

#endif
