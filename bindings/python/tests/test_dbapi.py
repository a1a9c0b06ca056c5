"""PEP 249 (DB-API 2.0) compliance, written from the PEP: every required
module global, constructor, exception, connection and cursor method and
attribute, type object and type constructor."""

import datetime
import time
import unittest

import mwtest
import mywire


class ModuleTest(unittest.TestCase):
    def test_globals(self):
        self.assertEqual(mywire.apilevel, '2.0')
        self.assertIn(mywire.threadsafety, (0, 1, 2, 3))
        self.assertIn(mywire.paramstyle, ('qmark', 'numeric', 'named', 'format', 'pyformat'))
        self.assertTrue(callable(mywire.connect))

    def test_exceptions(self):
        names = ['Warning', 'Error', 'InterfaceError', 'DatabaseError', 'DataError',
                 'OperationalError', 'IntegrityError', 'InternalError', 'ProgrammingError',
                 'NotSupportedError']
        for name in names:
            cls = getattr(mywire, name)
            self.assertTrue(issubclass(cls, Exception), name)
        self.assertTrue(issubclass(mywire.Warning, Exception))
        self.assertFalse(issubclass(mywire.Warning, mywire.Error))
        self.assertTrue(issubclass(mywire.InterfaceError, mywire.Error))
        self.assertTrue(issubclass(mywire.DatabaseError, mywire.Error))
        for name in names[4:]:
            self.assertTrue(issubclass(getattr(mywire, name), mywire.DatabaseError), name)

    def test_type_objects_and_constructors(self):
        self.assertEqual(mywire.Date(2020, 1, 2), datetime.date(2020, 1, 2))
        self.assertEqual(mywire.Time(3, 4, 5), datetime.time(3, 4, 5))
        self.assertEqual(mywire.Timestamp(2020, 1, 2, 3, 4, 5),
                         datetime.datetime(2020, 1, 2, 3, 4, 5))
        t = time.mktime((2020, 1, 2, 3, 4, 5, 0, 0, -1))
        self.assertEqual(mywire.DateFromTicks(t), datetime.date(2020, 1, 2))
        self.assertEqual(mywire.TimeFromTicks(t), datetime.time(3, 4, 5))
        self.assertEqual(mywire.TimestampFromTicks(t), datetime.datetime(2020, 1, 2, 3, 4, 5))
        self.assertEqual(mywire.Binary(b'\x00a'), b'\x00a')
        for name in ('STRING', 'BINARY', 'NUMBER', 'DATETIME', 'ROWID'):
            self.assertTrue(hasattr(mywire, name), name)
        self.assertNotEqual(mywire.STRING, mywire.NUMBER)


class ConnectionTest(unittest.TestCase):
    def setUp(self):
        self.conn = mwtest.connect()

    def tearDown(self):
        self.conn.close()

    def test_methods(self):
        for name in ('close', 'commit', 'rollback', 'cursor'):
            self.assertTrue(callable(getattr(self.conn, name)), name)

    def test_exceptions_as_attributes(self):
        for name in ('Warning', 'Error', 'InterfaceError', 'DatabaseError', 'DataError',
                     'OperationalError', 'IntegrityError', 'InternalError',
                     'ProgrammingError', 'NotSupportedError'):
            self.assertIs(getattr(self.conn, name), getattr(mywire, name))

    def test_commit_and_rollback(self):
        cur = self.conn.cursor()
        cur.execute('CREATE TEMPORARY TABLE t_tx (a INT) ENGINE=InnoDB')
        cur.execute('INSERT INTO t_tx VALUES (%s)', (1,))
        self.conn.rollback()
        cur.execute('SELECT COUNT(*) FROM t_tx')
        self.assertEqual(cur.fetchone(), (0,))
        cur.execute('INSERT INTO t_tx VALUES (%s)', (2,))
        self.conn.commit()
        self.conn.rollback()
        cur.execute('SELECT a FROM t_tx')
        self.assertEqual(cur.fetchall(), [(2,)])

    def test_close_makes_unusable(self):
        cur = self.conn.cursor()
        self.conn.close()
        with self.assertRaises(mywire.Error):
            self.conn.commit()
        with self.assertRaises(mywire.Error):
            self.conn.cursor()
        with self.assertRaises(mywire.Error):
            cur.execute('SELECT 1')

    def test_context_manager_commits_or_rolls_back(self):
        with mwtest.connect() as c:
            c.cursor().execute('CREATE TABLE IF NOT EXISTS py_ctx (a INT) ENGINE=InnoDB')
            c.cursor().execute('DELETE FROM py_ctx')
        with mwtest.connect() as c:
            c.cursor().execute('INSERT INTO py_ctx VALUES (%s)', (1,))
        with self.assertRaises(ZeroDivisionError):
            with mwtest.connect() as c:
                c.cursor().execute('INSERT INTO py_ctx VALUES (%s)', (2,))
                1 / 0
        self.assertTrue(c.closed)
        cur = self.conn.cursor()
        cur.execute('SELECT a FROM py_ctx')
        self.assertEqual(cur.fetchall(), [(1,)])
        cur.execute('DROP TABLE py_ctx')


