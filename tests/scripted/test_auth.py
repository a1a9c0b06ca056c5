"""Every authentication plugin against the scripted server: each plugin x
fast/full path x verified TLS / unverified TLS / plain TCP / unix socket, auth
switches from each plugin to each other, MySQL multi-factor authentication,
dialog prompts, and a man in the middle with a self-signed certificate.

    /usr/bin/python3 test_auth.py --lib build/capi/libmywire.so.1 [-k name]
"""

import datetime
import hashlib
import os
import shutil
import ssl
import tempfile
import atexit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from scripted_common import *  # noqa: F401,F403
from scripted_common import (PW, PW2, PW3, USER, Account, DIALOG_ECHO, DIALOG_LAST,
                             DIALOG_PASSWORD, Factor, ScriptedServer, ScriptedTest, m, main,
                             CLIENT_MFA)

# "tls": TLS that verified the server (verify_identity with the test CA);
# "tls_unverified": TLS that did not (ssl_mode=required), which keeps out
# eavesdroppers but not a man in the middle.
TRANSPORTS = ("tls", "tls_unverified", "plain", "unix")
MARIADB_PLUGINS = ("client_ed25519", "parsec", "dialog")

# What a refusal to send the password over unverified TLS names: every way
# to make it acceptable.
UNVERIFIED_WORDS = ("ssl_mode=verify_ca", "verify_identity", "ssl_ca", "ssl_fingerprint",
                    "unix socket", "allow_unverified_tls_password=1", "man in the middle")


class AuthTest(ScriptedTest):
    """transport "tls" verifies the server; "tls_unverified" does not."""

    def client(self, srv, transport="tcp", user=USER, password=PW, **opts):
        if transport == "tls":
            opts.setdefault("ssl_mode", "verify_identity")
            opts.setdefault("ssl_ca", self.pki.ca_cert)
        elif transport == "tls_unverified":
            transport = "tls"  # ssl_mode=required
        return super().client(srv, transport, user, password, **opts)

    def assertRefusedUnverified(self, conn, *more):
        return self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, *UNVERIFIED_WORDS, *more)


def flavor_for(plugin):
    # MariaDB's plugins on a MariaDB greeting (and MariaDB's packet style).
    return "mariadb11" if plugin in MARIADB_PLUGINS else "mysql80"


