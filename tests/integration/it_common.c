/* Shared helpers of the integration tests; see it_common.h. */
#include "it_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *it_required_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fail_msg("environment variable %s is not set: start the test server with "
                 "`tests/server/mariadb.sh start DIR` and `. DIR/env` before running the "
                 "integration tests (or use tests/run.sh)",
                 name);
    }
    return v;
}

const it_env *it_get_env(void)
{
    static it_env env;
    env.host = it_required_env("MYWIRE_TEST_HOST");
    const char *port = it_required_env("MYWIRE_TEST_PORT");
    char *end = NULL;
    unsigned long p = strtoul(port, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535) {
        fail_msg("MYWIRE_TEST_PORT=\"%s\" is not a TCP port", port);
    }
    env.port = (unsigned)p;
    env.socket = it_required_env("MYWIRE_TEST_SOCKET");
    env.user = it_required_env("MYWIRE_TEST_USER");
    env.password = it_required_env("MYWIRE_TEST_PASSWORD");
    env.db = it_required_env("MYWIRE_TEST_DB");
    env.ed_user = it_required_env("MYWIRE_TEST_ED25519_USER");
    env.ed_password = it_required_env("MYWIRE_TEST_ED25519_PASSWORD");
    env.empty_user = it_required_env("MYWIRE_TEST_EMPTY_USER");
    env.ed_empty_user = it_required_env("MYWIRE_TEST_ED25519_EMPTY_USER");
    return &env;
}

mywire_conn *it_new(void)
{
    mywire_conn *conn = NULL;
    int rc = mywire_conn_new(&conn);
    if (rc != MYWIRE_OK || conn == NULL) {
        fail_msg("mywire_conn_new -> %d (%s)", rc, mywire_errstr(rc));
    }
    return conn;
}

void it_check_ok(mywire_conn *conn, int rc, const char *what, const char *file, int line)
{
    if (rc != MYWIRE_OK) {
        fail_msg("%s:%d: %s -> %d (%s); errcode %d errno %u sqlstate %s: %s", file, line, what,
                 rc, mywire_errstr(rc), mywire_errcode(conn), mywire_errno(conn),
                 mywire_sqlstate(conn) ? mywire_sqlstate(conn) : "(null)",
                 mywire_errmsg(conn));
    }
}

void it_check_error(mywire_conn *conn, int rc, int code, unsigned server_errno,
                    const char *sqlstate, const char *file, int line)
{
    const char *state = mywire_sqlstate(conn);
    const char *msg = mywire_errmsg(conn);
    if (rc != code) {
        fail_msg("%s:%d: expected result %d (%s), got %d (%s); errno %u sqlstate %s: %s", file,
                 line, code, mywire_errstr(code), rc, mywire_errstr(rc), mywire_errno(conn),
                 state ? state : "(null)", msg);
    }
    if (mywire_errcode(conn) != code) {
        fail_msg("%s:%d: mywire_errcode is %d, expected %d", file, line, mywire_errcode(conn),
                 code);
    }
    if (msg == NULL || msg[0] == '\0') {
        fail_msg("%s:%d: empty error message for result %d", file, line, code);
    }
    if (state == NULL || strlen(state) != 5) {
        fail_msg("%s:%d: SQLSTATE is not five characters: \"%s\"", file, line,
                 state ? state : "(null)");
    }
    if (code == MYWIRE_ERROR_SERVER) {
        if (mywire_errno(conn) != server_errno) {
            fail_msg("%s:%d: expected server errno %u, got %u (%s)", file, line, server_errno,
                     mywire_errno(conn), msg);
        }
        if (sqlstate != NULL && strcmp(state, sqlstate) != 0) {
            fail_msg("%s:%d: expected SQLSTATE %s, got %s (%s)", file, line, sqlstate, state,
                     msg);
        }
    } else {
        if (mywire_errno(conn) != 0) {
            fail_msg("%s:%d: client error %d has errno %u, expected 0", file, line, code,
                     mywire_errno(conn));
        }
        if (strcmp(state, "HY000") != 0) {
            fail_msg("%s:%d: client error %d has SQLSTATE %s, expected HY000", file, line, code,
                     state);
        }
    }
}

static mywire_conn *connect_default(int use_socket)
{
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc;
    if (use_socket) {
        rc = mywire_connect_to(conn, NULL, env->user, env->password, env->db, 0, env->socket);
    } else {
        rc = mywire_connect_to(conn, env->host, env->user, env->password, env->db, env->port,
                               NULL);
    }
    if (rc != MYWIRE_OK) {
        fail_msg("connect over %s to %s as %s -> %d (%s); errno %u: %s",
                 use_socket ? "unix socket" : "TCP", use_socket ? env->socket : env->host,
                 env->user, rc, mywire_errstr(rc), mywire_errno(conn), mywire_errmsg(conn));
    }
    return conn;
}

mywire_conn *it_connect_tcp(void)
{
    return connect_default(0);
}

mywire_conn *it_connect_socket(void)
{
    return connect_default(1);
}

void it_connect_configured_tcp(mywire_conn *conn)
{
    const it_env *env = it_get_env();
    int rc = mywire_connect_to(conn, env->host, env->user, env->password, env->db, env->port,
                               NULL);
    if (rc != MYWIRE_OK) {
        fail_msg("connect over TCP -> %d (%s); errno %u: %s", rc, mywire_errstr(rc),
                 mywire_errno(conn), mywire_errmsg(conn));
    }
}

mywire_result *it_query(mywire_conn *conn, const char *sql, int mode)
{
    mywire_result *res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), mode, &res);
    if (rc != MYWIRE_OK) {
        fail_msg("query \"%.200s\" -> %d (%s); errno %u sqlstate %s: %s", sql, rc,
                 mywire_errstr(rc), mywire_errno(conn), mywire_sqlstate(conn),
                 mywire_errmsg(conn));
    }
    if (res == NULL) {
        fail_msg("query \"%.200s\" returned MYWIRE_OK without a result", sql);
    }
    return res;
}

