// The safe wrapper against the real MariaDB of tests/server/mariadb.sh.
mod common;

use std::time::{Duration, Instant};

use common::*;
use mywire::{Connection, ErrorKind, Options, Param, RowResult, SslMode, Step, Time, TimeKind, ToParam};

#[test]
fn connect_tcp() {
    let conn = connect();
    assert!(conn.is_connected());
    assert_eq!(conn.transport(), "tcp");
    assert!(conn.is_mariadb());
    assert!(!conn.server_version().is_empty());
    assert!(conn.connection_id() > 0);
    assert_eq!(scalar(&conn, "SELECT 1 + 1").as_deref(), Some("2"));
    conn.ping().unwrap();
    conn.close();
}

#[test]
fn connect_unix_socket() {
    let conn = Connection::connect_with(&socket()).unwrap();
    assert_eq!(conn.transport(), "unix");
    assert!(!conn.tls_active(), "no TLS over a unix socket by default");
    assert_eq!(scalar(&conn, "SELECT DATABASE()"), Some(env("MYWIRE_TEST_DB")));
}

#[test]
fn connect_uri() {
    let uri = format!(
        "mysql://{}:{}@{}:{}/{}",
        env("MYWIRE_TEST_USER"),
        env("MYWIRE_TEST_PASSWORD"),
        env("MYWIRE_TEST_HOST"),
        env("MYWIRE_TEST_PORT"),
        env("MYWIRE_TEST_DB")
    );
    let conn = Connection::connect(&uri).unwrap();
    assert_eq!(scalar(&conn, "SELECT CURRENT_USER() LIKE 'mywire@%'").as_deref(), Some("1"));
}

#[test]
fn tls_verify_identity() {
    // The server certificate names DNS:localhost and IP:127.0.0.1.
    let opts = tcp().host("localhost").ssl_mode(SslMode::VerifyIdentity).ssl_ca(&cert("ca.pem"));
    let conn = Connection::connect_with(&opts).unwrap();
    assert!(conn.tls_active());
    assert!(conn.tls_verified());
    assert!(conn.tls_version().starts_with("TLSv1."), "{}", conn.tls_version());
    let cipher = scalar(&conn, "SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    assert!(cipher.is_some());

    // The same through the URI keys.
    let uri = format!(
        "mysql://{}:{}@localhost:{}/{}?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        env("MYWIRE_TEST_USER"),
        env("MYWIRE_TEST_PASSWORD"),
        env("MYWIRE_TEST_PORT"),
        env("MYWIRE_TEST_DB"),
        cert("ca.pem")
    );
    let conn = Connection::connect(&uri).unwrap();
    assert!(conn.tls_verified());

    // Another CA: refused, with the TLS code; the option names are checked.
    let err = Connection::connect_with(
        &tcp().host("localhost").ssl_mode(SslMode::VerifyIdentity).ssl_ca(&cert("wrongca.pem")),
    )
    .expect_err("a certificate from another CA is refused");
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.is_fatal());
    let err = Connection::connect_with(&tcp().set("no_such_option", "1")).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Option, "{err}");
}

#[test]
fn bad_login_and_bad_input() {
    let err = Connection::connect_with(&tcp().password("wrong")).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.server_errno(), 1045);
    assert_eq!(err.sqlstate(), "28000");
    let err = Connection::connect_with(&tcp().user("a\0b")).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Argument);
    let err = Connection::connect("http://nowhere").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Uri);
}

#[test]
fn server_error_with_number_and_sqlstate() {
    let conn = connect();
    let err = conn.query("SELECT * FROM no_such_table_here").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.code(), mywire::sys::MYWIRE_ERROR_SERVER);
    assert_eq!(err.server_errno(), 1146);
    assert_eq!(err.sqlstate(), "42S02");
    assert!(err.message().contains("no_such_table_here"), "{}", err.message());
    assert!(!err.is_fatal());
    let shown = err.to_string();
    assert!(shown.starts_with("ERROR 1146 (42S02): "), "{shown}");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed.to_string().contains("1146"));

    let err = conn.query("SELEKT 1").err().unwrap();
    assert_eq!((err.server_errno(), err.sqlstate()), (1064, "42000"));
    // The connection survives server errors.
    conn.ping().unwrap();
    let err = conn.prepare("SELECT * FROM no_such_table_here WHERE a = ?").err().unwrap();
    assert_eq!((err.server_errno(), err.sqlstate()), (1146, "42S02"));
    let err = conn.select_db("no_such_database_here").err().unwrap();
    assert_eq!(err.server_errno(), 1049);
    conn.select_db(&env("MYWIRE_TEST_DB")).unwrap();
}

