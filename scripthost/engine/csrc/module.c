/* scripthost.engine._core: the Framer type (framing and ordering in C).
 *
 * Python drives it: `frame` walks a chunk, queueing samples and marking rounds,
 * and stops at any other record for Python to handle; `push` queues such a record's
 * item by its time; `settle` delivers what perf delivers at the rounds read so far
 * (`final`: everything) as one list of queue items, in time order:
 * (time, pos, chunk, evsel) for a sample, the pushed item for a record.  A sample
 * whose evsel has a route (`set_planner`) is not made an item: the core calls its
 * handler with perf's arguments itself (handlers.c), or adds it to the arrays of a
 * batch read in place (batch.c). */
#include "framer.h"
#include "handlers.h"
#include <structmember.h>

static int Framer_init(Framer *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"sample_record", "round_record", NULL};
    unsigned int sample_record, round_record;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "II", kwlist, &sample_record, &round_record))
        return -1;
    self->sample_record = sample_record;
    self->round_record = round_record;
    self->id_pos = -1;
    self->batch.last = -1;
    self->frames.kind = -1;
    return 0;
}

static void free_evsels(Framer *self)
{
    for (Py_ssize_t i = 0; i < self->nevs; i++)
        Py_DECREF(self->evs[i].obj);
    PyMem_Free(self->evs);
    self->evs = NULL;
    self->nevs = 0;
}

static void free_routes(Framer *self)
{
    for (Py_ssize_t i = 0; i < self->nroutes; i++) {
        plan_free(self->routes[i].plan);
        line_plan_free(self->routes[i].line);
        dict_plan_free(self->routes[i].dict);
    }
    PyMem_Free(self->routes);
    self->routes = NULL;
    self->nroutes = 0;
}