class CursorTest(unittest.TestCase):
    def setUp(self):
        self.conn = mwtest.connect(autocommit=True)
        self.cur = self.conn.cursor()

    def tearDown(self):
        self.conn.close()

    def test_attributes_before_execute(self):
        self.assertIsNone(self.cur.description)
        self.assertEqual(self.cur.rowcount, -1)
        self.assertEqual(self.cur.arraysize, 1)
        self.assertIs(self.cur.connection, self.conn)
        for name in ('callproc', 'close', 'execute', 'executemany', 'fetchone', 'fetchmany',
                     'fetchall', 'nextset', 'setinputsizes', 'setoutputsize'):
            self.assertTrue(callable(getattr(self.cur, name)), name)
        with self.assertRaises(mywire.Error):
            self.cur.fetchone()

    def test_description_and_rowcount(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_d (a INT, b VARCHAR(10))')
        self.assertIsNone(self.cur.description)
        self.cur.executemany('INSERT INTO t_d VALUES (%s, %s)', [(1, 'x'), (2, 'y'), (3, 'z')])
        self.assertEqual(self.cur.rowcount, 3)
        self.cur.execute('UPDATE t_d SET b = %s WHERE a >= %s', ('w', 2))
        self.assertEqual(self.cur.rowcount, 2)
        self.assertIsNone(self.cur.description)
        self.cur.execute('SELECT a, b FROM t_d ORDER BY a')
        self.assertEqual(self.cur.rowcount, 3)
        self.assertEqual(len(self.cur.description), 2)
        self.assertEqual(self.cur.description[0][0], 'a')
        self.assertEqual(self.cur.description[1][1], mywire.STRING)

    def test_fetch_methods(self):
        self.cur.execute('SELECT seq FROM seq_1_to_10')
        self.assertEqual(self.cur.fetchone(), (1,))
        self.assertEqual(self.cur.fetchmany(), [(2,)])  # arraysize 1
        self.cur.arraysize = 3
        self.assertEqual(self.cur.fetchmany(), [(3,), (4,), (5,)])
        self.assertEqual(self.cur.fetchmany(2), [(6,), (7,)])
        self.assertEqual(self.cur.fetchall(), [(8,), (9,), (10,)])
        self.assertIsNone(self.cur.fetchone())
        self.assertEqual(self.cur.fetchmany(5), [])
        self.assertEqual(self.cur.fetchall(), [])
        # rows are sequences
        self.cur.execute('SELECT 1, 2')
        row = self.cur.fetchone()
        self.assertEqual(len(row), 2)
        self.assertEqual(row[1], 2)

    def test_fetch_after_non_select_is_error(self):
        self.cur.execute('DO 1')
        with self.assertRaises(mywire.Error):
            self.cur.fetchone()
        with self.assertRaises(mywire.Error):
            self.cur.fetchall()

    def test_iteration_and_lastrowid(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_i (id INT AUTO_INCREMENT PRIMARY KEY, v INT)')
        self.cur.execute('INSERT INTO t_i (v) VALUES (%s)', (10,))
        self.assertEqual(self.cur.lastrowid, 1)
        self.cur.execute('INSERT INTO t_i (v) VALUES (20)')
        self.assertEqual(self.cur.lastrowid, 2)
        self.cur.execute('SELECT v FROM t_i ORDER BY id')
        self.assertEqual([r for r in self.cur], [(10,), (20,)])

    def test_callproc_and_nextset(self):
        self.cur.execute('DROP PROCEDURE IF EXISTS py_proc')
        self.cur.execute('CREATE PROCEDURE py_proc(IN a INT, IN b VARCHAR(10)) BEGIN '
                         'SELECT a, b; SELECT a + 1 UNION ALL SELECT a + 2; END')
        try:
            args = self.cur.callproc('py_proc', (5, 'q'))
            self.assertEqual(args, (5, 'q'))
            self.assertEqual(self.cur.fetchall(), [(5, 'q')])
            self.assertTrue(self.cur.nextset())
            self.assertEqual(self.cur.fetchall(), [(6,), (7,)])
            # the CALL's own status result, then nothing
            while self.cur.nextset():
                self.assertIsNone(self.cur.description)
            self.assertIsNone(self.cur.nextset())
            # the connection is in sync
            self.cur.execute('SELECT 9')
            self.assertEqual(self.cur.fetchone(), (9,))
            # unread result sets are dropped by the next command
            self.cur.callproc('py_proc', (1, 'z'))
            self.cur.execute('SELECT 10')
            self.assertEqual(self.cur.fetchone(), (10,))
        finally:
            self.cur.execute('DROP PROCEDURE py_proc')

    def test_multi_statement_nextset(self):
        conn = mwtest.connect(multi_statements=True)
        cur = conn.cursor()
        cur.execute('SELECT 1; SELECT 2, 3; DO 0')
        self.assertEqual(cur.fetchall(), [(1,)])
        self.assertTrue(cur.nextset())
        self.assertEqual(cur.fetchall(), [(2, 3)])
        self.assertTrue(cur.nextset())
        self.assertIsNone(cur.description)
        self.assertIsNone(cur.nextset())
        conn.close()

    def test_setsizes_are_accepted(self):
        self.cur.setinputsizes([10, None])
        self.cur.setoutputsize(100)
        self.cur.setoutputsize(100, 0)

    def test_close(self):
        self.cur.execute('SELECT 1')
        self.cur.close()
        with self.assertRaises(mywire.Error):
            self.cur.execute('SELECT 1')
        with self.assertRaises(mywire.Error):
            self.cur.fetchone()
        self.cur.close()
        # the connection is unaffected
        cur = self.conn.cursor()
        cur.execute('SELECT 2')
        self.assertEqual(cur.fetchone(), (2,))

    def test_streaming_cursor_is_a_cursor(self):
        cur = self.conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_5')
        self.assertEqual(cur.fetchmany(0), [])
        self.assertEqual(cur.fetchone(), (1,))
        self.assertEqual(cur.fetchmany(2), [(2,), (3,)])
        self.assertEqual(cur.fetchall(), [(4,), (5,)])
        self.assertEqual(cur.rowcount, 5)
        self.assertIsNone(cur.fetchone())


if __name__ == '__main__':
    mwtest.main()
