#!/usr/bin/env python3
"""Tests of the mywire command-line client (tools/mywire.c).

    test_cli.py PATH/TO/mywire CASE

Runs one case (a case_* function below). Cases that talk to a server read
the MYWIRE_TEST_* variables written by tests/server/mariadb.sh and fail when
they are missing. Expected outputs are spelled out byte for byte.
"""
import hashlib
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time

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
    # An unexpected argument is not echoed when it may be a secret: a URI
    # given without --uri shows with its secrets masked, a word not at all.
    for args, shown in ((['mysql://u:Secret-pw1@h:3306/db?ssl_key_password=Secret-pw2&password2=Secret-pw3'],
                         b"'mysql://u:xxxxxxxxxx@h:3306/db?ssl_key_password=xxxxxxxxxx&password2=xxxxxxxxxx'"),
                        (['mysql://u:Secret-pw1@h/', '-e', 'SELECT 1'], b"'mysql://u:xxxxxxxxxx@h/'"),
                        (['-p', 'Secret-pw1'], b'unexpected argument 2 (not shown'),
                        (['--password', 'Secret-pw1'], b'unexpected argument 2 (not shown')):
        code, out, err = run(args)
        check(code == 64 and out == b'' and err.startswith(b'mywire: unexpected argument '),
              'mywire %r: exit %d, stderr %r' % (args, code, err))
        check(b'Secret' not in err, 'mywire %r: a secret echoed: %r' % (args, err))
        check(shown in err, 'mywire %r: stderr %r lacks %r' % (args, err, shown))


def case_help_version():
    code, out, err = run(['--help'])
    check(code == 0 and err == b'' and out.startswith(b'Usage: mywire '), '--help: %d %r %r' % (code, out[:80], err))
    for word in (b'MYSQL_PWD', b'tsv', b'csv', b'json', b'NULL is written as \\N', b'64 bad usage',
                 b'--pipeline[=N]', b'have run on the server', b'130 interrupted (Ctrl-C)', b'Ctrl-C while a statement runs'):
        check(word in out, '--help mentions %r' % word)
    # The program and the library it loaded are of the version in mywire.h.
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'capi', 'mywire.h')
    with open(header, 'rb') as f:
        version = re.search(rb'^#define MYWIRE_VERSION_STRING "([^"]+)"$', f.read(), re.M).group(1)
    for flag in ('--version', '-V'):
        code, out, err = run([flag])
        check(code == 0 and err == b'' and out == b'mywire %s (libmywire %s)\n' % (version, version),
              '%s: %r' % (flag, out))


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


# ------------------------------------------------------------ TLS, --status

def certs(name):
    """A file made by tests/server/certs.sh for the test server."""
    d = os.environ.get('MYWIRE_TEST_CERTS')
    check(d, 'missing MYWIRE_TEST_CERTS: start tests/server/mariadb.sh and source DIR/env')
    return os.path.join(d, name)


def tcp_flags(password=True):
    """-h -P -u -D (and the password) of the test server over TCP."""
    s = server()
    return flags() + (['--password=' + s['password']] if password else [])


def socket_flags():
    s = server()
    return ['-S', s['socket'], '-u', s['user'], '-D', s['db'], '--password=' + s['password']]


# What the server says about the connection it serves, to hold --status to.
SERVER_VIEW = ("SELECT VERSION() AS v, CONNECTION_ID() AS id,"
               " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
               "  WHERE VARIABLE_NAME = 'Ssl_version') AS tls,"
               " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
               "  WHERE VARIABLE_NAME = 'Ssl_cipher') AS cipher,"
               " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
               "  WHERE VARIABLE_NAME = 'Compression') AS compression")


def status_of(args, env=None):
    """Runs --status plus SERVER_VIEW; returns (status lines, the server's view
    as a dict) after checking the exit status and stderr."""
    code, out, err = run(args + ['--status', '--format', 'tsv', '-e', SERVER_VIEW], env=env)
    check(code == 0 and err == b'', 'mywire %r: exit %d, stderr %r' % (args, code, err))
    lines = out.split(b'\n')
    check(len(lines) == 9 and lines[8] == b'', 'six status lines and a tsv result: %r' % out)
    check(lines[6] == b'v\tid\ttls\tcipher\tcompression', 'tsv header %r' % lines[6])
    view = dict(zip(('version', 'id', 'tls', 'cipher', 'compression'), lines[7].split(b'\t')))
    return lines[:6], view


def expected_status(view, transport, tls, compression, plugin=b'mysql_native_password'):
    return [b'Server version:  ' + view['version'],
            b'Connection id:   ' + view['id'],
            b'Transport:       ' + transport,
            b'TLS:             ' + tls,
            b'Compression:     ' + compression,
            b'Auth plugin:     ' + plugin]


def tls_text(view, verified):
    """The TLS line for what the server says was negotiated."""
    check(view['tls'].startswith(b'TLSv1.') and view['cipher'], 'the server sees TLS: %r' % view)
    return b'%s, cipher %s, server verified: %s' % (view['tls'], view['cipher'], verified)


def check_status(args, transport, tls, compression=b'none', verified=b'no', env=None):
    """tls: True (encrypted, TLS line from the server's view) or False."""
    got, view = status_of(args, env)
    if tls:
        tls_line = tls_text(view, verified)
    else:
        check(view['tls'] == b'' and view['cipher'] == b'', 'the server sees no TLS: %r' % view)
        tls_line = b'not encrypted'
    check(view['compression'] == (b'OFF' if compression == b'none' else b'ON'),
          'the server sees compression %r' % view['compression'])
    want = expected_status(view, transport, tls_line, compression)
    check(got == want, 'mywire %r --status:\n  got      %r\n  expected %r' % (args, got, want))
    return view


