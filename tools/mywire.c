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

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include "mywire.h"

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

struct options {
    const char *uri, *host, *socket, *user, *database;
    unsigned port;          /* 0: not given */
    const char *password;   /* --password=PW or -pPW */
    int prompt_password;    /* --password or -p without a value */
    enum output_format format;
    const char **statements; /* the -e values, in order */
    size_t statement_count;
    int show_help, show_version;
};

enum option_id {
    OPT_URI, OPT_HOST, OPT_PORT, OPT_SOCKET, OPT_USER, OPT_DATABASE,
    OPT_PASSWORD, OPT_EXECUTE, OPT_FORMAT, OPT_HELP, OPT_VERSION
};

enum option_arg { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

struct option_spec {
    char short_name; /* 0: long form only */
    const char *long_name;
    enum option_arg arg;
    enum option_id id;
};

static const struct option_spec option_specs[] = {
    {0, "uri", ARG_REQUIRED, OPT_URI},
    {'h', "host", ARG_REQUIRED, OPT_HOST},
    {'P', "port", ARG_REQUIRED, OPT_PORT},
    {'S', "socket", ARG_REQUIRED, OPT_SOCKET},
    {'u', "user", ARG_REQUIRED, OPT_USER},
    {'D', "database", ARG_REQUIRED, OPT_DATABASE},
    {'p', "password", ARG_OPTIONAL, OPT_PASSWORD},
    {'e', "execute", ARG_REQUIRED, OPT_EXECUTE},
    {0, "format", ARG_REQUIRED, OPT_FORMAT},
    {0, "help", ARG_NONE, OPT_HELP},
    {'V', "version", ARG_NONE, OPT_VERSION},
};

#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

static const char usage_line[] = "Usage: mywire [--uri URI | -h HOST -P PORT -S SOCKET -u USER -D DB]\n"
                                 "              [--password[=PW]] [--format FORMAT] [-e SQL]...\n";

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
          "  The options above override the same parts of --uri. The password comes\n"
          "  from --password, else from the URI, else from the MYSQL_PWD variable.\n"
          "\n"
          "Statements:\n"
          "  -e, --execute SQL     run SQL; may be repeated, and one SQL text may hold\n"
          "                        several statements separated by ';'\n"
          "  Without -e, statements are read from standard input and split on ';'\n"
          "  outside quotes ('', \"\", ``) and comments (-- , #, /* */); empty\n"
          "  statements are skipped; there is no DELIMITER command.\n"
          "  Execution stops at the first error.\n"
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
          "protocol or client error, 64 bad usage.\n",
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

/* Applies one option; value is NULL for an option given without a value. */
static int apply_option(struct options *o, enum option_id id, const char *value)
{
    switch (id) {
    case OPT_URI: o->uri = value; break;
    case OPT_HOST: o->host = value; break;
    case OPT_SOCKET: o->socket = value; break;
    case OPT_USER: o->user = value; break;
    case OPT_DATABASE: o->database = value; break;
    case OPT_EXECUTE: o->statements[o->statement_count++] = value; break;
    case OPT_HELP: o->show_help = 1; break;
    case OPT_VERSION: o->show_version = 1; break;
    case OPT_PASSWORD:
        o->password = value;
        o->prompt_password = value == NULL;
        break;
    case OPT_PORT:
        if (parse_port(value, &o->port) != 0)
            return usage_error("bad port '%s' (expected 1..65535)", value);
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
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const struct option_spec *spec = find_long_option(name, name_len);
    const char *value = eq ? eq + 1 : NULL;

    if (!spec)
        return usage_error("unknown option '--%.*s'", (int)name_len, name);
    if (spec->arg == ARG_NONE && value)
        return usage_error("option '--%s' takes no value", spec->long_name);
    if (spec->arg == ARG_REQUIRED && !value) {
        if (*i + 1 >= argc)
            return usage_error("option '--%s' needs a value", spec->long_name);
        value = argv[++*i];
    }
    return apply_option(o, spec->id, value);
}

/* -x value or -xvalue; an optional value (-p) must be attached. */
static int parse_short_option(struct options *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const struct option_spec *spec = find_short_option(arg[1]);
    const char *value = arg[2] ? arg + 2 : NULL;

    if (!spec)
        return usage_error("unknown option '-%c'", arg[1]);
    if (spec->arg == ARG_NONE && value)
        return usage_error("option '-%c' takes no value", arg[1]);
    if (spec->arg == ARG_REQUIRED && !value) {
        if (*i + 1 >= argc)
            return usage_error("option '-%c' needs a value", arg[1]);
        value = argv[++*i];
    }
    return apply_option(o, spec->id, value);
}

static int parse_args(struct options *o, int argc, char **argv)
{
    o->statements = calloc((size_t)argc, sizeof *o->statements);
    if (!o->statements)
        die_nomem();
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int status;
        if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0')
            status = parse_long_option(o, argc, argv, &i);
        else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-')
            status = parse_short_option(o, argc, argv, &i);
        else
            status = usage_error("unexpected argument '%s'", arg);
        if (status != STATUS_OK)
            return status;
    }
    return STATUS_OK;
}

/* ----------------------------------------------------------------- password */

/* Reads a password from the controlling terminal with echo off. Returns a
 * malloc'ed string, or NULL if there is no terminal. */
static char *prompt_password(void)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios saved, quiet;
    struct buf line = {0};
    int c;

