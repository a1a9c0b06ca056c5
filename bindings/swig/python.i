/*
 * python.i - the Python 3 part of mywire.i (included under SWIGPYTHON).
 *
 * Typemaps for the flat functions of the header, and the hot paths as C
 * helpers (pyw_*), registered as native functions of the extension module:
 *
 *   pyw_call(op, conn, stmt, data, mode, nowait) -> (rc, result or None)
 *       one network call (connect, ping, query, next result, prepare,
 *       execute, ...; PYW_STMT_CACHED answers (rc, statement or None): a
 *       lease from the C statement cache, given back with mywire_stmt_free),
 *       driven to its end on the non-blocking connection with
 *       poll() while the GIL is released; a signal handler raising (Ctrl-C's
 *       KeyboardInterrupt) cancels the running statement on the server with
 *       mywire_cancel and the call is finished before the exception goes up.
 *       With nowait=1 it returns MYWIRE_WAIT_* instead (asyncio).
 *   pyw_execute(stmt, conn, params, mode) -> (rc, result or None, message)
 *       bind a parameter sequence and execute, in one call.
 *   pyw_execute_batch(stmt, conn, seq_of_params, row_results=0)
 *       -> (rc, affected, insert_id, message, [(affected, insert_id), ...] or None)
 *       the list (one tuple per row, in order) only with row_results true.
 *   pyw_row_results(result) -> [(affected, insert_id), ...] (mywire_row_result)
 *   pyw_bind(stmt, params) -> None or (rc, message)
 *   pyw_fetch(res, conn, maxrows, nowait, discard) -> (rc, [tuple, ...] or count)
 *       rows turned into tuples of Python values in C, typed by the columns.
 *   pyw_description(res) -> PEP 249 description tuple
 *   pyw_format(sql, no_backslash_escapes) -> (bytes, names tuple or None, count)
 *       %s / %(name)s -> ? outside string literals, quoted names and comments.
 *   pyw_escape(conn, data) -> bytes
 *   pyw_cancel(conn) -> rc (GIL released; from any thread)
 *
 * Pointers cross as SWIG pointer objects, which own nothing: ownership is
 * the Python layer's (mywire/_handles.py), which frees each handle once.
 */

/* The GIL: the calls that can wait on the network release it (SWIG's
 * -threads); the getters, setters and other quick calls keep it, which
 * saves a release and re-acquire per call on the hot paths. The pyw_*
 * helpers release it themselves, around poll() only. */
%feature("nothread");
%thread mywire_conn_free;
%thread mywire_close;
%thread mywire_connect;
%thread mywire_connect_to;
%thread mywire_connect_uri;
%thread mywire_ping;
%thread mywire_select_db;
%thread mywire_reset_connection;
%thread mywire_set_server_multi_statements;
%thread mywire_statistics;
%thread mywire_query;
%thread mywire_next_result;
%thread mywire_result_free;
%thread mywire_fetch;
%thread mywire_pipeline_run;
%thread mywire_stmt_prepare;
%thread mywire_stmt_execute;
%thread mywire_stmt_execute_batch;
%thread mywire_stmt_reset;
%thread mywire_stmt_send_long_data;
%thread mywire_cancel;

%{
#include <datetime.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
%}

%init %{
    PyDateTime_IMPORT;
%}

/* ---------------------------------------------------- flat-API typemaps */

/* A new handle through `T **out`: appended to the return value, as a SWIG
 * pointer object the caller owns (see mywire.i). */
%define PYW_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE **out {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $*1_descriptor, 0));
}
%enddef
PYW_OUT_HANDLE(mywire_conn)
PYW_OUT_HANDLE(mywire_result)
PYW_OUT_HANDLE(mywire_stmt)
PYW_OUT_HANDLE(mywire_pipeline)

/* (pointer, length) inputs: bytes, bytearray, or str (as UTF-8). */
%typemap(in) (const char *sql, size_t len), (const char *data, size_t len),
             (const char *text, size_t len), (const void *data, size_t len) {
    if (PyBytes_Check($input)) {
        char *p; Py_ssize_t n;
        PyBytes_AsStringAndSize($input, &p, &n);
        $1 = ($1_ltype)p; $2 = (size_t)n;
    } else if (PyByteArray_Check($input)) {
        $1 = ($1_ltype)PyByteArray_AS_STRING($input); $2 = (size_t)PyByteArray_GET_SIZE($input);
    } else if (PyUnicode_Check($input)) {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize($input, &n);
        if (!p) SWIG_fail;
        $1 = ($1_ltype)p; $2 = (size_t)n;
    } else {
        PyErr_SetString(PyExc_TypeError, "expected bytes, bytearray or str");
        SWIG_fail;
    }
}
%typemap(typecheck) (const char *sql, size_t len), (const char *data, size_t len),
             (const char *text, size_t len), (const void *data, size_t len) {
    $1 = PyBytes_Check($input) || PyByteArray_Check($input) || PyUnicode_Check($input);
}

/* COM_STATISTICS text -> bytes. */
%typemap(in, numinputs=0) (const char **text, size_t *len) (const char *t = NULL, size_t n = 0) {
    $1 = ($1_ltype)&t; $2 = &n;
}
%typemap(argout) (const char **text, size_t *len) {
    $result = SWIG_Python_AppendOutput($result, *$1 ? PyBytes_FromStringAndSize(*$1, (Py_ssize_t)*$2)
                                                      : (Py_INCREF(Py_None), Py_None));
}

/* Typed getters: the value comes back next to the code. */
%typemap(in, numinputs=0) int64_t *out (int64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) int64_t *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong(*$1)); }
%typemap(in, numinputs=0) uint64_t *out (uint64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) uint64_t *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(*$1)); }
%typemap(in, numinputs=0) double *out (double tmp = 0) { $1 = &tmp; }
%typemap(argout) double *out { $result = SWIG_Python_AppendOutput($result, PyFloat_FromDouble(*$1)); }

/* Values are read through pyw_fetch (binary-safe, typed); these would hand
 * out char * views that SWIG turns into str at the first NUL. Escaping has
 * pyw_escape. */
%ignore mywire_row;
%ignore mywire_get;
%ignore mywire_get_bytes;
%ignore mywire_escape_string;
%ignore mywire_escape_string_for;
%ignore mywire_value;

/* ------------------------------------------------------------ the helpers */

