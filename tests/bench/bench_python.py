#!/usr/bin/python3
"""The Python benchmark: mywire next to mysqlclient (MySQLdb) and PyMySQL.

Two workloads, each client against the same server in one run:
  fetchall  SELECT of 1,000,000 rows x 6 mixed columns (INT, BIGINT, DOUBLE,
            VARCHAR, DATETIME, DECIMAL) read with cursor.fetchall()
  points    20,000 parameterised point selects (SELECT ... WHERE id = %s)

Each (client, workload) runs in a child process of its own, so that its peak
memory (ru_maxrss) is its own; client CPU is the child's user + system time
(resource.getrusage) around the workload only. The server's address comes
from the MYWIRE_TEST_* variables (tests/server/mariadb.sh; source its env),
the mywire package from PYTHONPATH (build/bindings/python).

    source /tmp/db/env
    PYTHONPATH=build/bindings/python /usr/bin/python3 tests/bench/bench_python.py [--reps N]
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

ROWS = 1000000
POINTS = 20000
TABLE = 'py_bench'
CLIENTS = ('mywire', 'mysqlclient', 'pymysql')


def server():
    e = os.environ
    try:
        return dict(host=e['MYWIRE_TEST_HOST'], port=int(e['MYWIRE_TEST_PORT']),
                    user=e['MYWIRE_TEST_USER'], password=e['MYWIRE_TEST_PASSWORD'],
                    database=e['MYWIRE_TEST_DB'])
    except KeyError as missing:
        sys.exit('bench_python: %s is not set (source the env of tests/server/mariadb.sh)'
                 % missing)


def connect(client):
    s = server()
    if client == 'mywire':
        import mywire
        return mywire.connect(ssl_mode='disabled', autocommit=True, **s)
    if client == 'mysqlclient':
        import MySQLdb
        return MySQLdb.connect(host=s['host'], port=s['port'], user=s['user'],
                               passwd=s['password'], db=s['database'],
                               autocommit=True, charset='utf8mb4')
    if client == 'pymysql':
        import pymysql
        return pymysql.connect(host=s['host'], port=s['port'], user=s['user'],
                               password=s['password'], database=s['database'], autocommit=True,
                               charset='utf8mb4')
    raise ValueError(client)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(client, workload):
    conn = connect(client)
    cur = conn.cursor()
    if workload == 'fetchall':
        t0, c0 = time.perf_counter(), cpu()
        cur.execute('SELECT id, a, b, c, d, e FROM %s' % TABLE)
        rows = cur.fetchall()
        c1, t1 = cpu(), time.perf_counter()
        assert len(rows) == ROWS, len(rows)
        check = rows[ROWS // 2]
        check = [type(v).__name__ for v in check]
    else:
        rnd = random.Random(42)
        ids = [rnd.randrange(1, ROWS + 1) for _ in range(POINTS)]
        cur.execute('SELECT c FROM ' + TABLE + ' WHERE id = %s', (1,))  # warm up / prepare
        cur.fetchall()
        t0, c0 = time.perf_counter(), cpu()
        for i in ids:
            cur.execute('SELECT c FROM ' + TABLE + ' WHERE id = %s', (i,))
            row = cur.fetchone()
        c1, t1 = cpu(), time.perf_counter()
        assert row == ('v%d' % ids[-1],), row
        check = None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.close()
    print(json.dumps({'cpu': c1 - c0, 'wall': t1 - t0, 'peak_kib': peak, 'types': check}))


def setup():
    conn = connect('mywire')
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = %s", (TABLE,))
    if cur.fetchone()[0]:
        cur.execute('SELECT COUNT(*) FROM ' + TABLE)
        if cur.fetchone()[0] == ROWS:
            conn.close()
            return
        cur.execute('DROP TABLE ' + TABLE)
    cur.execute('CREATE TABLE %s (id INT PRIMARY KEY, a BIGINT NOT NULL, b DOUBLE NOT NULL, '
                'c VARCHAR(32) NOT NULL, d DATETIME NOT NULL, e DECIMAL(12,2) NOT NULL) '
                'ENGINE=InnoDB' % TABLE)
    cur.execute("INSERT INTO %s SELECT seq, seq * 1000003, seq / 3, CONCAT('v', seq), "
                "'2020-01-01' + INTERVAL seq SECOND, seq / 100 FROM seq_1_to_%d" % (TABLE, ROWS))
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reps', type=int, default=1, help='runs of each; the best CPU is kept')
    ap.add_argument('--child', nargs=2, metavar=('CLIENT', 'WORKLOAD'), help=argparse.SUPPRESS)
    ap.add_argument('--only', default=','.join(CLIENTS))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    setup()
    results = {}
    for workload in ('fetchall', 'points'):
        for client in args.only.split(','):
            best = None
            for _ in range(args.reps):
                out = subprocess.run([sys.executable, __file__, '--child', client, workload],
                                     check=True, capture_output=True, text=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                if best is None or r['cpu'] < best['cpu']:
                    best = r
            results[(client, workload)] = best
    print('Python clients, %d rows x 6 columns fetchall; %d point selects (%s)'
          % (ROWS, POINTS, sys.version.split()[0]))
    print('%-12s %-9s %9s %9s %10s %12s %12s' % ('client', 'workload', 'cpu s', 'wall s',
                                                 'peak MiB', 'cpu vs mysqlclient',
                                                 'cpu vs pymysql'))
    for workload in ('fetchall', 'points'):
        for client in args.only.split(','):
            r = results[(client, workload)]
            ratio = []
            for peer in ('mysqlclient', 'pymysql'):
                p = results.get((peer, workload))
                ratio.append('%.2fx' % (p['cpu'] / r['cpu']) if p else '-')
            extra = ''
            if workload == 'points':
                extra = '  %.1f us/query' % (r['wall'] / POINTS * 1e6)
            print('%-12s %-9s %9.3f %9.3f %10.1f %12s %12s%s' % (
                client, workload, r['cpu'], r['wall'], r['peak_kib'] / 1024, ratio[0], ratio[1],
                extra))
    for client in args.only.split(','):
        print('  %s fetchall row types: %s' % (client, results[(client, 'fetchall')]['types']))


if __name__ == '__main__':
    main()
