/*
 * mywire - a command-line client for MySQL and MariaDB.
 *
 * It is written against the public C API (mywire.h) only, and is meant to
 * stay small enough to read as an example of that API. Run "mywire --help"
 * for the options, the output formats and the exit statuses.
 *
 * Server-supplied text (values, column names, error messages) is untrusted:
 * whatever reaches a terminal as plain text goes through put_term_text(),
 * which makes every control character visible instead of emitting it.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "mywire.h"
#include "cancel.h"

/* Exit statuses (documented in --help). */
enum {
    STATUS_OK = 0,
    STATUS_SERVER = 1, /* the server returned an error */
    STATUS_CLIENT = 2, /* connection, protocol or client error */
    STATUS_USAGE = 64  /* bad command line (sysexits' EX_USAGE) */
};

/* ------------------------------------------------------------ growable buffer */

struct buf {
    char *data;
    size_t len, cap;
};

static void die_nomem(void)
{
    fputs("mywire: out of memory\n", stderr);
    exit(STATUS_CLIENT);
}

static void buf_append(struct buf *b, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                die_nomem();
            cap *= 2;
        }
        char *data = realloc(b->data, cap);
        if (!data)
            die_nomem();
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* ------------------------------------------------------------- text escaping */

/* The length (1..4) of the well-formed UTF-8 sequence at p, or 0 if the bytes
 * there are not one (overlong forms, surrogates and code points above
 * U+10FFFF are not well-formed). */
