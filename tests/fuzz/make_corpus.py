#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into corpus/<target>/.

The seeds are small valid (and a few nearly valid) payloads; the fuzzers and
the regression runner mutate them. Run again after changing a seed:
    python3 tests/fuzz/make_corpus.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lenstr(b):
    return lenenc(len(b)) + b


def frame(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def cpacket(payload, seq, plain_len):
    """A compressed-protocol packet: 3-byte length, sequence id, 3-byte uncompressed length."""
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + struct.pack("<I", plain_len)[:3] + payload


def zpacket(plain, seq):
    return cpacket(zlib.compress(plain), seq, len(plain))


def zstd_raw(content):
    """A zstd frame by hand (RFC 8878): single segment, 1-byte content size, one raw block."""
    return b"\x28\xb5\x2f\xfd\x20" + bytes([len(content)]) + struct.pack("<I", len(content) << 3 | 1)[:3] + content


def zstd_rle(byte, n):
    return b"\x28\xb5\x2f\xfd\x20" + bytes([n]) + struct.pack("<I", n << 3 | 2 | 1)[:3] + byte


def zstd_rle_frame(byte, n):
    """n copies of byte (n < 4 GiB): a 4-byte content size, RLE blocks of at most 128 KiB."""
    out = b"\x28\xb5\x2f\xfd\xa0" + struct.pack("<I", n)
    while n:
        k = min(n, 128 << 10)
        n -= k
        out += struct.pack("<I", k << 3 | 2 | (n == 0))[:3] + byte
    return out


def bombs(body, plain_len, count):
    """count copies of one compressed payload that inflates to plain_len bytes, in sequence."""
    return b"".join(cpacket(body, seq, plain_len) for seq in range(count))


# 192 bytes of "row N value M\n" lines as `zstd -3` (libzstd 1.5.4) wrote them,
# with a checksum: the stdlib has no zstd.
ZSTD_ROWS = bytes.fromhex(
    "28b52ffd24c0550300c403726f7720302076616c756520300a726f772031393139323833383337353734363736353539"
    "353631343734333338333532393237313131393130390a15002523806419458618b80ea4006d80bb400cc80b1a82c780"
    "7020056803dc0562405ed006b83b538c91cd30ecaaecec")


SCRAMBLE = b"abcdefghij0123456789"


def greeting(version, caps, ext, plugin, nul=True, auth_len=21):
    g = b"\x0a" + version + b"\0" + struct.pack("<I", 42) + SCRAMBLE[:8] + b"\0"
    g += struct.pack("<H", caps & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
    g += struct.pack("<H", caps >> 16) + bytes([auth_len]) + b"\0" * 6 + struct.pack("<I", ext)
    g += SCRAMBLE[8:] + b"\0" + plugin + (b"\0" if nul else b"")
    return g


def ok(affected, status, info=b"", header=0):
    return bytes([header]) + lenenc(affected) + lenenc(0) + struct.pack("<HH", status, 0) + info


def column(name):
    return (lenstr(b"def") + lenstr(b"db") + lenstr(b"t") + lenstr(b"t") + lenstr(name) + lenstr(name)
            + b"\x0c" + struct.pack("<HIBHB", 45, 80, 0xFD, 0, 0) + b"\0\0")


def row(values):
    out = b""
    for v in values:
        out += b"\xfb" if v is None else lenstr(v)
    return out


SEEDS = {
    "handshake": {
        "mysql8": greeting(b"8.0.36", 0xDFFFFFFF, 0, b"caching_sha2_password"),
        "mariadb": greeting(b"5.5.5-10.11.6-MariaDB", 0x81FFF7FE, 0x1D, b"mysql_native_password"),
        "ed25519": greeting(b"11.4.2-MariaDB", 0x81FFF7FE, 0x1D, b"client_ed25519"),
        "no_nul": greeting(b"5.5.8", 0xDFFFFFFF, 0, b"mysql_native_password", nul=False),
        "pre41": b"\x0a4.0.30\0" + struct.pack("<I", 1) + b"abcdefgh\0" + struct.pack("<HBH", 0x202C, 8, 2)
                 + b"\0" * 13,
        "short": b"\x0a5.0\0" + struct.pack("<I", 1) + b"abcdefgh\0" + struct.pack("<H", 0xA20C),
    },
    # First byte: capability selector (1 protocol_41, 2 session_track, 4 deprecate_eof).
    "responses": {
        "ok": b"\x01" + ok(0, 2),
        "ok_info": b"\x01" + ok(300, 0x22, b"Rows matched: 1  Changed: 1  Warnings: 0"),
        "ok_track": b"\x03" + ok(1, 0x4002) + lenstr(b"info") + lenstr(b"\x00\x0d\x0aautocommit\x02ON"),
        "ok_fe": b"\x07" + ok(0, 0x000A, header=0xFE),
        "err": b"\x01\xff\x7a\x04#42S02Table 'db.t' doesn't exist",
        "err_nostate": b"\x01\xff\x10\x04Too many connections",
        "eof": b"\x01\xfe\x00\x00\x02\x00",
        "switch_native": b"\x01\xfemysql_native_password\0" + SCRAMBLE + b"\0",
        "switch_ed": b"\x01\xfeclient_ed25519\0" + bytes(range(1, 33)),
        "switch_old": b"\x01\xfe",
        "more_data": b"\x01\x01\x04",
        "count": b"\x01\x02",
        "count_fc": b"\x01\xfc\x00\x01",
    },
    "column_def": {
        "varchar": column(b"name"),
        "empty": lenstr(b"") * 6 + b"\x0c" + struct.pack("<HIBHB", 63, 0, 8, 0, 0) + b"\0\0",
        "long_name": column(b"n" * 300),
    },
    # First byte: column count.
    "text_row": {
        "mixed": b"\x05" + row([None, b"", b"abc", b"x" * 300, None]),
        "fe_small": b"\x02" + b"\xfe" + struct.pack("<Q", 3) + b"xyz" + row([b"1"]),
        "one": b"\x01" + row([b"42"]),
        "none": b"\x00",
    },
    # Byte 0: limit selector, byte 1: piece-size seed, then server bytes.
    "packet_reader": {
        "three": b"\x07\x01" + frame(b"hello", 0) + frame(b"", 1) + frame(b"x" * 40, 2),
        "bad_seq": b"\x07\x02" + frame(b"a", 0) + frame(b"b", 2),
        "limit": b"\x03\x03" + frame(b"0123456789abcdefXYZ", 0),
        "split_header": b"\x07\x04" + b"\xff\xff\xff\x00" + b"abc",
        "partial": b"\x05\x05" + frame(b"z" * 30, 0)[:20],
    },
    # Byte 0: read-size seed, then everything a server sends: greeting, OK,
    # the reply to a query.
    "session": {
        "select": b"\x01" + frame(greeting(b"8.0.36", 0xDFFFFFFF, 0, b"mysql_native_password"), 0)
                  + frame(ok(0, 2), 2) + frame(b"\x02", 1) + frame(column(b"a"), 2) + frame(column(b"b"), 3)
                  + frame(row([b"1", None]), 4) + frame(row([b"", b"x" * 30]), 5)
                  + frame(ok(0, 0x22, header=0xFE), 6),
        "classic": b"\x02" + frame(greeting(b"5.5.5-10.3.39-MariaDB", 0x80FFF7FE & ~(1 << 24), 0x1D,
                                           b"mysql_native_password"), 0)
                   + frame(ok(0, 2), 2) + frame(b"\x01", 1) + frame(column(b"v"), 2)
                   + frame(b"\xfe\x00\x00\x02\x00", 3) + frame(row([b"v1"]), 4)
                   + frame(b"\xfe\x00\x00\x02\x00", 5),
        "ed25519": b"\x03" + frame(greeting(b"5.5.5-10.11.6-MariaDB", 0x81FFF7FE, 0x1D, b"mysql_native_password"), 0)
                   + frame(b"\xfeclient_ed25519\0" + bytes(range(7, 39)), 2) + frame(ok(0, 2), 4)
                   + frame(ok(3, 2, b"Rows matched: 3"), 1),
        "err": b"\x04" + frame(greeting(b"8.0.36", 0xDFFFFFFF, 0, b"caching_sha2_password"), 0)
               + frame(b"\xfemysql_native_password\0" + SCRAMBLE + b"\0", 2) + frame(ok(0, 2), 4)
               + frame(b"\xff\x7a\x04#42S02no such table", 1),
    },
    # Byte 0: bit 0 set for zstd (else zlib), byte 1: piece-size seed, then
    # compressed packets from the server.
    "compress": {
        "zlib_query": b"\x00\x01" + zpacket(frame(b"\x03select \"012345678901234567890123456789012345\"", 0), 0),
        "zlib_rows": b"\x00\x02" + zpacket(frame(b"\x01", 1) + frame(column(b"a"), 2) + frame(b"x" * 80, 3), 0)
                     + cpacket(frame(b"\xfe\x00\x00\x02\x00", 4), 1, 0) + zpacket(b"row " * 40, 2),
        "zlib_split": b"\x00\x03" + zpacket(b"a" * 300, 0)[:20],
        "zlib_bad_seq": b"\x00\x04" + cpacket(b"ok", 0, 0) + cpacket(b"no", 2, 0),
        "zlib_lie": b"\x00\x05" + cpacket(zlib.compress(b"z" * 100), 0, 99),
        "zstd_rows": b"\x01\x01" + cpacket(ZSTD_ROWS, 0, 192) + cpacket(b"stored", 1, 0),
        "zstd_raw_rle": b"\x01\x02" + cpacket(zstd_raw(b"a raw block"), 0, 11) + cpacket(zstd_rle(b"z", 60), 1, 60),
        "zstd_lie": b"\x01\x03" + cpacket(zstd_raw(b"0123456789"), 0, 9),
        "empty_payload": b"\x01\x04" + cpacket(b"", 0, 5),
        # Many whole packets in one input (decode takes one per call): small
        # bombs, each inflating to 256 KiB of zeros, and (byte 0 bits 1-2 = 3)
        # a row stream repeated 8 times by the target.
        "zstd_bombs": b"\x01\x05" + bombs(zstd_rle_frame(b"\0", 256 << 10), 256 << 10, 8),
        "zlib_bombs": b"\x00\x06" + bombs(zlib.compress(bytes(256 << 10), 9), 256 << 10, 4)
                      + cpacket(b"stored", 4, 0),
        "zlib_rows_x8": b"\x06\x07" + zpacket(frame(b"row " * 30, 1), 0) + cpacket(frame(b"eof", 2), 1, 0),
    },
    # Byte 0: column count; 3 bytes per column (type index into the target's
    # list, flags/decimals, length); then the binary row.
    "binary_row": {
        "every_type": bytes([12]) + bytes([0, 0, 4, 1, 1, 6, 2, 0, 11, 4, 0, 20, 5, 2, 4, 6, 0x7C, 12,
                                           7, 0x7C, 22, 8, 0, 10, 9, 24, 26, 11, 12, 17, 12, 8, 10, 13, 0, 20])
        + b"\x00\x00\x00" + b"\xfe" + b"\xff\xff" + struct.pack("<I", 7) + struct.pack("<q", -1)
        + struct.pack("<H", 2024) + struct.pack("<f", 1.5) + struct.pack("<d", 0.1)
        + b"\x04" + struct.pack("<HBB", 2024, 2, 29)
        + b"\x0b" + struct.pack("<HBBBBBI", 1999, 12, 31, 23, 59, 58, 999999)
        + b"\x0c" + struct.pack("<BIBBBI", 1, 34, 22, 59, 59, 0)
        + lenstr(b"-12.500") + lenstr(b"text"),
        "nulls": bytes([3, 0, 0, 0, 8, 0, 0, 13, 0, 0]) + b"\x00\x1c",
        "zero_dates": bytes([3, 8, 0, 0, 9, 8, 0, 11, 24, 0]) + b"\x00\x00\x00\x00\x00",
        "bit_and_blob": bytes([2, 15, 1, 12, 14, 0, 0]) + b"\x00\x00" + lenstr(b"\x0a\x01")
        + b"\xfc" + struct.pack("<H", 3) + b"abc",
        "bad_length": bytes([1, 9, 0, 0]) + b"\x00\x00\x05" + b"\x00" * 5,
    },
    "uri": {
        "full": b"mysql://alice:s3cret@db.example.com:3307/shop?connect_timeout=5&multi_statements=1",
        "ipv6": b"mysql://u@[::1]:3306/d",
        "socket": b"mysql://u@localhost?socket=%2Frun%2Fmysqld%2Fmysqld.sock",
        "escapes": b"mysql://al%40ice:p%3Aw%2F@h%2Dx/my%20db",
        "keys": b"mysql://h?port=4000&read_timeout=1&write_timeout=2&max_allowed_packet=1048576"
                b"&max_result_bytes=99&max_columns=10&charset=33&user=x&password=y&database=z",
        "bare": b"mysql://",
    },
}


# ------------------------------------------------------------------ client
# fuzz_client: two option bytes (the script, see Script in fuzz_client.cpp),
# then all a server sends in the session that script drives, one message per
# flush (the greeting, each step of the login, each command's reply), the
# messages separated by SEP.

SEP = b"|MW|"
MYSQL8_CAPS = 0xDFFFFFFF  # with SSL, compress, zstd, deprecate_eof
MARIADB_CAPS = 0x81FFF7FE  # no SSL, compress but not zstd, deprecate_eof
CLASSIC_EOF = 1 << 24  # cleared: the server ends column lists and rows with EOF packets

# A fixed 2048-bit RSA public key (so the seeds do not change from run to run),
# for caching_sha2_password's full authentication over plain TCP.
RSA_PUBLIC_PEM = (b"-----BEGIN PUBLIC KEY-----\n"
                  b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1IEWG2XFoag13BfxrzgH\n"
                  b"LF2mrV2Ve7UPLxMl8AonQ+0Fh1D6oxSl/iWlQRrUk/LNDURXRN4EDLQvvGh8p4ue\n"
                  b"ySBKkE1e+YtXFOhd1JA0xLyTazPABpbz1jgRsxHWfvFCvw0Q9YgrZ3qkGPG7/KNB\n"
                  b"4qEOmGhEB+aupIkRv5rdUgk5xJdCmPMxpKmrV38hUYev/UV0e+kb/ayCw/Ebi++z\n"
                  b"kXEOUHSnlE1i2eahCQ95eouR4VzaaHKwacK1LxwA7cA+cLJO3Q7hYH0o2fR/+ntA\n"
                  b"wU+suUj2I7/SR9Iksa6AH1hKJ5s2nBaD8oiH74Lj2oJ0ezLidEMKE9AVIHQIP6Rk\n"
                  b"dQIDAQAB\n"
                  b"-----END PUBLIC KEY-----\n")


def script(streaming=False, multi=False, compress=0, small=False, seek=False, ping=False,
           early_free=False, queries=1, unix=False, tls=False, cleartext=False, database=False,
           dialog=False, small_packet=False):
    a = (streaming | multi << 1 | compress << 2 | small << 4 | seek << 5 | ping << 6
         | early_free << 7)
    b = (queries - 1) | unix << 2 | tls << 3 | cleartext << 4 | database << 5 | dialog << 6 | small_packet << 7
    return bytes([a, b])


def mysql8(plugin=b"caching_sha2_password", caps=MYSQL8_CAPS):
    return frame(greeting(b"8.0.36", caps, 0, plugin), 0)


# MariaDB's extended capabilities in the greetings: progress, bulk operations
# and extended metadata (0x0D), so that text results carry no
# metadata-follows byte; the statement seeds also offer metadata caching
# (MARIADB_EXT_CACHE, 0x1D as MariaDB 10.11 does), and their results carry it.
MARIADB_EXT = 0x0D
MARIADB_EXT_CACHE = 0x1D


def mariadb(caps=MARIADB_CAPS, version=b"5.5.5-10.11.6-MariaDB", ext=MARIADB_EXT):
    return frame(greeting(version, caps, ext, b"mysql_native_password"), 0)


def packets(payloads, seq=1):
    """Plain packets numbered from seq."""
    out = b""
    for i, p in enumerate(payloads):
        out += frame(p, (seq + i) & 0xFF)
    return out


def eof(status=0x0002):
    return b"\xfe\x00\x00" + struct.pack("<H", status)


def result(names, rows, status=0x0002, classic=False, cached=False):
    """A text result set's payloads; classic: EOF packets, else an OK (0xFE) at
    the end; cached: after a MARIADB_EXT_CACHE login (the metadata-follows byte)."""
    out = [lenenc(len(names)) + (b"\x01" if cached else b"")] + [column(n) for n in names]
    if classic:
        out.append(eof())
    out += [row(r) for r in rows]
    out.append(eof(status) if classic else ok(0, status, header=0xFE))
    return out


def err(number, state, text):
    return b"\xff" + struct.pack("<H", number) + b"#" + state + text


def compressed(plain, algo, seq=1):
    """One command's reply in the compressed protocol, starting at compressed id seq:
    short pieces stored, longer ones zlib (algo 1) or zstd raw blocks (algo 2)."""
    out = b""
    pieces = [plain[i:i + 200] for i in range(0, len(plain), 200)] or [b""]
    for piece in pieces:
        if len(piece) < 50:
            out += cpacket(piece, seq, 0)
        elif algo == 1:
            out += zpacket(piece, seq)
        else:
            out += cpacket(zstd_raw(piece), seq, len(piece))
        seq = (seq + 1) & 0xFF
    return out


def session(opts, login, replies, compress=0):
    """opts, then the login's messages (plain), then one message per reply (a
    list of payloads), compressed when compress is 1 (zlib) or 2 (zstd)."""
    messages = list(login)
    for r in replies:
        plain = packets(r)
        messages.append(compressed(plain, compress) if compress else plain)
    assert not any(SEP in m for m in messages)
    return opts + SEP.join(messages)


# ------------------------------------------------------- statement replies
# What fuzz_client's run_statement() reads after the queries: the reply to
# COM_STMT_PREPARE of "SELECT a, b FROM t WHERE a > ? AND b = ?", then one
# reply per execute (two), per COM_STMT_FETCH of a cursor, per batch request
# (one bulk on MariaDB, one execute per row on MySQL) and the reset.

def bcolumn(name, col_type=0xFD, flags=0, charset=45, length=80, decimals=0):
    return (lenstr(b"def") + lenstr(b"db") + lenstr(b"t") + lenstr(b"t") + lenstr(name) + lenstr(name)
            + b"\x0c" + struct.pack("<HIBHB", charset, length, col_type, flags, decimals) + b"\0\0")


STMT_COLUMNS = [bcolumn(b"a", 3, 0x1003), bcolumn(b"b")]  # LONG NOT NULL, VAR_STRING


def brow(values):
    """A binary row over (LONG a, VAR_STRING b); None for NULL."""
    bitmap = sum(1 << (i + 2) for i, v in enumerate(values) if v is None)
    out = b"\x00" + bytes([bitmap])
    if values[0] is not None:
        out += struct.pack("<i", values[0])
    if values[1] is not None:
        out += lenstr(values[1])
    return out


def prepare_reply(params=2, columns=STMT_COLUMNS, classic=False, stmt_id=1):
    out = [b"\x00" + struct.pack("<IHHBH", stmt_id, len(columns), params, 0, 0)]
    if params:
        out += [bcolumn(b"?", charset=63, length=0)] * params + ([eof()] if classic else [])
    if columns:
        out += list(columns) + ([eof()] if classic else [])
    return out


def binary_result(rows, status=0x0002, classic=False, cached=None, columns=STMT_COLUMNS, row=brow):
    """A binary result set; cached: None (no metadata-follows byte), True (the
    byte, 1, and the definitions) or "skip" (the byte, 0, no definitions)."""
    head = lenenc(len(columns)) + {None: b"", True: b"\x01", "skip": b"\x00"}[cached]
    out = [head] + ([] if cached == "skip" else list(columns) + ([eof()] if classic else []))
    out += [row(r) for r in rows]
    out.append(eof(status) if classic else ok(0, status, header=0xFE))
    return out


def cursor_head():
    """An execute that opened a cursor (CURSOR_EXISTS after the definitions)."""
    return [lenenc(2)] + STMT_COLUMNS + [ok(0, 0x0042, header=0xFE)]


def fetch_batch(rows, last):
    return [brow(r) for r in rows] + [ok(0, 0x0082 if last else 0x0042, header=0xFE)]


# Every type of the binary protocol a result can carry, two rows (one all NULL).
EVERY_TYPE = [bcolumn(b"t", 1), bcolumn(b"s", 2, 0x20), bcolumn(b"l", 8), bcolumn(b"f", 4, decimals=31),
              bcolumn(b"d", 5, decimals=31), bcolumn(b"y", 13), bcolumn(b"dt", 10), bcolumn(b"ts", 12, decimals=6),
              bcolumn(b"tm", 11, decimals=6), bcolumn(b"dec", 246, decimals=2), bcolumn(b"bl", 252, 0x90, 63),
              bcolumn(b"bit", 16, 0x20, 63, 10), bcolumn(b"j", 245, 0x90, 63)]


def every_type_row(values):
    if values is None:
        n = len(EVERY_TYPE)
        bitmap = sum(1 << (i + 2) for i in range(n))
        return b"\x00" + struct.pack("<I", bitmap)[:(n + 9) // 8]
    return (b"\x00" + b"\x00\x00"
            + struct.pack("<bhqfdH", -5, -300, -(1 << 62), 1.5, 0.1, 2024)
            + b"\x04" + struct.pack("<HBB", 2024, 2, 29)
            + b"\x0b" + struct.pack("<HBBBBBI", 1999, 12, 31, 23, 59, 58, 999999)
            + b"\x0c" + struct.pack("<BIBBBI", 1, 34, 22, 59, 59, 5)
            + lenstr(b"-12.50") + lenstr(b"\x00\xffblob") + lenstr(b"\x01\x02") + lenstr(b'{"a": [1, null]}'))


def client_seeds():
    native_ok = [mariadb(), frame(ok(0, 2), 2)]
    sha2_fast = [mysql8(), frame(b"\x01\x03", 2) + frame(ok(0, 2), 3)]
    select = result([b"a", b"b"], [[b"1", None], [b"", b"x" * 40], [b"3", b"three"]])
    one = result([b"1"], [[b"1"]])
    update = [ok(3, 2, b"Rows matched: 3  Changed: 3  Warnings: 0")]
    multi = (result([b"1"], [[b"1"]], status=0x000A) + result([b"2"], [[b"2"]], status=0x000A)
             + [ok(0, 2)])
    big = result([b"v"], [[b"row %d " % i * 8] for i in range(12)])
    pong = [ok(0, 2)]
    seeds = {
        # Logins.
        "mariadb_native": session(script(), native_ok, [one]),
        "mysql8_fast": session(script(), sha2_fast, [one]),
        "mysql8_full_unix": session(script(unix=True), [mysql8(), frame(b"\x01\x04", 2), frame(ok(0, 2), 4)],
                                    [one]),
        "mysql8_full_rsa": session(script(cleartext=True), [mysql8(), frame(b"\x01\x04", 2),
                                                            frame(b"\x01" + RSA_PUBLIC_PEM, 4), frame(ok(0, 2), 6)],
                                   [one]),
        "mysql8_full_refused": session(script(), [mysql8(), frame(b"\x01\x04", 2)], []),
        "switch_native": session(script(database=True), [mysql8(), frame(
            b"\xfemysql_native_password\0" + SCRAMBLE + b"\0", 2), frame(ok(0, 2), 4)], [one]),
        "switch_ed25519": session(script(), [mariadb(), frame(b"\xfeclient_ed25519\0" + bytes(range(7, 39)), 2),
                                             frame(ok(0, 2), 4)], [one]),
        "switch_clear_unix": session(script(unix=True, cleartext=True), [mariadb(), frame(
            b"\xfemysql_clear_password\0", 2), frame(ok(0, 2), 4)], [one]),
        "switch_clear_tcp": session(script(cleartext=True), [mariadb(), frame(
            b"\xfemysql_clear_password\0", 2)], []),
        "dialog_unix": session(script(unix=True, cleartext=True, dialog=True), [mariadb(), frame(
            b"\xfedialog\0\x04Password: ", 2), frame(b"\x03Token: ", 4), frame(ok(0, 2), 6)], [one]),
        "login_err": session(script(), [mariadb(), frame(err(1045, b"28000", b"Access denied for user 'fuzz'"), 2)],
                             []),
        "greeting_err": session(script(), [frame(err(1040, b"08004", b"Too many connections"), 0)], []),
        # TLS offered and taken: the server's ServerHello is junk, the handshake fails.
        "tls_offer": session(script(tls=True), [mysql8(b"mysql_native_password"),
                                                b"\x16\x03\x03\x00\x05\x02\x00\x00\x01\x00"], []),
        # Queries, buffered and streaming.
        "select_buffered": session(script(queries=2, seek=True), native_ok, [select, update]),
        "select_streaming": session(script(streaming=True, queries=2), native_ok, [select, update]),
        "select_classic": session(script(queries=2, seek=True),
                                  [mariadb(MARIADB_CAPS & ~CLASSIC_EOF), frame(ok(0, 2), 2)],
                                  [result([b"a", b"b"], [[b"1", b"2"], [None, b""]], classic=True),
                                   result([b"c"], [], classic=True)]),
        "early_free": session(script(streaming=True, early_free=True, queries=2), sha2_fast, [big, one]),
        "ping": session(script(ping=True, queries=2), native_ok, [one, pong, update, pong]),
        "multi_buffered": session(script(multi=True, queries=3), native_ok, [one, select, multi]),
        "multi_streaming": session(script(multi=True, streaming=True, queries=3), sha2_fast, [one, select, multi]),
        "multi_err": session(script(multi=True, queries=3), native_ok, [one, select, [
            ok(1, 0x000A), err(1146, b"42S02", b"Table 'shop.t' doesn't exist")]]),
        "query_err": session(script(queries=2), native_ok, [[err(1064, b"42000", b"You have an error")], one]),
        "limit_rows": session(script(small=True), native_ok, [big]),
        "limit_columns": session(script(small=True, streaming=True), native_ok,
                                 [result([b"a", b"b", b"c", b"d"], [[b"1", b"2", b"3", b"4"]])]),
        "small_packet": session(script(small_packet=True, streaming=True), native_ok,
                                [result([b"v"], [[b"x" * 1100]])]),
        # A reply cut after its column count: the next message is another reply.
        "count_only": session(script(queries=2), native_ok, [[b"\x02"], one]),
        # Compressed after the login.
        "zlib_select": session(script(compress=1, queries=2, seek=True), native_ok, [select, big], compress=1),
        "zlib_streaming": session(script(compress=1, streaming=True, queries=3, ping=True), native_ok,
                                  [big, pong, one, pong, update, pong], compress=1),
        "zlib_multi": session(script(compress=1, multi=True, queries=3), native_ok, [one, big, multi], compress=1),
        "zstd_select": session(script(compress=2, queries=2), sha2_fast, [select, big], compress=2),
        "zstd_streaming": session(script(compress=2, streaming=True, queries=2, early_free=True), sha2_fast,
                                  [big, update], compress=2),
        "zlib_err": session(script(compress=1, queries=2), native_ok,
                            [[err(1146, b"42S02", b"Table 'shop.t' doesn't exist")], one], compress=1),
        # Prepared statements after the query: binary rows, buffered (and
        # sought), streaming, through a cursor, classic framing, MariaDB's
        # metadata caching, batches, a reset, errors.
        "stmt_buffered": session(script(seek=True), sha2_fast, [
            one, prepare_reply(), binary_result([[1, b"one"], [-7, None], [2147483647, b""]]),
            binary_result([[5, b"five"]], status=0x100A) + [ok(0, 2)]]),
        "stmt_streaming": session(script(streaming=True, early_free=True), sha2_fast, [
            one, prepare_reply(), binary_result([[i, b"row %d" % i * 5] for i in range(10)]), [ok(1, 2)]]),
        "stmt_cursor": session(script(streaming=True, seek=True), sha2_fast, [
            one, prepare_reply(), cursor_head(), fetch_batch([[1, b"a"], [2, None]], False),
            fetch_batch([[3, b"c"]], True), cursor_head(), fetch_batch([[4, b"d"]], True)]),
        "stmt_classic": session(script(seek=True), [mariadb(MARIADB_CAPS & ~CLASSIC_EOF), frame(ok(0, 2), 2)], [
            result([b"1"], [[b"1"]], classic=True), prepare_reply(classic=True),
            binary_result([[1, b"x"], [None, b"y"]], classic=True), binary_result([], classic=True)]),
        "stmt_cached": session(script(), [mariadb(ext=MARIADB_EXT_CACHE), frame(ok(0, 2), 2)], [
            result([b"1"], [[b"1"]], cached=True), prepare_reply(),
            binary_result([[1, b"first"]], cached=True), binary_result([[2, b"second"]], cached="skip")]),
        "stmt_batch_bulk": session(script(multi=True), [mariadb(ext=MARIADB_EXT_CACHE), frame(ok(0, 2), 2)], [
            result([b"1"], [[b"1"]], cached=True), prepare_reply(), [ok(1, 2)], [ok(1, 2)], [ok(2, 2)]]),
        "stmt_batch_mysql": session(script(multi=True), sha2_fast, [
            one, prepare_reply(), [ok(1, 2)], [ok(1, 2)], [ok(1, 2)], [ok(1, 2)]]),
        "stmt_reset": session(script(ping=True), native_ok, [
            one, pong, prepare_reply(), [ok(1, 2)], [ok(1, 2)], pong]),
        "stmt_prepare_err": session(script(), sha2_fast, [
            one, [err(1146, b"42S02", b"Table 'db.t' doesn't exist")]]),
        "stmt_reprepare_err": session(script(), sha2_fast, [
            one, prepare_reply(), [err(1615, b"HY000", b"Prepared statement needs to be re-prepared")],
            binary_result([[1, b"a"]])]),
        "stmt_no_params": session(script(), sha2_fast, [
            one, prepare_reply(params=0, columns=EVERY_TYPE),
            binary_result([None, "values"], columns=EVERY_TYPE, row=every_type_row), [ok(0, 2)]]),
        # Everything in one message: what arrives after the login OK comes too early.
        "zlib_one_message": script(compress=1) + mariadb() + frame(ok(0, 2), 2) + compressed(packets(one), 1),
    }
    # Truncated sessions: in the greeting, in the login, mid-row, mid compressed packet.
    seeds["cut_greeting"] = seeds["mysql8_fast"][:40]
    seeds["cut_login"] = seeds["switch_native"][:len(mysql8()) + 2 + 12]
    seeds["cut_row"] = seeds["select_streaming"][:-60]
    seeds["cut_zlib"] = seeds["zlib_select"][:-30]
    seeds["cut_zstd"] = seeds["zstd_streaming"][:-45]
    seeds["cut_stmt_row"] = seeds["stmt_buffered"][:-80]
    seeds["cut_prepare"] = seeds["stmt_cached"][:len(seeds["stmt_cached"]) // 2]
    return seeds


SEEDS["client"] = client_seeds()


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name + ".bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