def tcp_transport():
    s = server()
    return b'tcp %s:%s' % (s['host'].encode(), s['port'].encode())


def case_status_socket():
    """--status over the unix socket: no TLS by default, the socket's path."""
    s = server()
    unix = b'unix socket ' + s['socket'].encode()
    check_status(socket_flags(), unix, tls=False)
    # Without statements --status only reports: standard input is not read.
    code, out, err = run(socket_flags() + ['--status'], stdin=b'SELECT 42 AS never;\n')
    check(code == 0 and err == b'', '--status alone: exit %d, stderr %r' % (code, err))
    lines = out.split(b'\n')
    check(len(lines) == 7 and lines[6] == b'' and lines[1].startswith(b'Connection id:   ')
          and lines[1][17:].isdigit(), '--status alone: %r' % out)
    check(lines[2:6] == [b'Transport:       ' + unix, b'TLS:             not encrypted',
                         b'Compression:     none', b'Auth plugin:     mysql_native_password'],
          '--status alone: %r' % out)
    # Explicitly disabled: the same.
    check_status(socket_flags() + ['--ssl-mode=disabled'], unix, tls=False)


def case_status_tls():
    """--status over TCP: encrypted with --ssl-mode=required, not verified."""
    check_status(tcp_flags() + ['--ssl-mode=required'], tcp_transport(), tls=True)
    check_status(tcp_flags() + ['--ssl-mode', 'REQUIRED'], tcp_transport(), tls=True)
    check_status(tcp_flags() + ['--ssl-mode=disabled'], tcp_transport(), tls=False)
    # The default over TCP is preferred: this server offers TLS, so it is used.
    check_status(tcp_flags(), tcp_transport(), tls=True)
    # The URI's key and the flag: the flag wins.
    check_status(['--uri', uri() + '?ssl_mode=disabled', '--ssl-mode=required'], tcp_transport(), tls=True)
    check_status(['--uri', uri() + '?ssl_mode=required'], tcp_transport(), tls=True)


def case_tls_verify():
    """The CA, the fingerprint and the verification they make."""
    tcp = tcp_transport()
    ca = certs('ca.pem')
    # A CA without a mode means verify_ca.
    check_status(tcp_flags() + ['--ssl-ca', ca], tcp, tls=True, verified=b'yes')
    check_status(tcp_flags() + ['--ssl-mode=verify_ca', '--ssl-ca=' + ca], tcp, tls=True, verified=b'yes')
    check_status(tcp_flags() + ['--ssl-mode=verify-identity', '--ssl-ca=' + ca], tcp, tls=True, verified=b'yes')
    check_status(tcp_flags() + ['--ssl-capath', certs('capath')], tcp, tls=True, verified=b'yes')
    check_status(tcp_flags() + ['--ssl-ca', ca, '--ssl-crl', certs('crl-good.pem')], tcp, tls=True,
                 verified=b'yes')
    with open(certs('server.sha256')) as f:
        fingerprint = f.read().strip()
    check_status(tcp_flags() + ['--ssl-mode=required', '--ssl-fingerprint=' + fingerprint], tcp, tls=True,
                 verified=b'yes')
    # Failures: a clear TLS error on one line, exit status 2, nothing on stdout.
    with open(certs('wronghost.sha256')) as f:
        wrong = f.read().strip()
    failures = (
        ('verify_ca without a CA', ['--ssl-mode=verify_ca'], VERIFY_WITHOUT_CA_ERROR),
        ('a CA that did not sign the server', ['--ssl-ca', certs('wrongca.pem')], UNTRUSTED_ERROR),
        ('another certificate\'s fingerprint', ['--ssl-mode=required', '--ssl-fingerprint', wrong],
         FINGERPRINT_ERROR),
        ('an unreadable CA file', ['--ssl-ca', '/nonexistent/ca.pem'], None),
        ('an unreadable CRL file', ['--ssl-ca', ca, '--ssl-crl', '/nonexistent/crl.pem'], None),
    )
    for name, args, message in failures:
        code, out, err = run(tcp_flags() + args + ['--status', '-e', 'SELECT 1'])
        check(code == 2 and out == b'', '%s: exit %d, stdout %r, stderr %r' % (name, code, out, err))
        check(err.startswith(b'mywire: ') and err.endswith(b'\n') and err.count(b'\n') == 1,
              '%s: one "mywire: " line on stderr: %r' % (name, err))
        if message is not None:
            check(err == b'mywire: ' + message + b'\n', '%s: stderr\n  got      %r\n  expected %r'
                  % (name, err, b'mywire: ' + message + b'\n'))


# The library's messages for the failures above (its own text, never the
# server's; the part in the inner parentheses is OpenSSL 3's). verify_ca
# without a CA trusts nothing that could have signed the test server's
# certificate, so it fails like a wrong CA.
UNTRUSTED_ERROR = (b"TLS verification failed: the server's certificate is not trusted"
                   b" (self-signed certificate in certificate chain) (ssl_mode=VERIFY_CA)")
VERIFY_WITHOUT_CA_ERROR = UNTRUSTED_ERROR
FINGERPRINT_ERROR = b"TLS verification failed: the server's certificate does not match ssl_fingerprint"


