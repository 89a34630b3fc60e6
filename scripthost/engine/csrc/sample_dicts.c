/* perf_sample_dict built in C (see sample_dicts.h).
 *
 * The fixed fields are checked against the record's size and the callchain's length
 * against the bytes left; a sample that fails either goes to the Python builder,
 * which reports it as perf does.  Every dict, list and frame is new for each sample:
 * a script may change what it is given. */
#include "sample_dicts.h"

/* the dict's keys, in perf's order */
static const char *const KEY_NAMES[] = {
    "ev_name", "attr", "sample", "raw_buf", "comm", "callchain", "brstack", "brstacksym", "iregs", "uregs",
    "pid", "tid", "cpu", "ip", "time", "period", "phys_addr", "addr", "values", "weight", "transaction",
    "datasrc", "datasrc_decode", "cpumode", "sym", "sym_off", "dso", "start", "end", "binding", "name",
};
enum {
    K_EV_NAME, K_ATTR, K_SAMPLE, K_RAW_BUF, K_COMM, K_CALLCHAIN, K_BRSTACK, K_BRSTACKSYM, K_IREGS, K_UREGS,
    K_PID, K_TID, K_CPU, K_IP, K_TIME, K_PERIOD, K_PHYS_ADDR, K_ADDR, K_VALUES, K_WEIGHT, K_TRANSACTION,
    K_DATASRC, K_DATASRC_DECODE, K_CPUMODE, K_SYM, K_SYM_OFF, K_DSO, K_START, K_END, K_BINDING, K_NAME, NKEYS
};
static PyObject *keys[NKEYS];
/* perf's values for what these samples do not carry */
static PyObject *no_values, *datasrc_decode, *empty_bytes, *empty_str, *datasrc_na;

static int init_constants(void)
{
    if (keys[0])
        return 0;
    for (int i = 0; i < NKEYS; i++)
        if (!(keys[i] = PyUnicode_InternFromString(KEY_NAMES[i])))
            return -1;
    no_values = Py_BuildValue("(iii)", 0, 0, 0);
    datasrc_decode = PyUnicode_FromString("|OP N/A|LVL N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A");
    empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    empty_str = PyUnicode_FromString("");
    datasrc_na = PyLong_FromLong(84410401);  /* PERF_MEM_NA's data_src */
    return no_values && datasrc_decode && empty_bytes && empty_str && datasrc_na ? 0 : -1;
}

void dict_plan_free(DictPlan *p)
{
    if (!p)
        return;
    Py_XDECREF(p->fn);
    Py_XDECREF(p->ev_name);
    Py_XDECREF(p->attr);
    Py_XDECREF(p->comms);
    Py_XDECREF(p->fallback);
    Py_XDECREF(p->evsel);
    symcache_free(&p->syms);
    PyMem_Free(p);
}

DictPlan *dict_plan_new(PyObject *spec)
{
    PyObject *fn, *ev_name, *attr, *comms, *fallback, *evsel, *where, *machine, *contexts;
    unsigned int pid_off, time_off, cpu_off, period_off, ip_off, chain_off;
    unsigned long long period;
    if (init_constants() < 0)
        return NULL;
    if (!PyArg_ParseTuple(spec, "sOUSO!OO(IIIIII)KOOO", &(const char *){NULL}, &fn, &ev_name, &attr,
                          &PyDict_Type, &comms, &fallback, &evsel, &pid_off, &time_off, &cpu_off, &period_off,
                          &ip_off, &chain_off, &period, &where, &machine, &contexts))
        return NULL;
    if (!pid_off) {
        PyErr_SetString(PyExc_ValueError, "a dict plan needs the samples' pid and tid");
        return NULL;
    }
    DictPlan *p = PyMem_Calloc(1, sizeof *p);
    if (!p) {
        PyErr_NoMemory();
        return NULL;
    }
    p->fn = Py_NewRef(fn);
    p->ev_name = Py_NewRef(ev_name);
    p->attr = Py_NewRef(attr);
    p->comms = Py_NewRef(comms);
    p->fallback = Py_NewRef(fallback);
    p->evsel = Py_NewRef(evsel);
    p->syms.where = Py_NewRef(where);
    p->syms.machine = Py_NewRef(machine);
    p->syms.generation = -1;
    p->pid_off = pid_off;
    p->time_off = time_off;
    p->cpu_off = cpu_off;
    p->period_off = period_off;
    p->ip_off = ip_off;
    p->chain_off = chain_off;
    p->period = period;
    need_sample_fields(&p->need, pid_off, time_off, cpu_off, period_off, ip_off, chain_off);
    if (contexts_parse(&p->contexts, contexts) < 0) {
        dict_plan_free(p);
        return NULL;
    }
    return p;
}