void it_exec(mywire_conn *conn, const char *sql)
{
    mywire_result *res = it_query(conn, sql, MYWIRE_BUFFERED);
    mywire_result_free(res);
}

char *it_scalar(mywire_conn *conn, const char *sql)
{
    mywire_result *res = it_query(conn, sql, MYWIRE_BUFFERED);
    if (mywire_column_count(res) != 1) {
        fail_msg("\"%s\": expected 1 column, got %u", sql, mywire_column_count(res));
    }
    int rc = mywire_fetch(res);
    if (rc != MYWIRE_ROW) {
        fail_msg("\"%s\": expected a row, mywire_fetch -> %d (%s): %s", sql, rc,
                 mywire_errstr(rc), mywire_errmsg(conn));
    }
    size_t len = 0;
    const char *data = mywire_get(res, 0, &len);
    if (data == NULL) {
        fail_msg("\"%s\": value is NULL", sql);
    }
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    copy[len] = '\0';
    rc = mywire_fetch(res);
    if (rc != MYWIRE_DONE) {
        fail_msg("\"%s\": expected one row only, mywire_fetch -> %d (%s)", sql, rc,
                 mywire_errstr(rc));
    }
    mywire_result_free(res);
    return copy;
}

long long it_scalar_ll(mywire_conn *conn, const char *sql)
{
    char *s = it_scalar(conn, sql);
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0') {
        fail_msg("\"%s\": value \"%s\" is not an integer", sql, s);
    }
    free(s);
    return v;
}

void it_fetch_row(mywire_result *res, const char *file, int line)
{
    int rc = mywire_fetch(res);
    if (rc != MYWIRE_ROW) {
        fail_msg("%s:%d: expected MYWIRE_ROW, mywire_fetch -> %d (%s)", file, line, rc,
                 mywire_errstr(rc));
    }
}

void it_fetch_done(mywire_result *res, const char *file, int line)
{
    int rc = mywire_fetch(res);
    if (rc != MYWIRE_DONE) {
        fail_msg("%s:%d: expected MYWIRE_DONE, mywire_fetch -> %d (%s)", file, line, rc,
                 mywire_errstr(rc));
    }
}

void it_check_value(mywire_result *res, unsigned i, const char *s, const char *file, int line)
{
    size_t len = 12345;
    const char *data = mywire_get(res, i, &len);
    if (data == NULL) {
        fail_msg("%s:%d: column %u is NULL, expected \"%s\"", file, line, i, s);
    }
    if (len != strlen(s) || memcmp(data, s, len) != 0) {
        fail_msg("%s:%d: column %u is \"%.*s\" (%zu bytes), expected \"%s\" (%zu bytes)", file,
                 line, i, (int)(len > 200 ? 200 : len), data, len, s, strlen(s));
    }
    if (data[len] != '\0') {
        fail_msg("%s:%d: column %u is not followed by a NUL byte", file, line, i);
    }
}

double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long it_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    if (kib <= 0) {
        fail_msg("no VmRSS line in /proc/self/status");
    }
    return kib;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IT_BUILT_WITH_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define IT_BUILT_WITH_ASAN 1
#endif

int it_asan(void)
{
#ifdef IT_BUILT_WITH_ASAN
    return 1;
#else
    const char *v = getenv("MYWIRE_TEST_ASAN");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
#endif
}

char *it_format(const char *fmt, ...)
{
    if (fmt == NULL) {
        fail_msg("it_format(NULL)");
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *it_status(mywire_conn *conn, const char *name)
{
    char *sql = it_format("SHOW SESSION STATUS LIKE '%s'", name);
    mywire_result *res = it_query(conn, sql, MYWIRE_BUFFERED);
    free(sql);
    IT_ROW(res);
    size_t len = 0;
    const char *v = mywire_get(res, 1, &len);
    assert_non_null(v);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, v, len);
    copy[len] = '\0';
    IT_DONE(res);
    mywire_result_free(res);
    return copy;
}

long long it_status_ll(mywire_conn *conn, const char *name)
{
    char *s = it_status(conn, name);
    long long v = strtoll(s, NULL, 10);
    free(s);
    return v;
}

uint32_t it_crc32(const unsigned char *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

char *it_percent_encode_all(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[3 * i] = '%';
        out[3 * i + 1] = hex[c >> 4];
        out[3 * i + 2] = hex[c & 15];
    }
    out[3 * n] = '\0';
    return out;
}

char *it_cert(const char *file)
{
    return it_format("%s/%s", it_required_env("MYWIRE_TEST_CERTS"), file);
}

mywire_conn *it_configured(const char *option, int use_socket)
{
    const it_env *e = it_get_env();
    mywire_conn *c = it_new();
    if (use_socket) {
        IT_OK(c, mywire_set_unix_socket(c, e->socket));
    } else {
        IT_OK(c, mywire_set_host(c, e->host));
        IT_OK(c, mywire_set_port(c, e->port));
    }
    IT_OK(c, mywire_set_user(c, e->user));
    IT_OK(c, mywire_set_password(c, e->password));
    IT_OK(c, mywire_set_database(c, e->db));
    IT_OK(c, mywire_set_multi_statements(c, 1));
    if (option) {
        char *key = strdup(option), *eq = key ? strchr(key, '=') : NULL;
        assert_non_null(eq);
        *eq = '\0';
        IT_OK(c, mywire_set_option(c, key, eq + 1));
        free(key);
    }
    return c;
}

unsigned it_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    close(fd);
    return ntohs(addr.sin_port);
}