%{
enum {
    PYW_CONNECT = 1,
    PYW_PING = 2,
    PYW_SELECT_DB = 3,
    PYW_RESET = 4,
    PYW_QUERY = 5,
    PYW_NEXT_RESULT = 6,
    PYW_PREPARE = 7,
    PYW_PREPARE_CLIENT = 8,
    PYW_EXECUTE = 9,
    PYW_EXECUTE_BATCH = 10,
    PYW_STMT_RESET = 11,
    PYW_STMT_CACHED = 12
};

typedef struct pyw_op {
    int op;
    mywire_conn *conn;
    mywire_stmt *stmt;
    const char *data;
    size_t len;
    int mode;
    mywire_result *res;
    mywire_stmt *leased;  /* PYW_STMT_CACHED's statement */
} pyw_op;

static int pyw_step(pyw_op *o)
{
    switch (o->op) {
    case PYW_CONNECT: return mywire_connect(o->conn);
    case PYW_PING: return mywire_ping(o->conn);
    case PYW_SELECT_DB: return mywire_select_db(o->conn, o->data);
    case PYW_RESET: return mywire_reset_connection(o->conn);
    case PYW_QUERY: return mywire_query(o->conn, o->data, o->len, o->mode, &o->res);
    case PYW_NEXT_RESULT: return mywire_next_result(o->conn, o->mode, &o->res);
    case PYW_PREPARE: return mywire_stmt_prepare(o->stmt, o->data, o->len);
    case PYW_PREPARE_CLIENT: return mywire_stmt_prepare_client(o->stmt, o->data, o->len);
    case PYW_EXECUTE: return mywire_stmt_execute(o->stmt, o->mode, &o->res);
    case PYW_EXECUTE_BATCH: return mywire_stmt_execute_batch(o->stmt, &o->res);
    case PYW_STMT_RESET: return mywire_stmt_reset(o->stmt);
    case PYW_STMT_CACHED: return mywire_stmt_cached(o->conn, o->data, o->len, &o->leased);
    default: return MYWIRE_ERROR_ARGUMENT;
    }
}

#define PYW_SIGNAL_SLICE_MS 200

static int pyw_is_wait(int rc) { return rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE; }

/* Wait (GIL released) until conn's socket is ready for what rc asks, or its
 * wake descriptor fires, or its deadline passes. A signal whose Python
 * handler raises (KeyboardInterrupt) leaves that exception set, *interrupted
 * 1, and the statement cancelled on the server: the caller goes on calling
 * until the call ends (MYWIRE_ERROR_CANCELLED, or done meanwhile). */
static void pyw_wait(mywire_conn *c, int rc, int *interrupted)
{
    struct pollfd p[2];
    nfds_t n = 1;
    int64_t t = mywire_timeout_ms(c);
    int timeout = t < 0 ? -1 : t > INT_MAX ? INT_MAX : (int)t;
    int r, err = 0, sliced = 0;
    p[0].fd = mywire_socket(c);
    p[0].events = rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN;
    p[0].revents = 0;
    p[1].fd = mywire_wake_fd(c);
    p[1].events = POLLIN;
    p[1].revents = 0;
    if (p[1].fd >= 0) n = 2;
    if (p[0].fd < 0) return;  /* nothing to wait for: the next call tells */
    /* A process-directed SIGINT may land in another thread, which leaves
     * this poll() running: wait in slices and look at Python's pending
     * signals between them (a no-op outside the main thread). */
    if (!*interrupted && (timeout < 0 || timeout > PYW_SIGNAL_SLICE_MS)) {
        sliced = 1;
        timeout = PYW_SIGNAL_SLICE_MS;
    }
    Py_BEGIN_ALLOW_THREADS
    r = poll(p, n, timeout);
    if (r < 0) err = errno;
    Py_END_ALLOW_THREADS
    if (r == 0 && sliced) r = -1, err = EINTR;  /* a slice ended: look at the signals */
    if (r < 0 && err == EINTR && !*interrupted && PyErr_CheckSignals() < 0) {
        *interrupted = 1;
        Py_BEGIN_ALLOW_THREADS
        mywire_cancel(c);
        Py_END_ALLOW_THREADS
    }
}

static int pyw_drive(pyw_op *o, int nowait, int *interrupted)
{
    int rc = pyw_step(o);
    while (!nowait && pyw_is_wait(rc) && o->conn) {
        pyw_wait(o->conn, rc, interrupted);
        rc = pyw_step(o);
    }
    return rc;
}

/* After an interrupt: read the rest of a streaming result the call produced
 * (the cancelled statement's error or rows end it), so that nothing of it
 * is left for the next command, then free it. */
static void pyw_drain_free(mywire_conn *c, mywire_result *res)
{
    int rc, interrupted = 1;
    if (!res) return;
    for (;;) {
        rc = mywire_fetch(res);
        if (rc == MYWIRE_ROW) continue;
        if (!pyw_is_wait(rc) || !c) break;
        pyw_wait(c, rc, &interrupted);
    }
    mywire_result_free(res);
}

static int pyw_ptr(PyObject *obj, void **out, swig_type_info *ty, const char *what)
{
    if (obj == Py_None) { *out = NULL; return 0; }
    if (!SWIG_IsOK(SWIG_ConvertPtr(obj, out, ty, 0))) {
        PyErr_Format(PyExc_TypeError, "expected a %s handle", what);
        return -1;
    }
    return 0;
}

/* bytes, bytearray or str (UTF-8); None is (NULL, 0). The pointer is valid
 * while obj lives (and is NUL-terminated). */
static int pyw_buffer(PyObject *obj, const char **p, size_t *len)
{
    Py_ssize_t n = 0;
    if (obj == Py_None) { *p = NULL; *len = 0; return 0; }
    if (PyBytes_Check(obj)) {
        char *b;
        if (PyBytes_AsStringAndSize(obj, &b, &n) < 0) return -1;
        *p = b;
    } else if (PyByteArray_Check(obj)) {
        *p = PyByteArray_AS_STRING(obj); n = PyByteArray_GET_SIZE(obj);
    } else if (PyUnicode_Check(obj)) {
        *p = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!*p) return -1;
    } else {
        PyErr_SetString(PyExc_TypeError, "expected bytes or str");
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

static PyObject *pyw_result_obj(mywire_result *res)
{
    if (!res) Py_RETURN_NONE;
    return SWIG_NewPointerObj(SWIG_as_voidptr(res), SWIGTYPE_p_mywire_result, 0);
}

static PyObject *pyw_call(PyObject *self, PyObject *args)
{
    int op, mode, nowait, interrupted = 0, rc;
    PyObject *conn_o, *stmt_o, *data_o;
    pyw_op o;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTuple(args, "iOOOii:pyw_call", &op, &conn_o, &stmt_o, &data_o, &mode, &nowait))
        return NULL;
    if (pyw_ptr(conn_o, (void **)&o.conn, SWIGTYPE_p_mywire_conn, "connection") < 0 ||
        pyw_ptr(stmt_o, (void **)&o.stmt, SWIGTYPE_p_mywire_stmt, "statement") < 0 ||
        pyw_buffer(data_o, &o.data, &o.len) < 0)
        return NULL;
    o.op = op;
    o.mode = mode;
    if (op == PYW_SELECT_DB && !o.data) o.data = "";
    rc = pyw_drive(&o, nowait, &interrupted);
    if (interrupted) {
        mywire_stmt_free(o.leased);
        pyw_drain_free(o.conn, o.res);
        return NULL;
    }
    if (op == PYW_STMT_CACHED) {
        PyObject *st;
        if (!o.leased) return Py_BuildValue("(iO)", rc, Py_None);
        st = SWIG_NewPointerObj(SWIG_as_voidptr(o.leased), SWIGTYPE_p_mywire_stmt, 0);
        if (!st) { mywire_stmt_free(o.leased); return NULL; }
        return Py_BuildValue("(iN)", rc, st);
    }
    {
        PyObject *r = pyw_result_obj(o.res);
        if (!r) { mywire_result_free(o.res); return NULL; }
        return Py_BuildValue("(iN)", rc, r);
    }
}

/* ---------------------------------------------------------- parameters */

static PyObject *pyw_decimal_type(void)
{
    static PyObject *type;
    if (!type) {
        PyObject *m = PyImport_ImportModule("decimal");
        if (!m) return NULL;
        type = PyObject_GetAttrString(m, "Decimal");
        Py_DECREF(m);
    }
    return type;
}

/* Binds v to parameter i. Returns a mywire code, or -1 with a Python
 * exception (TypeError for a value that is not a scalar). */
static int pyw_bind_one(mywire_stmt *st, unsigned i, PyObject *v)
{
    if (v == Py_None) return mywire_stmt_bind_null(st, i);
    if (PyBool_Check(v)) return mywire_stmt_bind_int64(st, i, v == Py_True);
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (!overflow) {
            if (x == -1 && PyErr_Occurred()) return -1;
            return mywire_stmt_bind_int64(st, i, (int64_t)x);
        }
        if (overflow > 0) {
            unsigned long long u = PyLong_AsUnsignedLongLong(v);
            if (!PyErr_Occurred()) return mywire_stmt_bind_uint64(st, i, (uint64_t)u);
            PyErr_Clear();
        }
        {   /* wider than 64 bits: an exact DECIMAL */
            PyObject *s = PyObject_Str(v);
            Py_ssize_t n;
            const char *p;
            int rc;
            if (!s) return -1;
            p = PyUnicode_AsUTF8AndSize(s, &n);
            rc = p ? mywire_stmt_bind_decimal(st, i, p, (size_t)n) : -1;
            Py_DECREF(s);
            return rc;
        }
    }
    if (PyFloat_Check(v)) return mywire_stmt_bind_double(st, i, PyFloat_AS_DOUBLE(v));
    if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(v, &n);
        if (!p) return -1;
        return mywire_stmt_bind_string(st, i, p, (size_t)n);
    }
    if (PyBytes_Check(v))
        return mywire_stmt_bind_bytes(st, i, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
    if (PyByteArray_Check(v))
        return mywire_stmt_bind_bytes(st, i, PyByteArray_AS_STRING(v), (size_t)PyByteArray_GET_SIZE(v));
    if (PyMemoryView_Check(v)) {
        Py_buffer b;
        int rc;
        if (PyObject_GetBuffer(v, &b, PyBUF_CONTIG_RO) < 0) return -1;
        rc = mywire_stmt_bind_bytes(st, i, b.buf, (size_t)b.len);
        PyBuffer_Release(&b);
        return rc;
    }
    if (PyDateTime_Check(v)) {
        mywire_time t;
        memset(&t, 0, sizeof t);
        t.kind = MYWIRE_TIME_KIND_DATETIME;
        t.year = PyDateTime_GET_YEAR(v); t.month = PyDateTime_GET_MONTH(v); t.day = PyDateTime_GET_DAY(v);
        t.hour = PyDateTime_DATE_GET_HOUR(v); t.minute = PyDateTime_DATE_GET_MINUTE(v);
        t.second = PyDateTime_DATE_GET_SECOND(v); t.microsecond = PyDateTime_DATE_GET_MICROSECOND(v);
        return mywire_stmt_bind_time(st, i, &t);
    }
    if (PyDate_Check(v)) {
        mywire_time t;
        memset(&t, 0, sizeof t);
        t.kind = MYWIRE_TIME_KIND_DATE;
        t.year = PyDateTime_GET_YEAR(v); t.month = PyDateTime_GET_MONTH(v); t.day = PyDateTime_GET_DAY(v);
        return mywire_stmt_bind_time(st, i, &t);
    }
    if (PyTime_Check(v)) {
        mywire_time t;
        memset(&t, 0, sizeof t);
        t.kind = MYWIRE_TIME_KIND_TIME;
        t.hour = PyDateTime_TIME_GET_HOUR(v); t.minute = PyDateTime_TIME_GET_MINUTE(v);
        t.second = PyDateTime_TIME_GET_SECOND(v); t.microsecond = PyDateTime_TIME_GET_MICROSECOND(v);
        return mywire_stmt_bind_time(st, i, &t);
    }
    if (PyDelta_Check(v)) {
        /* A TIME of up to 838 hours, negative allowed. */
        long long us = ((long long)PyDateTime_DELTA_GET_DAYS(v) * 86400LL +
                        PyDateTime_DELTA_GET_SECONDS(v)) * 1000000LL +
                       PyDateTime_DELTA_GET_MICROSECONDS(v);
        mywire_time t;
        long long secs, hours;
        memset(&t, 0, sizeof t);
        t.kind = MYWIRE_TIME_KIND_TIME;
        if (us < 0) { t.negative = 1; us = -us; }
        secs = us / 1000000LL;
        hours = secs / 3600;
        if (hours > 838) return MYWIRE_ERROR_ARGUMENT;
        t.hour = (int32_t)hours; t.minute = (int32_t)(secs / 60 % 60); t.second = (int32_t)(secs % 60);
        t.microsecond = (int32_t)(us % 1000000LL);
        return mywire_stmt_bind_time(st, i, &t);
    }
    {
        PyObject *dec = pyw_decimal_type();
        int is_dec;
        if (!dec) return -1;
        is_dec = PyObject_IsInstance(v, dec);
        if (is_dec < 0) return -1;
        if (is_dec) {
            PyObject *s = PyObject_Str(v);
            Py_ssize_t n;
            const char *p;
            int rc;
            if (!s) return -1;
            p = PyUnicode_AsUTF8AndSize(s, &n);
            rc = p ? mywire_stmt_bind_decimal(st, i, p, (size_t)n) : -1;
            Py_DECREF(s);
            return rc;
        }
    }
    PyErr_Format(PyExc_TypeError,
                 "parameter %u: a %.100s cannot be bound (only None, bool, int, float, Decimal, "
                 "str, bytes, datetime, date, time and timedelta can)",
                 i, Py_TYPE(v)->tp_name);
    return -1;
}

