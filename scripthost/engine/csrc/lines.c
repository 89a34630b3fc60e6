/* The default output's lines formatted in C (see lines.h).
 *
 * The line's %-format (Python's, as the Python printer uses it) is compiled once into
 * literal pieces and conversions; each line is written straight into a UTF-8 buffer,
 * handed to the output's write in large pieces.  A read outside the RAW data, a comm
 * that is not UTF-8, or a format this compiler does not take goes to the Python
 * printer, which prints the event as perf does. */
#include "lines.h"

#define LINES_FLUSH_AT (1 << 16)
#define LINE_MAX_WIDTH 4096

void line_plan_free(LinePlan *p)
{
    if (!p)
        return;
    Py_XDECREF(p->line);
    Py_XDECREF(p->comms);
    Py_XDECREF(p->fallback);
    Py_XDECREF(p->evsel);
    symcache_free(&p->syms);
    PyMem_Free(p->cols);
    PyMem_Free(p->text);
    PyMem_Free(p->ops);
    PyMem_Free(p);
}

static int code_size(char code)
{
    switch (code) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': return 4;
    case 'q': case 'Q': return 8;
    default: return 0;
    }
}

/* the ops of a %-format; 0 with nothing set when it holds what is not compiled here */
static int compile_format(LinePlan *p, const char *f, Py_ssize_t len)
{
    size_t cap = 8, n = 0, tn = 0;
    LineOp *ops = PyMem_Malloc(cap * sizeof *ops);
    char *text = PyMem_Malloc((size_t)len + 1);
    if (!ops || !text)
        goto nomem;
    Py_ssize_t i = 0;
    uint32_t lit_at = 0;
    for (;;) {
        while (i < len && f[i] != '%')
            text[tn++] = f[i++];
        if (i + 1 < len && f[i + 1] == '%') {
            text[tn++] = '%';
            i += 2;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            LineOp *o = PyMem_Realloc(ops, cap * sizeof *ops);
            if (!o)
                goto nomem;
            ops = o;
        }
        LineOp *op = &ops[n++];
        memset(op, 0, sizeof *op);
        op->lit_at = lit_at;
        op->lit_len = (uint32_t)(tn - lit_at);
        op->width = op->prec = -1;
        lit_at = (uint32_t)tn;
        if (i >= len)
            break;  /* the literal tail: conv 0 */
        i++;
        for (; i < len; i++) {
            char c = f[i];
            if (c == '-') op->left = 1;
            else if (c == '0') op->zero = 1;
            else if (c == '+') op->plus = 1;
            else if (c == ' ') op->space = 1;
            else if (c == '#') op->alt = 1;
            else break;
        }
        if (i < len && f[i] >= '1' && f[i] <= '9') {
            op->width = 0;
            while (i < len && f[i] >= '0' && f[i] <= '9' && op->width <= LINE_MAX_WIDTH)
                op->width = op->width * 10 + (f[i++] - '0');
        }
        if (i < len && f[i] == '.') {
            op->prec = 0;
            for (i++; i < len && f[i] >= '0' && f[i] <= '9' && op->prec <= LINE_MAX_WIDTH; i++)
                op->prec = op->prec * 10 + (f[i] - '0');
        }
        while (i < len && (f[i] == 'l' || f[i] == 'h' || f[i] == 'L'))
            i++;  /* Python ignores length modifiers */
        if (i >= len || op->width > LINE_MAX_WIDTH || op->prec > LINE_MAX_WIDTH)
            goto refuse;
        char c = f[i++];
        if (c == 'i' || c == 'u')
            c = 'd';
        if ((c != 'd' && c != 'x' && c != 'X' && c != 'o' && c != 's') || (c == 's' && op->prec >= 0))
            goto refuse;
        op->conv = c;
    }
    p->ops = ops;
    p->nops = (Py_ssize_t)n;
    p->text = text;
    return 1;
refuse:
    PyMem_Free(ops);
    PyMem_Free(text);
    return 0;
nomem:
    PyMem_Free(ops);
    PyMem_Free(text);
    PyErr_NoMemory();
    return -1;
}

static int is_string_col(char col)
{
    return col == COL_COMM || col == COL_WHERE || col == COL_STACK;
}

/* 1 when the plan's conversions and columns agree (a string column takes %s, its
 * resolved text no width either), the reads are all used, and the fields they need exist */
