/* Frames out: samples copied, as byte slices of themselves, into frames for a consumer
 * in another process (the Perl bridge).  A frame holds events of one kind; each event is
 * its type's 2-byte id followed by its record from `start` to the end of its RAW data. */
#ifndef SCRIPTHOST_FRAMES_H
#define SCRIPTHOST_FRAMES_H

#include "core.h"

/* a tracepoint's RAW data starts with its common fields (type, flags, preempt_count,
 * pid): the bridge reads common_pid at RAW offset 4 straight out of the frame */
#define FRAMES_MIN_RAW 8

typedef struct {
    PyObject *sink;     /* sink(kind, payload): one frame's events, as bytes */
    PyObject *error;    /* raised for a sample whose RAW data runs past it */
    size_t limit;       /* a frame is handed on once it holds this many bytes */
    int kind;           /* the current frame's kind, -1 before the first */
    char *buf;
    size_t n, cap;
} FramesOut;

/* add the sample at rec (size bytes); -1 with an exception */
int frames_add(FramesOut *f, int kind, uint16_t ident, const unsigned char *rec, size_t size,
               uint32_t start, uint32_t raw_size_off);
int frames_flush(FramesOut *f);
void frames_free(FramesOut *f);

#endif