    if (!tty)
        return NULL;
    int have_termios = tcgetattr(fileno(tty), &saved) == 0;
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    fputs("Enter password: ", tty);
    fflush(tty);
    while ((c = getc(tty)) != EOF && c != '\n') {
        char ch = (char)c;
        buf_append(&line, &ch, 1);
    }
    buf_append(&line, "", 1);
    if (have_termios)
        tcsetattr(fileno(tty), TCSAFLUSH, &saved);
    fputc('\n', tty);
    fclose(tty);
    return line.data;
}

/* Whether a URI has a password part (user:password@), even an empty one. */
static int uri_has_password(const char *uri)
{
    const char *scheme_end = strstr(uri, "://");
    const char *authority = scheme_end ? scheme_end + 3 : uri;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at = NULL;

    for (size_t i = 0; i < authority_len; i++)
        if (authority[i] == '@')
            at = authority + i;
    return at && memchr(authority, ':', (size_t)(at - authority)) != NULL;
}

/* --password (or the prompt), then the URI's own, then MYSQL_PWD. NULL means
 * "leave the connection's password as it is". */
static const char *choose_password(const struct options *o, const char *prompted)
{
    if (prompted)
        return prompted;
    if (o->password)
        return o->password;
    if (o->uri && uri_has_password(o->uri))
        return NULL;
    return getenv("MYSQL_PWD");
}

/* --------------------------------------------------------------- reporting */

/* Prints the error now on the connection and returns the exit status. */
static int report_error(const mywire_conn *conn, int code)
{
    fflush(stdout); /* keep the output and the error in order */
    if (code == MYWIRE_ERROR_SERVER) {
        fprintf(stderr, "ERROR %u (", mywire_errno(conn));
        put_term_string(stderr, mywire_sqlstate(conn));
        fputs("): ", stderr);
        put_term_string(stderr, mywire_errmsg(conn));
        fputc('\n', stderr);
        return STATUS_SERVER;
    }
    const char *message = mywire_errmsg(conn);
    fputs("mywire: ", stderr);
    put_term_string(stderr, *message ? message : mywire_errstr(code));
    fputc('\n', stderr);
    return STATUS_CLIENT;
}

/* ------------------------------------------------------------- connecting */

/* Applies the options to an unconnected handle. A rejected value is a usage
 * error; option and URI errors carry mywire's own text, never the server's. */