static int plan_holds(const LinePlan *p)
{
    Py_ssize_t ncols = (Py_ssize_t)strlen(p->cols), reads = 0;
    if (ncols != p->nops - 1)
        return 0;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        const LineOp *op = &p->ops[k];
        char col = p->cols[k];
        if (is_string_col(col) && op->conv != 's')
            return 0;
        if ((col == COL_WHERE || col == COL_STACK) && (op->width >= 0 || !p->syms.where))
            return 0;
        switch (col) {
        case COL_COMM: case COL_TID: if (!p->tid_off) return 0; break;
        case COL_CPU: if (!p->cpu_off) return 0; break;
        case COL_SECS: case COL_FRAC: if (!p->time_off) return 0; break;
        case COL_PERIOD: break;
        case COL_READ: if (reads++ >= p->nreads || !p->raw_size_off) return 0; break;
        case COL_IP: case COL_WHERE: if (!p->ip_off || !p->pid_off) return 0; break;
        case COL_STACK: if (!p->chain_off || !p->pid_off) return 0; break;
        default: return 0;
        }
    }
    return reads == p->nreads;
}

LinePlan *line_plan_new(PyObject *spec)
{
    PyObject *line, *cols, *comms, *fallback, *evsel, *reads, *where, *machine, *contexts;
    unsigned int pid_off, tid_off, time_off, cpu_off, period_off, raw_size_off, ip_off, chain_off, time_div;
    unsigned long long period;
    if (!PyArg_ParseTuple(spec, "sUUO!OO(IIIIIIII)KIOOOO", &(const char *){NULL}, &line, &cols, &PyDict_Type,
                          &comms, &fallback, &evsel, &pid_off, &tid_off, &time_off, &cpu_off, &period_off,
                          &raw_size_off, &ip_off, &chain_off, &period, &time_div, &reads, &where, &machine,
                          &contexts))
        return NULL;
    if (!time_div) {
        PyErr_SetString(PyExc_ValueError, "a line plan's time divisor is 0");
        return NULL;
    }
    Py_ssize_t flen;
    const char *f = PyUnicode_AsUTF8AndSize(line, &flen);
    const char *colstr = PyUnicode_AsUTF8(cols);
    if (!f || !colstr)
        return NULL;
    PyObject *seq = PySequence_Fast(reads, "a line plan's reads must be a sequence");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    LinePlan *p = PyMem_Calloc(1, sizeof *p + (size_t)n * sizeof(LineRead));
    if (!p) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    p->line = Py_NewRef(line);
    p->comms = Py_NewRef(comms);
    p->fallback = Py_NewRef(fallback);
    p->evsel = Py_NewRef(evsel);
    p->pid_off = pid_off;
    p->tid_off = tid_off;
    p->time_off = time_off;
    p->cpu_off = cpu_off;
    p->period_off = period_off;
    p->raw_size_off = raw_size_off;
    p->ip_off = ip_off;
    p->chain_off = chain_off;
    p->period = period;
    p->time_div = time_div;
    p->nreads = n;
    if (where != Py_None) {
        p->syms.where = Py_NewRef(where);
        p->syms.machine = Py_NewRef(machine);
        p->syms.generation = -1;
    }
    p->cols = PyMem_Malloc(strlen(colstr) + 1);
    if (!p->cols) {
        PyErr_NoMemory();
        goto fail;
    }
    strcpy(p->cols, colstr);
    need_sample_fields(&p->need, pid_off, time_off, cpu_off, period_off, ip_off, chain_off);
    need_field(&p->need, raw_size_off, 4);
    if (tid_off && (!pid_off || tid_off != pid_off + 4)) {
        PyErr_SetString(PyExc_ValueError, "a line plan's tid must follow its pid");
        goto fail;
    }
    if (contexts_parse(&p->contexts, contexts) < 0)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned int offset;
        const char *code;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "Is", &offset, &code))
            goto fail;
        if (strlen(code) != 1 || !code_size(code[0])) {
            PyErr_Format(PyExc_ValueError, "line plan read %zd: struct code %s", i, code);
            goto fail;
        }
        p->reads[i] = (LineRead){code[0], offset};
    }
    Py_CLEAR(seq);
    int ok = compile_format(p, f, flen);
    if (ok < 0)
        goto fail;
    if (!ok || !plan_holds(p)) {
        line_plan_free(p);
        PyErr_SetString(PyExc_NotImplementedError, "a line format this core does not compile");
        return NULL;
    }
    return p;
fail:
    Py_XDECREF(seq);
    line_plan_free(p);
    return NULL;
}

