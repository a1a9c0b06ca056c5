#!/usr/bin/env python3
"""Writes tests/unit/values_parity_data.inc: what a real server sends for the
same values through the text protocol (COM_QUERY) and the binary protocol
(COM_STMT_PREPARE + COM_STMT_EXECUTE), for test_values.cpp to check that
parse_binary_row + to_text give the text protocol's bytes.

Run against a throwaway server (tests/server/mariadb.sh), then commit the
.inc it writes:
    bash tests/server/mariadb.sh start /tmp/parity-db; source /tmp/parity-db/env
    python3 tests/unit/values_parity.py
    bash tests/server/mariadb.sh stop /tmp/parity-db
It speaks the protocol itself (stdlib only: login with mysql_native_password
over TCP, no TLS), so it needs no client library.
"""
import hashlib
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Statements run in order; the results of the SELECTs are recorded.
SQL = r"""
SET sql_mode='';
CREATE OR REPLACE TABLE parity_real (id INT PRIMARY KEY, f FLOAT, d DOUBLE, f72 FLOAT(7,2), d103 DOUBLE(10,3), fz FLOAT ZEROFILL, dz DOUBLE ZEROFILL, f72z FLOAT(7,2) ZEROFILL, d2510 DOUBLE(25,10));
INSERT INTO parity_real VALUES
 (1, 0.1, 0.1, 12345.67, 1234567.891, 1.5, 2.5, 1.5, 123456789012.0123456789),
 (2, -0.0, -0.0, -0.01, -0.001, 0, 0, 0, 0),
 (3, 3.40282347e38, 1.7976931348623157e308, 99999.99, 9999999.999, 16777217, 0.30000000000000004, 99999.99, 0.1),
 (4, 1.401298464324817e-45, 4.9e-324, -99999.99, -9999999.999, 1e20, 1e20, 0.005, 1e-10),
 (5, 1.17549435e-38, 2.2250738585072014e-308, 0.5, 0.0625, 1e-10, 1e-10, 12.5, 9999.99999),
 (6, 123456789, 123456789012345680000, 1, 2, 3, 4, 5, 6),
 (7, 1e-5, 1e-5, 0.12, 0.062, 0.0000123, 1.2345678901234567e-10, 1, 1e15),
 (8, 1e15, 1e15, 0, 0, 1e14, 1e14, 0, 0),
 (9, 1e16, 1e16, 0, 0, 1e16, 1e16, 0, 0),
 (10, 1234565, 1234567890123456.8, 0, 0, 1234575, 12345678901234567, 0, 0);
SELECT * FROM parity_real ORDER BY id;
SELECT 1e20, 1e-5, 123456789012345680000e0, 0.1e0 + 0.2e0, -0.0e0, 1.7976931348623157e308, 1e15, 1e14, 1e-14, 1e-15, 1.5e-15, 5e-324, 1e0/3, -2.5e-10, CAST(3.4028235e38 AS FLOAT), CAST(1e-45 AS FLOAT), CAST(0.1 AS FLOAT), ROUND(1.5e0, 3), ROUND(-0.001e0, 2), ROUND(1e300, 2);
CREATE OR REPLACE TABLE parity_int (id INT PRIMARY KEY, t TINYINT, tu TINYINT UNSIGNED, s SMALLINT, su SMALLINT UNSIGNED, m MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, b BIGINT, bu BIGINT UNSIGNED, iz INT ZEROFILL, tz TINYINT(3) ZEROFILL, bz BIGINT ZEROFILL, mz MEDIUMINT(4) ZEROFILL, y YEAR, y2 YEAR(2), bit12 BIT(12), bit64 BIT(64));
INSERT INTO parity_int VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, 0, 0, 0, 0, 0, b'0', b'0'),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 4294967295, 255, 18446744073709551615, 123456, 2155, 99, b'111111111111', 18446744073709551615),
 (3, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, 42, 7, 1, 12, 1901, 5, b'101000000001', 1);
SELECT * FROM parity_int ORDER BY id;
CREATE OR REPLACE TABLE parity_time (id INT PRIMARY KEY, d DATE, dt0 DATETIME, dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3), dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6), ts2 TIMESTAMP(2) NULL, t0 TIME, t3 TIME(3), t6 TIME(6));
INSERT INTO parity_time VALUES
 (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', '00:00:00', '00:00:00'),
 (2, '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59.5', '2024-02-29 23:59:59.25', '1000-01-01 00:00:00.001', '9999-12-31 23:59:59.9999', '2020-01-02 03:04:05.12345', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.99', '-838:59:59', '-838:59:59.000', '838:59:59.999999'),
 (3, '2020-01-02', '2020-01-02 03:04:05', '2020-01-02 00:00:00', '2020-01-02 03:04:05', '2020-01-02 03:04:05.120', '2020-01-02 00:00:00', '2020-01-02 03:04:05', '2020-01-02 03:04:05.000001', NULL, '-00:00:01', '-00:00:00.5', '25:00:00'),
 (4, '1999-12-31', '1999-12-31 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, '1999-12-31 00:00:00', '-24:00:00', '100:00:00.001', '-00:00:00.000001');
SELECT * FROM parity_time ORDER BY id;
SELECT DATE '2020-01-02', TIMESTAMP '2020-01-02 03:04:05.678', TIME '-12:34:56.7', CAST('2020-01-02 03:04:05.678' AS DATETIME(6)), CAST('-100:00:00' AS TIME), CAST('12:00' AS TIME(2));
CREATE OR REPLACE TABLE parity_dec (id INT PRIMARY KEY, d DECIMAL(65,30), dz DECIMAL(6,2) ZEROFILL, d0 DECIMAL(10,0), s VARCHAR(20), b VARBINARY(8), e ENUM('a','bb'), st SET('x','y'), j JSON, tx TEXT);
INSERT INTO parity_dec VALUES
 (1, 12345678901234567890123456789012345.123456789012345678901234567890, 1.5, 12, '42', 'ab', 'bb', 'x,y', '{"a": 1}', 'text'),
 (2, -0.000000000000000000000000000001, 0, -9999999999, '-7.5', '', 'a', '', '[]', ''),
 (3, 12.000, 9999.99, 0, ' 1', '\0\1', NULL, NULL, NULL, NULL);
SELECT * FROM parity_dec ORDER BY id;
"""
class Conn:
    def __init__(self, host, port, user, pw, db):
        self.s = socket.create_connection((host, port))
        self.seq = 0
        g = self.read()
        p = g.index(b"\0", 1)
        self.version = g[1:p].decode()
        rest = g[p + 1:]
        scr1 = rest[4:12]
        auth_len = rest[12 + 1 + 2 + 1 + 2 + 2]
        scr2 = rest[12 + 1 + 2 + 1 + 2 + 2 + 1 + 10:][:max(13, auth_len - 8) - 1]
        scramble = scr1 + scr2
        h1 = hashlib.sha1(pw.encode()).digest()
        tok = bytes(a ^ b for a, b in zip(h1, hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()))
        caps = 0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000
        resp = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23 + user.encode() + b"\0"
        resp += bytes([len(tok)]) + tok + db.encode() + b"\0" + b"mysql_native_password\0"
        self.write(resp)
        r = self.read()
        if r[0] != 0:
            raise SystemExit("login failed: %r" % r)

    def read(self):
        hdr = self.recv(4)
        n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
        self.seq = hdr[3] + 1
        return self.recv(n)

    def recv(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c: raise SystemExit("closed")
            b += c
        return b

    def write(self, payload):
        self.s.sendall(struct.pack("<I", len(payload))[:3] + bytes([self.seq & 0xFF]) + payload)
        self.seq += 1

    def command(self, payload):
        self.seq = 0
        self.write(payload)
        return self.read()

def lenenc(b, i):
    c = b[i]
    if c < 0xFB: return c, i + 1
    if c == 0xFB: return None, i + 1
    k = {0xFC: 2, 0xFD: 3, 0xFE: 8}[c]
    return int.from_bytes(b[i + 1:i + 1 + k], "little"), i + 1 + k

def column(b):
    i, names = 0, []
    for _ in range(6):
        n, i = lenenc(b, i)
        names.append(b[i:i + n].decode()); i += n
    i += 1
    charset, length, typ, flags, dec = struct.unpack("<HIBHB", b[i:i + 10])
    return dict(name=names[4], type=typ, flags=flags, charset=charset, decimals=dec, length=length)

def result(c, first):
    ncols, _ = lenenc(first, 0)
    cols = [column(c.read()) for _ in range(ncols)]
    c.read()  # EOF
    rows = []
    while True:
        r = c.read()
        if r[0] == 0xFE and len(r) < 9: break
        if r[0] == 0xFF: raise SystemExit("error: %r" % r)
        rows.append(r)
    return cols, rows

def text_values(row, n):
    i, out = 0, []
    for _ in range(n):
        length, i = lenenc(row, i)
        if length is None:
            out.append(None)
        else:
            out.append(row[i:i + length])
            i += length
    return out


def run(c, sql):
    r = c.command(b"\x03" + sql.encode())
    if r[0] == 0xFF:
        raise SystemExit("error: %r" % r)
    tcols, trows = result(c, r)
    r = c.command(b"\x16" + sql.encode())
    if r[0] != 0:
        raise SystemExit("prepare error: %r" % r)
    stmt, ncols, nparams = struct.unpack("<IHH", r[1:9])
    for _ in range(nparams + (1 if nparams else 0) + ncols + (1 if ncols else 0)):
        c.read()
    r = c.command(b"\x17" + struct.pack("<IBI", stmt, 0, 1))
    bcols, brows = result(c, r)
    assert len(trows) == len(brows) and len(tcols) == len(bcols)
    return sql, bcols, [(b, text_values(t, len(tcols))) for b, t in zip(brows, trows)]


def literal(b):
    """A C string literal of any bytes (octal escapes cannot run on)."""
    out = ""
    for ch in b:
        if 0x20 <= ch < 0x7F and ch not in b'"\\?':
            out += chr(ch)
        else:
            out += "\\%03o" % ch
    return '"' + out + '"'


def main():
    e = os.environ
    c = Conn(e["MYWIRE_TEST_HOST"], int(e["MYWIRE_TEST_PORT"]), e["MYWIRE_TEST_USER"],
             e["MYWIRE_TEST_PASSWORD"], e["MYWIRE_TEST_DB"])
    results = []
    for sql in SQL.split(";\n"):
        sql = " ".join(sql.split())
        if not sql:
            continue
        if not sql.upper().startswith("SELECT"):
            r = c.command(b"\x03" + sql.encode())
            if r[0] == 0xFF:
                raise SystemExit("error: %r" % r)
            continue
        results.append(run(c, sql))
    version = c.version
    lines = ["// Generated by tests/unit/values_parity.py (which holds the SQL) from",
             "// %s: the server's binary rows and, for the same rows," % version,
             "// the text protocol's values. Do not edit; run the script again.", "",
             "static const ParityResult parity_results[] = {"]
    for sql, cols, rows in results:
        lines.append("    {%s," % literal(sql.encode()))
        lines.append("     {")
        for col in cols:
            lines.append("      {%s, %d, %d, %d, %d, %du}," % (literal(col["name"].encode()), col["type"], col["flags"],
                                                          col["charset"], col["decimals"], col["length"]))
        lines.append("     },")
        lines.append("     {")
        for binary, texts in rows:
            vals = ", ".join("PT_NULL" if t is None else "PT(%s)" % literal(t) for t in texts)
            lines.append('      {"%s",' % binary.hex())
            lines.append("       {%s}}," % vals)
        lines.append("     }},")
    lines.append("};")
    with open(os.path.join(HERE, "values_parity_data.inc"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