static void Framer_dealloc(Framer *self)
{
    free_routes(self);
    batch_free(&self->batch);
    frames_free(&self->frames);
    lines_free(&self->lines);
    Py_XDECREF(self->planner);
    queue_free(&self->qu);
    idmap_free(&self->ids);
    filter_free(&self->filter);
    free_evsels(self);
    PyMem_Free(self->out);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(set_layout_doc,
"set_layout(id_pos, evsels, ids)\n\n"
"id_pos: byte offset of the id that picks a sample's evsel, or -1 (one evsel);\n"
"evsels: (evsel, time offset or 0, smallest sample size, pid offset or 0, cpu offset or 0)\n"
"        by evsel index;\n"
"ids: (id, evsel index) pairs.");

static PyObject *Framer_set_layout(Framer *self, PyObject *args)
{
    int id_pos;
    PyObject *evsels, *ids;
    if (!PyArg_ParseTuple(args, "iOO", &id_pos, &evsels, &ids))
        return NULL;
    PyObject *evseq = PySequence_Fast(evsels, "evsels must be a sequence");
    if (!evseq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(evseq);
    EvselInfo *evs = PyMem_Calloc(n ? n : 1, sizeof *evs);
    if (!evs) {
        Py_DECREF(evseq);
        return PyErr_NoMemory();
    }
    Py_ssize_t got = 0;
    for (; got < n; got++) {
        PyObject *obj;
        unsigned int time_off, min_size, pid_off, cpu_off;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(evseq, got), "OIIII", &obj, &time_off, &min_size,
                              &pid_off, &cpu_off))
            goto fail;
        if ((time_off && (min_size < 8 || time_off > min_size - 8))
            || (pid_off && (min_size < 8 || pid_off > min_size - 8))
            || (cpu_off && (min_size < 4 || cpu_off > min_size - 4))) {
            PyErr_SetString(PyExc_ValueError, "an evsel's time, tid or cpu lies past its smallest sample");
            goto fail;
        }
        Py_INCREF(obj);
        evs[got] = (EvselInfo){obj, time_off, min_size, pid_off, cpu_off};
    }
    Py_DECREF(evseq);
    IdMap map = {0};
    PyObject *it = PyObject_GetIter(ids), *pair;
    if (!it)
        goto fail_map;
    while ((pair = PyIter_Next(it))) {
        unsigned long long id;
        int index;
        int ok = PyArg_ParseTuple(pair, "Ki", &id, &index);
        Py_DECREF(pair);
        if (!ok || index < 0 || index >= n) {
            if (ok)
                PyErr_SetString(PyExc_ValueError, "an id's evsel index is out of range");
            Py_DECREF(it);
            goto fail_map;
        }
        if (idmap_put(&map, id, index) < 0) {
            Py_DECREF(it);
            goto fail_map;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        goto fail_map;
    if (id_pos >= 0 && id_pos < 8) {
        PyErr_SetString(PyExc_ValueError, "an id inside the record header");
        goto fail_map;
    }
    free_evsels(self);
    idmap_free(&self->ids);
    self->evs = evs;
    self->nevs = n;
    self->ids = map;
    self->id_pos = id_pos;
    Py_RETURN_NONE;
fail_map:
    idmap_free(&map);
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(evs[i].obj);
    PyMem_Free(evs);
    return NULL;
fail:
    for (Py_ssize_t i = 0; i < got; i++)
        Py_DECREF(evs[i].obj);
    PyMem_Free(evs);
    Py_DECREF(evseq);
    return NULL;
}

PyDoc_STRVAR(frame_doc,
"frame(chunk, pos, end) -> (pos, status)\n\n"
"Frame the records of chunk[pos:end]: samples are queued, rounds marked.  Stops\n"
"at the first other record (status 1, pos at it), at a fault (2: a size under 8,\n"
"3: a sample smaller than its fields, 4: a sample before any attribute; pos at\n"
"it), or where no whole record is left (0).");

static PyObject *Framer_frame(Framer *self, PyObject *args)
{
    PyObject *chunk;
    Py_ssize_t pos, end;
    if (!PyArg_ParseTuple(args, "O!nn", &PyBytes_Type, &chunk, &pos, &end))
        return NULL;
    if (pos < 0 || end > PyBytes_GET_SIZE(chunk) || pos > end) {
        PyErr_SetString(PyExc_ValueError, "frame: pos and end must lie in the chunk");
        return NULL;
    }
    if (end > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "frame: chunks are limited to 4 GiB");
        return NULL;
    }
    FrameStatus st = frame_chunk(self, chunk, &pos, end);
    if (st == FRAME_ERROR)
        return NULL;
    return Py_BuildValue("ni", pos, (int)st);
}

PyDoc_STRVAR(push_doc, "push(time, item): queue a record's item by its time.");

static PyObject *Framer_push(Framer *self, PyObject *args)
{
    unsigned long long time;
    PyObject *item;
    if (!PyArg_ParseTuple(args, "KO", &time, &item))
        return NULL;
    if (queue_push(&self->qu, time, item, 0, EV_RECORD) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Delivered entries out[lo..hi) as queue items (their references move into the list). */
static PyObject *items_of(Framer *self, size_t lo, size_t hi)
{
    PyObject *list = PyList_New((Py_ssize_t)(hi - lo));
    size_t i = lo;
    if (!list)
        goto fail;
    for (; i < hi; i++) {
        Entry *e = &self->out[i];
        PyObject *item;
        if (e->ev < 0) {
            item = e->obj;
        } else {
            PyObject *t = PyLong_FromUnsignedLongLong(e->time);
            PyObject *p = PyLong_FromUnsignedLong(e->pos);
            item = PyTuple_New(4);
            if (!t || !p || !item) {
                Py_XDECREF(t);
                Py_XDECREF(p);
                Py_XDECREF(item);
                goto fail;
            }
            PyObject *ev = self->evs[e->ev].obj;
            Py_INCREF(ev);
            PyTuple_SET_ITEM(item, 0, t);
            PyTuple_SET_ITEM(item, 1, p);
            PyTuple_SET_ITEM(item, 2, e->obj);
            PyTuple_SET_ITEM(item, 3, ev);
        }
        PyList_SET_ITEM(list, (Py_ssize_t)(i - lo), item);
    }
    return list;
fail:
    for (; i < hi; i++)
        Py_DECREF(self->out[i].obj);
    Py_XDECREF(list);
    return NULL;
}

/* deliver(items of out[lo..hi)); -1 with an exception */
static int deliver_items(Framer *self, PyObject *deliver, size_t lo, size_t hi)
{
    if (lo == hi)
        return 0;
    PyObject *items = items_of(self, lo, hi);
    if (!items)
        return -1;
    PyObject *r = PyObject_CallOneArg(deliver, items);
    Py_DECREF(items);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The route of evsel index ev (asking the planner at its first event), or NULL with
 * an exception. */
static Route *route_of(Framer *self, int32_t ev)
{
    static Route items = {1, ROUTE_ITEMS, 0, NULL};
    if (!self->planner)
        return &items;
    if (ev >= self->nroutes) {
        Py_ssize_t n = self->nevs;
        Route *routes = PyMem_Realloc(self->routes, (size_t)n * sizeof *routes);
        if (!routes) {
            PyErr_NoMemory();
            return NULL;
        }
        memset(routes + self->nroutes, 0, (size_t)(n - self->nroutes) * sizeof *routes);
        self->routes = routes;
        self->nroutes = n;
    }
    Route *r = &self->routes[ev];
    if (r->asked)
        return r;
    PyObject *spec = PyObject_CallOneArg(self->planner, self->evs[ev].obj);
    if (!spec)
        return NULL;
    if (PyLong_Check(spec)) {
        long type = PyLong_AsLong(spec);
        if (type < 0 || type > UINT16_MAX || !self->batch.sink) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a batch route needs a sink and a type in 0..65535");
            Py_DECREF(spec);
            return NULL;
        }
        r->kind = ROUTE_BATCH;
        r->type = (uint16_t)type;
    } else if (PyUnicode_Check(spec) && PyUnicode_CompareWithASCIIString(spec, "drop") == 0) {
        r->kind = ROUTE_DROP;
    } else if (PyTuple_Check(spec) && PyTuple_GET_SIZE(spec) > 0 && PyUnicode_Check(PyTuple_GET_ITEM(spec, 0))
               && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(spec, 0), "line") == 0) {
        if (!self->lines.write) {
            PyErr_SetString(PyExc_ValueError, "a line route needs the output's write");
            Py_DECREF(spec);
            return NULL;
        }
        r->line = line_plan_new(spec);
        if (r->line) {
            r->kind = ROUTE_LINE;
        } else if (PyErr_ExceptionMatches(PyExc_NotImplementedError)) {
            PyErr_Clear();  /* a line the core does not make: the consumer's handler does */
            r->kind = ROUTE_ITEMS;
        } else {
            Py_DECREF(spec);
            return NULL;
        }
    } else if (PyTuple_Check(spec) && PyTuple_GET_SIZE(spec) > 0 && PyUnicode_Check(PyTuple_GET_ITEM(spec, 0))
               && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(spec, 0), "dict") == 0) {
        r->dict = dict_plan_new(spec);
        if (!r->dict) {
            Py_DECREF(spec);
            return NULL;
        }
        r->kind = ROUTE_DICT;
    } else if (PyTuple_Check(spec) && PyTuple_GET_SIZE(spec) == 5
               && PyUnicode_Check(PyTuple_GET_ITEM(spec, 0))
               && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(spec, 0), "slice") == 0) {
        int kind;
        unsigned int ident, start, raw_size_off;
        if (!PyArg_ParseTuple(spec, "sIIII", &(const char *){NULL}, &kind, &ident, &start, &raw_size_off)
            || !self->frames.sink || ident > UINT16_MAX || start > raw_size_off) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a slice route needs a frame sink, an id in 0..65535 "
                                "and a start before its RAW size");
            Py_DECREF(spec);
            return NULL;
        }
        r->kind = ROUTE_SLICE;
        r->frame_kind = kind;
        r->type = (uint16_t)ident;
        r->start = start;
        r->raw_size_off = raw_size_off;
    } else if (spec != Py_None) {
        r->plan = plan_new(spec);
        if (!r->plan) {
            Py_DECREF(spec);
            return NULL;
        }
        r->kind = ROUTE_CALL;
    }
    Py_DECREF(spec);
    r->asked = 1;
    return r;
}