/* Binds every value of seq. Returns MYWIRE_OK, a mywire code with *msg set
 * (a str: which parameter and why), or -1 with a Python exception. */
static int pyw_bind_all(mywire_stmt *st, PyObject *seq, PyObject **msg)
{
    PyObject *fast;
    Py_ssize_t n, i;
    unsigned want = mywire_stmt_param_count(st);
    *msg = NULL;
    if (PyUnicode_Check(seq) || PyBytes_Check(seq) || PyDict_Check(seq)) {
        PyErr_SetString(PyExc_TypeError, "parameters must be a sequence (tuple or list) of values");
        return -1;
    }
    fast = PySequence_Fast(seq, "parameters must be a sequence (tuple or list) of values");
    if (!fast) return -1;
    n = PySequence_Fast_GET_SIZE(fast);
    if ((size_t)n != want) {
        *msg = PyUnicode_FromFormat("the statement has %u placeholders but %zd parameters were given",
                                    want, n);
        Py_DECREF(fast);
        return *msg ? MYWIRE_ERROR_ARGUMENT : -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *v = PySequence_Fast_GET_ITEM(fast, i);
        int rc = pyw_bind_one(st, (unsigned)i, v);
        if (rc != MYWIRE_OK) {
            if (rc > 0) {
                *msg = PyUnicode_FromFormat("parameter %zd: %s (%R cannot be sent)", i,
                                            mywire_errstr(rc), v);
                if (!*msg) rc = -1;
            }
            Py_DECREF(fast);
            return rc;
        }
    }
    Py_DECREF(fast);
    return MYWIRE_OK;
}

