/* Helpers the core's files share: growing buffers, and thread names. */
#include "core.h"

int grow_to(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need)
        cap2 *= 2;
    void *p = PyMem_Realloc(*buf, cap2 * elem);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = p;
    *cap = cap2;
    return 0;
}

PyObject *comm_of(PyObject *comms, int32_t tid)
{
    PyObject *key = PyLong_FromLong(tid);
    if (!key)
        return NULL;
    PyObject *comm = PyDict_GetItemWithError(comms, key);
    Py_DECREF(key);
    if (comm)
        return Py_NewRef(comm);
    return PyErr_Occurred() ? NULL : PyUnicode_FromFormat(":%d", tid);
}
