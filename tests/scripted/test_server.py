"""The scripted server itself: its greetings byte by byte, its crypto checks
against known values, and its flows driven by an independent client (the
`mariadb` command-line client, i.e. libmariadb), so that a failure in the
other scripted test files can be told apart from a bug in the server.

    /usr/bin/python3 test_server.py --lib build/capi/libmywire.so.1
(--lib is accepted for symmetry with the other files; this one does not
load libmywire.)
"""

import base64
import os
import shutil
import socket
import struct
import subprocess
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mywire_ctypes  # noqa: E402
import scripted_server as ss  # noqa: E402
from scripted_server import Account, ScriptedServer, make_pki, rows  # noqa: E402

MARIADB = shutil.which("mariadb")


def read_greeting(srv, unix=False):
    """Connect, read the greeting packet, close."""
    if unix:
        s = socket.socket(socket.AF_UNIX)
        s.connect(srv.unix_path)
    else:
        s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(5)
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:3], "little"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


class Greetings(unittest.TestCase):
    def parse(self, data):
        length = int.from_bytes(data[:3], "little")
        self.assertEqual(data[3], 0, "greeting sequence number")
        p = data[4:4 + length]
        self.assertEqual(len(p), length)
        r = ss.Reader(p)
        out = {"protocol": r.u8(), "version": r.nul_str().decode(), "id": r.u32(),
               "part1": r.take(8), "filler": r.u8()}
        lo = r.u16()
        out["charset"] = r.u8()
        out["status"] = r.u16()
        out["caps"] = lo | (r.u16() << 16)
        out["auth_len"] = r.u8()
        out["reserved"] = r.take(6)
        out["ext"] = r.u32()
        out["part2"] = r.take(13)
        out["plugin"] = r.nul_str().decode()
        self.assertEqual(r.remaining(), 0)
        return out

    def test_every_flavor(self):
        expect = {
            "mysql57": ("5.7.44", 0x81FFFFFF, 8, "mysql_native_password", 0),
            "mysql80": ("8.0.36", 0xDFFFFFFF, 255, "caching_sha2_password", 0),
            "mysql84": ("8.4.3", 0xDFFFFFFF, 255, "caching_sha2_password", 0),
            "mysql9": ("9.1.0", 0xDFFFFFFF, 255, "caching_sha2_password", 0),
            "mariadb10": ("5.5.5-10.11.9-MariaDB", 0x81FFFFFE, 45, "mysql_native_password", 0x1D),
            "mariadb11": ("5.5.5-11.6.2-MariaDB", 0x81FFFFFE, 45, "mysql_native_password", 0x3D),
        }
        for flavor, (version, caps, charset, plugin, ext) in expect.items():
            with self.subTest(flavor=flavor):
                srv = ScriptedServer(flavor=flavor, tls=True, connections=1).start()
                g = self.parse(read_greeting(srv))
                srv.stop(5)
                self.assertEqual(g["protocol"], 10)
                self.assertEqual(g["version"], version)
                self.assertEqual(g["id"], 7)
                self.assertEqual(g["filler"], 0)
                self.assertEqual(hex(g["caps"]), hex(caps))
                self.assertEqual(g["charset"], charset)
                self.assertEqual(g["status"], 2)
                self.assertEqual(g["auth_len"], 21)
                self.assertEqual(g["reserved"], b"\0" * 6)
                self.assertEqual(g["ext"], ext)
                self.assertEqual(g["part2"][12], 0)
                self.assertEqual(g["part1"] + g["part2"][:12], srv.rec.scramble)
                self.assertNotIn(0, srv.rec.scramble)
                self.assertEqual(g["plugin"], plugin)

    def test_tls_hidden_and_compression_offer(self):
        srv = ScriptedServer(flavor="mysql80", tls=False, compress_offer={"zlib"}).start()
        g = self.parse(read_greeting(srv))
        srv.stop(5)
        self.assertFalse(g["caps"] & ss.CLIENT_SSL)
        self.assertTrue(g["caps"] & ss.CLIENT_COMPRESS)
        self.assertFalse(g["caps"] & ss.CLIENT_ZSTD)

    def test_pre_tls_bytes_follow_the_greeting(self):
        srv = ScriptedServer(flavor="mysql80", fault="pre_tls_bytes").start()
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.settimeout(5)
        data = b""
        while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:3], "little") + 11:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        srv.stop(5)
        length = int.from_bytes(data[:3], "little")
        self.assertEqual(data[4 + length:], ss.FORGED_OK)
        self.assertIn("pre_tls_bytes_sent", srv.rec.events)

    def test_unix_socket(self):
        srv = ScriptedServer(flavor="mariadb10").start()
        g = self.parse(read_greeting(srv, unix=True))
        srv.stop(5)
        self.assertEqual(g["version"], "5.5.5-10.11.9-MariaDB")
        self.assertEqual(srv.rec.transport, "unix")