class PluginMatrix(AuthTest):
    """One test per (plugin, path, transport); the expected outcome of each
    is spelled out in the generated test's body."""

    def login(self, transport, account, flavor=None, password=PW, scenario=None, **opts):
        srv = self.serve(flavor=flavor or flavor_for(account.plugin), account=account,
                         **(scenario or {}))
        conn = self.client(srv, transport, password=password, **opts)
        return srv, conn

    def assertNoPassword(self, rec, password=PW, key_file=None):
        # The greeting's plugin answers with its scramble before any switch:
        # that is legitimate here, so only the password and its hashes count.
        self.assertNoSecrets(rec, password, scrambles=False, key_file=key_file)

    def check_success(self, srv, conn, transport, plugin):
        self.assertConnects(conn)
        st = conn.status()
        self.assertEqual(st["auth_plugin"], plugin)
        self.assertEqual(st["transport"], "unix" if transport == "unix" else "tcp")
        self.assertEqual(st["tls_active"], 1 if transport.startswith("tls") else 0)
        self.assertEqual(st["tls_verified"], 1 if transport == "tls" else 0)
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        rec = self.finish(srv, conn)
        self.assertTrue(rec.authenticated)
        self.assertIn(f"factor_ok:{plugin}", rec.events)
        self.assertEqual(rec.seq_errors, [])
        self.assertEqual(rec.tls_version is not None, transport.startswith("tls"))
        if transport.startswith("tls"):
            # Over TLS nothing secret is visible on the wire itself.
            self.assertFalse(PW.encode() in rec.raw, "password visible in raw TLS bytes")
            self.assertFalse(USER.encode() in rec.raw, "user name visible in raw TLS bytes")
        return rec

    def check_refused_unverified(self, srv, conn, *more):
        """Unverified TLS: a clear refusal naming the options, and nothing
        the password can be recovered from was sent."""
        self.assertRefusedUnverified(conn, *more)
        rec = self.finish(srv, conn)
        self.assertIsNotNone(rec.tls_version)
        self.assertNoPassword(rec, key_file=self.pki.rsa_public_path)
        return rec

    # -- mysql_native_password: the same on every transport
    def _native(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "mysql_native_password"))
        rec = self.check_success(srv, conn, transport, "mysql_native_password")
        self.assertFalse(rec.leaked(PW))

    def _native_empty_password(self, transport):
        srv, conn = self.login(transport, Account(USER, "", "mysql_native_password"),
                               password="")
        rec = self.check_success(srv, conn, transport, "mysql_native_password")
        self.assertEqual(rec.auth_responses[-1][1], b"")

    def _native_wrong_password(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "mysql_native_password"),
                               password="not-" + PW)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, "Access denied", errno=1045)
        self.assertEqual(conn.sqlstate, "28000")
        self.finish(srv, conn)

    # -- caching_sha2_password, fast path (the server's cache has the account)
    def _caching_sha2_fast(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "caching_sha2_password"))
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        self.assertIn("fast_auth_ok", rec.events)
        self.assertNotIn("full_auth_requested", rec.events)
        self.assertFalse(rec.leaked(PW))
        self.assertEqual(len(rec.auth_responses[-1][1]), 32)

    def _caching_sha2_empty_password(self, transport):
        srv, conn = self.login(transport, Account(USER, "", "caching_sha2_password"),
                               password="")
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        self.assertIn(rec.auth_responses[-1][1], (b"", b"\0"))

    def _caching_sha2_wrong_password(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "caching_sha2_password"),
                               password="not-" + PW)
        if transport == "plain":
            # A cache miss means full authentication, which plain TCP
            # without a key option refuses before the server can say no.
            self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path")
        elif transport == "tls_unverified":
            self.assertRefusedUnverified(conn)
        else:
            self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, errno=1045)
        rec = self.finish(srv, conn)
        self.assertIn("full_auth_requested", rec.events)

    # -- caching_sha2_password, full authentication
    def _caching_sha2_full(self, transport):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv, conn = self.login(transport, acc)
        if transport == "plain":
            # No TLS, no socket, no key: a clear error naming both options,
            # and nothing from which the password can be recovered was sent.
            self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path",
                                    "get_server_public_key")
            rec = self.finish(srv, conn)
            self.assertIn("full_auth_requested", rec.events)
            self.assertNotIn("key_requested", rec.events)
            self.assertNoPassword(rec, key_file=self.pki.rsa_public_path)
            # Scrambles (harmless) were the only auth data sent: no key
            # request, no RSA blob, nothing after the full-auth request.
            self.assertTrue(all(len(r) in (20, 32) for _, r in rec.auth_responses),
                            rec.auth_responses)
            self.assertEqual(rec.events[rec.events.index("full_auth_requested") + 1:],
                             ["client_closed"])
            return
        if transport == "tls_unverified":
            # Whoever terminated that TLS asked for the password: not one
            # byte after its 0x04.
            rec = self.check_refused_unverified(srv, conn, "server_public_key_path")
            self.assertIn("full_auth_requested", rec.events)
            self.assertEqual(rec.events[rec.events.index("full_auth_requested") + 1:],
                             ["client_closed"])
            return
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        self.assertIn("full_auth_requested", rec.events)
        self.assertIn("cleartext_password", rec.events)
        self.assertNotIn("key_requested", rec.events)
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def _caching_sha2_full_key_file(self, transport):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv, conn = self.login(transport, acc, server_public_key_path=self.pki.rsa_public_path)
        if transport == "tls_unverified":
            # Over TLS the server reads the answer as the password in clear:
            # a pinned key is no way around the verification there.
            rec = self.check_refused_unverified(srv, conn, "server_public_key_path")
            self.assertEqual(rec.events[rec.events.index("full_auth_requested") + 1:],
                             ["client_closed"])
            return
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        if transport == "plain":
            self.assertIn("rsa_oaep_ok", rec.events)
            self.assertNotIn("key_requested", rec.events)
            self.assertEqual(len(rec.auth_responses[-1][1]), 256)
            self.assertNoPassword(rec, key_file=self.pki.rsa_public_path)
        else:
            # TLS / socket: the password goes as is, the key is not needed.
            self.assertIn("cleartext_password", rec.events)

    def _caching_sha2_full_fetch_key(self, transport):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv, conn = self.login(transport, acc, get_server_public_key=1)
        if transport == "tls_unverified":
            rec = self.check_refused_unverified(srv, conn)
            self.assertNotIn("key_requested", rec.events)
            return
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        if transport == "plain":
            self.assertIn("key_requested", rec.events)
            self.assertIn("rsa_oaep_ok", rec.events)
            self.assertEqual(rec.auth_responses[-2][1], b"\x02")
            self.assertEqual(len(rec.auth_responses[-1][1]), 256)
            self.assertNoPassword(rec)
        else:
            self.assertNotIn("key_requested", rec.events)

    def _caching_sha2_full_wrong_key_file(self, transport):
        # A valid key that is not the server's: the server cannot decrypt
        # the blob and denies the login; the password still never leaks.
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv, conn = self.login(transport, acc,
                               server_public_key_path=self.pki.other_rsa_public_path)
        if transport == "tls_unverified":
            self.check_refused_unverified(srv, conn)
            return
        if transport != "plain":
            self.check_success(srv, conn, transport, "caching_sha2_password")
            return
        self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, errno=1045)
        rec = self.finish(srv, conn)
        self.assertIn("rsa_decrypt_failed", rec.events)
        self.assertNoPassword(rec)

    # -- sha256_password
    def _sha256(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "sha256_password"))
        if transport == "plain":
            self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path",
                                    "get_server_public_key")
            rec = self.finish(srv, conn)
            self.assertNoPassword(rec)
            # Nothing at all answered the switch to sha256_password.
            self.assertIn("switch:sha256_password", rec.events)
            self.assertNotIn("sha256_password", [p for p, _ in rec.auth_responses])
            return
        if transport == "tls_unverified":
            rec = self.check_refused_unverified(srv, conn, "server_public_key_path")
            self.assertNotIn("sha256_password", [p for p, _ in rec.auth_responses])
            return
        rec = self.check_success(srv, conn, transport, "sha256_password")
        self.assertIn("cleartext_password", rec.events)
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def _sha256_key_file(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "sha256_password"),
                               server_public_key_path=self.pki.rsa_public_path)
        if transport == "tls_unverified":
            self.check_refused_unverified(srv, conn)
            return
        rec = self.check_success(srv, conn, transport, "sha256_password")
        if transport == "plain":
            self.assertIn("rsa_oaep_ok", rec.events)
            self.assertNotIn("key_requested", rec.events)
            self.assertNoPassword(rec, key_file=self.pki.rsa_public_path)

    def _sha256_fetch_key(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "sha256_password"),
                               get_server_public_key=1)
        if transport == "tls_unverified":
            rec = self.check_refused_unverified(srv, conn)
            self.assertNotIn("key_requested", rec.events)
            return
        rec = self.check_success(srv, conn, transport, "sha256_password")
        if transport == "plain":
            self.assertIn("key_requested", rec.events)
            self.assertEqual(rec.auth_responses[-2][1], b"\x01")
            self.assertIn("rsa_oaep_ok", rec.events)
            self.assertNoPassword(rec)

    def _sha256_empty_password(self, transport):
        srv, conn = self.login(transport, Account(USER, "", "sha256_password"), password="")
        rec = self.check_success(srv, conn, transport, "sha256_password")
        self.assertIn(rec.auth_responses[-1][1], (b"", b"\0"))

    # -- mysql_clear_password
    def _clear(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "mysql_clear_password"),
                               enable_cleartext_plugin=1)
        if transport == "plain":
            # Opted in, but not over plain TCP.
            self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "mysql_clear_password")
            rec = self.finish(srv, conn)
            self.assertNoPassword(rec)
            return
        if transport == "tls_unverified":
            # Opted in to the clear-text plugin, not to an unverified server.
            self.check_refused_unverified(srv, conn, "mysql_clear_password")
            return
        rec = self.check_success(srv, conn, transport, "mysql_clear_password")
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def _clear_not_enabled(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "mysql_clear_password"))
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "enable_cleartext_plugin")
        rec = self.finish(srv, conn)
        self.assertNoPassword(rec)

    # -- dialog (PAM): password questions answered with the password
    def _dialog(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "dialog"),
                               enable_cleartext_plugin=1)
        if transport == "plain":
            self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "dialog")
            rec = self.finish(srv, conn)
            self.assertNoPassword(rec)
            return
        if transport == "tls_unverified":
            self.check_refused_unverified(srv, conn, "dialog")
            return
        rec = self.check_success(srv, conn, transport, "dialog")
        self.assertIn(rec.auth_responses[-1][1], (PW.encode() + b"\0", PW.encode()))

    def _dialog_not_enabled(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "dialog"))
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "enable_cleartext_plugin")
        rec = self.finish(srv, conn)
        self.assertNoPassword(rec)

    # -- client_ed25519: a signature, safe on any transport
    def _ed25519(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "client_ed25519"))
        rec = self.check_success(srv, conn, transport, "client_ed25519")
        self.assertEqual(len(rec.auth_responses[-1][1]), 64)
        self.assertFalse(rec.leaked(PW))

    def _ed25519_empty_password(self, transport):
        srv, conn = self.login(transport, Account(USER, "", "client_ed25519"), password="")
        self.check_success(srv, conn, transport, "client_ed25519")

    def _ed25519_wrong_password(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "client_ed25519"),
                               password="not-" + PW)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, errno=1045)
        self.finish(srv, conn)

    # -- parsec: salt request, then client scramble + signature
    def _parsec(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "parsec", parsec_factor=0))
        rec = self.check_success(srv, conn, transport, "parsec")
        self.assertIn("parsec_salt_sent", rec.events)
        plugins = [(p, len(r)) for p, r in rec.auth_responses if p == "parsec"]
        self.assertEqual(plugins, [("parsec", 0), ("parsec", 96)])
        self.assertFalse(rec.leaked(PW))

    def _parsec_mysql_style(self, transport):
        # The ext-salt as AuthMoreData (0x01 + data) instead of MariaDB's
        # raw packet: tells a client that only knows 0x01 from one that
        # fails on the packet itself.
        srv, conn = self.login(transport, Account(USER, PW, "parsec"),
                               scenario={"more_data_style": "mysql"})
        self.check_success(srv, conn, transport, "parsec")

    def _parsec_factor3(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "parsec", parsec_factor=3))
        self.check_success(srv, conn, transport, "parsec")

    def _parsec_empty_password(self, transport):
        srv, conn = self.login(transport, Account(USER, "", "parsec"), password="")
        self.check_success(srv, conn, transport, "parsec")

    def _parsec_wrong_password(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "parsec"), password="not-" + PW)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, errno=1045)
        self.finish(srv, conn)

    def _parsec_factor_too_large(self, transport):
        # 1024 << 10 rounds: more than MariaDB stores; refused before any work.
        srv, conn = self.login(transport, Account(USER, PW, "parsec", parsec_factor=10))
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "parsec")
        rec = self.finish(srv, conn)
        self.assertEqual([len(r) for p, r in rec.auth_responses if p == "parsec"], [0])


