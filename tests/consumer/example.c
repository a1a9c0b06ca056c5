/*
 * example.c - connect, run one query, print the rows.
 *
 *   cc example.c $(pkg-config --cflags --libs mywire) -o example
 *   ./example 'mysql://user:password@127.0.0.1:3306/database'
 *
 * Exits 0 only if the query returned 2, 'hello' and NULL.
 */
#include <mywire.h>
#include <stdio.h>
#include <string.h>

static int fail(mywire_conn *conn, const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, mywire_errstr(rc), mywire_errmsg(conn));
    mywire_conn_free(conn);
    return 1;
}

/* 1 if column i of the current row is exactly text. */
static int value_is(const mywire_result *res, unsigned i, const char *text)
{
    size_t len = 0;
    const char *value = mywire_get(res, i, &len);
    return value != NULL && len == strlen(text) && memcmp(value, text, len) == 0;
}

int main(int argc, char **argv)
{
    const char *sql = "SELECT 1+1, 'hello', NULL";
    mywire_conn *conn = NULL;
    mywire_result *res = NULL;
    unsigned i, columns;
    int rc, got_expected = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s mysql://user:password@host:port/database\n", argv[0]);
        return 2;
    }
    rc = mywire_conn_new(&conn);
    if (rc != MYWIRE_OK) {
        fprintf(stderr, "mywire_conn_new: %s\n", mywire_errstr(rc));
        return 1;
    }
    rc = mywire_connect_uri(conn, argv[1]);
    if (rc != MYWIRE_OK)
        return fail(conn, "connect", rc);
    printf("connected to %s\n", mywire_server_version(conn));

    rc = mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res);
    if (rc != MYWIRE_OK)
        return fail(conn, "query", rc);

    columns = mywire_column_count(res);
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        for (i = 0; i < columns; i++) {
            size_t len = 0;
            const char *value = mywire_get(res, i, &len);
            /* Values may contain NUL bytes: print len bytes, not a C string. */
            printf("%s: ", mywire_column_at(res, i)->name);
            if (value == NULL)
                printf("NULL\n");
            else
                printf("%.*s\n", (int)len, value);
        }
        got_expected = columns == 3 && value_is(res, 0, "2") && value_is(res, 1, "hello") &&
                       mywire_is_null(res, 2);
    }
    if (rc != MYWIRE_DONE) {
        mywire_result_free(res);
        return fail(conn, "fetch", rc);
    }
    mywire_result_free(res);
    mywire_conn_free(conn);

    if (!got_expected) {
        fprintf(stderr, "unexpected result\n");
        return 1;
    }
    return 0;
}