class Crypto(unittest.TestCase):
    def test_native_scramble_known_value(self):
        # SHA1("secret") XOR SHA1(scramble + SHA1(SHA1("secret"))), computed
        # independently with hashlib for a fixed scramble.
        import hashlib
        scramble = bytes(range(1, 21))
        h1 = hashlib.sha1(b"secret").digest()
        h3 = hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()
        self.assertEqual(ss.native_scramble("secret", scramble),
                         bytes(a ^ b for a, b in zip(h1, h3)))
        self.assertEqual(ss.native_scramble("", scramble), b"")

    def test_mariadb_ed25519_key_of_empty_password(self):
        # The key tests/server/mariadb.sh gives the real MariaDB for "".
        key = base64.b64decode("4LH+dBF+G5W2CKTyId8xR3SyDqZoQjUNUVNxx8aWbG4=")
        self.assertEqual(ss.mariadb_ed25519_public_key(""), key)

    def test_ed25519_32_byte_password_is_standard_ed25519(self):
        # With a 32-byte password MariaDB's rule equals standard Ed25519 with
        # the password as seed: a check of the libsodium-based derivation
        # that uses `cryptography` alone.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        pw = "0123456789abcdef0123456789abcdef"
        k = ed25519.Ed25519PrivateKey.from_private_bytes(pw.encode())
        pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        self.assertEqual(ss.mariadb_ed25519_public_key(pw), pub)
        msg = os.urandom(32)
        self.assertTrue(ss.ed25519_verify(pub, k.sign(msg), msg))
        # Another message: the last byte flipped (replacing it with "x" left
        # the message as it was when that byte was already 0x78: 1 run in 256).
        self.assertFalse(ss.ed25519_verify(pub, k.sign(msg), msg[:-1] + bytes([msg[-1] ^ 1])))

    def test_zstd_round_trip(self):
        z = ss.zstd()
        data = b"mywire " * 1000
        packed = z.compress(data, 5)
        self.assertLess(len(packed), len(data))
        self.assertEqual(z.decompress(packed, len(data)), data)
        with self.assertRaises(ss.ProtocolViolation):
            z.decompress(packed, len(data) + 1)

    def test_zlib_compressed_packet(self):
        rec = ss.Recording()
        w = ss.Wire(socket.socket(), rec, 1)
        w.compress = "zlib"
        small = w.compressed_packet(b"x" * 10)
        self.assertEqual(small, bytes([10, 0, 0, 0, 0, 0, 0]) + b"x" * 10)
        big = w.compressed_packet(b"y" * 1000)
        clen = int.from_bytes(big[:3], "little")
        self.assertEqual(big[3], 1)
        self.assertEqual(int.from_bytes(big[4:7], "little"), 1000)
        self.assertEqual(zlib.decompress(big[7:7 + clen]), b"y" * 1000)
        w.sock.close()


