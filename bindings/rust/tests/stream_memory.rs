// A million rows read through a Stream in constant memory, text and binary
// protocol. Alone in its test binary: VmHWM is the whole process's peak, so
// no other test may run next to it.
mod common;

use common::*;

const ROWS: u64 = 1_000_000;
// About 120 bytes a row: 120 MB if anything kept the rows.
const SQL: &str = "SELECT seq, REPEAT('x', 100), seq * 0.5, NULL FROM seq_1_to_1000000";
// The most the peak may grow while streaming (buffers, allocator slack).
const MAX_GROWTH_KIB: u64 = 16 * 1024;

fn read_all(stream: &mut mywire::Stream<'_>) -> (u64, u64) {
    let (mut n, mut sum) = (0u64, 0u64);
    let mut rss_at_10k = 0;
    while let Some(row) = stream.next_row().unwrap() {
        n += 1;
        sum += row.get_u64(0).unwrap().unwrap();
        assert_eq!(row.get(1).unwrap().map(<[u8]>::len), Some(100));
        assert_eq!(row.get(3).unwrap(), None);
        if n == 10_000 {
            rss_at_10k = status_kib("VmRSS");
        }
    }
    let rss_end = status_kib("VmRSS");
    assert!(
        rss_end < rss_at_10k + MAX_GROWTH_KIB,
        "VmRSS grew from {rss_at_10k} KiB (row 10000) to {rss_end} KiB (row {n})"
    );
    (n, sum)
}

#[test]
fn a_million_rows_in_constant_memory() {
    let conn = connect();
    let hwm_before = status_kib("VmHWM");

    let mut stream = conn.query_stream(SQL).unwrap();
    assert_eq!(read_all(&mut stream), (ROWS, ROWS * (ROWS + 1) / 2));
    assert_eq!(stream.row_count(), ROWS);
    assert!(stream.is_done());
    drop(stream);
    let hwm_text = status_kib("VmHWM");

    let mut st = conn.prepare(SQL).unwrap();
    let mut stream = st.execute_stream(&[]).unwrap();
    assert!(stream.is_binary());
    assert_eq!(read_all(&mut stream), (ROWS, ROWS * (ROWS + 1) / 2));
    drop(stream);
    let hwm_binary = status_kib("VmHWM");

    eprintln!(
        "VmHWM: {hwm_before} KiB before, {hwm_text} KiB after the text stream, {hwm_binary} KiB after the binary one"
    );
    assert!(hwm_binary < hwm_before + MAX_GROWTH_KIB, "the peak grew by {} KiB", hwm_binary - hwm_before);
}
