"""Parameters: format and pyformat, prepared on the server (and cached) or
formatted on the client; placeholders in literals and comments; scalars only;
executemany through bulk execution."""

import datetime as dt
import decimal
import unittest

import mwtest
import mywire


class ParamsTest(unittest.TestCase):
    prepare = 'server'

    def setUp(self):
        self.conn = mwtest.connect(autocommit=True, prepare=self.prepare)
        self.cur = self.conn.cursor()

    def tearDown(self):
        self.conn.close()

    def one(self, sql, args=None):
        self.cur.execute(sql, args)
        return self.cur.fetchone()

    def test_format_and_pyformat(self):
        self.assertEqual(self.one('SELECT %s, %s', (1, 'a')), (1, 'a'))
        self.assertEqual(self.one('SELECT %s, %s', [2, 'b']), (2, 'b'))
        self.assertEqual(self.one('SELECT %(x)s, %(y)s, %(x)s', {'x': 1, 'y': 'q'}), (1, 'q', 1))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %(missing)s', {'x': 1})
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %s, %(x)s', (1,))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %s, %s', (1,))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %s', (1, 2))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %s', 'ab')

    def test_placeholders_in_literals_and_comments(self):
        row = self.one("SELECT '%s', \"%s\", `%s`.x, %s /* %s */ -- %s\n, 'it''s %s', 'a\\'%s'"
                       " # %s\n FROM (SELECT 1 AS x) AS `%s`", (7,))
        self.assertEqual(row, ('%s', '%s', 1, 7, "it's %s", "a'%s"))
        self.assertEqual(self.one("SELECT 'a%%b', %s", (1,)), ('a%b', 1))
        # without parameters the text goes as it is
        self.assertEqual(self.one("SELECT 'a%%b', '%s', '?'"), ('a%%b', '%s', '?'))
        # executable comments are SQL: their placeholders count
        self.assertEqual(self.one('SELECT 1 /*! + %s */', (2,)), (3,))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT ? + %s', (1,))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute("SELECT 'unterminated %s", (1,))
        with self.assertRaises(mywire.ProgrammingError):
            self.cur.execute('SELECT %d', (1,))

    def test_no_backslash_escapes(self):
        self.cur.execute("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'")
        self.assertEqual(self.one("SELECT 'a\\', %s", (5,)), ('a\\', 5))
        self.assertEqual(self.one('SELECT %s', ("x\\'y",)), ("x\\'y",))

    def test_only_scalars(self):
        for bad in ({'a': 1}, [1, 2], (1,), {1}, object()):
            with self.subTest(value=bad):
                with self.assertRaises(TypeError):
                    self.cur.execute('SELECT %s', (bad,))
        # still usable afterwards
        self.assertEqual(self.one('SELECT %s', (1,)), (1,))

    def test_escape_string(self):
        self.assertEqual(self.conn.escape_string("a'b\\c\x00"), b"a\\'b\\\\c\\0")
        self.assertEqual(self.conn.escape_string(b'\xff\n'), b'\xff\\n')
        self.cur.execute("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'")
        self.assertEqual(self.conn.escape_string("a'b\\"), b"a''b\\")

    def test_injection_is_data(self):
        evil = "'; DROP TABLE x; -- \\' \x00"
        self.assertEqual(self.one('SELECT %s', (evil,)), (evil,))

    def test_all_python_types(self):
        values = (None, True, -5, 2 ** 64 - 1, 1.25, decimal.Decimal('-1.50'), 'str', b'by\x00',
                  bytearray(b'ba'), memoryview(b'mv'), dt.date(2001, 2, 3),
                  dt.datetime(2001, 2, 3, 4, 5, 6, 7), dt.time(1, 2, 3),
                  dt.timedelta(days=1, seconds=5))
        row = self.one('SELECT ' + ', '.join(['%s'] * len(values)), values)
        self.assertEqual(row[:4], (None, 1, -5, 2 ** 64 - 1))
        self.assertEqual(row[4], 1.25)
        self.assertEqual(decimal.Decimal(row[5]), decimal.Decimal('-1.50'))
        self.assertIn(row[6], ('str', b'str'))
        self.assertEqual(bytes(row[7]), b'by\x00')

    def test_statement_cache_is_bounded(self):
        from mywire import _mywire as _m
        conn = mwtest.connect(stmt_cache=4, prepare=self.prepare)
        try:
            cur = conn.cursor()

            def stmt_closes():
                cur.execute('SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS '
                            "WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'")
                return int(cur.fetchone()[0])

            before = stmt_closes()
            for i in range(20):
                cur.execute('SELECT %s + ' + str(i), (1,))
                self.assertEqual(cur.fetchone(), (1 + i,))
            for i in range(16, 20):  # the last four: hits, no round trip to prepare
                cur.execute('SELECT %s + ' + str(i), (2,))
                self.assertEqual(cur.fetchone(), (2 + i,))
            ptr = conn._ptr
            held = _m.mywire_stmt_cache_held(ptr)
            if self.prepare == 'server':
                self.assertEqual(held, 4)
                self.assertEqual(_m.mywire_stmt_cache_misses(ptr), 20)
                self.assertEqual(_m.mywire_stmt_cache_hits(ptr), 4)
                self.assertEqual(_m.mywire_stmt_cache_evictions(ptr), 16)
                cur.execute('SELECT 1')
                # the evicted statements' closes went out ahead of a command
                self.assertEqual(stmt_closes() - before, 16)
                cur.execute('SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS '
                            "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'")
                self.assertGreaterEqual(int(cur.fetchone()[0]), 20)
            else:
                self.assertEqual(held, 0)  # client-side statements never reach the cache
                self.assertEqual(_m.mywire_stmt_cache_misses(ptr), 0)
                self.assertEqual(stmt_closes(), before)

            # the C cache's bound: 0..4096
            with self.assertRaises(mywire.Error):
                mwtest.connect(stmt_cache=5000)
        finally:
            conn.close()

    def test_description_of_repeated_statement(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_desc (a INT, b VARCHAR(5))')
        self.cur.execute('INSERT INTO t_desc VALUES (1, %s)', ('x',))
        sql = 'SELECT * FROM t_desc WHERE a = %s'
        self.cur.execute(sql, (1,))
        first = self.cur.description
        self.assertEqual([d[0] for d in first], ['a', 'b'])
        self.cur.execute(sql, (1,))
        self.assertEqual(self.cur.description, first)
        self.assertEqual(self.cur.fetchall(), [(1, 'x')])
        # the table changes: the statement's result changes with it
        self.cur.execute('ALTER TABLE t_desc ADD COLUMN c DOUBLE DEFAULT 2.5')
        self.cur.execute(sql, (1,))
        self.assertEqual([d[0] for d in self.cur.description], ['a', 'b', 'c'])
        self.assertEqual(self.cur.fetchall(), [(1, 'x', 2.5)])

    def test_executemany(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_many (id INT PRIMARY KEY AUTO_INCREMENT, '
                         'a INT, b VARCHAR(20), c DOUBLE)')
        rows = [(i, 'v%d' % i, i / 2) for i in range(1000)]
        n = self.cur.executemany('INSERT INTO t_many (a, b, c) VALUES (%s, %s, %s)', rows)
        self.assertEqual(n, 1000)
        self.assertEqual(self.cur.rowcount, 1000)
        self.assertEqual(self.cur.lastrowid, 1)
        # a parameter that changes its type (int, then float, then None)
        self.cur.executemany('INSERT INTO t_many (a, c) VALUES (%s, %s)',
                             [(1, 1), (2, 2.5), (None, None), (4, 4)])
        self.cur.executemany('UPDATE t_many SET b = %(b)s WHERE a = %(a)s',
                             [{'a': 1, 'b': 'one'}, {'a': 2, 'b': 'two'}])
        self.assertEqual(self.cur.rowcount, 4)
        self.cur.execute('SELECT COUNT(*), SUM(a), MAX(c) FROM t_many')
        self.assertEqual(self.cur.fetchone(),
                         (1004, decimal.Decimal(sum(range(1000)) + 7), 499.5))
        with self.assertRaises(mywire.IntegrityError):
            self.cur.executemany('INSERT INTO t_many (id, a) VALUES (%s, %s)', [(5000, 1), (1, 1)])
        with self.assertRaises(TypeError):
            self.cur.executemany('INSERT INTO t_many (a) VALUES (%s)', [([1],)])
        # a SELECT runs once per row
        self.cur.executemany('SELECT %s', [(1,), (2,)])
        self.assertEqual(self.cur.fetchall(), [(2,)])

    def stmt_executes(self):
        self.cur.execute("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                         "WHERE VARIABLE_NAME = 'COM_STMT_EXECUTE'")
        return int(self.cur.fetchone()[0])

    def test_executemany_row_results(self):
        # Per-row (affected_rows, insert_id) with row_results=True: from the
        # batch (prepare='server') or from one execute per row (the fallback:
        # prepare='client', and statements without placeholders).
        cur = self.cur
        cur.execute('CREATE TEMPORARY TABLE t_rr (id INT PRIMARY KEY AUTO_INCREMENT, v INT)')
        cur.execute('INSERT INTO t_rr (id, v) VALUES (100, 0)')
        self.assertIsNone(cur.row_results)
        n = cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [(1,), (2,), (3,)],
                            row_results=True)
        self.assertEqual(n, 3)
        self.assertEqual(cur.row_results, [(1, 101), (1, 102), (1, 103)])
        self.assertEqual((cur.rowcount, cur.lastrowid), (3, 101))
        # An UPDATE matching 4, 0 and 2 rows (v is 10, 11, 12, 13 after the first).
        cur.executemany('UPDATE t_rr SET v = v + 10 WHERE v >= %(v)s',
                        iter([{'v': 0}, {'v': 1000}, {'v': 12}]), row_results=True)
        self.assertEqual(cur.row_results, [(4, 0), (0, 0), (2, 0)])
        self.assertEqual(cur.rowcount, 6)
        # A parameter changing its type splits the batch: still one list, in order.
        cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [(4,), ('5',), (6,)],
                        row_results=True)
        self.assertEqual(cur.row_results, [(1, 104), (1, 105), (1, 106)])
        # No placeholders: one execute per row, the same list.
        cur.executemany('INSERT INTO t_rr (v) VALUES (7)', [(), ()], row_results=True)
        self.assertEqual(cur.row_results, [(1, 107), (1, 108)])
        # Not asked for: None, and (server-side) bulk execution again for
        # the cached statement that asked for them before.
        before = self.stmt_executes() if self.prepare == 'server' else None
        n = cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [(8,), (9,), (10,)])
        self.assertEqual(n, 3)
        self.assertIsNone(cur.row_results)
        if before is not None:
            self.assertEqual(self.stmt_executes() - before, 1)
        cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [(11,)], row_results=True)
        self.assertEqual(cur.row_results, [(1, 112)])
        cur.execute('SELECT COUNT(*) FROM t_rr')
        self.assertIsNone(cur.row_results)
        self.assertEqual(cur.fetchone(), (13,))
        cur.executemany('DELETE FROM t_rr WHERE v = %s', [(11,)], row_results=False)
        self.assertIsNone(cur.row_results)
        # A failing row raises; row_results is not left from a previous call.
        cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [(1,)], row_results=True)
        with self.assertRaises(mywire.IntegrityError):
            cur.executemany('INSERT INTO t_rr (id, v) VALUES (%s, %s)', [(500, 1), (100, 1)],
                            row_results=True)
        self.assertIsNone(cur.row_results)
        cur.executemany('INSERT INTO t_rr (v) VALUES (%s)', [], row_results=True)
        self.assertEqual(cur.row_results, [])

    def test_unpreparable_statement_falls_back(self):
        # Not every statement is preparable; those go formatted on the client.
        self.cur.execute('DO %s', (1,))


class ClientSideParamsTest(ParamsTest):
    prepare = 'client'


if __name__ == '__main__':
    mwtest.main()
