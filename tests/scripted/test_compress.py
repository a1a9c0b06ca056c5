"""The compressed protocol: zlib (CLIENT_COMPRESS) and zstd (MySQL 8.0.18+,
with a level), negotiated per flavor, a few rows and values over 16 MiB (split
plain packets inside split compressed packets), both directions.

    /usr/bin/python3 test_compress.py --lib build/capi/libmywire.so.1
"""

import hashlib
import json
import os
import subprocess
import sys
import time

import scripted_common
from scripted_common import (CLIENT_COMPRESS, CLIENT_ZSTD, PW, USER, Account, ScriptedTest, m,
                             main, rows)

SMALL = rows(["id", "name", "note"],
             [[str(i), f"name-{i}" * 10, None if i % 3 == 0 else "n" * 80] for i in range(20)])

_MIB = 1 << 20
# Over 16 MiB: the row is split into plain packets of 0xFFFFFF bytes, and
# the stream into several compressed packets.
_BLOCK = os.urandom(4096)
COMPRESSIBLE = (_BLOCK * ((17 * _MIB) // len(_BLOCK) + 1))[:17 * _MIB + 123]
INCOMPRESSIBLE = os.urandom(17 * _MIB + 45)


# The bombs: the client runs in a child process (its peak RSS is its own)
# that connects, runs one query and reports the outcome and its peak RSS
# (VmHWM) before and after it. Without ASan the child also runs under RLIMIT_AS, so a client
# that inflates what it was sent fails inside its limit instead of taking the
# machine's memory. ASan reserves terabytes of address space, so there only
# the RSS is checked (and the parent kills a child past HARD_RSS).
CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])


def peak_rss_kb():  # VmHWM: unlike ru_maxrss it does not count the parent's pages before exec
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:"))


import mywire_ctypes as m
lib, port, algo, sql, limit_as = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
if limit_as:
    resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
m.load(lib)
c = m.Conn()
c.set("host", "127.0.0.1").set("port", port).set("user", sys.argv[7]).set("password", sys.argv[8])
c.options(ssl_mode="disabled", compress=algo, connect_timeout=10000, read_timeout=20000)
out = {"connect": c.connect(), "connect_msg": c.errmsg}
out["rss_before"] = peak_rss_kb()
if out["connect"] == 0:
    try:
        c.query(sql)
        out["code"] = 0
    except m.MywireError as e:
        out["code"], out["message"] = e.code, e.message
    out["state_after"] = c.ping()
