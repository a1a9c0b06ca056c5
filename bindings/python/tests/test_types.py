"""Every value type through both protocols: inserted as prepared-statement
parameters, read back by a text query and by a prepared (binary) one."""

import datetime as dt
import decimal
import json
import unittest

import mwtest
import mywire

D = decimal.Decimal

COLUMNS = [
    # (column definition, value to insert, value expected back)
    ('ti TINYINT', -128, -128),
    ('tu TINYINT UNSIGNED', 255, 255),
    ('si SMALLINT', -32768, -32768),
    ('mi MEDIUMINT', 8388607, 8388607),
    ('i INT', -2147483648, -2147483648),
    ('bi BIGINT', -9223372036854775808, -9223372036854775808),
    ('bu BIGINT UNSIGNED', 18446744073709551615, 18446744073709551615),
    ('f FLOAT', 1.5, 1.5),
    ('d DOUBLE', 3.141592653589793, 3.141592653589793),
    ('de DECIMAL(40,10)', D('-123456789012345678901234567.0123456789'),
     D('-123456789012345678901234567.0123456789')),
    ('dw DECIMAL(40,0)', 123456789012345678901234567890, D('123456789012345678901234567890')),
    ('c CHAR(5)', 'ab', 'ab'),
    ('vc VARCHAR(100)', 'h\u00e9llo \u2603 \U0001f600', 'h\u00e9llo \u2603 \U0001f600'),
    ('tx TEXT', 'line1\nline2\x00after-nul', 'line1\nline2\x00after-nul'),
    ('bn BINARY(4)', b'\x00\x01\x02\x03', b'\x00\x01\x02\x03'),
    ('vb VARBINARY(20)', bytearray(b'\xff\x00\xfe'), b'\xff\x00\xfe'),
    ('bl BLOB', bytes(range(256)), bytes(range(256))),
    ('da DATE', dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
    ('dtm DATETIME(6)', dt.datetime(1999, 12, 31, 23, 59, 58, 123456),
     dt.datetime(1999, 12, 31, 23, 59, 58, 123456)),
    ('ts TIMESTAMP(3) NULL', dt.datetime(2020, 1, 2, 3, 4, 5, 678000),
     dt.datetime(2020, 1, 2, 3, 4, 5, 678000)),
    ('tm TIME(6)', dt.timedelta(hours=-100, minutes=-2, microseconds=-5),
     dt.timedelta(hours=-100, minutes=-2, microseconds=-5)),
    ('tm2 TIME', dt.time(13, 14, 15), dt.timedelta(hours=13, minutes=14, seconds=15)),
    ('y YEAR', 2155, 2155),
    ('bt BIT(10)', 0b1011001110, 0b1011001110),
    ('en ENUM(\'a\',\'bb\')', 'bb', 'bb'),
    ('st SET(\'x\',\'y\',\'z\')', 'x,z', 'x,z'),
    ('js JSON', json.dumps({'k': [1, 2.5, None, 'v']}), json.dumps({'k': [1, 2.5, None, 'v']})),
    ('bo BOOL', True, 1),
]


class TypesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = mwtest.connect(autocommit=True)
        cur = cls.conn.cursor()
        cur.execute('DROP TABLE IF EXISTS py_types')
        cur.execute('CREATE TABLE py_types (id INT PRIMARY KEY, %s)'
                    % ', '.join(c[0] for c in COLUMNS))
        names = [c[0].split()[0] for c in COLUMNS]
        cls.names = names
        cur.execute('INSERT INTO py_types (id, %s) VALUES (1, %s)'
                    % (', '.join(names), ', '.join(['%s'] * len(names))),
                    [c[1] for c in COLUMNS])
        cur.execute('INSERT INTO py_types (id) VALUES (2)')

    @classmethod
    def tearDownClass(cls):
        cls.conn.cursor().execute('DROP TABLE py_types')
        cls.conn.close()

    def check_row(self, row):
        for (coldef, _, want), got in zip(COLUMNS, row):
            with self.subTest(column=coldef):
                if coldef.startswith('js '):
                    self.assertIsInstance(got, str)
                    self.assertEqual(json.loads(got), json.loads(want))
                    continue
                self.assertEqual(got, want)
                self.assertIs(type(got), type(want))

    def test_text_protocol(self):
        cur = self.conn.cursor()
        cur.execute('SELECT %s FROM py_types WHERE id = 1' % ', '.join(self.names))
        self.check_row(cur.fetchone())

    def test_binary_protocol(self):
        cur = self.conn.cursor()
        cur.execute('SELECT %s FROM py_types WHERE id = %%s' % ', '.join(self.names), (1,))
        self.check_row(cur.fetchone())

    def test_nulls(self):
        cur = self.conn.cursor()
        for args in (None, (2,)):
            where = 'id = 2' if args is None else 'id = %s'
            cur.execute('SELECT %s FROM py_types WHERE %s' % (', '.join(self.names), where), args)
            row = cur.fetchone()
            self.assertEqual(row, (None,) * len(self.names))
        cur.execute('SELECT NULL, %s, %s', (None, 'x'))
        self.assertEqual(cur.fetchall(), [(None, None, 'x')])

    def test_description(self):
        cur = self.conn.cursor()
        cur.execute('SELECT id, vc, bl, de, dtm FROM py_types WHERE id = 1')
        d = cur.description
        self.assertEqual([c[0] for c in d], ['id', 'vc', 'bl', 'de', 'dtm'])
        self.assertTrue(all(len(c) == 7 for c in d))
        self.assertEqual(d[0][1], mywire.NUMBER)
        self.assertEqual(d[1][1], mywire.STRING)
        self.assertEqual(d[2][1], mywire.BINARY)
        self.assertEqual(d[3][1], mywire.NUMBER)
        self.assertEqual(d[4][1], mywire.DATETIME)
        self.assertNotEqual(d[1][1], mywire.NUMBER)
        self.assertFalse(d[0][6])   # NOT NULL (primary key)
        self.assertTrue(d[1][6])
        self.assertEqual(d[3][5], 10)  # scale

    def test_binary_safe_text_and_params(self):
        cur = self.conn.cursor()
        value = b'a\x00b\x00\x00c\xff'
        cur.execute('SELECT %s, LENGTH(%s), HEX(%s)', (value, value, value))
        self.assertEqual(cur.fetchone(), (value, 7, value.hex().upper()))
        cur.execute("SELECT X'00410042'")
        self.assertEqual(cur.fetchone(), (b'\x00A\x00B',))

    def test_zero_dates(self):
        cur = self.conn.cursor()
        cur.execute("SET SESSION sql_mode=''")
        cur.execute("SELECT CAST('0000-00-00' AS DATE), CAST('0000-00-00 00:00:00' AS DATETIME)")
        self.assertEqual(cur.fetchone(), (None, None))
        cur.execute("SELECT CAST('0000-00-00' AS DATE) WHERE 1 = %s", (1,))
        self.assertEqual(cur.fetchone(), (None,))

    def test_float_and_special_numbers(self):
        cur = self.conn.cursor()
        cur.execute('SELECT CAST(0.1 AS FLOAT), 1e308, -0.0, 2.5e-300')
        self.assertEqual(cur.fetchone(), (0.1, 1e308, -0.0, 2.5e-300))
        with self.assertRaises(mywire.ProgrammingError):
            cur.execute('SELECT %s', (float('nan'),))
        with self.assertRaises(mywire.ProgrammingError):
            cur.execute('SELECT %s', (D('NaN'),))

    def test_big_integers_as_decimal(self):
        cur = self.conn.cursor()
        cur.execute('SELECT %s + 0', (10 ** 30,))
        self.assertEqual(cur.fetchone(), (D(10 ** 30),))


if __name__ == '__main__':
    mwtest.main()