static PyObject *pyw_bind(PyObject *self, PyObject *args)
{
    PyObject *st_o, *params, *msg;
    mywire_stmt *st;
    int rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO:pyw_bind", &st_o, &params)) return NULL;
    if (pyw_ptr(st_o, (void **)&st, SWIGTYPE_p_mywire_stmt, "statement") < 0) return NULL;
    rc = pyw_bind_all(st, params, &msg);
    if (rc < 0) return NULL;
    if (rc == MYWIRE_OK) Py_RETURN_NONE;
    return Py_BuildValue("(iN)", rc, msg);
}

static PyObject *pyw_execute(PyObject *self, PyObject *args)
{
    PyObject *st_o, *conn_o, *params, *msg = NULL;
    int mode, rc, interrupted = 0;
    pyw_op o;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTuple(args, "OOOi:pyw_execute", &st_o, &conn_o, &params, &mode)) return NULL;
    if (pyw_ptr(st_o, (void **)&o.stmt, SWIGTYPE_p_mywire_stmt, "statement") < 0 ||
        pyw_ptr(conn_o, (void **)&o.conn, SWIGTYPE_p_mywire_conn, "connection") < 0)
        return NULL;
    if (params != Py_None) {
        rc = pyw_bind_all(o.stmt, params, &msg);
        if (rc < 0) return NULL;
        if (rc != MYWIRE_OK) return Py_BuildValue("(iON)", rc, Py_None, msg);
    }
    o.op = PYW_EXECUTE;
    o.mode = mode;
    rc = pyw_drive(&o, 0, &interrupted);
    if (interrupted) { pyw_drain_free(o.conn, o.res); return NULL; }
    {
        PyObject *r = pyw_result_obj(o.res);
        if (!r) { mywire_result_free(o.res); return NULL; }
        return Py_BuildValue("(iNO)", rc, r, Py_None);
    }
}

/* Append each of res's per-row results to the list out as a tuple
 * (affected_rows, insert_id); -1 with a Python exception set on failure. */
static int pyw_append_row_results(mywire_result *res, PyObject *out)
{
    uint64_t k, n = mywire_row_result_count(res);
    for (k = 0; k < n; k++) {
        uint64_t a = 0, id = 0;
        PyObject *t;
        mywire_row_result(res, k, &a, &id);
        t = Py_BuildValue("(KK)", (unsigned long long)a, (unsigned long long)id);
        if (!t || PyList_Append(out, t) < 0) {
            Py_XDECREF(t);
            return -1;
        }
        Py_DECREF(t);
    }
    return 0;
}

/* pyw_row_results(res) -> [(affected_rows, insert_id), ...] */
static PyObject *pyw_row_results(PyObject *self, PyObject *args)
{
    PyObject *res_o, *out;
    mywire_result *res;
    (void)self;
    if (!PyArg_ParseTuple(args, "O:pyw_row_results", &res_o)) return NULL;
    if (pyw_ptr(res_o, (void **)&res, SWIGTYPE_p_mywire_result, "result") < 0) return NULL;
    if (!res) { PyErr_SetString(PyExc_ValueError, "no result"); return NULL; }
    if (!(out = PyList_New(0))) return NULL;
    if (pyw_append_row_results(res, out) < 0) { Py_DECREF(out); return NULL; }
    return out;
}

/* Run the batch collected so far; adds its counts, and with row_results
 * (a list) appends each row's (affected_rows, insert_id). */
static int pyw_run_batch(pyw_op *o, int *interrupted, unsigned long long *affected,
                         unsigned long long *insert_id, int *first, PyObject *row_results)
{
    int rc;
    o->op = PYW_EXECUTE_BATCH;
    o->res = NULL;
    rc = pyw_drive(o, 0, interrupted);
    if (o->res) {
        *affected += mywire_affected_rows(o->res);
        if (*first) { *insert_id = mywire_insert_id(o->res); *first = 0; }
        if (row_results && rc == MYWIRE_OK && pyw_append_row_results(o->res, row_results) < 0)
            rc = -1;  /* a Python exception is set */
        mywire_result_free(o->res);
        o->res = NULL;
    }
    return rc;
}

static PyObject *pyw_execute_batch(PyObject *self, PyObject *args)
{
    PyObject *st_o, *conn_o, *rows, *it, *row, *msg = NULL, *row_results = NULL;
    int rc = MYWIRE_OK, interrupted = 0, first = 1, want_rows = 0;
    unsigned long long affected = 0, insert_id = 0;
    pyw_op o;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTuple(args, "OOO|p:pyw_execute_batch", &st_o, &conn_o, &rows, &want_rows))
        return NULL;
    if (pyw_ptr(st_o, (void **)&o.stmt, SWIGTYPE_p_mywire_stmt, "statement") < 0 ||
        pyw_ptr(conn_o, (void **)&o.conn, SWIGTYPE_p_mywire_conn, "connection") < 0)
        return NULL;
    if (want_rows) {
        /* asked for this call only: the statement (a lease of the cache) is
         * given back with them off, so later batches keep bulk execution */
        row_results = PyList_New(0);
        if (!row_results) return NULL;
        mywire_stmt_set_row_results(o.stmt, 1);
    }
    mywire_stmt_clear_batch(o.stmt);
    it = PyObject_GetIter(rows);
    if (!it) goto fail;
    while ((row = PyIter_Next(it)) != NULL) {
        rc = pyw_bind_all(o.stmt, row, &msg);
        if (rc == MYWIRE_OK) {
            rc = mywire_stmt_add_batch(o.stmt);
            if (rc == MYWIRE_ERROR_ARGUMENT && mywire_stmt_batch_size(o.stmt) > 0) {
                /* A parameter changed its type (say int, then float): the
                 * rows so far go as one batch, a new one starts here. */
                rc = pyw_run_batch(&o, &interrupted, &affected, &insert_id, &first, row_results);
                if (rc == MYWIRE_OK && !interrupted) {
                    mywire_stmt_clear_batch(o.stmt);
                    rc = pyw_bind_all(o.stmt, row, &msg);
                    if (rc == MYWIRE_OK) rc = mywire_stmt_add_batch(o.stmt);
                    if (rc == MYWIRE_ERROR_ARGUMENT && !msg)
                        msg = PyUnicode_FromString("a row of parameters cannot be added to the batch");
                }
            } else if (rc == MYWIRE_ERROR_ARGUMENT) {
                msg = PyUnicode_FromString("a row of parameters cannot be added to the batch");
            }
        }
        Py_DECREF(row);
        if (rc != MYWIRE_OK || interrupted) break;
    }
    Py_DECREF(it);
    if (rc < 0 || PyErr_Occurred() || interrupted) {
        mywire_stmt_clear_batch(o.stmt);
        Py_XDECREF(msg);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "batch failed");
        goto fail;
    }
    if (rc == MYWIRE_OK && mywire_stmt_batch_size(o.stmt) > 0)
        rc = pyw_run_batch(&o, &interrupted, &affected, &insert_id, &first, row_results);
    if (rc < 0 || interrupted) {
        Py_XDECREF(msg);
        goto fail;
    }
    if (rc != MYWIRE_OK) mywire_stmt_clear_batch(o.stmt);
    if (want_rows) mywire_stmt_set_row_results(o.stmt, 0);
    return Py_BuildValue("(iKKNN)", rc, affected, insert_id, msg ? msg : (Py_INCREF(Py_None), Py_None),
                         row_results ? row_results : (Py_INCREF(Py_None), Py_None));
