/* The native engine core: shared declarations.
 *
 * A Framer frames the records of input chunks (byte strings), queues samples
 * with their times, and orders them by perf's FINISHED_ROUND rule.  What it
 * knows of the sample layout (where the id and the time lie, the smallest
 * sample each evsel allows) and of record types comes from Python as data.
 */
#ifndef SCRIPTHOST_CORE_H
#define SCRIPTHOST_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* one queued event: a sample (ev >= 0, obj its chunk), a record item (EV_RECORD, obj the item)
 * or a sample the filter rejects (EV_FILTERED, obj its chunk): perf filters at delivery, so a
 * rejected sample still takes part in the ordering and the out-of-order count, then is dropped */
#define EV_RECORD (-1)
#define EV_FILTERED (-2)

typedef struct {
    uint64_t time;
    PyObject *obj;     /* owned */
    uint32_t pos;
    int32_t ev;
} Entry;

/* u64 id -> evsel index, open addressing */
typedef struct {
    uint64_t *keys;
    int32_t *vals;
    size_t cap;        /* power of two, 0 when empty */
    size_t n;
} IdMap;

int idmap_put(IdMap *m, uint64_t key, int32_t val);
int32_t idmap_get(const IdMap *m, uint64_t key);
void idmap_free(IdMap *m);

typedef struct {
    PyObject *obj;     /* the Python Evsel */
    uint32_t time_off; /* 0: no TIME */
    uint32_t min_size;
    uint32_t pid_off;  /* 0: no TID (the tid follows the pid) */
    uint32_t cpu_off;  /* 0: no CPU */
} EvselInfo;

/* which samples the framer keeps (perf script's --time/--cpu/--pid/--tid), as data:
 * each part is off when its count is 0 */
typedef struct {
    uint64_t *times;   /* sorted [start, end] pairs, end 0 = open */
    size_t ntimes;
    uint8_t *cpus;     /* cpus[c] != 0: cpu c kept */
    size_t ncpus;
    int32_t *pids, *tids;  /* sorted */
    size_t npids, ntids;
} SampleFilter;

/* the queue in time order: q[head..sorted) sorted, q[sorted..n) in arrival order */
typedef struct {
    Entry *q;
    size_t head, sorted, n, cap;
    size_t *bounds;    /* n at each FINISHED_ROUND not yet settled */
    size_t nbounds, bcap;
    Entry *tmp;
    size_t tcap;
    uint64_t next_flush, max_time, last_delivered;
    uint64_t out_of_order;
    int unordered;     /* perf without ordered events: every settle delivers all in arrival order */
} Queue;

/* little-endian reads (every layout here) at r + off; the caller has checked the length */
static inline uint64_t read_u64(const unsigned char *r, uint32_t off)
{
    uint64_t v;
    memcpy(&v, r + off, 8);
    return v;
}

static inline uint32_t read_u32(const unsigned char *r, uint32_t off)
{
    uint32_t v;
    memcpy(&v, r + off, 4);
    return v;
}

/* raise *need to cover a field of size bytes at off (0: the sample has no such field) */
static inline void need_field(uint32_t *need, uint32_t off, uint32_t size)
{
    if (off && off + size > *need)
        *need = off + size;
}

/* the fixed sample fields the line and dict plans read (0: not sampled), by their widths:
 * pid/tid, time, cpu, period, ip, the callchain's length */
static inline void need_sample_fields(uint32_t *need, uint32_t pid_off, uint32_t time_off, uint32_t cpu_off,
                                      uint32_t period_off, uint32_t ip_off, uint32_t chain_off)
{
    need_field(need, pid_off, 8);
    need_field(need, time_off, 8);
    need_field(need, cpu_off, 4);
    need_field(need, period_off, 8);
    need_field(need, ip_off, 8);
    need_field(need, chain_off, 8);
}

/* make room for need elements of elem bytes in *buf (capacity *cap, doubled as needed);
 * -1 with MemoryError set */
int grow_to(void **buf, size_t *cap, size_t need, size_t elem);
/* the comm of tid in comms (a new reference), ":tid" when it has none; NULL with an exception */
PyObject *comm_of(PyObject *comms, int32_t tid);

int queue_push(Queue *qu, uint64_t time, PyObject *obj, uint32_t pos, int32_t ev);
int queue_bound(Queue *qu);
/* settle every round read so far (final: and everything else); the delivered entries
 * are appended to *out (grown as needed), their references moving with them */
int queue_settle(Queue *qu, int final, Entry **out, size_t *nout, size_t *outcap);
void queue_clear(Queue *qu);
void queue_free(Queue *qu);

#endif
