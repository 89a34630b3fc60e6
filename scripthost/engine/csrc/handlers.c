/* perf's Python handler arguments, built in C: (event name, context, cpu, secs,
 * nsecs, common_pid, comm, callchain, the fields...), read where the sample lies.
 *
 * Every read is checked against the record: the fixed sample fields against its
 * size, the tracepoint fields against the RAW payload's size; a dynamic array is cut
 * at the payload's end. */
#include "handlers.h"

#define FIXED_ARGS 8

static inline uint64_t rdn(const unsigned char *p, uint32_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);  /* little-endian, as every layout here */
    return v;
}

void plan_free(HandlerPlan *p)
{
    if (!p)
        return;
    Py_XDECREF(p->fn);
    Py_XDECREF(p->name);
    Py_XDECREF(p->context);
    Py_XDECREF(p->comms);
    Py_XDECREF(p->error);
    PyMem_Free(p);
}

HandlerPlan *plan_new(PyObject *spec)
{
    PyObject *fn, *name, *context, *comms, *error, *fields;
    unsigned int tid_off, time_off, cpu_off, raw_size_off;
    if (!PyArg_ParseTuple(spec, "OUOO!OIIIIO", &fn, &name, &context, &PyDict_Type, &comms, &error,
                          &tid_off, &time_off, &cpu_off, &raw_size_off, &fields))
        return NULL;
    PyObject *seq = PySequence_Fast(fields, "a plan's fields must be a sequence");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    HandlerPlan *p = PyMem_Calloc(1, sizeof *p + (size_t)n * sizeof(FieldPlan));
    if (!p) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    p->fn = Py_NewRef(fn);
    p->name = Py_NewRef(name);
    p->context = Py_NewRef(context);
    p->comms = Py_NewRef(comms);
    p->error = Py_NewRef(error);
    p->tid_off = tid_off;
    p->time_off = time_off;
    p->cpu_off = cpu_off;
    p->raw_size_off = raw_size_off;
    p->nfields = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        FieldPlan *f = &p->fields[i];
        unsigned int offset, size, base;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "iIII", &f->kind, &offset, &size, &base))
            goto fail;
        f->offset = offset;
        f->size = size;
        f->base = base;
        int sized = f->kind == FIELD_UINT || f->kind == FIELD_INT64;
        if (f->kind < 0 || f->kind >= FIELD_KINDS || (sized && size != 1 && size != 2 && size != 4 && size != 8)
            || (f->kind == FIELD_INT64 && size != 8)) {
            PyErr_Format(PyExc_ValueError, "field plan %zd: kind %d of size %u", i, f->kind, size);
            goto fail;
        }
    }
    Py_DECREF(seq);
    return p;
fail:
    Py_DECREF(seq);
    plan_free(p);
    return NULL;
}

/* perf's is_printable_array, on the bytes up to the first NUL: a string only when the
 * array ends in NUL and holds nothing but printable characters and spaces before it */
static int printable(const unsigned char *s, size_t n, size_t *len)
{
    if (!n || s[n - 1] != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == 0) {
            *len = i;
            return 1;
        }
        if (!((c >= 32 && c <= 126) || (c >= 9 && c <= 13)))
            return 0;
    }
    return 0;
}

static PyObject *array_value(FieldPlan *f, const unsigned char *raw, size_t off, size_t n, int string)
{
    size_t len;
    if (string && !f->demoted && printable(raw + off, n, &len))
        return PyUnicode_DecodeASCII((const char *)raw + off, (Py_ssize_t)len, NULL);
    if (string)
        f->demoted = 1;  /* perf drops the field's string flag at the first miss */
    return PyByteArray_FromStringAndSize((const char *)raw + off, (Py_ssize_t)n);
}