def case_tls_options():
    """Cipher suites, versions and client certificates reach the handshake."""
    tcp = tcp_transport()
    view = check_status(tcp_flags() + ['--ssl-mode=required', '--tls-ciphersuites=TLS_AES_128_GCM_SHA256'],
                        tcp, tls=True)
    check(view['cipher'] == b'TLS_AES_128_GCM_SHA256' and view['tls'] == b'TLSv1.3', 'cipher %r' % view)
    view = check_status(tcp_flags() + ['--ssl-mode=required', '--tls-version=TLSv1.3'], tcp, tls=True)
    check(view['tls'] == b'TLSv1.3', 'version %r' % view)
    # Lists that match nothing fail the setup, before anything is sent.
    for args, message in (
            (['--ssl-cipher=NOPE'], b'TLS setup failed: no usable cipher in ssl_cipher (no cipher match)'),
            (['--tls-ciphersuites=NOPE'],
             b'TLS setup failed: no usable cipher suite in tls_ciphersuites (no cipher match)')):
        expect(tcp_flags() + ['--ssl-mode=required'] + args + ['--status'], err=b'mywire: ' + message + b'\n',
               code=2)
    # A REQUIRE X509 account: in with the client certificate, out without.
    s = server()
    x509 = ['-h', s['host'], '-P', s['port'], '-D', s['db'], '-u', os.environ.get('MYWIRE_TEST_X509_USER', ''),
            '--password=' + os.environ.get('MYWIRE_TEST_X509_PASSWORD', ''), '--ssl-mode=required']
    client = ['--ssl-cert', certs('client.pem'), '--ssl-key', certs('client.key')]
    expect(x509 + client + ['--format', 'tsv', '-e', 'SELECT 1 AS a'], b'a\n1\n')
    code, out, err = run(x509 + ['-e', 'SELECT 1'])
    check(code == 1 and err.startswith(b'ERROR 1045 (28000): Access denied for user '),
          'no client certificate: exit %d, stderr %r' % (code, err))
    # The encrypted key: its passphrase from the variable, the flag (which wins) or the URI.
    with open(certs('client-key.pass')) as f:
        passphrase = f.read()
    enc = ['--ssl-cert', certs('client.pem'), '--ssl-key', certs('client-enc.key')]
    tsv = ['--format', 'tsv', '-e', 'SELECT 1 AS a']
    expect(x509 + enc + tsv, b'a\n1\n', env={'MYWIRE_SSL_KEY_PASSWORD': passphrase})
    expect(x509 + enc + ['--ssl-key-password=' + passphrase] + tsv, b'a\n1\n',
           env={'MYWIRE_SSL_KEY_PASSWORD': 'wrong'})
    for name, args, env in (('a wrong passphrase', ['--ssl-key-password=wrong'], {}),
                            ('no passphrase', [], {})):
        code, out, err = run(x509 + enc + args + tsv, env=env)
        check(code == 2 and out == b'' and err.startswith(b'mywire: ') and err.count(b'\n') == 1,
              '%s: exit %d, stdout %r, stderr %r' % (name, code, out, err))
        check(passphrase.encode() not in err, '%s: the passphrase is in the message %r' % (name, err))


def case_tls_over_socket():
    """TLS over the unix socket when asked for."""
    s = server()
    check_status(socket_flags() + ['--ssl-mode=required'], b'unix socket ' + s['socket'].encode(), tls=True)


def case_compress():
    """--compress: zlib (MariaDB has no zstd), over TCP, TLS and the socket."""
    tcp = tcp_transport()
    check_status(tcp_flags() + ['--compress', '--ssl-mode=disabled'], tcp, tls=False, compression=b'zlib')
    check_status(tcp_flags() + ['--compress=zlib', '--ssl-mode=required'], tcp, tls=True, compression=b'zlib')
    check_status(socket_flags() + ['--compress=on'], b'unix socket ' + server()['socket'].encode(),
                 tls=False, compression=b'zlib')
    check_status(['--uri', uri() + '?compress=zlib', '--ssl-mode=disabled'], tcp, tls=False, compression=b'zlib')
    # A value bigger than one compressed packet comes back whole.
    expect(tcp_flags() + ['--compress', '--format', 'tsv', '-e',
                          "SELECT LENGTH(REPEAT('ab', 5000000)) AS n, MD5(REPEAT('ab', 5000000)) AS m,"
                          " RIGHT(REPEAT('ab', 5000000), 4) AS t"],
           b'n\tm\tt\n10000000\t%s\tabab\n' % hashlib.md5(b'ab' * 5000000).hexdigest().encode())
    # zstd asked for, the server has only zlib: a clear error, not plain text.
    code, out, err = run(tcp_flags() + ['--compress=zstd', '--status'])
    check(code == 2 and out == b'' and err.startswith(b'mywire: ') and err.count(b'\n') == 1,
          '--compress=zstd: exit %d, stdout %r, stderr %r' % (code, out, err))
    check(err == b'mywire: ' + ZSTD_ERROR + b'\n', '--compress=zstd: stderr %r' % err)


ZSTD_ERROR = b'the server does not support zstd compression (compress=zstd)'