/* d[key] = v, v's reference taken; -1 with an exception (v NULL included) */
static int set_new(PyObject *d, int key, PyObject *v)
{
    if (!v)
        return -1;
    int rc = PyDict_SetItem(d, keys[key], v);
    Py_DECREF(v);
    return rc;
}

/* the cache's facts of an address: (items of the dict for the sample's own ip,
 * (sym (start, end, binding, name) or None, sym_off, dso or None) for a frame) */
static PyObject *facts(DictPlan *p, int32_t pid, int mode, uint64_t ip)
{
    PyObject *f = symcache_obj(&p->syms, pid, mode, ip);
    if (f && (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(f, 0))
              || !PyTuple_Check(PyTuple_GET_ITEM(f, 1)) || PyTuple_GET_SIZE(PyTuple_GET_ITEM(f, 1)) != 3)) {
        PyErr_SetString(PyExc_TypeError, "a dict plan's where() must return (items, (sym, sym_off, dso))");
        return NULL;
    }
    return f;
}

/* a callchain entry's frame dict: ip, then sym and sym_off when it has a symbol, dso when mapped */
static PyObject *frame_of(DictPlan *p, int32_t pid, int mode, uint64_t ip)
{
    PyObject *f = facts(p, pid, mode, ip);
    if (!f)
        return NULL;
    PyObject *fr = PyTuple_GET_ITEM(f, 1);
    PyObject *sym = PyTuple_GET_ITEM(fr, 0), *dso = PyTuple_GET_ITEM(fr, 2);
    PyObject *d = PyDict_New();
    if (!d || set_new(d, K_IP, PyLong_FromUnsignedLongLong(ip)) < 0)
        goto fail;
    if (sym != Py_None) {
        if (!PyTuple_Check(sym) || PyTuple_GET_SIZE(sym) != 4) {
            PyErr_SetString(PyExc_TypeError, "a frame's sym must be (start, end, binding, name)");
            goto fail;
        }
        PyObject *s = PyDict_New();
        if (!s)
            goto fail;
        for (int i = 0; i < 4; i++)
            if (PyDict_SetItem(s, keys[K_START + i], PyTuple_GET_ITEM(sym, i)) < 0) {
                Py_DECREF(s);
                goto fail;
            }
        if (set_new(d, K_SYM, s) < 0 || PyDict_SetItem(d, keys[K_SYM_OFF], PyTuple_GET_ITEM(fr, 1)) < 0)
            goto fail;
    }
    if (dso != Py_None && PyDict_SetItem(d, keys[K_DSO], dso) < 0)
        goto fail;
    return d;
fail:
    Py_XDECREF(d);
    return NULL;
}

/* the callchain's frames, its length checked; a marker this plan does not know leaves
 * it empty, as perf 6.1 does */
static PyObject *callchain(DictPlan *p, const unsigned char *r, uint64_t nr, int32_t pid, int mode)
{
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t ip = read_u64(r, p->chain_off + 8 + 8 * (uint32_t)i);
        if (ip >= p->contexts.min) {
            mode = contexts_mode(&p->contexts, ip);
            if (mode < 0) {
                Py_SETREF(list, PyList_New(0));
                return list;
            }
            continue;
        }
        PyObject *fr = frame_of(p, pid, mode, ip);
        if (!fr || PyList_Append(list, fr) < 0) {
            Py_XDECREF(fr);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(fr);
    }
    return list;
}