const TYPES_TABLE: &str = "(id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, \
    ubi BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec_ DECIMAL(30,6), ch CHAR(10), vc VARCHAR(100), tx TEXT, \
    bl BLOB, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, bt BIT(64), js JSON, \
    en ENUM('a','b'), st SET('x','y'))";

fn insert_all_types(conn: &Connection, table: &str) {
    conn.execute(&format!("DROP TABLE IF EXISTS {table}")).unwrap();
    conn.execute(&format!("CREATE TABLE {table} {TYPES_TABLE}")).unwrap();
    let mut st = conn.prepare(&format!("INSERT INTO {table} VALUES ({})", ["?"; 23].join(","))).unwrap();
    assert_eq!(st.param_count(), 23);
    let blob: &[u8] = b"a\0b\xff\x00z";
    let values: [&dyn ToParam; 23] = [
        &1i32,
        &-128i8,
        &-32768i16,
        &-8388608i32,
        &i32::MIN,
        &i64::MIN,
        &u64::MAX,
        &1.5f32,
        &-2.25e100f64,
        &Param::Decimal("-123456789012345678.123456"),
        &"char",
        &String::from("vär\u{e7}har ✓"),
        &"text with 'quotes' and \\",
        &blob,
        &Time::date(2024, 2, 29),
        &Time::time(true, 838, 59, 58, 999999),
        &Time::datetime(1999, 12, 31, 23, 59, 59, 123456),
        &Time::datetime(2038, 1, 19, 3, 14, 7, 1),
        &2155u16,
        &Param::Bit(0x8000_0000_0000_0001),
        &Param::Json("{\"k\": [1, 2]}"),
        &"b",
        &"x,y",
    ];
    let res = st.execute(&values).unwrap();
    assert_eq!(res.affected_rows(), 1);
    // A row of NULLs (every type), bound as Option::None and Param::Null.
    let none: Option<i64> = None;
    let mut nulls: Vec<&dyn ToParam> = vec![&2i32];
    for k in 1..23 {
        nulls.push(if k % 2 == 0 { &none } else { &Param::Null });
    }
    st.execute(&nulls).unwrap();
}

fn check_all_types(row: &mywire::Row<'_>, binary: bool) {
    let what = if binary { "binary" } else { "text" };
    assert_eq!(row.len(), 23);
    assert_eq!(row.get_i64(0).unwrap(), Some(1));
    assert_eq!(row.get_i64(1).unwrap(), Some(-128));
    assert_eq!(row.get_as::<i8>(1).unwrap(), Some(-128));
    assert_eq!(row.get_i64(2).unwrap(), Some(-32768));
    assert_eq!(row.get_i64(3).unwrap(), Some(-8388608));
    assert_eq!(row.get_as::<i32>(4).unwrap(), Some(i32::MIN));
    assert_eq!(row.get_i64(5).unwrap(), Some(i64::MIN));
    assert_eq!(row.get_u64(6).unwrap(), Some(u64::MAX));
    assert_eq!(row.get_i64(6).unwrap_err().kind(), ErrorKind::Conversion, "{what}: u64::MAX as i64");
    assert_eq!(row.get_u64(5).unwrap_err().kind(), ErrorKind::Conversion, "{what}: i64::MIN as u64");
    assert_eq!(row.get_f64(7).unwrap(), Some(1.5));
    assert_eq!(row.get_i64(7).unwrap_err().kind(), ErrorKind::Conversion, "{what}: 1.5 as i64");
    assert_eq!(row.get_f64(8).unwrap(), Some(-2.25e100));
    assert_eq!(row.get_str(9).unwrap(), Some("-123456789012345678.123456"));
    assert_eq!(row.get_i64(9).unwrap_err().kind(), ErrorKind::Conversion, "{what}: a fraction as i64");
    assert!((row.get_f64(9).unwrap().unwrap() + 1.2345678901234568e17).abs() < 1e3);
    assert_eq!(row.get_str(10).unwrap(), Some("char"));
    assert_eq!(row.get_as::<String>(11).unwrap().as_deref(), Some("vär\u{e7}har ✓"));
    assert_eq!(row.get_str(12).unwrap(), Some("text with 'quotes' and \\"));
    assert_eq!(row.get_i64(12).unwrap_err().kind(), ErrorKind::Conversion);
    assert_eq!(row.get(13).unwrap(), Some(&b"a\0b\xff\x00z"[..]), "{what}: NUL bytes kept");
    assert_eq!(row.get_bytes(13).unwrap(), Some(&b"a\0b\xff\x00z"[..]));
    assert_eq!(row.get_str(13).unwrap_err().kind(), ErrorKind::Conversion, "{what}: not UTF-8");
    assert_eq!(row.get_time(14).unwrap(), Some(Time::date(2024, 2, 29)));
    assert_eq!(row.get_str(14).unwrap(), Some("2024-02-29"));
    assert_eq!(row.get_i64(14).unwrap_err().kind(), ErrorKind::Conversion, "{what}: a date as i64");
    let t = row.get_time(15).unwrap().unwrap();
    assert_eq!(
        (t.kind, t.negative, t.hour, t.minute, t.second, t.microsecond),
        (TimeKind::Time, true, 838, 59, 58, 999999)
    );
    assert_eq!(row.get_str(15).unwrap(), Some("-838:59:58.999999"));
    assert_eq!(row.get_time(16).unwrap(), Some(Time::datetime(1999, 12, 31, 23, 59, 59, 123456)));
    assert_eq!(row.get_str(16).unwrap(), Some("1999-12-31 23:59:59.123456"));
    assert_eq!(row.get_time(17).unwrap(), Some(Time::datetime(2038, 1, 19, 3, 14, 7, 1)));
    assert_eq!(row.get_time(1).unwrap_err().kind(), ErrorKind::Conversion, "{what}: an int as a time");
    assert_eq!(row.get_i64(18).unwrap(), Some(2155));
    assert_eq!(row.get_u64(19).unwrap(), Some(0x8000_0000_0000_0001));
    assert_eq!(row.get(19).unwrap(), Some(&[0x80u8, 0, 0, 0, 0, 0, 0, 1][..]));
    assert_eq!(row.get_str(20).unwrap(), Some("{\"k\": [1, 2]}"));
    assert_eq!(row.get_str(21).unwrap(), Some("b"));
    assert_eq!(row.get_str(22).unwrap(), Some("x,y"));
    assert_eq!(row.get(23).unwrap_err().kind(), ErrorKind::Argument);
    assert_eq!(row.get_i64(99).unwrap_err().kind(), ErrorKind::Argument);
}

