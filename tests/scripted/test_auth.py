"""Every authentication plugin against the scripted server: each plugin x
fast/full path x TLS / plain TCP / unix socket, auth switches from each plugin
to each other, MySQL multi-factor authentication, dialog prompts.

    /usr/bin/python3 test_auth.py --lib build/capi/libmywire.so.0 [-k name]
"""

from scripted_common import *  # noqa: F401,F403
from scripted_common import (PW, PW2, PW3, USER, Account, DIALOG_ECHO, DIALOG_LAST,
                             DIALOG_PASSWORD, Factor, ScriptedTest, m, main, CLIENT_MFA)

TRANSPORTS = ("tls", "plain", "unix")
MARIADB_PLUGINS = ("client_ed25519", "parsec", "dialog")


def flavor_for(plugin):
    # MariaDB's plugins on a MariaDB greeting (and MariaDB's packet style).
    return "mariadb11" if plugin in MARIADB_PLUGINS else "mysql80"


class PluginMatrix(ScriptedTest):
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
        self.assertEqual(st["tls_active"], 1 if transport == "tls" else 0)
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        rec = self.finish(srv, conn)
        self.assertTrue(rec.authenticated)
        self.assertIn(f"factor_ok:{plugin}", rec.events)
        self.assertEqual(rec.seq_errors, [])
        self.assertEqual(rec.tls_version is not None, transport == "tls")
        if transport == "tls":
            # Over TLS nothing secret is visible on the wire itself.
            self.assertFalse(PW.encode() in rec.raw, "password visible in raw TLS bytes")
            self.assertFalse(USER.encode() in rec.raw, "user name visible in raw TLS bytes")
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
        rec = self.check_success(srv, conn, transport, "caching_sha2_password")
        self.assertIn("full_auth_requested", rec.events)
        self.assertIn("cleartext_password", rec.events)
        self.assertNotIn("key_requested", rec.events)
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def _caching_sha2_full_key_file(self, transport):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv, conn = self.login(transport, acc, server_public_key_path=self.pki.rsa_public_path)
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
        rec = self.check_success(srv, conn, transport, "sha256_password")
        self.assertIn("cleartext_password", rec.events)
        self.assertEqual(rec.auth_responses[-1][1], PW.encode() + b"\0")

    def _sha256_key_file(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "sha256_password"),
                               server_public_key_path=self.pki.rsa_public_path)
        rec = self.check_success(srv, conn, transport, "sha256_password")
        if transport == "plain":
            self.assertIn("rsa_oaep_ok", rec.events)
            self.assertNotIn("key_requested", rec.events)
            self.assertNoPassword(rec, key_file=self.pki.rsa_public_path)

    def _sha256_fetch_key(self, transport):
        srv, conn = self.login(transport, Account(USER, PW, "sha256_password"),
                               get_server_public_key=1)
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


class SwitchMatrix(ScriptedTest):
    """Greeting plugin A, account plugin B: the server switches the client to
    B (over TLS with enable_cleartext_plugin, so every B may succeed)."""

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


class MultiFactor(ScriptedTest):
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


class Dialog(ScriptedTest):
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


if __name__ == "__main__":
    main()
