"""A million-row result read through the streaming cursor in constant memory
(the peak RSS does not grow while the rows go by), both protocols."""

import resource
import unittest

import mwtest
import mywire

ROWS = 1000000


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class StreamTest(unittest.TestCase):
    def stream(self, args):
        conn = mwtest.connect()
        try:
            cur = conn.cursor(mywire.SSCursor)
            cur.execute("SELECT seq, CONCAT('row-', seq, REPEAT('x', 100)), seq / 7 "
                        'FROM seq_1_to_%d WHERE seq > %%s' % ROWS if args else
                        "SELECT seq, CONCAT('row-', seq, REPEAT('x', 100)), seq / 7 "
                        'FROM seq_1_to_%d' % ROWS, args)
            self.assertEqual(cur.rowcount, -1)
            n = 0
            total = 0
            baseline = None
            while True:
                rows = cur.fetchmany(1000)
                if not rows:
                    break
                for row in rows:
                    n += 1
                    total += row[0]
                    if n == 1:
                        self.assertEqual(row[1][:5], 'row-1')
                if n == 100000:
                    baseline = peak_rss_kib()
            self.assertEqual(n, ROWS)
            self.assertEqual(total, ROWS * (ROWS + 1) // 2)
            self.assertEqual(cur.rowcount, ROWS)
            growth = peak_rss_kib() - baseline
            # 900,000 rows of about 130 bytes went by: ~120 MB if they stayed
            self.assertLess(growth, 8 * 1024, 'peak RSS grew by %d KiB' % growth)
            cur.execute('SELECT 1')
            self.assertEqual(cur.fetchone(), (1,))
        finally:
            conn.close()

    def test_text_protocol(self):
        self.stream(None)

    def test_binary_protocol(self):
        self.stream((0,))

    def test_iteration(self):
        conn = mwtest.connect()
        cur = conn.cursor(mywire.SSCursor)
        cur.execute('SELECT seq FROM seq_1_to_100000')
        self.assertEqual(sum(r[0] for r in cur), 100000 * 100001 // 2)
        conn.close()


if __name__ == '__main__':
    mwtest.main()