static size_t utf8_sequence_length(const unsigned char *p, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        if (p[0] == 0xE0)
            lo = 0xA0;
        if (p[0] == 0xED)
            hi = 0x9F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        if (p[0] == 0xF0)
            lo = 0x90;
        if (p[0] == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* U+0080..U+009F: terminals may act on them like ESC sequences. */
static int is_c1_control(const unsigned char *p, size_t n)
{
    return n == 2 && p[0] == 0xC2 && p[1] < 0xA0;
}

static int is_c0_control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

/* Writes a C0 control or DEL as \n, \t, \r, \0 or \xNN; returns its width. */
static size_t put_control_escape(FILE *out, unsigned char c)
{
    const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == 0 ? "\\0" : NULL;
    if (named) {
        if (out)
            fputs(named, out);
        return 2;
    }
    if (out)
        fprintf(out, "\\x%02x", c);
    return 4;
}

/* Writes text for display on a terminal (out may be NULL to only measure):
 * C0 controls and DEL are escaped by put_control_escape(); C1 controls and
 * bytes that are not well-formed UTF-8 are written as \xNN. Returns the
 * display width, counting one column per code point. */
static size_t put_term_text(FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t width = 0;

    for (size_t i = 0; i < len;) {
        if (is_c0_control(p[i])) {
            width += put_control_escape(out, p[i]);
            i++;
            continue;
        }
        size_t n = utf8_sequence_length(p + i, len - i);
        if (n == 0 || is_c1_control(p + i, n)) {
            size_t bad = n ? n : 1;
            for (size_t k = 0; k < bad; k++)
                if (out)
                    fprintf(out, "\\x%02x", p[i + k]);
            width += 4 * bad;
            i += bad;
            continue;
        }
        if (out)
            fwrite(p + i, 1, n, out);
        width++;
        i += n;
    }
    return width;
}

static void put_term_string(FILE *out, const char *text)
{
    put_term_text(out, text, strlen(text));
}

/* ------------------------------------------------------------------ options */

enum output_format { FORMAT_TABLE, FORMAT_TSV, FORMAT_CSV, FORMAT_JSON };

/* Secrets: each comes from its flag (a value, or a prompt when the flag has
 * none), else from the URI, else from an environment variable. */
enum secret_id { SECRET_PASSWORD, SECRET_PASSWORD2, SECRET_PASSWORD3, SECRET_SSL_KEY, SECRET_COUNT };

static const struct secret_spec {
    const char *flag;
    const char *key;    /* the mywire_set_option key */
    const char *env;    /* the environment variable */
    const char *prompt; /* what the terminal prompt says */
} secret_specs[SECRET_COUNT] = {
    {"--password", "password", "MYSQL_PWD", "Enter password: "},
    {"--password2", "password2", "MYWIRE_PASSWORD2", "Enter password 2: "},
    {"--password3", "password3", "MYWIRE_PASSWORD3", "Enter password 3: "},
    {"--ssl-key-password", "ssl_key_password", "MYWIRE_SSL_KEY_PASSWORD", "Enter the key's passphrase: "},
};

struct secret {
    char *value; /* our copy (the flag's value or the typed text), wiped before it is freed */
    int prompt;  /* the flag was given without a value */
};

/* An option passed on to mywire_set_option(), in command-line order. */
struct setting {
    const char *flag; /* the long option's name, for error messages */
    const char *key;
    const char *value;
};

struct options {
    char *uri; /* a copy: the argument's secrets are overwritten (take_uri) */
    const char *host, *socket, *user, *database;
    unsigned port;          /* 0: not given */
    struct secret secrets[SECRET_COUNT];
    struct setting *settings; /* TLS, authentication and compression options */
    size_t setting_count;
    enum output_format format;
    const char **statements; /* the -e values, in order */
    size_t statement_count;
    size_t pipeline;         /* --pipeline: statements in flight; 0: off */
    int ps;                  /* --ps: each statement prepared and executed (binary protocol) */
    int show_help, show_version, show_status;
};

enum option_id {
    OPT_URI, OPT_HOST, OPT_PORT, OPT_SOCKET, OPT_USER, OPT_DATABASE,
    OPT_SECRET, OPT_SETTING, OPT_SSL_MODE, OPT_COMPRESS, OPT_STATUS,
    OPT_EXECUTE, OPT_FORMAT, OPT_PIPELINE, OPT_PS, OPT_HELP, OPT_VERSION
};

enum option_arg { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

struct option_spec {
    char short_name; /* 0: long form only */
    const char *long_name;
    enum option_arg arg;
    enum option_id id;
    const char *key;         /* OPT_SETTING, OPT_SSL_MODE, OPT_COMPRESS: the option key */
    enum secret_id secret;   /* OPT_SECRET */
};

static const struct option_spec option_specs[] = {
    {0, "uri", ARG_REQUIRED, OPT_URI, NULL, 0},
    {'h', "host", ARG_REQUIRED, OPT_HOST, NULL, 0},
    {'P', "port", ARG_REQUIRED, OPT_PORT, NULL, 0},
    {'S', "socket", ARG_REQUIRED, OPT_SOCKET, NULL, 0},
    {'u', "user", ARG_REQUIRED, OPT_USER, NULL, 0},
    {'D', "database", ARG_REQUIRED, OPT_DATABASE, NULL, 0},
    {'p', "password", ARG_OPTIONAL, OPT_SECRET, NULL, SECRET_PASSWORD},
    {0, "password2", ARG_OPTIONAL, OPT_SECRET, NULL, SECRET_PASSWORD2},
    {0, "password3", ARG_OPTIONAL, OPT_SECRET, NULL, SECRET_PASSWORD3},
    {0, "ssl-mode", ARG_REQUIRED, OPT_SSL_MODE, "ssl_mode", 0},
    {0, "ssl-ca", ARG_REQUIRED, OPT_SETTING, "ssl_ca", 0},
    {0, "ssl-capath", ARG_REQUIRED, OPT_SETTING, "ssl_capath", 0},
    {0, "ssl-cert", ARG_REQUIRED, OPT_SETTING, "ssl_cert", 0},
    {0, "ssl-key", ARG_REQUIRED, OPT_SETTING, "ssl_key", 0},
    {0, "ssl-key-password", ARG_OPTIONAL, OPT_SECRET, NULL, SECRET_SSL_KEY},
    {0, "ssl-crl", ARG_REQUIRED, OPT_SETTING, "ssl_crl", 0},
    {0, "ssl-crlpath", ARG_REQUIRED, OPT_SETTING, "ssl_crlpath", 0},
    {0, "tls-version", ARG_REQUIRED, OPT_SETTING, "tls_version", 0},
    {0, "ssl-cipher", ARG_REQUIRED, OPT_SETTING, "ssl_cipher", 0},
    {0, "tls-ciphersuites", ARG_REQUIRED, OPT_SETTING, "tls_ciphersuites", 0},
    {0, "ssl-fingerprint", ARG_REQUIRED, OPT_SETTING, "ssl_fingerprint", 0},
    {0, "server-public-key-path", ARG_REQUIRED, OPT_SETTING, "server_public_key_path", 0},
    {0, "get-server-public-key", ARG_NONE, OPT_SETTING, "get_server_public_key", 0},
    {0, "enable-cleartext-plugin", ARG_NONE, OPT_SETTING, "enable_cleartext_plugin", 0},
    {0, "allow-unverified-tls-password", ARG_NONE, OPT_SETTING, "allow_unverified_tls_password", 0},
    {0, "compress", ARG_OPTIONAL, OPT_COMPRESS, "compress", 0},
    {0, "compression-level", ARG_REQUIRED, OPT_SETTING, "compression_level", 0},
    {0, "status", ARG_NONE, OPT_STATUS, NULL, 0},
    {'e', "execute", ARG_REQUIRED, OPT_EXECUTE, NULL, 0},
    {0, "format", ARG_REQUIRED, OPT_FORMAT, NULL, 0},
    {0, "pipeline", ARG_OPTIONAL, OPT_PIPELINE, NULL, 0},
    {0, "ps", ARG_NONE, OPT_PS, NULL, 0},
    {0, "stmt-cache", ARG_REQUIRED, OPT_SETTING, "stmt_cache", 0},
    {0, "help", ARG_NONE, OPT_HELP, NULL, 0},
    {'V', "version", ARG_NONE, OPT_VERSION, NULL, 0},
};

#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

static const char usage_line[] = "Usage: mywire [--uri URI | -h HOST -P PORT -S SOCKET -u USER -D DB]\n"
                                 "              [--password[=PW]] [--ssl-mode MODE] [--compress[=ALG]]\n"
                                 "              [OPTION]... [--status] [--format FORMAT] [--pipeline[=N] | --ps]\n"
                                 "              [-e SQL]...\n";

static void print_help(void)
{
    fputs(usage_line, stdout);
    fputs("Run SQL statements on a MySQL or MariaDB server and print their results.\n"
          "\n"
          "Connection:\n"
          "  --uri URI             mysql://user:password@host:port/database?key=value\n"
          "  -h, --host HOST       server host (default localhost)\n"
          "  -P, --port PORT       TCP port (default 3306)\n"
          "  -S, --socket PATH     unix socket (host and port are then ignored)\n"
          "  -u, --user USER       user name\n"
          "  -D, --database DB     default database\n"
          "  -p, --password[=PW]   password; without a value, prompt on the terminal\n"
          "  The options in this help override the same settings of --uri. The\n"
          "  password comes from --password, else from the URI, else from the\n"
          "  MYSQL_PWD variable. Passwords given as values (in --uri too) are\n"
          "  overwritten in the process's arguments, but may still be seen by\n"
          "  others before that: prefer the prompt or the variable.\n"
          "\n",
          stdout);
    fputs("TLS (a unix socket needs none; over TCP the default mode is preferred, or\n"
          "verify_ca when a CA is given):\n"
          "  --ssl-mode MODE       disabled, preferred, required (never falls back to\n"
          "                        plain text), verify_ca (the server's certificate\n"
          "                        must chain to the CA) or verify_identity (and name\n"
          "                        the host); case and '-' for '_' do not matter\n"
          "  --ssl-ca FILE         trusted CA certificates (PEM)\n"
          "  --ssl-capath DIR      directory of trusted CA certificates (c_rehash)\n"
          "  --ssl-cert FILE       client certificate (PEM)\n"
          "  --ssl-key FILE        client private key (PEM)\n"
          "  --ssl-key-password[=PW]  passphrase of the key; without a value, prompt;\n"
          "                        else from the URI, else MYWIRE_SSL_KEY_PASSWORD\n"
          "  --ssl-crl FILE        certificate revocation list (PEM)\n"
          "  --ssl-crlpath DIR     directory of revocation lists\n"
          "  --tls-version LIST    allowed versions, e.g. TLSv1.2,TLSv1.3 (the lowest\n"
          "                        one counts; default TLSv1.2)\n"
          "  --ssl-cipher LIST     TLS 1.2 ciphers (OpenSSL syntax)\n"
          "  --tls-ciphersuites LIST  TLS 1.3 cipher suites (OpenSSL syntax)\n"
          "  --ssl-fingerprint HEX the server certificate's SHA-256 (64 hex digits,\n"
          "                        colons allowed); any other certificate is refused\n"
          "\n"
          "Authentication:\n"
          "  --password2[=PW], --password3[=PW]\n"
          "                        the 2nd and 3rd factor (MySQL multi-factor); like\n"
          "                        --password, else MYWIRE_PASSWORD2 / MYWIRE_PASSWORD3\n"
          "  --server-public-key-path FILE\n"
          "                        the server's RSA public key (PEM), for\n"
          "                        caching_sha2_password and sha256_password without TLS\n"
          "  --get-server-public-key\n"
          "                        allow asking the server for that key (a man in\n"
          "                        the middle could send another)\n"
          "  --enable-cleartext-plugin\n"
          "                        allow sending the password in clear (PAM and\n"
          "                        mysql_clear_password), only over verified TLS or a\n"
          "                        unix socket\n"
          "  --allow-unverified-tls-password\n"
          "                        also send the password itself over TLS that did\n"
          "                        not verify the server (default mode preferred, or\n"
          "                        required): open to a man in the middle\n"
          "  The password itself (caching_sha2_password full authentication,\n"
          "  sha256_password, the clear-text plugins) goes only over a unix socket,\n"
          "  over TLS that verified the server (--ssl-mode verify_ca or\n"
          "  verify_identity with --ssl-ca, or --ssl-fingerprint), or RSA-encrypted\n"
          "  without TLS (--server-public-key-path, --get-server-public-key).\n"
          "\n",
          stdout);
    fputs("Compression:\n"
          "  --compress[=ALG]      zlib, zstd or on (the default without a value: zstd\n"
          "                        if the server has it, else zlib); the connection\n"
          "                        fails if the server offers none of what was asked\n"
          "  --compression-level N zstd level, 1..22 (default 3)\n"
          "\n"
          "  --status              after connecting, print the server version, the\n"
          "                        connection id, the transport, TLS version, cipher and\n"
          "                        whether the server's certificate was verified, the\n"
          "                        compression and the authentication plugin; then run\n"
          "                        the -e statements, or stop if there are none\n"
          "\n",
          stdout);
    fputs("Statements:\n"
          "  -e, --execute SQL     run SQL; may be repeated, and one SQL text may hold\n"
          "                        several statements separated by ';'\n"
          "  Without -e, statements are read from standard input and split on ';'\n"
          "  outside quotes ('', \"\", ``) and comments (-- , #, /* */); empty\n"
          "  statements are skipped; there is no DELIMITER command.\n"
          "  Execution stops at the first error.\n"
          "  --pipeline[=N]        send up to N statements (default 100, at most\n"
          "                        10000) before reading their results, so that a\n"
          "                        dump of many small statements is not bound by\n"
          "                        round trips; -e texts are split into statements\n"
          "                        too, and standard input is read N statements\n"
          "                        ahead. Output and errors are the same and in the\n"
          "                        same order, results are buffered (max_result_bytes\n"
          "                        applies). Execution still stops at the first\n"
          "                        error, but the statements sent behind a failing\n"
          "                        one have run on the server: mywire then reports\n"
          "                        which of them ran, and how they ended.\n"
          "  --ps                  run each statement as a prepared statement (the\n"
          "                        binary protocol): prepared, executed, closed.\n"
          "                        The output is the same as without --ps, byte for\n"
          "                        byte; statements the server cannot prepare fail.\n"
          "  --stmt-cache N        with --ps: keep up to N prepared statements (0..4096)\n"
          "                        and reuse them for a statement text that comes again\n"
          "                        (a script repeating the same INSERT is prepared once)\n"
          "  Ctrl-C while a statement runs cancels it on the server (KILL QUERY over\n"
          "  a second connection) and exits with status 130; a second Ctrl-C aborts\n"
          "  at once (the connection is closed; if the cancel had not reached the\n"
          "  server, the statement may go on running there).\n"
          "\n"
          "Output (--format FORMAT):\n"
          "  table   (default) aligned table, NULL shown as NULL; control characters\n"
          "          and invalid UTF-8 are shown as \\n, \\t, \\r, \\0 or \\xNN.\n"
          "          Statements without rows print \"Query OK, N rows affected\".\n"
          "  tsv     a header line, then one line per row, fields separated by tabs;\n"
          "          backslash, tab, newline, CR and NUL are written as \\\\ \\t \\n \\r \\0,\n"
          "          other control bytes as \\xNN; NULL is written as \\N.\n"
          "  csv     RFC 4180: a header record, CRLF line ends, fields quoted with \"\n"
          "          when needed (\"\" inside); NULL is an empty unquoted field, the\n"
          "          empty string is \"\". Bytes are written as they are.\n"
          "  json    one JSON array of objects (one object per row, one per line) per\n"
          "          result set; NULL is null; values of numeric columns are JSON\n"
          "          numbers; invalid UTF-8 bytes become \\ufffd.\n"
          "  tsv, csv and json stream the rows (constant memory) and print nothing\n"
          "  for statements without rows.\n"
          "\n"
          "  --help                show this help\n"
          "  -V, --version         show the program and library versions\n"
          "\n"
          "Exit status: 0 success, 1 the server returned an error, 2 a connection,\n"
          "TLS, protocol or client error, 64 bad usage, 130 interrupted (Ctrl-C).\n",
          stdout);
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("mywire: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(usage_line, stderr);
    fputs("Try 'mywire --help' for more information.\n", stderr);
    return STATUS_USAGE;
}

static int parse_port(const char *text, unsigned *port)
{
    unsigned long value = 0;
    if (*text == '\0' || strlen(text) > 5)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned long)(*p - '0');
    }
    if (value < 1 || value > 65535)
        return -1;
    *port = (unsigned)value;
    return 0;
}

/* --pipeline's N: 1..10000, digits only. */
static int parse_pipeline(const char *text, size_t *n)
{
    size_t value = 0;
    if (*text == '\0' || strlen(text) > 5)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (size_t)(*p - '0');
    }
    if (value < 1 || value > 10000)
        return -1;
    *n = value;
    return 0;
}

static int parse_format(const char *text, enum output_format *format)
{
    static const char *const names[] = {"table", "tsv", "csv", "json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i]) == 0) {
            *format = (enum output_format)i;
            return 0;
        }
    }
    return -1;
}

