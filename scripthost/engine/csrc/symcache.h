/* Resolved addresses, kept per (pid, cpumode, ip): the default output's text of each
 * callchain entry ("symbol+0xoffset (dso)"), or perf_sample_dict's facts about it (an
 * object), is made in Python once, on a miss, and read from here for every later sample.  Everything is dropped when the
 * address spaces change (the machine's generation moves) or the table is full. */
#ifndef SCRIPTHOST_SYMCACHE_H
#define SCRIPTHOST_SYMCACHE_H

#include "core.h"

typedef struct {
    uint64_t ip;
    int32_t pid;        /* -1 for the kernel's and other shared address spaces */
    uint8_t mode, used;
    uint32_t at, len;   /* the text, in the cache's arena */
    PyObject *obj;      /* or the object (symcache_obj) */
} SymEntry;

typedef struct {
    PyObject *where;    /* where(pid, cpumode, ip) -> bytes (or the object), on a miss */
    PyObject *machine;  /* its "generation" attribute says when the table is stale */
    long long generation;
    SymEntry *slots;
    size_t cap, n;      /* cap: a power of two, 0 when empty */
    char *arena;
    size_t used, acap;
} SymCache;

/* a callchain's context markers (PERF_CONTEXT_*): entries from min on are markers, each
 * known one switching the cpumode of the entries after it */
#define MAX_CONTEXTS 8
typedef struct {
    uint64_t min, markers[MAX_CONTEXTS];
    int modes[MAX_CONTEXTS], n;
} Contexts;

/* from (min, ((marker, cpumode), ...)); -1 with an exception */
int contexts_parse(Contexts *c, PyObject *spec);

/* the cpumode after marker, or -1 for a marker not known (perf 6.1 then drops the chain) */
static inline int contexts_mode(const Contexts *c, uint64_t marker)
{
    for (int i = 0; i < c->n; i++)
        if (c->markers[i] == marker)
            return c->modes[i];
    return -1;
}

/* begin a sample: drop what a moved generation made stale; -1 with an exception */
int symcache_check(SymCache *c);
/* the text of ip (*text, *len point into the cache until its next miss); -1 with an exception */
int symcache_text(SymCache *c, int32_t pid, int mode, uint64_t ip, const char **text, size_t *len);
/* the object of ip (borrowed, valid until the cache's next miss), NULL with an exception */
PyObject *symcache_obj(SymCache *c, int32_t pid, int mode, uint64_t ip);
void symcache_free(SymCache *c);

#endif
