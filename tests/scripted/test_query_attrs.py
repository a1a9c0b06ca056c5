"""Query attributes (MySQL 8.0.23+, CLIENT_QUERY_ATTRIBUTES): negotiated only
with a MySQL server that offers them, and then the exact bytes of COM_QUERY
and COM_STMT_EXECUTE with and without attributes; everywhere else setting one
is a clear MYWIRE_ERROR_UNSUPPORTED and the connection goes on unchanged.

    /usr/bin/python3 test_query_attrs.py --lib build/capi/libmywire.so.1
"""

import ctypes
import math
import struct

from scripted_common import ScriptedTest, m, main, rows
import scripted_server as ss

SELECT1 = b"SELECT 1"


class Time(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in ("kind", "negative", "year", "month", "day", "hour",
                                             "minute", "second", "microsecond")]


def le(v, n):
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")


class Base(ScriptedTest):
    def connect(self, **scenario):
        scenario.setdefault("tls", False)
        srv = self.serve(**scenario)
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        return srv, conn

    def commands(self, rec):
        """The client's command payloads but the final COM_QUIT."""
        return [p for p in rec.client_packets("command") if p != b"\x01"]

    def query_ok(self, conn, sql=SELECT1):
        res = ctypes.c_void_p()
        rc = m.lib().mywire_query(conn.h, sql, len(sql), m.MYWIRE_BUFFERED, ctypes.byref(res))
        self.assertEqual(rc, m.MYWIRE_OK, conn.errmsg)
        m.lib().mywire_result_free(res)

    def stmt(self, conn, sql):
        st = ctypes.c_void_p()
        self.assertEqual(m.lib().mywire_stmt_new(conn.h, ctypes.byref(st)), m.MYWIRE_OK)
        self.addCleanup(m.lib().mywire_stmt_free, st)
        self.assertEqual(m.lib().mywire_stmt_prepare(st, sql, len(sql)), m.MYWIRE_OK, conn.errmsg)
        return st

    def execute(self, conn, st, expect=m.MYWIRE_OK):
        res = ctypes.c_void_p()
        rc = m.lib().mywire_stmt_execute(st, m.MYWIRE_BUFFERED, ctypes.byref(res))
        self.assertEqual(rc, expect, conn.errmsg)
        if res:
            m.lib().mywire_result_free(res)

    def set_attrs(self, conn, expect=m.MYWIRE_OK):
        L = m.lib()
        t = Time(kind=m.MYWIRE_TIME_KIND_DATETIME, year=2024, month=2, day=29, hour=13, minute=5,
                 second=9, microsecond=250000)
        for rc in (L.mywire_query_attr_string(conn.h, b"trace", b"ab", 2),
                   L.mywire_query_attr_int64(conn.h, b"n", -2),
                   L.mywire_query_attr_null(conn.h, b"z"),
                   L.mywire_query_attr_uint64(conn.h, b"u", 2**64 - 1),
                   L.mywire_query_attr_double(conn.h, b"d", 1.5),
                   L.mywire_query_attr_bytes(conn.h, b"b", b"\x00\xff", 2),
                   L.mywire_query_attr_time(conn.h, b"t", ctypes.byref(t))):
            self.assertEqual(rc, expect, conn.errmsg)


# The block set_attrs() makes, written out by hand from the MySQL protocol
# documentation: NULL bitmap (7 attributes, the third NULL), the
# new-params-bound flag, type + flag + lenenc name each, then the values.
ATTR_TYPES = (b"\xfe\x00\x05trace" + b"\x08\x00\x01n" + b"\x06\x00\x01z" + b"\x08\x80\x01u" +
              b"\x05\x00\x01d" + b"\xfc\x00\x01b" + b"\x0c\x00\x01t")
ATTR_VALUES = (b"\x02ab" + le(-2, 8) + le(2**64 - 1, 8) + struct.pack("<d", 1.5) +
               b"\x02\x00\xff" + b"\x0b" + le(2024, 2) + bytes([2, 29, 13, 5, 9]) + le(250000, 4))
ATTR_BLOCK = b"\x04" + b"\x01" + ATTR_TYPES + ATTR_VALUES


