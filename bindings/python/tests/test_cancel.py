"""Cancel: Connection.cancel() from another thread, and Ctrl-C
(KeyboardInterrupt) during a long query stops it on the server."""

import os
import signal
import threading
import time
import unittest

import mwtest
import mywire


def processlist_has(conn_id, marker):
    with mwtest.connect() as other:
        cur = other.cursor()
        cur.execute('SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s AND '
                    'INFO LIKE %s', (conn_id, '%' + marker + '%'))
        return cur.fetchone()[0] > 0


class CancelTest(unittest.TestCase):
    def test_cancel_from_other_thread(self):
        conn = mwtest.connect()
        cur = conn.cursor()
        timer = threading.Timer(0.3, conn.cancel)
        t0 = time.monotonic()
        timer.start()
        with self.assertRaises(mywire.OperationalError) as cm:
            cur.execute('SELECT SLEEP(20) /* cancel-thread */')
        timer.join()
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(cm.exception.code, mywire.CODE_CANCELLED)
        # the connection is still usable
        cur.execute('SELECT 1')
        self.assertEqual(cur.fetchone(), (1,))
        # cancelling when nothing runs does nothing
        conn.cancel()
        cur.execute('SELECT 2')
        self.assertEqual(cur.fetchone(), (2,))
        conn.close()

    def test_cancel_streaming_fetch(self):
        conn = mwtest.connect()
        cur = conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_1000000000')
        threading.Timer(0.3, conn.cancel).start()
        with self.assertRaises(mywire.OperationalError):
            while cur.fetchone() is not None:
                pass
        cur = conn.cursor()
        cur.execute('SELECT 3')
        self.assertEqual(cur.fetchone(), (3,))
        conn.close()

    def test_keyboard_interrupt_cancels_on_server(self):
        conn = mwtest.connect()
        cur = conn.cursor()
        conn_id = conn.connection_id
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        t0 = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            cur.execute('SELECT SLEEP(20) /* ctrl-c-marker */')
        self.assertLess(time.monotonic() - t0, 10)
        self.assertFalse(processlist_has(conn_id, 'ctrl-c-marker'))
        cur.execute('SELECT 4')
        self.assertEqual(cur.fetchone(), (4,))
        conn.close()

    def test_cancel_closed_connection(self):
        conn = mwtest.connect()
        conn.close()
        with self.assertRaises(mywire.InterfaceError):
            conn.cancel()


if __name__ == '__main__':
    mwtest.main()