@unittest.skipUnless(MARIADB, "the mariadb command-line client is not installed")
class ReferenceClient(unittest.TestCase):
    """libmariadb (through the mariadb CLI) against the scripted server."""

    @classmethod
    def setUpClass(cls):
        cls.pki = make_pki()

    def run_cli(self, srv, password, *extra, unix=False, sql="SELECT 1"):
        args = [MARIADB, "--no-defaults", "-u", "app", "--password=" + password, "--batch",
                "--skip-column-names", "--connect-timeout=5", "-e", sql]
        if unix:
            args += ["--socket=" + srv.unix_path, "--protocol=socket"]
        else:
            args += ["-h", "127.0.0.1", "-P", str(srv.port), "--protocol=tcp"]
        p = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        self.assertTrue(srv.stop(10))
        self.assertIsNone(srv.rec.error, srv.rec.error)
        return p

    def expect_ok(self, flavor, account, *extra, unix=False, events=(), compression="none",
                  tls=None):
        srv = ScriptedServer(flavor=flavor, account=account,
                             queries={"SELECT 1": rows(["a", "b"], [["x" * 100, None]] * 3)})
        srv.start()
        p = self.run_cli(srv, account.password, *extra, unix=unix)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip().splitlines()[-3:], ["x" * 100 + "\tNULL"] * 3)
        rec = srv.rec
        for e in events:
            self.assertIn(e, rec.events)
        self.assertEqual(rec.compression, compression)
        self.assertEqual(rec.seq_errors, [])
        if tls is not None:
            self.assertEqual(rec.tls_version is not None, tls)
        return rec

    def expect_denied(self, flavor, account, password, *extra):
        srv = ScriptedServer(flavor=flavor, account=account).start()
        p = self.run_cli(srv, password, *extra)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ERROR 1045 (28000)", p.stderr)
        self.assertIn("access_denied", srv.rec.events)

    def test_native(self):
        for flavor in ss.FLAVORS:
            with self.subTest(flavor=flavor):
                self.expect_ok(flavor, Account("app", "pw"), "--skip-ssl", tls=False)
        self.expect_denied("mysql57", Account("app", "pw"), "wrong", "--skip-ssl")

    def test_tls_verified(self):
        self.expect_ok("mariadb10", Account("app", "pw"), "--ssl", "--ssl-ca=" + self.pki.ca_cert,
                       "--ssl-verify-server-cert", events=["tls_up"], tls=True)

    def test_caching_sha2(self):
        acc = Account("app", "pw", "caching_sha2_password")
        self.expect_ok("mysql80", acc, "--skip-ssl", events=["fast_auth_ok"])
        acc.cached = False
        self.expect_ok("mysql80", acc, "--ssl", events=["full_auth_requested",
                                                        "cleartext_password"], tls=True)
        self.expect_ok("mysql80", acc, "--skip-ssl", events=["key_requested", "rsa_oaep_ok"])
        self.expect_ok("mysql84", acc, "--skip-ssl", unix=True, events=["cleartext_password"])
        self.expect_denied("mysql80", acc, "wrong", "--skip-ssl")

    def test_sha256(self):
        self.expect_ok("mysql80", Account("app", "pw", "sha256_password"), "--ssl",
                       events=["switch:sha256_password", "cleartext_password"])

    def test_clear_and_dialog(self):
        self.expect_ok("mariadb10", Account("app", "pw", "mysql_clear_password"), "--ssl",
                       events=["switch:mysql_clear_password"])
        self.expect_ok("mariadb10", Account("app", "pw", "dialog"), "--ssl",
                       events=["switch:dialog"])
        self.expect_denied("mariadb10", Account("app", "pw", "dialog"), "wrong", "--ssl")

    def test_ed25519(self):
        self.expect_ok("mariadb11", Account("app", "pw", "client_ed25519"), "--skip-ssl",
                       events=["factor_ok:client_ed25519"])
        self.expect_ok("mariadb10", Account("app", "", "client_ed25519"), "--skip-ssl")
        self.expect_denied("mariadb10", Account("app", "pw", "client_ed25519"), "wrong",
                           "--skip-ssl")

    def test_zlib(self):
        self.expect_ok("mysql57", Account("app", "pw"), "--skip-ssl", "--compress",
                       compression="zlib")
        rec = self.expect_ok("mysql80", Account("app", "pw"), "--ssl", "--compress",
                             compression="zlib")
        self.assertTrue(rec.compressed)
        self.expect_ok("mariadb10", Account("app", "pw"), "--skip-ssl", "--compress",
                       compression="zlib")

    def test_classic_eof(self):
        # The server without DEPRECATE_EOF: EOF packets after columns and rows.
        srv = ScriptedServer(flavor="mysql57", caps_remove=ss.CLIENT_DEPRECATE_EOF,
                             queries={"SELECT 1": rows(["a"], [["1"], ["2"]])}).start()
        p = self.run_cli(srv, "secret", "--skip-ssl")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["1", "2"])


if __name__ == "__main__":
    mywire_ctypes.library_path()  # accept and drop --lib
    unittest.main(verbosity=2)
