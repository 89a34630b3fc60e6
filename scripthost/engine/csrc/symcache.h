/* Resolved addresses' text, kept per (pid, cpumode, ip): the default output's
 * "symbol+0xoffset (dso)" of each callchain entry is made in Python once, on a miss,
 * and copied from here for every later sample.  Everything is dropped when the
 * address spaces change (the machine's generation moves) or the table is full. */
#ifndef SCRIPTHOST_SYMCACHE_H
#define SCRIPTHOST_SYMCACHE_H

#include "core.h"

typedef struct {
    uint64_t ip;
    int32_t pid;        /* -1 for the kernel's and other shared address spaces */
    uint8_t mode, used;
    uint32_t at, len;   /* the text, in the cache's arena */
} SymEntry;

typedef struct {
    PyObject *where;    /* where(pid, cpumode, ip) -> bytes, on a miss */
    PyObject *machine;  /* its "generation" attribute says when the table is stale */
    long long generation;
    SymEntry *slots;
    size_t cap, n;      /* cap: a power of two, 0 when empty */
    char *arena;
    size_t used, acap;
} SymCache;

/* begin a sample: drop what a moved generation made stale; -1 with an exception */
int symcache_check(SymCache *c);
/* the text of ip (*text, *len point into the cache until its next miss); -1 with an exception */
int symcache_text(SymCache *c, int32_t pid, int mode, uint64_t ip, const char **text, size_t *len);
void symcache_free(SymCache *c);

#endif
