"""Errors: the PEP 249 class from the server's number and SQLSTATE, the
details kept, lost connections, and misuse."""

import unittest

import mwtest
import mywire


class ErrorsTest(unittest.TestCase):
    def setUp(self):
        self.conn = mwtest.connect(autocommit=True)
        self.cur = self.conn.cursor()

    def tearDown(self):
        self.conn.close()

    def expect(self, cls, errno, sqlstate, sql, args=None):
        with self.assertRaises(cls) as cm:
            self.cur.execute(sql, args)
        e = cm.exception
        self.assertEqual(e.errno, errno)
        self.assertEqual(e.sqlstate, sqlstate)
        self.assertEqual(e.args[0], errno)
        self.assertEqual(e.code, mywire.CODE_SERVER)
        self.assertTrue(e.sent)
        # the connection survives a server error
        self.cur.execute('SELECT 1')
        self.assertEqual(self.cur.fetchone(), (1,))
        return e

    def test_missing_table(self):
        e = self.expect(mywire.ProgrammingError, 1146, '42S02', 'SELECT * FROM no_such_table')
        self.assertIn('no_such_table', e.msg)
        self.expect(mywire.ProgrammingError, 1146, '42S02', 'SELECT * FROM no_such_table '
                    'WHERE a = %s', (1,))

    def test_syntax(self):
        self.expect(mywire.ProgrammingError, 1064, '42000', 'SELEC 1')

    def test_duplicate_key(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_dup (id INT PRIMARY KEY)')
        self.cur.execute('INSERT INTO t_dup VALUES (1)')
        self.expect(mywire.IntegrityError, 1062, '23000', 'INSERT INTO t_dup VALUES (%s)', (1,))
        self.expect(mywire.IntegrityError, 1062, '23000', 'INSERT INTO t_dup VALUES (1)')

    def test_not_null(self):
        self.cur.execute('CREATE TEMPORARY TABLE t_nn (a INT NOT NULL)')
        self.expect(mywire.IntegrityError, 1048, '23000', 'INSERT INTO t_nn VALUES (%s)', (None,))

    def test_data_error(self):
        self.cur.execute("SET SESSION sql_mode='STRICT_ALL_TABLES'")
        self.cur.execute('CREATE TEMPORARY TABLE t_de (a TINYINT)')
        self.expect(mywire.DataError, 1264, '22003', 'INSERT INTO t_de VALUES (%s)', (1000,))

    def test_signal_sqlstate(self):
        e = self.expect(mywire.DatabaseError, 1644, '45001',
                        "SIGNAL SQLSTATE '45001' SET MESSAGE_TEXT = 'custom text'")
        self.assertEqual(e.msg, 'custom text')

    def test_lost_connection(self):
        other = mwtest.connect(autocommit=True)
        try:
            other.cursor().execute('KILL CONNECTION %s', (self.conn.connection_id,))
        finally:
            other.close()
        with self.assertRaises(mywire.OperationalError) as cm:
            self.cur.execute('SELECT 1')
        self.assertIn(cm.exception.code, (mywire.CODE_LOST, mywire.CODE_SERVER))
        self.assertFalse(self.conn.open())
        with self.assertRaises(mywire.InterfaceError):
            self.cur.execute('SELECT 1')
        with self.assertRaises(mywire.Error):
            self.conn.ping()

    def test_closed_connection(self):
        self.conn.close()
        with self.assertRaises(mywire.InterfaceError):
            self.cur.execute('SELECT 1')
        with self.assertRaises(mywire.InterfaceError):
            self.conn.cursor()
        with self.assertRaises(mywire.InterfaceError):
            self.conn.commit()
        self.conn.close()  # twice is harmless

    def test_undecodable_text_leaves_connection_in_sync(self):
        # results unconverted: latin1 bytes in a text column, not UTF-8
        self.cur.execute('SET character_set_results = NULL')
        for args in (None, (1,)):
            with self.assertRaises(UnicodeDecodeError):
                self.cur.execute("SELECT CAST(X'e9' AS CHAR CHARACTER SET latin1), seq "
                                 'FROM seq_1_to_3' + (' WHERE 1 = %s' if args else ''), args)
            self.cur.execute('SELECT 5')
            self.assertEqual(self.cur.fetchone(), (5,))

    def test_hierarchy(self):
        self.assertTrue(issubclass(mywire.Error, Exception))
        self.assertTrue(issubclass(mywire.Warning, Exception))
        self.assertTrue(issubclass(mywire.InterfaceError, mywire.Error))
        self.assertTrue(issubclass(mywire.DatabaseError, mywire.Error))
        for name in ('DataError', 'OperationalError', 'IntegrityError', 'InternalError',
                     'ProgrammingError', 'NotSupportedError'):
            self.assertTrue(issubclass(getattr(mywire, name), mywire.DatabaseError), name)


if __name__ == '__main__':
    mwtest.main()
