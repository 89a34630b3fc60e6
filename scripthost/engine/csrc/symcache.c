/* The resolved addresses' text cache (see symcache.h). */
#include "symcache.h"

#define SYMCACHE_MAX_SLOTS (1u << 20)
#define SYMCACHE_MAX_ARENA ((size_t)64 << 20)

static void symcache_clear(SymCache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        Py_CLEAR(c->slots[i].obj);
    if (c->slots)
        memset(c->slots, 0, c->cap * sizeof *c->slots);
    c->n = 0;
    c->used = 0;
}

void symcache_free(SymCache *c)
{
    symcache_clear(c);
    Py_CLEAR(c->where);
    Py_CLEAR(c->machine);
    PyMem_Free(c->slots);
    PyMem_Free(c->arena);
    c->slots = NULL;
    c->arena = NULL;
    c->cap = c->n = c->used = c->acap = 0;
}

int symcache_check(SymCache *c)
{
    static PyObject *name;
    if (!name && !(name = PyUnicode_InternFromString("generation")))
        return -1;
    PyObject *g = PyObject_GetAttr(c->machine, name);
    if (!g)
        return -1;
    long long gen = PyLong_AsLongLong(g);
    Py_DECREF(g);
    if (gen == -1 && PyErr_Occurred())
        return -1;
    if (gen != c->generation) {
        symcache_clear(c);
        c->generation = gen;
    }
    return 0;
}

static size_t slot_of(size_t cap, int32_t pid, int mode, uint64_t ip)
{
    uint64_t h = (ip ^ ((uint64_t)(uint32_t)pid << 32) ^ (uint64_t)mode) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

/* room for one more entry: the table doubled, or cleared at its limit */
static int make_room(SymCache *c)
{
    if (c->cap && (c->n + 1) * 4 < c->cap * 3)
        return 0;
    if (c->cap >= SYMCACHE_MAX_SLOTS) {
        symcache_clear(c);
        return 0;
    }
    size_t cap = c->cap ? c->cap * 2 : 1024;
    SymEntry *slots = PyMem_Calloc(cap, sizeof *slots);
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < c->cap; i++) {
        SymEntry *e = &c->slots[i];
        if (!e->used)
            continue;
        size_t j = slot_of(cap, e->pid, e->mode, e->ip);
        while (slots[j].used)
            j = (j + 1) & (cap - 1);
        slots[j] = *e;
    }
    PyMem_Free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 0;
}

/* the slot holding (pid, mode, ip), or the empty one where it would go */
static SymEntry *lookup(SymCache *c, int32_t pid, int mode, uint64_t ip)
{
    for (size_t j = slot_of(c->cap, pid, mode, ip);; j = (j + 1) & (c->cap - 1)) {
        SymEntry *e = &c->slots[j];
        if (!e->used || (e->ip == ip && e->pid == pid && e->mode == mode))
            return e;
    }
}

/* where()'s answer for a miss, and the slot it goes to; NULL with an exception */
static PyObject *miss(SymCache *c, int32_t pid, int mode, uint64_t ip, SymEntry **slot)
{
    PyObject *r = PyObject_CallFunction(c->where, "iiK", (int)pid, mode, (unsigned long long)ip);
    if (!r)
        return NULL;
    if (make_room(c) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    *slot = lookup(c, pid, mode, ip);
    return r;
}

PyObject *symcache_obj(SymCache *c, int32_t pid, int mode, uint64_t ip)
{
    if (mode != 2)
        pid = -1;
    if (c->cap) {
        SymEntry *e = lookup(c, pid, mode, ip);
        if (e->used)
            return e->obj;
    }
    SymEntry *e;
    PyObject *r = miss(c, pid, mode, ip, &e);
    if (!r)
        return NULL;
    *e = (SymEntry){ip, pid, (uint8_t)mode, 1, 0, 0, r};
    c->n++;
    return r;
}

int symcache_text(SymCache *c, int32_t pid, int mode, uint64_t ip, const char **text, size_t *len)
{
    if (mode != 2)
        pid = -1;  /* only user space is per process (Machine.resolve) */
    if (c->cap) {
        SymEntry *e = lookup(c, pid, mode, ip);
        if (e->used) {
            *text = c->arena + e->at;
            *len = e->len;
            return 0;
        }
    }
    SymEntry *e;
    PyObject *r = miss(c, pid, mode, ip, &e);
    if (!r)
        return -1;
    if (!PyBytes_Check(r)) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "where() must return bytes");
        return -1;
    }
    size_t n = (size_t)PyBytes_GET_SIZE(r);
    if (c->used + n > SYMCACHE_MAX_ARENA) {
        symcache_clear(c);
        e = lookup(c, pid, mode, ip);
    }
    if (grow_to((void **)&c->arena, &c->acap, c->used + n + 1, 1) < 0) {
        Py_DECREF(r);
        return -1;
    }
    memcpy(c->arena + c->used, PyBytes_AS_STRING(r), n);
    Py_DECREF(r);
    *e = (SymEntry){ip, pid, (uint8_t)mode, 1, (uint32_t)c->used, (uint32_t)n, NULL};
    c->n++;
    *text = c->arena + c->used;
    *len = n;
    c->used += n;
    return 0;
}

int contexts_parse(Contexts *c, PyObject *spec)
{
    unsigned long long min;
    PyObject *pairs;
    if (!PyArg_ParseTuple(spec, "KO", &min, &pairs))
        return -1;
    PyObject *seq = PySequence_Fast(pairs, "callchain contexts must be a sequence");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_CONTEXTS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "at most 8 callchain contexts");
        return -1;
    }
    c->min = min;
    c->n = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long marker;
        int mode;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "Ki", &marker, &mode)) {
            Py_DECREF(seq);
            return -1;
        }
        c->markers[i] = marker;
        c->modes[i] = mode;
        c->n = (int)i + 1;
    }
    Py_DECREF(seq);
    return 0;
}
