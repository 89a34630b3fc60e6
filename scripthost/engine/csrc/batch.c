/* Batches out as arrays, chunks published by slot (see batch.h). */
#include "batch.h"

static int grow(BatchOut *b)
{
    size_t cap = b->cap ? b->cap * 2 : 1024;
    uint16_t *slots = PyMem_Realloc(b->slots, cap * sizeof *slots);
    if (slots)
        b->slots = slots;
    uint16_t *types = PyMem_Realloc(b->types, cap * sizeof *types);
    if (types)
        b->types = types;
    uint32_t *positions = PyMem_Realloc(b->positions, cap * sizeof *positions);
    if (positions)
        b->positions = positions;
    if (!slots || !types || !positions) {
        PyErr_NoMemory();
        return -1;
    }
    b->cap = cap;
    return 0;
}

/* the slot holding chunk, publishing it in a slot no event of this batch uses */
static int slot_for(BatchOut *b, PyObject *chunk)
{
    if (!b->batch)
        b->batch = 1;
    if (b->last >= 0 && b->chunk[b->last] == chunk)
        return b->last;
    int free_slot = -1;
    for (int s = 0; s < BATCH_SLOTS; s++) {
        if (b->chunk[s] == chunk)
            return s;
        if (free_slot < 0 && b->used_in[s] != b->batch)
            free_slot = s;
    }
    if (free_slot < 0) {  /* every slot in this batch: hand it on first */
        if (batch_flush(b) < 0)
            return -1;
        return slot_for(b, chunk);
    }
    PyObject *r = PyObject_CallFunction(b->publish, "iO", free_slot, chunk);
    if (!r)
        return -1;
    Py_DECREF(r);
    Py_XSETREF(b->chunk[free_slot], Py_NewRef(chunk));
    return free_slot;
}

int batch_add(BatchOut *b, PyObject *chunk, uint32_t pos, uint16_t type)
{
    int s = slot_for(b, chunk);
    if (s < 0)
        return -1;
    if (b->n == b->cap && grow(b) < 0)
        return -1;
    b->used_in[s] = b->batch;
    b->last = s;
    b->slots[b->n] = (uint16_t)s;
    b->positions[b->n] = pos;
    b->types[b->n] = type;
    b->n++;
    return 0;
}

int batch_flush(BatchOut *b)
{
    if (!b->n)
        return 0;
    size_t n = b->n;
    b->n = 0;
    b->batch++;
    b->last = -1;
    PyObject *r = PyObject_CallFunction(b->sink, "ny#y#y#", (Py_ssize_t)n, (const char *)b->slots,
                                        (Py_ssize_t)(n * sizeof *b->slots), (const char *)b->positions,
                                        (Py_ssize_t)(n * sizeof *b->positions), (const char *)b->types,
                                        (Py_ssize_t)(n * sizeof *b->types));
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

void batch_free(BatchOut *b)
{
    for (int s = 0; s < BATCH_SLOTS; s++)
        Py_CLEAR(b->chunk[s]);
    Py_CLEAR(b->sink);
    Py_CLEAR(b->publish);
    PyMem_Free(b->slots);
    PyMem_Free(b->types);
    PyMem_Free(b->positions);
    b->slots = b->types = NULL;
    b->positions = NULL;
    b->n = b->cap = 0;
    b->last = -1;
}
