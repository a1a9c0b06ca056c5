"""libmywire through ctypes, for the scripted-server tests.

The library path comes from the command line (`--lib PATH`, given by meson:
the libmywire target) or the MYWIRE_LIB environment variable. Constants are
those of capi/mywire.h, read from capi/mywire_constants.json.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

# The constants come from capi/mywire_constants.json (generated from
# capi/mywire.h and core/proto/errc.def; tests/abi checks it), not retyped.
CONSTANTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "capi",
                              "mywire_constants.json")
with open(CONSTANTS_FILE) as _f:
    CONSTANTS = json.load(_f)
for _values in CONSTANTS["enums"].values():
    globals().update(_values)
# The result codes (MYWIRE_OK, MYWIRE_ERROR_*, MYWIRE_ROW, ...) by number.
CODE_NAMES = {v: k for k, v in CONSTANTS["enums"]["mywire_code"].items()}

DIALOG_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                             ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)


class Value(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_char)), ("len", ctypes.c_size_t)]


def library_path(argv=None):
    """Take `--lib PATH` out of argv (so unittest does not see it)."""
    argv = sys.argv if argv is None else argv
    if "--lib" in argv:
        i = argv.index("--lib")
        path = argv[i + 1]
        del argv[i:i + 2]
        return path
    path = os.environ.get("MYWIRE_LIB")
    if not path:
        raise SystemExit("usage: test_*.py --lib /path/to/libmywire.so.1 [unittest args]")
    return path


_lib = None


def load(path):
    global _lib
    lib = ctypes.CDLL(path)
    P = ctypes.c_void_p
    S = ctypes.c_char_p
    I = ctypes.c_int
    U = ctypes.c_uint
    sig = {
        "mywire_conn_new": (I, [ctypes.POINTER(P)]),
        "mywire_conn_free": (None, [P]),
        "mywire_set_host": (I, [P, S]),
        "mywire_set_port": (I, [P, U]),
        "mywire_set_unix_socket": (I, [P, S]),
        "mywire_set_user": (I, [P, S]),
        "mywire_set_password": (I, [P, S]),
        "mywire_set_database": (I, [P, S]),
        "mywire_set_connect_timeout": (I, [P, U]),
        "mywire_set_read_timeout": (I, [P, U]),
        "mywire_set_write_timeout": (I, [P, U]),
        "mywire_set_max_allowed_packet": (I, [P, ctypes.c_uint64]),
        "mywire_set_option": (I, [P, S, S]),
        "mywire_set_ssl_mode": (I, [P, I]),
        "mywire_set_compression": (I, [P, I]),
        "mywire_set_dialog_callback": (I, [P, DIALOG_FN, P]),
        "mywire_connect": (I, [P]),
        "mywire_close": (None, [P]),
        "mywire_errcode": (I, [P]),
        "mywire_errno": (U, [P]),
        "mywire_sqlstate": (S, [P]),
        "mywire_errmsg": (S, [P]),
        "mywire_server_version": (S, [P]),
        "mywire_thread_id": (ctypes.c_ulong, [P]),
        "mywire_auth_plugin": (S, [P]),
        "mywire_is_mariadb": (I, [P]),
        "mywire_transport": (S, [P]),
        "mywire_tls_active": (I, [P]),
        "mywire_tls_version": (S, [P]),
        "mywire_tls_cipher": (S, [P]),
        "mywire_tls_verified": (I, [P]),
        "mywire_tls_failure": (I, [P]),
        "mywire_compression": (S, [P]),
        "mywire_ping": (I, [P]),
        "mywire_query": (I, [P, S, ctypes.c_size_t, I, ctypes.POINTER(P)]),
        "mywire_result_free": (None, [P]),
        "mywire_column_count": (U, [P]),
        "mywire_fetch": (I, [P]),
        "mywire_row": (ctypes.POINTER(Value), [P]),
        "mywire_is_fatal": (I, [I]),
        "mywire_is_connected": (I, [P]),
        "mywire_connection_id": (ctypes.c_uint64, [P]),
        "mywire_client_error": (I, [P]),
        "mywire_error_sent": (I, [P]),
        # prepared statements and query attributes
        "mywire_stmt_new": (I, [P, ctypes.POINTER(P)]),
        "mywire_stmt_free": (None, [P]),
        "mywire_stmt_prepare": (I, [P, S, ctypes.c_size_t]),
        "mywire_stmt_prepare_client": (I, [P, S, ctypes.c_size_t]),
        "mywire_stmt_bind_int64": (I, [P, U, ctypes.c_int64]),
        "mywire_stmt_bind_string": (I, [P, U, S, ctypes.c_size_t]),
        "mywire_stmt_bind_null": (I, [P, U]),
        "mywire_stmt_clear_bindings": (I, [P]),
        "mywire_stmt_execute": (I, [P, I, ctypes.POINTER(P)]),
        "mywire_stmt_add_batch": (I, [P]),
        "mywire_stmt_execute_batch": (I, [P, ctypes.POINTER(P)]),
        "mywire_stmt_bind_default": (I, [P, U]),
        "mywire_stmt_batch_size": (ctypes.c_uint64, [P]),
        "mywire_stmt_clear_batch": (I, [P]),
        "mywire_stmt_bind_array": (I, [P, U, I, P, ctypes.c_size_t, P, P]),
        "mywire_stmt_execute_array": (I, [P, ctypes.c_uint64, ctypes.POINTER(P)]),
        "mywire_stmt_set_row_results": (I, [P, I]),
        "mywire_row_result_count": (ctypes.c_uint64, [P]),
        "mywire_row_result": (I, [P, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64),
                                  ctypes.POINTER(ctypes.c_uint64)]),
        "mywire_affected_rows": (ctypes.c_uint64, [P]),
        "mywire_insert_id": (ctypes.c_uint64, [P]),
        "mywire_reset_connection": (I, [P]),
        "mywire_pipeline_new": (I, [ctypes.POINTER(P)]),
        "mywire_pipeline_free": (None, [P]),
        "mywire_pipeline_add_query": (I, [P, S, ctypes.c_size_t]),
        "mywire_pipeline_run": (I, [P, P]),
        "mywire_pipeline_step_code": (I, [P, ctypes.c_size_t]),
        "mywire_query_attributes_supported": (I, [P]),
        "mywire_query_attr_null": (I, [P, S]),
        "mywire_query_attr_int64": (I, [P, S, ctypes.c_int64]),
        "mywire_query_attr_uint64": (I, [P, S, ctypes.c_uint64]),
        "mywire_query_attr_double": (I, [P, S, ctypes.c_double]),
        "mywire_query_attr_string": (I, [P, S, S, ctypes.c_size_t]),
        "mywire_query_attr_bytes": (I, [P, S, ctypes.c_char_p, ctypes.c_size_t]),
        "mywire_query_attr_time": (I, [P, S, P]),
        "mywire_query_attr_clear": (I, [P]),
        "mywire_query_attr_count": (U, [P]),
    }
    missing = []
    for name, (res, args) in sig.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = res
        fn.argtypes = args
    lib.missing = missing
    _lib = lib
    return lib


def lib():
    if _lib is None:
        raise RuntimeError("mywire_ctypes.load() was not called")
    return _lib


class MywireError(Exception):
    def __init__(self, code, errno, message, where):
        super().__init__(f"{where}: {CODE_NAMES.get(code, code)} ({code}) errno {errno}: {message}")
        self.code = code
        self.errno = errno
        self.message = message


def _s(v):
    return v.decode(errors="replace") if v is not None else None


class Conn:
    """One mywire connection handle. Options are set by name with
    mywire_set_option (the same keys as the URI)."""

    def __init__(self):
        self.h = ctypes.c_void_p()
        rc = lib().mywire_conn_new(ctypes.byref(self.h))
        if rc != MYWIRE_OK:
            raise RuntimeError(f"mywire_conn_new: {rc}")
        self._dialog_ref = None  # keeps the ctypes callback alive

    def free(self):
        if self.h:
            lib().mywire_conn_free(self.h)
            self.h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()
        return False

    def set(self, key, value):
        rc = lib().mywire_set_option(self.h, key.encode(), str(value).encode())
        if rc != MYWIRE_OK:
            raise MywireError(rc, self.errno, self.errmsg, f"set_option({key})")
        return self

    def options(self, **opts):
        for k, v in opts.items():
            if v is not None:
                self.set(k, v)
        return self

    def set_dialog(self, fn):
        """fn(echo: int, prompt: str) -> str, or None to abort."""
        def cb(_user, echo, prompt, answer, size):
            got = fn(echo, _s(prompt))
            if got is None:
                return 1
            data = got.encode()
            if len(data) + 1 > size:
                return 1
            ctypes.memmove(answer, data + b"\0", len(data) + 1)
            return 0
        self._dialog_ref = DIALOG_FN(cb)
        rc = lib().mywire_set_dialog_callback(self.h, self._dialog_ref, None)
        if rc != MYWIRE_OK:
            raise MywireError(rc, self.errno, self.errmsg, "set_dialog_callback")

    def connect(self):
        """The result code of mywire_connect (no exception: tests assert it)."""
        return lib().mywire_connect(self.h)

    def close(self):
        lib().mywire_close(self.h)

    # -- status
    @property
    def errcode(self):
        return lib().mywire_errcode(self.h)

    @property
    def errno(self):
        return lib().mywire_errno(self.h)

    @property
    def errmsg(self):
        return _s(lib().mywire_errmsg(self.h))

    @property
    def sqlstate(self):
        return _s(lib().mywire_sqlstate(self.h))

    def status(self):
        L = lib()
        return {
            "server_version": _s(L.mywire_server_version(self.h)),
            "is_mariadb": L.mywire_is_mariadb(self.h),
            "auth_plugin": _s(L.mywire_auth_plugin(self.h)),
            "transport": _s(L.mywire_transport(self.h)),
            "tls_active": L.mywire_tls_active(self.h),
            "tls_version": _s(L.mywire_tls_version(self.h)),
            "tls_cipher": _s(L.mywire_tls_cipher(self.h)),
            "tls_verified": L.mywire_tls_verified(self.h),
            "tls_failure": L.mywire_tls_failure(self.h),
            "compression": _s(L.mywire_compression(self.h)),
            "thread_id": L.mywire_thread_id(self.h),
        }

    def error(self):
        return (self.errcode, self.errno, self.errmsg)

    # -- commands
    def ping(self):
        return lib().mywire_ping(self.h)

    def query(self, sql, mode=MYWIRE_BUFFERED):
        """Rows as lists of bytes/None; raises MywireError on failure."""
        L = lib()
        res = ctypes.c_void_p()
        data = sql.encode() if isinstance(sql, str) else sql
        rc = L.mywire_query(self.h, data, len(data), mode, ctypes.byref(res))
        if rc != MYWIRE_OK:
            raise MywireError(rc, self.errno, self.errmsg, f"query({sql[:40]!r})")
        try:
            n = L.mywire_column_count(res)
            out = []
            while True:
                rc = L.mywire_fetch(res)
                if rc == MYWIRE_DONE:
                    break
                if rc != MYWIRE_ROW:
                    raise MywireError(rc, self.errno, self.errmsg, "fetch")
                row = L.mywire_row(res)
                vals = []
                for i in range(n):
                    v = row[i]
                    vals.append(None if not v.data else ctypes.string_at(v.data, v.len))
                out.append(vals)
            return out
        finally:
            L.mywire_result_free(res)