static inline int reserve(LinesOut *out, size_t more)
{
    if (out->n + more <= out->cap)  /* the common case, without a call */
        return 0;
    return grow_to((void **)&out->buf, &out->cap, out->n + more, 1);
}

static void put(LinesOut *out, const char *s, size_t n)
{
    if (!n)
        return;
    memcpy(out->buf + out->n, s, n);
    out->n += n;
}

static void pad(LinesOut *out, char c, size_t n)
{
    if (!n)
        return;
    memset(out->buf + out->n, c, n);
    out->n += n;
}

/* one conversion of an integer as Python's % does it */
static int put_int(LinesOut *out, const LineOp *op, int negative, uint64_t mag)
{
    char digits[72];
    int nd = 0;
    unsigned base = op->conv == 'o' ? 8 : op->conv == 'd' ? 10 : 16;
    const char *set = op->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[sizeof digits - 1 - nd++] = set[mag % base];
        mag /= base;
    } while (mag);
    const char *sign = negative ? "-" : op->plus ? "+" : op->space ? " " : "";
    const char *prefix = !op->alt || base == 10 ? "" : op->conv == 'o' ? "0o" : op->conv == 'X' ? "0X" : "0x";
    size_t ls = strlen(sign), lp = strlen(prefix);
    size_t zeros = op->prec > nd ? (size_t)(op->prec - nd) : 0;
    size_t body = ls + lp + zeros + (size_t)nd;
    size_t width = op->width > 0 ? (size_t)op->width : 0;
    if (reserve(out, body > width ? body : width) < 0)
        return -1;
    if (width > body && !op->left && !op->zero)
        pad(out, ' ', width - body);
    put(out, sign, ls);
    put(out, prefix, lp);
    if (width > body && !op->left && op->zero)
        pad(out, '0', width - body);
    pad(out, '0', zeros);
    put(out, digits + sizeof digits - nd, (size_t)nd);
    if (width > body && op->left)
        pad(out, ' ', width - body);
    return 0;
}

/* a string padded to its width in bytes, as perf's printf pads a comm (not in characters) */
static int put_str(LinesOut *out, const LineOp *op, const char *s, size_t n)
{
    size_t width = op->width > 0 ? (size_t)op->width : 0, fill = width > n ? width - n : 0;
    if (reserve(out, n + fill) < 0)
        return -1;
    if (!op->left)
        pad(out, ' ', fill);
    put(out, s, n);
    if (op->left)
        pad(out, ' ', fill);
    return 0;
}

static int fall_back(LinesOut *out, LinePlan *p, PyObject *chunk, uint32_t pos, uint64_t time)
{
    if (lines_flush(out) < 0)
        return -1;
    PyObject *r = PyObject_CallFunction(p->fallback, "((KIOO))", (unsigned long long)time, pos, chunk, p->evsel);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* the callchain at rec[chain_off] (its length checked), a line per entry (a tab, its
 * resolved text, a newline), then "\n";
 * a marker this plan does not know leaves the stack empty, as perf 6.1 does */
static int put_stack(LinesOut *out, LinePlan *p, const unsigned char *rec, uint64_t nr, int32_t pid, int mode)
{
    size_t start = out->n;
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t ip;
        memcpy(&ip, rec + p->chain_off + 8 + 8 * i, 8);
        if (ip >= p->contexts.min) {
            mode = contexts_mode(&p->contexts, ip);
            if (mode < 0) {
                out->n = start;
                break;
            }
            continue;
        }
        const char *text;
        size_t len;
        if (symcache_text(&p->syms, pid, mode, ip, &text, &len) < 0 || reserve(out, len + 2) < 0)
            return -1;
        out->buf[out->n++] = '\t';
        put(out, text, len);
        out->buf[out->n++] = '\n';
    }
    if (reserve(out, 1) < 0)
        return -1;
    out->buf[out->n++] = '\n';
    return 0;
}

