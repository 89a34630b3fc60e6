/* perf's FINISHED_ROUND ordering over the queue of timed events.
 *
 * At each round perf sorts its queue (stably: equal times keep arrival order) and
 * delivers every event not later than the largest time it had seen when the round
 * before ended; a round that finds the queue empty changes nothing.  At the end
 * everything left is delivered.  The largest time a round takes as the next limit is
 * the queue's largest (perf's max_timestamp, which restarts when an event finds the queue
 * empty), not the largest ever seen.  An event counts as out of order when it arrives
 * earlier in time than the last one delivered by then, as perf counts at queue time.
 *
 * Rounds are recorded as they are framed and settled later, one after another, in
 * one call: their deliveries, concatenated, are the batch handed on.
 */
#include "core.h"

static int reserve(Entry **buf, size_t *cap, size_t need)
{
    return grow_to((void **)buf, cap, need, sizeof **buf);
}

int queue_push(Queue *qu, uint64_t time, PyObject *obj, uint32_t pos, int32_t ev)
{
    if (qu->n == qu->cap) {
        if (qu->head > qu->cap / 2) {  /* reuse the delivered front */
            size_t h = qu->head;
            memmove(qu->q, qu->q + h, (qu->n - h) * sizeof *qu->q);
            qu->n -= h;
            qu->sorted -= h;
            for (size_t i = 0; i < qu->nbounds; i++)
                qu->bounds[i] -= h;
            qu->head = 0;
        } else if (reserve(&qu->q, &qu->cap, qu->n + 1) < 0) {
            return -1;
        }
    }
    Entry *e = &qu->q[qu->n++];
    e->time = time;
    e->obj = obj;
    Py_INCREF(obj);
    e->pos = pos;
    e->ev = ev;
    return 0;
}

int queue_bound(Queue *qu)
{
    if (qu->nbounds == qu->bcap) {
        size_t cap = qu->bcap ? qu->bcap * 2 : 64;
        size_t *p = PyMem_Realloc(qu->bounds, cap * sizeof *p);
        if (!p) {
            PyErr_NoMemory();
            return -1;
        }
        qu->bounds = p;
        qu->bcap = cap;
    }
    qu->bounds[qu->nbounds++] = qu->n;
    return 0;
}

static void merge(const Entry *src, size_t lo, size_t mid, size_t hi, Entry *dst)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = src[j].time < src[i].time ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

/* A stable natural merge sort of a[0..n) by time: the runs already in order (the
 * sorted leftover of the last round, each CPU's buffer) are merged pairwise. */
static int sort_entries(Queue *qu, Entry *a, size_t n)
{
    size_t i = 1;
    while (i < n && a[i - 1].time <= a[i].time)
        i++;
    if (i >= n)
        return 0;
    if (reserve(&qu->tmp, &qu->tcap, n) < 0)
        return -1;
    Entry *src = a, *dst = qu->tmp;
    for (;;) {
        size_t lo = 0, runs = 0;
        while (lo < n) {
            size_t mid = lo + 1;
            while (mid < n && src[mid - 1].time <= src[mid].time)
                mid++;
            size_t hi = mid;
            if (mid < n) {
                hi = mid + 1;
                while (hi < n && src[hi - 1].time <= src[hi].time)
                    hi++;
            }
            merge(src, lo, mid, hi, dst);
            runs++;
            lo = hi;
        }
        Entry *t = src;
        src = dst;
        dst = t;
        if (runs == 1)
            break;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    return 0;
}

/* the first index in a[lo..hi) whose time is above t */
static size_t upper_bound(const Entry *a, size_t lo, size_t hi, uint64_t t)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].time <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int deliver(Queue *qu, size_t k, Entry **out, size_t *nout, size_t *outcap)
{
    Entry *a = qu->q + qu->head;
    if (!k)
        return 0;
    qu->last_delivered = a[k - 1].time;
    if (reserve(out, outcap, *nout + k) < 0)
        return -1;
    memcpy(*out + *nout, a, k * sizeof *a);
    *nout += k;
    qu->head += k;
    return 0;
}

/* count the arrivals q[sorted..end) earlier than the last delivery (their queue time's) */
static void count_late(Queue *qu, size_t end)
{
    uint64_t last = qu->last_delivered;
    for (size_t i = qu->sorted; i < end; i++)
        qu->out_of_order += qu->q[i].time < last;
}

int queue_settle(Queue *qu, int final, Entry **out, size_t *nout, size_t *outcap)
{
    size_t done = 0;
    if (qu->unordered) {
        qu->nbounds = 0;
        if (deliver(qu, qu->n - qu->head, out, nout, outcap) < 0)
            return -1;
        qu->head = qu->sorted = qu->n = 0;
        return 0;
    }
    for (; done < qu->nbounds; done++) {
        size_t b = qu->bounds[done];
        if (b <= qu->head)
            continue;  /* an empty queue: perf's round does nothing */
        count_late(qu, b);
        if (sort_entries(qu, qu->q + qu->head, b - qu->head) < 0)
            goto fail;
        qu->sorted = b;
        uint64_t top = qu->q[b - 1].time;
        if (qu->next_flush) {
            size_t k = upper_bound(qu->q, qu->head, b, qu->next_flush) - qu->head;
            if (deliver(qu, k, out, nout, outcap) < 0)
                goto fail;
        }
        qu->next_flush = top;
    }
    qu->nbounds = 0;
    if (final && qu->n > qu->head) {
        count_late(qu, qu->n);
        if (sort_entries(qu, qu->q + qu->head, qu->n - qu->head) < 0)
            return -1;
        qu->sorted = qu->n;
        if (deliver(qu, qu->n - qu->head, out, nout, outcap) < 0)
            return -1;
    }
    if (qu->head == qu->n)
        qu->head = qu->sorted = qu->n = 0;
    return 0;
fail:
    memmove(qu->bounds, qu->bounds + done, (qu->nbounds - done) * sizeof *qu->bounds);
    qu->nbounds -= done;
    return -1;
}

void queue_clear(Queue *qu)
{
    for (size_t i = qu->head; i < qu->n; i++)
        Py_DECREF(qu->q[i].obj);
    qu->head = qu->sorted = qu->n = qu->nbounds = 0;
}

void queue_free(Queue *qu)
{
    queue_clear(qu);
    PyMem_Free(qu->q);
    PyMem_Free(qu->bounds);
    PyMem_Free(qu->tmp);
    memset(qu, 0, sizeof *qu);
}