CASES = [
    "native", "native_empty_password", "native_wrong_password",
    "caching_sha2_fast", "caching_sha2_empty_password", "caching_sha2_wrong_password",
    "caching_sha2_full", "caching_sha2_full_key_file", "caching_sha2_full_fetch_key",
    "caching_sha2_full_wrong_key_file",
    "sha256", "sha256_key_file", "sha256_fetch_key", "sha256_empty_password",
    "clear", "clear_not_enabled",
    "dialog", "dialog_not_enabled",
    "ed25519", "ed25519_empty_password", "ed25519_wrong_password",
    "parsec", "parsec_mysql_style", "parsec_factor3", "parsec_empty_password", "parsec_wrong_password",
    "parsec_factor_too_large",
]


def _make(case, transport):
    def test(self):
        getattr(self, "_" + case)(transport)
    test.__name__ = f"test_{case}_{transport}"
    return test


for _case in CASES:
    for _t in TRANSPORTS:
        setattr(PluginMatrix, f"test_{_case}_{_t}", _make(_case, _t))


class SwitchMatrix(AuthTest):
    """Greeting plugin A, account plugin B: the server switches the client to
    B (over verified TLS with enable_cleartext_plugin, so every B may succeed)."""

    def _switch(self, a, b):
        acc = Account(USER, PW, b)
        srv = self.serve(flavor=flavor_for(b), greeting_plugin=a, account=acc)
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        self.assertConnects(conn)
        self.assertEqual(conn.status()["auth_plugin"], b)
        rec = self.finish(srv, conn)
        first = rec.handshake["auth_plugin"]
        # The first answer used the greeting's plugin when it can start
        # from the greeting's scramble, else mysql_native_password.
        self.assertEqual(first, a if a in GREETING_USABLE else "mysql_native_password")
        # The server switched unless that first answer was already B.
        self.assertEqual(f"switch:{b}" in rec.events, first != b)
        self.assertIn(f"factor_ok:{b}", rec.events)
        self.assertEqual(rec.seq_errors, [])