fn check_nulls(row: &mywire::Row<'_>) {
    assert_eq!(row.get_i64(0).unwrap(), Some(2));
    for k in 1..23 {
        assert_eq!(row.get(k).unwrap(), None, "column {k}");
        assert_eq!(row.get_i64(k).unwrap(), None);
        assert_eq!(row.get_u64(k).unwrap(), None);
        assert_eq!(row.get_f64(k).unwrap(), None);
        assert_eq!(row.get_time(k).unwrap(), None);
        assert_eq!(row.get_bytes(k).unwrap(), None);
        assert_eq!(row.get_str(k).unwrap(), None);
    }
    assert_eq!(row.values().filter(Option::is_none).count(), 22);
}

#[test]
fn every_type_round_trips_through_both_protocols() {
    let conn = connect();
    let table = table("types");
    insert_all_types(&conn, &table);
    let sql = format!("SELECT * FROM {table} ORDER BY id");

    // Text protocol, buffered.
    let mut res = conn.query(&sql).unwrap();
    assert!(!res.is_binary());
    assert_eq!(res.row_count(), 2);
    let cols = res.columns();
    assert_eq!(cols.len(), 23);
    assert_eq!(cols[6].name, "ubi");
    assert!(cols[6].is_unsigned());
    assert_eq!(cols[13].column_type, mywire::sys::MYWIRE_TYPE_BLOB);
    check_all_types(&res.next_row().unwrap(), false);
    check_nulls(&res.next_row().unwrap());
    assert!(res.next_row().is_none());
    // Seek back and read again.
    res.seek(0).unwrap();
    check_all_types(&res.next_row().unwrap(), false);
    assert_eq!(res.seek(3).unwrap_err().kind(), ErrorKind::Argument);

    // Text protocol, streaming.
    let mut stream = conn.query_stream(&sql).unwrap();
    check_all_types(&stream.next_row().unwrap().unwrap(), false);
    check_nulls(&stream.next_row().unwrap().unwrap());
    assert!(stream.next_row().unwrap().is_none());
    drop(stream);

    // Binary protocol, buffered and streaming, with a parameter.
    let mut st = conn.prepare(&format!("SELECT * FROM {table} WHERE id >= ? ORDER BY id")).unwrap();
    assert_eq!(st.column_count(), 23);
    let mut res = st.execute(&[&0u8]).unwrap();
    assert!(res.is_binary());
    check_all_types(&res.next_row().unwrap(), true);
    check_nulls(&res.next_row().unwrap());
    let mut stream = st.execute_stream(&[&"1"]).unwrap();
    check_all_types(&stream.next_row().unwrap().unwrap(), true);
    check_nulls(&stream.next_row().unwrap().unwrap());
    assert!(stream.next_row().unwrap().is_none());
    drop(stream);
    conn.execute(&format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn prepared_statements_with_parameters() {
    let conn = connect();
    let table = table("stmt");
    conn.execute(&format!("CREATE OR REPLACE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(50), score DOUBLE)"))
        .unwrap();
    let mut ins = conn.prepare(&format!("INSERT INTO {table} VALUES (?, ?, ?)")).unwrap();
    for i in 0..20i64 {
        let name = format!("name-{i}");
        let score = if i % 5 == 0 { None } else { Some(i as f64 / 4.0) };
        let res = ins.execute(&[&i, &name, &score]).unwrap();
        assert_eq!(res.affected_rows(), 1);
    }
    // Wrong parameter count, an unbindable value: clear errors, nothing sent.
    assert_eq!(ins.execute(&[&1i64]).unwrap_err().kind(), ErrorKind::Argument);
    assert_eq!(ins.execute(&[&100i64, &"x", &f64::NAN]).unwrap_err().kind(), ErrorKind::Argument);
    assert_eq!(ins.bind(3, &1i64).unwrap_err().kind(), ErrorKind::Argument);
    // A duplicate key: the server's error, the statement still usable.
    let err = ins.execute(&[&1i64, &"dup", &1.0]).unwrap_err();
    assert_eq!((err.server_errno(), err.sqlstate()), (1062, "23000"));

    // A batch (MariaDB bulk execution).
    for i in 100..1100i64 {
        ins.add_batch(&[&i, &"batch", &0.5]).unwrap();
    }
    assert_eq!(ins.batch_size(), 1000);
    assert_eq!(ins.execute_batch().unwrap(), 1000);
    assert_eq!(ins.batch_size(), 0);
    assert_eq!(scalar(&conn, &format!("SELECT COUNT(*) FROM {table} WHERE name = 'batch'")).as_deref(), Some("1000"));

    let mut sel =
        conn.prepare(&format!("SELECT id, name, score FROM {table} WHERE id BETWEEN ? AND ? ORDER BY id")).unwrap();
    let mut res = sel.execute(&[&3i32, &6u64]).unwrap();
    let mut got = Vec::new();
    while let Some(row) = res.next_row() {
        got.push((
            row.get_i64(0).unwrap().unwrap(),
            row.get_as::<String>(1).unwrap().unwrap(),
            row.get_f64(2).unwrap(),
        ));
    }
    assert_eq!(
        got,
        vec![
            (3, "name-3".into(), Some(0.75)),
            (4, "name-4".into(), Some(1.0)),
            (5, "name-5".into(), None),
            (6, "name-6".into(), Some(1.5))
        ]
    );
    // Executed again with other values; a cursor of 7 rows per fetch.
    sel.set_cursor(7).unwrap();
    assert_eq!(sel.execute(&[&0, &2000]).unwrap_err().kind(), ErrorKind::Argument);
    let mut stream = sel.execute_stream(&[&100i64, &1099i64]).unwrap();
    let mut n = 0;
    let mut ids = 0i64;
    stream
        .for_each_row(|row| {
            n += 1;
            ids += row.get_i64(0)?.unwrap();
            Ok(())
        })
        .unwrap();
    assert_eq!((n, ids), (1000, (100..1100).sum()));
    drop(stream);
    sel.set_cursor(0).unwrap();
    assert_eq!(sel.execute(&[&0, &0]).unwrap().row_count(), 1);
    conn.execute(&format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn commands_wait_for_an_open_stream() {
    let conn = connect();
    let mut stream = conn.query_stream("SELECT seq FROM seq_1_to_10").unwrap();
    assert_eq!(stream.next_row().unwrap().unwrap().get_i64(0).unwrap(), Some(1));
    // Refused while the stream is open (it would invalidate its row).
    assert_eq!(conn.query("SELECT 1").err().unwrap().kind(), ErrorKind::OutOfSync);
    assert_eq!(conn.ping().unwrap_err().kind(), ErrorKind::OutOfSync);
    assert_eq!(conn.prepare("SELECT 1").err().unwrap().kind(), ErrorKind::OutOfSync);
    stream.finish().unwrap();
    assert!(conn.is_connected());
    assert_eq!(scalar(&conn, "SELECT 2").as_deref(), Some("2"));
}

#[test]
fn multi_results_reset_and_select_db() {
    let conn = Connection::connect_with(&tcp().set("multi_statements", "1")).unwrap();
    let mut res = conn.query("SELECT 1; SELECT 'two', 2; DO 0").unwrap();
    assert_eq!(res.next_row().unwrap().get_i64(0).unwrap(), Some(1));
    assert!(conn.more_results());
    let mut second = conn.next_result().unwrap().unwrap();
    assert_eq!(second.next_row().unwrap().get_str(0).unwrap(), Some("two"));
    let third = conn.next_result().unwrap().unwrap();
    assert_eq!(third.column_count(), 0);
    assert!(conn.next_result().unwrap().is_none());
    // The same, streaming.
    let mut first = conn.query_stream("SELECT seq FROM seq_1_to_3; SELECT 'b'").unwrap();
    assert_eq!(first.next_row().unwrap().unwrap().get_i64(0).unwrap(), Some(1));
    assert_eq!(conn.next_result_stream().unwrap_err().kind(), ErrorKind::OutOfSync, "the first is still open");
    first.finish().unwrap();
    let mut second = conn.next_result_stream().unwrap().unwrap();
    assert_eq!(second.next_row().unwrap().unwrap().get_str(0).unwrap(), Some("b"));
    assert!(second.next_row().unwrap().is_none());
    drop(second);
    assert!(conn.next_result_stream().unwrap().is_none());

    conn.execute("SET @v = 42").unwrap();
    let mut st = conn.prepare("SELECT ?").unwrap();
    conn.reset().unwrap();
    assert_eq!(scalar(&conn, "SELECT @v"), None, "reset cleared the session");
    // A statement from before the reset: a clear error, then prepare again.
    assert_eq!(st.execute(&[&1]).unwrap_err().kind(), ErrorKind::State);
    drop(st);
    conn.select_db("information_schema").unwrap();
    assert_eq!(scalar(&conn, "SELECT DATABASE()").as_deref(), Some("information_schema"));
}

#[test]
fn cancel_from_another_thread() {
    const SQL: &str = "SELECT SLEEP(30)";
    let conn = connect();
    let monitor = connect();
    let id = conn.connection_id();
    let cancel = conn.cancel_handle();
    let started = Instant::now();
    let worker = std::thread::spawn(move || {
        wait_running(&monitor, id, SQL);
        cancel.cancel()
    });
    let err = conn.query(SQL).expect_err("the query is cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert_eq!(err.client_error(), mywire::sys::MYWIRE_CLIENT_ERROR_CANCELLED);
    worker.join().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    // The connection stays usable.
    assert_eq!(scalar(&conn, "SELECT 3").as_deref(), Some("3"));

    // A cancel with nothing running changes nothing.
    conn.cancel_handle().cancel().unwrap();
    conn.ping().unwrap();
}

#[test]
fn cancel_a_stream_and_a_statement() {
    const SQL: &str = "SELECT SLEEP(31)";
    let conn = connect();
    let id = conn.connection_id();
    let mut st = conn.prepare(SQL).unwrap();
    for streaming in [true, false] {
        let cancel = conn.cancel_handle();
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                wait_running(&connect(), id, SQL);
                cancel.cancel()
            });
            let err = if streaming {
                // The head may come before the sleep ends: then the row's fetch fails.
                match conn.query_stream(SQL) {
                    Err(e) => e.kind(),
                    Ok(mut stream) => stream.next_row().expect_err("cancelled").kind(),
                }
            } else {
                st.execute(&[]).expect_err("cancelled").kind()
            };
            assert_eq!(err, ErrorKind::Cancelled, "streaming: {streaming}");
            worker.join().unwrap().unwrap();
        });
        conn.ping().unwrap();
    }
}

#[test]
fn a_server_error_in_the_middle_of_a_stream() {
    // Row 5000's scalar subquery returns two rows: ER_SUBQUERY_NO_1_ROW ends
    // the result after 4999 rows.
    let conn = connect();
    let sql = "SELECT seq, IF(seq = 5000, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_10000";
    let mut stream = conn.query_stream(sql).unwrap();
    let mut n = 0;
    let err = loop {
        match stream.next_row() {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("no error after {n} rows"),
            Err(e) => break e,
        }
    };
    assert_eq!((err.server_errno(), err.sqlstate()), (1242, "21000"), "{err}");
    assert!(n < 5000, "{n} rows before the error");
    // Sticky, and the connection survives.
    assert_eq!(stream.next_row().unwrap_err().server_errno(), 1242);
    drop(stream);
    assert!(conn.is_connected());
    conn.ping().unwrap();
    // The same through a statement, streaming with a cursor, then buffered.
    let mut st = conn.prepare(sql).unwrap();
    st.set_cursor(100).unwrap();
    let mut stream = st.execute_stream(&[]).unwrap();
    let err = loop {
        match stream.next_row() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.server_errno(), 1242);
    drop(stream);
    st.set_cursor(0).unwrap();
    let err = st.execute(&[]).unwrap_err();
    assert_eq!(err.server_errno(), 1242);
    conn.ping().unwrap();
}

#[test]
fn a_cursor_dropped_half_read() {
    let conn = connect();
    let mut st = conn.prepare("SELECT seq FROM seq_1_to_100000 WHERE seq > ?").unwrap();
    st.set_cursor(10).unwrap();
    let mut stream = st.execute_stream(&[&0]).unwrap();
    for want in 1..=25 {
        assert_eq!(stream.next_row().unwrap().unwrap().get_i64(0).unwrap(), Some(want));
    }
    let started = Instant::now();
    drop(stream);
    assert!(started.elapsed() < Duration::from_millis(500));
    // Discarding never reads: the rest of the batch is unread on the wire,
    // so the connection is closed; the statement says so, reconnecting works.
    assert!(!conn.is_connected());
    assert_eq!(st.execute_stream(&[&0]).unwrap_err().kind(), ErrorKind::State);
    conn.reconnect().unwrap();
    assert_eq!(st.execute_stream(&[&0]).unwrap_err().kind(), ErrorKind::State, "prepared on the old session");
    drop(st);
    let mut st = conn.prepare("SELECT seq FROM seq_1_to_100000 WHERE seq > ?").unwrap();
    st.set_cursor(10).unwrap();
    let mut stream = st.execute_stream(&[&99990]).unwrap();
    let mut n = 0;
    while stream.next_row().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 10);
}

