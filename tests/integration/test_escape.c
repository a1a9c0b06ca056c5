/*
 * Client-side escaping against a real MariaDB: hostile strings escaped with
 * mywire_escape_string() for the connection's character set (utf8mb4,
 * latin1, binary, gbk, big5, sjis, cp932) and mode (NO_BACKSLASH_ESCAPES on
 * and off) are stored by the server byte for byte, and a literal never ends
 * early (a sentinel column after it keeps its value). Ill-formed multi-byte
 * input (the classic 0xBF 0x27 under gbk) is refused. A charset-blind
 * escape, run through the same check, is caught: the check can fail.
 */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct charset {
    unsigned id;
    const char *name; /* @@character_set_client once connected */
};

static const struct charset charsets[] = {
    {45, "utf8mb4"}, {8, "latin1"}, {63, "binary"}, {28, "gbk"},
    {1, "big5"},     {13, "sjis"},  {95, "cp932"},
};

struct sample {
    const char *bytes;
    size_t len;
};
#define S(lit) {lit, sizeof lit - 1}

/* For every character set. */
static const struct sample common[] = {
    S("'"), S("\\"), S("\\'"), S("''"), S("\""), S("\0"), S("a\0b"), S("\x1a"), S("\n"),
    S("\r\n"), S("a'b\\c\"d"), S("' OR 1=1 -- "), S("\\' OR 1=1 #"), S("abc\\"), S("*/"),
    S("\\0\\Z"), S("%_"), S("''''\\\\\\\\''"), S("\\\\'"), S("x' ; DROP TABLE esc_t; -- "),
};

/* Multi-byte characters whose trail byte is 0x5C ('\'), next to quotes and
 * backslashes. */
static const struct sample gbk_samples[] = {
    S("\xBF\x5C"), S("\xBF\x5C'"), S("\xBF\x5C' OR 1=1 -- "), S("\x81\x5C\\"),
    S("\xBF\x5C\xBF\x5C"), S("\xD6\xD0\xCE\xC4'"), S("'\xBF\x5C"),
};
static const struct sample big5_samples[] = {
    S("\xA4\x5C"), S("\xA4\x5C'"), S("\xA4\x5C\\"), S("\xA4\x5C' OR 1=1 -- "), S("\xB3\x5C\xA4\x5C"),
};
static const struct sample sjis_samples[] = {
    S("\x95\x5C"), S("\x95\x5C'"), S("\x81\x5C\\"), S("\x95\x5C' OR 1=1 -- "), S("\xB1\\'"),
};
/* Byte-safe sets keep high bytes whatever follows them. */
static const struct sample byte_safe_samples[] = {
    S("\xBF'"), S("\xBF\x5C'"), S("\xC3\xA9'\\"),
};