# Plugins that answer the greeting's scramble: ed25519, parsec and dialog get
# their challenge from a switch request, and the password never goes in
# clear in the very first packet (mysql_clear_password waits for a switch).
GREETING_USABLE = ("mysql_native_password", "caching_sha2_password", "sha256_password")
PLUGINS_ALL = ("mysql_native_password", "caching_sha2_password", "sha256_password",
               "mysql_clear_password", "dialog", "client_ed25519", "parsec")


def _make_switch(a, b):
    def test(self):
        self._switch(a, b)
    return test


for _a in PLUGINS_ALL:
    for _b in PLUGINS_ALL:
        if _a != _b:
            setattr(SwitchMatrix, f"test_switch_{_a}_to_{_b}", _make_switch(_a, _b))


class MultiFactor(AuthTest):
    """MySQL 8.0.27+ multi-factor authentication (AuthNextFactor)."""

    def account(self, n):
        acc = Account(USER, PW, "caching_sha2_password",
                      factor2=Factor("caching_sha2_password", PW2, cached=False))
        if n == 3:
            acc.factor3 = Factor("mysql_clear_password", PW3)
        return acc

    def test_two_factors(self):
        for flavor in ("mysql80", "mysql84", "mysql9"):
            with self.subTest(flavor=flavor):
                srv = self.serve(flavor=flavor, account=self.account(2))
                conn = self.client(srv, "tls", password2=PW2)
                self.assertConnects(conn)
                rec = self.finish(srv, conn)
                self.assertTrue(rec.handshake["capabilities"] & CLIENT_MFA)
                self.assertEqual([e for e in rec.events if e.startswith("next_factor")],
                                 ["next_factor:caching_sha2_password"])
                self.assertEqual(rec.auth_responses[-1][1], PW2.encode() + b"\0")
                self.assertEqual(rec.seq_errors, [])

    def test_three_factors(self):
        srv = self.serve(flavor="mysql80", account=self.account(3))
        conn = self.client(srv, "tls", password2=PW2, password3=PW3, enable_cleartext_plugin=1)
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual([e for e in rec.events if e.startswith("factor_ok")],
                         ["factor_ok:caching_sha2_password", "factor_ok:caching_sha2_password",
                          "factor_ok:mysql_clear_password"])
        self.assertEqual(rec.auth_responses[-1], ("mysql_clear_password", PW3.encode() + b"\0"))

    def test_missing_password2(self):
        srv = self.serve(flavor="mysql80", account=self.account(2))
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "password2")
        rec = self.finish(srv, conn)
        # Nothing answered the second factor: the first password is not
        # reused for it.
        i = rec.events.index("next_factor:caching_sha2_password")
        self.assertNotIn("auth_response", rec.events[i:])
        self.assertNoSecrets(rec, PW2)

    def test_missing_password3(self):
        srv = self.serve(flavor="mysql80", account=self.account(3))
        conn = self.client(srv, "tls", password2=PW2, enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "password3")
        rec = self.finish(srv, conn)
        i = rec.events.index("next_factor:mysql_clear_password")
        self.assertNotIn("auth_response", rec.events[i:])
        self.assertFalse(rec.leaked(PW3))

    def test_second_factor_cleartext_on_plain_tcp_refused(self):
        acc = Account(USER, PW, "mysql_native_password",
                      factor2=Factor("mysql_clear_password", PW2))
        srv = self.serve(flavor="mysql80", account=acc)
        conn = self.client(srv, "plain", password2=PW2, enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "mysql_clear_password")
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, PW2)

    def test_no_mfa_capability_on_mysql57(self):
        srv = self.serve(flavor="mysql57", account=Account(USER, PW))
        conn = self.client(srv, "plain", password2=PW2)
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertFalse(rec.handshake["capabilities"] & CLIENT_MFA)