out["rss_after"] = peak_rss_kb()
c.free()
print(json.dumps(out))
"""
ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
LIMIT_AS = 0 if ASAN else 1 << 30
# Peak RSS the query may add (kB): one compressed packet inflates to 16 MiB,
# the plain and compressed read buffers can each grow to about twice the
# largest packet they held. Under ASan the shadow memory (1/8) and the freed
# buffers that its quarantine keeps add to it.
BOMB_RSS_KB = (48 if not ASAN else 96) << 10
HARD_RSS_KB = 3 << 20


def run_client_child(srv, algo, sql):
    """The outcome of one query from a child client process (a dict)."""
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, here, scripted_common.LIB_PATH, str(srv.port), algo, sql,
         str(LIMIT_AS), USER, PW],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        if peak > HARD_RSS_KB or time.monotonic() > deadline:
            proc.kill()
            break
        time.sleep(0.02)
    out, err = proc.communicate()
    result = {"exit": proc.returncode, "stderr": err.decode(errors="replace")[-2000:], "seen_rss": peak}
    lines = out.decode(errors="replace").strip().splitlines()
    if proc.returncode == 0 and lines:
        result.update(json.loads(lines[-1]))
    return result


def digest(b):
    return hashlib.sha256(b).hexdigest()[:16] if b is not None else None


class Compression(ScriptedTest):
    def login(self, flavor, compress, transport="plain", level=None, **scenario):
        scenario.setdefault("account", Account(USER, PW, "mysql_native_password"))
        scenario.setdefault("queries", {"SELECT small": SMALL})
        srv = self.serve(flavor=flavor, **scenario)
        opts = {"compress": compress}
        if level is not None:
            opts["compression_level"] = level
        conn = self.client(srv, transport, **opts)
        return srv, conn

    def check_small(self, conn):
        got = conn.query("SELECT small")
        want = [[None if v is None else v.encode() for v in r] for r in SMALL["rows"]]
        self.assertEqual(got, want)
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        self.assertEqual(conn.ping(), m.MYWIRE_OK)

    def check_rec(self, rec, algorithm):
        self.assertEqual(rec.compression, algorithm)
        self.assertEqual(rec.seq_errors, [])
        # The client's commands arrived as compressed packets, each command
        # starting at compressed sequence id 0.
        self.assertTrue(rec.compressed)
        self.assertEqual(rec.compressed[0][0], 0)
        self.assertEqual(rec.queries[:2], ["SELECT small", "SELECT 1"])
        caps = rec.handshake["capabilities"]
        self.assertEqual(bool(caps & CLIENT_ZSTD), algorithm == "zstd")
        self.assertEqual(bool(caps & CLIENT_COMPRESS), algorithm == "zlib")
        # COM_QUIT went compressed too, and was understood.
        self.assertEqual(rec.events[-1], "quit")

    def _zlib(self, flavor):
        srv, conn = self.login(flavor, "zlib")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["compression"], "zlib")
        self.check_small(conn)
        rec = self.finish(srv, conn)
        self.check_rec(rec, "zlib")
        self.assertIsNone(rec.zstd_level)

    def test_zlib_mysql57(self):
        self._zlib("mysql57")

    def test_zlib_mysql80(self):
        self._zlib("mysql80")

    def test_zlib_mysql9(self):
        self._zlib("mysql9")

    def test_zlib_mariadb10(self):
        self._zlib("mariadb10")

    def test_zlib_mariadb11(self):
        self._zlib("mariadb11")

    def test_zstd_level(self):
        for flavor in ("mysql80", "mysql84", "mysql9"):
            with self.subTest(flavor=flavor):
                srv, conn = self.login(flavor, "zstd", level=7)
                self.assertConnects(conn)
                self.assertEqual(conn.status()["compression"], "zstd")
                self.check_small(conn)
                rec = self.finish(srv, conn)
                self.check_rec(rec, "zstd")
                self.assertEqual(rec.zstd_level, 7)

    def test_zstd_default_level_is_3(self):
        srv, conn = self.login("mysql80", "zstd")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.zstd_level, 3)

    def test_on_prefers_zstd(self):
        srv, conn = self.login("mysql80", "on")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["compression"], "zstd")
        self.finish(srv, conn)

    def test_on_falls_back_to_zlib_on_mariadb(self):
        srv, conn = self.login("mariadb11", "on")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["compression"], "zlib")
        self.check_small(conn)
        self.finish(srv, conn)

    def test_zstd_not_offered(self):
        for flavor in ("mysql57", "mariadb10"):
            with self.subTest(flavor=flavor):
                srv, conn = self.login(flavor, "zstd")
                self.assertConnectFails(conn, m.MYWIRE_ERROR_UNSUPPORTED, "zstd", "compress")
                rec = self.finish(srv, conn)
                self.assertIsNone(rec.handshake)

    def test_nothing_offered(self):
        srv, conn = self.login("mysql80", "zlib", compress_offer=set())
        self.assertConnectFails(conn, m.MYWIRE_ERROR_UNSUPPORTED, "zlib", "compress")
        self.finish(srv, conn)
        srv, conn = self.login("mysql80", "on", compress_offer=set())
        self.assertConnectFails(conn, m.MYWIRE_ERROR_UNSUPPORTED, "compress")
        self.finish(srv, conn)

    def test_off_by_default(self):
        srv = self.serve(flavor="mysql80", account=Account(USER, PW, "mysql_native_password"))
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["compression"], "none")
        rec = self.finish(srv, conn)
        self.assertFalse(rec.handshake["capabilities"] & (CLIENT_COMPRESS | CLIENT_ZSTD))
        self.assertEqual(rec.compressed, [])

    def test_zlib_over_tls(self):
        srv, conn = self.login("mysql80", "zlib", transport="tls")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_active"], 1)
        self.check_small(conn)
        self.check_rec(self.finish(srv, conn), "zlib")

    def test_small_compressed_chunks(self):
        # Compressed packets of at most 1000 bytes: plain packet headers
        # straddle compressed packet boundaries.
        for algo in ("zlib", "zstd"):
            with self.subTest(algo=algo):
                srv, conn = self.login("mysql80", algo, compress_chunk=1000)
                self.assertConnects(conn)
                self.check_small(conn)
                self.check_rec(self.finish(srv, conn), algo)

    def _large(self, algo, value, transport="plain"):
        srv, conn = self.login("mysql80", algo, transport=transport, queries={
            "SELECT big": rows(["b", "after"], [[value, "end"], ["x", None]],
                               types=["blob", None])})
        self.assertConnects(conn)
        got = conn.query("SELECT big")
        self.assertEqual(len(got), 2)
        self.assertEqual(len(got[0][0]), len(value))
        self.assertEqual(digest(got[0][0]), digest(value))
        self.assertEqual(got[0][1], b"end")
        self.assertEqual(got[1], [b"x", None])
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        rec = self.finish(srv, conn, timeout=120)
        self.assertEqual(rec.seq_errors, [])

    def test_large_value_zlib(self):
        self._large("zlib", COMPRESSIBLE)

    def test_large_value_zstd(self):
        self._large("zstd", COMPRESSIBLE)

    def test_large_incompressible_value_zlib(self):
        # Chunks that do not shrink go stored (uncompressed length 0).
        self._large("zlib", INCOMPRESSIBLE)

    def test_large_incompressible_value_zstd_over_tls(self):
        self._large("zstd", INCOMPRESSIBLE, transport="tls")

    def test_large_query_from_client(self):
        # The client compresses a query over 16 MiB: split plain packets
        # inside compressed packets, each at most 16 MiB uncompressed.
        sql = "SELECT '" + "q" * (17 * _MIB) + "'"
        for algo in ("zlib", "zstd"):
            with self.subTest(algo=algo):
                srv, conn = self.login("mysql80", algo, queries={sql: rows(["n"], [["42"]])})
                self.assertConnects(conn)
                self.assertEqual(conn.query(sql), [[b"42"]])
                rec = self.finish(srv, conn, timeout=120)
                self.assertEqual(rec.seq_errors, [])
                self.assertEqual(len(rec.queries[0]), len(sql))
                self.assertTrue(all(ulen <= 0xFFFFFF for _, _, ulen in rec.compressed))
                self.assertTrue(all(clen <= 0xFFFFFF for _, clen, _ in rec.compressed))

    def test_compression_bomb(self):
        for algo in ("zlib", "zstd"):
            with self.subTest(algo=algo):
                srv, conn = self.login("mysql80", algo, fault="compress_bomb")
                self.assertConnects(conn)
                with self.assertRaises(m.MywireError) as cm:
                    conn.query("SELECT small")
                self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_PROTOCOL, cm.exception.message)
                self.assertIn("announced", cm.exception.message)
                self.assertIn("compress_bomb_sent", self.finish(srv, conn).events)

    def _bombs(self, algo, fault, fault_arg=None):
        srv = self.serve(flavor="mysql80", account=Account(USER, PW, "mysql_native_password"),
                         fault=fault, fault_arg=fault_arg, io_timeout=30.0)
        got = run_client_child(srv, algo, "SELECT 1")
        rec = self.finish(srv, timeout=60)
        self.assertEqual(got["exit"], 0, f"the client process failed: {got}")
        self.assertEqual(got["connect"], m.MYWIRE_OK, got)
        self.assertEqual(rec.compression, algo)
        self.assertIn("staged_bombs_sent" if fault == "compress_staged_bombs" else "bombs_sent", rec.events)
        # A clear error, and the connection closed after it.
        self.assertIn(got["code"], (m.MYWIRE_ERROR_PROTOCOL, m.MYWIRE_ERROR_LIMIT), got)
        self.assertTrue(got["message"], got)
        self.assertNotEqual(got["state_after"], m.MYWIRE_OK, got)
        added = got["rss_after"] - got["rss_before"]
        print(f"\n  {fault} {algo}: {got.get('message')!r}, peak RSS +{added} kB "
              f"(limit {BOMB_RSS_KB})", file=sys.stderr)
        self.assertLess(added, BOMB_RSS_KB, f"peak RSS grew by {added} kB: {got}")
        return got

    def test_many_bombs_in_one_write(self):
        # Each bomb is a valid packet: 16 MiB - 1 zeros, announced truthfully.
        # 120 zstd bombs are 64 KB on the wire (2 GB if all inflated at
        # once); zlib reaches ~1000:1, so 64 bombs are 1 MB.
        for algo, count in (("zstd", 120), ("zlib", 64)):
            with self.subTest(algo=algo):
                self._bombs(algo, "compress_bombs", count)

    def test_staged_bombs(self):
        # Stored packets of doubling size grow the client's buffers, then the
        # last one comes with thousands of bombs in the same write.
        for algo, count in (("zstd", 8000), ("zlib", 400)):
            with self.subTest(algo=algo):
                self._bombs(algo, "compress_staged_bombs", count)

    def test_bytes_after_login_ok_refused(self):
        # A reply in the same write as the login OK would be read as plain
        # packets once compression starts: refused, the connection closed.
        for algo, arg in (("zlib", None), ("zstd", None), ("zlib", "plain"), ("zstd", "plain")):
            with self.subTest(algo=algo, reply=arg or "compressed"):
                srv, conn = self.login("mysql80", algo, fault="reply_with_login_ok", fault_arg=arg)
                self.assertConnectFails(conn, m.MYWIRE_ERROR_PROTOCOL, "unexpected bytes", "login OK",
                                        "compressed protocol")
                self.assertNotEqual(conn.ping(), m.MYWIRE_OK)
                rec = self.finish(srv, conn)
                self.assertIn("early_reply_sent", rec.events)
                self.assertEqual(rec.queries, [])

    def test_wrong_compressed_sequence(self):
        for algo in ("zlib", "zstd"):
            with self.subTest(algo=algo):
                srv, conn = self.login("mysql80", algo, fault="bad_compressed_seq")
                self.assertConnects(conn)
                with self.assertRaises(m.MywireError) as cm:
                    conn.query("SELECT small")
                self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_PROTOCOL, cm.exception.message)
                self.assertIn("sequence", cm.exception.message)
                self.finish(srv, conn)

    def test_value_over_max_allowed_packet(self):
        srv, conn = self.login("mysql80", "zlib", queries={
            "SELECT big": rows(["b"], [[COMPRESSIBLE]], types=["blob"])})
        conn.set("max_allowed_packet", 8 << 20)
        self.assertConnects(conn)
        with self.assertRaises(m.MywireError) as cm:
            conn.query("SELECT big")
        self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_LIMIT, cm.exception.message)
        self.assertIn("max_allowed_packet", cm.exception.message)
        self.finish(srv, conn, timeout=60)

    def test_lying_uncompressed_length(self):
        for algo in ("zlib", "zstd"):
            with self.subTest(algo=algo):
                srv, conn = self.login("mysql80", algo, fault="lie_compressed_length")
                self.assertConnects(conn)
                with self.assertRaises(m.MywireError) as cm:
                    conn.query("SELECT small")
                self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_PROTOCOL, cm.exception.message)
                self.assertIn("announced", cm.exception.message)
                self.finish(srv, conn)


if __name__ == "__main__":
    main()