/* what the batch, frame and line outputs hold, handed on (one consumer uses one of them) */
static int flush_outs(Framer *self)
{
    return batch_flush(&self->batch) < 0 || frames_flush(&self->frames) < 0 || lines_flush(&self->lines) < 0
           ? -1 : 0;
}

/* Hand out[0..n) on in order: samples routed to a plan to their handler, called here;
 * those routed to the batch or frame outputs into them; dropped ones nowhere; the rest,
 * gathered in out[seg..w) as they come, to deliver(items) in runs. */
static int hand_on(Framer *self, PyObject *deliver, size_t n)
{
    size_t seg = 0, w = 0, i = 0;
    for (; i < n; i++) {
        Entry *e = &self->out[i];
        if (e->ev == EV_FILTERED) {  /* ordered and counted as perf does, then let go */
            Py_DECREF(e->obj);
            continue;
        }
        Route *route = e->ev < 0 ? NULL : route_of(self, e->ev);
        if (e->ev >= 0 && !route)
            goto fail;
        if (!route || route->kind == ROUTE_ITEMS) {
            self->out[w++] = *e;
            continue;
        }
        if (route->kind == ROUTE_DROP) {  /* nobody handles it: nothing is made of it */
            Py_DECREF(e->obj);
            continue;
        }
        if (seg < w) {  /* what came before: the outputs, then the items after them */
            if (flush_outs(self) < 0)
                goto fail;
            size_t lo = seg;
            seg = w;  /* deliver_items lets go of out[lo..w), failing or not */
            if (deliver_items(self, deliver, lo, w) < 0)
                goto fail;
        }
        int rc;
        if (route->kind == ROUTE_BATCH) {
            rc = batch_add(&self->batch, e->obj, e->pos, route->type);
        } else if (route->kind == ROUTE_LINE) {
            rc = line_add(&self->lines, route->line, e->obj, e->pos, e->time);
        } else if (route->kind == ROUTE_SLICE) {
            const unsigned char *rec = (const unsigned char *)PyBytes_AS_STRING(e->obj) + e->pos;
            uint16_t size;
            memcpy(&size, rec + 6, 2);
            rc = frames_add(&self->frames, route->frame_kind, route->type, rec, size, route->start,
                            route->raw_size_off);
        } else if (route->kind == ROUTE_DICT) {
            rc = flush_outs(self);
            if (rc == 0)
                rc = dict_call(route->dict, e->obj, e->pos, e->time);
        } else {
            rc = flush_outs(self);
            if (rc == 0)
                rc = plan_call(route->plan, e->obj, e->pos, e->time);
        }
        Py_DECREF(e->obj);
        seg = w = i + 1;
        if (rc < 0) {
            i++;
            goto fail;
        }
    }
    if (seg < w) {
        if (flush_outs(self) < 0)
            goto fail;
        return deliver_items(self, deliver, seg, w);
    }
    return flush_outs(self);
fail:
    for (size_t j = seg; j < w; j++)
        Py_DECREF(self->out[j].obj);
    for (size_t j = i; j < n; j++)
        Py_DECREF(self->out[j].obj);
    return -1;
}