fn stmt_executes(conn: &Connection) -> u64 {
    scalar(
        conn,
        "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'COM_STMT_EXECUTE'",
    )
    .unwrap()
    .parse()
    .unwrap()
}

#[test]
fn batch_row_results() {
    let conn = connect();
    let table = table("rowres");
    conn.execute(&format!("CREATE OR REPLACE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")).unwrap();
    conn.execute(&format!("INSERT INTO {table} (id, v) VALUES (100, 0)")).unwrap();
    let count = format!("SELECT COUNT(*) FROM {table}");
    let mut ins = conn.prepare(&format!("INSERT INTO {table} (v) VALUES (?)")).unwrap();
    for v in 1..=3i32 {
        ins.add_batch(&[&v]).unwrap();
    }
    // Not asked for: refused before anything is sent, the batch kept.
    assert!(!ins.row_results());
    assert_eq!(ins.execute_batch_rows().unwrap_err().kind(), ErrorKind::Argument);
    assert_eq!(ins.batch_size(), 3);
    assert_eq!(scalar(&conn, &count).as_deref(), Some("1"));

    // Each row's insert id, in order.
    ins.set_row_results(true).unwrap();
    assert!(ins.row_results());
    let rows = ins.execute_batch_rows().unwrap();
    let ids: Vec<u64> = rows.iter().map(|r| r.insert_id).collect();
    assert_eq!(ids, [101, 102, 103]);
    assert!(rows.iter().all(|r| r.affected_rows == 1), "{rows:?}");
    assert_eq!(ins.batch_size(), 0);
    assert_eq!(scalar(&conn, &count).as_deref(), Some("4"));

    // Affected rows per row: an UPDATE matching 4, 0 and 2 rows.
    let mut upd = conn.prepare(&format!("UPDATE {table} SET v = v + 10 WHERE v >= ?")).unwrap();
    upd.set_row_results(true).unwrap();
    for from in [0i32, 1000, 12] {
        upd.add_batch(&[&from]).unwrap();
    }
    assert_eq!(
        upd.execute_batch_rows().unwrap(),
        vec![
            RowResult { affected_rows: 4, insert_id: 0 },
            RowResult { affected_rows: 0, insert_id: 0 },
            RowResult { affected_rows: 2, insert_id: 0 }, // v is 10, 11, 12, 13 after row 0
        ]
    );
    // execute_batch with them on still gives the total.
    for from in [12i32, 1000] {
        upd.add_batch(&[&from]).unwrap();
    }
    assert_eq!(upd.execute_batch().unwrap(), 2);

    // A failing row: the server's error; the rows before it were applied.
    ins.add_batch(&[&7i32]).unwrap();
    conn.execute(&format!("ALTER TABLE {table} ADD UNIQUE (v)")).unwrap();
    ins.add_batch(&[&7i32]).unwrap();
    let err = ins.execute_batch_rows().unwrap_err();
    assert_eq!(err.server_errno(), 1062);
    assert_eq!(scalar(&conn, &format!("SELECT COUNT(*) FROM {table} WHERE v = 7")).as_deref(), Some("1"));
    ins.clear_batch().unwrap();

    // Off again: one bulk request for the whole batch, and execute_batch_rows refused.
    ins.set_row_results(false).unwrap();
    for v in [20i32, 21] {
        ins.add_batch(&[&v]).unwrap();
    }
    assert_eq!(ins.execute_batch_rows().unwrap_err().kind(), ErrorKind::Argument);
    let before = stmt_executes(&conn);
    assert_eq!(ins.execute_batch().unwrap(), 2);
    assert_eq!(stmt_executes(&conn) - before, 1);
    conn.execute(&format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn abort_from_another_thread_and_reconnect() {
    const SQL: &str = "SELECT SLEEP(29)";
    let conn = connect();
    let monitor = connect();
    let id = conn.connection_id();
    let cancel = conn.cancel_handle();
    let worker = std::thread::spawn(move || {
        wait_running(&monitor, id, SQL);
        cancel.abort().unwrap();
        // Stop the statement on the server too.
        monitor.execute(&format!("KILL QUERY {id}")).unwrap();
    });
    let err = conn.query(SQL).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(err.client_error(), mywire::sys::MYWIRE_CLIENT_ERROR_ABORTED);
    assert!(!conn.is_connected());
    worker.join().unwrap();
    conn.reconnect().unwrap();
    assert_eq!(scalar(&conn, "SELECT 4").as_deref(), Some("4"));
}

#[test]
fn connection_moves_to_another_thread() {
    let conn = connect();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let v = scalar(&conn, "SELECT 'moved'");
        tx.send(conn).unwrap(); // and back
        v
    });
    assert_eq!(t.join().unwrap().as_deref(), Some("moved"));
    let conn = rx.recv().unwrap();
    let res = conn.query("SELECT 5").unwrap();
    // A buffered result moves alone.
    let t = std::thread::spawn(move || {
        let mut res = res;
        let v = res.next_row().unwrap().get_i64(0).unwrap();
        v
    });
    assert_eq!(t.join().unwrap(), Some(5));
}