def case_tls_usage():
    """Bad values of the new flags: exit 64, a message naming the flag, the usage."""
    usage_tail = (b'Usage: mywire [--uri URI | -h HOST -P PORT -S SOCKET -u USER -D DB]\n'
                  b'              [--password[=PW]] [--ssl-mode MODE] [--compress[=ALG]]\n'
                  b'              [OPTION]... [--status] [--format FORMAT] [--pipeline[=N] | --ps]\n'
                  b'              [-e SQL]...\n'
                  b"Try 'mywire --help' for more information.\n")
    expect(['--ssl-mode=bogus', '-e', 'SELECT 1'],
           err=b"mywire: unknown ssl mode 'bogus' (expected disabled, preferred, required, verify_ca or "
               b"verify_identity)\n" + usage_tail, code=64)
    expect(['--ssl-mode', '', '-e', 'SELECT 1'],
           err=b"mywire: unknown ssl mode '' (expected disabled, preferred, required, verify_ca or "
               b"verify_identity)\n" + usage_tail, code=64)
    expect(['--compress=lz4'], err=b"mywire: unknown compression 'lz4' (expected zlib, zstd or on)\n" + usage_tail,
           code=64)
    # Rejected by the library: its message, after the flag's name.
    expect(['--tls-version=TLSv1.1'],
           err=b"mywire: bad --tls-version: invalid value for option 'tls_version' (TLSv1.2, TLSv1.3 or a list)\n"
               + usage_tail, code=64)
    for args, prefix in ((['--compression-level=0'], b'mywire: bad --compression-level: '),
                         (['--compression-level', '23'], b'mywire: bad --compression-level: '),
                         (['--ssl-fingerprint=00:11'], b'mywire: bad --ssl-fingerprint: ')):
        code, out, err = run(args + ['-e', 'SELECT 1'])
        check(code == 64 and out == b'' and err.startswith(prefix) and err.endswith(b'\n' + usage_tail),
              'mywire %r: exit %d, stderr %r' % (args, code, err))
    for args in (['--status=yes'], ['--get-server-public-key=1'], ['--enable-cleartext-plugin=0'],
                 ['--allow-unverified-tls-password=1'],
                 ['--ssl-ca'], ['--tls-version'], ['--password2x']):
        code, out, err = run(args)
        check(code == 64 and out == b'' and err.startswith(b'mywire: ') and err.endswith(usage_tail),
              'mywire %r: exit %d, stderr %r' % (args, code, err))
    # The flags without a value are accepted (their effect needs a MySQL server).
    expect(tcp_flags() + ['--get-server-public-key', '--enable-cleartext-plugin', '--allow-unverified-tls-password',
                          '--server-public-key-path',
                          '/nonexistent/key.pem', '--format', 'tsv', '-e', 'SELECT 1 AS a'], b'a\n1\n')
    code, out, err = run(['--help'])
    for word in (b'--ssl-mode MODE', b'--ssl-ca FILE', b'--ssl-capath DIR', b'--ssl-cert FILE', b'--ssl-key FILE',
                 b'--ssl-key-password[=PW]', b'MYWIRE_SSL_KEY_PASSWORD', b'--ssl-crl FILE', b'--ssl-crlpath DIR',
                 b'--tls-version LIST', b'--ssl-cipher LIST', b'--tls-ciphersuites LIST', b'--ssl-fingerprint HEX',
                 b'--server-public-key-path FILE', b'--get-server-public-key', b'--enable-cleartext-plugin',
                 b'--compress[=ALG]', b'--compression-level N', b'--password2[=PW]', b'--password3[=PW]',
                 b'MYWIRE_PASSWORD2', b'--status', b'--allow-unverified-tls-password',
                 b'open to a man in the middle', b'--stmt-cache N'):
        check(word in out, '--help mentions %r' % word)


def cmdline_while_running(args, env=None):
    """The CLI's /proc/PID/cmdline while it runs a slow statement."""
    full_env = {k: v for k, v in os.environ.items() if k != 'MYSQL_PWD'}
    full_env.update(env or {})
    p = subprocess.Popen([CLI] + args + ['-e', 'SELECT SLEEP(1.5)'], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=full_env)
    try:
        time.sleep(0.7)
        with open('/proc/%d/cmdline' % p.pid, 'rb') as f:
            cmdline = f.read()
    finally:
        out, err = p.communicate(timeout=60)
    check(p.returncode == 0, 'mywire %r: exit %d, stderr %r' % (args, p.returncode, err))
    return cmdline


def case_secrets():
    """Secrets given as values are overwritten in the arguments; the second and
    third factor and the key passphrase come from their variables."""
    s = server()
    pw = s['password']
    cmdline = cmdline_while_running(flags() + ['--password=' + pw, '--password2=factor-2',
                                               '--ssl-key-password=pass-phrase'])
    check(pw.encode() not in cmdline and b'factor-2' not in cmdline and b'pass-phrase' not in cmdline,
          'a secret is still in the arguments: %r' % cmdline)
    check(b'--password=' + b'x' * len(pw) + b'\x00' in cmdline and b'--password2=xxxxxxxx\x00' in cmdline
          and b'--ssl-key-password=xxxxxxxxxxx\x00' in cmdline, 'the arguments: %r' % cmdline)
    cmdline = cmdline_while_running(flags() + ['-p' + pw])
    check(b'\x00-p' + b'x' * len(pw) + b'\x00' in cmdline, 'the arguments: %r' % cmdline)
    # The secrets of --uri X and --uri=X: the userinfo's password and the
    # secret query keys (one %-encoded key), masked in place once copied.
    query = '?ssl_key_password=Key-Pass-1&password2=Factor-22&pass%77ord3=Factor-333&ssl_mode=preferred'
    masked = b'?ssl_key_password=xxxxxxxxxx&password2=xxxxxxxxx&pass%77ord3=xxxxxxxxxx&ssl_mode=preferred'
    for form in (lambda u: ['--uri', u], lambda u: ['--uri=' + u]):
        cmdline = cmdline_while_running(form(uri() + query) + ['--format', 'tsv'])
        for secret in (pw, 'Key-Pass-1', 'Factor-22', 'Factor-333'):
            check(secret.encode() not in cmdline, 'the URI secret %r is still in the arguments: %r' % (secret, cmdline))
        check(uri(password='x' * len(pw)).encode() + masked + b'\x00' in cmdline, 'the arguments: %r' % cmdline)
    # MariaDB never asks for a 2nd factor: the values are accepted and unused.
    tsv = ['--format', 'tsv', '-e', 'SELECT 1 AS a']
    expect(tcp_flags() + ['--password2=two', '--password3=three'] + tsv, b'a\n1\n')
    expect(tcp_flags() + tsv, b'a\n1\n', env={'MYWIRE_PASSWORD2': 'two', 'MYWIRE_PASSWORD3': 'three'})


