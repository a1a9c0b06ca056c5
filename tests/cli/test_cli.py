#!/usr/bin/env python3
"""Tests of the mywire command-line client (tools/mywire.c).

    test_cli.py PATH/TO/mywire CASE

Runs one case (a case_* function below). Cases that talk to a server read
the MYWIRE_TEST_* variables written by tests/server/mariadb.sh and fail when
they are missing. Expected outputs are spelled out byte for byte.
"""
import json
import os
import pty
import select
import socket
import subprocess
import sys

CLI = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ''
SERVER_KEYS = ('MYWIRE_TEST_HOST', 'MYWIRE_TEST_PORT', 'MYWIRE_TEST_SOCKET', 'MYWIRE_TEST_USER',
               'MYWIRE_TEST_PASSWORD', 'MYWIRE_TEST_DB')
NOPE_ERROR = b"ERROR 1146 (42S02): Table 'mywire_test.nope' doesn't exist\n"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def server():
    missing = [k for k in SERVER_KEYS if not os.environ.get(k)]
    check(not missing, 'missing %s: start tests/server/mariadb.sh and source DIR/env' % ', '.join(missing))
    return {k[len('MYWIRE_TEST_'):].lower(): os.environ[k] for k in SERVER_KEYS}


def uri(password=None):
    s = server()
    pw = s['password'] if password is None else password
    return 'mysql://%s:%s@%s:%s/%s' % (s['user'], pw, s['host'], s['port'], s['db'])


def flags():
    """-h -P -u -D for the test server, without a password."""
    s = server()
    return ['-h', s['host'], '-P', s['port'], '-u', s['user'], '-D', s['db']]


