/* The default output's lines, formatted in C: for an event type whose line is one
 * %-format of the sample's columns (comm, tid, cpu, time, period), of fields read at
 * fixed offsets and of the ip's or the callchain's resolved text, the core reads the
 * values, formats the line and gathers the text, written in large pieces. */
#ifndef SCRIPTHOST_LINES_H
#define SCRIPTHOST_LINES_H

#include "core.h"
#include "symcache.h"

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

/* where each conversion's value comes from, one letter each (the plan's columns) */
enum {
    COL_COMM = 'c', COL_TID = 't', COL_CPU = 'C', COL_SECS = 's', COL_FRAC = 'f', COL_PERIOD = 'p',
    COL_READ = 'r',     /* the next of the reads, in the RAW data */
    COL_IP = 'i', COL_WHERE = 'w',  /* the ip, and its "symbol+0xoffset (dso)" */
    COL_STACK = 'S',    /* the callchain, a "\t<resolved text>\n" line per entry, then "\n" */
};

typedef struct {
    PyObject *line;     /* the %-format of the whole line */
    char *text;         /* its literal text, UTF-8 */
    LineOp *ops;
    char *cols;         /* the column of each conversion (ops[k].conv != 0) */
    Py_ssize_t nops;
    PyObject *comms;    /* tid -> comm */
    PyObject *fallback; /* fallback(item): the event when its line cannot be made here */
    PyObject *evsel;
    /* offsets from the record start, 0 where the sample has no such field */
    uint32_t pid_off, tid_off, time_off, cpu_off, period_off, raw_size_off, ip_off, chain_off;
    uint32_t need;      /* the record size the fixed fields need */
    uint64_t period;    /* the period shown when it is not sampled */
    uint32_t time_div;
    SymCache syms;      /* for the ip's and callchain's text */
    Contexts contexts;
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