/* Whether text names word, ignoring case and reading '-' as '_'. */
static int names_word(const char *text, const char *word)
{
    for (; *text && *word; text++, word++) {
        char c = *text == '-' ? '_' : *text;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *word)
            return 0;
    }
    return *text == '\0' && *word == '\0';
}

/* The mode's canonical name (as mywire_set_option spells it), NULL if unknown.
 * Checked here rather than left to the library so that a typo is reported
 * before anything is sent. */
static const char *parse_ssl_mode(const char *text)
{
    static const char *const modes[] = {"disabled", "preferred", "required", "verify_ca", "verify_identity"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (names_word(text, modes[i]))
            return modes[i];
    return NULL;
}

static const char *parse_compression(const char *text)
{
    static const char *const algorithms[] = {"zlib", "zstd", "on"};
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (names_word(text, algorithms[i]))
            return algorithms[i];
    return NULL;
}

/* Overwrites memory that held a secret; volatile so that it is not optimised
 * away as a dead store. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static void free_secret(struct secret *s)
{
    if (s->value) {
        wipe(s->value, strlen(s->value));
        free(s->value);
    }
    s->value = NULL;
    s->prompt = 0;
}

/* Takes a secret given on the command line: keeps a copy and overwrites the
 * argument, so that ps and /proc/PID/cmdline no longer show it. */
static void take_secret(struct secret *s, char *value)
{
    free_secret(s);
    if (!value) {
        s->prompt = 1;
        return;
    }
    s->value = strdup(value);
    if (!s->value)
        die_nomem();
    for (char *p = value; *p; p++)
        *p = 'x';
}

/* Whether a URI query key (as the library reads it: %-decoded, '-' for '_')
 * names one of the secrets; case is ignored, to err on the safe side. */
static int names_secret_key(const char *key, size_t len)
{
    char name[64];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof name - 1; i++) {
        char c = key[i];
        if (c == '%' && i + 2 < len && isxdigit((unsigned char)key[i + 1]) &&
            isxdigit((unsigned char)key[i + 2])) {
            char hex[3] = {key[i + 1], key[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        name[n++] = c;
    }
    name[n] = '\0';
    for (size_t i = 0; i < SECRET_COUNT; i++)
        if (names_word(name, secret_specs[i].key))
            return 1;
    return 0;
}

static void mask(char *from, const char *to)
{
    for (; from < to; from++)
        *from = 'x';
}

/* Overwrites with 'x', in place, the secrets of a URI: the userinfo's
 * password and the values of the password, password2, password3 and
 * ssl_key_password keys. It splits as mywire_set_uri does, and masks more
 * where a raw '@', '/', '?' or '&' in a secret could make the split differ:
 * an argument masked too much costs nothing (the URI was copied). */
static void mask_uri_secrets(char *uri)
{
    char *rest = strstr(uri, "://");
    if (!rest)
        return;
    rest += 3;
    char *query = strchr(rest, '?');
    /* The userinfo ends at the last '@' before the query, or (a raw '?' in
     * the password cuts the URI short) at a later '@' that is not in a
     * key=value pair's value, or failing both at the last '@'. */
    char *at = NULL;
    int in_value = 0;
    for (char *p = rest; *p; p++) {
        if (query && p >= query && (*p == '?' || *p == '&'))
            in_value = 0;
        else if (query && p > query && *p == '=')
            in_value = 1;
        else if (*p == '@' && !in_value)
            at = p;
    }
    if (!at)
        at = strrchr(rest, '@');
    if (at) {
        char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon)
            mask(colon + 1, at);
    }
    if (!query)
        return;
    for (char *pair = query + 1; *pair;) {
        size_t len = strcspn(pair, "&");
        char *eq = memchr(pair, '=', len);
        char *next = pair + len;
        if (eq && names_secret_key(pair, (size_t)(eq - pair))) {
            /* A raw '&' in the value: the pieces that follow without an '='
             * are taken as part of it. */
            while (*next == '&' && !memchr(next + 1, '=', strcspn(next + 1, "&")))
                next += 1 + strcspn(next + 1, "&");
            mask(eq + 1, next);
        }
        pair = *next ? next + 1 : next;
    }
}

/* Takes --uri's value: keeps a copy and overwrites the secrets in the
 * argument, as take_secret does. */
static void take_uri(struct options *o, char *value)
{
    if (o->uri) {
        wipe(o->uri, strlen(o->uri));
        free(o->uri);
    }
    o->uri = strdup(value);
    if (!o->uri)
        die_nomem();
    mask_uri_secrets(value);
}

static void free_uri(struct options *o)
{
    if (o->uri) {
        wipe(o->uri, strlen(o->uri));
        free(o->uri);
        o->uri = NULL;
    }
}

static void add_setting(struct options *o, const struct option_spec *spec, const char *value)
{
    o->settings[o->setting_count++] = (struct setting){spec->long_name, spec->key, value};
}

/* Applies one option; value is NULL for an option given without a value. */
static int apply_option(struct options *o, const struct option_spec *spec, char *value)
{
    const char *name;

    switch (spec->id) {
    case OPT_URI: take_uri(o, value); break;
    case OPT_HOST: o->host = value; break;
    case OPT_SOCKET: o->socket = value; break;
    case OPT_USER: o->user = value; break;
    case OPT_DATABASE: o->database = value; break;
    case OPT_EXECUTE: o->statements[o->statement_count++] = value; break;
    case OPT_HELP: o->show_help = 1; break;
    case OPT_VERSION: o->show_version = 1; break;
    case OPT_STATUS: o->show_status = 1; break;
    case OPT_PS: o->ps = 1; break;
    case OPT_SECRET: take_secret(&o->secrets[spec->secret], value); break;
    case OPT_SETTING: add_setting(o, spec, value ? value : "1"); break;
    case OPT_SSL_MODE:
        if (!(name = parse_ssl_mode(value)))
            return usage_error("unknown ssl mode '%s' (expected disabled, preferred, required, "
                               "verify_ca or verify_identity)", value);
        add_setting(o, spec, name);
        break;
    case OPT_COMPRESS:
        if (!value)
            name = "on";
        else if (!(name = parse_compression(value)))
            return usage_error("unknown compression '%s' (expected zlib, zstd or on)", value);
        add_setting(o, spec, name);
        break;
    case OPT_PORT:
        if (parse_port(value, &o->port) != 0)
            return usage_error("bad port '%s' (expected 1..65535)", value);
        break;
    case OPT_PIPELINE:
        if (!value)
            o->pipeline = 100;
        else if (parse_pipeline(value, &o->pipeline) != 0)
            return usage_error("bad --pipeline '%s' (expected 1..10000 statements)", value);
        break;
    case OPT_FORMAT:
        if (parse_format(value, &o->format) != 0)
            return usage_error("unknown format '%s' (expected table, tsv, csv or json)", value);
        break;
    }
    return STATUS_OK;
}

static const struct option_spec *find_long_option(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strlen(option_specs[i].long_name) == len && memcmp(option_specs[i].long_name, name, len) == 0)
            return &option_specs[i];
    return NULL;
}

static const struct option_spec *find_short_option(char name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (option_specs[i].short_name != 0 && option_specs[i].short_name == name)
            return &option_specs[i];
    return NULL;
}

/* --name, --name=value, or --name value (required values only). */
static int parse_long_option(struct options *o, int argc, char **argv, int *i)
{
    char *name = argv[*i] + 2;
    char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const struct option_spec *spec = find_long_option(name, name_len);
    char *value = eq ? eq + 1 : NULL;

    if (!spec)
        return usage_error("unknown option '--%.*s'", (int)name_len, name);
    if (spec->arg == ARG_NONE && value)
        return usage_error("option '--%s' takes no value", spec->long_name);
    if (spec->arg == ARG_REQUIRED && !value) {
        if (*i + 1 >= argc)
            return usage_error("option '--%s' needs a value", spec->long_name);
        value = argv[++*i];
    }
    return apply_option(o, spec, value);
}

/* -x value or -xvalue; an optional value (-p) must be attached. */
static int parse_short_option(struct options *o, int argc, char **argv, int *i)
{
    char *arg = argv[*i];
    const struct option_spec *spec = find_short_option(arg[1]);
    char *value = arg[2] ? arg + 2 : NULL;

    if (!spec)
        return usage_error("unknown option '-%c'", arg[1]);
    if (spec->arg == ARG_NONE && value)
        return usage_error("option '-%c' takes no value", arg[1]);
    if (spec->arg == ARG_REQUIRED && !value) {
        if (*i + 1 >= argc)
            return usage_error("option '-%c' needs a value", arg[1]);
        value = argv[++*i];
    }
    return apply_option(o, spec, value);
}

/* An argument that is no option is not echoed as it is: it may be a secret
 * (a URI without --uri, a password after -p or --password, whose values must
 * be attached). A URI is shown with its secrets masked. */
static int unexpected_argument(int index, const char *arg)
{
    if (!strstr(arg, "://"))
        return usage_error("unexpected argument %d (not shown, in case it is a secret; SQL needs -e, "
                           "and the value of -p or --password is attached: -pPW, --password=PW)",
                           index);
    char *shown = strdup(arg);
    if (!shown)
        die_nomem();
    mask_uri_secrets(shown);
    int status = usage_error("unexpected argument '%s' (a URI needs --uri)", shown);
    wipe(shown, strlen(shown));
    free(shown);
    return status;
}

static int parse_args(struct options *o, int argc, char **argv)
{
    o->statements = calloc((size_t)argc, sizeof *o->statements);
    o->settings = calloc((size_t)argc, sizeof *o->settings);
    if (!o->statements || !o->settings)
        die_nomem();
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int status;
        if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0')
            status = parse_long_option(o, argc, argv, &i);
        else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-')
            status = parse_short_option(o, argc, argv, &i);
        else
            status = unexpected_argument(i, arg);
        if (status != STATUS_OK)
            return status;
    }
    if (o->ps && o->pipeline)
        return usage_error("--ps and --pipeline cannot be combined");
    return STATUS_OK;
}