class Dialog(AuthTest):
    """dialog prompts beyond the password go to the callback."""

    def account(self, questions):
        return Account(USER, PW, "dialog", dialog=questions)

    def test_otp_via_callback(self):
        asked = []
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_PASSWORD, "Password: ", None),
             (DIALOG_ECHO | DIALOG_LAST, "OTP: ", "123456")]))
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: asked.append((echo, prompt)) or "123456")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(asked, [(1, "OTP: ")])
        self.assertEqual([r for p, r in rec.auth_responses if p == "dialog"],
                         [PW.encode() + b"\0", b"123456\0"])

    def test_otp_via_callback_mysql_style(self):
        # The same, with the second question as AuthMoreData (0x01 + data).
        srv = self.serve(flavor="mariadb10", more_data_style="mysql", account=self.account(
            [(DIALOG_PASSWORD, "Password: ", None),
             (DIALOG_ECHO | DIALOG_LAST, "OTP: ", "123456")]))
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: "123456")
        self.assertConnects(conn)
        self.finish(srv, conn)

    def test_second_password_prompt_goes_to_callback(self):
        # Only the first password question gets the password (as libmariadb
        # does); a later one (a new password, a code) is the callback's, as
        # a secret question (echo 0).
        questions = [(DIALOG_PASSWORD, "Password: ", None),
                     (DIALOG_PASSWORD | DIALOG_LAST, "New password: ", "N3w-pw")]
        asked = []
        srv = self.serve(flavor="mariadb10", account=self.account(questions))
        conn = self.client(srv, "unix", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: asked.append((echo, prompt)) or "N3w-pw")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(asked, [(0, "New password: ")])
        self.assertEqual([r for p, r in rec.auth_responses if p == "dialog"],
                         [PW.encode() + b"\0", b"N3w-pw\0"])

    def test_second_password_prompt_without_callback(self):
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_PASSWORD, "Password: ", None),
             (DIALOG_PASSWORD | DIALOG_LAST, "Password again: ", None)]))
        conn = self.client(srv, "unix", enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "dialog")
        rec = self.finish(srv, conn)
        # The password went once, to the first question only.
        self.assertEqual([r for p, r in rec.auth_responses if p == "dialog"],
                         [PW.encode() + b"\0"])

    def test_dialog_over_plain_tcp_refuses_even_the_callback(self):
        # A secret question on plain TCP is refused before the callback.
        asked = []
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_PASSWORD | DIALOG_LAST, "Password: ", None)]))
        conn = self.client(srv, "plain", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: asked.append(prompt) or PW)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "dialog")
        rec = self.finish(srv, conn)
        self.assertEqual(asked, [])
        self.assertNoSecrets(rec, scrambles=False)

    def test_prompt_without_callback(self):
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_PASSWORD, "Password: ", None),
             (DIALOG_ECHO | DIALOG_LAST, "OTP: ", "123456")]))
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "dialog")
        rec = self.finish(srv, conn)
        self.assertEqual(len([r for p, r in rec.auth_responses if p == "dialog"]), 1)

    def test_callback_aborts(self):
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_ECHO | DIALOG_LAST, "Token: ", "x")]))
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: None)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH)
        rec = self.finish(srv, conn)
        self.assertEqual([r for p, r in rec.auth_responses if p == "dialog"], [])

    def test_wrong_otp_is_a_server_error(self):
        srv = self.serve(flavor="mariadb10", account=self.account(
            [(DIALOG_PASSWORD, "Password: ", None),
             (DIALOG_ECHO | DIALOG_LAST, "OTP: ", "123456")]))
        conn = self.client(srv, "tls", enable_cleartext_plugin=1)
        conn.set_dialog(lambda echo, prompt: "654321")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_SERVER, errno=1045)
        self.finish(srv, conn)