PyDoc_STRVAR(settle_doc,
"settle(deliver, final=False)\n\n"
"Deliver what perf delivers at the rounds framed so far (final: everything\n"
"queued) as one list of queue items in time order: deliver(items).");

static PyObject *Framer_settle(Framer *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"deliver", "final", NULL};
    PyObject *deliver;
    int final = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwlist, &deliver, &final))
        return NULL;
    size_t n = 0;
    int rc = queue_settle(&self->qu, final, &self->out, &n, &self->outcap);
    if (hand_on(self, deliver, n) < 0 || rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(set_planner_doc,
"set_planner(planner, sink=None, publish=None, frames=None, frame_limit=131072, error=None,\n"
"            write=None)\n\n"
"planner(evsel), asked once per evsel at its first delivered sample, routes its\n"
"samples: None, as queue items to deliver; an int k, into the batch arrays handed\n"
"to sink(n, slots, positions, types) (u16, u32 and u16 per event, as bytes; type\n"
"k), the chunks published first by publish(slot, chunk); (\"slice\", kind, id,\n"
"start, RAW size offset), copied as id + record[start:end of RAW] into frames of\n"
"that kind handed to frames(kind, payload) at frame_limit bytes (error: raised for\n"
"a sample whose RAW data runs past it); (\"line\", line format, comms, fallback,\n"
"evsel, tid/time/cpu/RAW size offsets, time divisor, reads), the default output's\n"
"line formatted here and gathered for write (lines.h); (\"dict\", ...), perf_sample_dict\n"
"built here and handed to its handler (sample_dicts.h); \"drop\", nothing; or a plan of a handler\n"
"the core calls itself: (fn, event name, context, comms, error, tid offset,\n"
"time offset, cpu offset, RAW size offset, fields), each field (kind, offset,\n"
"size, base) with kind one of the FIELD_* constants, error(message, chunk, pos)\n"
"the exception of a corrupt sample at chunk[pos].  planner None: items for all.");

static PyObject *Framer_set_planner(Framer *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"planner", "sink", "publish", "frames", "frame_limit", "error", "write", NULL};
    PyObject *planner, *sink = Py_None, *publish = Py_None, *frames = Py_None, *error = Py_None;
    PyObject *write = Py_None;
    Py_ssize_t frame_limit = 1 << 17;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOnOO", kwlist, &planner, &sink, &publish, &frames,
                                     &frame_limit, &error, &write))
        return NULL;
    if ((sink == Py_None) != (publish == Py_None) || ((frames == Py_None) != (error == Py_None))
        || frame_limit < 1) {
        PyErr_SetString(PyExc_ValueError, "a batch sink needs publish; a frame sink, an error class "
                        "and a positive limit");
        return NULL;
    }
    if (flush_outs(self) < 0)
        return NULL;
    free_routes(self);
    batch_free(&self->batch);
    frames_free(&self->frames);
    lines_free(&self->lines);
    if (write != Py_None)
        self->lines.write = Py_NewRef(write);
    if (sink != Py_None) {
        self->batch.sink = Py_NewRef(sink);
        self->batch.publish = Py_NewRef(publish);
    }
    if (frames != Py_None) {
        self->frames.sink = Py_NewRef(frames);
        self->frames.error = Py_NewRef(error);
        self->frames.limit = (size_t)frame_limit;
    }
    Py_XSETREF(self->planner, planner == Py_None ? NULL : Py_NewRef(planner));
    Py_RETURN_NONE;
}