fail:
    if (want_rows) mywire_stmt_set_row_results(o.stmt, 0);
    Py_XDECREF(row_results);
    return NULL;
}

/* ---------------------------------------------------------------- rows */

enum {
    PYW_K_STR, PYW_K_BYTES, PYW_K_INT, PYW_K_UINT, PYW_K_FLOAT, PYW_K_DOUBLE,
    PYW_K_DECIMAL, PYW_K_DATETIME, PYW_K_DATE, PYW_K_TIME, PYW_K_BIT
};

static unsigned char pyw_kind(const mywire_column *c)
{
    if (!c) return PYW_K_BYTES;
    switch (c->type) {
    case MYWIRE_TYPE_TINY: case MYWIRE_TYPE_SHORT: case MYWIRE_TYPE_LONG:
    case MYWIRE_TYPE_LONGLONG: case MYWIRE_TYPE_INT24:
        return (c->flags & MYWIRE_FLAG_UNSIGNED) ? PYW_K_UINT : PYW_K_INT;
    case MYWIRE_TYPE_YEAR: return PYW_K_INT;
    case MYWIRE_TYPE_FLOAT: return PYW_K_FLOAT;
    case MYWIRE_TYPE_DOUBLE: return PYW_K_DOUBLE;
    case MYWIRE_TYPE_DECIMAL: case MYWIRE_TYPE_NEWDECIMAL: return PYW_K_DECIMAL;
    case MYWIRE_TYPE_TIMESTAMP: case MYWIRE_TYPE_DATETIME: return PYW_K_DATETIME;
    case MYWIRE_TYPE_DATE: return PYW_K_DATE;
    case MYWIRE_TYPE_TIME: return PYW_K_TIME;
    case MYWIRE_TYPE_BIT: return PYW_K_BIT;
    case MYWIRE_TYPE_JSON: return PYW_K_STR;
    case MYWIRE_TYPE_GEOMETRY: return PYW_K_BYTES;
    default: return c->charset == 63 ? PYW_K_BYTES : PYW_K_STR;
    }
}

/* Integers of the text protocol: digits with an optional sign. */
static PyObject *pyw_text_int(const char *s, size_t n)
{
    if (n > 0 && n < 19) {
        size_t i = 0;
        int neg = 0;
        long long x = 0;
        if (s[0] == '-') { neg = 1; i = 1; }
        else if (s[0] == '+') i = 1;
        if (i < n) {
            for (; i < n; i++) {
                unsigned d = (unsigned char)s[i] - '0';
                if (d > 9) break;
                x = x * 10 + d;
            }
            if (i == n) return PyLong_FromLongLong(neg ? -x : x);
        }
    }
    return PyLong_FromString(s, NULL, 10);  /* s is NUL-terminated (mywire_value) */
}

static PyObject *pyw_text_double(const char *s)
{
    double d = PyOS_string_to_double(s, NULL, NULL);
    if (d == -1.0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(d);
}

static PyObject *pyw_str(const char *s, size_t n)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, NULL);
}

/* DATETIME / DATE / TIME; None for the zero date and dates Python cannot
 * hold (month or day 0, year 0). */
static PyObject *pyw_time_value(const mywire_result *res, unsigned i, unsigned char kind)
{
    mywire_time t;
    int rc = mywire_get_time(res, i, &t);
    if (rc == MYWIRE_NULL) Py_RETURN_NONE;
    if (rc != MYWIRE_OK) {
        const char *d; size_t n;
        if (mywire_get_bytes(res, i, &d, &n) != MYWIRE_OK) Py_RETURN_NONE;
        return pyw_str(d, n);
    }
    if (kind == PYW_K_TIME) {
        long long secs = (long long)t.day * 86400 + (long long)t.hour * 3600 + t.minute * 60 + t.second;
        int us = t.microsecond;
        if (t.negative) { secs = -secs; us = -us; }
        return PyDelta_FromDSU(0, (int)secs, us);
    }
    if (t.year < 1 || t.month < 1 || t.day < 1) Py_RETURN_NONE;
    {
        PyObject *r = kind == PYW_K_DATE
                          ? PyDate_FromDate(t.year, t.month, t.day)
                          : PyDateTime_FromDateAndTime(t.year, t.month, t.day, t.hour, t.minute,
                                                       t.second, t.microsecond);
        if (!r && PyErr_ExceptionMatches(PyExc_ValueError)) { PyErr_Clear(); Py_RETURN_NONE; }
        return r;
    }
}