static void free_options(struct options *o)
{
    free_uri(o);
    for (size_t i = 0; i < SECRET_COUNT; i++)
        free_secret(&o->secrets[i]);
    free(o->statements);
    free(o->settings);
}

/* ------------------------------------------------------------------ secrets */

/* Appends c to a secret being typed; a grown buffer is copied and the old one
 * wiped, so that no copy of the secret is left in freed memory. */
static void secret_append(char **text, size_t *len, size_t *cap, char c)
{
    if (*len + 1 >= *cap) {
        size_t new_cap = *cap ? *cap * 2 : 64;
        char *grown = malloc(new_cap);
        if (!grown)
            die_nomem();
        if (*text) {
            memcpy(grown, *text, *len);
            wipe(*text, *cap);
            free(*text);
        }
        *text = grown;
        *cap = new_cap;
    }
    (*text)[(*len)++] = c;
    (*text)[*len] = '\0';
}

/* Reads a secret from the controlling terminal with echo off. Returns a
 * malloc'ed string, or NULL if there is no terminal. */
static char *prompt_secret(const char *prompt)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios saved, quiet;
    char *text = NULL;
    size_t len = 0, cap = 0;
    int c;

    if (!tty)
        return NULL;
    setvbuf(tty, NULL, _IONBF, 0); /* no stdio buffer holding what was typed */
    int have_termios = tcgetattr(fileno(tty), &saved) == 0;
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    fputs(prompt, tty);
    fflush(tty);
    secret_append(&text, &len, &cap, '\0');
    len = 0;
    while ((c = getc(tty)) != EOF && c != '\n')
        secret_append(&text, &len, &cap, (char)c);
    if (have_termios)
        tcsetattr(fileno(tty), TCSAFLUSH, &saved);
    fputc('\n', tty);
    fclose(tty);
    return text;
}

/* Asks for each secret whose flag was given without a value. */
static int prompt_secrets(struct options *o)
{
    for (size_t i = 0; i < SECRET_COUNT; i++) {
        struct secret *s = &o->secrets[i];
        if (!s->prompt)
            continue;
        s->value = prompt_secret(secret_specs[i].prompt);
        if (!s->value) {
            fprintf(stderr, "mywire: cannot prompt for the %s: no terminal\n",
                    i == SECRET_SSL_KEY ? "key's passphrase" : "password");
            return STATUS_CLIENT;
        }
        s->prompt = 0;
    }
    return STATUS_OK;
}

/* --------------------------------------------------------------- reporting */

/* Prints an error (a server error's number, SQLSTATE and message, or a
 * client error's message) and returns the exit status. */
static int report_error_text(int code, unsigned server_errno, const char *sqlstate, const char *message)
{
    fflush(stdout); /* keep the output and the error in order */
    if (code == MYWIRE_ERROR_SERVER) {
        fprintf(stderr, "ERROR %u (", server_errno);
        put_term_string(stderr, sqlstate);
        fputs("): ", stderr);
        put_term_string(stderr, message);
        fputc('\n', stderr);
        return STATUS_SERVER;
    }
    fputs("mywire: ", stderr);
    put_term_string(stderr, message && *message ? message : mywire_errstr(code));
    fputc('\n', stderr);
    return STATUS_CLIENT;
}

/* Prints the error now on the connection and returns the exit status. */
static int report_error(const mywire_conn *conn, int code)
{
    return report_error_text(code, mywire_errno(conn), mywire_sqlstate(conn), mywire_errmsg(conn));
}

/* ------------------------------------------------------------- connecting */

/* A value the library refused: a usage error naming where it came from. */
static int option_error(mywire_conn *conn, int rc, const char *what)
{
    if (rc == MYWIRE_ERROR_NOMEM)
        die_nomem();
    return usage_error("bad %s: %s", what, mywire_errmsg(conn));
}

/* Applies the options to an unconnected handle, weakest source first so that
 * later ones override: the environment's secrets, the URI, then the flags in
 * command-line order and the secrets given as flags. Option and URI errors
 * carry mywire's own text, never the server's. */
