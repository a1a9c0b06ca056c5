"""Column arrays (mywire_stmt_bind_array + mywire_stmt_execute_array) against
the scripted server: the exact COM_STMT_BULK_EXECUTE a MariaDB gets (types
once, per row an indicator and the value, requests split at half of
max_allowed_packet), what a failing later request reports, and a server
without bulk execution (MySQL): one COM_STMT_EXECUTE per row through the same
values, DEFAULT / IGNORE refused before anything is sent.

    /usr/bin/python3 test_bulk.py --lib build/capi/libmywire.so.1
"""

import ctypes
import struct

from scripted_common import ScriptedTest, m, main

INSERT = b"INSERT INTO t VALUES (?, ?)"


def le(v, n):
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")


class Arrays:
    """ctypes arrays kept alive for the call: ids (int64), names (strings
    with lengths), the names' indicators."""

    def __init__(self, ids, names, name_ind=None):
        n = len(ids)
        self.n = n
        self.ids = (ctypes.c_int64 * n)(*ids)
        self.bufs = [ctypes.create_string_buffer(s) if s is not None else None for s in names]
        self.names = (ctypes.c_void_p * n)(*[ctypes.addressof(b) if b is not None else None
                                             for b in self.bufs])
        self.lens = (ctypes.c_size_t * n)(*[len(s) if s is not None else 0 for s in names])
        self.ind = (ctypes.c_uint8 * n)(*name_ind) if name_ind else None

    def bind(self, test, st):
        L = m.lib()
        test.assertEqual(L.mywire_stmt_bind_array(st, 0, m.MYWIRE_ARRAY_INT64, self.ids, 0, None, None),
                         m.MYWIRE_OK)
        test.assertEqual(L.mywire_stmt_bind_array(st, 1, m.MYWIRE_ARRAY_STRING, self.names, 0, self.lens,
                                                  self.ind), m.MYWIRE_OK)


class Base(ScriptedTest):
    def connect(self, **scenario):
        opts = scenario.pop("opts", {})
        scenario.setdefault("tls", False)
        srv = self.serve(**scenario)
        conn = self.client(srv, "plain", **opts)
        self.assertConnects(conn)
        return srv, conn

    def commands(self, rec):
        return [p for p in rec.client_packets("command") if p != b"\x01"]

    def stmt(self, conn, sql=INSERT):
        st = ctypes.c_void_p()
        self.assertEqual(m.lib().mywire_stmt_new(conn.h, ctypes.byref(st)), m.MYWIRE_OK)
        self.addCleanup(m.lib().mywire_stmt_free, st)
        self.assertEqual(m.lib().mywire_stmt_prepare(st, sql, len(sql)), m.MYWIRE_OK, conn.errmsg)
        return st

    def run_array(self, conn, st, rows, expect=m.MYWIRE_OK):
        res = ctypes.c_void_p()
        rc = m.lib().mywire_stmt_execute_array(st, rows, ctypes.byref(res))
        self.assertEqual(rc, expect, conn.errmsg)
        if rc != m.MYWIRE_OK:
            self.assertFalse(res)
            return None
        out = (m.lib().mywire_affected_rows(res), m.lib().mywire_insert_id(res))
        m.lib().mywire_result_free(res)
        return out


class MariaDB(Base):
    def test_one_request_byte_exact(self):
        srv, conn = self.connect(flavor="mariadb10")
        st = self.stmt(conn)
        a = Arrays([1, -2, 3], [b"ab", None, b""], [0, 0, m.MYWIRE_IND_DEFAULT])
        a.bind(self, st)
        self.assertEqual(self.run_array(conn, st, 3), (3, 10))
        rec = self.finish(srv, conn)
        bulk = self.commands(rec)[-1]
        self.assertEqual(bulk, b"\xfa" + le(1, 4) + le(128, 2) + b"\x08\x00\xfe\x00" +
                         b"\x00" + le(1, 8) + b"\x00\x02ab" +
                         b"\x00" + le(-2, 8) + b"\x01" +
                         b"\x00" + le(3, 8) + b"\x02")
        self.assertEqual(len(rec.bulks), 1)

    def test_requests_split_at_half_max_allowed_packet(self):
        # 2000 rows of 1 + 8 + 1 + 1 + 20 = 31 bytes; requests of at most
        # 8 KiB of rows: 264 rows each.
        srv, conn = self.connect(flavor="mariadb10", opts={"max_allowed_packet": 16384})
        st = self.stmt(conn)
        names = [b"%020d" % k for k in range(2000)]
        a = Arrays(list(range(2000)), names)
        a.bind(self, st)
        self.assertEqual(self.run_array(conn, st, 2000), (2000, 10))
        rec = self.finish(srv, conn)
        sizes = [len(b["rows"]) for b in rec.bulks]
        self.assertEqual(sizes, [264] * 7 + [2000 - 7 * 264])
        rows = [r for b in rec.bulks for r in b["rows"]]
        self.assertEqual(rows, [[(0, le(k, 8)), (0, names[k])] for k in range(2000)])
        for b in rec.bulks:
            self.assertEqual(b["types"], [(8, False), (254, False)])

    def test_failure_in_a_later_request(self):
        srv, conn = self.connect(flavor="mariadb10", opts={"max_allowed_packet": 16384},
                                 fault="bulk_error", fault_arg=3)
        st = self.stmt(conn)
        a = Arrays(list(range(2000)), [b"%020d" % k for k in range(2000)])
        a.bind(self, st)
        self.run_array(conn, st, 2000, expect=m.MYWIRE_ERROR_SERVER)
        self.assertEqual(conn.errno, 1062)
        self.assertIn("rows up to 792 of 2000; the earlier ones were applied", conn.errmsg)
        # The connection goes on: the next execution starts from row 0.
        self.assertEqual(self.run_array(conn, st, 1), (1, 40))
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.bulks), 4)
        self.assertEqual(rec.bulks[3]["rows"], [[(0, le(0, 8)), (0, b"%020d" % 0)]])