#[test]
fn closing_in_the_wrong_order() {
    // A buffered result outlives its connection (and statement): still readable.
    let conn = connect();
    let mut res = conn.query("SELECT seq, REPEAT('r', seq) FROM seq_1_to_3").unwrap();
    let mut st = conn.prepare("SELECT ?, ?").unwrap();
    let mut bin = st.execute(&[&7i64, &"seven"]).unwrap();
    let cancel = conn.cancel_handle();
    drop(st);
    let started = Instant::now();
    drop(conn);
    assert!(started.elapsed() < Duration::from_millis(500), "dropping a connection does not wait");
    assert_eq!(res.next_row().unwrap().get_str(1).unwrap(), Some("r"));
    assert_eq!(res.collect_rows().len(), 2);
    let row = bin.next_row().unwrap();
    assert_eq!((row.get_i64(0).unwrap(), row.get_str(1).unwrap()), (Some(7), Some("seven")));
    drop(res);
    // A cancel handle that outlives its connection: an error, no crash.
    assert_eq!(cancel.cancel().unwrap_err().kind(), ErrorKind::State);
    // An abort is only a wake-up: it works on a closed handle, never blocks.
    cancel.abort().unwrap();
    drop(cancel);
    drop(bin);

    // A stream dropped before its end: no draining (fast even with a million
    // rows unread), the connection is closed, and can connect again.
    let conn = connect();
    let mut stream = conn.query_stream("SELECT seq, REPEAT('x', 200) FROM seq_1_to_1000000").unwrap();
    assert!(stream.next_row().unwrap().is_some());
    let started = Instant::now();
    drop(stream);
    assert!(started.elapsed() < Duration::from_millis(500), "dropping a stream does not drain it");
    assert_eq!(conn.ping().unwrap_err().kind(), ErrorKind::State);
    conn.reconnect().unwrap();
    conn.ping().unwrap();

    // Connection dropped while a cancel handle lives and a statement was freed
    // while a stream of another query was open.
    let cancel = conn.cancel_handle();
    let st = conn.prepare("SELECT 1").unwrap();
    let stream = conn.query_stream("SELECT seq FROM seq_1_to_100").unwrap();
    drop(st);
    stream.finish().unwrap();
    let started = Instant::now();
    drop(conn);
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(cancel.cancel().unwrap_err().kind(), ErrorKind::State);

    // A connection dropped in a finalizer-like place: another thread, while
    // its results live on here.
    let conn = connect();
    let mut res = conn.query("SELECT 'kept'").unwrap();
    std::thread::spawn(move || drop(conn)).join().unwrap();
    assert_eq!(res.next_row().unwrap().get_str(0).unwrap(), Some("kept"));
}

