/* The sample filter (perf script's --time, --cpu, --pid, --tid): set from Python as
 * data, applied by the framer to each sample as it is queued.  A rejected sample is
 * still queued, marked EV_FILTERED: perf filters at delivery, so it counts towards the
 * out-of-order warning and the ordering's limits, and only its delivery is dropped. */
#include "framer.h"

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int has_i32(const int32_t *set, size_t n, int32_t v)
{
    return bsearch(&v, set, n, sizeof *set, cmp_i32) != NULL;
}

int filter_accepts(const SampleFilter *f, const EvselInfo *e, const unsigned char *r)
{
    if (f->ntimes && e->time_off) {
        uint64_t t;
        memcpy(&t, r + e->time_off, 8);
        size_t i = 0;
        for (; i < f->ntimes; i++)
            if (t >= f->times[2 * i] && (!f->times[2 * i + 1] || t <= f->times[2 * i + 1]))
                break;
        if (i == f->ntimes)
            return 0;
    }
    if (f->ncpus && e->cpu_off) {
        uint32_t c;
        memcpy(&c, r + e->cpu_off, 4);
        if (c >= f->ncpus || !f->cpus[c])
            return 0;
    }
    if ((f->npids || f->ntids) && e->pid_off) {
        int32_t pid, tid;
        memcpy(&pid, r + e->pid_off, 4);
        memcpy(&tid, r + e->pid_off + 4, 4);
        if (f->npids && !has_i32(f->pids, f->npids, pid))
            return 0;
        if (f->ntids && !has_i32(f->tids, f->ntids, tid))
            return 0;
    }
    return 1;
}

void filter_free(SampleFilter *f)
{
    PyMem_Free(f->times);
    PyMem_Free(f->cpus);
    PyMem_Free(f->pids);
    PyMem_Free(f->tids);
    memset(f, 0, sizeof *f);
}

/* a sorted C copy of a sequence of ints; *n its length */
static int32_t *int_set(PyObject *obj, size_t *n)
{
    PyObject *seq = PySequence_Fast(obj, "pids and tids must be sequences");
    if (!seq)
        return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    int32_t *out = PyMem_Calloc(len ? len : 1, sizeof *out);
    if (!out) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) {
            PyMem_Free(out);
            Py_DECREF(seq);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    Py_DECREF(seq);
    qsort(out, len, sizeof *out, cmp_i32);
    *n = (size_t)len;
    return out;
}

PyObject *Framer_set_filter(Framer *self, PyObject *args)
{
    PyObject *times, *cpus, *pids, *tids;
    if (!PyArg_ParseTuple(args, "OOOO", &times, &cpus, &pids, &tids))
        return NULL;
    SampleFilter f = {0};
    PyObject *tseq = PySequence_Fast(times, "times must be a sequence");
    if (!tseq)
        return NULL;
    Py_ssize_t nt = PySequence_Fast_GET_SIZE(tseq);
    f.times = PyMem_Calloc(nt ? 2 * nt : 1, sizeof *f.times);
    if (!f.times) {
        Py_DECREF(tseq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < nt; i++) {
        unsigned long long a, b;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(tseq, i), "KK", &a, &b)) {
            Py_DECREF(tseq);
            goto fail;
        }
        f.times[2 * i] = a;
        f.times[2 * i + 1] = b;
    }
    f.ntimes = (size_t)nt;
    Py_DECREF(tseq);
    size_t ncpu = 0;
    int32_t *cl = int_set(cpus, &ncpu);
    if (!cl)
        goto fail;
    if (ncpu) {
        int32_t top = cl[ncpu - 1];
        if (cl[0] < 0) {
            PyMem_Free(cl);
            PyErr_SetString(PyExc_ValueError, "a cpu below 0");
            goto fail;
        }
        f.cpus = PyMem_Calloc((size_t)top + 1, 1);
        if (!f.cpus) {
            PyMem_Free(cl);
            PyErr_NoMemory();
            goto fail;
        }
        for (size_t i = 0; i < ncpu; i++)
            f.cpus[cl[i]] = 1;
        f.ncpus = (size_t)top + 1;
    }
    PyMem_Free(cl);
    if (!(f.pids = int_set(pids, &f.npids)) || !(f.tids = int_set(tids, &f.ntids)))
        goto fail;
    filter_free(&self->filter);
    self->filter = f;
    self->filtering = f.ntimes || f.ncpus || f.npids || f.ntids;
    Py_RETURN_NONE;
fail:
    filter_free(&f);
    return NULL;
}