static PyObject *pyw_value(const mywire_result *res, unsigned i, unsigned char kind, int binary,
                           const mywire_value *v)
{
    const char *d;
    size_t n;
    switch (kind) {
    case PYW_K_DATETIME: case PYW_K_DATE: case PYW_K_TIME:
        return pyw_time_value(res, i, kind);
    case PYW_K_BIT: {
        uint64_t u;
        int rc = mywire_get_uint64(res, i, &u);
        if (rc == MYWIRE_NULL) Py_RETURN_NONE;
        if (rc == MYWIRE_OK) return PyLong_FromUnsignedLongLong(u);
        break;
    }
    default:
        break;
    }
    if (binary) {
        if (kind == PYW_K_INT) {
            int64_t x;
            int rc = mywire_get_int64(res, i, &x);
            if (rc == MYWIRE_NULL) Py_RETURN_NONE;
            if (rc == MYWIRE_OK) return PyLong_FromLongLong(x);
        } else if (kind == PYW_K_UINT) {
            uint64_t x;
            int rc = mywire_get_uint64(res, i, &x);
            if (rc == MYWIRE_NULL) Py_RETURN_NONE;
            if (rc == MYWIRE_OK) return PyLong_FromUnsignedLongLong(x);
        } else if (kind == PYW_K_DOUBLE) {
            double x;
            int rc = mywire_get_double(res, i, &x);
            if (rc == MYWIRE_NULL) Py_RETURN_NONE;
            if (rc == MYWIRE_OK) return PyFloat_FromDouble(x);
        }
        if (mywire_get_bytes(res, i, &d, &n) != MYWIRE_OK) Py_RETURN_NONE;
    } else {
        d = v[i].data;
        n = v[i].len;
        if (!d) Py_RETURN_NONE;
    }
    switch (kind) {
    case PYW_K_STR: return pyw_str(d, n);
    case PYW_K_INT: case PYW_K_UINT: return pyw_text_int(d, n);
    case PYW_K_FLOAT: case PYW_K_DOUBLE: return pyw_text_double(d);
    case PYW_K_DECIMAL: {
        PyObject *dec = pyw_decimal_type(), *s, *r;
        if (!dec) return NULL;
        s = PyUnicode_DecodeASCII(d, (Py_ssize_t)n, NULL);
        if (!s) return NULL;
        r = PyObject_CallOneArg(dec, s);
        Py_DECREF(s);
        return r;
    }
    default: return PyBytes_FromStringAndSize(d, (Py_ssize_t)n);
    }
}

static PyObject *pyw_row_tuple(const mywire_result *res, unsigned ncols, const unsigned char *kinds,
                               int binary)
{
    const mywire_value *v = binary ? NULL : mywire_row(res);
    PyObject *t;
    unsigned i;
    if (!binary && !v && ncols) { PyErr_SetString(PyExc_RuntimeError, "no current row"); return NULL; }
    t = PyTuple_New((Py_ssize_t)ncols);
    if (!t) return NULL;
    for (i = 0; i < ncols; i++) {
        PyObject *x;
        if (!binary && !v[i].data) { Py_INCREF(Py_None); x = Py_None; }
        else if (!binary && kinds[i] == PYW_K_STR) x = pyw_str(v[i].data, v[i].len);
        else x = pyw_value(res, i, kinds[i], binary, v);
        if (!x) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, x);
    }
    return t;
}

/* pyw_fetch(res, conn, maxrows, nowait, discard): rows until maxrows (< 0:
 * all), the end, an error, or (nowait) a wait. Returns (rc, rows): rc is
 * MYWIRE_ROW when maxrows were read, MYWIRE_DONE at the end, MYWIRE_WAIT_*
 * (nowait), or the error code; rows is a list of tuples, or with discard the
 * number of rows skipped. conn may be None (closed): no waiting then. */
static PyObject *pyw_fetch_rows(mywire_result *res, mywire_conn *conn, Py_ssize_t maxrows,
                                int nowait, int discard, int *rc_out);

static PyObject *pyw_fetch(PyObject *self, PyObject *args)
{
    PyObject *res_o, *conn_o, *got;
    mywire_result *res;
    mywire_conn *conn;
    Py_ssize_t maxrows;
    int nowait, discard, rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOnii:pyw_fetch", &res_o, &conn_o, &maxrows, &nowait, &discard))
        return NULL;
    if (pyw_ptr(res_o, (void **)&res, SWIGTYPE_p_mywire_result, "result") < 0 ||
        pyw_ptr(conn_o, (void **)&conn, SWIGTYPE_p_mywire_conn, "connection") < 0)
        return NULL;
    if (!res) { PyErr_SetString(PyExc_ValueError, "no result"); return NULL; }
    got = pyw_fetch_rows(res, conn, maxrows, nowait, discard, &rc);
    if (!got) return NULL;
    return Py_BuildValue("(iN)", rc, got);
}

/* The rows as a list (discard: their number as an int); *rc_out as
 * pyw_fetch's rc. NULL with a Python exception. */
static PyObject *pyw_fetch_rows(mywire_result *res, mywire_conn *conn, Py_ssize_t maxrows,
                                int nowait, int discard, int *rc_out)
{
    PyObject *list = NULL;
    Py_ssize_t got = 0;
    int rc = maxrows == 0 ? MYWIRE_ROW : MYWIRE_DONE, interrupted = 0, binary;  /* 0: nothing read */
    unsigned ncols, i;
    unsigned char small[64], *kinds = small;
    ncols = mywire_column_count(res);
    binary = mywire_result_is_binary(res);
    if (!discard) {
        if (ncols > sizeof small) {
            kinds = PyMem_Malloc(ncols);
            if (!kinds) return PyErr_NoMemory();
        }
        for (i = 0; i < ncols; i++) kinds[i] = pyw_kind(mywire_column_at(res, i));
        list = PyList_New(0);
        if (!list) goto fail;
    }
    while (interrupted || maxrows < 0 || got < maxrows) {
        rc = mywire_fetch(res);
        if (pyw_is_wait(rc)) {
            if (nowait || !conn) break;
            pyw_wait(conn, rc, &interrupted);
            continue;
        }
        if (rc != MYWIRE_ROW) break;
        got++;
        if (!discard && !interrupted) {
            PyObject *t = pyw_row_tuple(res, ncols, kinds, binary);
            if (!t) goto fail;
            if (PyList_Append(list, t) < 0) { Py_DECREF(t); goto fail; }
            Py_DECREF(t);
        }
    }
    if (pyw_is_wait(rc) && !nowait) rc = MYWIRE_ERROR_STATE;  /* no connection to wait on */
    if (interrupted) goto fail;
    if (kinds != small) PyMem_Free(kinds);
    *rc_out = rc;
    if (discard) return PyLong_FromSsize_t(got);
    return list;
fail:
    if (kinds != small) PyMem_Free(kinds);
    Py_XDECREF(list);
    return NULL;
}

static PyObject *pyw_description_of(mywire_result *res);

/* pyw_load(res, conn, fetch_all[, description]): what a cursor takes from a
 * new result in one call: (rc, rows, description, affected_rows, insert_id,
 * warnings). A description given is the one of the statement's previous
 * result: it is used as it is when the server skipped the column
 * definitions (MariaDB metadata caching: they did not change).
 * Without columns rows and description are None and rc MYWIRE_DONE; with
 * fetch_all the rows are read to the end (rc MYWIRE_DONE or the error),
 * else rows is None and rc MYWIRE_ROW (rows to come). */
static PyObject *pyw_load_result(mywire_result *res, mywire_conn *conn, int fetch_all,
                                 PyObject *hint);

static PyObject *pyw_load(PyObject *self, PyObject *args)
{
    PyObject *res_o, *conn_o, *hint = Py_None;
    mywire_result *res;
    mywire_conn *conn;
    int fetch_all;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOi|O:pyw_load", &res_o, &conn_o, &fetch_all, &hint)) return NULL;
    if (pyw_ptr(res_o, (void **)&res, SWIGTYPE_p_mywire_result, "result") < 0 ||
        pyw_ptr(conn_o, (void **)&conn, SWIGTYPE_p_mywire_conn, "connection") < 0)
        return NULL;
    if (!res) { PyErr_SetString(PyExc_ValueError, "no result"); return NULL; }
    return pyw_load_result(res, conn, fetch_all, hint);
}

