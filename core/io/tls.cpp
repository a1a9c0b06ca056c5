#include "io/tls.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <mutex>
#include <openssl/pem.h>
#include <openssl/proverr.h>

namespace mywire::io {

namespace {

// OpenSSL's reason for the oldest error in the queue, then an empty queue:
// nothing from this connection is left for the next OpenSSL user.
std::string openssl_reason() {
    unsigned long e = ERR_peek_error();
    std::string out;
    if (e && ERR_SYSTEM_ERROR(e)) {
        char buf[128];
        out = strerror_r(static_cast<int>(ERR_GET_REASON(e)), buf, sizeof buf);
    } else if (e) {
        const char *r = ERR_reason_error_string(e);
        out = r ? r : "unknown OpenSSL error";
    }
    ERR_clear_error();
    return out;
}

// Whether the oldest queued error says a key could not be decrypted (a
// wrong or missing passphrase); the queue is left as it is.
bool bad_decrypt_queued() {
    for (unsigned long e : {ERR_peek_error(), ERR_peek_last_error()}) {
        if (!e || ERR_SYSTEM_ERROR(e)) continue;
        int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
        if ((lib == ERR_LIB_PEM && (reason == PEM_R_BAD_DECRYPT || reason == PEM_R_BAD_PASSWORD_READ ||
                                    reason == PEM_R_PROBLEMS_GETTING_PASSWORD)) ||
            (lib == ERR_LIB_EVP && reason == EVP_R_BAD_DECRYPT) ||
            (lib == ERR_LIB_PROV && reason == PROV_R_BAD_DECRYPT))
            return true;
    }
    return false;
}

std::string quoted(const std::string &path) {
    return " \"" + path.substr(0, 256) + "\"";
}

bool is_ip_literal(const std::string &host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

int key_password_cb(char *buf, int size, int, void *userdata) {
    auto *pw = static_cast<const std::string *>(userdata);
    if (!pw || size <= 0 || pw->size() >= static_cast<std::size_t>(size)) return 0;
    std::memcpy(buf, pw->data(), pw->size());
    return static_cast<int>(pw->size());
}

}  // namespace

// ---------------------------------------------------------- the memory BIO
// Reads take ciphertext from the engine's incoming buffer (one copy into
// OpenSSL's record buffer); writes append to its outgoing vector.
struct TlsBio {
    static int write(BIO *b, const char *data, int len) {
        auto *e = static_cast<TlsEngine *>(BIO_get_data(b));
        BIO_clear_retry_flags(b);
        e->out_.insert(e->out_.end(), data, data + len);
        return len;
    }
    static int read(BIO *b, char *data, int len) {
        auto *e = static_cast<TlsEngine *>(BIO_get_data(b));
        BIO_clear_retry_flags(b);
        std::string_view in = e->in_.pending();
        if (in.empty()) {
            BIO_set_retry_read(b);
            return -1;
        }
        std::size_t n = std::min(in.size(), static_cast<std::size_t>(len));
        std::memcpy(data, in.data(), n);
        e->in_.consume(n);
        return static_cast<int>(n);
    }
    static long ctrl(BIO *, int cmd, long, void *) {
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;
    }
    static int create(BIO *b) {
        BIO_set_init(b, 1);
        return 1;
    }
    static BIO_METHOD *method() {
        static BIO_METHOD *m = [] {
            BIO_METHOD *bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mywire");
            if (bm) {
                BIO_meth_set_write(bm, write);
                BIO_meth_set_read(bm, read);
                BIO_meth_set_ctrl(bm, ctrl);
                BIO_meth_set_create(bm, create);
            }
            return bm;
        }();
        return m;
    }
};

TlsEngine::~TlsEngine() {
    reset();
}

void TlsEngine::reset() {
    if (ssl_) SSL_free(ssl_);  // frees the BIO too
    if (ctx_) SSL_CTX_free(ctx_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    established_ = false;
    first_checked_ = false;
    out_.clear();
    in_ = proto::ReadBuffer(32 * 1024);
    if (!fingerprint_.empty()) OPENSSL_cleanse(fingerprint_.data(), fingerprint_.size());
    fingerprint_.clear();
}

Errc TlsEngine::config_error(TlsInfo &info, Error &err, const std::string &what) {
    info.failure = tls_failure::config;
    std::string reason = openssl_reason();
    return err.set(Errc::tls, "TLS setup failed: " + what + (reason.empty() ? "" : " (" + reason + ")"));
}

Errc TlsEngine::init(const Options &o, int mode, const std::string &host, TlsInfo &info, Error &err) {
    reset();
    ERR_clear_error();
    mode_ = mode;
    host_ = host;
    fingerprint_ = o.ssl_fingerprint;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return config_error(info, err, "cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ctx_, o.tls_min_version);
    // Renegotiation and compression at the TLS level are off; tickets kept
    // for a later resumption feature are not needed.
    SSL_CTX_set_options(ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    // Not SSL_MODE_RELEASE_BUFFERS: it frees and reallocates the record
    // buffers around every record, which costs streaming a malloc/free pair
    // per 16 KiB for 34 KiB saved per idle connection.
    SSL_CTX_set_mode(ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!o.ssl_cipher.empty() && SSL_CTX_set_cipher_list(ctx_, o.ssl_cipher.c_str()) != 1)
        return config_error(info, err, "no usable cipher in ssl_cipher");
    if (!o.tls_ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx_, o.tls_ciphersuites.c_str()) != 1)
        return config_error(info, err, "no usable cipher suite in tls_ciphersuites");

    if (ssl_mode_verifies(mode)) {
        struct stat st {};
        if (!o.ssl_capath.empty() && (::stat(o.ssl_capath.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
            // OpenSSL looks into the directory only when it needs a CA:
            // without this a typo would read as "certificate not trusted".
            info.failure = tls_failure::config;
            return err.set(Errc::tls, "TLS setup failed: ssl_capath" + quoted(o.ssl_capath) +
                                          " is not a readable directory");
        }
        if (o.ssl_ca.empty() && o.ssl_capath.empty()) {
            // No CA given: the system's trust store.
            if (SSL_CTX_set_default_verify_paths(ctx_) != 1)
                return config_error(info, err, "cannot load the system's trusted CAs");
        } else if (SSL_CTX_load_verify_locations(ctx_, o.ssl_ca.empty() ? nullptr : o.ssl_ca.c_str(),
                                                 o.ssl_capath.empty() ? nullptr : o.ssl_capath.c_str()) != 1) {
            return config_error(info, err, std::string("cannot load the CA from ") + (o.ssl_ca.empty() ? "ssl_capath" + quoted(o.ssl_capath) : "ssl_ca" + quoted(o.ssl_ca)));
        }
        if (!o.ssl_crl.empty() || !o.ssl_crlpath.empty()) {
            X509_STORE *store = SSL_CTX_get_cert_store(ctx_);
            if (!o.ssl_crl.empty()) {
                X509_LOOKUP *l = X509_STORE_add_lookup(store, X509_LOOKUP_file());
                if (!l || X509_load_crl_file(l, o.ssl_crl.c_str(), X509_FILETYPE_PEM) <= 0)
                    return config_error(info, err, "cannot load the CRL from ssl_crl" + quoted(o.ssl_crl));
            }
            if (!o.ssl_crlpath.empty()) {
                X509_LOOKUP *l = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
                if (!l || X509_LOOKUP_add_dir(l, o.ssl_crlpath.c_str(), X509_FILETYPE_PEM) != 1)
                    return config_error(info, err, "cannot use the CRL directory ssl_crlpath" + quoted(o.ssl_crlpath));
            }
            X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
        }
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    }

    if (!o.ssl_cert.empty() || !o.ssl_key.empty()) {
        if (o.ssl_cert.empty() || o.ssl_key.empty())
            return config_error(info, err, "ssl_cert and ssl_key must be given together");
        SSL_CTX_set_default_passwd_cb(ctx_, key_password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(ctx_, const_cast<std::string *>(static_cast<const std::string *>(&o.ssl_key_password)));
        bool ok = SSL_CTX_use_certificate_chain_file(ctx_, o.ssl_cert.c_str()) == 1;
        if (!ok) return config_error(info, err, "cannot load the client certificate from ssl_cert" + quoted(o.ssl_cert));
        ok = SSL_CTX_use_PrivateKey_file(ctx_, o.ssl_key.c_str(), SSL_FILETYPE_PEM) == 1;
        SSL_CTX_set_default_passwd_cb_userdata(ctx_, nullptr);
        if (!ok) {
            std::string what = "cannot load the client key from ssl_key" + quoted(o.ssl_key);
            if (bad_decrypt_queued())
                what += o.ssl_key_password.empty() ? ": it is encrypted and ssl_key_password is not set"
                                                   : ": wrong ssl_key_password";
            return config_error(info, err, what);
        }
        if (SSL_CTX_check_private_key(ctx_) != 1)
            return config_error(info, err, "ssl_key does not match ssl_cert");
    }

    ssl_ = SSL_new(ctx_);
    if (!ssl_) return config_error(info, err, "cannot create a TLS session");
    BIO *bio = BIO_new(TlsBio::method());
    if (!bio) return config_error(info, err, "cannot create a TLS transport");
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);

    bool ip = is_ip_literal(host);
    std::string sni = !o.ssl_sni.empty() ? o.ssl_sni : (ip ? std::string() : host);
    if (!sni.empty() && SSL_set_tlsext_host_name(ssl_, sni.c_str()) != 1)
        return config_error(info, err, "invalid ssl_sni");
    if (mode == ssl_mode::verify_identity) {
        // OpenSSL's own checks: DNS names against subjectAltName (and CN
        // only when there is none), IP addresses against IP SANs.
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl_);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        if (ok != 1) return config_error(info, err, "cannot check the server's name");
    }
    return Errc::ok;
}

TlsEngine::Step TlsEngine::handshake(TlsInfo &info, Error &err) {
    if (established_) return Step::done;
    std::string_view in = in_.pending();
    if (!first_checked_ && !in.empty()) {
        // The first byte of a TLS record is its content type: 0x15 alert or
        // 0x16 handshake. Anything else answering our ClientHello is not TLS
        // (e.g. a plain-text MySQL error injected by a man in the middle) and
        // is refused without being parsed.
        first_checked_ = true;
        auto first = static_cast<std::uint8_t>(in[0]);
        if (first != 0x15 && first != 0x16) {
            info.failure = tls_failure::handshake;
            err.set(Errc::tls, "TLS handshake failed: the server answered the TLS request with "
                               "data that is not TLS (refused without reading it)");
            return Step::error;
        }
    }
    ERR_clear_error();
    int rc = SSL_connect(ssl_);
    if (rc == 1) return check_peer(info, err);
    int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ) return Step::want_read;
    if (e == SSL_ERROR_WANT_WRITE) return Step::want_read;  // memory BIO writes never block
    return handshake_failed(info, err);
}

TlsEngine::Step TlsEngine::handshake_failed(TlsInfo &info, Error &err) {
    long vr = SSL_get_verify_result(ssl_);
    std::string reason = openssl_reason();
    std::string mode = std::string(" (ssl_mode=") + ssl_mode_name(mode_) + ")";
    if (vr != X509_V_OK && ssl_mode_verifies(mode_)) {
        const char *what;
        switch (vr) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            info.failure = tls_failure::expired;
            what = "the server's certificate has expired";
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            info.failure = tls_failure::not_yet_valid;
            what = "the server's certificate is not yet valid";
            break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            info.failure = tls_failure::hostname;
            what = "the server's certificate does not match the host name or address";
            break;
        case X509_V_ERR_CERT_REVOKED:
            info.failure = tls_failure::revoked;
            what = "the server's certificate is revoked";
            break;
        case X509_V_ERR_UNABLE_TO_GET_CRL:
            info.failure = tls_failure::config;
            what = "no CRL from the certificate's issuer was found in ssl_crl/ssl_crlpath";
            break;
        default:
            info.failure = tls_failure::untrusted;
            what = "the server's certificate is not trusted";
            break;
        }
        return err.set(Errc::tls, std::string("TLS verification failed: ") + what + " (" +
                                      X509_verify_cert_error_string(vr) + ")" + mode),
               Step::error;
    }
    info.failure = tls_failure::handshake;
    return err.set(Errc::tls, "TLS handshake failed" + (reason.empty() ? "" : ": " + reason) + mode),
           Step::error;
}

TlsEngine::Step TlsEngine::check_peer(TlsInfo &info, Error &err) {
    bool verified = ssl_mode_verifies(mode_) && SSL_get_verify_result(ssl_) == X509_V_OK;
    if (!fingerprint_.empty()) {
        X509 *cert = SSL_get1_peer_certificate(ssl_);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        bool match = cert && X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == 32 &&
                     CRYPTO_memcmp(md, fingerprint_.data(), 32) == 0;
        X509_free(cert);
        if (!match) {
            info.failure = tls_failure::fingerprint;
            err.set(Errc::tls, "TLS verification failed: the server's certificate does not match "
                               "ssl_fingerprint");
            return Step::error;
        }
        verified = true;
    }
    established_ = true;
    info.active = true;
    info.verified = verified;
    info.version = SSL_get_version(ssl_);
    const char *cipher = SSL_get_cipher_name(ssl_);
    info.cipher = cipher ? cipher : "";
    info.failure = tls_failure::none;
    return Step::done;
}

Errc TlsEngine::write(const std::uint8_t *data, std::size_t n, Error &err) {
    while (n > 0) {
        int chunk = static_cast<int>(std::min<std::size_t>(n, 1u << 30));
        ERR_clear_error();
        int rc = SSL_write(ssl_, data, chunk);
        if (rc <= 0) {
            std::string reason = openssl_reason();
            return err.set(Errc::lost, "lost connection: TLS write failed" +
                                           (reason.empty() ? "" : ": " + reason));
        }
        data += rc;
        n -= static_cast<std::size_t>(rc);
    }
    return Errc::ok;
}

Errc TlsEngine::read(proto::ReadBuffer &plain, std::size_t &got, Error &err) {
    got = 0;
    for (;;) {
        std::size_t room = plain.space_size();
        if (room == 0) return Errc::ok;
        ERR_clear_error();
        int rc = SSL_read(ssl_, plain.space(), static_cast<int>(std::min<std::size_t>(room, 1u << 30)));
        if (rc > 0) {
            plain.commit(static_cast<std::size_t>(rc));
            got += static_cast<std::size_t>(rc);
            continue;  // drain every whole record already received
        }
        int e = SSL_get_error(ssl_, rc);
        if (e == SSL_ERROR_WANT_READ) return Errc::ok;
        if (got) return Errc::ok;  // report the failure on the next call
        if (e == SSL_ERROR_ZERO_RETURN)
            return err.set(Errc::lost, "lost connection: the server closed the TLS session");
        std::string reason = openssl_reason();
        if (e == SSL_ERROR_SSL)  // e.g. the server's alert rejecting our certificate (TLS 1.3)
            return err.set(Errc::tls, "TLS error from the server's side of the session" +
                                          (reason.empty() ? "" : ": " + reason));
        return err.set(Errc::lost,
                       "lost connection: TLS read failed" + (reason.empty() ? "" : ": " + reason));
    }
}

}  // namespace mywire::io
