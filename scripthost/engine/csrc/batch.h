/* Batches out: the samples of evsels a consumer reads in place (LuaJIT through its
 * FFI) leave the core as arrays, never as Python objects: per event its chunk's slot
 * (u16), its position in the chunk (u32) and its type (u16).  The chunks themselves
 * are published once per slot. */
#ifndef SCRIPTHOST_BATCH_H
#define SCRIPTHOST_BATCH_H

#include "core.h"

#define BATCH_SLOTS 64

typedef struct {
    PyObject *sink;     /* sink(n, slots, positions, types): one batch, arrays as bytes */
    PyObject *publish;  /* publish(slot, chunk): the chunk a slot now stands for */
    PyObject *chunk[BATCH_SLOTS];   /* owned */
    uint64_t used_in[BATCH_SLOTS];  /* the batch a slot was last used in */
    uint64_t batch;                 /* the current batch's number, from 1 */
    int last;                       /* the slot of the last event's chunk, or -1 */
    uint16_t *slots, *types;
    uint32_t *positions;
    size_t n, cap;
} BatchOut;

/* add one event (the chunk reference stays the caller's); -1 with an exception */
int batch_add(BatchOut *b, PyObject *chunk, uint32_t pos, uint16_t type);
/* hand the events added so far to the sink; -1 with an exception */
int batch_flush(BatchOut *b);
void batch_free(BatchOut *b);

#endif