class WithAttributes(Base):
    """MySQL 8.0.36: the greeting offers CLIENT_QUERY_ATTRIBUTES."""

    def test_negotiated(self):
        srv, conn = self.connect(flavor="mysql80")
        self.assertEqual(m.lib().mywire_query_attributes_supported(conn.h), 1)
        rec = self.finish(srv, conn)
        self.assertTrue(rec.handshake["capabilities"] & ss.CLIENT_QUERY_ATTRIBUTES)

    def test_com_query_bytes(self):
        srv, conn = self.connect(flavor="mysql84")
        L = m.lib()
        self.query_ok(conn)  # no attributes: still the two counts
        self.set_attrs(conn)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 7)
        self.query_ok(conn)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 0)  # used by that query
        self.query_ok(conn)
        # Setting a name again replaces its value (and keeps its place).
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"k", 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_string(conn.h, b"s", b"", 0), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"k", 3), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 2)
        self.query_ok(conn)
        # Cleared: nothing goes.
        self.assertEqual(L.mywire_query_attr_null(conn.h, b"gone"), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_clear(conn.h), m.MYWIRE_OK)
        self.query_ok(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec), [
            b"\x03\x00\x01" + SELECT1,
            b"\x03\x07\x01" + ATTR_BLOCK + SELECT1,
            b"\x03\x00\x01" + SELECT1,
            b"\x03\x02\x01\x00\x01" + b"\x08\x00\x01k\xfe\x00\x01s" + le(3, 8) + b"\x00" + SELECT1,
            b"\x03\x00\x01" + SELECT1,
        ])
        # The server read the same.
        self.assertEqual(rec.queries, ["SELECT 1"] * 5)
        self.assertEqual([a[0] for a in rec.query_attrs[1]], ["trace", "n", "z", "u", "d", "b", "t"])
        self.assertEqual(rec.query_attrs[1][2][3], None)
        self.assertEqual(rec.query_attrs[3], [("k", 8, False, le(3, 8)), ("s", 254, False, b"")])

    def test_com_stmt_execute_bytes(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        st = self.stmt(conn, b"SELECT ?")
        self.assertEqual(L.mywire_stmt_bind_int64(st, 0, 7), m.MYWIRE_OK)
        self.execute(conn, st)   # types sent
        self.execute(conn, st)   # same types: new-params-bound 0
        self.assertEqual(L.mywire_query_attr_string(conn.h, b"a", b"x", 1), m.MYWIRE_OK)
        self.execute(conn, st)   # parameter then attribute, types sent
        self.assertEqual(L.mywire_query_attr_count(conn.h), 0)
        self.execute(conn, st)   # the types changed back: sent again
        self.execute(conn, st)
        none = self.stmt(conn, b"SELECT 1")
        self.execute(conn, none)  # no parameters: the count 0, nothing after it
        self.set_attrs(conn)
        self.execute(conn, none)  # attributes only
        rec = self.finish(srv, conn)
        cmds = self.commands(rec)
        self.assertEqual(cmds[0], b"\x16SELECT ?")
        head = b"\x17" + le(1, 4) + b"\x08" + le(1, 4)
        seven = le(7, 8)
        self.assertEqual(cmds[1:6], [
            head + b"\x01" + b"\x00" + b"\x01" + b"\x08\x00\x00" + seven,
            head + b"\x01" + b"\x00" + b"\x00" + seven,
            head + b"\x02" + b"\x00" + b"\x01" + b"\x08\x00\x00" + b"\xfe\x00\x01a" + seven + b"\x01x",
            head + b"\x01" + b"\x00" + b"\x01" + b"\x08\x00\x00" + seven,
            head + b"\x01" + b"\x00" + b"\x00" + seven,
        ])
        self.assertEqual(cmds[6], b"\x16SELECT 1")
        head2 = b"\x17" + le(2, 4) + b"\x08" + le(1, 4)
        self.assertEqual(cmds[7:], [head2 + b"\x00", head2 + b"\x07" + ATTR_BLOCK])
        self.assertEqual([e["params"] for e in rec.executes[2:3]],
                         [[("", 8, False, seven), ("a", 254, False, b"x")]])
        self.assertEqual([a[0] for a in rec.executes[-1]["params"]], ["trace", "n", "z", "u", "d", "b", "t"])

    def test_reprepare_sends_them_again(self):
        srv = self.serve(flavor="mysql80", tls=False, fault="need_reprepare")
        conn = self.client(srv, "plain", auto_reprepare=1)
        self.assertConnects(conn)
        st = self.stmt(conn, b"SELECT ?")
        self.assertEqual(m.lib().mywire_stmt_bind_int64(st, 0, 7), m.MYWIRE_OK)
        self.assertEqual(m.lib().mywire_query_attr_int64(conn.h, b"a", 5), m.MYWIRE_OK)
        self.execute(conn, st)
        rec = self.finish(srv, conn)
        cmds = self.commands(rec)
        body = le(1, 4) + b"\x08" + le(1, 4) + b"\x02\x00\x01\x08\x00\x00\x08\x00\x01a" + le(7, 8) + le(5, 8)
        self.assertEqual(cmds, [b"\x16SELECT ?", b"\x17" + body, b"\x16SELECT ?",
                                b"\x17" + le(2, 4) + body[4:]])
        self.assertEqual(rec.executes[-1]["params"][1], ("a", 8, False, le(5, 8)))

    def test_kept_when_nothing_was_sent(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        st = self.stmt(conn, b"SELECT ?")
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_OK)
        self.execute(conn, st, m.MYWIRE_ERROR_ARGUMENT)  # the parameter is unbound
        self.assertIn("parameter 0", conn.errmsg)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 1)
        self.query_ok(conn)  # the query takes them
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec)[1:], [b"\x03\x01\x01\x00\x01\x08\x00\x01a" + le(1, 8) + SELECT1])

    def test_batches_send_none(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        st = self.stmt(conn, b"INSERT ?")
        for v in (1, 2):
            self.assertEqual(L.mywire_stmt_bind_int64(st, 0, v), m.MYWIRE_OK)
            self.assertEqual(L.mywire_stmt_add_batch(st), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_OK)
        res = ctypes.c_void_p()
        self.assertEqual(L.mywire_stmt_execute_batch(st, ctypes.byref(res)), m.MYWIRE_OK, conn.errmsg)
        L.mywire_result_free(res)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 1)
        rec = self.finish(srv, conn)
        head = b"\x17" + le(1, 4) + b"\x08" + le(1, 4) + b"\x01\x00"
        # No attributes in either row (count 1: the parameter); the second row
        # has the first one's types, so it sends none (new-params-bound 0).
        self.assertEqual(self.commands(rec)[1:], [head + b"\x01\x08\x00\x00" + le(1, 8),
                                                  head + b"\x00" + le(2, 8)])

    def test_pipelines_send_none(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        p = ctypes.c_void_p()
        self.assertEqual(L.mywire_pipeline_new(ctypes.byref(p)), m.MYWIRE_OK)
        self.addCleanup(L.mywire_pipeline_free, p)
        for _ in range(2):
            self.assertEqual(L.mywire_pipeline_add_query(p, SELECT1, len(SELECT1)), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_pipeline_run(conn.h, p), m.MYWIRE_OK, conn.errmsg)
        self.assertEqual([L.mywire_pipeline_step_code(p, i) for i in range(2)], [m.MYWIRE_OK] * 2)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 1)
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec), [b"\x03\x00\x01" + SELECT1] * 2)

    def test_client_side_statement_carries_them(self):
        srv, conn = self.connect(flavor="mysql80", queries={"SELECT 5": rows(["5"], [["5"]])})
        L = m.lib()
        st = ctypes.c_void_p()
        self.assertEqual(L.mywire_stmt_new(conn.h, ctypes.byref(st)), m.MYWIRE_OK)
        self.addCleanup(L.mywire_stmt_free, st)
        self.assertEqual(L.mywire_stmt_prepare_client(st, b"SELECT ?", 8), m.MYWIRE_OK)
        self.assertEqual(L.mywire_stmt_bind_int64(st, 0, 5), m.MYWIRE_OK)
        self.assertEqual(L.mywire_query_attr_string(conn.h, b"a", b"x", 1), m.MYWIRE_OK)
        self.execute(conn, st)
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec), [b"\x03\x01\x01\x00\x01\xfe\x00\x01a\x01xSELECT 5"])

    def test_reset_connection_drops_them(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_OK)
        self.assertEqual(L.mywire_reset_connection(conn.h), m.MYWIRE_OK, conn.errmsg)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 0)
        self.query_ok(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec), [b"\x1f", b"\x03\x00\x01" + SELECT1])

    def test_bad_arguments(self):
        srv, conn = self.connect(flavor="mysql80")
        L = m.lib()
        t = Time(kind=m.MYWIRE_TIME_KIND_TIME, hour=839)
        for rc in (L.mywire_query_attr_int64(None, b"a", 1),
                   L.mywire_query_attr_int64(conn.h, None, 1),
                   L.mywire_query_attr_int64(conn.h, b"", 1),
                   L.mywire_query_attr_double(conn.h, b"a", math.nan),
                   L.mywire_query_attr_double(conn.h, b"a", math.inf),
                   L.mywire_query_attr_string(conn.h, b"a", None, 3),
                   L.mywire_query_attr_bytes(conn.h, b"a", None, 3),
                   L.mywire_query_attr_time(conn.h, b"a", None),
                   L.mywire_query_attr_time(conn.h, b"a", ctypes.byref(t))):
            self.assertEqual(rc, m.MYWIRE_ERROR_ARGUMENT)
        self.assertEqual(L.mywire_query_attr_clear(None), m.MYWIRE_ERROR_ARGUMENT)
        self.assertEqual(L.mywire_query_attr_count(None), 0)
        self.assertEqual(L.mywire_query_attributes_supported(None), 0)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 0)
        self.query_ok(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(self.commands(rec), [b"\x03\x00\x01" + SELECT1])

    def test_not_connected(self):
        srv = self.serve(flavor="mysql80", tls=False)
        conn = self.client(srv, "plain")
        L = m.lib()
        self.assertEqual(L.mywire_query_attributes_supported(conn.h), 0)
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_ERROR_STATE)
        self.assertIn("not connected", conn.errmsg)
        self.assertConnects(conn)
        conn.close()
        self.assertEqual(L.mywire_query_attributes_supported(conn.h), 0)
        self.assertEqual(L.mywire_query_attr_int64(conn.h, b"a", 1), m.MYWIRE_ERROR_STATE)
        self.finish(srv, conn)


