/* The default output's lines, formatted in C: for an event type whose line is one
 * %-format of the sample's comm, tid, cpu, time and fields read at fixed offsets, the
 * core reads the values, formats the line and gathers the text, written in large pieces. */
#ifndef SCRIPTHOST_LINES_H
#define SCRIPTHOST_LINES_H

#include "core.h"

typedef struct {
    char code;          /* a struct code: b B h H i I q Q */
    uint32_t offset;    /* in the RAW data */
} LineRead;

/* one piece of the line's %-format, compiled: literal text, or a conversion of the
 * next value with Python's %-format semantics (flags - 0 + space #, width, precision) */
typedef struct {
    uint32_t lit_at, lit_len;   /* literal text before it, in the plan's text */
    char conv;                  /* d x X o s, or 0 for the literal tail */
    char left, zero, plus, space, alt;
    int width, prec;            /* -1: none */
} LineOp;

typedef struct {
    PyObject *line;     /* the %-format of the whole line */
    char *text;         /* its literal text, UTF-8 */
    LineOp *ops;
    Py_ssize_t nops;
    PyObject *comms;    /* tid -> comm */
    PyObject *fallback; /* fallback(item): the event when its line cannot be made here */
    PyObject *evsel;
    uint32_t tid_off, time_off, cpu_off, raw_size_off;
    uint32_t time_div;
    Py_ssize_t nreads;
    LineRead reads[];
} LinePlan;

typedef struct {
    PyObject *write;    /* the output's write */
    char *buf;          /* lines not yet written, UTF-8 */
    size_t n, cap;
} LinesOut;

LinePlan *line_plan_new(PyObject *spec);
void line_plan_free(LinePlan *p);
/* the line of the sample at chunk[pos] into out; -1 with an exception */
int line_add(LinesOut *out, LinePlan *p, PyObject *chunk, uint32_t pos, uint64_t time);
int lines_flush(LinesOut *out);
void lines_free(LinesOut *out);

#endif