static int fall_back(DictPlan *p, PyObject *chunk, uint32_t pos, uint64_t time)
{
    PyObject *r = PyObject_CallFunction(p->fallback, "((KIOO))", (unsigned long long)time, pos, chunk, p->evsel);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* the "sample" dict: perf passes pid, tid and cpu as their u32s */
static PyObject *sample_of(DictPlan *p, const unsigned char *r, uint32_t pid, uint32_t tid, uint64_t ip, int mode)
{
    PyObject *s = PyDict_New();
    if (!s)
        return NULL;
    uint32_t cpu = p->cpu_off ? read_u32(r, p->cpu_off) : UINT32_MAX;
    if (set_new(s, K_PID, PyLong_FromUnsignedLong(pid)) < 0 || set_new(s, K_TID, PyLong_FromUnsignedLong(tid)) < 0
        || set_new(s, K_CPU, PyLong_FromUnsignedLong(cpu)) < 0 || set_new(s, K_IP, PyLong_FromUnsignedLongLong(ip)) < 0
        || set_new(s, K_TIME, PyLong_FromUnsignedLongLong(p->time_off ? read_u64(r, p->time_off) : 0)) < 0
        || set_new(s, K_PERIOD, PyLong_FromUnsignedLongLong(p->period_off ? read_u64(r, p->period_off) : p->period)) < 0
        || set_new(s, K_PHYS_ADDR, PyLong_FromLong(0)) < 0 || set_new(s, K_ADDR, PyLong_FromLong(0)) < 0
        || set_new(s, K_VALUES, PyList_New(0)) < 0
        || PyList_Append(PyDict_GetItem(s, keys[K_VALUES]), no_values) < 0
        || set_new(s, K_WEIGHT, PyLong_FromLong(0)) < 0 || set_new(s, K_TRANSACTION, PyLong_FromLong(0)) < 0
        || PyDict_SetItem(s, keys[K_DATASRC], datasrc_na) < 0
        || PyDict_SetItem(s, keys[K_DATASRC_DECODE], datasrc_decode) < 0
        || set_new(s, K_CPUMODE, PyLong_FromLong(mode)) < 0) {
        Py_DECREF(s);
        return NULL;
    }
    return s;
}

int dict_call(DictPlan *p, PyObject *chunk, uint32_t pos, uint64_t time)
{
    const unsigned char *r = (const unsigned char *)PyBytes_AS_STRING(chunk) + pos;
    uint16_t size;
    memcpy(&size, r + 6, 2);
    if (p->need > size)
        return fall_back(p, chunk, pos, time);
    uint64_t nr = 0;
    if (p->chain_off) {
        nr = read_u64(r, p->chain_off);
        if (nr > (size - p->chain_off - 8u) / 8u)
            return fall_back(p, chunk, pos, time);
    }
    int32_t pid = (int32_t)read_u32(r, p->pid_off), tid = (int32_t)read_u32(r, p->pid_off + 4);
    uint64_t ip = p->ip_off ? read_u64(r, p->ip_off) : 0;
    int mode = r[4] & 7;
    if (symcache_check(&p->syms) < 0)
        return -1;
    PyObject *d = PyDict_New();
    if (!d)
        return -1;
    if (PyDict_SetItem(d, keys[K_EV_NAME], p->ev_name) < 0 || PyDict_SetItem(d, keys[K_ATTR], p->attr) < 0
        || set_new(d, K_SAMPLE, sample_of(p, r, (uint32_t)pid, (uint32_t)tid, ip, mode)) < 0
        || PyDict_SetItem(d, keys[K_RAW_BUF], empty_bytes) < 0
        || set_new(d, K_COMM, comm_of(p->comms, tid)) < 0)
        goto fail;
    PyObject *f = facts(p, pid, mode, ip);
    if (!f)
        goto fail;
    PyObject *items = PyTuple_GET_ITEM(f, 0);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(items); i++) {
        PyObject *kv = PyTuple_GET_ITEM(items, i);
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
            PyErr_SetString(PyExc_TypeError, "a dict plan's items must be (key, value) pairs");
            goto fail;
        }
        if (PyDict_SetItem(d, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1)) < 0)
            goto fail;
    }
    if (set_new(d, K_CALLCHAIN, p->chain_off ? callchain(p, r, nr, pid, mode) : PyList_New(0)) < 0
        || set_new(d, K_BRSTACK, PyList_New(0)) < 0 || set_new(d, K_BRSTACKSYM, PyList_New(0)) < 0
        || PyDict_SetItem(d, keys[K_IREGS], empty_str) < 0 || PyDict_SetItem(d, keys[K_UREGS], empty_str) < 0)
        goto fail;
    PyObject *res = PyObject_CallOneArg(p->fn, d);
    Py_DECREF(d);
    if (!res)
        return -1;
    Py_DECREF(res);
    return 0;
fail:
    Py_DECREF(d);
    return -1;
}
