"""What the scripted-server test files share: loading libmywire, a TestCase
with helpers to start a scenario, connect a client to it, and check what the
server recorded."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mywire_ctypes as m  # noqa: E402
from scripted_server import (  # noqa: E402,F401
    CLIENT_COMPRESS, CLIENT_CONNECT_ATTRS, CLIENT_DEPRECATE_EOF, CLIENT_LONG_PASSWORD,
    CLIENT_MFA, CLIENT_PLUGIN_AUTH, CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_SSL,
    CLIENT_ZSTD, DIALOG_ECHO, DIALOG_LAST, DIALOG_PASSWORD, FLAVORS, FORGED_OK, PLUGINS,
    Account, Factor, ScriptedServer, caching_sha2_scramble, err, make_pki, native_scramble, ok,
    rows,
)

LIB_PATH = None


def load_library():
    global LIB_PATH
    if LIB_PATH is None:
        LIB_PATH = m.library_path()
        m.load(LIB_PATH)
    return LIB_PATH


def normalized(message):
    """Client messages may spell option names as URI keys (ssl_mode) or as
    CLI flags (ssl-mode); compare in the underscore form, lower case."""
    return message.replace("-", "_").lower()


# Users and passwords distinctive enough that finding them in a recording
# cannot be a coincidence.
USER = "scripted_user"
PW = "Pw-9f3c1e-secret"
PW2 = "Second-7a4d2b"
PW3 = "Third-5c8e0f"


def secret_forms(password, scramble):
    """Everything from which the password could be recovered or replayed:
    the password itself, its hashes, and both scrambles for this greeting."""
    pw = password.encode()
    forms = {
        "password": pw,
        "sha1(pw)": hashlib.sha1(pw).digest(),
        "sha1(sha1(pw))": hashlib.sha1(hashlib.sha1(pw).digest()).digest(),
        "sha256(pw)": hashlib.sha256(pw).digest(),
    }
    if scramble:
        forms["native scramble"] = native_scramble(password, scramble)
        forms["caching_sha2 scramble"] = caching_sha2_scramble(password, scramble)
    return forms


class ScriptedTest(unittest.TestCase):
    """A test against one scripted server scenario."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        load_library()
        cls.pki = make_pki()

    def serve(self, **scenario):
        scenario.setdefault("account", Account(USER, PW))
        srv = ScriptedServer(**scenario).start()
        self.addCleanup(srv.stop, 1.0)
        return srv

    def client(self, srv, transport="tcp", user=USER, password=PW, **opts):
        """A handle set up for srv. transport: "tcp" (127.0.0.1), "tls"
        (tcp with ssl_mode=required unless given), "plain" (tcp with
        ssl_mode=disabled) or "unix". Other keyword arguments are options."""
        c = m.Conn()
        self.addCleanup(c.free)
        if transport == "unix":
            c.set("socket", srv.unix_path)
        else:
            c.set("host", "127.0.0.1").set("port", srv.port)
        if transport == "tls":
            opts.setdefault("ssl_mode", "required")
        elif transport == "plain":
            opts.setdefault("ssl_mode", "disabled")
        c.set("user", user)
        if password is not None:
            c.set("password", password)
        c.set("connect_timeout", 10000)
        c.set("read_timeout", 20000)
        c.options(**opts)
        return c

    def finish(self, srv, conn=None, timeout=15.0):
        """Free the client (so it sends QUIT and closes), wait for the server
        to end and check it had no bug of its own. Returns the recording."""
        if conn is not None:
            conn.free()
        self.assertTrue(srv.stop(timeout), "the scripted server did not finish")
        rec = srv.rec
        self.assertIsNone(rec.error, f"scripted server failed:\n{rec.error}")
        return rec

    # -- assertions
    def assertConnects(self, conn):
        rc = conn.connect()
        self.assertEqual(rc, m.MYWIRE_OK, f"connect failed: {m.CODE_NAMES.get(rc, rc)}: "
                                          f"{conn.errmsg}")

    def assertConnectFails(self, conn, code, *words, errno=None):
        """The connect fails with `code`; the message contains every word
        (option names compared in underscore form). Returns the message."""
        rc = conn.connect()
        msg = conn.errmsg
        self.assertEqual(rc, code, f"expected {m.CODE_NAMES.get(code, code)}, got "
                                   f"{m.CODE_NAMES.get(rc, rc)}: {msg!r}")
        self.assertEqual(conn.errcode, code)
        if code != m.MYWIRE_ERROR_SERVER:
            self.assertEqual(conn.errno, 0, msg)
            self.assertEqual(conn.sqlstate, "HY000", msg)
        elif errno is not None:
            self.assertEqual(conn.errno, errno, msg)
        for w in words:
            self.assertIn(normalized(w), normalized(msg), f"message {msg!r} lacks {w!r}")
        return msg

    def assertNoSecrets(self, rec, password=PW, *, scrambles=True, user=None, key_file=None):
        """Nothing the password can be recovered from appears in any
        recording (raw wire bytes, decrypted stream, packets). scrambles=False
        when the greeting's plugin legitimately answered with its scramble."""
        for name, value in secret_forms(password, rec.scramble if scrambles else b"").items():
            self.assertFalse(rec.leaked(value), f"{name} left the client")
        if user is not None:
            self.assertFalse(rec.leaked(user), "the user name left the client")
        if key_file is not None:
            with open(key_file, "rb") as f:
                lines = [ln for ln in f.read().splitlines() if ln and not ln.startswith(b"-----")]
            for ln in lines:
                self.assertFalse(rec.leaked(ln), "public key file content left the client")

    def assertOnlyQuitOrNothing(self, data):
        """After a refusal the client sends nothing more, or a COM_QUIT."""
        self.assertIn(bytes(data), (b"", b"\x01\x00\x00\x00\x01"),
                      f"client sent {bytes(data)[:64]!r}")


def words_in(message, *words):
    msg = normalized(message)
    return all(normalized(w) in msg for w in words)


def main():
    load_library()
    unittest.main(verbosity=2)


__all__ = [n for n in dir() if not n.startswith("__")] + ["m", "re"]