# ------------------------------------------------------- a man in the middle

_mitm = None


def mitm_certificate():
    """A freshly made self-signed certificate for 127.0.0.1 (what a man in the
    middle presents): (cert path, key path, SHA-256 of its DER as hex)."""
    global _mitm
    if _mitm is None:
        d = tempfile.mkdtemp(prefix="mywire-scripted-mitm-")
        atexit.register(shutil.rmtree, d, True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .sign(key, hashes.SHA256()))
        cert_path = os.path.join(d, "mitm-cert.pem")
        key_path = os.path.join(d, "mitm-key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        der = cert.public_bytes(serialization.Encoding.DER)
        _mitm = (cert_path, key_path, hashlib.sha256(der).hexdigest())
    return _mitm


class ManInTheMiddle(AuthTest):
    """An endpoint with a self-signed certificate offers TLS and asks for the
    password (caching_sha2_password full authentication, 0x01 0x04, or a
    switch to mysql_clear_password): with the default options it gets no
    password byte; verifying the server, or the explicit opt-in, lets the
    login proceed."""

    def mitm(self, account):
        srv = ScriptedServer(flavor="mysql80", account=account)
        # Its own certificate instead of the test CA's.
        cert, key, _ = mitm_certificate()
        srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.ctx.load_cert_chain(cert, key)
        srv.start()
        self.addCleanup(srv.stop, 1.0)
        return srv

    def full_auth_account(self):
        return Account(USER, PW, "caching_sha2_password", cached=False)

    def assertNothingAfterFullAuthRequest(self, rec):
        self.assertIn("tls_up", rec.events)
        self.assertIn("full_auth_requested", rec.events)
        self.assertEqual(rec.events[rec.events.index("full_auth_requested") + 1:],
                         ["client_closed"])
        # Only the handshake response (its 32-byte scramble) answered.
        self.assertEqual([len(r) for _, r in rec.auth_responses], [32])
        self.assertFalse(PW.encode() in rec.post_tls, "the password went over TLS")
        self.assertNoSecrets(rec, scrambles=False)

    def test_full_auth_default_options_send_no_password(self):
        # The defaults: ssl_mode PREFERRED over TCP, nothing to verify with.
        for mode in (None, "preferred", "required"):
            with self.subTest(ssl_mode=mode):
                srv = self.mitm(self.full_auth_account())
                conn = self.client(srv, "tcp", ssl_mode=mode)
                msg = self.assertRefusedUnverified(conn, "caching_sha2_password",
                                                   "server_public_key_path")
                self.assertNotIn(PW, msg)
                rec = self.finish(srv, conn)
                self.assertNothingAfterFullAuthRequest(rec)

    def test_full_auth_with_key_options_still_no_password(self):
        # A pinned key or key fetching does not help over TLS (the server
        # reads the answer as the password in clear): still refused.
        for opts in ({"server_public_key_path": self.pki.rsa_public_path},
                     {"get_server_public_key": 1}):
            with self.subTest(**opts):
                srv = self.mitm(self.full_auth_account())
                conn = self.client(srv, "tcp", **opts)
                self.assertRefusedUnverified(conn)
                rec = self.finish(srv, conn)
                self.assertNothingAfterFullAuthRequest(rec)
                self.assertNotIn("key_requested", rec.events)

    def test_full_auth_verified_by_fingerprint(self):
        # The same certificate, pinned: the server is known, the password goes.
        srv = self.mitm(self.full_auth_account())
        conn = self.client(srv, "tcp", ssl_fingerprint=mitm_certificate()[2])
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_verified"], 1)
        rec = self.finish(srv, conn)
        self.assertIn("cleartext_password", rec.events)
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def test_full_auth_verified_by_ca(self):
        # The real server's certificate and its CA: verify_ca and
        # verify_identity let the password go.
        for mode in ("verify_ca", "verify_identity"):
            with self.subTest(ssl_mode=mode):
                srv = self.serve(flavor="mysql80", account=self.full_auth_account())
                conn = self.client(srv, "tcp", ssl_mode=mode, ssl_ca=self.pki.ca_cert)
                self.assertConnects(conn)
                self.assertEqual(conn.status()["tls_verified"], 1)
                rec = self.finish(srv, conn)
                self.assertIn("cleartext_password", rec.events)

    def test_mitm_certificate_fails_verification(self):
        # verify_ca with the real CA against the man in the middle: refused at
        # the TLS handshake, before any authentication data.
        srv = self.mitm(self.full_auth_account())
        conn = self.client(srv, "tcp", ssl_mode="verify_ca", ssl_ca=self.pki.ca_cert)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS)
        rec = self.finish(srv, conn)
        self.assertNotIn("handshake_response", rec.events)
        self.assertNoSecrets(rec)

    def test_full_auth_opt_in(self):
        srv = self.mitm(self.full_auth_account())
        conn = self.client(srv, "tcp", allow_unverified_tls_password=1)
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_verified"], 0)
        rec = self.finish(srv, conn)
        self.assertIn("cleartext_password", rec.events)
        # 0 is the default: refused again.
        srv = self.mitm(self.full_auth_account())
        conn = self.client(srv, "tcp", allow_unverified_tls_password=0)
        self.assertRefusedUnverified(conn)
        self.assertNothingAfterFullAuthRequest(self.finish(srv, conn))

    def test_opt_in_is_not_plain_tcp(self):
        # The opt-in is about TLS: without TLS the password still needs RSA.
        srv = self.serve(flavor="mysql80", account=self.full_auth_account())
        conn = self.client(srv, "plain", allow_unverified_tls_password=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path")
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)

    def test_clear_password_unverified_refused(self):
        for mode in (None, "required"):
            with self.subTest(ssl_mode=mode):
                srv = self.mitm(Account(USER, PW, "mysql_clear_password"))
                conn = self.client(srv, "tcp", ssl_mode=mode, enable_cleartext_plugin=1)
                self.assertRefusedUnverified(conn, "mysql_clear_password")
                rec = self.finish(srv, conn)
                self.assertIn("switch:mysql_clear_password", rec.events)
                self.assertNotIn("mysql_clear_password", [p for p, _ in rec.auth_responses])
                self.assertNoSecrets(rec, scrambles=False)

    def test_clear_password_verified_allowed(self):
        srv = self.serve(flavor="mysql80", account=Account(USER, PW, "mysql_clear_password"))
        conn = self.client(srv, "tcp", ssl_mode="verify_ca", ssl_ca=self.pki.ca_cert,
                           enable_cleartext_plugin=1)
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.auth_responses[-1], ("mysql_clear_password", PW.encode() + b"\0"))
        srv = self.mitm(Account(USER, PW, "mysql_clear_password"))
        conn = self.client(srv, "tcp", ssl_fingerprint=mitm_certificate()[2],
                           enable_cleartext_plugin=1)
        self.assertConnects(conn)
        self.finish(srv, conn)

    def test_clear_password_opt_in(self):
        srv = self.mitm(Account(USER, PW, "mysql_clear_password"))
        conn = self.client(srv, "tcp", enable_cleartext_plugin=1, allow_unverified_tls_password=1)
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.auth_responses[-1], ("mysql_clear_password", PW.encode() + b"\0"))

    def test_dialog_unverified_refused(self):
        srv = self.mitm(Account(USER, PW, "dialog"))
        conn = self.client(srv, "tcp", enable_cleartext_plugin=1)
        self.assertRefusedUnverified(conn, "dialog")
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)

    def test_nothing_recoverable_still_logs_in(self):
        # native, ed25519 and parsec send nothing the password can be
        # recovered from: unverified TLS is fine for them.
        for plugin, flavor in (("mysql_native_password", "mysql80"),
                               ("caching_sha2_password", "mysql80"),  # fast path
                               ("client_ed25519", "mariadb11"), ("parsec", "mariadb11")):
            with self.subTest(plugin=plugin):
                srv = self.serve(flavor=flavor, account=Account(USER, PW, plugin))
                conn = self.client(srv, "tcp")
                self.assertConnects(conn)
                self.assertEqual(conn.status()["tls_verified"], 0)
                self.finish(srv, conn)


if __name__ == "__main__":
    main()
