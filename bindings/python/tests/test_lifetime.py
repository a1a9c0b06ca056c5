"""Closing things in the "wrong" order: results, statements and cursors that
outlive their connection, connections dropped in finalizers, collection of
cycles in any order, and using the raw handles after their owner is gone."""

import gc
import unittest

import mwtest
import mywire
from mywire import _mywire as m


class LifetimeTest(unittest.TestCase):
    def test_buffered_result_after_connection_closed(self):
        conn = mwtest.connect()
        cur = conn.cursor()
        cur.execute('SELECT 1 UNION SELECT 2')
        conn.close()
        # rows already read stay readable; the cursor cannot run anything
        self.assertEqual(cur.fetchall(), [(1,), (2,)])
        with self.assertRaises(mywire.InterfaceError):
            cur.execute('SELECT 1')
        del cur
        gc.collect()

    def test_streaming_result_after_connection_closed(self):
        conn = mwtest.connect()
        cur = conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_100000')
        self.assertEqual(cur.fetchone(), (1,))
        conn.close()
        with self.assertRaises(mywire.InterfaceError):
            cur.fetchone()
        with self.assertRaises(mywire.InterfaceError):
            cur.fetchall()
        cur.close()

    def test_streaming_result_after_connection_freed_raw(self):
        # the extension's own handles, freed in the wrong order
        rc, c = m.mywire_conn_new()
        args = mwtest.tcp_args()
        for k in ('host', 'port', 'user', 'password', 'database', 'ssl_mode'):
            self.assertEqual(m.mywire_set_option(c, k, str(args[k])), 0)
        self.assertEqual(m.mywire_connect(c), 0)
        rc, res = m.mywire_query(c, 'SELECT seq FROM seq_1_to_1000', m.MYWIRE_STREAMING)
        self.assertEqual(rc, 0)
        rc, st = m.mywire_stmt_new(c)
        self.assertEqual(m.mywire_stmt_prepare_client(st, 'SELECT ?'), 0)
        m.mywire_conn_free(c)
        rc, rows = m.pyw_fetch(res, None, -1, 0, 0)
        self.assertEqual(rc, m.MYWIRE_ERROR_STATE)
        m.mywire_result_free(res)
        self.assertEqual(m.mywire_stmt_bind_int64(st, 0, 1), 0)
        rc, r, msg = m.pyw_execute(st, None, None, m.MYWIRE_STREAMING)
        self.assertEqual(rc, m.MYWIRE_ERROR_STATE)
        m.mywire_stmt_free(st)
        # NULL handles are safe
        m.mywire_result_free(None)
        m.mywire_conn_free(None)
        m.mywire_stmt_free(None)
        self.assertEqual(m.mywire_ping(None), m.MYWIRE_ERROR_ARGUMENT)

    def test_connection_dropped_in_finalizer_mid_stream(self):
        conn = mwtest.connect()
        cur = conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_1000000')
        cur.fetchmany(10)
        # a cycle, so that the collector (not refcounting) finalizes both, in
        # an order of its choosing; neither finalizer touches the network
        conn.cycle = conn
        cur.cycle = cur
        del conn, cur
        self.assertGreater(gc.collect(), 0)

    def test_cursor_dropped_mid_stream_keeps_connection(self):
        conn = mwtest.connect()
        cur = conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_100000')
        cur.fetchmany(10)
        del cur
        gc.collect()
        # the connection reads and drops the rest before the next command
        cur = conn.cursor()
        cur.execute('SELECT 42')
        self.assertEqual(cur.fetchall(), [(42,)])
        conn.close()

    def test_statements_outlive_connection(self):
        from mywire import _mywire as _m
        conn = mwtest.connect()
        cur = conn.cursor()
        for i in range(10):
            cur.execute('SELECT %s + ' + str(i), (i,))
        self.assertEqual(_m.mywire_stmt_cache_held(conn._ptr), 10)
        st = conn._statement(b'SELECT ? + 0')  # a lease held across the close
        self.assertTrue(_m.mywire_stmt_is_cached(st))
        conn.__del__()  # as the collector would: discard, no COM_QUIT
        self.assertTrue(conn.closed)
        with self.assertRaises(mywire.InterfaceError):
            cur.execute('SELECT %s', (1,))
        # the leased statement is an ordinary one now, which says so
        self.assertFalse(_m.mywire_stmt_is_cached(st))
        self.assertEqual(_m.mywire_stmt_bind_int64(st, 0, 1), _m.MYWIRE_OK)
        rc, res = _m.mywire_stmt_execute(st, _m.MYWIRE_BUFFERED)
        self.assertEqual(rc, _m.MYWIRE_ERROR_STATE)
        _m.mywire_stmt_free(st)
        del conn, cur
        gc.collect()

    def test_many_collected_in_any_order(self):
        objs = []
        for i in range(20):
            conn = mwtest.connect()
            cur = conn.cursor(mywire.SSCursor if i % 2 else mywire.Cursor)
            cur.execute('SELECT seq FROM seq_1_to_1000 WHERE seq > %s', (i,))
            cur.fetchone()
            if i % 3 == 0:
                conn.close()
            objs.append((cur, conn) if i % 2 else (conn, cur))
        objs.append(objs)
        del objs, conn, cur
        gc.collect()

    def test_other_cursor_interleaved(self):
        conn = mwtest.connect()
        a = conn.cursor(mywire.SSCursor)
        b = conn.cursor()
        a.execute('SELECT seq FROM seq_1_to_1000')
        self.assertEqual(a.fetchone(), (1,))
        b.execute('SELECT 2')
        self.assertEqual(b.fetchone(), (2,))
        with self.assertRaises(mywire.ProgrammingError) as cm:
            a.fetchone()
        self.assertEqual(cm.exception.code, mywire.CODE_OUT_OF_SYNC)
        conn.close()


if __name__ == '__main__':
    mwtest.main()
