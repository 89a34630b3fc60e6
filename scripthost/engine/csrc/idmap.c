/* Sample id -> evsel index: an open-addressing table (ids are sparse u64s). */
#include "core.h"

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static int grow(IdMap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint64_t *keys = PyMem_Calloc(cap, sizeof *keys);
    int32_t *vals = PyMem_Malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        PyMem_Free(keys);
        PyMem_Free(vals);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < cap; i++)
        vals[i] = -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] < 0)
            continue;
        size_t s = slot_of(m->keys[i], cap);
        while (vals[s] >= 0)
            s = (s + 1) & (cap - 1);
        keys[s] = m->keys[i];
        vals[s] = m->vals[i];
    }
    PyMem_Free(m->keys);
    PyMem_Free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int idmap_put(IdMap *m, uint64_t key, int32_t val)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    size_t s = slot_of(key, m->cap);
    while (m->vals[s] >= 0 && m->keys[s] != key)
        s = (s + 1) & (m->cap - 1);
    if (m->vals[s] < 0)
        m->n++;
    m->keys[s] = key;
    m->vals[s] = val;
    return 0;
}

int32_t idmap_get(const IdMap *m, uint64_t key)
{
    if (!m->cap)
        return -1;
    size_t s = slot_of(key, m->cap);
    while (m->vals[s] >= 0) {
        if (m->keys[s] == key)
            return m->vals[s];
        s = (s + 1) & (m->cap - 1);
    }
    return -1;
}

void idmap_free(IdMap *m)
{
    PyMem_Free(m->keys);
    PyMem_Free(m->vals);
    memset(m, 0, sizeof *m);
}