/* the plan's error for the sample at chunk[pos], which names its offset */
static PyObject *fault(HandlerPlan *p, const char *what, PyObject *chunk, size_t pos)
{
    PyObject *exc = PyObject_CallFunction(p->error, "(NOn)",
                                          PyUnicode_FromFormat("corrupt tracepoint data for %U: %s", p->name, what),
                                          chunk, (Py_ssize_t)pos);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *field_value(HandlerPlan *p, FieldPlan *f, const unsigned char *raw, size_t rsize,
                             PyObject *chunk, size_t pos)
{
    size_t end = (size_t)f->offset + (f->kind == FIELD_UINT || f->kind == FIELD_INT64 ? f->size
                  : f->kind == FIELD_STR || f->kind == FIELD_BYTES ? f->size
                  : f->kind == FIELD_ZERO ? 0 : 4);
    if (end > rsize)
        return fault(p, "a field runs past the payload", chunk, pos);
    switch (f->kind) {
    case FIELD_UINT:
        return PyLong_FromUnsignedLongLong(rdn(raw + f->offset, f->size));
    case FIELD_INT64:
        return PyLong_FromLongLong((long long)rdn(raw + f->offset, 8));
    case FIELD_DYN_LOC:
        return PyLong_FromUnsignedLong((unsigned long)rdn(raw + f->offset, 4));
    case FIELD_STR:
    case FIELD_BYTES:
        return array_value(f, raw, f->offset, f->size, f->kind == FIELD_STR);
    case FIELD_STR_DYN:
    case FIELD_BYTES_DYN: {
        uint32_t loc = (uint32_t)rdn(raw + f->offset, 4);
        size_t off = (size_t)(loc & 0xFFFF) + f->base, n = loc >> 16;
        if (off > rsize)
            off = rsize;
        if (n > rsize - off)
            n = rsize - off;  /* cut at the payload's end, as a slice would be */
        return array_value(f, raw, off, n, f->kind == FIELD_STR_DYN);
    }
    default:
        return PyLong_FromLong(0);
    }
}

int plan_call(HandlerPlan *p, PyObject *chunk, size_t pos, uint64_t time)
{
    const unsigned char *r = (const unsigned char *)PyBytes_AS_STRING(chunk) + pos;
    size_t size = (size_t)rdn(r + 6, 2);
    if ((size_t)p->raw_size_off + 4 > size) {
        fault(p, "the sample ends before its payload", chunk, pos);
        return -1;
    }
    size_t rsize = (size_t)rdn(r + p->raw_size_off, 4);
    const unsigned char *raw = r + p->raw_size_off + 4;
    if (rsize > size - p->raw_size_off - 4) {
        fault(p, "the payload runs past its sample", chunk, pos);
        return -1;
    }
    if (rsize < 8) {
        fault(p, "the payload is shorter than its common fields", chunk, pos);
        return -1;
    }
    Py_ssize_t nargs = FIXED_ARGS + p->nfields;
    PyObject *small[FIXED_ARGS + 24];
    PyObject **args = nargs <= (Py_ssize_t)(sizeof small / sizeof *small) ? small
                      : PyMem_Malloc((size_t)nargs * sizeof *args);
    if (!args) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = -1;
    Py_ssize_t made = 0;
    int32_t tid = (int32_t)rdn(r + p->tid_off, 4);
    PyObject *comm = comm_of(p->comms, tid);
    if (!comm)
        goto out;
    args[0] = Py_NewRef(p->name);
    args[1] = Py_NewRef(p->context);
    args[2] = PyLong_FromUnsignedLong((uint32_t)rdn(r + p->cpu_off, 4));
    args[3] = PyLong_FromUnsignedLongLong(time / 1000000000u);
    args[4] = PyLong_FromUnsignedLongLong(time % 1000000000u);
    args[5] = PyLong_FromLong((int32_t)rdn(raw + 4, 4));
    args[6] = comm;
    args[7] = PyList_New(0);
    made = FIXED_ARGS;
    for (int i = 2; i < FIXED_ARGS; i++)
        if (!args[i])
            goto out;
    for (Py_ssize_t i = 0; i < p->nfields; i++) {
        PyObject *v = field_value(p, &p->fields[i], raw, rsize, chunk, pos);
        if (!v)
            goto out;
        args[made++] = v;
    }
    PyObject *res = PyObject_Vectorcall(p->fn, args, (size_t)nargs, NULL);
    if (res) {
        Py_DECREF(res);
        rc = 0;
    }
out:
    if (!made && comm)
        Py_DECREF(comm);
    for (Py_ssize_t i = 0; i < made; i++)
        Py_XDECREF(args[i]);
    if (args != small)
        PyMem_Free(args);
    return rc;
}
