/* Frames out as byte slices of the samples (see frames.h). */
#include "frames.h"

int frames_flush(FramesOut *f)
{
    if (!f->n)
        return 0;
    size_t n = f->n;
    f->n = 0;
    PyObject *r = PyObject_CallFunction(f->sink, "iy#", f->kind, f->buf, (Py_ssize_t)n);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

int frames_add(FramesOut *f, int kind, uint16_t ident, const unsigned char *rec, size_t size,
               uint32_t start, uint32_t raw_size_off)
{
    uint32_t rs;
    if ((size_t)raw_size_off + 4 > size || start > raw_size_off) {
        PyErr_SetString(f->error, "corrupt sample: its RAW data lies past its end");
        return -1;
    }
    memcpy(&rs, rec + raw_size_off, 4);
    size_t end = (size_t)raw_size_off + 4 + rs;
    if (rs < FRAMES_MIN_RAW) {
        PyErr_Format(f->error, "corrupt sample: %u bytes of RAW data, fewer than a tracepoint's "
                     "%d-byte common fields", rs, FRAMES_MIN_RAW);
        return -1;
    }
    if (end > size) {
        PyErr_Format(f->error, "corrupt sample: %u bytes of RAW data in a %zu-byte sample", rs, size);
        return -1;
    }
    if (kind != f->kind && frames_flush(f) < 0)
        return -1;
    f->kind = kind;
    size_t len = 2 + end - start;
    if (grow_to((void **)&f->buf, &f->cap, f->n + len, 1) < 0)
        return -1;
    memcpy(f->buf + f->n, &ident, 2);
    memcpy(f->buf + f->n + 2, rec + start, end - start);
    f->n += len;
    return f->n >= f->limit ? frames_flush(f) : 0;
}

void frames_free(FramesOut *f)
{
    Py_CLEAR(f->sink);
    Py_CLEAR(f->error);
    PyMem_Free(f->buf);
    f->buf = NULL;
    f->n = f->cap = 0;
    f->kind = -1;
}
