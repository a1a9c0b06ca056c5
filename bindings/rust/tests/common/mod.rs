// Shared by the integration tests: the test server from tests/server/mariadb.sh
// (its DIR/env exports the MYWIRE_TEST_* variables read here).
#![allow(dead_code)]

use mywire::{Connection, Options};

pub fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "environment variable {name} is not set: start the test server with \
             `tests/server/mariadb.sh start DIR` and `. DIR/env` (or run the meson suite 'bindings')"
        ),
    }
}

/// TCP options for the main test account and database.
pub fn tcp() -> Options {
    Options::new()
        .host(&env("MYWIRE_TEST_HOST"))
        .port(env("MYWIRE_TEST_PORT").parse().expect("MYWIRE_TEST_PORT is a port"))
        .user(&env("MYWIRE_TEST_USER"))
        .password(&env("MYWIRE_TEST_PASSWORD"))
        .database(&env("MYWIRE_TEST_DB"))
}

pub fn socket() -> Options {
    Options::new()
        .unix_socket(&env("MYWIRE_TEST_SOCKET"))
        .user(&env("MYWIRE_TEST_USER"))
        .password(&env("MYWIRE_TEST_PASSWORD"))
        .database(&env("MYWIRE_TEST_DB"))
}

pub fn connect() -> Connection {
    Connection::connect_with(&tcp()).expect("connect to the test server")
}

pub fn cert(file: &str) -> String {
    format!("{}/{}", env("MYWIRE_TEST_CERTS"), file)
}

/// A table name unique to this process and tag (tests run in parallel).
pub fn table(tag: &str) -> String {
    format!("rs_{}_{}", tag, std::process::id())
}

/// One scalar as text.
pub fn scalar(conn: &Connection, sql: &str) -> Option<String> {
    let mut res = conn.query(sql).expect(sql);
    let row = res.next_row().expect("a row");
    row.get_str(0).unwrap().map(str::to_string)
}

/// A line of /proc/self/status in KiB ("VmRSS", "VmHWM").
pub fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            return rest.trim().trim_end_matches("kB").trim().parse().expect("a number of kB");
        }
    }
    panic!("no {field} in /proc/self/status");
}

/// Wait until `sql` runs on the server as session `id` (seen from `monitor`).
pub fn wait_running(monitor: &Connection, id: u64, sql: &str) {
    let probe = format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id} AND INFO = '{sql}'");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if scalar(monitor, &probe).as_deref() == Some("1") {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{sql} never showed up as running");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
