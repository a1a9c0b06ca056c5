"""A scripted MySQL/MariaDB server for tests: it speaks the SERVER side of the
client/server protocol from a scenario given as keyword arguments, and records
every byte the client sent.

    with ScriptedServer(flavor="mysql80", tls=True,
                        account=Account("app", "pw", "caching_sha2_password",
                                        cached=False)) as srv:
        ... connect a client to 127.0.0.1:srv.port or srv.unix_path ...
    rec = srv.rec                  # the (first) connection's Recording
    rec.raw                        # every byte read off the wire (TLS records too)
    rec.pre_tls / rec.post_tls     # plaintext before TLS / decrypted after it
    rec.packets                    # logical packets: (phase, seq, payload)
    rec.events                     # what happened, in order ("tls_up", ...)

The server runs in a thread, listens on 127.0.0.1 (ephemeral port) and on a
unix socket in a temporary directory, serves `connections` connections one
after the other, and never hangs: every socket read has a deadline
(`io_timeout`, 5 s) and every length the client announces is bounded.

It is a test tool, not a server: it checks what a real server checks (the
scramble, the RSA blob, the signatures) so a wrong client response fails the
login, and it can be told to misbehave (see `fault`).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import datetime
import hashlib
import ipaddress
import os
import secrets
import select
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import traceback
import zlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.x509.oid import NameOID

# ---------------------------------------------------------------- constants

CLIENT_LONG_PASSWORD = 1 << 0  # MariaDB: CLIENT_MYSQL
CLIENT_FOUND_ROWS = 1 << 1
CLIENT_LONG_FLAG = 1 << 2
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_COMPRESS = 1 << 5
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_SSL = 1 << 11
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC = 1 << 21
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24
CLIENT_ZSTD = 1 << 26
CLIENT_QUERY_ATTRIBUTES = 1 << 27
CLIENT_MFA = 1 << 28

# MariaDB's extended capabilities (the 4 bytes after the reserved area;
# bit n here is capability bit 32 + n).
MARIADB_PROGRESS = 1 << 0
MARIADB_STMT_BULK = 1 << 2
MARIADB_EXTENDED_METADATA = 1 << 3
MARIADB_CACHE_METADATA = 1 << 4
MARIADB_BULK_UNIT_RESULTS = 1 << 5

COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_STATISTICS = 0x09
COM_PING = 0x0E
COM_SET_OPTION = 0x1B
COM_RESET_CONNECTION = 0x1F
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_CLOSE = 0x19
COM_STMT_RESET = 0x1A
COM_STMT_BULK_EXECUTE = 0xFA
PARAMETER_COUNT_AVAILABLE = 0x08  # COM_STMT_EXECUTE flags
BULK_SEND_UNIT_RESULTS = 64  # COM_STMT_BULK_EXECUTE flags

SERVER_STATUS_AUTOCOMMIT = 0x0002
SERVER_MORE_RESULTS_EXISTS = 0x0008

MAX_PAYLOAD = 0xFFFFFF
MIN_COMPRESS_LENGTH = 50  # as MySQL: shorter payloads go uncompressed
# The most the server accepts from a client in one logical packet, and in one
# compressed packet once inflated: a test tool must not be made to allocate
# without bound.
MAX_CLIENT_PACKET = 64 << 20

PLUGINS = (
    "mysql_native_password",
    "caching_sha2_password",
    "sha256_password",
    "mysql_clear_password",
    "dialog",
    "client_ed25519",
    "parsec",
)

# Greetings as the real servers send them. caps are the 32 capability bits
# without CLIENT_SSL (added when TLS is offered). MySQL: values seen in
# captures of 5.7 (0x81fff7ff) and 8.0+ (0xdffff7ff: zstd, query attributes,
# MFA). MariaDB: 0x81fff7fe (CLIENT_MYSQL cleared to say "MariaDB") and the
# extended capabilities in the last 4 bytes of the reserved area, as captured
# from the MariaDB 10.11 on this machine (0x1d: progress, bulk operations,
# extended metadata, cache metadata); 11.5+ adds bulk unit results (0x20).
# MariaDB never offers zstd (bit 26 clear) and does send DEPRECATE_EOF (10.2+).
FLAVORS = {
    "mysql57": dict(version="5.7.44", caps=0x81FFF7FF, ext=0, charset=8,
                    plugin="mysql_native_password", mariadb=False),
    "mysql80": dict(version="8.0.36", caps=0xDFFFF7FF, ext=0, charset=255,
                    plugin="caching_sha2_password", mariadb=False),
    "mysql84": dict(version="8.4.3", caps=0xDFFFF7FF, ext=0, charset=255,
                    plugin="caching_sha2_password", mariadb=False),
    "mysql9": dict(version="9.1.0", caps=0xDFFFF7FF, ext=0, charset=255,
                   plugin="caching_sha2_password", mariadb=False),
    "mariadb10": dict(version="5.5.5-10.11.9-MariaDB", caps=0x81FFF7FE, ext=0x1D,
                      charset=45, plugin="mysql_native_password", mariadb=True),
    "mariadb11": dict(version="5.5.5-11.6.2-MariaDB", caps=0x81FFF7FE, ext=0x3D,
                      charset=45, plugin="mysql_native_password", mariadb=True),
}

# dialog question types (MariaDB's PAM / dialog plugin).
DIALOG_ECHO = 2      # ordinary question, the answer is echoed
DIALOG_PASSWORD = 4  # password question
DIALOG_LAST = 1      # or-ed in: the last question

# A forged OK packet with sequence 2: what a man in the middle would append to
# the greeting hoping the client parses it after the TLS handshake.
FORGED_OK = bytes([7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])


class ClientClosed(Exception):
    """The client closed the connection (EOF, or a TLS close_notify)."""


class ProtocolViolation(Exception):
    """The client sent something the server cannot accept (recorded)."""


# ----------------------------------------------------------------- scenario


@dataclass
class Factor:
    """One authentication factor: the plugin the account uses and its secret.

    cached:  caching_sha2_password: the server's cache holds the account
             (fast path) or not (full authentication).
    dialog:  dialog: the questions, [(type, prompt, expected answer)]; an
             expected answer of None means "the password".
    parsec_factor, parsec_salt: parsec's ext-salt ('P', f, 18-byte salt);
             1024 << f PBKDF2 rounds.
    """

    plugin: str = "mysql_native_password"
    password: str = "secret"
    cached: bool = True
    dialog: list | None = None
    parsec_factor: int = 0
    parsec_salt: bytes | None = None

    def dialog_questions(self):
        if self.dialog is not None:
            return self.dialog
        return [(DIALOG_PASSWORD | DIALOG_LAST, "Password: ", None)]


@dataclass
class Account:
    """The account the client logs in as: factor 1, and for MySQL multi-factor
    authentication up to two more factors (AuthNextFactor)."""

    user: str = "app"
    password: str = "secret"
    plugin: str = "mysql_native_password"
    cached: bool = True
    dialog: list | None = None
    parsec_factor: int = 0
    parsec_salt: bytes | None = None
    factor2: Factor | None = None
    factor3: Factor | None = None

    def factors(self):
        first = Factor(self.plugin, self.password, self.cached, self.dialog,
                       self.parsec_factor, self.parsec_salt)
        return [first] + [f for f in (self.factor2, self.factor3) if f is not None]


def rows(columns, data, types=None):
    """A text result set: column names, rows of str/bytes/None values."""
    return {"kind": "rows", "columns": list(columns), "rows": [list(r) for r in data],
            "types": types}


def ok(affected=0, insert_id=0, info=b"", warnings=0):
    return {"kind": "ok", "affected": affected, "insert_id": insert_id,
            "info": info.encode() if isinstance(info, str) else info, "warnings": warnings}


def err(code=1064, state="42000", message="You have an error in your SQL syntax"):
    return {"kind": "err", "code": code, "state": state, "message": message}


DEFAULT_QUERIES = {
    "SELECT 1": rows(["1"], [["1"]]),
}

# ---------------------------------------------------------------- recording


@dataclass
class Recording:
    """Everything one connection received, and what the server did."""

    transport: str = ""                    # "tcp" or "unix"
    raw: bytearray = field(default_factory=bytearray)       # off the wire
    pre_tls: bytearray = field(default_factory=bytearray)   # plaintext before TLS
    post_tls: bytearray = field(default_factory=bytearray)  # decrypted after TLS
    packets: list = field(default_factory=list)             # (phase, seq, payload)
    compressed: list = field(default_factory=list)          # (cseq, clen, ulen)
    events: list = field(default_factory=list)   # "auth_response" after each one read
    seq_errors: list = field(default_factory=list)
    scramble: bytes = b""
    ssl_request: bytes | None = None
    handshake: dict | None = None          # the parsed HandshakeResponse
    auth_responses: list = field(default_factory=list)      # (plugin, bytes)
    tls_version: str | None = None
    compression: str = "none"
    zstd_level: int | None = None
    queries: list = field(default_factory=list)
    # CLIENT_QUERY_ATTRIBUTES: per COM_QUERY, the attributes it carried, as
    # (name, type, unsigned, value bytes or None); per COM_STMT_EXECUTE, its
    # statement id, flags and parameters then attributes, in the same form.
    query_attrs: list = field(default_factory=list)
    executes: list = field(default_factory=list)
    # Per COM_STMT_BULK_EXECUTE: its statement id, flags, types [(type,
    # unsigned)] and rows, each [(indicator, value bytes or None)].
    bulks: list = field(default_factory=list)
    authenticated: bool = False
    error: str | None = None               # a server-side exception (a bug)

    @property
    def plain(self):
        """The protocol byte stream the server parsed: pre-TLS plaintext then
        the decrypted TLS stream (compressed form when compression is on)."""
        return bytes(self.pre_tls) + bytes(self.post_tls)

    def leaked(self, secret):
        """True if secret (str or bytes) appears in anything the client sent:
        the raw wire bytes, the decrypted stream or a reassembled packet."""
        if isinstance(secret, str):
            secret = secret.encode()
        if not secret:
            return False
        if secret in self.raw or secret in self.pre_tls or secret in self.post_tls:
            return True
        return any(secret in p for _, _, p in self.packets)

    def event(self, name):
        return name in self.events

    def client_packets(self, phase=None):
        return [p for ph, _, p in self.packets if phase is None or ph == phase]


# ------------------------------------------------------------ crypto helpers


def sha1(*parts):
    h = hashlib.sha1()
    for p in parts:
        h.update(p)
    return h.digest()


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def native_scramble(password, scramble):
    """mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    pw = password.encode()
    return xor(sha1(pw), sha1(scramble[:20], sha1(sha1(pw))))