int line_add(LinesOut *out, LinePlan *p, PyObject *chunk, uint32_t pos, uint64_t time)
{
    const unsigned char *r = (const unsigned char *)PyBytes_AS_STRING(chunk) + pos;
    uint16_t size;
    memcpy(&size, r + 6, 2);
    if (p->need > size)
        return fall_back(out, p, chunk, pos, time);
    uint32_t rs = 0;
    const unsigned char *raw = NULL;
    if (p->raw_size_off) {
        rs = read_u32(r, p->raw_size_off);
        if ((size_t)p->raw_size_off + 4 + rs > size)
            return fall_back(out, p, chunk, pos, time);
        for (Py_ssize_t i = 0; i < p->nreads; i++)
            if ((size_t)p->reads[i].offset + (size_t)code_size(p->reads[i].code) > rs)
                return fall_back(out, p, chunk, pos, time);
        raw = r + p->raw_size_off + 4;
    }
    uint64_t nr = 0;
    if (p->chain_off) {
        nr = read_u64(r, p->chain_off);
        if (nr > (size - p->chain_off - 8u) / 8u)
            return fall_back(out, p, chunk, pos, time);
    }
    int32_t pid = p->pid_off ? (int32_t)read_u32(r, p->pid_off) : 0;
    int32_t tid = p->tid_off ? (int32_t)read_u32(r, p->tid_off) : 0;
    int mode = r[4] & 7;  /* the record's cpumode */
    if (p->syms.where && symcache_check(&p->syms) < 0)
        return -1;

    Py_ssize_t clen = 0;
    const char *comm = NULL;
    PyObject *c = NULL;
    if (p->tid_off) {
        c = comm_of(p->comms, tid);
        if (!c)
            return -1;
        comm = PyUnicode_AsUTF8AndSize(c, &clen);  /* c holds these bytes: released at the end */
        if (!comm) {  /* not UTF-8 (surrogate escapes): the Python printer writes it */
            Py_DECREF(c);
            PyErr_Clear();
            return fall_back(out, p, chunk, pos, time);
        }
    }
    size_t start = out->n;
    Py_ssize_t nread = 0;
    for (Py_ssize_t k = 0; k < p->nops; k++) {
        const LineOp *op = &p->ops[k];
        if (reserve(out, op->lit_len) < 0)
            goto fail;
        put(out, p->text + op->lit_at, op->lit_len);
        if (!op->conv)
            break;
        int rc, negative = 0;
        uint64_t mag = 0;
        switch (p->cols[k]) {
        case COL_COMM: rc = put_str(out, op, comm, (size_t)clen); goto next;
        case COL_WHERE: {
            const char *text;
            size_t len;
            rc = symcache_text(&p->syms, pid, mode, read_u64(r, p->ip_off), &text, &len);
            if (rc == 0)
                rc = put_str(out, op, text, len);
            goto next;
        }
        case COL_STACK: rc = put_stack(out, p, r, nr, pid, mode); goto next;
        case COL_TID: negative = tid < 0; mag = negative ? (uint64_t)(-(int64_t)tid) : (uint64_t)tid; break;
        case COL_CPU: mag = read_u32(r, p->cpu_off); break;
        case COL_SECS: mag = time / 1000000000u; break;
        case COL_FRAC: mag = time % 1000000000u / p->time_div; break;
        case COL_PERIOD: mag = p->period_off ? read_u64(r, p->period_off) : p->period; break;
        case COL_IP: mag = read_u64(r, p->ip_off); break;
        default: {
            const LineRead *rd = &p->reads[nread++];
            uint64_t v = 0;
            memcpy(&v, raw + rd->offset, (size_t)code_size(rd->code));
            int64_t sv = rd->code == 'b' ? (int8_t)v : rd->code == 'h' ? (int16_t)v
                       : rd->code == 'i' ? (int32_t)v : (int64_t)v;
            if (rd->code == 'b' || rd->code == 'h' || rd->code == 'i' || rd->code == 'q') {
                negative = sv < 0;
                mag = negative ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv;
            } else {
                mag = v;
            }
        }
        }
        if (op->conv == 's') {
            char dec[24];
            int n = snprintf(dec, sizeof dec, "%s%llu", negative ? "-" : "", (unsigned long long)mag);
            rc = put_str(out, op, dec, (size_t)n);
        } else {
            rc = put_int(out, op, negative, mag);
        }
    next:
        if (rc < 0)
            goto fail;
    }
    Py_XDECREF(c);
    return out->n >= LINES_FLUSH_AT ? lines_flush(out) : 0;
fail:
    out->n = start;
    Py_XDECREF(c);
    return -1;
}

int lines_flush(LinesOut *out)
{
    if (!out->n)
        return 0;
    PyObject *text = PyUnicode_DecodeUTF8(out->buf, (Py_ssize_t)out->n, "surrogateescape");
    out->n = 0;
    if (!text)
        return -1;
    PyObject *r = PyObject_CallOneArg(out->write, text);
    Py_DECREF(text);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

void lines_free(LinesOut *out)
{
    Py_CLEAR(out->write);
    PyMem_Free(out->buf);
    out->buf = NULL;
    out->n = out->cap = 0;
}
