"""Downgrade attempts and a misbehaving server. Each refusal is a clear error
naming the option that would allow it, and the recordings prove that no
password, no scramble, no hash and no key-file content left the client.

    /usr/bin/python3 test_downgrade.py --lib build/capi/libmywire.so.1
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scripted_common import (FORGED_OK, PW, USER, Account, ScriptedTest, m, main, rows)


class HiddenTls(ScriptedTest):
    """The server (or a man in the middle) clears CLIENT_SSL."""

    def _hidden(self, mode, transport="tcp", **opts):
        srv = self.serve(flavor="mysql80", tls=False,
                         account=Account(USER, PW, "caching_sha2_password"))
        conn = self.client(srv, transport, ssl_mode=mode, **opts)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS, "does not support TLS", "ssl_mode")
        self.assertEqual(conn.status()["tls_failure"], m.MYWIRE_TLS_FAILURE_NOT_OFFERED)
        rec = self.finish(srv, conn)
        # Not a byte of the handshake response: no user, no scramble.
        self.assertIsNone(rec.handshake)
        self.assertOnlyQuitOrNothing(rec.raw)
        self.assertNoSecrets(rec, user=USER)

    def test_required(self):
        self._hidden("required")

    def test_verify_ca(self):
        self._hidden("verify_ca", ssl_ca=self.pki.ca_cert)

    def test_verify_identity(self):
        self._hidden("verify_identity", ssl_ca=self.pki.ca_cert)

    def test_required_over_unix_socket(self):
        # An explicit REQUIRED is not relaxed because the socket is local.
        self._hidden("required", transport="unix")

    def test_preferred_goes_plain_but_password_stays_home(self):
        # PREFERRED may go without TLS; caching_sha2 full authentication
        # then still refuses to send the password without a key option.
        srv = self.serve(flavor="mysql80", tls=False,
                         account=Account(USER, PW, "caching_sha2_password", cached=False))
        conn = self.client(srv, "tcp", ssl_mode="preferred")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path",
                                "get_server_public_key")
        rec = self.finish(srv, conn)
        self.assertIn("full_auth_requested", rec.events)
        self.assertNoSecrets(rec, scrambles=False)


class Cleartext(ScriptedTest):
    """A switch to a plugin that sends the password in clear."""

    def test_clear_password_without_opt_in_over_tls(self):
        srv = self.serve(flavor="mysql80", switch_to=[("mysql_clear_password", None)])
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "enable_cleartext_plugin")
        rec = self.finish(srv, conn)
        self.assertIn("switch:mysql_clear_password", rec.events)
        # Nothing answered the switch, not even inside TLS.
        self.assertEqual(len(rec.auth_responses), 1)
        self.assertNoSecrets(rec, scrambles=False)

    def test_clear_password_opted_in_but_plain_tcp(self):
        srv = self.serve(flavor="mysql80", switch_to=[("mysql_clear_password", None)])
        conn = self.client(srv, "plain", enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "mysql_clear_password")
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.auth_responses), 1)
        self.assertNoSecrets(rec, scrambles=False)

    def test_clear_password_over_hidden_tls_preferred(self):
        # TLS hidden, PREFERRED went plain, then the switch: still refused.
        srv = self.serve(flavor="mariadb10", tls=False,
                         switch_to=[("mysql_clear_password", None)])
        conn = self.client(srv, "tcp", enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH)
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)

    def test_dialog_without_opt_in(self):
        srv = self.serve(flavor="mariadb10", switch_to=[("dialog", None)])
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "enable_cleartext_plugin")
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.auth_responses), 1)
        self.assertNoSecrets(rec, scrambles=False)

    def test_dialog_opted_in_but_plain_tcp(self):
        srv = self.serve(flavor="mariadb10", switch_to=[("dialog", None)])
        conn = self.client(srv, "plain", enable_cleartext_plugin=1)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH)
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)


class RsaKey(ScriptedTest):
    def test_unsolicited_key_without_opt_in(self):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv = self.serve(flavor="mysql80", account=acc, fault="unsolicited_key")
        conn = self.client(srv, "plain")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "get_server_public_key")
        rec = self.finish(srv, conn)
        self.assertIn("key_sent", rec.events)
        # No RSA blob: the key the client did not ask for was not used, and
        # nothing followed the server's full-authentication request.
        self.assertNotIn(256, [len(r) for _, r in rec.auth_responses])
        self.assertNotIn("auth_response", rec.events[rec.events.index("full_auth_requested"):])
        self.assertNoSecrets(rec, scrambles=False)

    def test_sha256_without_key_options_sends_nothing(self):
        srv = self.serve(flavor="mysql80", account=Account(USER, PW, "sha256_password"))
        conn = self.client(srv, "plain")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path",
                                "get_server_public_key")
        rec = self.finish(srv, conn)
        self.assertIn("switch:sha256_password", rec.events)
        self.assertEqual(len(rec.auth_responses), 1)
        self.assertNoSecrets(rec, scrambles=False)

    def test_key_file_never_sent(self):
        # Even a successful RSA login never sends the key file itself.
        acc = Account(USER, PW, "sha256_password")
        srv = self.serve(flavor="mysql80", account=acc)
        conn = self.client(srv, "plain", server_public_key_path=self.pki.rsa_public_path)
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False, key_file=self.pki.rsa_public_path)

    def test_unreadable_key_file(self):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv = self.serve(flavor="mysql80", account=acc)
        conn = self.client(srv, "plain", server_public_key_path="/nonexistent/key.pem")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "server_public_key_path")
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)

    def test_weak_server_key_refused(self):
        # get_server_public_key=1, but the key the server sends is 1024-bit.
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        pem = weak.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv = self.serve(flavor="mysql80", account=acc, rsa_public_pem=pem)
        conn = self.client(srv, "plain", get_server_public_key=1)
        rc = conn.connect()
        self.assertIn(rc, (m.MYWIRE_ERROR_AUTH, m.MYWIRE_ERROR_PROTOCOL), conn.errmsg)
        rec = self.finish(srv, conn)
        self.assertIn("key_sent", rec.events)
        self.assertNotIn(128, [len(r) for _, r in rec.auth_responses])
        self.assertNoSecrets(rec, scrambles=False)

    def test_garbage_server_key_refused(self):
        acc = Account(USER, PW, "caching_sha2_password", cached=False)
        srv = self.serve(flavor="mysql80", account=acc,
                         rsa_public_pem=b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        conn = self.client(srv, "plain", get_server_public_key=1)
        rc = conn.connect()
        self.assertIn(rc, (m.MYWIRE_ERROR_AUTH, m.MYWIRE_ERROR_PROTOCOL), conn.errmsg)
        rec = self.finish(srv, conn)
        self.assertNoSecrets(rec, scrambles=False)


class TlsRequest(ScriptedTest):
    def test_plaintext_err_after_tls_request(self):
        srv = self.serve(flavor="mysql80", fault="tls_plain_err",
                         fault_arg="Injected by a man in the middle")
        conn = self.client(srv, "tls")
        msg = self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS)
        # The injected text is not shown as if the server had said it.
        self.assertNotIn("Injected", msg)
        self.assertEqual(conn.errno, 0)
        self.assertEqual(conn.status()["tls_failure"], m.MYWIRE_TLS_FAILURE_HANDSHAKE)
        rec = self.finish(srv, conn)
        self.assertIn("tls_plain_err_sent", rec.events)
        self.assertIsNone(rec.handshake)
        self.assertNoSecrets(rec, user=USER)

    def test_pre_tls_bytes_after_greeting(self):
        srv = self.serve(flavor="mysql80", fault="pre_tls_bytes")
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS, "before the TLS handshake")
        rec = self.finish(srv, conn)
        # The forged OK was never taken for a login: no handshake response,
        # no TLS handshake, no credentials.
        self.assertIsNone(rec.handshake)
        self.assertIsNone(rec.tls_version)
        self.assertNoSecrets(rec, user=USER)

    def test_pre_tls_bytes_forged_err(self):
        forged = bytes([9, 0, 0, 2]) + b"\xff\x15\x04#28000"  # an ERR 1045 out of nowhere
        srv = self.serve(flavor="mariadb11", fault="pre_tls_bytes", fault_arg=forged)
        conn = self.client(srv, "tcp", ssl_mode="verify_ca",
                           ssl_ca=self.pki.ca_cert)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS)
        self.assertEqual(conn.errno, 0)
        rec = self.finish(srv, conn)
        self.assertIsNone(rec.handshake)


class Plugins(ScriptedTest):
    def test_old_password_switch_named(self):
        srv = self.serve(flavor="mysql57", fault="old_password_switch")
        conn = self.client(srv, "plain")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "mysql_old_password")
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.auth_responses), 1)

    def test_old_password_switch_short(self):
        srv = self.serve(flavor="mysql57", fault="old_password_switch", fault_arg="short")
        conn = self.client(srv, "plain")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "mysql_old_password")
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.auth_responses), 1)

    def test_unknown_plugin(self):
        srv = self.serve(flavor="mysql80", switch_to=[("authentication_fancy_client", b"xyz")])
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "authentication_fancy_client")
        rec = self.finish(srv, conn)
        self.assertEqual(len(rec.auth_responses), 1)

    def test_unknown_plugin_with_unprintable_name(self):
        srv = self.serve(flavor="mysql80", switch_to=[("evil\x1b[31mred", b"")])
        conn = self.client(srv, "tls")
        msg = self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH)
        self.assertNotIn("\x1b", msg)
        self.finish(srv, conn)

    def test_allow_list_refuses_switch(self):
        acc = Account(USER, PW, "caching_sha2_password")
        srv = self.serve(flavor="mysql57", account=acc)
        conn = self.client(srv, "tls", auth_plugins="mysql_native_password")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "auth_plugins",
                                "caching_sha2_password")
        rec = self.finish(srv, conn)
        self.assertIn("switch:caching_sha2_password", rec.events)
        self.assertEqual(len(rec.auth_responses), 1)

    def test_allow_list_first_answer_uses_an_allowed_plugin(self):
        # The greeting names caching_sha2_password; only native is allowed:
        # the first answer must not be a caching_sha2 scramble.
        srv = self.serve(flavor="mysql80", account=Account(USER, PW, "mysql_native_password"))
        conn = self.client(srv, "tls", auth_plugins="mysql_native_password")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["auth_plugin"], "mysql_native_password")
        rec = self.finish(srv, conn)
        self.assertEqual(rec.handshake["auth_plugin"], "mysql_native_password")
        self.assertNotIn("switch:mysql_native_password", rec.events)

    def test_allow_list_permits_listed(self):
        acc = Account(USER, PW, "client_ed25519")
        srv = self.serve(flavor="mariadb10", account=acc)
        conn = self.client(srv, "plain", auth_plugins="mysql_native_password,client_ed25519")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["auth_plugin"], "client_ed25519")
        self.finish(srv, conn)

    def test_too_many_round_trips(self):
        srv = self.serve(flavor="mysql80", fault="endless_switch", fault_arg=100)
        conn = self.client(srv, "tls")
        self.assertConnectFails(conn, m.MYWIRE_ERROR_AUTH, "round trips")
        rec = self.finish(srv, conn)
        switches = [e for e in rec.events if e.startswith("switch:")]
        self.assertLess(len(switches), 100)
        self.assertGreater(len(switches), 1)


class Faults(ScriptedTest):
    def _vanish(self, where, *codes, query=False):
        # mysql57 greets with mysql_native_password: a switch always follows.
        srv = self.serve(flavor="mysql57", fault="vanish", fault_arg=where,
                         account=Account(USER, PW, "caching_sha2_password"),
                         queries={"SELECT big": rows(["a"], [["x" * 1000]] * 50)})
        conn = self.client(srv, "tls")
        if query:
            self.assertConnects(conn)
            with self.assertRaises(m.MywireError) as cm:
                conn.query("SELECT big")
            self.assertIn(cm.exception.code, codes, cm.exception.message)
        else:
            rc = conn.connect()
            self.assertIn(rc, codes, conn.errmsg)
        rec = self.finish(srv, conn)
        self.assertIn("vanished", rec.events)

    def test_vanish_after_greeting(self):
        self._vanish("greeting", m.MYWIRE_ERROR_LOST, m.MYWIRE_ERROR_TLS)

    def test_vanish_after_tls(self):
        self._vanish("tls", m.MYWIRE_ERROR_LOST)

    def test_vanish_after_response(self):
        self._vanish("response", m.MYWIRE_ERROR_LOST)

    def test_vanish_mid_auth(self):
        self._vanish("auth", m.MYWIRE_ERROR_LOST)

    def test_vanish_mid_result(self):
        self._vanish("result", m.MYWIRE_ERROR_LOST, query=True)

    def test_lying_greeting_length(self):
        srv = self.serve(flavor="mysql80", fault="lie_greeting_length")
        conn = self.client(srv, "tls")
        rc = conn.connect()
        self.assertIn(rc, (m.MYWIRE_ERROR_LOST, m.MYWIRE_ERROR_PROTOCOL), conn.errmsg)
        rec = self.finish(srv, conn)
        self.assertEqual(bytes(rec.raw), b"")

    def test_lying_column_count(self):
        srv = self.serve(flavor="mariadb10", fault="lie_column_count",
                         queries={"SELECT 1": rows(["a"], [["1"]])})
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        with self.assertRaises(m.MywireError) as cm:
            conn.query("SELECT 1")
        self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_PROTOCOL, cm.exception.message)
        self.finish(srv, conn)

    def _bad_result(self, fault):
        srv = self.serve(flavor="mysql80", fault=fault,
                         queries={"SELECT 1": rows(["a"], [["1"], ["2"]])})
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        with self.assertRaises(m.MywireError) as cm:
            conn.query("SELECT 1")
        self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_PROTOCOL, cm.exception.message)
        self.finish(srv, conn)
        return cm.exception.message

    def test_lying_row_length(self):
        self._bad_result("lie_row_length")

    def test_wrong_sequence_id(self):
        self.assertIn("sequence", self._bad_result("bad_seq"))


if __name__ == "__main__":
    main()