class WithoutAttributes(Base):
    """Servers without query attributes: the commands as before, and setting
    one is UNSUPPORTED with the connection as it was."""

    def check(self, **scenario):
        srv, conn = self.connect(**scenario)
        L = m.lib()
        self.assertEqual(L.mywire_query_attributes_supported(conn.h), 0)
        self.set_attrs(conn, m.MYWIRE_ERROR_UNSUPPORTED)
        self.assertIn("does not support query attributes", conn.errmsg)
        self.assertEqual(conn.errcode, m.MYWIRE_ERROR_UNSUPPORTED)
        self.assertEqual(L.mywire_query_attr_count(conn.h), 0)
        self.assertEqual(L.mywire_is_connected(conn.h), 1)
        self.query_ok(conn)
        st = self.stmt(conn, b"SELECT ?")
        self.assertEqual(L.mywire_stmt_bind_int64(st, 0, 7), m.MYWIRE_OK)
        self.execute(conn, st)
        rec = self.finish(srv, conn)
        self.assertFalse(rec.handshake["capabilities"] & ss.CLIENT_QUERY_ATTRIBUTES)
        self.assertEqual(self.commands(rec), [
            b"\x03" + SELECT1, b"\x16SELECT ?",
            b"\x17" + le(1, 4) + b"\x00" + le(1, 4) + b"\x00\x01\x08\x00" + le(7, 8)])

    def test_mysql57(self):
        self.check(flavor="mysql57")

    def test_mysql8_without_the_capability(self):
        self.check(flavor="mysql80", caps_remove=ss.CLIENT_QUERY_ATTRIBUTES)

    def test_mariadb_even_if_bit_27_is_set(self):
        self.check(flavor="mariadb10", caps_add=ss.CLIENT_QUERY_ATTRIBUTES)


if __name__ == "__main__":
    main()
