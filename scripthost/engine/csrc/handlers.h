/* Handler plans: perf's Python handler arguments built in C, the handler called
 * with them (vectorcall), one event after another. */
#ifndef SCRIPTHOST_HANDLERS_H
#define SCRIPTHOST_HANDLERS_H

#include "core.h"

/* how one tracepoint field becomes its Python value (perf 6.1's conversions) */
typedef enum {
    FIELD_UINT = 0,     /* 1, 2, 4 or 8 bytes, unsigned */
    FIELD_INT64 = 1,    /* 8 bytes, signed */
    FIELD_DYN_LOC = 2,  /* a __data_loc word given as its integer */
    FIELD_STR = 3,      /* char array: str while printable, bytearray once not */
    FIELD_STR_DYN = 4,  /* __data_loc/__rel_loc char array, the same */
    FIELD_BYTES = 5,    /* other fixed array: bytearray */
    FIELD_BYTES_DYN = 6,/* other __data_loc/__rel_loc array: bytearray */
    FIELD_ZERO = 7,     /* a size perf gives as 0 */
    FIELD_KINDS
} FieldKind;

typedef struct {
    int kind;
    uint32_t offset, size;
    uint32_t base;      /* a dynamic array's base: 0, or for __rel_loc the end of its word */
    int demoted;        /* FIELD_STR*: a non-printable value was seen; bytearray from now on */
} FieldPlan;

typedef struct {
    PyObject *fn, *name, *context, *comms;
    PyObject *error;    /* error(message, chunk, pos): the exception of a corrupt sample */
    uint32_t tid_off, time_off, cpu_off, raw_size_off;
    Py_ssize_t nfields;
    FieldPlan fields[];
} HandlerPlan;

/* a plan from its Python description (see module.c's set_plan), or NULL with an exception */
HandlerPlan *plan_new(PyObject *spec);
void plan_free(HandlerPlan *p);
/* call the plan's handler for the sample at chunk[pos:pos+size]; -1 with an exception */
int plan_call(HandlerPlan *p, PyObject *chunk, size_t pos, uint64_t time);

#endif