def run(args, stdin=b'', env=None):
    """Runs the CLI; MYSQL_PWD is only set when env asks for it."""
    full_env = {k: v for k, v in os.environ.items() if k != 'MYSQL_PWD'}
    full_env.update(env or {})
    p = subprocess.run([CLI] + args, input=stdin, capture_output=True, env=full_env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect(args, out=b'', err=b'', code=0, stdin=b'', env=None):
    got_code, got_out, got_err = run(args, stdin, env)
    what = 'mywire %r' % (args,)
    check(got_out == out, '%s: stdout\n  got      %r\n  expected %r\n  stderr %r' % (what, got_out, out, got_err))
    check(got_err == err, '%s: stderr\n  got      %r\n  expected %r' % (what, got_err, err))
    check(got_code == code, '%s: exit status %d, expected %d' % (what, got_code, code))


# A row with NULL, an empty string, a tab, a newline, a backslash, a quote, a
# comma and an ESC byte (SQL backslash escapes make the control bytes).
AWKWARD_SELECT = (r"SELECT 1 AS n, NULL AS nul, '' AS empty, 'a\tb\nc\\d' AS ctl,"
                  r" CONCAT('e', CHAR(27), '[31m') AS esc, 'q\"u,o' AS q")


def case_table():
    expect(['--uri', uri(), '-e', r"SELECT 1 AS id, 'abc' AS name, NULL AS note UNION ALL SELECT 22, 'x\ty', 'z'"],
           b'+----+------+------+\n'
           b'| id | name | note |\n'
           b'+----+------+------+\n'
           b'|  1 | abc  | NULL |\n'
           b'| 22 | x\\ty | z    |\n'
           b'+----+------+------+\n'
           b'2 rows in set\n')
    expect(['--uri', uri(), '-e', 'SELECT 1 AS a FROM DUAL WHERE 0'], b'Empty set\n')
    expect(['--uri', uri(), '-e', 'CREATE TEMPORARY TABLE t (a INT); INSERT INTO t VALUES (1),(2);'
                                  'SELECT a FROM t; UPDATE t SET a = 5 WHERE a = 1'],
           b'Query OK, 0 rows affected\n'
           b'Query OK, 2 rows affected\n'
           b'Records: 2  Duplicates: 0  Warnings: 0\n'
           b'+---+\n| a |\n+---+\n| 1 |\n| 2 |\n+---+\n2 rows in set\n'
           b'Query OK, 1 row affected\n'
           b'Rows matched: 1  Changed: 1  Warnings: 0\n')


def case_table_escaping():
    """Server text never reaches the terminal raw: values, column names, errors."""
    expect(['--uri', uri(), '-e', "SELECT 1 AS `x\x1by`, CONCAT('red', CHAR(27), '[31m') AS v, x'ff' AS bad,"
                                  " _utf8mb4 x'c29b' AS c1, 'h\u00e9llo' AS u, CHAR(127) AS del"],
           b'+--------+-------------+------+----------+-------+------+\n'
           b'| x\\x1by | v           | bad  | c1       | u     | del  |\n'
           b'+--------+-------------+------+----------+-------+------+\n'
           b'|      1 | red\\x1b[31m | \\xff | \\xc2\\x9b | h\xc3\xa9llo | \\x7f |\n'
           b'+--------+-------------+------+----------+-------+------+\n'
           b'1 row in set\n')
    # The server passes LF, CR and TAB of a SIGNAL message through unchanged.
    expect(['--uri', uri(), '-e', "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = _utf8mb4 x'410a0d0942'"],
           err=b'ERROR 1644 (45000): A\\n\\r\\tB\n', code=1)


def case_tsv():
    expect(['--uri', uri(), '--format', 'tsv', '-e', AWKWARD_SELECT],
           b'n\tnul\tempty\tctl\tesc\tq\n'
           b'1\t\\N\t\ta\\tb\\nc\\\\d\te\\x1b[31m\tq"u,o\n')
    # Statements without rows print nothing; an empty result prints its header.
    expect(['--uri', uri(), '--format', 'tsv', '-e', 'DO 1; SELECT 1 AS a FROM DUAL WHERE 0'], b'a\n')


def case_csv():
    expect(['--uri', uri(), '--format', 'csv', '-e', AWKWARD_SELECT],
           b'n,nul,empty,ctl,esc,q\r\n'
           b'1,,"","a\tb\nc\\d","e\x1b[31m","q""u,o"\r\n')
    expect(['--uri', uri(), '--format', 'csv', '-e', "SELECT 'plain' AS `a,b`"], b'"a,b"\r\nplain\r\n')


def case_json():
    out = (b'[\n'
           b'{"n":1,"nul":null,"empty":"","ctl":"a\\tb\\nc\\\\d","esc":"e\\u001b[31m","q":"q\\"u,o"}\n'
           b']\n')
    expect(['--uri', uri(), '--format', 'json', '-e', AWKWARD_SELECT], out)
    check(json.loads(out)[0]['esc'] == 'e\x1b[31m', 'json round trip')
    # Numbers only for numeric columns; invalid UTF-8 and C1 controls escaped.
    sql = ("SELECT 1.50 AS d, -7 AS i, 18446744073709551615 AS big, 1e0 AS dbl, '42' AS str,"
           " YEAR('2024-01-01') AS y, x'ff41' AS bad, _utf8mb4 x'c29b' AS c1, CHAR(127) AS del")
    out = (b'[\n{"d":1.50,"i":-7,"big":18446744073709551615,"dbl":1,"str":"42","y":2024,'
           b'"bad":"\\ufffdA","c1":"\\u009b","del":"\\u007f"}\n]\n')
    expect(['--uri', uri(), '--format', 'json', '-e', sql], out)
    json.loads(out)
    # One array per result set; an empty result is an empty array.
    expect(['--uri', uri(), '--format', 'json', '-e', 'SELECT 1 AS a UNION ALL SELECT 2; SELECT 1 AS b FROM DUAL WHERE 0'],
           b'[\n{"a":1},\n{"a":2}\n]\n[\n]\n')


def case_stdin():
    script = (b"SELECT 1 AS a; SELECT 'x;y' AS b; -- comment ; here\n"
              b"/* block ; comment */ SELECT \"q;\\\";\" AS `c;d`;;\n"
              b"SELECT 'it\\'s;', 'o''k;' AS e;\n"
              b"# a hash comment; with a semicolon\n"
              b";\n"
              b"SELECT 5--1 AS f;\n"
              b"/*!SELECT 7 AS g */;\n"
              b"DO 1;\n"
              b"SELECT 'last' AS h -- no semicolon at the end")
    expect(['--uri', uri(), '--format', 'tsv'],
           b'a\n1\nb\nx;y\nc;d\nq;";\nit\'s;\te\nit\'s;\to\'k;\nf\n6\ng\n7\nh\nlast\n', stdin=script)


def case_execute_twice():
    expect(['--uri', uri(), '--format', 'tsv', '-e', 'SELECT 1 AS a', '-e', 'SELECT 2 AS b;'], b'a\n1\nb\n2\n')


def case_multi_result():
    expect(['--uri', uri(), '--format', 'tsv', '-e', 'SELECT 1 AS a; SELECT 2 AS b;; -- the end'], b'a\n1\nb\n2\n')
    expect(['--uri', uri(), '--format', 'tsv', '--execute=SELECT 1 AS a;\nSELECT 2 AS b'], b'a\n1\nb\n2\n')


def case_stop_on_error():
    expect(['--uri', uri(), '--format', 'tsv', '-e', 'SELECT 1 AS a', '-e', 'SELECT * FROM nope', '-e', 'SELECT 3 AS c'],
           b'a\n1\n', NOPE_ERROR, 1)
    expect(['--uri', uri(), '--format', 'tsv', '-e', 'SELECT 1 AS a; SELECT * FROM nope; SELECT 3 AS c'],
           b'a\n1\n', NOPE_ERROR, 1)
    expect(['--uri', uri()], b'+---+\n| a |\n+---+\n| 1 |\n+---+\n1 row in set\n', NOPE_ERROR, 1,
           stdin=b'SELECT 1 AS a;\nSELECT * FROM nope;\nSELECT 3 AS c;\n')


def case_server_error():
    s = server()
    expect(flags() + ['--password=' + s['password'], '-e', 'SELECT * FROM nope'], err=NOPE_ERROR, code=1)


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def case_refused():
    for args in (['-h', '127.0.0.1', '-P', str(closed_port()), '-u', 'x', '-e', 'SELECT 1'],
                 ['-S', '/nonexistent/mywire.sock', '-u', 'x', '-e', 'SELECT 1']):
        code, out, err = run(args)
        check(code == 2, 'mywire %r: exit status %d, expected 2 (stderr %r)' % (args, code, err))
        check(out == b'', 'nothing on stdout: %r' % out)
        check(err.startswith(b'mywire: ') and err.endswith(b'\n') and err.count(b'\n') == 1,
              'one "mywire: " line on stderr: %r' % err)


def case_usage():
    bad = (['--bogus'], ['-Z'], ['-P', 'x'], ['-P', '70000'], ['--port=0'], ['--format', 'xml'], ['-e'],
           ['--uri'], ['extra'], ['--help=x'], ['-Vx'], ['--'], ['-'])
    for args in bad:
        code, out, err = run(args)
        check(code == 64, 'mywire %r: exit status %d, expected 64' % (args, code))
        check(out == b'', 'mywire %r: nothing on stdout: %r' % (args, out))
        check(err.startswith(b'mywire: ') and b'\nUsage: mywire ' in err, 'mywire %r: usage on stderr: %r' % (args, err))


def case_help_version():
    code, out, err = run(['--help'])
    check(code == 0 and err == b'' and out.startswith(b'Usage: mywire '), '--help: %d %r %r' % (code, out[:80], err))
    for word in (b'MYSQL_PWD', b'tsv', b'csv', b'json', b'NULL is written as \\N', b'64 bad usage'):
        check(word in out, '--help mentions %r' % word)
    for flag in ('--version', '-V'):
        code, out, err = run([flag])
        check(code == 0 and err == b'' and out.startswith(b'mywire 0.1.0 (libmywire '), '%s: %r' % (flag, out))


def case_password():
    s = server()
    ok = (b'a\n1\n', b'', 0)
    denied = (b'', None, 1)
    wrong = 'not-the-password'
    tsv = ['--format', 'tsv', '-e', 'SELECT 1 AS a']
    cases = (
        ('MYSQL_PWD alone', flags() + tsv, {'MYSQL_PWD': s['password']}, ok),
        ('a wrong MYSQL_PWD', flags() + tsv, {'MYSQL_PWD': wrong}, denied),
        ('no password at all', flags() + tsv, {}, denied),
        ('--password beats MYSQL_PWD', flags() + ['--password=' + s['password']] + tsv, {'MYSQL_PWD': wrong}, ok),
        ('--password= (empty) beats MYSQL_PWD', flags() + ['--password='] + tsv, {'MYSQL_PWD': s['password']}, denied),
        ('-pPW', flags() + ['-p' + s['password']] + tsv, {}, ok),
        ('--password beats the URI', ['--uri', uri(wrong), '--password=' + s['password']] + tsv, {}, ok),
        ('the URI beats MYSQL_PWD', ['--uri', uri()] + tsv, {'MYSQL_PWD': wrong}, ok),
        ('MYSQL_PWD fills a URI without one',
         ['--uri', 'mysql://%s@%s:%s' % (s['user'], s['host'], s['port'])] + tsv, {'MYSQL_PWD': s['password']}, ok),
    )
    for name, args, env, (out, err, code) in cases:
        got_code, got_out, got_err = run(args, env=env)
        check(got_code == code and got_out == out, '%s: exit %d out %r err %r' % (name, got_code, got_out, got_err))
        if err is not None:
            check(got_err == err, '%s: stderr %r' % (name, got_err))
        else:
            check(got_err.startswith(b'ERROR 1045 (28000): Access denied for user '), '%s: stderr %r' % (name, got_err))


def read_until(fd, marker, limit=10.0):
    data = b''
    while marker not in data:
        ready, _, _ = select.select([fd], [], [], limit)
        check(ready, 'timed out waiting for %r, got %r' % (marker, data))
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            chunk = b''
        if not chunk:
            break
        data += chunk
    return data


def case_password_prompt():
    """--password without a value asks on the terminal, with echo off."""
    s = server()
    pid, fd = pty.fork()
    if pid == 0:
        env = {k: v for k, v in os.environ.items() if k != 'MYSQL_PWD'}
        os.execve(CLI, [CLI] + flags() + ['--password', '--format', 'tsv', '-e', 'SELECT 1 AS a'], env)
    prompt = read_until(fd, b'Enter password: ')
    check(prompt.endswith(b'Enter password: '), 'prompt: %r' % prompt)
    os.write(fd, s['password'].encode() + b'\n')
    rest = read_until(fd, b'\x00never')
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    check(os.waitstatus_to_exitcode(status) == 0, 'exit status %r, output %r' % (status, rest))
    check(s['password'].encode() not in rest, 'the password was echoed: %r' % rest)
    check(rest.replace(b'\r\n', b'\n').endswith(b'a\n1\n'), 'output: %r' % rest)


def case_socket():
    s = server()
    expect(['-S', s['socket'], '-u', s['user'], '--password=' + s['password'], '--format', 'tsv',
            '-e', 'SELECT DATABASE() AS db', '--database', s['db']], b'db\nmywire_test\n')


PAD = 200  # bytes of padding per row, see case_streaming_memory


def max_rss_kib(args):
    """Runs the CLI, checks its tsv output of "seq, pad" on the fly, and
    returns (its max RSS in KiB, rows seen). wait4() gives the rusage of that
    one child."""
    env = dict(os.environ)
    env.pop('MYSQL_PWD', None)
    # Under ASan, freed memory sits in a quarantine (256 MB by default) and
    # would count as resident; keep it small so RSS reflects what is live.
    env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':quarantine_size_mb=1').lstrip(':')
    p = subprocess.Popen([CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    header, expected, pending = None, 1, b''
    while True:
        chunk = p.stdout.read(1 << 16)
        if not chunk:
            break
        lines = (pending + chunk).split(b'\n')
        pending = lines.pop()
        for line in lines:
            if header is None:
                header = line
                check(header == b'seq\tpad', 'header %r' % header)
                continue
            check(line == b'%d\t%s' % (expected, b'x' * PAD), 'row %d is %r' % (expected, line[:40]))
            expected += 1
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    check(p.returncode == 0 and pending == b'', 'exit %d, stderr %r' % (p.returncode, err))
    return usage.ru_maxrss, expected - 1


def is_sanitized():
    with open(CLI, 'rb') as f:
        return b'__asan_init' in f.read()


def case_streaming_memory():
    """tsv streams: 300000 rows must not make the client grow.

    A forked child's ru_maxrss starts at the RSS of this Python process (about
    14 MiB), and 300000 bare integers buffered fit below that, so each row
    carries PAD bytes: buffered, the result would take over 60 MiB."""
    sql = "SELECT seq, REPEAT('x', %d) AS pad FROM seq_1_to_%d"
    base = ['--uri', uri(), '--format', 'tsv', '-e']
    small_rss, rows = max_rss_kib(base + [sql % (PAD, 10)])
    check(rows == 10, 'rows %d' % rows)
    big_rss, rows = max_rss_kib(base + [sql % (PAD, 300000)])
    check(rows == 300000, 'rows %d' % rows)
    print('max RSS: %d KiB for 10 rows, %d KiB for 300000 rows' % (small_rss, big_rss))
    check(big_rss - small_rss < 8 * 1024, 'RSS grew by %d KiB' % (big_rss - small_rss))
    if not is_sanitized():
        check(big_rss < 32 * 1024, 'max RSS %d KiB is over 32 MiB' % big_rss)


def main():
    if len(sys.argv) != 3 or 'case_' + sys.argv[2] not in globals():
        cases = sorted(name[5:] for name in globals() if name.startswith('case_'))
        print('usage: test_cli.py PATH/TO/mywire CASE\ncases: ' + ' '.join(cases), file=sys.stderr)
        return 2
    try:
        globals()['case_' + sys.argv[2]]()
    except Failure as e:
        print('FAIL: %s' % e, file=sys.stderr)
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