static int configure(mywire_conn *conn, const struct options *o, int multi)
{
    int rc;

    for (size_t i = 0; i < SECRET_COUNT; i++) {
        const char *value = getenv(secret_specs[i].env);
        if (value && (rc = mywire_set_option(conn, secret_specs[i].key, value)) != MYWIRE_OK)
            return option_error(conn, rc, secret_specs[i].env);
    }
    if (o->uri && (rc = mywire_set_uri(conn, o->uri)) != MYWIRE_OK)
        return option_error(conn, rc, "--uri");
    if (o->host && (rc = mywire_set_host(conn, o->host)) != MYWIRE_OK)
        return option_error(conn, rc, "--host");
    if (o->port && (rc = mywire_set_port(conn, o->port)) != MYWIRE_OK)
        return option_error(conn, rc, "--port");
    if (o->socket && (rc = mywire_set_unix_socket(conn, o->socket)) != MYWIRE_OK)
        return option_error(conn, rc, "--socket");
    if (o->user && (rc = mywire_set_user(conn, o->user)) != MYWIRE_OK)
        return option_error(conn, rc, "--user");
    if (o->database && (rc = mywire_set_database(conn, o->database)) != MYWIRE_OK)
        return option_error(conn, rc, "--database");
    if (multi && (rc = mywire_set_multi_statements(conn, 1)) != MYWIRE_OK)
        return option_error(conn, rc, "multi-statements");
    for (size_t i = 0; i < o->setting_count; i++) {
        const struct setting *s = &o->settings[i];
        if ((rc = mywire_set_option(conn, s->key, s->value)) != MYWIRE_OK) {
            char flag[64];
            snprintf(flag, sizeof flag, "--%s", s->flag);
            return option_error(conn, rc, flag);
        }
    }
    for (size_t i = 0; i < SECRET_COUNT; i++) {
        const char *value = o->secrets[i].value;
        if (value && (rc = mywire_set_option(conn, secret_specs[i].key, value)) != MYWIRE_OK)
            return option_error(conn, rc, secret_specs[i].flag);
    }
    return STATUS_OK;
}

static int connect_with(mywire_conn *conn, struct options *o, int multi)
{
    int status = prompt_secrets(o);
    if (status == STATUS_OK)
        status = configure(conn, o, multi);
    /* The handle has its own copies now. */
    free_uri(o);
    for (size_t i = 0; i < SECRET_COUNT; i++)
        free_secret(&o->secrets[i]);
    if (status != STATUS_OK)
        return status;
    int rc = mywire_connect(conn);
    return rc == MYWIRE_OK ? STATUS_OK : report_error(conn, rc);
}

/* ----------------------------------------------------------------- status */

static void put_status_label(const char *label)
{
    printf("%-17s", label);
}

/* A label and server-supplied (or otherwise untrusted) text, escaped. */
static void put_status_text(const char *label, const char *text)
{
    put_status_label(label);
    put_term_string(stdout, text);
    putchar('\n');
}

/* The peer's address: "HOST:PORT" ("[V6]:PORT") for TCP, the path the server
 * bound for a unix socket. Read with getpeername(), which neither reads nor
 * writes the connection. Prints nothing if it cannot be had. */
static void put_peer_address(const mywire_conn *conn)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    int fd = mywire_socket(conn);

    memset(&addr, 0, sizeof addr);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&addr, &len) != 0)
        return;
    if (addr.ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&addr;
        size_t offset = offsetof(struct sockaddr_un, sun_path);
        size_t path_len = len > offset ? (size_t)len - offset : 0;
        if (path_len > sizeof un->sun_path)
            path_len = sizeof un->sun_path;
        /* A pathname socket's name ends at its NUL; an abstract one (leading
         * NUL) has none and shows as \0name. */
        if (path_len > 0 && un->sun_path[0] != '\0')
            path_len = strnlen(un->sun_path, path_len);
        putchar(' ');
        put_term_text(stdout, un->sun_path, path_len);
        return;
    }
    char host[64], port[16];
    if (getnameinfo((struct sockaddr *)&addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    printf(addr.ss_family == AF_INET6 ? " [%s]:%s" : " %s:%s", host, port);
}

/* --status: what the connection turned out to be. */
static void print_status(const mywire_conn *conn)
{
    const char *transport = mywire_transport(conn);

    put_status_text("Server version:", mywire_server_version(conn));
    put_status_label("Connection id:");
    printf("%lu\n", mywire_thread_id(conn));
    put_status_label("Transport:");
    put_term_string(stdout, strcmp(transport, "unix") == 0 ? "unix socket" : transport);
    put_peer_address(conn);
    putchar('\n');
    put_status_label("TLS:");
    if (mywire_tls_active(conn)) {
        put_term_string(stdout, mywire_tls_version(conn));
        fputs(", cipher ", stdout);
        put_term_string(stdout, mywire_tls_cipher(conn));
        printf(", server verified: %s\n", mywire_tls_verified(conn) ? "yes" : "no");
    } else {
        fputs("not encrypted\n", stdout);
    }
    put_status_text("Compression:", mywire_compression(conn));
    put_status_text("Auth plugin:", mywire_auth_plugin(conn));
    fflush(stdout);
}

/* ----------------------------------------------------------- column types */

static int is_numeric_type(unsigned type)
{
    switch (type) {
    case MYWIRE_TYPE_DECIMAL:
    case MYWIRE_TYPE_NEWDECIMAL:
    case MYWIRE_TYPE_TINY:
    case MYWIRE_TYPE_SHORT:
    case MYWIRE_TYPE_LONG:
    case MYWIRE_TYPE_INT24:
    case MYWIRE_TYPE_LONGLONG:
    case MYWIRE_TYPE_FLOAT:
    case MYWIRE_TYPE_DOUBLE:
        return 1;
    default:
        return 0;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_digits(const char *p, size_t i, size_t n)
{
    while (i < n && is_digit(p[i]))
        i++;
    return i;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *p, size_t n)
{
    size_t i = 0, start;

    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        i = skip_digits(p, i, n);
    else
        return 0;
    if (i < n && p[i] == '.') {
        start = ++i;
        if ((i = skip_digits(p, i, n)) == start)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        start = i;
        if ((i = skip_digits(p, i, n)) == start)
            return 0;
    }
    return i == n;
}

/* ------------------------------------------------------------ table format */

static const char null_text[] = "NULL";

static size_t value_width(const mywire_value *v)
{
    return v->data ? put_term_text(NULL, v->data, v->len) : sizeof null_text - 1;
}

/* Column widths: the widest of the name and every value. */
static int measure_columns(mywire_result *res, size_t *widths)
{
    unsigned columns = mywire_column_count(res);
    int rc;

    for (unsigned i = 0; i < columns; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        widths[i] = put_term_text(NULL, col->name, col->name_len);
    }
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        const mywire_value *row = mywire_row(res);
        for (unsigned i = 0; i < columns; i++) {
            size_t w = value_width(&row[i]);
            if (w > widths[i])
                widths[i] = w;
        }
    }
    return rc == MYWIRE_DONE ? MYWIRE_OK : rc;
}

static void put_spaces(size_t n)
{
    while (n--)
        putchar(' ');
}

static void put_border(const size_t *widths, unsigned columns)
{
    putchar('+');
    for (unsigned i = 0; i < columns; i++) {
        for (size_t k = 0; k < widths[i] + 2; k++)
            putchar('-');
        putchar('+');
    }
    putchar('\n');
}

/* One cell without its leading "|": " text " padded to width. */
static void put_cell(const char *text, size_t len, size_t width, int right_align)
{
    size_t pad = width - put_term_text(NULL, text, len);
    putchar(' ');
    if (right_align)
        put_spaces(pad);
    put_term_text(stdout, text, len);
    if (!right_align)
        put_spaces(pad);
    putchar(' ');
}

static void put_header_line(const mywire_result *res, const size_t *widths)
{
    unsigned columns = mywire_column_count(res);
    for (unsigned i = 0; i < columns; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        putchar('|');
        put_cell(col->name, col->name_len, widths[i], 0);
    }
    fputs("|\n", stdout);
}

static void put_row_line(const mywire_result *res, const size_t *widths)
{
    unsigned columns = mywire_column_count(res);
    const mywire_value *row = mywire_row(res);
    for (unsigned i = 0; i < columns; i++) {
        int right = is_numeric_type(mywire_column_at(res, i)->type);
        putchar('|');
        if (row[i].data)
            put_cell(row[i].data, row[i].len, widths[i], right);
        else
            put_cell(null_text, sizeof null_text - 1, widths[i], right);
    }
    fputs("|\n", stdout);
}

/* A buffered result as a table: a first pass measures, a second prints. */
static int print_table(mywire_result *res)
{
    unsigned columns = mywire_column_count(res);
    uint64_t rows;
    size_t *widths = calloc(columns, sizeof *widths);
    int rc;

    if (!widths)
        die_nomem();
    rc = measure_columns(res, widths);
    rows = mywire_row_count(res);
    if (rc == MYWIRE_OK && rows == 0)
        fputs("Empty set\n", stdout);
    if (rc == MYWIRE_OK && rows > 0)
        rc = mywire_seek(res, 0);
    if (rc == MYWIRE_OK && rows > 0) {
        put_border(widths, columns);
        put_header_line(res, widths);
        put_border(widths, columns);
        while ((rc = mywire_fetch(res)) == MYWIRE_ROW)
            put_row_line(res, widths);
        if (rc == MYWIRE_DONE)
            rc = MYWIRE_OK;
        put_border(widths, columns);
        printf("%" PRIu64 " %s in set\n", rows, rows == 1 ? "row" : "rows");
    }
    free(widths);
    return rc;
}

/* "Query OK, 1 row affected", the warning count and the server's info text. */
static void print_ok(const mywire_result *res)
{
    uint64_t affected = mywire_affected_rows(res);
    unsigned warnings = mywire_warning_count(res);
    const char *info = mywire_info(res);

    printf("Query OK, %" PRIu64 " %s affected", affected, affected == 1 ? "row" : "rows");
    if (warnings > 0)
        printf(", %u %s", warnings, warnings == 1 ? "warning" : "warnings");
    putchar('\n');
    if (*info) {
        put_term_string(stdout, info);
        putchar('\n');
    }
}

/* ------------------------------------------------------- streaming formats */

/* \\ \t \n \r \0 as the mysql client's batch mode writes them, other control
 * bytes as \xNN; bytes >= 0x80 unchanged. */
static void put_tsv_field(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\\')
            fputs("\\\\", stdout);
        else if (is_c0_control(c))
            put_control_escape(stdout, c);
        else
            putchar(c);
    }
}

static void tsv_header(const mywire_result *res)
{
    unsigned columns = mywire_column_count(res);
    for (unsigned i = 0; i < columns; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        if (i > 0)
            putchar('\t');
        put_tsv_field(col->name, col->name_len);
    }
    putchar('\n');
}

static void tsv_row(const mywire_result *res)
{
    unsigned columns = mywire_column_count(res);
    const mywire_value *row = mywire_row(res);
    for (unsigned i = 0; i < columns; i++) {
        if (i > 0)
            putchar('\t');
        if (row[i].data)
            put_tsv_field(row[i].data, row[i].len);
        else
            fputs("\\N", stdout);
    }
    putchar('\n');
}

/* RFC 4180: quoted if it holds a quote, comma, CR or LF (we also quote other
 * control bytes and the empty string, which sets it apart from NULL). */
static void put_csv_field(const char *text, size_t len)
{
    int quote = len == 0;
    for (size_t i = 0; i < len && !quote; i++)
        quote = text[i] == '"' || text[i] == ',' || is_c0_control((unsigned char)text[i]);
    if (!quote) {
        fwrite(text, 1, len, stdout);
        return;
    }
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"')
            putchar('"');
        putchar(text[i]);
    }
    putchar('"');
}