class WithoutBulk(Base):
    def test_one_execute_per_row(self):
        srv, conn = self.connect(flavor="mysql57")
        st = self.stmt(conn)
        a = Arrays([7, 8, 9], [b"x", None, b"yz"])
        a.bind(self, st)
        self.assertEqual(self.run_array(conn, st, 3), (0, 0))
        rec = self.finish(srv, conn)
        head = b"\x17" + le(1, 4) + b"\x00" + le(1, 4)
        self.assertEqual(self.commands(rec)[1:], [
            head + b"\x00\x01\x08\x00\xfe\x00" + le(7, 8) + b"\x01x",
            head + b"\x02\x01\x08\x00\x06\x00" + le(8, 8),
            head + b"\x00\x01\x08\x00\xfe\x00" + le(9, 8) + b"\x02yz",
        ])
        self.assertEqual(rec.bulks, [])

    def test_types_once_while_they_stay(self):
        # New-params-bound: a row with the types of the row before sends
        # none; a NULL (type NULL) changes them, and the row after sends its own.
        srv, conn = self.connect(flavor="mysql57")
        st = self.stmt(conn)
        a = Arrays([1, 2, 3, 4], [b"a", b"bc", None, b"d"])
        a.bind(self, st)
        self.assertEqual(self.run_array(conn, st, 4), (0, 0))
        # The statement's next plain execute, with the last row's types, sends none either.
        lib = m.lib()
        self.assertEqual(lib.mywire_stmt_clear_bindings(st), m.MYWIRE_OK)
        self.assertEqual(lib.mywire_stmt_bind_int64(st, 0, 5), m.MYWIRE_OK)
        self.assertEqual(lib.mywire_stmt_bind_string(st, 1, b"e", 1), m.MYWIRE_OK)
        res = ctypes.c_void_p()
        self.assertEqual(lib.mywire_stmt_execute(st, m.MYWIRE_BUFFERED, ctypes.byref(res)), m.MYWIRE_OK)
        lib.mywire_result_free(res)
        rec = self.finish(srv, conn)
        head = b"\x17" + le(1, 4) + b"\x00" + le(1, 4)
        self.assertEqual(self.commands(rec)[1:], [
            head + b"\x00\x01\x08\x00\xfe\x00" + le(1, 8) + b"\x01a",
            head + b"\x00\x00" + le(2, 8) + b"\x02bc",
            head + b"\x02\x01\x08\x00\x06\x00" + le(3, 8),
            head + b"\x00\x01\x08\x00\xfe\x00" + le(4, 8) + b"\x01d",
            head + b"\x00\x00" + le(5, 8) + b"\x01e",
        ])

    def test_default_and_ignore_refused_before_sending(self):
        srv, conn = self.connect(flavor="mysql80")
        st = self.stmt(conn)
        for ind in (m.MYWIRE_IND_DEFAULT, m.MYWIRE_IND_IGNORE):
            a = Arrays([1, 2], [b"a", b"b"], [0, ind])
            a.bind(self, st)
            self.run_array(conn, st, 2, expect=m.MYWIRE_ERROR_ARGUMENT)
            self.assertIn("parameter 1, row 1: DEFAULT or IGNORE", conn.errmsg)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.executes, [])


if __name__ == "__main__":
    main()
