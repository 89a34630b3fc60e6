/* perf_sample_dict built in C: for a sampled (non-tracepoint) event whose script takes
 * process_event(param_dict), the core reads the sample's fields where its plan says,
 * builds perf 6.1's dict (keys in perf's order) with the ip's and callchain's facts
 * from a per-address cache that Python fills on a miss, and calls the handler. */
#ifndef SCRIPTHOST_SAMPLE_DICTS_H
#define SCRIPTHOST_SAMPLE_DICTS_H

#include "core.h"
#include "symcache.h"

typedef struct {
    PyObject *fn, *ev_name, *attr, *comms;
    PyObject *fallback; /* fallback(item): the sample when the core cannot build its dict */
    PyObject *evsel;
    /* offsets from the record start, 0 where the sample has no such field */
    uint32_t pid_off, time_off, cpu_off, period_off, ip_off, chain_off;
    uint32_t need;      /* the record size the fixed fields need */
    uint64_t period;    /* the period when it is not sampled */
    SymCache syms;      /* (pid, cpumode, ip) -> (the dict's items for it, its frame's facts) */
    Contexts contexts;
} DictPlan;

DictPlan *dict_plan_new(PyObject *spec);
void dict_plan_free(DictPlan *p);
/* build the dict of the sample at chunk[pos] and call the handler; -1 with an exception */
int dict_call(DictPlan *p, PyObject *chunk, uint32_t pos, uint64_t time);

#endif