static void csv_header(const mywire_result *res)
{
    unsigned columns = mywire_column_count(res);
    for (unsigned i = 0; i < columns; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        if (i > 0)
            putchar(',');
        put_csv_field(col->name, col->name_len);
    }
    fputs("\r\n", stdout);
}

static void csv_row(const mywire_result *res)
{
    unsigned columns = mywire_column_count(res);
    const mywire_value *row = mywire_row(res);
    for (unsigned i = 0; i < columns; i++) {
        if (i > 0)
            putchar(',');
        if (row[i].data)
            put_csv_field(row[i].data, row[i].len);
    }
    fputs("\r\n", stdout);
}

/* A JSON string. Control characters (C0, DEL, C1) are escaped, and each byte
 * that is not part of well-formed UTF-8 becomes \ufffd, so the output is
 * always valid UTF-8 JSON. */
static void put_json_string(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;

    putchar('"');
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence_length(p + i, len - i);
        if (p[i] == '"' || p[i] == '\\') {
            putchar('\\');
            putchar(p[i]);
        } else if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r') {
            fputs(p[i] == '\n' ? "\\n" : p[i] == '\t' ? "\\t" : "\\r", stdout);
        } else if (is_c0_control(p[i])) {
            printf("\\u%04x", p[i]);
        } else if (n == 0) {
            fputs("\\ufffd", stdout);
            n = 1;
        } else if (is_c1_control(p + i, n)) {
            printf("\\u%04x", p[i + 1]);
        } else {
            fwrite(p + i, 1, n, stdout);
        }
        i += n ? n : 1;
    }
    putchar('"');
}

static void json_begin(void)
{
    fputs("[\n", stdout);
}

static void json_row(const mywire_result *res, uint64_t index)
{
    unsigned columns = mywire_column_count(res);
    const mywire_value *row = mywire_row(res);

    fputs(index > 0 ? ",\n{" : "{", stdout);
    for (unsigned i = 0; i < columns; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        if (i > 0)
            putchar(',');
        put_json_string(col->name, col->name_len);
        putchar(':');
        if (!row[i].data)
            fputs("null", stdout);
        else if (is_numeric_type(col->type) && is_json_number(row[i].data, row[i].len))
            fwrite(row[i].data, 1, row[i].len, stdout);
        else
            put_json_string(row[i].data, row[i].len);
    }
    putchar('}');
}

static void json_end(uint64_t rows)
{
    fputs(rows > 0 ? "\n]\n" : "]\n", stdout);
}

/* A streaming result in tsv, csv or json: one row in memory at a time. */
static int stream_rows(mywire_result *res, enum output_format format)
{
    uint64_t rows = 0;
    int rc;

    if (format == FORMAT_TSV)
        tsv_header(res);
    else if (format == FORMAT_CSV)
        csv_header(res);
    else
        json_begin();
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        if (format == FORMAT_TSV)
            tsv_row(res);
        else if (format == FORMAT_CSV)
            csv_row(res);
        else
            json_row(res, rows);
        rows++;
    }
    if (rc != MYWIRE_DONE)
        return rc;
    if (format == FORMAT_JSON)
        json_end(rows);
    return MYWIRE_OK;
}

/* ------------------------------------------------------------ running SQL */

struct session {
    mywire_conn *conn;
    enum output_format format;
    int ps; /* --ps */
};

static int print_result(struct session *s, mywire_result *res)
{
    if (mywire_column_count(res) == 0) {
        if (s->format == FORMAT_TABLE)
            print_ok(res);
        return MYWIRE_OK;
    }
    if (s->format == FORMAT_TABLE)
        return print_table(res);
    return stream_rows(res, s->format);
}

/* Sends one query and prints each of its results; returns the exit status. */
static int run_query(struct session *s, const char *sql, size_t len)
{
    int mode = s->format == FORMAT_TABLE ? MYWIRE_BUFFERED : MYWIRE_STREAMING;
    mywire_result *res = NULL;
    mywire_stmt *stmt = NULL;
    statement_begin(); /* from here to statement_end(), Ctrl-C cancels */
    int rc;
    if (s->ps) {
        /* The binary protocol: prepare (or, with --stmt-cache, reuse the
         * statement of an earlier identical text), execute, and the statement
         * freed: closed (its COM_STMT_CLOSE goes out ahead of the next
         * command), or given back to the cache. */
        rc = mywire_stmt_cached(s->conn, sql, len, &stmt);
        if (rc == MYWIRE_OK && mywire_stmt_param_count(stmt) > 0) {
            fprintf(stderr, "mywire: --ps: the statement has %u '?' placeholders and no values for them\n",
                    mywire_stmt_param_count(stmt));
            statement_end();
            mywire_stmt_free(stmt);
            return STATUS_CLIENT;
        }
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_execute(stmt, mode, &res);
    } else {
        rc = mywire_query(s->conn, sql, len, mode, &res);
    }
    int status;

    while (rc == MYWIRE_OK) {
        rc = print_result(s, res);
        if (rc == MYWIRE_OK) {
            mywire_result_free(res);
            res = NULL;
            rc = mywire_next_result(s->conn, mode, &res);
        }
    }
    if (statement_end()) { /* Ctrl-C */
        if (rc != MYWIRE_DONE && rc != MYWIRE_ERROR_CANCELLED)
            report_error(s->conn, rc); /* it failed on its own */
        mywire_result_free(res);
        mywire_stmt_free(stmt);
        interrupt_exit(rc == MYWIRE_DONE ? MYWIRE_OK : rc);
    }
    status = rc == MYWIRE_DONE ? STATUS_OK : report_error(s->conn, rc);
    mywire_result_free(res);
    mywire_stmt_free(stmt);
    fflush(stdout);
    return status;
}