#[test]
fn long_data_and_escaping() {
    let conn = connect();
    let mut st = conn.prepare("SELECT LENGTH(?), MD5(?) = MD5(REPEAT('ab', 300000)), ?").unwrap();
    for k in 0..2 {
        for _ in 0..3 {
            st.send_long_data(k, "ab".repeat(100000).as_bytes()).unwrap();
        }
    }
    let mut res = st.execute(&[&Param::LongData, &Param::LongData, &"short"]).unwrap();
    let row = res.next_row().unwrap();
    assert_eq!((row.get_i64(0).unwrap(), row.get_i64(1).unwrap()), (Some(600000), Some(1)));
    assert_eq!(row.get_str(2).unwrap(), Some("short"));
    // Used once: the parameter must be sent or bound again.
    assert_eq!(st.execute(&[&Param::LongData, &1, &2]).unwrap_err().kind(), ErrorKind::Argument);
    assert_eq!(st.send_long_data(7, b"x").unwrap_err().kind(), ErrorKind::Argument);

    let hostile = b"it's \\ a \"test\"\0\n\x1a";
    let escaped = conn.escape_string(hostile).unwrap();
    let sql = format!("SELECT '{}'", String::from_utf8(escaped).unwrap());
    let mut res = conn.query(&sql).unwrap();
    assert_eq!(res.next_row().unwrap().get(0).unwrap(), Some(&hostile[..]));
}