def caching_sha2_scramble(password, scramble):
    """caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)."""
    if not password:
        return b""
    pw = password.encode()
    return xor(sha256(pw), sha256(sha256(sha256(pw)), scramble[:20]))


_sodium = None


def _libsodium():
    global _sodium
    if _sodium is None:
        lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        if lib.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
        _sodium = lib
    return _sodium


def mariadb_ed25519_public_key(password):
    """The public key MariaDB's ed25519 plugin stores for a password:
    clamp(SHA-512(password)[0..32)) times the base point.

    MariaDB's variant hashes the whole password where standard Ed25519 hashes
    a 32-byte seed, so `cryptography` cannot derive it; the scalar
    multiplication is libsodium's (no curve arithmetic here). The signature
    itself is then checked by `cryptography` as a standard Ed25519 signature
    under this key, which is exactly what MariaDB's server checks."""
    az = bytearray(hashlib.sha512(password.encode()).digest()[:32])
    az[0] &= 248
    az[31] &= 63
    az[31] |= 64
    out = ctypes.create_string_buffer(32)
    if _libsodium().crypto_scalarmult_ed25519_base_noclamp(out, bytes(az)) != 0:
        raise RuntimeError("crypto_scalarmult_ed25519_base_noclamp failed")
    return out.raw


def ed25519_verify(public_key, signature, message):
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except Exception:
        return False


def parsec_public_key(password, salt, factor):
    """parsec: the Ed25519 key whose seed is PBKDF2-HMAC-SHA512(password, salt,
    1024 << factor, 32); standard Ed25519 from there."""
    seed = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 1024 << factor, 32)
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


class _Zstd:
    """libzstd through ctypes (no Python package needed)."""

    def __init__(self):
        lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        lib.ZSTD_compressBound.restype = ctypes.c_size_t
        lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
        lib.ZSTD_compress.restype = ctypes.c_size_t
        lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                      ctypes.c_size_t, ctypes.c_int]
        lib.ZSTD_decompress.restype = ctypes.c_size_t
        lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                        ctypes.c_size_t]
        lib.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
        lib.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.ZSTD_isError.restype = ctypes.c_uint
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        self.lib = lib

    def compress(self, data, level=3):
        cap = self.lib.ZSTD_compressBound(len(data))
        out = ctypes.create_string_buffer(cap)
        n = self.lib.ZSTD_compress(out, cap, data, len(data), level)
        if self.lib.ZSTD_isError(n):
            raise RuntimeError("ZSTD_compress failed")
        return out.raw[:n]

    def decompress(self, data, expected):
        size = self.lib.ZSTD_getFrameContentSize(data, len(data))
        # ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the top two values.
        if size >= (1 << 64) - 2:
            size = expected
        if size != expected or size > MAX_CLIENT_PACKET:
            raise ProtocolViolation(f"zstd frame content size {size} != announced {expected}")
        out = ctypes.create_string_buffer(max(size, 1))
        n = self.lib.ZSTD_decompress(out, size, data, len(data))
        if self.lib.ZSTD_isError(n) or n != expected:
            raise ProtocolViolation("zstd frame does not decompress to the announced length")
        return out.raw[:n]


_zstd = None


def zstd():
    global _zstd
    if _zstd is None:
        _zstd = _Zstd()
    return _zstd


# ---------------------------------------------------------------- key files


@dataclass
class Pki:
    """Files a test needs: a CA, a server certificate for localhost and
    127.0.0.1 signed by it, and the RSA key pair the server uses for
    caching_sha2_password / sha256_password (public key also as a file, for
    server_public_key_path)."""

    dir: str
    ca_cert: str
    server_cert: str
    server_key: str
    rsa_private: rsa.RSAPrivateKey
    rsa_public_pem: bytes
    rsa_public_path: str
    other_rsa_public_path: str   # a valid key that is not the server's