/* ------------------------------------------------------ statement splitter */

/* Splits SQL text on ';' outside quotes and comments. Text is fed in chunks
 * that end at a line end (or at the end of the input), so that "--" can look
 * at the byte after it. */
enum lex_state { LEX_CODE, LEX_SQUOTE, LEX_DQUOTE, LEX_BACKTICK, LEX_LINE_COMMENT, LEX_BLOCK_COMMENT };

struct splitter {
    enum lex_state state;
    int escaped;     /* the previous byte was a backslash inside '' or "" */
    int has_content; /* the statement has something besides blanks and comments */
    struct buf text;
};

/* Returns the exit status; nonzero stops the splitting. */
typedef int (*statement_fn)(void *ctx, const char *sql, size_t len);

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* "-- " starts a comment only when followed by a blank or a control byte. */
static int starts_dash_comment(const char *p, size_t n)
{
    return n >= 2 && p[0] == '-' && p[1] == '-' && (n == 2 || is_c0_control((unsigned char)p[2]) || p[2] == ' ');
}

/* Handles the bytes at p in LEX_CODE; returns how many it consumed. */
static size_t lex_code(struct splitter *sp, const char *p, size_t n)
{
    switch (p[0]) {
    case '\'': sp->state = LEX_SQUOTE; break;
    case '"': sp->state = LEX_DQUOTE; break;
    case '`': sp->state = LEX_BACKTICK; break;
    case '#': sp->state = LEX_LINE_COMMENT; return 1;
    case '-':
        if (starts_dash_comment(p, n)) {
            sp->state = LEX_LINE_COMMENT;
            return 2;
        }
        break;
    case '/':
        if (n >= 2 && p[1] == '*') {
            sp->state = LEX_BLOCK_COMMENT;
            /* Executable comments (slash-star-bang, slash-star-M-bang) hold code. */
            if ((n >= 3 && p[2] == '!') || (n >= 4 && p[2] == 'M' && p[3] == '!'))
                sp->has_content = 1;
            return 2;
        }
        break;
    default:
        if (is_blank(p[0]))
            return 1;
        break;
    }
    sp->has_content = 1;
    return 1;
}

/* Handles the bytes at p in any state; returns how many it consumed. */
static size_t lex_step(struct splitter *sp, const char *p, size_t n)
{
    switch (sp->state) {
    case LEX_SQUOTE:
    case LEX_DQUOTE:
        if (sp->escaped)
            sp->escaped = 0;
        else if (p[0] == '\\')
            sp->escaped = 1;
        else if (p[0] == (sp->state == LEX_SQUOTE ? '\'' : '"'))
            sp->state = LEX_CODE;
        return 1;
    case LEX_BACKTICK:
        if (p[0] == '`')
            sp->state = LEX_CODE;
        return 1;
    case LEX_LINE_COMMENT:
        if (p[0] == '\n')
            sp->state = LEX_CODE;
        return 1;
    case LEX_BLOCK_COMMENT:
        if (n >= 2 && p[0] == '*' && p[1] == '/') {
            sp->state = LEX_CODE;
            return 2;
        }
        return 1;
    case LEX_CODE:
        break;
    }
    return lex_code(sp, p, n);
}

/* Hands the statement collected so far to fn unless it is empty. */
static int splitter_emit(struct splitter *sp, statement_fn fn, void *ctx)
{
    int status = STATUS_OK;
    if (sp->has_content)
        status = fn(ctx, sp->text.data, sp->text.len);
    sp->text.len = 0;
    sp->has_content = 0;
    return status;
}

static int splitter_feed(struct splitter *sp, const char *p, size_t n, statement_fn fn, void *ctx)
{
    for (size_t i = 0; i < n;) {
        if (sp->state == LEX_CODE && p[i] == ';') {
            int status = splitter_emit(sp, fn, ctx);
            if (status != STATUS_OK)
                return status;
            i++;
            continue;
        }
        size_t step = lex_step(sp, p + i, n - i);
        buf_append(&sp->text, p + i, step);
        i += step;
    }
    return STATUS_OK;
}

/* The end of the input: a last statement needs no ';'. */
static int splitter_finish(struct splitter *sp, statement_fn fn, void *ctx)
{
    int status = splitter_emit(sp, fn, ctx);
    free(sp->text.data);
    sp->text = (struct buf){0};
    sp->state = LEX_CODE;
    sp->escaped = 0;
    return status;
}

static int split_text(const char *text, statement_fn fn, void *ctx)
{
    struct splitter sp = {0};
    int status = splitter_feed(&sp, text, strlen(text), fn, ctx);
    if (status != STATUS_OK) {
        free(sp.text.data);
        return status;
    }
    return splitter_finish(&sp, fn, ctx);
}

/* The statements of an -e text without the empty ones, joined by ';'. */
struct statement_list {
    struct buf text;
    size_t count;
};

static int add_statement(void *ctx, const char *sql, size_t len)
{
    struct statement_list *list = ctx;
    if (list->count++ > 0)
        buf_append(&list->text, ";", 1);
    buf_append(&list->text, sql, len);
    return STATUS_OK;
}

static void collect_statements(const char *text, struct statement_list *list)
{
    split_text(text, add_statement, list);
}

static size_t count_statements(const char *text)
{
    struct statement_list list = {0};
    collect_statements(text, &list);
    free(list.text.data);
    return list.count;
}

static int run_statement(void *ctx, const char *sql, size_t len)
{
    return run_query(ctx, sql, len);
}

/* One -e text, sent as one query: several statements become a multi-statement
 * query whose results come back through mywire_next_result(). Empty
 * statements are dropped first (the server rejects ";;"). */
static int run_execute(struct session *s, const char *text)
{
    struct statement_list list = {0};
    int status = STATUS_OK;

    if (s->ps) /* one prepared statement at a time */
        return split_text(text, run_statement, s);
    collect_statements(text, &list);
    if (list.count > 0)
        status = run_query(s, list.text.data, list.text.len);
    free(list.text.data);
    return status;
}

/* Statements from standard input, each handed to fn as soon as it is
 * complete; flush (if not NULL) runs what fn kept back, before a read error
 * is reported. */
static int read_stdin(statement_fn fn, int (*flush)(void *ctx), void *ctx)
{
    struct splitter sp = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = STATUS_OK;

    while (status == STATUS_OK && (n = getline(&line, &cap, stdin)) > 0)
        status = splitter_feed(&sp, line, (size_t)n, fn, ctx);
    free(line);
    if (status == STATUS_OK && ferror(stdin)) {
        int saved = errno;
        if (flush)
            status = flush(ctx);
        if (status == STATUS_OK) {
            fprintf(stderr, "mywire: cannot read standard input: %s\n", strerror(saved));
            status = STATUS_CLIENT;
        }
    }
    if (status == STATUS_OK)
        return splitter_finish(&sp, fn, ctx);
    free(sp.text.data);
    return status;
}

static int run_stdin(struct session *s)
{
    return read_stdin(run_statement, NULL, s);
}

/* -------------------------------------------------------------- --pipeline */

/* Statements are added to a pipeline and run in batches of up to max; the
 * results of a batch are printed in order as run_query() prints them, up to
 * the first step that failed. */
struct batch {
    struct session *s;
    mywire_pipeline *p;
    size_t max;
    size_t first; /* the number (from 1) of the batch's first statement */
};

enum step_outcome { STEP_OK, STEP_FAILED, STEP_CANCELLED, STEP_NO_REPLY };

static enum step_outcome step_outcome(const mywire_pipeline *p, size_t i)
{
    if (!mywire_pipeline_step_ran(p, i))
        return STEP_NO_REPLY;
    switch (mywire_pipeline_step_code(p, i)) {
    case MYWIRE_OK: return STEP_OK;
    case MYWIRE_ERROR_CANCELLED: return STEP_CANCELLED;
    default: return STEP_FAILED;
    }
}

/* Steps i and j ended the same way (failed ones: with the same error). */
static int same_outcome(const mywire_pipeline *p, size_t i, size_t j)
{
    enum step_outcome o = step_outcome(p, i);
    if (o != step_outcome(p, j))
        return 0;
    return o != STEP_FAILED || (mywire_pipeline_step_code(p, i) == mywire_pipeline_step_code(p, j) &&
                                mywire_pipeline_step_errno(p, i) == mywire_pipeline_step_errno(p, j));
}

