/* Record framing: walk the records of one input chunk, queue samples, mark rounds.
 *
 * Every length is checked against the bytes present: a record is taken only when
 * its whole size lies before `end`; a sample's id and time are read only when its
 * size reaches past them (its evsel's smallest sample). */
#include "framer.h"

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint16_t rd16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

FrameStatus frame_chunk(Framer *f, PyObject *chunk, Py_ssize_t *ppos, Py_ssize_t end)
{
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(chunk);
    Py_ssize_t pos = *ppos;
    const int id_pos = f->id_pos;
    const EvselInfo *only = f->nevs == 1 ? &f->evs[0] : NULL;
    FrameStatus st = FRAME_END;
    uint64_t records = 0, samples = 0;

    while (end - pos >= 8) {
        const unsigned char *r = buf + pos;
        uint32_t type = rd32(r);
        uint16_t size = rd16(r + 6);
        if (size < 8) {
            st = FRAME_BAD_SIZE;
            break;
        }
        if (size > end - pos)
            break;  /* cut short by the chunk's end: FRAME_END */
        if (type == f->sample_record) {
            int32_t ev;
            if (id_pos >= 0) {
                if ((Py_ssize_t)id_pos + 8 > size) {
                    st = FRAME_SHORT_SAMPLE;
                    break;
                }
                ev = idmap_get(&f->ids, rd64(r + id_pos));
                if (ev < 0) {
                    f->unknown_ids++;
                    records++;
                    pos += size;
                    continue;
                }
            } else if (only) {
                ev = 0;
            } else {
                st = FRAME_NO_EVSEL;
                break;
            }
            const EvselInfo *e = &f->evs[ev];
            if (size < e->min_size) {
                st = FRAME_SHORT_SAMPLE;
                break;
            }
            if (f->filtering && !filter_accepts(&f->filter, e, r))
                ev = EV_FILTERED;
            if (queue_push(&f->qu, e->time_off ? rd64(r + e->time_off) : 0, chunk, (uint32_t)pos, ev) < 0) {
                st = FRAME_ERROR;
                break;
            }
            samples++;
            records++;
        } else if (type == f->round_record) {
            if (queue_bound(&f->qu) < 0) {
                st = FRAME_ERROR;
                break;
            }
            records++;
        } else {
            records++;
            st = FRAME_OTHER;
            break;
        }
        pos += size;
    }
    f->records += records;
    f->samples += samples;
    *ppos = pos;
    return st;
}