static char *hex_of(const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char *out = malloc(2 * n + 1);
    size_t i;
    assert_non_null(out);
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[(unsigned char)s[i] >> 4];
        out[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

/* pre + lit (n bytes) + post, with its length: the literal may hold NULs. */
static char *splice(const char *pre, const char *lit, size_t n, const char *post, size_t *len)
{
    size_t a = strlen(pre), c = strlen(post);
    char *q = malloc(a + n + c + 1);
    assert_non_null(q);
    memcpy(q, pre, a);
    memcpy(q + a, lit, n);
    memcpy(q + a + n, post, c + 1);
    *len = a + n + c;
    return q;
}

static mywire_conn *connect_with(const struct charset *cs)
{
    mywire_conn *conn = it_configured(NULL, 0);
    char *got;
    IT_OK(conn, mywire_set_charset(conn, cs->id));
    it_connect_configured_tcp(conn);
    got = it_scalar(conn, "SELECT @@character_set_client");
    assert_string_equal(got, cs->name);
    free(got);
    it_exec(conn, "CREATE TEMPORARY TABLE esc_t (v BLOB, marker INT)");
    return conn;
}

static void set_mode(mywire_conn *conn, int nbe)
{
    it_exec(conn, nbe ? "SET sql_mode = 'NO_BACKSLASH_ESCAPES'" : "SET sql_mode = ''");
    /* The OK of the SET carries the flag. */
    assert_int_equal((mywire_server_status(conn) & MYWIRE_STATUS_NO_BACKSLASH_ESCAPES) != 0, nbe);
}

/* Stores the literal '<escaped>' next to a sentinel and reads it back with
 * HEX(); 1 when the server stored exactly want (wlen bytes) and the
 * sentinel, 0 otherwise (a failing statement included). */
static int stores_exactly(mywire_conn *conn, const char *escaped, size_t elen, const char *want,
                          size_t wlen)
{
    size_t qlen;
    char *q = splice("INSERT INTO esc_t (v, marker) VALUES ('", escaped, elen, "', 4711)", &qlen);
    mywire_result *res = NULL;
    char *want_hex;
    const char *v, *m;
    int ok;
    it_exec(conn, "DELETE FROM esc_t");
    int rc = mywire_query(conn, q, qlen, MYWIRE_BUFFERED, &res);
    free(q);
    mywire_result_free(res);
    if (rc != MYWIRE_OK) return 0;
    res = it_query(conn, "SELECT HEX(v), marker, (SELECT COUNT(*) FROM esc_t) FROM esc_t", MYWIRE_BUFFERED);
    if (mywire_fetch(res) != MYWIRE_ROW) {
        mywire_result_free(res);
        return 0;
    }
    want_hex = hex_of(want, wlen);
    v = mywire_get(res, 0, NULL);
    m = mywire_get(res, 1, NULL);
    ok = v && m && strcmp(v, want_hex) == 0 && strcmp(m, "4711") == 0 &&
         strcmp(mywire_get(res, 2, NULL), "1") == 0;
    if (!ok)
        print_message("stored %s (marker %s), wanted %s\n", v ? v : "NULL", m ? m : "NULL", want_hex);
    free(want_hex);
    IT_DONE(res);
    mywire_result_free(res);
    return ok;
}

/* The same through a SELECT: HEX(CAST('<escaped>' AS BINARY)) and a
 * sentinel after the literal. */
static int selects_exactly(mywire_conn *conn, const char *escaped, size_t elen, const char *want,
                           size_t wlen)
{
    size_t qlen;
    char *q = splice("SELECT HEX(CAST('", escaped, elen, "' AS BINARY)), 'sentinel'", &qlen);
    mywire_result *res = NULL;
    char *want_hex;
    int ok;
    int rc = mywire_query(conn, q, qlen, MYWIRE_BUFFERED, &res);
    free(q);
    if (rc != MYWIRE_OK) return 0;
    if (mywire_column_count(res) != 2 || mywire_fetch(res) != MYWIRE_ROW) {
        mywire_result_free(res);
        return 0;
    }
    want_hex = hex_of(want, wlen);
    ok = strcmp(mywire_get(res, 0, NULL), want_hex) == 0 &&
         strcmp(mywire_get(res, 1, NULL), "sentinel") == 0;
    free(want_hex);
    mywire_result_free(res);
    return ok;
}

static void check_round_trip(mywire_conn *conn, const struct sample *s, const char *where)
{
    size_t size = 2 * s->len + 1, n = 12345;
    char *buf = malloc(size);
    assert_non_null(buf);
    IT_OK(conn, mywire_escape_string(conn, s->bytes, s->len, buf, size, &n));
    assert_true(n < size);
    assert_int_equal(buf[n], '\0');
    if (!stores_exactly(conn, buf, n, s->bytes, s->len) || !selects_exactly(conn, buf, n, s->bytes, s->len)) {
        char *h = hex_of(s->bytes, s->len);
        fail_msg("%s: the input %s did not round-trip", where, h);
    }
    free(buf);
}

static void round_trip_all(const struct sample *list, size_t count, const struct charset *cs,
                           mywire_conn *conn, int nbe)
{
    char where[64];
    size_t i;
    snprintf(where, sizeof where, "%s, NO_BACKSLASH_ESCAPES %s", cs->name, nbe ? "on" : "off");
    for (i = 0; i < count; i++) check_round_trip(conn, &list[i], where);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every lead byte of the set with the trail bytes 0x5C and 0x40 (and, for
 * gbk and big5, 0x60), each followed by a quote and a backslash. */
static struct sample every_lead(unsigned id)
{
    static char buf[4096];
    size_t n = 0;
    unsigned c;
    for (c = 0x81; c <= 0xFE; c++) {
        int lead = id == 28 ? 1 : id == 1 ? (c >= 0xA1 && c <= 0xF9)
                                          : ((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC));
        if (!lead) continue;
        buf[n++] = (char)c;
        buf[n++] = 0x5C;
        buf[n++] = '\'';
        buf[n++] = (char)c;
        buf[n++] = 0x40;
        buf[n++] = '\\';
    }
    {
        struct sample s;
        s.bytes = buf;
        s.len = n;
        return s;
    }
}

static void test_round_trips(void **state)
{
    size_t k;
    int nbe;
    (void)state;
    for (k = 0; k < COUNT(charsets); k++) {
        const struct charset *cs = &charsets[k];
        mywire_conn *conn = connect_with(cs);
        for (nbe = 0; nbe <= 1; nbe++) {
            set_mode(conn, nbe);
            round_trip_all(common, COUNT(common), cs, conn, nbe);
            if (cs->id == 28) {
                round_trip_all(gbk_samples, COUNT(gbk_samples), cs, conn, nbe);
            } else if (cs->id == 1) {
                round_trip_all(big5_samples, COUNT(big5_samples), cs, conn, nbe);
            } else if (cs->id == 13 || cs->id == 95) {
                round_trip_all(sjis_samples, COUNT(sjis_samples), cs, conn, nbe);
            } else {
                round_trip_all(byte_safe_samples, COUNT(byte_safe_samples), cs, conn, nbe);
            }
            if (cs->id == 28 || cs->id == 1 || cs->id == 13 || cs->id == 95) {
                struct sample all = every_lead(cs->id);
                check_round_trip(conn, &all, cs->name);
            }
        }
        mywire_conn_free(conn);
    }
}

/* Every byte 0x00-0xFF in the byte-safe sets, in both modes. */
static void test_every_byte(void **state)
{
    static const struct charset safe[] = {{8, "latin1"}, {63, "binary"}, {45, "utf8mb4"}};
    char all[256];
    size_t k;
    int i, nbe;
    (void)state;
    for (i = 0; i < 256; i++) all[i] = (char)i;
    for (k = 0; k < COUNT(safe); k++) {
        mywire_conn *conn = connect_with(&safe[k]);
        for (nbe = 0; nbe <= 1; nbe++) {
            struct sample s;
            s.bytes = all;
            s.len = sizeof all;
            set_mode(conn, nbe);
            check_round_trip(conn, &s, safe[k].name);
        }
        mywire_conn_free(conn);
    }
}

static void expect_refused(mywire_conn *conn, const char *in, size_t len)
{
    char buf[64] = "junk";
    size_t n = 99;
    int rc = mywire_escape_string(conn, in, len, buf, sizeof buf, &n);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_int_equal(n, 0);
    assert_string_equal(buf, "");
    assert_true(mywire_is_connected(conn));
}

/* Ill-formed multi-byte input is refused in both modes; the connection
 * stays usable. */
static void test_ill_formed_refused(void **state)
{
    static const struct {
        unsigned charset;
        struct sample s;
    } cases[] = {
        {0, S("\xBF'")},           /* gbk: the classic injection */
        {0, S("\xBF' OR 1=1 -- ")},
        {0, S("abc\xBF")},         /* truncated at the end */
        {0, S("\x80")},            /* never used */
        {1, S("\xA4'")},           /* big5 */
        {1, S("\xA4")},
        {2, S("\x95'")},           /* sjis */
        {2, S("\x95")},
        {3, S("\x81")},            /* cp932 */
    };
    static const struct charset sets[] = {{28, "gbk"}, {1, "big5"}, {13, "sjis"}, {95, "cp932"}};
    size_t k, i;
    int nbe;
    (void)state;
    for (k = 0; k < COUNT(sets); k++) {
        mywire_conn *conn = connect_with(&sets[k]);
        for (nbe = 0; nbe <= 1; nbe++) {
            set_mode(conn, nbe);
            for (i = 0; i < COUNT(cases); i++)
                if (cases[i].charset == k) expect_refused(conn, cases[i].s.bytes, cases[i].s.len);
        }
        IT_OK(conn, mywire_ping(conn));
        mywire_conn_free(conn);
    }
}

/* The check above catches a broken escape: escaping charset-blind (as for
 * latin1) and sending it on a gbk connection lets 0xBF 0x27 end the literal
 * early, which stores_exactly / selects_exactly must notice. */
static void test_charset_blind_escape_is_caught(void **state)
{
    static const char attack[] = "\xBF' OR 1=1 -- ";
    static const struct charset gbk = {28, "gbk"};
    char buf[64];
    size_t n = 0;
    mywire_conn *conn;
    (void)state;
    conn = connect_with(&gbk);
    set_mode(conn, 0);
    assert_int_equal(mywire_escape_string_for(8, 0, attack, sizeof attack - 1, buf, sizeof buf, &n),
                     MYWIRE_OK);
    assert_memory_equal(buf, "\xBF\\'", 3);
    assert_false(stores_exactly(conn, buf, n, attack, sizeof attack - 1));
    assert_false(selects_exactly(conn, buf, n, attack, sizeof attack - 1));
    /* So would escaping for the wrong mode: the NO_BACKSLASH_ESCAPES form of
     * \' is \'' , which in the default mode leaves the literal open. */
    assert_int_equal(mywire_escape_string_for(45, 1, "\\' OR 1=1 -- ", 13, buf, sizeof buf, &n),
                     MYWIRE_OK);
    assert_false(selects_exactly(conn, buf, n, "\\' OR 1=1 -- ", 13));
    mywire_conn_free(conn);
}

static void expect_escape(mywire_conn *conn, const char *in, const char *want)
{
    char buf[64];
    size_t n = 0;
    IT_OK(conn, mywire_escape_string(conn, in, strlen(in), buf, sizeof buf, &n));
    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
}

/* SET sql_mode switches the mode at once (the OK of the SET carries the
 * status flag), and back. */
static void test_mode_follows_sql_mode(void **state)
{
    mywire_conn *conn;
    (void)state;
    conn = it_connect_tcp();
    it_exec(conn, "SET sql_mode = ''");
    expect_escape(conn, "'\\", "\\'\\\\");
    it_exec(conn, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
    expect_escape(conn, "'\\", "''\\");
    it_exec(conn, "SET sql_mode = CONCAT(@@sql_mode, ',ANSI')");
    expect_escape(conn, "'\\", "''\\");
    it_exec(conn, "SET sql_mode = 'STRICT_ALL_TABLES'");
    expect_escape(conn, "'\\", "\\'\\\\");
    mywire_conn_free(conn);
}

static void test_api_errors(void **state)
{
    char buf[8];
    size_t n = 77;
    mywire_conn *conn;
    (void)state;

    assert_int_equal(mywire_escape_string(NULL, "a", 1, buf, sizeof buf, &n), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(n, 0);

    /* Not connected: the mode is unknown. */
    conn = it_new();
    IT_ERR(conn, mywire_escape_string(conn, "a", 1, buf, sizeof buf, &n), MYWIRE_ERROR_STATE, 0, "HY000");
    mywire_conn_free(conn);

    conn = it_connect_tcp();
    it_exec(conn, "SET sql_mode = ''");
    /* Too small: the size needed, with its NUL; an empty string, no partial escape. */
    n = 0;
    strcpy(buf, "junk");
    IT_ERR(conn, mywire_escape_string(conn, "''''", 4, buf, 8, &n), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_int_equal(n, 9);
    assert_string_equal(buf, "");
    /* Exactly enough. */
    IT_OK(conn, mywire_escape_string(conn, "'''", 3, buf, 7, &n));
    assert_int_equal(n, 6);
    assert_string_equal(buf, "\\'\\'\\'");
    /* Asking for the size with a NULL buffer. */
    assert_int_equal(mywire_escape_string(conn, "ab'", 3, NULL, 0, &n), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(n, 5);
    /* Empty input; NULL in with len 0. */
    IT_OK(conn, mywire_escape_string(conn, NULL, 0, buf, 1, &n));
    assert_int_equal(n, 0);
    assert_string_equal(buf, "");
    IT_ERR(conn, mywire_escape_string(conn, NULL, 1, buf, sizeof buf, &n), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    IT_ERR(conn, mywire_escape_string(conn, "a", 1, NULL, 4, &n), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    /* A success clears the error. */
    IT_OK(conn, mywire_escape_string(conn, "a", 1, buf, sizeof buf, NULL));
    assert_int_equal(mywire_errcode(conn), MYWIRE_OK);
    assert_true(mywire_is_connected(conn));
    mywire_conn_free(conn);

    /* A collation the server does not know falls back to its default, and
     * mywire cannot tell which: refused. */
    conn = it_configured(NULL, 0);
    IT_OK(conn, mywire_set_charset(conn, 100));
    it_connect_configured_tcp(conn);
    IT_ERR(conn, mywire_escape_string(conn, "a", 1, buf, sizeof buf, &n), MYWIRE_ERROR_STATE, 0, "HY000");
    mywire_conn_free(conn);

    /* Without a connection. */
    assert_int_equal(mywire_escape_string_for(35, 0, "a", 1, buf, sizeof buf, &n), MYWIRE_ERROR_UNSUPPORTED);
    assert_int_equal(mywire_escape_string_for(17, 0, "a", 1, buf, sizeof buf, &n), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_escape_string_for(28, 0, "\xBF'", 2, buf, sizeof buf, &n), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_escape_string_for(28, 1, "\xBF\x5C'", 3, buf, sizeof buf, &n), MYWIRE_OK);
    assert_memory_equal(buf, "\xBF\x5C''", 5);
    assert_int_equal(n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_ill_formed_refused),
        cmocka_unit_test(test_charset_blind_escape_is_caught),
        cmocka_unit_test(test_mode_follows_sql_mode),
        cmocka_unit_test(test_api_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