static void put_statement_range(size_t from, size_t to)
{
    if (from == to)
        fprintf(stderr, "%zu", from);
    else
        fprintf(stderr, "%zu-%zu", from, to);
}

static void put_outcome(const mywire_pipeline *p, size_t i)
{
    switch (step_outcome(p, i)) {
    case STEP_OK: fputs("succeeded", stderr); break;
    case STEP_CANCELLED: fputs("cancelled", stderr); break;
    case STEP_NO_REPLY: fputs("got no reply (may have run)", stderr); break;
    case STEP_FAILED:
        if (mywire_pipeline_step_code(p, i) == MYWIRE_ERROR_SERVER)
            fprintf(stderr, "failed (ERROR %u)", mywire_pipeline_step_errno(p, i));
        else
            fprintf(stderr, "failed (%s)", mywire_errstr(mywire_pipeline_step_code(p, i)));
        break;
    }
}

/* After step i stopped the execution: which of the later steps of its batch
 * had been sent, and how each ended, as one line, e.g.
 * "mywire: statement 3 failed; statements 4-7 were already sent (--pipeline)
 * and ran: 4-6 succeeded, 7 failed (ERROR 1146)". */
static void report_later_steps(const struct batch *b, size_t i)
{
    size_t n = mywire_pipeline_size(b->p);
    int all_ran = 1;

    if (i + 1 >= n)
        return;
    for (size_t j = i + 1; j < n; j++)
        if (step_outcome(b->p, j) == STEP_NO_REPLY)
            all_ran = 0;
    enum step_outcome failed = step_outcome(b->p, i);
    fprintf(stderr, "mywire: statement %zu %s; %s ", b->first + i,
            failed == STEP_CANCELLED ? "was cancelled" : failed == STEP_NO_REPLY ? "got no reply" : "failed",
            n - i - 1 == 1 ? "statement" : "statements");
    put_statement_range(b->first + i + 1, b->first + n - 1);
    fprintf(stderr, " %s already sent (--pipeline)%s", n - i - 1 == 1 ? "was" : "were", all_ran ? " and ran: " : ": ");
    for (size_t j = i + 1; j < n;) {
        size_t k = j;
        while (k + 1 < n && same_outcome(b->p, j, k + 1))
            k++;
        if (j > i + 1)
            fputs(", ", stderr);
        put_statement_range(b->first + j, b->first + k);
        fputc(' ', stderr);
        put_outcome(b->p, j);
        j = k + 1;
    }
    fputc('\n', stderr);
}

/* Prints the results of step i in order; returns the first printing error. */
static int print_step_results(struct batch *b, size_t i)
{
    unsigned count = mywire_pipeline_result_count(b->p, i);
    int rc = MYWIRE_OK;

    for (unsigned k = 0; k < count && rc == MYWIRE_OK; k++) {
        mywire_result *res = NULL;
        rc = mywire_pipeline_take_result(b->p, i, k, &res);
        if (rc == MYWIRE_OK)
            rc = print_result(b->s, res);
        mywire_result_free(res);
    }
    fflush(stdout);
    return rc;
}

/* Runs the batch, prints it, and empties it for the next statements. */
static int run_batch(struct batch *b)
{
    size_t n = mywire_pipeline_size(b->p);
    int status = STATUS_OK;

    if (n == 0)
        return STATUS_OK;
    statement_begin(); /* Ctrl-C cancels, until the whole batch returns */
    int rc = mywire_pipeline_run(b->s->conn, b->p);
    int interrupted = statement_end();
    if (rc == MYWIRE_ERROR_STATE || rc == MYWIRE_ERROR_OUT_OF_SYNC || rc == MYWIRE_ERROR_ARGUMENT ||
        rc == MYWIRE_ERROR_NOMEM) {
        /* Nothing ran (or nothing can be told about the steps). */
        status = report_error(b->s->conn, rc);
        if (interrupted)
            interrupt_exit(rc);
        return status;
    }
    for (size_t i = 0; i < n; i++) {
        int printed = print_step_results(b, i);
        int code = mywire_pipeline_step_code(b->p, i);
        if (!mywire_pipeline_step_ran(b->p, i) && code == MYWIRE_OK)
            code = rc != MYWIRE_OK ? rc : MYWIRE_ERROR_INTERNAL; /* no reply, and no code of its own */
        if (code == MYWIRE_OK && printed == MYWIRE_OK)
            continue;
        if (code == MYWIRE_OK)
            status = report_error_text(printed, 0, "", NULL);
        else if (!(interrupted && code == MYWIRE_ERROR_CANCELLED)) {
            const char *message = mywire_pipeline_step_errmsg(b->p, i);
            status = report_error_text(code, mywire_pipeline_step_errno(b->p, i),
                                       mywire_pipeline_step_sqlstate(b->p, i),
                                       message && *message ? message : mywire_errmsg(b->s->conn));
        }
        report_later_steps(b, i);
        if (interrupted)
            interrupt_exit(code);
        break;
    }
    if (interrupted)
        interrupt_exit(MYWIRE_OK);
    b->first += n;
    if (mywire_pipeline_clear(b->p) != MYWIRE_OK)
        die_nomem();
    return status;
}

static int run_batch_ctx(void *ctx)
{
    return run_batch(ctx);
}

static int add_to_batch(void *ctx, const char *sql, size_t len)
{
    struct batch *b = ctx;
    if (mywire_pipeline_add_query(b->p, sql, len) != MYWIRE_OK)
        die_nomem();
    return mywire_pipeline_size(b->p) >= b->max ? run_batch(b) : STATUS_OK;
}

/* --pipeline: the statements of standard input, or of the -e texts (split
 * into statements), in batches of o->pipeline. */
static int run_pipelined(struct session *s, const struct options *o)
{
    struct batch b = {s, NULL, o->pipeline, 1};
    int status = STATUS_OK;

    if (mywire_pipeline_new(&b.p) != MYWIRE_OK)
        die_nomem();
    if (o->statement_count == 0)
        status = read_stdin(add_to_batch, run_batch_ctx, &b);
    for (size_t i = 0; i < o->statement_count && status == STATUS_OK; i++)
        status = split_text(o->statements[i], add_to_batch, &b);
    if (status == STATUS_OK)
        status = run_batch(&b);
    mywire_pipeline_free(b.p);
    return status;
}

/* Multi-statements are turned on when reading standard input and when an -e
 * text holds several statements. */
static int needs_multi_statements(const struct options *o)
{
    if (o->ps)
        return 0; /* each statement is prepared on its own */
    if (o->statement_count == 0)
        return !o->show_status;
    for (size_t i = 0; i < o->statement_count; i++)
        if (count_statements(o->statements[i]) > 1)
            return 1;
    return 0;
}

static int run_all(struct session *s, const struct options *o)
{
    int status = STATUS_OK;
    if (o->statement_count == 0 && o->show_status)
        return STATUS_OK;
    if (o->pipeline)
        return run_pipelined(s, o);
    if (o->statement_count == 0)
        return run_stdin(s);
    for (size_t i = 0; i < o->statement_count && status == STATUS_OK; i++)
        status = run_execute(s, o->statements[i]);
    return status;
}

/* -------------------------------------------------------------------- main */

static int finish_output(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mywire: cannot write the output: %s\n", strerror(errno));
        return status == STATUS_OK ? STATUS_CLIENT : status;
    }
    return status;
}

int main(int argc, char **argv)
{
    struct options opts = {0};
    struct session session = {0};
    interrupt_init(); /* before any other thread starts */
    int status = parse_args(&opts, argc, argv);

    if (status == STATUS_OK && opts.show_help)
        print_help();
    else if (status == STATUS_OK && opts.show_version)
        printf("mywire %s (libmywire %s)\n", MYWIRE_VERSION_STRING, mywire_version());
    if (status != STATUS_OK || opts.show_help || opts.show_version) {
        free_options(&opts);
        return finish_output(status);
    }

    if (mywire_conn_new(&session.conn) != MYWIRE_OK)
        die_nomem();
    session.format = opts.format;
    session.ps = opts.ps;
    status = connect_with(session.conn, &opts, needs_multi_statements(&opts));
    if (status == STATUS_OK)
        interrupt_set_conn(session.conn);
    if (status == STATUS_OK && opts.show_status)
        print_status(session.conn);
    if (status == STATUS_OK)
        status = run_all(&session, &opts);
    interrupt_set_conn(NULL);
    mywire_conn_free(session.conn);
    free_options(&opts);
    status = finish_output(status);
    interrupt_finish();
    return status;
}