static PyObject *Framer_clear(Framer *self, PyObject *unused)
{
    queue_clear(&self->qu);
    Py_RETURN_NONE;
}

static PyObject *Framer_pending(Framer *self, void *unused)
{
    return PyBool_FromLong(self->qu.unordered ? self->qu.n > self->qu.head : self->qu.nbounds > 0);
}

static PyObject *Framer_take_rounds(Framer *self, PyObject *unused)
{
    self->round_record = UINT32_MAX;  /* frame hands FINISHED_ROUND records to Python */
    Py_RETURN_NONE;
}

static PyObject *Framer_round(Framer *self, PyObject *unused)
{
    if (queue_bound(&self->qu) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Framer_set_unordered(Framer *self, PyObject *unused)
{
    self->qu.unordered = 1;
    return Framer_take_rounds(self, unused);  /* rounds order nothing */
}

static PyObject *Framer_queued(Framer *self, void *unused)
{
    return PyLong_FromSize_t(self->qu.n - self->qu.head);
}

static PyObject *Framer_out_of_order(Framer *self, void *unused)
{
    return PyLong_FromUnsignedLongLong(self->qu.out_of_order);
}

static PyMethodDef Framer_methods[] = {
    {"set_layout", (PyCFunction)Framer_set_layout, METH_VARARGS, set_layout_doc},
    {"set_filter", (PyCFunction)Framer_set_filter, METH_VARARGS,
     "set_filter(times, cpus, pids, tids): keep only the samples in one of the (start, end)\n"
     "time pairs (end 0: open), on one of the cpus, of one of the pids and tids; empty: no test"},
    {"frame", (PyCFunction)Framer_frame, METH_VARARGS, frame_doc},
    {"push", (PyCFunction)Framer_push, METH_VARARGS, push_doc},
    {"settle", (PyCFunction)(void (*)(void))Framer_settle, METH_VARARGS | METH_KEYWORDS, settle_doc},
    {"set_planner", (PyCFunction)(void (*)(void))Framer_set_planner, METH_VARARGS | METH_KEYWORDS,
     set_planner_doc},
    {"clear", (PyCFunction)Framer_clear, METH_NOARGS, "Drop everything queued."},
    {"take_rounds", (PyCFunction)Framer_take_rounds, METH_NOARGS,
     "Stop at FINISHED_ROUND records as at any other record (Python marks them with round)."},
    {"round", (PyCFunction)Framer_round, METH_NOARGS, "Mark a FINISHED_ROUND read here."},
    {"set_unordered", (PyCFunction)Framer_set_unordered, METH_NOARGS,
     "Deliver in arrival order (perf without ordered events): settle hands on all that is\n"
     "queued, and frame stops at FINISHED_ROUND records as at any other record."},
    {NULL},
};

static PyMemberDef Framer_members[] = {
    {"records", T_ULONGLONG, offsetof(Framer, records), READONLY, "records framed"},
    {"samples", T_ULONGLONG, offsetof(Framer, samples), READONLY, "samples queued"},
    {"unknown_ids", T_ULONGLONG, offsetof(Framer, unknown_ids), READONLY, "samples whose id no attribute has"},
    {NULL},
};

static PyGetSetDef Framer_getset[] = {
    {"pending", (getter)Framer_pending, NULL, "whether rounds wait to be settled", NULL},
    {"queued", (getter)Framer_queued, NULL, "events queued, not yet delivered", NULL},
    {"out_of_order", (getter)Framer_out_of_order, NULL, "events delivered earlier than one before them", NULL},
    {NULL},
};

static PyTypeObject FramerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "scripthost.engine._core.Framer",
    .tp_basicsize = sizeof(Framer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Frames records and orders events by perf's FINISHED_ROUND rule.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Framer_init,
    .tp_dealloc = (destructor)Framer_dealloc,
    .tp_methods = Framer_methods,
    .tp_members = Framer_members,
    .tp_getset = Framer_getset,
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "scripthost.engine._core",
    "The engine's native core: record framing, perf's round ordering, handler calls.", -1, NULL,
};

PyMODINIT_FUNC PyInit__core(void)
{
    if (PyType_Ready(&FramerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Framer", (PyObject *)&FramerType) < 0)
        goto fail;
    static const struct { const char *name; int value; } kinds[] = {
        {"FIELD_UINT", FIELD_UINT}, {"FIELD_INT64", FIELD_INT64}, {"FIELD_DYN_LOC", FIELD_DYN_LOC},
        {"FIELD_STR", FIELD_STR}, {"FIELD_STR_DYN", FIELD_STR_DYN}, {"FIELD_BYTES", FIELD_BYTES},
        {"FIELD_BYTES_DYN", FIELD_BYTES_DYN}, {"FIELD_ZERO", FIELD_ZERO},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (PyModule_AddIntConstant(m, kinds[i].name, kinds[i].value) < 0)
            goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
