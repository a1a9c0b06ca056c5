"""Connecting: TCP, unix socket, TLS with verify_identity, URI, failures."""

import os
import unittest
import urllib.parse

import mwtest
from mwtest import env
import mywire


class ConnectTest(unittest.TestCase):
    def check_works(self, conn, transport):
        with conn:
            self.assertEqual(conn.transport, transport)
            cur = conn.cursor()
            cur.execute('SELECT 1 + 1, DATABASE()')
            self.assertEqual(cur.fetchall(), [(2, env('MYWIRE_TEST_DB'))])
            self.assertTrue(conn.ping())
            self.assertGreater(conn.connection_id, 0)
            self.assertTrue(conn.server_version)
        self.assertTrue(conn.closed)

    def test_tcp(self):
        self.check_works(mywire.connect(**mwtest.tcp_args()), 'tcp')

    def test_unix_socket(self):
        self.check_works(mywire.connect(**mwtest.socket_args()), 'unix')

    def test_uri_and_keywords(self):
        uri = 'mysql://%s:%s@%s:%s/%s?ssl-mode=disabled' % (
            urllib.parse.quote(env('MYWIRE_TEST_USER')),
            urllib.parse.quote(env('MYWIRE_TEST_PASSWORD')), env('MYWIRE_TEST_HOST'),
            env('MYWIRE_TEST_PORT'), env('MYWIRE_TEST_DB'))
        self.check_works(mywire.connect(uri), 'tcp')
        # a keyword wins over the URI's value
        with mywire.connect(uri=uri, database='mysql') as conn:
            cur = conn.cursor()
            cur.execute('SELECT DATABASE()')
            self.assertEqual(cur.fetchone(), ('mysql',))

    def test_tls_verify_identity(self):
        ca = os.path.join(env('MYWIRE_TEST_CERTS'), 'ca.pem')
        with mywire.connect(**mwtest.tcp_args(ssl_mode='verify_identity', ssl_ca=ca)) as conn:
            tls = conn.tls
            self.assertIsNotNone(tls)
            self.assertTrue(tls['verified'])
            self.assertTrue(tls['version'].startswith('TLSv1.'))
            cur = conn.cursor()
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            self.assertEqual(cur.fetchone()[1], tls['version'])

    def test_tls_wrong_ca_fails(self):
        ca = os.path.join(env('MYWIRE_TEST_CERTS'), 'wrongca.pem')
        with self.assertRaises(mywire.OperationalError) as cm:
            mywire.connect(**mwtest.tcp_args(ssl_mode='verify_identity', ssl_ca=ca))
        self.assertEqual(cm.exception.code, mywire.CODE_TLS)

    def test_tls_user_requires_ssl(self):
        ca = os.path.join(env('MYWIRE_TEST_CERTS'), 'ca.pem')
        args = mwtest.tcp_args(user=env('MYWIRE_TEST_SSL_USER'),
                               password=env('MYWIRE_TEST_SSL_PASSWORD'))
        with self.assertRaises(mywire.OperationalError) as cm:
            mywire.connect(**args)  # ssl_mode=disabled: refused by the server
        self.assertEqual(cm.exception.errno, 1045)
        args.update(ssl_mode='verify_identity', ssl_ca=ca)
        with mywire.connect(**args) as conn:
            self.assertTrue(conn.tls['verified'])

    def test_wrong_password(self):
        with self.assertRaises(mywire.OperationalError) as cm:
            mywire.connect(**mwtest.tcp_args(password='wrong'))
        e = cm.exception
        self.assertEqual(e.errno, 1045)
        self.assertEqual(e.sqlstate, '28000')
        self.assertEqual(e.code, mywire.CODE_SERVER)
        self.assertEqual(e.args[0], 1045)
        self.assertIn('Access denied', e.args[1])

    def test_refused(self):
        with self.assertRaises(mywire.OperationalError) as cm:
            mywire.connect(host='127.0.0.1', port=1, user='x', connect_timeout=2000)
        self.assertEqual(cm.exception.code, mywire.CODE_CONNECT)
        self.assertFalse(cm.exception.sent)

    def test_unknown_option(self):
        with self.assertRaises(mywire.ProgrammingError) as cm:
            mywire.connect(**mwtest.tcp_args(no_such_option='1'))
        self.assertEqual(cm.exception.code, mywire.CODE_OPTION)
        with self.assertRaises(mywire.ProgrammingError):
            mywire.connect('mysql://u@h/db?bogus=1')
        with self.assertRaises(mywire.ProgrammingError):
            mywire.connect(**mwtest.tcp_args(prepare='sometimes'))

    def test_autocommit(self):
        with mwtest.connect() as conn:
            self.assertFalse(conn.autocommit)   # PEP 249: off by default
            conn.autocommit = True
            self.assertTrue(conn.autocommit)
            cur = conn.cursor()
            cur.execute('SELECT @@autocommit')
            self.assertEqual(cur.fetchone(), (1,))
        with mwtest.connect(autocommit=True) as conn:
            self.assertTrue(conn.get_autocommit())

    def test_select_db_and_compress(self):
        with mwtest.connect(compress='zlib') as conn:
            conn.select_db('mysql')
            cur = conn.cursor()
            cur.execute('SELECT DATABASE(), REPEAT(%s, 100000)', ('ab',))
            db, big = cur.fetchone()
            self.assertEqual(db, 'mysql')
            self.assertEqual(big, 'ab' * 100000)


if __name__ == '__main__':
    mwtest.main()