def case_secret_prompts():
    """--password2, --password3 and --ssl-key-password without a value ask on
    the terminal, in that order after the password; without a terminal, a
    clear error."""
    s = server()
    with open(certs('client-key.pass')) as f:
        passphrase = f.read()
    args = ['-h', s['host'], '-P', s['port'], '-D', s['db'], '-u', os.environ.get('MYWIRE_TEST_X509_USER', ''),
            '--password', '--password2', '--password3', '--ssl-mode=required', '--ssl-cert', certs('client.pem'),
            '--ssl-key', certs('client-enc.key'), '--ssl-key-password', '--format', 'tsv', '-e', 'SELECT 1 AS a']
    pid, fd = pty.fork()
    if pid == 0:
        env = {k: v for k, v in os.environ.items() if k != 'MYSQL_PWD'}
        os.execve(CLI, [CLI] + args, env)
    answers = ((b'Enter password: ', os.environ.get('MYWIRE_TEST_X509_PASSWORD', '')),
               (b'Enter password 2: ', 'second'), (b'Enter password 3: ', 'third'),
               (b"Enter the key's passphrase: ", passphrase))
    seen = b''
    for prompt, answer in answers:
        got = read_until(fd, prompt)
        seen += got
        check(got.endswith(prompt), 'prompt %r: got %r' % (prompt, got))
        os.write(fd, answer.encode() + b'\n')
    rest = read_until(fd, b'\x00never')
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    check(os.waitstatus_to_exitcode(status) == 0, 'exit status %r, output %r' % (status, seen + rest))
    for _, answer in answers:
        check(answer.encode() not in seen + rest, 'an answer was echoed: %r' % (seen + rest))
    check(rest.replace(b'\r\n', b'\n').endswith(b'a\n1\n'), 'output: %r' % rest)
    # No controlling terminal (a new session): no prompt, a clear error.
    for flag, what in (('--password2', b'password'), ('--ssl-key-password', b"key's passphrase")):
        p = subprocess.run([CLI] + tcp_flags() + [flag, '-e', 'SELECT 1'], capture_output=True,
                           start_new_session=True, timeout=60)
        check(p.returncode == 2 and p.stdout == b'' and p.stderr == b'mywire: cannot prompt for the %s: no terminal\n'
              % what, '%s without a terminal: exit %d, stderr %r' % (flag, p.returncode, p.stderr))


# ------------------------------------------------------------- Ctrl-C

def sql_rows(sql):
    """Runs sql with the CLI over the unix socket; the tsv rows without the header."""
    code, out, err = run(socket_flags() + ['--format', 'tsv', '-e', sql])
    check(code == 0, 'helper query %r: exit %d, stderr %r' % (sql, code, err))
    return out.split(b'\n')[1:-1]


def running(marker):
    """The ids of the server threads running a statement that contains marker."""
    return sql_rows("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%%%s%%' "
                    "AND INFO NOT LIKE '%%PROCESSLIST%%'" % marker)


def wait_running(marker, count=1, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ids = running(marker)
        if len(ids) >= count:
            return ids
        time.sleep(0.05)
    raise Failure('the statement %r did not start on the server' % marker)


def start_cli(args, stdin=None, sigint=signal.SIG_DFL):
    """Starts the CLI with SIGINT's disposition set to sigint: a child inherits
    an ignored SIGINT (CI may run us as a background job), and the CLI keeps
    an ignored one ignored, so the Ctrl-C cases must not depend on it."""
    env = {k: v for k, v in os.environ.items() if k != 'MYSQL_PWD'}
    return subprocess.Popen([CLI] + args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))


def read_stdout_until(p, want, limit=30.0):
    """Reads the CLI's stdout until it ends with want; returns what was read."""
    got = b''
    deadline = time.monotonic() + limit
    while not got.endswith(want):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
            raise Failure('the CLI did not print %r (got %r)' % (want, got))
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            raise Failure('the CLI ended before printing %r (got %r)' % (want, got))
        got += chunk
    return got


