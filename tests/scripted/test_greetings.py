"""Greetings of every server flavor, what the client answers to them, TLS
negotiation and verification, and the commands after login.

    /usr/bin/python3 test_greetings.py --lib build/capi/libmywire.so.1
"""

import shutil
import ssl
import struct
import tempfile

from scripted_common import (CLIENT_COMPRESS, CLIENT_CONNECT_ATTRS, CLIENT_DEPRECATE_EOF,
                             CLIENT_MFA, CLIENT_PLUGIN_AUTH, CLIENT_PROTOCOL_41,
                             CLIENT_SECURE_CONNECTION, CLIENT_SSL, CLIENT_ZSTD, PW, USER, Account,
                             ScriptedTest, err, m, main, make_pki, ok, rows)

VERSIONS = {
    "mysql57": ("5.7.44", 0, "mysql_native_password"),
    "mysql80": ("8.0.36", 0, "caching_sha2_password"),
    "mysql84": ("8.4.3", 0, "caching_sha2_password"),
    "mysql9": ("9.1.0", 0, "caching_sha2_password"),
    # mywire drops MariaDB's "5.5.5-" replication prefix.
    "mariadb10": ("10.11.9-MariaDB", 1, "mysql_native_password"),
    "mariadb11": ("11.6.2-MariaDB", 1, "mysql_native_password"),
}


class Flavors(ScriptedTest):
    def _flavor(self, flavor, transport):
        version, mariadb, plugin = VERSIONS[flavor]
        # The account uses the flavor's default plugin: no switch needed.
        srv = self.serve(flavor=flavor, account=Account(USER, PW, plugin))
        conn = self.client(srv, transport)
        self.assertConnects(conn)
        st = conn.status()
        self.assertEqual(st["server_version"], version)
        self.assertEqual(st["is_mariadb"], mariadb)
        self.assertEqual(st["thread_id"], 7)
        self.assertEqual(st["auth_plugin"], plugin)
        self.assertEqual(st["compression"], "none")
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        self.assertEqual(conn.ping(), m.MYWIRE_OK)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.seq_errors, [])
        self.assertNotIn("switch:" + plugin, rec.events)
        hs = rec.handshake
        caps = hs["capabilities"]
        for bit in (CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH,
                    CLIENT_CONNECT_ATTRS, CLIENT_DEPRECATE_EOF):
            self.assertTrue(caps & bit, hex(bit))
        # Nothing asked for that was not offered or wanted.
        self.assertFalse(caps & (CLIENT_COMPRESS | CLIENT_ZSTD))
        self.assertEqual(bool(caps & CLIENT_MFA), flavor in ("mysql80", "mysql84", "mysql9"))
        self.assertEqual(hs["user"], USER.encode())
        self.assertEqual(hs["charset"], 45)
        self.assertTrue(hs["reserved_zero"])
        self.assertEqual(hs["auth_plugin"], plugin)
        self.assertEqual(hs["attributes"]["_client_name"], "libmywire")
        self.assertEqual(hs["trailing"], b"")
        self.assertEqual(rec.queries, ["SELECT 1"])
        self.assertEqual(rec.events[-1], "quit")
        return rec

    def test_classic_eof_framing(self):
        srv = self.serve(flavor="mysql57", caps_remove=CLIENT_DEPRECATE_EOF,
                         queries={"SELECT 2": rows(["a", "b"], [["1", None], ["", "x"]])})
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        self.assertEqual(conn.query("SELECT 2"), [[b"1", None], [b"", b"x"]])
        rec = self.finish(srv, conn)
        self.assertFalse(rec.handshake["capabilities"] & CLIENT_DEPRECATE_EOF)

    def test_database_at_connect(self):
        srv = self.serve(flavor="mysql57")
        conn = self.client(srv, "plain", database="app_db")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertEqual(rec.handshake["database"], b"app_db")

    def test_ok_and_error_results(self):
        srv = self.serve(flavor="mariadb11", queries={
            "UPDATE t SET a = 1": ok(affected=3),
            "BAD": err(1146, "42S02", "Table 'x.t' doesn't exist")})
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        self.assertEqual(conn.query("UPDATE t SET a = 1"), [])
        with self.assertRaises(m.MywireError) as cm:
            conn.query("BAD")
        self.assertEqual(cm.exception.code, m.MYWIRE_ERROR_SERVER)
        self.assertEqual(cm.exception.errno, 1146)
        self.assertEqual(conn.sqlstate, "42S02")
        # An ERR result leaves the connection usable.
        self.assertEqual(conn.query("SELECT 1"), [[b"1"]])
        self.finish(srv, conn)


def _make(flavor, transport):
    def test(self):
        self._flavor(flavor, transport)
    return test


for _f in VERSIONS:
    for _t in ("tls", "plain", "unix"):
        setattr(Flavors, f"test_{_f}_{_t}", _make(_f, _t))