/* pyw_execute_load(stmt, conn, params, fetch_all, description): pyw_execute
 * and pyw_load in one call, for the point queries: (rc, result, message,
 * rows, description, affected_rows, insert_id, warnings). result None: the
 * execute failed with rc (message set for a parameter that cannot be
 * sent); else rc is pyw_load's. */
static PyObject *pyw_execute_load(PyObject *self, PyObject *args)
{
    PyObject *st_o, *conn_o, *params, *hint, *msg = NULL, *loaded, *r, *out;
    int fetch_all, rc, interrupted = 0;
    pyw_op o;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTuple(args, "OOOiO:pyw_execute_load", &st_o, &conn_o, &params, &fetch_all,
                          &hint))
        return NULL;
    if (pyw_ptr(st_o, (void **)&o.stmt, SWIGTYPE_p_mywire_stmt, "statement") < 0 ||
        pyw_ptr(conn_o, (void **)&o.conn, SWIGTYPE_p_mywire_conn, "connection") < 0)
        return NULL;
    if (params != Py_None) {
        rc = pyw_bind_all(o.stmt, params, &msg);
        if (rc < 0) return NULL;
        if (rc != MYWIRE_OK)
            return Py_BuildValue("(iONOOiii)", rc, Py_None, msg, Py_None, Py_None, 0, 0, 0);
    }
    o.op = PYW_EXECUTE;
    o.mode = MYWIRE_STREAMING;
    rc = pyw_drive(&o, 0, &interrupted);
    if (interrupted) { pyw_drain_free(o.conn, o.res); return NULL; }
    if (rc != MYWIRE_OK || !o.res)
        return Py_BuildValue("(iOOOOiii)", rc, Py_None, Py_None, Py_None, Py_None, 0, 0, 0);
    loaded = pyw_load_result(o.res, o.conn, fetch_all, hint);
    if (!loaded) { pyw_drain_free(o.conn, o.res); return NULL; }  /* say, a value not UTF-8 */
    r = pyw_result_obj(o.res);
    if (!r) { Py_DECREF(loaded); mywire_result_free(o.res); return NULL; }
    out = Py_BuildValue("(ONOOOOOO)", PyTuple_GET_ITEM(loaded, 0), r, Py_None,
                        PyTuple_GET_ITEM(loaded, 1), PyTuple_GET_ITEM(loaded, 2),
                        PyTuple_GET_ITEM(loaded, 3), PyTuple_GET_ITEM(loaded, 4),
                        PyTuple_GET_ITEM(loaded, 5));
    Py_DECREF(loaded);
    return out;
}

static PyObject *pyw_load_result(mywire_result *res, mywire_conn *conn, int fetch_all,
                                 PyObject *hint)
{
    PyObject *desc, *rows = Py_None;
    int rc = MYWIRE_ROW;
    if (mywire_column_count(res) == 0)
        return Py_BuildValue("(iOOKKI)", MYWIRE_DONE, Py_None, Py_None,
                             (unsigned long long)mywire_affected_rows(res),
                             (unsigned long long)mywire_insert_id(res), mywire_warning_count(res));
    if (hint != Py_None && PyTuple_Check(hint) &&
        PyTuple_GET_SIZE(hint) == (Py_ssize_t)mywire_column_count(res) &&
        mywire_result_metadata_cached(res)) {
        Py_INCREF(hint);
        desc = hint;
    } else {
        desc = pyw_description_of(res);
    }
    if (!desc) return NULL;
    if (fetch_all) {
        rows = pyw_fetch_rows(res, conn, -1, 0, 0, &rc);
        if (!rows) { Py_DECREF(desc); return NULL; }
    } else {
        Py_INCREF(rows);
    }
    return Py_BuildValue("(iNNKKI)", rc, rows, desc, 0ULL, 0ULL, mywire_warning_count(res));
}

static PyObject *pyw_name(const char *s, size_t n)
{
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)n : 0, "surrogateescape");
}

/* PEP 249 description: (name, type_code, display_size, internal_size,
 * precision, scale, null_ok) per column; None without columns. */
static PyObject *pyw_description(PyObject *self, PyObject *args)
{
    PyObject *res_o;
    mywire_result *res;
    (void)self;
    if (!PyArg_ParseTuple(args, "O:pyw_description", &res_o)) return NULL;
    if (pyw_ptr(res_o, (void **)&res, SWIGTYPE_p_mywire_result, "result") < 0) return NULL;
    return pyw_description_of(res);
}

static PyObject *pyw_description_of(mywire_result *res)
{
    PyObject *t;
    unsigned n, i;
    n = res ? mywire_column_count(res) : 0;
    if (n == 0) Py_RETURN_NONE;
    t = PyTuple_New(n);
    if (!t) return NULL;
    for (i = 0; i < n; i++) {
        const mywire_column *c = mywire_column_at(res, i);
        PyObject *d;
        if (!c) { Py_DECREF(t); PyErr_SetString(PyExc_RuntimeError, "no column"); return NULL; }
        d = Py_BuildValue("(NIOkkIO)", pyw_name(c->name, c->name_len), c->type, Py_None,
                          (unsigned long)c->length, (unsigned long)c->length, c->decimals,
                          (c->flags & MYWIRE_FLAG_NOT_NULL) ? Py_False : Py_True);
        if (!d) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, i, d);
    }
    return t;
}

/* ---------------------------------------------------------- placeholders */

/* pyw_format(sql, no_backslash_escapes): the format / pyformat placeholders
 * (%s, %(name)s) become '?', "%%" becomes '%'. String literals ('...',
 * "..."), quoted names (`...`) and comments (#, "-- ", / * * /) are copied as
 * they are (but "%%"), as the server's lexer sees them; the inside of an
 * executable comment (/ *! ... * /, / *M! ... * /) is SQL and is scanned. A
 * '?' outside literals and comments would be a placeholder the caller did
 * not mean: ValueError, as are a lone '%', mixing %s and %(name)s, and an
 * unterminated literal or comment. Returns (bytes, names or None, count). */
static PyObject *pyw_format(PyObject *self, PyObject *args)
{
    PyObject *sql_o, *out = NULL, *names = NULL;
    const char *s;
    size_t n, i = 0;
    char *w, *w0;
    int nbe, in_exec = 0;
    Py_ssize_t count = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi:pyw_format", &sql_o, &nbe)) return NULL;
    if (pyw_buffer(sql_o, &s, &n) < 0) return NULL;
    if (!s) { PyErr_SetString(PyExc_TypeError, "expected bytes or str"); return NULL; }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!out) return NULL;
    w = w0 = PyBytes_AS_STRING(out);