def wait_reading_stdin(p, limit=30.0):
    """Waits until the CLI's main thread is blocked in read(0, ...): idle,
    between statements (Linux: /proc/PID/syscall)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open('/proc/%d/syscall' % p.pid) as f:
                if f.read().startswith('0 0x0 '):
                    return
        except OSError:
            pass
        time.sleep(0.01)
    raise Failure('the CLI did not wait for standard input')


def interrupt(p, marker, count=1, stdin=None):
    """Sends SIGINT once marker runs on the server; returns (seconds to exit, code, out, err)."""
    if stdin is not None:
        p.stdin.write(stdin)
        p.stdin.flush()
    wait_running(marker, count)
    started = time.monotonic()
    p.send_signal(2)
    out, err = p.communicate(timeout=30)
    return time.monotonic() - started, p.returncode, out, err


def case_ctrl_c():
    """Ctrl-C during a statement cancels it on the server and exits 130 with a
    clear message; when no statement runs it ends the CLI as before."""
    marker = 'ctrl_c_%dx' % os.getpid()
    p = start_cli(tcp_flags() + ['-e', 'SELECT SLEEP(30) AS %s' % marker])
    took, code, out, err = interrupt(p, marker)
    check(err == b'mywire: query cancelled (Ctrl-C); the server stopped it\n' and out == b'' and code == 130,
          'Ctrl-C: exit %d, stdout %r, stderr %r' % (code, out, err))
    check(took < 2.0, 'Ctrl-C took %.2f s' % took)
    check(running(marker) == [], 'the statement still runs on the server after Ctrl-C')
    # The output before the cancelled statement is kept.
    p = start_cli(socket_flags() + ['--format', 'tsv'], stdin=b'')
    took, code, out, err = interrupt(p, marker, stdin=b'SELECT 1 AS a; SELECT SLEEP(30) AS %s;\n' % marker.encode())
    # (tsv streams: the column name came before the cancel.)
    check((code, out, err) == (130, b'a\n1\n%s\n' % marker.encode(),
                               b'mywire: query cancelled (Ctrl-C); the server stopped it\n'),
          'Ctrl-C on stdin: exit %d, stdout %r, stderr %r' % (code, out, err))
    check(running(marker) == [], 'the statement still runs on the server after Ctrl-C')
    # No statement running (waiting for standard input, once the first
    # statement's output is out): SIGINT ends it.
    p = start_cli(socket_flags() + ['--format', 'tsv'], stdin=b'')
    p.stdin.write(b'SELECT 1 AS a;\n')
    p.stdin.flush()
    read_stdout_until(p, b'a\n1\n')
    wait_reading_stdin(p)
    p.send_signal(2)
    out, err = p.communicate(timeout=10)
    check(p.returncode == -2, 'SIGINT while idle: exit %r, stderr %r' % (p.returncode, err))
    # Started with SIGINT ignored (a background job, nohup): it stays ignored,
    # idle and while a statement runs, which then ends on its own.
    p = start_cli(socket_flags() + ['--format', 'tsv'], stdin=b'', sigint=signal.SIG_IGN)
    p.stdin.write(b'SELECT 1 AS a;\n')
    p.stdin.flush()
    read_stdout_until(p, b'a\n1\n')
    wait_reading_stdin(p)
    p.send_signal(2)
    p.stdin.write(b'SELECT SLEEP(1) AS %s;\n' % marker.encode())
    p.stdin.flush()
    wait_running(marker)
    p.send_signal(2)
    out, err = p.communicate(timeout=30)
    check((p.returncode, out, err) == (0, b'%s\n0\n' % marker.encode(), b''),
          'SIGINT ignored by the parent: exit %r, stdout %r, stderr %r' % (p.returncode, out, err))
    # Pipelined: the running step is cancelled, and so is the sleep sent behind it.
    p = start_cli(socket_flags() + ['--pipeline', '--format', 'tsv'], stdin=b'')
    script = b'SELECT 1 AS a; SELECT SLEEP(30) AS %s; SELECT SLEEP(30) AS %s_2; SELECT 3 AS c' % (
        marker.encode(), marker.encode())
    p.stdin.write(script)
    p.stdin.close()
    p.stdin = None
    took, code, out, err = interrupt(p, marker)
    check(code == 130 and out == b'a\n1\n' and took < 2.0, 'pipelined Ctrl-C: exit %d after %.2f s, stdout %r, '
          'stderr %r' % (code, took, out, err))
    check(err == b'mywire: statement 2 was cancelled; statements 3-4 were already sent (--pipeline) and ran: '
          b'3 cancelled, 4 succeeded\n'
          b'mywire: query cancelled (Ctrl-C); the server stopped it\n', 'pipelined Ctrl-C: stderr %r' % err)
    check(running(marker) == [], 'a pipelined statement still runs on the server after Ctrl-C')


class StallingProxy:
    """Forwards its first connection to the server; later ones (mywire_cancel's
    side connection) are accepted and never answered."""

    def __init__(self, host, port):
        import threading
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import threading
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted > 1:
                self.held.append(client)
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for sock in (a, b):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def case_ctrl_c_abort():
    """A second Ctrl-C aborts at once when the cancel cannot reach the server:
    the connection is closed, and the message says the statement may still
    run (with its connection id, to kill it by hand)."""
    s = server()
    marker = 'ctrl_c_abort_%dx' % os.getpid()
    proxy = StallingProxy(s['host'], s['port'])
    p = start_cli(['-h', '127.0.0.1', '-P', str(proxy.port), '-u', s['user'], '-D', s['db'],
                   '--password=' + s['password'], '-e', 'SELECT SLEEP(30) AS %s' % marker])
    ids = wait_running(marker)
    p.send_signal(2)
    deadline = time.monotonic() + 10
    while proxy.accepted < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    check(proxy.accepted >= 2, 'the first Ctrl-C did not try to cancel')
    time.sleep(0.3)
    check(p.poll() is None, 'the CLI ended before the second Ctrl-C')
    started = time.monotonic()
    p.send_signal(2)
    out, err = p.communicate(timeout=10)
    took = time.monotonic() - started
    try:
        check(p.returncode == 130 and took < 1.0, 'second Ctrl-C: exit %d after %.2f s, stderr %r'
              % (p.returncode, took, err))
        check(err == b'mywire: aborted (second Ctrl-C); the connection was closed, but the cancel had not reached '
              b'the server: the statement may still be running there (connection id %s)\n' % ids[0],
              'second Ctrl-C: stderr %r' % err)
    finally:
        for thread_id in running(marker):
            run(socket_flags() + ['-e', 'KILL QUERY %s' % thread_id.decode()])


# ----------------------------------------------------------- --pipeline

def pipeline_script(table, rows=32):
    """~50 statements: DDL, INSERTs, UPDATEs, one- and multi-row SELECTs."""
    parts = ['DROP TABLE IF EXISTS %s' % table,
             'CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(20), n DOUBLE NULL)' % table]
    for i in range(1, rows + 1):
        parts.append("INSERT INTO %s VALUES (%d, 'v%d', %s)" % (table, i, i, 'NULL' if i % 3 == 0 else i / 4))
        if i % 4 == 0:
            parts.append('SELECT COUNT(*) AS c, SUM(id) AS s FROM %s' % table)
    parts += ["UPDATE %s SET v = CONCAT(v, '\\tx') WHERE id %% 5 = 0" % table,
              'SELECT * FROM %s ORDER BY id' % table,
              'SELECT * FROM %s WHERE id > 1000' % table,
              "DO 1", "SELECT 'a;b' AS `semi;colon`, NULL AS nul",
              'DELETE FROM %s WHERE id > 28' % table,
              'SELECT id, v FROM %s WHERE id > 10 ORDER BY id DESC' % table]
    return parts


def case_pipeline():
    """--pipeline prints byte for byte what the statements print without it,
    in every format and batch size, from standard input and from -e."""
    table = 'cli_pipe_%d' % os.getpid()
    parts = pipeline_script(table)
    check(len(parts) >= 45, 'the script has %d statements' % len(parts))
    script = (';\n'.join(parts) + ';\n').encode()
    def fresh():  # each run starts with the table there: DROP gives no warning
        run(socket_flags() + ['-e', 'CREATE TABLE IF NOT EXISTS %s (id INT)' % table])
    for fmt in ('table', 'tsv', 'json'):
        fresh()
        want = run(socket_flags() + ['--format', fmt], stdin=script)
        check(want[0] == 0 and want[2] == b'' and b'v20' in want[1], 'without --pipeline: %r' % (want,))
        for flag in ('--pipeline', '--pipeline=1', '--pipeline=7', '--pipeline=10000'):
            fresh()
            got = run(socket_flags() + ['--format', fmt, flag], stdin=script)
            check(got == want, '%s --format %s: got %r\nexpected %r' % (flag, fmt, got, want))
    # -e texts are split into statements and pipelined together.
    fresh()
    want = run(socket_flags() + ['--format', 'tsv', '-e', parts[0], '-e', ';'.join(parts[1:])])
    fresh()
    got = run(socket_flags() + ['--format', 'tsv', '--pipeline=5', '-e', parts[0], '-e', ';'.join(parts[1:])])
    check(want[0] == 0 and got == want, '-e: got %r\nexpected %r' % (got, want))
    run(socket_flags() + ['-e', 'DROP TABLE %s' % table])
    for bad in ('--pipeline=0', '--pipeline=10001', '--pipeline=x', '--pipeline=', '--pipeline=-1'):
        code, out, err = run([bad, '-e', 'SELECT 1'])
        check(code == 64 and out == b'' and b'bad --pipeline' in err, '%s: exit %d, stderr %r' % (bad, code, err))


def case_pipeline_error():
    """With a failing statement: the same output up to it, the same error and
    exit status, then one line telling which later statements of its batch
    had been sent and how each ended; the table shows they ran."""
    table = 'cli_pipe_err_%d' % os.getpid()
    parts = ['DROP TABLE IF EXISTS %s' % table, 'CREATE TABLE %s (id INT PRIMARY KEY)' % table]
    parts += ['INSERT INTO %s VALUES (%d)' % (table, i) for i in range(1, 11)]   # statements 3-12
    parts += ['SELECT COUNT(*) AS c FROM %s' % table,                            # 13
              'INSERT INTO %s VALUES (1)' % table,                               # 14: duplicate
              'INSERT INTO %s VALUES (11)' % table,                              # 15
              'SELECT * FROM nope']                                              # 16
    parts += ['INSERT INTO %s VALUES (%d)' % (table, i) for i in range(12, 25)]  # 17-29
    script = (';\n'.join(parts) + ';\n').encode()
    dup = b"ERROR 1062 (23000): Duplicate entry '1' for key 'PRIMARY'\n"
    code, out, err = run(socket_flags() + ['--format', 'tsv'], stdin=script)
    check((code, out, err) == (1, b'c\n10\n', dup), 'without --pipeline: %r' % ((code, out, err),))
    check(sql_rows('SELECT COUNT(*) FROM %s' % table) == [b'10'], 'without --pipeline: the later statements ran')
    cases = (('--pipeline=10', b'mywire: statement 14 failed; statements 15-20 were already sent (--pipeline) and '
              b'ran: 15 succeeded, 16 failed (ERROR 1146), 17-20 succeeded\n', 15),
             ('--pipeline', b'mywire: statement 14 failed; statements 15-29 were already sent (--pipeline) and '
              b'ran: 15 succeeded, 16 failed (ERROR 1146), 17-29 succeeded\n', 24),
             ('--pipeline=14', b'', 10))
    for flag, report, count in cases:
        got = run(socket_flags() + ['--format', 'tsv', flag], stdin=script)
        check(got == (1, b'c\n10\n', dup + report), '%s: got %r\nexpected %r' % (flag, got, (1, b'c\n10\n', dup + report)))
        check(sql_rows('SELECT COUNT(*), MAX(id) FROM %s' % table) == [b'%d\t%d' % (count, count)],
              '%s: the table holds %r' % (flag, sql_rows('SELECT COUNT(*), MAX(id) FROM %s' % table)))
    run(socket_flags() + ['-e', 'DROP TABLE %s' % table])


# ----------------------------------------------------------------- --ps

PS_TYPES_SETUP = (
    "DROP TABLE IF EXISTS cli_ps; "
    "CREATE TABLE cli_ps (ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT, "
    "bi BIGINT, bu BIGINT UNSIGNED, z INT(6) ZEROFILL, f FLOAT, f72 FLOAT(7,2), d DOUBLE, "
    "d103 DOUBLE(10,3), dec65 DECIMAL(65,30), y YEAR, dt DATE, tm TIME(3), dtm DATETIME(6), "
    "ts TIMESTAMP(2) NULL, c CHAR(3), v VARCHAR(20), tx TEXT, bl BLOB, e ENUM('a','b'), "
    "st SET('x','y'), bt BIT(12), j JSON); "
    "INSERT INTO cli_ps VALUES (-128, 255, -32768, -8388608, -2147483648, -9223372036854775808, "
    "18446744073709551615, 42, 3.4028235e38, 12.345, 0.1+0.2, 1234567.891, "
    "'-12345678901234567890123456789012345.123456789012345678901234567890', 1901, '1000-01-01', "
    "'-838:59:59.999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.99', 'ab', '\U0001F600 x', "
    "'', x'00ff0a', 'b', 'x,y', b'101010101010', '{\"k\": [1, 2.5, null]}'), "
    "(127, 0, 32767, 8388607, 2147483647, 9223372036854775807, 0, 0, -1.17549435e-38, -0.0, "
    "2.2250738585072014e-308, -0.0005, 0, 2155, '2024-02-29', '00:00:00', '2024-01-01 00:00:00', NULL, "
    "NULL, NULL, NULL, NULL, NULL, '', b'0', NULL), "
    "(0, 1, 0, 0, 0, 0, 1, 1, 1e-45, 99999.99, 1.7976931348623157e308, 0, 0.000000000000000000000000000001, "
    "0, '0000-00-00', '838:59:59', '0000-00-00 00:00:00', NULL, 'z', '', 'x', '', 'a', 'y', b'1', '[]')")


def case_ps():
    """--ps prints exactly what the text protocol prints, for every type and format."""
    code, out, err = run(socket_flags() + ['-e', "SET SESSION sql_mode=''; " + PS_TYPES_SETUP])
    check(code == 0, 'setup failed: %r' % err)
    queries = ['SELECT * FROM cli_ps',
               'SELECT 1, -2.5e0, 1e20, 0.1+0.2e0, 1e-7, 123456789012345678e0, CAST(1.5 AS FLOAT), NULL, '
               "x'00', CAST('-00:00:01.5' AS TIME(1)), 18446744073709551615",
               'SELECT seq, seq * 1.5e0, seq / 7 FROM seq_1_to_50']
    for q in queries:
        for fmt in ('table', 'tsv', 'csv', 'json'):
            text = run(socket_flags() + ['--format', fmt, '-e', q])
            ps = run(socket_flags() + ['--ps', '--format', fmt, '-e', q])
            check(text[0] == 0 and text == ps, '--ps differs (%s, %s):\n  text %r\n  ps   %r' % (fmt, q, text, ps))
    # Several statements in one -e: each is prepared on its own.
    expect(socket_flags() + ['--ps', '--format', 'tsv', '-e', 'SELECT 1 AS a; SELECT 2 AS b'], out=b'a\n1\nb\n2\n')
    # What the server cannot prepare, or placeholders without values: clear errors.
    code, out, err = run(socket_flags() + ['--ps', '-e', 'SELECT ?'])
    check(code != 0 and b'placeholder' in err, '--ps with a placeholder: %d %r' % (code, err))
    # --stmt-cache: a text that comes again reuses its statement (SHOW is
    # prepared too, before it runs: 1 + 1 prepares with the cache, 3 without).
    status = "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'"
    for flags, prepares in ((['--stmt-cache', '4'], b'2'), ([], b'3'), (['--stmt-cache=0'], b'3')):
        expect(socket_flags() + ['--ps', '--format', 'tsv'] + flags + ['-e', 'SELECT 1 AS a', '-e', 'SELECT 1 AS a',
                                                                        '-e', status],
               out=b'a\n1\na\n1\nVariable_name\tValue\nCom_stmt_prepare\t' + prepares + b'\n')
    code, out, err = run(socket_flags() + ['--ps', '--stmt-cache', '4097', '-e', 'SELECT 1'])
    check(code == 64 and err.startswith(b'mywire: bad --stmt-cache: '), '--stmt-cache 4097: %d %r' % (code, err))
    expect(['--ps', '--pipeline', '-e', 'SELECT 1'],
           err=b'mywire: --ps and --pipeline cannot be combined\n' + USAGE_TAIL, code=64)
    run(socket_flags() + ['-e', 'DROP TABLE cli_ps'])


USAGE_TAIL = (b'Usage: mywire [--uri URI | -h HOST -P PORT -S SOCKET -u USER -D DB]\n'
              b'              [--password[=PW]] [--ssl-mode MODE] [--compress[=ALG]]\n'
              b'              [OPTION]... [--status] [--format FORMAT] [--pipeline[=N] | --ps]\n'
              b'              [-e SQL]...\n'
              b"Try 'mywire --help' for more information.\n")


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
