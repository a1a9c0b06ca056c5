"""mywire.aio: connect, execute, fetch and streaming iteration on the event
loop (no thread per query), many connections at once, task cancellation
stopping the statement on the server."""

import asyncio
import os
import threading
import time
import unittest

import mwtest
import mywire
import mywire.aio


def run(coro):
    return asyncio.run(coro)


class AioTest(unittest.TestCase):
    def test_connect_execute_fetch(self):
        async def main():
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            self.assertEqual(await conn.fetch('SELECT 1, %s', ('a',)), [(1, 'a')])
            cur = conn.cursor()
            await cur.execute('SELECT seq FROM seq_1_to_10 WHERE seq > %(n)s', {'n': 5})
            self.assertEqual(await cur.fetchone(), (6,))
            self.assertEqual(await cur.fetchmany(2), [(7,), (8,)])
            self.assertEqual(await cur.fetchall(), [(9,), (10,)])
            self.assertEqual(cur.rowcount, 5)
            self.assertTrue(await conn.ping())
            await cur.execute('CREATE TEMPORARY TABLE t_aio (id INT AUTO_INCREMENT PRIMARY KEY)')
            await cur.execute('INSERT INTO t_aio VALUES (NULL), (NULL)')
            self.assertEqual((cur.rowcount, cur.lastrowid), (2, 1))
            await conn.commit()
            # the handle's properties, shared with the blocking Connection
            self.assertTrue(conn.server_version)
            self.assertEqual(conn.is_mariadb, True)
            self.assertEqual(conn.thread_id, conn.connection_id)
            self.assertEqual(conn.escape_string("it's"), b"it\\'s")
            await conn.close()
            self.assertTrue(conn.closed)
            with self.assertRaises(mywire.InterfaceError):
                conn.server_version
        run(main())

    def test_executemany(self):
        async def main():
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            cur = conn.cursor()
            await cur.execute('CREATE TEMPORARY TABLE t_aio_many (id INT AUTO_INCREMENT PRIMARY KEY, '
                              'v VARCHAR(10), n INT)')
            # One batch, then a second where a parameter's type changes (str -> int).
            rows = [('a', 1), ('b', 2), (3, 3)]
            self.assertEqual(await cur.executemany('INSERT INTO t_aio_many (v, n) VALUES (%s, %s)', rows,
                                                   row_results=True), 3)
            self.assertEqual((cur.rowcount, cur.lastrowid), (3, 1))
            self.assertEqual(cur.row_results, [(1, 1), (1, 2), (1, 3)])
            self.assertEqual(await conn.fetch('SELECT v, n FROM t_aio_many ORDER BY id'),
                             [('a', 1), ('b', 2), ('3', 3)])
            # Per-row affected counts of an UPDATE; without row_results: None.
            await cur.executemany('UPDATE t_aio_many SET n = n + 10 WHERE n >= %s', [(0,), (100,), (12,)],
                                  row_results=True)
            self.assertEqual(cur.row_results, [(3, 0), (0, 0), (2, 0)])
            self.assertEqual(cur.rowcount, 5)
            await cur.executemany('UPDATE t_aio_many SET n = n + 1 WHERE id = %s', [(1,), (2,)])
            self.assertIsNone(cur.row_results)
            self.assertEqual(cur.rowcount, 2)
            # A statement without parameters or with a result set: one execute per set.
            self.assertEqual(await cur.executemany('SELECT %s', [(1,), (2,)], row_results=True), 2)
            self.assertEqual(cur.row_results, [(1, 0), (1, 0)])
            # A failing row: the error, and the connection goes on.
            with self.assertRaises(mywire.Error):
                await cur.executemany('INSERT INTO t_aio_many (id, v) VALUES (%s, %s)', [(1, 'dup')])
            self.assertEqual(await conn.fetch('SELECT COUNT(*) FROM t_aio_many'), [(3,)])
            await conn.close()
        run(main())

    def test_statement_cache(self):
        from mywire import _mywire as _m

        async def main():
            conn = await mywire.aio.connect(stmt_cache=2, **mwtest.tcp_args())
            ptr = conn._ptr
            # a streaming result read after its statement went back to the cache
            cur = conn.cursor()
            await cur.execute('SELECT seq FROM seq_1_to_100 WHERE seq > %s', (90,))
            self.assertEqual(_m.mywire_stmt_cache_held(ptr), 1)
            cur2 = conn.cursor()
            self.assertEqual(await cur.fetchone(), (91,))
            # the same text again: a hit (the first cursor's rest is dropped)
            await cur2.execute('SELECT seq FROM seq_1_to_100 WHERE seq > %s', (98,))
            self.assertEqual(await cur2.fetchall(), [(99,), (100,)])
            self.assertEqual((_m.mywire_stmt_cache_misses(ptr), _m.mywire_stmt_cache_hits(ptr)),
                             (1, 1))
            for i in range(5):  # misses prepared without blocking; LRU of 2
                self.assertEqual(await conn.fetch('SELECT %s + ' + str(i), (1,)), [(1 + i,)])
            self.assertEqual(_m.mywire_stmt_cache_held(ptr), 2)
            self.assertEqual(_m.mywire_stmt_cache_evictions(ptr), 4)
            self.assertEqual(_m.mywire_stmt_cache_misses(ptr), 6)
            await conn.close()

            off = await mywire.aio.connect(stmt_cache=0, **mwtest.tcp_args())
            for i in range(3):
                self.assertEqual(await off.fetch('SELECT %s', (i,)), [(i,)])
            self.assertEqual(_m.mywire_stmt_cache_held(off._ptr), 0)
            self.assertEqual(_m.mywire_stmt_cache_misses(off._ptr), 3)
            await off.close()
        run(main())

    def test_socket_and_tls(self):
        async def main():
            async with await mywire.aio.connect(**mwtest.socket_args()) as conn:
                self.assertEqual(await conn.fetch('SELECT 2'), [(2,)])
            ca = os.path.join(mwtest.env('MYWIRE_TEST_CERTS'), 'ca.pem')
            async with await mywire.aio.connect(**mwtest.tcp_args(
                    ssl_mode='verify_identity', ssl_ca=ca)) as conn:
                rows = await conn.fetch("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                self.assertTrue(rows[0][1])
        run(main())

    def test_streaming_iteration(self):
        async def main():
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            cur = conn.cursor()
            await cur.execute('SELECT seq, REPEAT(%s, 50) FROM seq_1_to_200000', ('x',))
            total = 0
            async for row in cur:
                total += row[0]
            self.assertEqual(total, 200000 * 200001 // 2)
            self.assertEqual(cur.rowcount, 200000)
            await conn.close()
        run(main())

    def test_many_connections_one_thread(self):
        async def one(i):
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            rows = await conn.fetch('SELECT SLEEP(0.3), %s', (i,))
            await conn.close()
            return rows[0][1]

        async def main():
            t0 = time.monotonic()
            got = await asyncio.gather(*(one(i) for i in range(20)))
            self.assertEqual(got, list(range(20)))
            # concurrent, not one after the other (20 x 0.3 s)
            self.assertLess(time.monotonic() - t0, 4)

        threads = threading.active_count()
        run(main())
        self.assertLessEqual(threading.active_count(), threads + 1)

    def test_errors(self):
        async def main():
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            with self.assertRaises(mywire.ProgrammingError) as cm:
                await conn.fetch('SELECT * FROM no_such_table')
            self.assertEqual((cm.exception.errno, cm.exception.sqlstate), (1146, '42S02'))
            with self.assertRaises(TypeError):
                await conn.fetch('SELECT %s', ([1],))
            self.assertEqual(await conn.fetch('SELECT 3'), [(3,)])
            await conn.close()
            with self.assertRaises(mywire.OperationalError):
                await mywire.aio.connect(**mwtest.tcp_args(password='wrong'))
        run(main())

    def test_task_cancel_stops_statement(self):
        async def main():
            conn = await mywire.aio.connect(**mwtest.tcp_args())
            task = asyncio.ensure_future(conn.fetch('SELECT SLEEP(20)'))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            self.assertLess(time.monotonic() - t0, 10)
            self.assertEqual(await conn.fetch('SELECT 4'), [(4,)])
            await conn.close()
        run(main())


if __name__ == '__main__':
    mwtest.main()