_pki = None
_pki_lock = threading.Lock()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_pki(directory=None):
    """Generate (once per process) the certificates and keys into a temporary
    directory, and return them."""
    global _pki
    with _pki_lock:
        if _pki is not None and directory is None:
            return _pki
        d = directory
        if d is None:
            d = tempfile.mkdtemp(prefix="mywire-scripted-pki-")
            atexit.register(shutil.rmtree, d, True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mywire scripted test CA")])
        ca = (x509.CertificateBuilder()
              .subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                           key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False,
                                           decipher_only=False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        srv_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        srv = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
               .issuer_name(ca_name)
               .public_key(srv_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        nokey = serialization.NoEncryption()
        pkcs8 = serialization.PrivateFormat.PKCS8
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rsa_pub = rsa_key.public_key().public_bytes(pem, spki)
        pki = Pki(
            dir=d,
            ca_cert=_write(os.path.join(d, "ca.pem"), ca.public_bytes(pem)),
            server_cert=_write(os.path.join(d, "server-cert.pem"), srv.public_bytes(pem)),
            server_key=_write(os.path.join(d, "server-key.pem"),
                              srv_key.private_bytes(pem, pkcs8, nokey)),
            rsa_private=rsa_key,
            rsa_public_pem=rsa_pub,
            rsa_public_path=_write(os.path.join(d, "rsa-public.pem"), rsa_pub),
            other_rsa_public_path=_write(os.path.join(d, "other-rsa-public.pem"),
                                         other.public_key().public_bytes(pem, spki)),
        )
        if directory is None:
            _pki = pki
        return pki


# ------------------------------------------------------------------- codecs


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(b):
    if isinstance(b, str):
        b = b.encode()
    return lenenc(len(b)) + b


class Reader:
    """Bounds-checked reads over one payload; ProtocolViolation past its end."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("truncated packet")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def nul_str(self):
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("string without NUL")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out

    def lenenc(self):
        first = self.u8()
        if first < 251:
            return first
        if first == 0xFC:
            return self.u16()
        if first == 0xFD:
            return struct.unpack("<I", self.take(3) + b"\0")[0]
        if first == 0xFE:
            return struct.unpack("<Q", self.take(8))[0]
        raise ProtocolViolation("bad length-encoded integer")

    def lenenc_str(self):
        return self.take(self.lenenc())

    def rest(self):
        return self.take(self.remaining())


# Binary protocol values: fixed widths by type; temporals have a length
# byte; everything else is length-encoded.
_FIXED_WIDTH = {1: 1, 2: 2, 13: 2, 3: 4, 9: 4, 4: 4, 8: 8, 5: 8}
_TEMPORAL = {7, 10, 11, 12}


def parse_param_block(r, count, named, known_types):
    """The parameter block of COM_STMT_EXECUTE / COM_QUERY (see the MySQL
    protocol docs): NULL bitmap, new-params-bound flag, types (with names
    when named), values. Returns ([(name, type, unsigned, value)], types),
    types being [(type, unsigned, name)] as sent or known."""
    bitmap = r.take((count + 7) // 8)
    if r.u8():
        types = []
        for _ in range(count):
            t, flag = r.u8(), r.u8()
            name = r.lenenc_str().decode(errors="replace") if named else ""
            types.append((t, bool(flag & 0x80), name))
    else:
        if known_types is None or len(known_types) != count:
            raise ProtocolViolation("new-params-bound 0 without the types")
        types = known_types
    out = []
    for i, (t, unsigned, name) in enumerate(types):
        if bitmap[i // 8] & (1 << (i % 8)):
            out.append((name, t, unsigned, None))
        elif t in _FIXED_WIDTH:
            out.append((name, t, unsigned, r.take(_FIXED_WIDTH[t])))
        elif t in _TEMPORAL:
            out.append((name, t, unsigned, r.take(r.u8())))
        else:
            out.append((name, t, unsigned, r.lenenc_str()))
    return out, types


def parse_handshake_response(payload, server_is_mariadb):
    r = Reader(payload)
    out = {"capabilities": r.u32(), "max_packet": r.u32(), "charset": r.u8()}
    reserved = r.take(19)
    out["reserved_zero"] = reserved == b"\0" * 19
    out["mariadb_capabilities"] = r.u32()
    caps = out["capabilities"]
    out["user"] = r.nul_str()
    if caps & CLIENT_PLUGIN_AUTH_LENENC:
        out["auth_response"] = r.lenenc_str()
    elif caps & CLIENT_SECURE_CONNECTION:
        out["auth_response"] = r.take(r.u8())
    else:
        out["auth_response"] = r.nul_str()
    out["database"] = r.nul_str() if caps & CLIENT_CONNECT_WITH_DB else None
    out["auth_plugin"] = r.nul_str().decode() if caps & CLIENT_PLUGIN_AUTH else None
    attrs = {}
    if caps & CLIENT_CONNECT_ATTRS:
        block = Reader(r.lenenc_str())
        while block.remaining():
            k = block.lenenc_str().decode()
            attrs[k] = block.lenenc_str().decode()
    out["attributes"] = attrs
    out["zstd_level"] = r.u8() if caps & CLIENT_ZSTD else None
    out["trailing"] = r.rest()
    return out


def ok_packet(affected=0, insert_id=0, status=SERVER_STATUS_AUTOCOMMIT, warnings=0, info=b"",
              header=0x00):
    return (bytes([header]) + lenenc(affected) + lenenc(insert_id) +
            struct.pack("<HH", status, warnings) + info)


def err_packet(code, state, message):
    return b"\xff" + struct.pack("<H", code) + b"#" + state.encode() + message.encode()


def eof_packet(status=SERVER_STATUS_AUTOCOMMIT, warnings=0):
    return b"\xfe" + struct.pack("<HH", warnings, status)


def column_def(name, col_type=253, charset=45, length=1020, flags=0, decimals=0,
               extended=False):
    # MARIADB_CLIENT_EXTENDED_METADATA: a length-encoded block of type/format
    # pairs after org_name; empty here.
    return (lenenc_str("def") + lenenc_str("") + lenenc_str("") + lenenc_str("") +
            lenenc_str(name) + lenenc_str(name) + (b"\0" if extended else b"") + b"\x0c" +
            struct.pack("<HIBHB", charset, length, col_type, flags, decimals) + b"\0\0")


def text_row(values):
    out = bytearray()
    for v in values:
        if v is None:
            out += b"\xfb"
        else:
            out += lenenc_str(v if isinstance(v, (bytes, bytearray)) else str(v).encode())
    return bytes(out)


# ------------------------------------------------------------- the transport


class Wire:
    """Bytes to and from one client: plain, then optionally TLS through memory
    BIOs (so every raw byte is recorded before OpenSSL sees it), then
    optionally the compressed protocol. Packets on top."""

    def __init__(self, sock, rec, io_timeout):
        self.sock = sock
        self.rec = rec
        self.io_timeout = io_timeout
        sock.settimeout(io_timeout)
        self.tls = None
        self.bio_in = self.bio_out = None
        self.buf = bytearray()   # protocol bytes (decrypted), not consumed
        self.cbuf = bytearray()  # decompressed bytes, not consumed
        self.compress = None     # None, "zlib" or "zstd"
        self.zstd_level = 3
        self.seq = 0
        self.cseq = 0
        self.phase = "handshake"
        self.compress_chunk = MAX_PAYLOAD

    # -- raw / TLS bytes
    def _raw_recv(self):
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            raise ClientClosed()
        if not data:
            raise ClientClosed()
        self.rec.raw += data
        return data

    def _fill(self):
        if self.tls is None:
            data = self._raw_recv()
            self.rec.pre_tls += data
            self.buf += data
            return
        while True:
            try:
                data = self.tls.read(1 << 16)
            except ssl.SSLWantReadError:
                self.bio_in.write(self._raw_recv())
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                raise ClientClosed()
            if not data:
                raise ClientClosed()
            self.rec.post_tls += data
            self.buf += data
            return

    def read_bytes(self, n):
        if n > MAX_CLIENT_PACKET + 7:
            raise ProtocolViolation(f"client announced {n} bytes")
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send_raw(self, data):
        # sendall's timeout bounds the whole call: big results get longer.
        if len(data) > (1 << 20):
            self.sock.settimeout(max(self.io_timeout, 120.0))
        try:
            if self.tls is not None:
                self.tls.write(data)
                self._flush()
            else:
                self.sock.sendall(data)
        finally:
            self.sock.settimeout(self.io_timeout)

    def _flush(self):
        data = self.bio_out.read()
        if data:
            self.sock.sendall(data)

    def start_tls(self, context):
        self.bio_in, self.bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.bio_in, self.bio_out, server_side=True)
        if self.buf:
            # Bytes that came in after the SSLRequest: the ClientHello.
            self.bio_in.write(bytes(self.buf))
            self.buf.clear()
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self.bio_in.write(self._raw_recv())
        self._flush()
        self.rec.tls_version = self.tls.version()

    # -- the (optionally compressed) stream of plain packets
    def _stream_bytes(self, n):
        if self.compress is None:
            return self.read_bytes(n)
        while len(self.cbuf) < n:
            self._read_compressed()
        out = bytes(self.cbuf[:n])
        del self.cbuf[:n]
        return out

    def _read_compressed(self):
        head = self.read_bytes(7)
        clen = int.from_bytes(head[0:3], "little")
        cseq = head[3]
        ulen = int.from_bytes(head[4:7], "little")
        self.rec.compressed.append((cseq, clen, ulen))
        if cseq != self.cseq & 0xFF:
            self.rec.seq_errors.append(f"compressed seq {cseq}, expected {self.cseq & 0xFF}")
        self.cseq = cseq + 1
        body = self.read_bytes(clen)
        if ulen == 0:
            self.cbuf += body
        elif self.compress == "zlib":
            d = zlib.decompressobj()
            data = d.decompress(body, MAX_CLIENT_PACKET)
            if len(data) != ulen or not d.eof:
                raise ProtocolViolation("zlib packet does not inflate to its announced length")
            self.cbuf += data
        else:
            self.cbuf += zstd().decompress(body, ulen)

    def read_packet(self):
        """One logical packet (split packets reassembled). Records it and
        checks its sequence number."""
        payload = bytearray()
        while True:
            head = self._stream_bytes(4)
            length = int.from_bytes(head[0:3], "little")
            seq = head[3]
            if seq != self.seq & 0xFF:
                self.rec.seq_errors.append(f"{self.phase}: seq {seq}, expected {self.seq & 0xFF}")
            self.seq = seq + 1
            if len(payload) + length > MAX_CLIENT_PACKET:
                raise ProtocolViolation("client packet over the server's limit")
            payload += self._stream_bytes(length)
            if length < MAX_PAYLOAD:
                break
        payload = bytes(payload)
        self.rec.packets.append((self.phase, (self.seq - 1) & 0xFF, payload))
        return payload

    def frame(self, payload):
        """Plain packet bytes for one logical packet (split at 16 MiB)."""
        out = bytearray()
        pos = 0
        while True:
            chunk = payload[pos:pos + MAX_PAYLOAD]
            out += len(chunk).to_bytes(3, "little") + bytes([self.seq & 0xFF]) + chunk
            self.seq += 1
            pos += len(chunk)
            if len(chunk) < MAX_PAYLOAD:
                return bytes(out)

    def send_packets(self, *payloads):
        data = b"".join(self.frame(p) for p in payloads)
        self.send_stream(data)

    def send_stream(self, data):
        if self.compress is None:
            self.send_raw(data)
            return
        out = bytearray()
        for pos in range(0, max(len(data), 1), self.compress_chunk):
            chunk = data[pos:pos + self.compress_chunk]
            out += self.compressed_packet(chunk)
        self.send_raw(bytes(out))

    def compressed_packet(self, chunk, lie=0):
        body, ulen = chunk, 0
        if len(chunk) >= MIN_COMPRESS_LENGTH:
            packed = (zlib.compress(chunk) if self.compress == "zlib"
                      else zstd().compress(chunk, self.zstd_level))
            if len(packed) < len(chunk):
                body, ulen = packed, len(chunk) + lie
        head = len(body).to_bytes(3, "little") + bytes([self.cseq & 0xFF]) + \
            ulen.to_bytes(3, "little")
        self.cseq += 1
        return head + body

    def begin_command(self):
        self.seq = 0
        self.cseq = 0


# ---------------------------------------------------------------- the server


class ScriptedServer:
    """Scenario keyword arguments (all optional):

    flavor          mysql57 | mysql80 | mysql84 | mysql9 | mariadb10 | mariadb11
    tls             True: offer TLS (CLIENT_SSL) and accept the SSLRequest;
                    False: hide it.
    account         Account(...) the client must log in as (default: user
                    "app", mysql_native_password "secret").
    greeting_plugin the plugin named in the greeting (default: the flavor's).
    queries         {sql: rows(...) | ok(...) | err(...)} added to the defaults
                    ("SELECT 1" -> one row "1").
    connections     how many connections to serve, one after the other.
    caps_add, caps_remove   bits added to / removed from the flavor's greeting.
    compress_offer  None: the flavor's (zlib everywhere, zstd on MySQL 8+);
                    or a set of "zlib", "zstd" to offer.
    compress_chunk  largest uncompressed chunk per compressed packet sent.
    more_data_style "mysql": every plugin packet after the first is sent as
                    AuthMoreData (0x01 + data); "mariadb": sent as is, escaped
                    with 0x01 only when it starts with 0x01, 0xFE or 0xFF.
                    Default: the flavor's.
    switch_to       [(plugin, data), ...]: auth switches the server forces
                    before the account's own flow (to test refusals); data
                    None means the plugin's usual challenge. The client's
                    answer to each is recorded; then the server switches to
                    the account's plugin (unless the last forced one is it).
    fault           a misbehaviour, with fault_arg:
        "need_reprepare"       the first COM_STMT_EXECUTE gets ER_NEED_REPREPARE (1615)
        "bulk_error"           the fault_arg-th COM_STMT_BULK_EXECUTE (default the
                               first) gets ER_DUP_ENTRY (1062)
        "unit_results"         a bulk request asking for per-row results gets
                               a wrong answer, fault_arg: "short" (one row
                               fewer), "long" (one more), "ok" (a plain OK),
                               "null" (a NULL Id), "returning" (a result set
                               of other columns, as a statement with
                               RETURNING returns)
        "tls_plain_err"        after the SSLRequest, a plaintext ERR packet
                               instead of a TLS ServerHello (fault_arg: text)
        "pre_tls_bytes"        bytes appended to the greeting in the same
                               write (fault_arg; default a forged OK packet)
        "unsolicited_key"      caching_sha2 full auth / sha256: send the RSA
                               key as AuthMoreData without being asked
        "old_password_switch"  switch to mysql_old_password (fault_arg
                               "short": the bare 0xFE; default: named, with
                               an 8-byte scramble)
        "endless_switch"       answer every response with another auth
                               switch, fault_arg times (default 100)
        "endless_more_data"    answer every response with AuthMoreData
        "vanish"               close the socket at fault_arg: "greeting"
                               (right after it), "response" (after the
                               handshake response), "auth" (after the first
                               auth packet sent), "tls" (right after the TLS
                               handshake), "result" (mid result set)
        "lie_greeting_length"  a greeting header announcing more than sent
        "lie_compressed_length" the first compressed reply announces a wrong
                               uncompressed length
        "lie_column_count"     a result announcing more columns than sent
        "lie_row_length"       a row whose value announces more bytes than
                               the packet holds
        "bad_seq"              a result whose first packet has a wrong
                               sequence id
        "bad_compressed_seq"   a compressed reply with a wrong compressed
                               sequence id
        "compress_bomb"        a compressed reply announcing its true length
                               whose stream inflates to 64 MiB more
        "compress_bombs"       the reply to a query: fault_arg (default 120)
                               compressed packets in one write, each a
                               small payload truthfully announcing and
                               inflating to 16 MiB - 1 zero bytes
        "compress_staged_bombs" the reply to a query: stored compressed
                               packets of doubling size (64 KiB .. 8 MiB)
                               that grow the client's buffers, then a last
                               64 KiB one (one plain packet of 'x's across
                               them all) in the same write as fault_arg
                               (default 8000) bombs as above
        "reply_with_login_ok"  the OK that ends authentication and, in the
                               same write, a reply to a command not yet sent
                               (compressed when compression was negotiated,
                               unless fault_arg is "plain")
    rsa_public_pem  the PEM sent when the client asks for the RSA key
                    (default: the real one, whose private half decrypts).
    tls_min_version lowest TLS version the server accepts (ssl.TLSVersion).
    pki             a Pki from make_pki() (default: one per process).
    io_timeout      per-read deadline in seconds (default 5).
    """

    def __init__(self, flavor="mysql80", tls=True, account=None, greeting_plugin=None,
                 queries=None, connections=1, caps_add=0, caps_remove=0,
                 compress_offer=None, compress_chunk=MAX_PAYLOAD, more_data_style=None,
                 switch_to=(), fault=None, fault_arg=None, io_timeout=5.0,
                 tls_min_version=None, pki=None, connection_id=7, rsa_public_pem=None):
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}")
        self.flavor = flavor
        self.f = FLAVORS[flavor]
        self.tls = tls
        self.account = account or Account()
        self.greeting_plugin = greeting_plugin or self.f["plugin"]
        self.queries = dict(DEFAULT_QUERIES)
        self.queries.update(queries or {})
        self.connections = connections
        caps = self.f["caps"]
        if tls:
            caps |= CLIENT_SSL
        if compress_offer is not None:
            caps &= ~(CLIENT_COMPRESS | CLIENT_ZSTD)
            if "zlib" in compress_offer:
                caps |= CLIENT_COMPRESS
            if "zstd" in compress_offer:
                caps |= CLIENT_ZSTD
        self.caps = (caps | caps_add) & ~caps_remove & 0xFFFFFFFF
        self.compress_chunk = compress_chunk
        self.more_data_style = more_data_style or ("mariadb" if self.f["mariadb"] else "mysql")
        self.switch_to = list(switch_to)
        self.fault = fault
        self.fault_arg = fault_arg
        self.io_timeout = io_timeout
        self.pki = pki or make_pki()
        self.rsa_public_pem = rsa_public_pem
        self.next_connection_id = connection_id
        self.recordings = []

        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        if tls_min_version is not None:
            self.ctx.minimum_version = tls_min_version

        self.tmpdir = tempfile.mkdtemp(prefix="mywire-scripted-")
        self.unix_path = os.path.join(self.tmpdir, "mysqld.sock")
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.port = self.tcp.getsockname()[1]
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(8)
        self._stop = threading.Event()
        self.thread = None

    # -- lifecycle
    def start(self):
        self.thread = threading.Thread(target=self._serve, name="scripted-server", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout=15.0):
        """Wait for the served connections to end (at most timeout s), then
        close the listeners. Returns True if the thread ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        self._stop.set()
        ended = self.thread is None or not self.thread.is_alive()
        for s in (self.tcp, self.unix):
            try:
                s.close()
            except OSError:
                pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return ended

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def rec(self):
        """The first connection's recording (an empty one if none came)."""
        return self.recordings[0] if self.recordings else Recording()

    def _serve(self):
        served = 0
        while served < self.connections and not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.tcp, self.unix], [], [], 0.2)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            listener = ready[0]
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            served += 1
            rec = Recording(transport="tcp" if listener is self.tcp else "unix")
            self.recordings.append(rec)
            try:
                self._connection(sock, rec)
            except ClientClosed:
                rec.events.append("client_closed")
            except ProtocolViolation as e:
                rec.events.append(f"violation: {e}")
            except socket.timeout:
                rec.events.append("timeout")
            except (ssl.SSLError, OSError) as e:
                rec.events.append(f"io_error: {e}")
            except Exception:  # a bug in this server: make the test see it
                rec.error = traceback.format_exc()
                rec.events.append("server_error")
            finally:
                try:
                    sock.close()
                except OSError:
                    pass

    # -- one connection
    def _connection(self, sock, rec):
        w = Wire(sock, rec, self.io_timeout)
        w.compress_chunk = self.compress_chunk
        secure = rec.transport == "unix"
        scramble = self._scramble()
        rec.scramble = scramble
        greeting = self._greeting(scramble)

        if self.fault == "lie_greeting_length":
            sock.sendall((len(greeting) + 100).to_bytes(3, "little") + b"\0" + greeting)
            rec.events.append("lied_greeting")
            return  # and close: the client must not wait for the rest forever
        data = w.frame(greeting)
        if self.fault == "pre_tls_bytes":
            data += self.fault_arg if self.fault_arg is not None else FORGED_OK
            rec.events.append("pre_tls_bytes_sent")
        sock.sendall(data)
        rec.events.append("greeting")
        if self.fault == "vanish" and self.fault_arg == "greeting":
            rec.events.append("vanished")
            return

        payload = w.read_packet()
        if len(payload) == 32 and self.tls:
            r = Reader(payload)
            caps = r.u32()
            rec.ssl_request = payload
            if not caps & CLIENT_SSL:
                raise ProtocolViolation("32-byte handshake response without CLIENT_SSL")
            rec.events.append("ssl_request")
            if self.fault == "tls_plain_err":
                msg = self.fault_arg or "Injected: TLS refused by a man in the middle"
                w.send_packets(err_packet(1045, "28000", msg))
                rec.events.append("tls_plain_err_sent")
                self._drain(w)
                return
            w.start_tls(self.ctx)
            secure = True
            rec.events.append("tls_up")
            if self.fault == "vanish" and self.fault_arg == "tls":
                rec.events.append("vanished")
                return
            payload = w.read_packet()
        elif len(payload) == 32:
            rec.ssl_request = payload
            raise ProtocolViolation("SSLRequest although TLS was not offered")

        hs = parse_handshake_response(payload, self.f["mariadb"])
        rec.handshake = hs
        rec.events.append("handshake_response")
        if self.fault == "vanish" and self.fault_arg == "response":
            rec.events.append("vanished")
            return
        client_caps = hs["capabilities"]
        self.deprecate_eof = bool(client_caps & self.caps & CLIENT_DEPRECATE_EOF)
        self.query_attributes = bool(client_caps & self.caps & CLIENT_QUERY_ATTRIBUTES)
        self.statements = {}  # id -> [param count, the types last sent]
        # MariaDB's extended capabilities count only when the client cleared
        # CLIENT_MYSQL; two of them change the result set format.
        self.ext = 0
        if self.f["mariadb"] and not client_caps & CLIENT_LONG_PASSWORD:
            self.ext = hs["mariadb_capabilities"] & self.f["ext"]

        w.phase = "auth"
        if not self._authenticate(w, rec, hs, scramble, secure):
            self._drain(w)
            return
        rec.authenticated = True

        # Compression starts right after the OK that ends authentication.
        if client_caps & self.caps & CLIENT_ZSTD:
            w.compress = "zstd"
            w.zstd_level = hs["zstd_level"] or 3
            rec.zstd_level = hs["zstd_level"]
        elif client_caps & self.caps & CLIENT_COMPRESS:
            w.compress = "zlib"
        rec.compression = w.compress or "none"
        w.phase = "command"
        self._command_loop(w, rec)

    def _drain(self, w):
        """After an error the server sent: wait (bounded) for the client to
        close, recording whatever it still sends."""
        try:
            while True:
                w._raw_recv()
        except (ClientClosed, socket.timeout, OSError):
            pass

    def _scramble(self, n=20):
        # Like MySQL's: printable-ish bytes, never NUL.
        out = bytearray()
        while len(out) < n:
            b = secrets.randbelow(127 - 33) + 33
            out.append(b)
        return bytes(out)

    def _greeting(self, scramble):
        f = self.f
        cid = self.next_connection_id
        self.next_connection_id += 1
        caps = self.caps
        out = bytearray(b"\x0a")
        out += f["version"].encode() + b"\0"
        out += struct.pack("<I", cid)
        out += scramble[:8] + b"\0"
        out += struct.pack("<H", caps & 0xFFFF)
        out += bytes([f["charset"]])
        out += struct.pack("<H", SERVER_STATUS_AUTOCOMMIT)
        out += struct.pack("<H", caps >> 16)
        out += bytes([len(scramble) + 1])
        if f["mariadb"]:
            out += b"\0" * 6 + struct.pack("<I", f["ext"])
        else:
            out += b"\0" * 10
        out += scramble[8:] + b"\0"
        out += self.greeting_plugin.encode() + b"\0"
        return bytes(out)

    # -- authentication
    def _plugin_packet(self, w, data):
        """A plugin's packet after the first: AuthMoreData the MySQL way, or
        raw with MariaDB's escaping."""
        if self.more_data_style == "mysql" or (data and data[0] in (0x01, 0xFE, 0xFF)):
            w.send_packets(b"\x01" + data)
        else:
            w.send_packets(data)

    def _deny(self, w, rec, user):
        rec.events.append("access_denied")
        w.send_packets(err_packet(1045, "28000",
                                  f"Access denied for user '{user}'@'localhost' "
                                  "(using password: YES)"))
        return False

    def _switch(self, w, rec, plugin, data):
        w.send_packets(b"\xfe" + plugin.encode() + b"\0" + data)
        rec.events.append(f"switch:{plugin}")
        if self.fault == "vanish" and self.fault_arg == "auth":
            rec.events.append("vanished")
            raise ClientClosed()
        resp = w.read_packet()
        rec.auth_responses.append((plugin, resp))
        rec.events.append("auth_response")
        return resp

    def _challenge(self, plugin, scramble, factor):
        """The data the server sends with a switch / next-factor request."""
        if plugin in ("client_ed25519", "parsec"):
            return secrets.token_bytes(32)
        if plugin == "dialog":
            qtype, prompt, _ = factor.dialog_questions()[0]
            return bytes([qtype]) + prompt.encode()
        return scramble + b"\0"

    def _authenticate(self, w, rec, hs, scramble, secure):
        user = hs["user"].decode(errors="replace")
        if hs["user"] != self.account.user.encode():
            return self._deny(w, rec, user)
        client_plugin = hs["auth_plugin"] or "mysql_native_password"
        response = hs["auth_response"]
        rec.auth_responses.append((client_plugin, response))
        self.secure = secure

        # Faults that replace the whole flow.
        if self.fault == "old_password_switch":
            if self.fault_arg == "short":
                w.send_packets(b"\xfe")
            else:
                w.send_packets(b"\xfemysql_old_password\0" + scramble[:8] + b"\0")
            rec.events.append("switch:mysql_old_password")
            self._read_auth(w, rec, "mysql_old_password")  # a client that goes along
            return self._deny(w, rec, user)
        if self.fault == "endless_switch":
            for _ in range(int(self.fault_arg or 100)):
                self._switch(w, rec, "mysql_native_password", scramble + b"\0")
            return self._deny(w, rec, user)
        factors = self.account.factors()
        challenge = scramble + b"\0"  # the greeting's
        switched = False
        for plugin, data in self.switch_to:
            if data is None:
                data = self._challenge(plugin, scramble, factors[0])
            response = self._switch(w, rec, plugin, data)
            client_plugin, challenge, switched = plugin, data, True

        for i, factor in enumerate(factors):
            if i == 0:
                # ed25519, parsec and dialog never start from the greeting's
                # scramble: their challenge comes with a switch request.
                own_challenge = factor.plugin in ("client_ed25519", "parsec", "dialog")
                if client_plugin != factor.plugin or (own_challenge and not switched):
                    challenge = self._challenge(factor.plugin, scramble, factor)
                    response = self._switch(w, rec, factor.plugin, challenge)
            else:
                if not hs["capabilities"] & CLIENT_MFA:
                    rec.events.append("mfa_without_capability")
                    return self._deny(w, rec, user)
                challenge = self._challenge(factor.plugin, scramble, factor)
                w.send_packets(b"\x02" + factor.plugin.encode() + b"\0" + challenge)
                rec.events.append(f"next_factor:{factor.plugin}")
                response = w.read_packet()
                rec.auth_responses.append((factor.plugin, response))
                rec.events.append("auth_response")
            if not self._check_factor(w, rec, factor, challenge, response, scramble):
                return self._deny(w, rec, user)
            rec.events.append(f"factor_ok:{factor.plugin}")
        if self.fault == "reply_with_login_ok":
            self._login_ok_with_reply(w, rec, hs)
            return True
        w.send_packets(ok_packet())
        rec.events.append("auth_ok")
        return True

    def _login_ok_with_reply(self, w, rec, hs):
        """fault "reply_with_login_ok": the login OK, then in the same write
        an OK reply (long enough to be compressed) as if to a command."""
        data = w.frame(ok_packet())
        rec.events.append("auth_ok")
        caps = hs["capabilities"] & self.caps
        algo = "zstd" if caps & CLIENT_ZSTD else "zlib" if caps & CLIENT_COMPRESS else None
        w.seq = 1
        reply = w.frame(ok_packet(info=b"an early reply " * 8))
        if algo and self.fault_arg != "plain":
            w.compress, w.cseq = algo, 1
            reply = w.compressed_packet(reply)
            w.compress = None  # set again by _connection
        w.send_raw(data + reply)
        rec.events.append("early_reply_sent")

    def _read_auth(self, w, rec, plugin):
        resp = w.read_packet()
        rec.auth_responses.append((plugin, resp))
        rec.events.append("auth_response")
        return resp

    def _send_key(self, w, rec):
        self._plugin_packet(w, self.rsa_public_pem or self.pki.rsa_public_pem)
        rec.events.append("key_sent")

    def _rsa_password(self, rec, blob, nonce):
        try:
            plain = self.pki.rsa_private.decrypt(
                blob, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
                                   label=None))
        except Exception:
            rec.events.append("rsa_decrypt_failed")
            return None
        rec.events.append("rsa_oaep_ok")
        pad = (nonce * (len(plain) // len(nonce) + 1))[:len(plain)]
        return xor(plain, pad)

    def _check_factor(self, w, rec, factor, challenge, response, scramble):
        plugin, pw = factor.plugin, factor.password
        nonce = challenge[:20]
        if self.fault == "endless_more_data":
            for _ in range(int(self.fault_arg or 100)):
                self._plugin_packet(w, b"\x04")
                self._read_auth(w, rec, plugin)
            return False

        if plugin == "mysql_native_password":
            return response == native_scramble(pw, nonce)

        if plugin == "caching_sha2_password":
            if not response or response == b"\0":
                return pw == ""
            if factor.cached and response == caching_sha2_scramble(pw, nonce):
                self._plugin_packet(w, b"\x03")
                rec.events.append("fast_auth_ok")
                return True
            # Not in the cache (or a stale entry): the password itself is
            # needed, as MySQL does.
            self._plugin_packet(w, b"\x04")
            rec.events.append("full_auth_requested")
            if self.fault == "unsolicited_key":
                self._send_key(w, rec)
            resp = self._read_auth(w, rec, plugin)
            return self._full_auth(w, rec, plugin, pw, nonce, resp, key_request=b"\x02")

        if plugin == "sha256_password":
            if self.fault == "unsolicited_key":
                self._send_key(w, rec)
                response = self._read_auth(w, rec, plugin)
            if pw == "" and response in (b"", b"\0"):
                return True
            return self._full_auth(w, rec, plugin, pw, nonce, response, key_request=b"\x01")

        if plugin == "mysql_clear_password":
            if not self.secure:
                rec.events.append("cleartext_over_insecure")
            return response in (pw.encode() + b"\0", pw.encode())

        if plugin == "dialog":
            questions = factor.dialog_questions()
            for i, (qtype, prompt, expected) in enumerate(questions):
                if i > 0:
                    self._plugin_packet(w, bytes([qtype]) + prompt.encode())
                    response = self._read_auth(w, rec, plugin)
                answer = expected if expected is not None else pw
                if response not in (answer.encode() + b"\0", answer.encode()):
                    rec.events.append(f"dialog_wrong_answer:{i}")
                    return False
                if not self.secure:
                    rec.events.append("cleartext_over_insecure")
            return True

        if plugin == "client_ed25519":
            if len(response) != 64:
                return False
            return ed25519_verify(mariadb_ed25519_public_key(pw), response, challenge)

        if plugin == "parsec":
            if response != b"":
                rec.events.append("parsec_no_salt_request")
                return False
            salt = factor.parsec_salt or secrets.token_bytes(18)
            self._plugin_packet(w, b"P" + bytes([factor.parsec_factor]) + salt)
            rec.events.append("parsec_salt_sent")
            resp = self._read_auth(w, rec, plugin)
            if len(resp) != 96:
                return False
            client_scramble, sig = resp[:32], resp[32:]
            key = parsec_public_key(pw, salt, factor.parsec_factor)
            return ed25519_verify(key, sig, challenge + client_scramble)

        rec.events.append(f"unknown_account_plugin:{plugin}")
        return False

    def _full_auth(self, w, rec, plugin, pw, nonce, resp, key_request):
        """The password itself: in clear over a secure transport, else RSA
        (the client may first ask for the key)."""
        if resp == key_request:
            rec.events.append("key_requested")
            self._send_key(w, rec)
            resp = self._read_auth(w, rec, plugin)
        if resp == pw.encode() + b"\0":
            if not self.secure:
                rec.events.append("cleartext_over_insecure")
            rec.events.append("cleartext_password")
            return True
        if len(resp) == self.pki.rsa_private.key_size // 8:
            got = self._rsa_password(rec, resp, nonce)
            return got == pw.encode() + b"\0"
        return False

    # -- commands
    def _command_loop(self, w, rec):
        while True:
            w.begin_command()
            payload = w.read_packet()
            if not payload:
                raise ProtocolViolation("empty command packet")
            cmd = payload[0]
            if cmd == COM_QUIT:
                rec.events.append("quit")
                return
            if cmd == COM_PING or cmd == COM_INIT_DB or cmd == COM_RESET_CONNECTION:
                w.send_packets(ok_packet())
            elif cmd == COM_SET_OPTION:
                w.send_packets(eof_packet() if not self.deprecate_eof else ok_packet())
            elif cmd == COM_STATISTICS:
                w.send_packets(b"Uptime: 1  Threads: 1  Questions: 1")
            elif cmd == COM_QUERY:
                r = Reader(payload[1:])
                if self.query_attributes:
                    try:
                        count = r.lenenc()
                        if r.lenenc() != 1:
                            raise ProtocolViolation("parameter set count is not 1")
                        attrs = []
                        if count:
                            if count > 0xFFFF:
                                raise ProtocolViolation("too many query attributes")
                            attrs = parse_param_block(r, count, True, None)[0]
                    except (ProtocolViolation, IndexError, ValueError) as e:
                        rec.events.append(f"malformed COM_QUERY: {e}")
                        w.send_packets(err_packet(1835, "08S01", "Malformed communication packet"))
                        continue
                    rec.query_attrs.append(attrs)
                sql = r.rest().decode(errors="replace")
                rec.queries.append(sql)
                self._answer(w, rec, self.queries.get(sql))
            elif cmd == COM_STMT_PREPARE:
                self._prepare(w, rec, payload[1:].decode(errors="replace"))
            elif cmd == COM_STMT_EXECUTE:
                self._execute(w, rec, payload[1:])
            elif cmd == COM_STMT_CLOSE:
                self.statements.pop(int.from_bytes(payload[1:5], "little"), None)
            elif cmd == COM_STMT_RESET:
                w.send_packets(ok_packet())
            elif cmd == COM_STMT_BULK_EXECUTE and self.ext & MARIADB_STMT_BULK:
                self._bulk_execute(w, rec, payload[1:])
            else:
                w.send_packets(err_packet(1047, "08S01", "Unknown command"))

    def _prepare(self, w, rec, sql):
        """COM_STMT_PREPARE: a statement with one parameter per '?' (no
        quoting rules: the tests' SQL has none) and no result columns."""
        rec.queries.append(sql)
        stmt_id = len(self.statements) + 1
        n = sql.count("?")
        self.statements[stmt_id] = [n, None]
        out = [b"\0" + struct.pack("<IHHBH", stmt_id, 0, n, 0, 0)]
        if n:
            out += [column_def("?", col_type=253, charset=63, length=0)] * n
            if not self.deprecate_eof:
                out.append(eof_packet())
        w.send_packets(*out)

    def _execute(self, w, rec, body):
        """COM_STMT_EXECUTE as MySQL 8.0.23+ reads it: parameters, then (with
        CLIENT_QUERY_ATTRIBUTES and PARAMETER_COUNT_AVAILABLE) attributes."""
        try:
            r = Reader(body)
            stmt_id, flags, iterations = r.u32(), r.u8(), r.u32()
            if stmt_id not in self.statements:
                w.send_packets(err_packet(1243, "HY000", "Unknown prepared statement handler"))
                return
            st = self.statements[stmt_id]
            if self.fault == "need_reprepare" and not rec.event("reprepare_asked"):
                rec.events.append("reprepare_asked")
                rec.executes.append({"id": stmt_id, "refused": bytes(body)})
                w.send_packets(err_packet(1615, "HY000", "Prepared statement needs to be re-prepared"))
                return
            count = st[0]
            params = []
            if count or (self.query_attributes and flags & PARAMETER_COUNT_AVAILABLE):
                if self.query_attributes:
                    count = r.lenenc()
                    if count < st[0] or count > 0xFFFF:
                        raise ProtocolViolation("parameter count below the statement's")
                if count:
                    params, types = parse_param_block(r, count, self.query_attributes, st[1])
                    st[1] = types
            if r.remaining():
                raise ProtocolViolation("bytes after the parameters")
        except (ProtocolViolation, IndexError, ValueError) as e:
            rec.events.append(f"malformed COM_STMT_EXECUTE: {e}")
            w.send_packets(err_packet(1835, "08S01", "Malformed communication packet"))
            return
        rec.executes.append({"id": stmt_id, "flags": flags, "iterations": iterations,
                             "params": params})
        w.send_packets(ok_packet())

    def _bulk_execute(self, w, rec, body):
        """COM_STMT_BULK_EXECUTE (MariaDB): the types (when flag 128), then
        rows of (indicator, value) per parameter to the end of the packet.
        Answered by an OK whose affected rows are the rows read; fault
        "bulk_error" answers the fault_arg-th request (1-based) with
        ER_DUP_ENTRY instead."""
        try:
            r = Reader(body)
            stmt_id, flags = r.u32(), r.u16()
            if stmt_id not in self.statements:
                w.send_packets(err_packet(1243, "HY000", "Unknown prepared statement handler"))
                return
            count = self.statements[stmt_id][0]
            if not flags & 128:
                raise ProtocolViolation("no types (the tests always send them)")
            types = [(r.u8(), bool(r.u8() & 0x80)) for _ in range(count)]
            rows = []
            while r.remaining():
                row = []
                for t, _ in types:
                    ind = r.u8()
                    if ind > 3:
                        raise ProtocolViolation(f"indicator {ind}")
                    if ind:
                        row.append((ind, None))
                    elif t in _FIXED_WIDTH:
                        row.append((0, r.take(_FIXED_WIDTH[t])))
                    elif t in _TEMPORAL:
                        row.append((0, r.take(r.u8())))
                    else:
                        row.append((0, r.lenenc_str()))
                rows.append(row)
            if not rows:
                raise ProtocolViolation("no rows")
        except (ProtocolViolation, IndexError, ValueError) as e:
            rec.events.append(f"malformed COM_STMT_BULK_EXECUTE: {e}")
            w.send_packets(err_packet(1835, "08S01", "Malformed communication packet"))
            return
        rec.bulks.append({"id": stmt_id, "flags": flags, "types": types, "rows": rows})
        if self.fault == "bulk_error" and len(rec.bulks) == (self.fault_arg or 1):
            w.send_packets(err_packet(1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"))
            return
        if flags & BULK_SEND_UNIT_RESULTS:
            if not self.ext & MARIADB_BULK_UNIT_RESULTS:
                rec.events.append("unit results asked without the capability")
                w.send_packets(err_packet(1835, "08S01", "Malformed communication packet"))
                return
            self._unit_results(w, rec, rows)
            return
        w.send_packets(ok_packet(affected=len(rows), insert_id=10 * len(rec.bulks)))

    def _unit_results(self, w, rec, rows):
        """The per-row results of a bulk request (MariaDB 11.5+): a binary
        result set (Id, Affected_rows), one row per parameter row; row k of
        the n-th request has insert id 100 * n + k and affected rows k % 3
        (so that a client cannot pass by counting)."""
        fault = self.fault_arg if self.fault == "unit_results" else None
        if fault == "ok":
            w.send_packets(ok_packet(affected=len(rows), insert_id=10 * len(rec.bulks)))
            return
        n = len(rows) + (-1 if fault == "short" else 1 if fault == "long" else 0)
        names = ("Val", "Other") if fault == "returning" else ("Id", "Affected_rows")
        extended = bool(self.ext & MARIADB_EXTENDED_METADATA)
        out = [lenenc(2) + (b"\x01" if self.ext & MARIADB_CACHE_METADATA else b"")]
        for name in names:
            out.append(column_def(name, col_type=8, charset=63, length=20, flags=0x21,
                                  extended=extended))
        if not self.deprecate_eof:
            out.append(eof_packet())
        base = 100 * len(rec.bulks)
        for k in range(n):
            if fault == "null" and k == 1:
                out.append(b"\x00\x04" + struct.pack("<Q", k % 3))  # Id NULL (bit 2)
            else:
                out.append(b"\x00\x00" + struct.pack("<QQ", base + k, k % 3))
        out.append(ok_packet(header=0xFE) if self.deprecate_eof else eof_packet())
        w.send_packets(*out)

    def _answer(self, w, rec, spec):
        if spec is None:
            w.send_packets(err_packet(1064, "42000", "You have an error in your SQL syntax"))
            return
        if spec["kind"] == "ok":
            w.send_packets(ok_packet(spec["affected"], spec["insert_id"],
                                     warnings=spec["warnings"], info=spec["info"]))
            return
        if spec["kind"] == "err":
            w.send_packets(err_packet(spec["code"], spec["state"], spec["message"]))
            return
        cols = spec["columns"]
        types = spec["types"] or [None] * len(cols)
        ncols = len(cols) + (3 if self.fault == "lie_column_count" else 0)
        # MARIADB_CLIENT_CACHE_METADATA: a "metadata follows" byte.
        out = [lenenc(ncols) + (b"\x01" if self.ext & MARIADB_CACHE_METADATA else b"")]
        extended = bool(self.ext & MARIADB_EXTENDED_METADATA)
        for name, t in zip(cols, types):
            if t == "blob":
                out.append(column_def(name, col_type=252, charset=63, length=0xFFFFFFFF,
                                      flags=0x90, extended=extended))
            else:
                out.append(column_def(name, extended=extended))
        if not self.deprecate_eof:
            out.append(eof_packet())
        for r in spec["rows"]:
            out.append(text_row(r))
        if self.fault == "lie_row_length":
            # A value announcing 200 bytes with 5 left in the packet.
            out[-1] = b"\xc8abcde"
        out.append(ok_packet(header=0xFE) if self.deprecate_eof else eof_packet())
        if self.fault == "vanish" and self.fault_arg == "result":
            data = b"".join(w.frame(p) for p in out[:len(out) // 2 + 1])
            w.send_stream(data)
            rec.events.append("vanished")
            raise ClientClosed()
        if self.fault == "lie_compressed_length" and w.compress:
            data = b"".join(w.frame(p) for p in out)
            data = data + b"\0" * MIN_COMPRESS_LENGTH  # long enough to be compressed
            w.send_raw(w.compressed_packet(data, lie=1000))
            rec.events.append("lied_compressed_length")
            return
        if self.fault in ("compress_bombs", "compress_staged_bombs") and w.compress:
            self._send_bombs(w, rec)
            return
        if self.fault == "compress_bomb" and w.compress:
            # Announces the true small length, but the stream inflates to
            # 64 MiB more: a client must stop at the announced length.
            data = b"".join(w.frame(p) for p in out)
            bomb = data + b"\0" * (64 << 20)
            body = (zlib.compress(bomb, 9) if w.compress == "zlib"
                    else zstd().compress(bomb, 19))
            head = len(body).to_bytes(3, "little") + bytes([w.cseq & 0xFF]) + \
                len(data).to_bytes(3, "little")
            w.cseq += 1
            w.send_raw(head + body)
            rec.events.append("compress_bomb_sent")
            return
        if self.fault == "bad_compressed_seq" and w.compress:
            w.cseq += 1
            rec.events.append("bad_compressed_seq")
        if self.fault == "bad_seq":
            data = bytearray(b"".join(w.frame(p) for p in out))
            data[3] = (data[3] + 1) & 0xFF  # the column count's sequence id
            w.send_stream(bytes(data))
            rec.events.append("bad_seq")
            return
        w.send_packets(*out)

    def _send_bombs(self, w, rec):
        """faults "compress_bombs" and "compress_staged_bombs" (see above)."""
        plain = MAX_PAYLOAD  # 16 MiB - 1 zero bytes, announced truthfully
        if w.compress == "zlib":
            body = zlib.compress(bytes(plain), 9)
        else:
            body = zstd().compress(bytes(plain), 19)
        staged = self.fault == "compress_staged_bombs"
        count = int(self.fault_arg or (8000 if staged else 120))
        tail = b""
        if staged:
            # 64 KiB .. 8 MiB, then 64 KiB: that small last one leaves most
            # of the grown buffer free for the bombs behind it.
            sizes = [(64 << 10) << i for i in range(8)] + [64 << 10]
            stream = w.frame(b"x" * (sum(sizes) - 4))
            pos = 0
            for i, n in enumerate(sizes):
                head = n.to_bytes(3, "little") + bytes([w.cseq & 0xFF]) + b"\0\0\0"
                w.cseq += 1
                if i < len(sizes) - 1:
                    w.send_raw(head + stream[pos:pos + n])
                else:
                    tail = head + stream[pos:pos + n]
                pos += n
        out = bytearray(tail)
        for _ in range(count):
            out += len(body).to_bytes(3, "little") + bytes([w.cseq & 0xFF]) + plain.to_bytes(3, "little")
            out += body
            w.cseq += 1
        rec.events.append("bombs_sent" if not staged else "staged_bombs_sent")
        w.send_raw(bytes(out))