class Tls(ScriptedTest):
    def test_ssl_request_carries_only_what_it_must(self):
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "tls")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        req = rec.ssl_request
        self.assertEqual(len(req), 32)
        caps, max_packet, charset = struct.unpack("<IIB", req[:9])
        self.assertTrue(caps & CLIENT_SSL)
        self.assertEqual(caps, rec.handshake["capabilities"])
        self.assertEqual(charset, 45)
        self.assertEqual(req[9:28], b"\0" * 19)
        # Before TLS: the greeting's answer is the 32-byte SSLRequest and
        # then TLS records; no user name in clear.
        self.assertEqual(bytes(rec.pre_tls[:36]), bytes([32, 0, 0, 1]) + req)
        self.assertFalse(USER.encode() in rec.raw)
        self.assertTrue(USER.encode() in rec.post_tls)
        self.assertEqual(rec.packets[1][1], 2, "handshake response sequence id after TLS")

    def test_default_mode_prefers_tls_over_tcp(self):
        srv = self.serve(flavor="mysql84")
        conn = self.client(srv, "tcp")
        self.assertConnects(conn)
        st = conn.status()
        self.assertEqual(st["tls_active"], 1)
        self.assertEqual(st["tls_verified"], 0)
        self.assertEqual(st["tls_version"], "TLSv1.3")
        self.assertNotEqual(st["tls_cipher"], "")
        rec = self.finish(srv, conn)
        self.assertEqual(rec.tls_version, "TLSv1.3")

    def test_default_mode_plain_when_tls_hidden(self):
        srv = self.serve(flavor="mysql57", tls=False)
        conn = self.client(srv, "tcp")
        self.assertConnects(conn)
        st = conn.status()
        self.assertEqual(st["tls_active"], 0)
        self.assertEqual(st["tls_version"], "")
        rec = self.finish(srv, conn)
        self.assertIsNone(rec.ssl_request)

    def test_unix_socket_default_no_tls(self):
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "unix")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["transport"], "unix")
        self.assertEqual(conn.status()["tls_active"], 0)
        rec = self.finish(srv, conn)
        self.assertIsNone(rec.ssl_request)
        self.assertFalse(rec.handshake["capabilities"] & CLIENT_SSL)

    def test_required_over_unix_socket_uses_tls(self):
        srv = self.serve(flavor="mariadb11")
        conn = self.client(srv, "unix", ssl_mode="required")
        self.assertConnects(conn)
        st = conn.status()
        self.assertEqual((st["transport"], st["tls_active"]), ("unix", 1))
        rec = self.finish(srv, conn)
        self.assertIsNotNone(rec.tls_version)
        self.assertFalse(USER.encode() in rec.raw)

    def test_disabled_sends_no_ssl_request(self):
        srv = self.serve(flavor="mariadb10")
        conn = self.client(srv, "plain")
        self.assertConnects(conn)
        rec = self.finish(srv, conn)
        self.assertIsNone(rec.ssl_request)
        self.assertFalse(rec.handshake["capabilities"] & CLIENT_SSL)

    def test_verify_ca(self):
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "tcp", ssl_mode="verify_ca", ssl_ca=self.pki.ca_cert)
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_verified"], 1)
        self.finish(srv, conn)

    def test_verify_identity_ip_san(self):
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "tcp", ssl_mode="verify_identity", ssl_ca=self.pki.ca_cert)
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_verified"], 1)
        self.finish(srv, conn)

    def test_ca_without_mode_means_verify_ca(self):
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "tcp", ssl_ca=self.pki.ca_cert)
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_verified"], 1)
        self.finish(srv, conn)

    def test_untrusted_ca_fails_before_credentials(self):
        other_dir = tempfile.mkdtemp(prefix="mywire-other-ca-")
        self.addCleanup(shutil.rmtree, other_dir, True)
        other = make_pki(other_dir)
        srv = self.serve(flavor="mysql80")
        conn = self.client(srv, "tcp", ssl_mode="verify_ca", ssl_ca=other.ca_cert)
        self.assertConnectFails(conn, m.MYWIRE_ERROR_TLS)
        self.assertEqual(conn.status()["tls_failure"], m.MYWIRE_TLS_FAILURE_UNTRUSTED)
        rec = self.finish(srv, conn)
        self.assertIsNone(rec.handshake)
        self.assertNoSecrets(rec, user=USER)

    def test_tls13_only_server(self):
        srv = self.serve(flavor="mysql9", tls_min_version=ssl.TLSVersion.TLSv1_3)
        conn = self.client(srv, "tls", tls_version="TLSv1.3")
        self.assertConnects(conn)
        self.assertEqual(conn.status()["tls_version"], "TLSv1.3")
        self.finish(srv, conn)


if __name__ == "__main__":
    main()