#define PYW_FAIL(msg) do { PyErr_SetString(PyExc_ValueError, msg); goto fail; } while (0)
    while (i < n) {
        char c = s[i];
        if (c == '\'' || c == '"' || c == '`') {
            char q = c;
            *w++ = s[i++];
            for (;;) {
                if (i >= n) PYW_FAIL("an unterminated quoted string or name");
                if (s[i] == '\\' && q != '`' && !nbe) {
                    *w++ = s[i++];
                    if (i < n) *w++ = s[i++];
                    continue;
                }
                if (s[i] == '%' && i + 1 < n && s[i + 1] == '%') { *w++ = '%'; i += 2; continue; }
                if (s[i] == q) {
                    *w++ = s[i++];
                    if (i < n && s[i] == q) { *w++ = s[i++]; continue; }  /* doubled quote */
                    break;
                }
                *w++ = s[i++];
            }
        } else if (c == '#' || (c == '-' && i + 1 < n && s[i + 1] == '-' &&
                                (i + 2 >= n || (unsigned char)s[i + 2] <= ' '))) {
            while (i < n && s[i] != '\n') *w++ = s[i++];
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            if ((i + 2 < n && s[i + 2] == '!') || (i + 3 < n && s[i + 2] == 'M' && s[i + 3] == '!')) {
                *w++ = s[i++]; *w++ = s[i++];  /* executable: its inside is SQL */
                in_exec = 1;
                continue;
            }
            *w++ = s[i++]; *w++ = s[i++];
            for (;;) {
                if (i + 1 >= n) PYW_FAIL("an unterminated comment");
                if (s[i] == '*' && s[i + 1] == '/') { *w++ = s[i++]; *w++ = s[i++]; break; }
                *w++ = s[i++];
            }
        } else if (c == '*' && in_exec && i + 1 < n && s[i + 1] == '/') {
            *w++ = s[i++]; *w++ = s[i++];
            in_exec = 0;
        } else if (c == '%') {
            if (i + 1 < n && s[i + 1] == '%') { *w++ = '%'; i += 2; }
            else if (i + 1 < n && s[i + 1] == 's') {
                if (names) PYW_FAIL("%s and %(name)s placeholders cannot be mixed");
                *w++ = '?'; i += 2; count++;
            } else if (i + 1 < n && s[i + 1] == '(') {
                size_t j = i + 2;
                PyObject *name;
                while (j < n && s[j] != ')') j++;
                if (j + 1 >= n || s[j + 1] != 's') PYW_FAIL("a %(name) placeholder must end with )s");
                if (count && !names) PYW_FAIL("%s and %(name)s placeholders cannot be mixed");
                if (!names && !(names = PyList_New(0))) goto fail;
                name = PyUnicode_DecodeUTF8(s + i + 2, (Py_ssize_t)(j - i - 2), NULL);
                if (!name) goto fail;
                if (PyList_Append(names, name) < 0) { Py_DECREF(name); goto fail; }
                Py_DECREF(name);
                *w++ = '?'; i = j + 2; count++;
            } else {
                PYW_FAIL("a '%' must be %s, %(name)s or %% in a query with parameters");
            }
        } else if (c == '?') {
            PYW_FAIL("a '?' outside a string literal or comment would be a placeholder; with "
                     "parameters, write it in a literal or use %s");
        } else {
            *w++ = s[i++];
        }
    }
#undef PYW_FAIL
    if (_PyBytes_Resize(&out, (Py_ssize_t)(w - w0)) < 0) { Py_XDECREF(names); return NULL; }
    if (names) {
        PyObject *t = PyList_AsTuple(names);
        Py_DECREF(names);
        if (!t) { Py_DECREF(out); return NULL; }
        return Py_BuildValue("(NNn)", out, t, count);
    }
    return Py_BuildValue("(NOn)", out, Py_None, count);
fail:
    Py_XDECREF(out);
    Py_XDECREF(names);
    return NULL;
}

/* -------------------------------------------------------- the rest */

static PyObject *pyw_escape(PyObject *self, PyObject *args)
{
    PyObject *conn_o, *data_o, *out;
    mywire_conn *conn;
    const char *p;
    size_t n, got = 0;
    int rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO:pyw_escape", &conn_o, &data_o)) return NULL;
    if (pyw_ptr(conn_o, (void **)&conn, SWIGTYPE_p_mywire_conn, "connection") < 0 ||
        pyw_buffer(data_o, &p, &n) < 0)
        return NULL;
    if (n > (PY_SSIZE_T_MAX - 1) / 2) return PyErr_NoMemory();
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(2 * n + 1));
    if (!out) return NULL;
    rc = mywire_escape_string(conn, p, n, PyBytes_AS_STRING(out), 2 * n + 1, &got);
    if (rc != MYWIRE_OK) { Py_DECREF(out); return Py_BuildValue("(iO)", rc, Py_None); }
    if (_PyBytes_Resize(&out, (Py_ssize_t)got) < 0) return NULL;
    return Py_BuildValue("(iN)", rc, out);
}

static PyObject *pyw_cancel(PyObject *self, PyObject *args)
{
    PyObject *conn_o;
    mywire_conn *conn;
    int rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "O:pyw_cancel", &conn_o)) return NULL;
    if (pyw_ptr(conn_o, (void **)&conn, SWIGTYPE_p_mywire_conn, "connection") < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = mywire_cancel(conn);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(rc);
}
%}

%native(pyw_call) PyObject *pyw_call(PyObject *self, PyObject *args);
%native(pyw_bind) PyObject *pyw_bind(PyObject *self, PyObject *args);
%native(pyw_execute) PyObject *pyw_execute(PyObject *self, PyObject *args);
%native(pyw_execute_batch) PyObject *pyw_execute_batch(PyObject *self, PyObject *args);
%native(pyw_row_results) PyObject *pyw_row_results(PyObject *self, PyObject *args);
%native(pyw_fetch) PyObject *pyw_fetch(PyObject *self, PyObject *args);
%native(pyw_execute_load) PyObject *pyw_execute_load(PyObject *self, PyObject *args);
%native(pyw_load) PyObject *pyw_load(PyObject *self, PyObject *args);
%native(pyw_description) PyObject *pyw_description(PyObject *self, PyObject *args);
%native(pyw_format) PyObject *pyw_format(PyObject *self, PyObject *args);
%native(pyw_escape) PyObject *pyw_escape(PyObject *self, PyObject *args);
%native(pyw_cancel) PyObject *pyw_cancel(PyObject *self, PyObject *args);

%constant int PYW_CONNECT = 1;
%constant int PYW_PING = 2;
%constant int PYW_SELECT_DB = 3;
%constant int PYW_RESET = 4;
%constant int PYW_QUERY = 5;
%constant int PYW_NEXT_RESULT = 6;
%constant int PYW_PREPARE = 7;
%constant int PYW_PREPARE_CLIENT = 8;
%constant int PYW_EXECUTE = 9;
%constant int PYW_EXECUTE_BATCH = 10;
%constant int PYW_STMT_RESET = 11;
%constant int PYW_STMT_CACHED = 12;