static int configure(mywire_conn *conn, const struct options *o, const char *password, int multi)
{
    int rc = MYWIRE_OK;
    const char *what = NULL;

    if (o->uri && (rc = mywire_set_uri(conn, o->uri)) != MYWIRE_OK)
        what = "--uri";
    else if (o->host && (rc = mywire_set_host(conn, o->host)) != MYWIRE_OK)
        what = "--host";
    else if (o->port && (rc = mywire_set_port(conn, o->port)) != MYWIRE_OK)
        what = "--port";
    else if (o->socket && (rc = mywire_set_unix_socket(conn, o->socket)) != MYWIRE_OK)
        what = "--socket";
    else if (o->user && (rc = mywire_set_user(conn, o->user)) != MYWIRE_OK)
        what = "--user";
    else if (o->database && (rc = mywire_set_database(conn, o->database)) != MYWIRE_OK)
        what = "--database";
    else if (password && (rc = mywire_set_password(conn, password)) != MYWIRE_OK)
        what = "password";
    else if (multi && (rc = mywire_set_multi_statements(conn, 1)) != MYWIRE_OK)
        what = "multi-statements";

    if (rc == MYWIRE_OK)
        return STATUS_OK;
    if (rc == MYWIRE_ERROR_NOMEM)
        die_nomem();
    return usage_error("bad %s: %s", what, mywire_errmsg(conn));
}

static int connect_with(mywire_conn *conn, const struct options *o, int multi)
{
    char *prompted = NULL;
    int status;

    if (o->prompt_password) {
        prompted = prompt_password();
        if (!prompted) {
            fputs("mywire: cannot prompt for the password: no terminal\n", stderr);
            return STATUS_CLIENT;
        }
    }
    status = configure(conn, o, choose_password(o, prompted), multi);
    free(prompted);
    if (status != STATUS_OK)
        return status;
    int rc = mywire_connect(conn);
    return rc == MYWIRE_OK ? STATUS_OK : report_error(conn, rc);
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
    int rc = mywire_query(s->conn, sql, len, mode, &res);
    int status;

    while (rc == MYWIRE_OK) {
        rc = print_result(s, res);
        if (rc == MYWIRE_OK) {
            mywire_result_free(res);
            res = NULL;
            rc = mywire_next_result(s->conn, mode, &res);
        }
    }
    status = rc == MYWIRE_DONE ? STATUS_OK : report_error(s->conn, rc);
    mywire_result_free(res);
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

    collect_statements(text, &list);
    if (list.count > 0)
        status = run_query(s, list.text.data, list.text.len);
    free(list.text.data);
    return status;
}

/* Statements from standard input, each run as soon as it is complete. */
static int run_stdin(struct session *s)
{
    struct splitter sp = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = STATUS_OK;

    while (status == STATUS_OK && (n = getline(&line, &cap, stdin)) > 0)
        status = splitter_feed(&sp, line, (size_t)n, run_statement, s);
    free(line);
    if (status == STATUS_OK && ferror(stdin)) {
        fprintf(stderr, "mywire: cannot read standard input: %s\n", strerror(errno));
        status = STATUS_CLIENT;
    }
    if (status == STATUS_OK)
        return splitter_finish(&sp, run_statement, s);
    free(sp.text.data);
    return status;
}

/* Multi-statements are turned on when reading standard input and when an -e
 * text holds several statements. */
static int needs_multi_statements(const struct options *o)
{
    if (o->statement_count == 0)
        return 1;
    for (size_t i = 0; i < o->statement_count; i++)
        if (count_statements(o->statements[i]) > 1)
            return 1;
    return 0;
}

static int run_all(struct session *s, const struct options *o)
{
    int status = STATUS_OK;
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
    int status = parse_args(&opts, argc, argv);

    if (status == STATUS_OK && opts.show_help)
        print_help();
    else if (status == STATUS_OK && opts.show_version)
        printf("mywire %s (libmywire %s)\n", MYWIRE_VERSION_STRING, mywire_version());
    if (status != STATUS_OK || opts.show_help || opts.show_version) {
        free(opts.statements);
        return finish_output(status);
    }

    if (mywire_conn_new(&session.conn) != MYWIRE_OK)
        die_nomem();
    session.format = opts.format;
    status = connect_with(session.conn, &opts, needs_multi_statements(&opts));
    if (status == STATUS_OK)
        status = run_all(&session, &opts);
    mywire_conn_free(session.conn);
    free(opts.statements);
    return finish_output(status);
}
