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


def row_results(res):
    """[(affected rows, insert id)] of a batch's result."""
    L = m.lib()
    out = []
    for k in range(L.mywire_row_result_count(res)):
        a, i = ctypes.c_uint64(), ctypes.c_uint64()
        assert L.mywire_row_result(res, k, ctypes.byref(a), ctypes.byref(i)) == m.MYWIRE_OK
        out.append((a.value, i.value))
    return out


class RowResults(Base):
    """mywire_stmt_set_row_results: per-row results, from MariaDB 11.5's bulk
    unit results, else from one COM_STMT_EXECUTE per row."""

    def run_rows(self, conn, st, rows, expect=m.MYWIRE_OK):
        res = ctypes.c_void_p()
        rc = m.lib().mywire_stmt_execute_array(st, rows, ctypes.byref(res))
        self.assertEqual(rc, expect, conn.errmsg)
        if rc != m.MYWIRE_OK:
            return None
        self.addCleanup(m.lib().mywire_result_free, res)
        return res

    def test_capability_asked_and_flag_sent(self):
        # The handshake asks for MARIADB_CLIENT_BULK_UNIT_RESULTS (bit 37:
        # bit 5 of the extended capabilities), and a request of a statement
        # that wants row results carries SEND_UNIT_RESULTS (64) with the types (128).
        srv, conn = self.connect(flavor="mariadb11", opts={"max_allowed_packet": 16384})
        st = self.stmt(conn)
        L = m.lib()
        self.assertEqual(L.mywire_stmt_set_row_results(st, 1), m.MYWIRE_OK)
        names = [b"%020d" % k for k in range(600)]
        a = Arrays(list(range(600)), names, [0] * 599 + [m.MYWIRE_IND_DEFAULT])
        a.bind(self, st)
        res = self.run_rows(conn, st, 600)
        # Two requests (264 + 264 + 72 rows): row k of request n has insert
        # id 100 n + k, affected rows k % 3.
        want = [(k % 3, 100 * (n + 1) + k) for n, size in enumerate((264, 264, 72)) for k in range(size)]
        self.assertEqual(row_results(res), want)
        self.assertEqual(L.mywire_affected_rows(res), sum(a for a, _ in want))
        self.assertEqual(L.mywire_insert_id(res), 100)
        self.assertEqual(L.mywire_row_result(res, 600, None, None), m.MYWIRE_ERROR_ARGUMENT)
        self.assertEqual(L.mywire_row_result(res, 0, None, None), m.MYWIRE_OK)
        rec = self.finish(srv, conn)
        self.assertTrue(rec.handshake["mariadb_capabilities"] & 0x20)
        self.assertEqual([b["flags"] for b in rec.bulks], [192] * 3)
        self.assertEqual([len(b["rows"]) for b in rec.bulks], [264, 264, 72])

    def test_batch_rows_and_off_again(self):
        srv, conn = self.connect(flavor="mariadb11")
        st = self.stmt(conn)
        L = m.lib()
        L.mywire_stmt_set_row_results(st, 1)
        for k in range(3):
            self.assertEqual(L.mywire_stmt_bind_int64(st, 0, k), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_bind_string(st, 1, b"n", 1), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        res = ctypes.c_void_p()
        self.assertEqual(L.mywire_stmt_execute_batch(st, ctypes.byref(res)), m.MYWIRE_OK, conn.errmsg)
        self.assertEqual(row_results(res), [(0, 100), (1, 101), (2, 102)])
        L.mywire_result_free(res)
        # Off: the totals only, no SEND_UNIT_RESULTS.
        L.mywire_stmt_set_row_results(st, 0)
        a = Arrays([1], [b"x"])
        a.bind(self, st)
        self.assertEqual(self.run_array(conn, st, 1), (1, 20))
        rec = self.finish(srv, conn)
        self.assertEqual([b["flags"] for b in rec.bulks], [192, 128])

    def test_older_mariadb_runs_rows_one_by_one(self):
        # MariaDB before 11.5 cannot send per-row results: the rows go as one
        # COM_STMT_EXECUTE each, whose OKs are the results; DEFAULT needs bulk
        # execution and is refused before anything is sent.
        srv, conn = self.connect(flavor="mariadb10")
        st = self.stmt(conn)
        L = m.lib()
        L.mywire_stmt_set_row_results(st, 1)
        a = Arrays([1, 2], [b"a", b"b"])
        a.bind(self, st)
        res = self.run_rows(conn, st, 2)
        self.assertEqual(row_results(res), [(0, 0), (0, 0)])
        d = Arrays([1, 2], [b"a", b"b"], [0, m.MYWIRE_IND_DEFAULT])
        d.bind(self, st)
        self.run_rows(conn, st, 2, expect=m.MYWIRE_ERROR_ARGUMENT)
        for k in range(2):
            self.assertEqual(L.mywire_stmt_bind_int64(st, 0, k), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_bind_default(st, 1), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        res = ctypes.c_void_p()
        self.assertEqual(L.mywire_stmt_execute_batch(st, ctypes.byref(res)), m.MYWIRE_ERROR_ARGUMENT)
        self.assertIn("11.5", conn.errmsg)
        self.assertEqual(L.mywire_stmt_batch_size(st), 2)  # kept
        rec = self.finish(srv, conn)
        self.assertEqual(rec.bulks, [])
        self.assertEqual(len(rec.executes), 2)

    def test_wrong_answers(self):
        # A count that is not the request's rows, a plain OK, a NULL: protocol
        # errors (the connection is closed); a result set of other columns
        # (RETURNING): read to its end, ARGUMENT, the connection stays usable.
        for fault, code in (("short", m.MYWIRE_ERROR_PROTOCOL), ("long", m.MYWIRE_ERROR_PROTOCOL),
                            ("ok", m.MYWIRE_ERROR_PROTOCOL), ("null", m.MYWIRE_ERROR_PROTOCOL),
                            ("returning", m.MYWIRE_ERROR_ARGUMENT)):
            with self.subTest(fault=fault):
                srv, conn = self.connect(flavor="mariadb11", fault="unit_results", fault_arg=fault)
                st = self.stmt(conn)
                m.lib().mywire_stmt_set_row_results(st, 1)
                a = Arrays([1, 2, 3], [b"a", b"b", b"c"])
                a.bind(self, st)
                self.run_rows(conn, st, 3, expect=code)
                if code == m.MYWIRE_ERROR_ARGUMENT:
                    self.assertIn("RETURNING", conn.errmsg)
                    self.assertEqual(m.lib().mywire_ping(conn.h), m.MYWIRE_OK, conn.errmsg)
                else:
                    self.assertFalse(m.lib().mywire_is_connected(conn.h))
                srv.stop()


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

    def test_batch_default_refused_before_sending(self):
        # A batch whose second row has DEFAULT: refused as a whole before the
        # first row is sent (it used to run row 0, then fail on row 1).
        srv, conn = self.connect(flavor="mysql80")
        st = self.stmt(conn)
        L = m.lib()
        self.assertEqual(L.mywire_stmt_bind_int64(st, 0, 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_bind_string(st, 1, b"a", 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_bind_default(st, 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        res = ctypes.c_void_p()
        self.assertEqual(L.mywire_stmt_execute_batch(st, ctypes.byref(res)), m.MYWIRE_ERROR_ARGUMENT)
        self.assertIn("DEFAULT and IGNORE need bulk execution", conn.errmsg)
        self.assertEqual(L.mywire_stmt_batch_size(st), 2)
        # Per-row results from the OKs, one per row.
        L.mywire_stmt_clear_batch(st)
        L.mywire_stmt_set_row_results(st, 1)
        for k in range(2):
            self.assertEqual(L.mywire_stmt_bind_int64(st, 0, k), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_bind_string(st, 1, b"a", 1), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_execute_batch(st, ctypes.byref(res)), m.MYWIRE_OK, conn.errmsg)
        self.assertEqual(row_results(res), [(0, 0), (0, 0)])
        L.mywire_result_free(res)
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.executes), 2)


if __name__ == "__main__":
    main()