#[test]
fn pipelines() {
    let conn = Connection::connect_with(&tcp().set("multi_statements", "1")).unwrap();
    let table = table("pipe");
    let create = format!("CREATE OR REPLACE TABLE {table} (a INT PRIMARY KEY)");
    let insert = format!("INSERT INTO {table} VALUES (1), (2)");
    let dup = format!("INSERT INTO {table} VALUES (1)");
    let select = format!("SELECT a FROM {table} ORDER BY a; SELECT COUNT(*) FROM {table}");
    let steps = [
        Step::Query(&create),
        Step::Query(&insert),
        Step::Query(&dup),
        Step::Ping,
        Step::Query(&select),
        Step::SelectDb("no_such_database_here"),
        Step::Reset,
    ];
    let mut out = conn.pipeline(&steps).unwrap();
    assert_eq!(out.len(), 7);
    assert_eq!(out[1].as_ref().unwrap()[0].affected_rows(), 2);
    let err = out[2].as_ref().unwrap_err();
    assert_eq!((err.kind(), err.server_errno(), err.sqlstate()), (ErrorKind::Server, 1062, "23000"));
    assert!(out[3].as_ref().unwrap().is_empty());
    let results = out[4].as_mut().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].collect_rows().len(), 2);
    assert_eq!(results[1].next_row().unwrap().get_i64(0).unwrap(), Some(2));
    assert_eq!(out[5].as_ref().unwrap_err().server_errno(), 1049);
    assert!(out[6].is_ok());
    drop(conn); // the results outlive the connection
    assert_eq!(out[4].as_mut().unwrap()[0].row_count(), 2);

    let conn = connect();
    let stream = conn.query_stream("SELECT 1").unwrap();
    assert_eq!(conn.pipeline(&[Step::Ping]).unwrap_err().kind(), ErrorKind::OutOfSync);
    stream.finish().unwrap();
    conn.execute(&format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn thread_traits() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<Connection>(); // but not Sync: see the compile_fail doc tests
    send::<mywire::QueryResult>();
    send_sync::<mywire::CancelHandle>();
    send_sync::<mywire::Error>();
}

#[test]
fn options_builder_hides_passwords() {
    let o = Options::new().user("u").password("secret-pw");
    assert!(!format!("{o:?}").contains("secret-pw"));
}
