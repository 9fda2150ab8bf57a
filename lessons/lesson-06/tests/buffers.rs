//! lesson-06's experiments report real measurements; these tests check that
//! the numbers are consistent with each other and with what the kernel says.

use assert_cmd::Command;
use netcore::testing::TIMEOUT;

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_lesson-06"))
        .args(args)
        .timeout(TIMEOUT * 3)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// The numbers on the line that contains `label`.
fn numbers(out: &str, label: &str) -> Vec<u64> {
    let line = out
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no line with {label:?} in\n{out}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn experiment_1_reads_back_what_the_kernel_chose() {
    let out = run(&["1"]);
    let defaults = numbers(&out, "a connected socket starts with");
    assert!(defaults.iter().all(|&n| n > 0), "{out}");
    let row = numbers(&out, "        4096 ");
    assert_eq!(row[0], 4096);
    if cfg!(target_os = "linux") {
        // socket2's own tests assert the same: Linux doubles the request.
        assert_eq!(&row[1..], &[8192, 8192], "{out}");
        let tiny = numbers(&out, "           1 ");
        assert!(tiny[1] > 1 && tiny[2] > 1, "Linux has a minimum: {out}");
    }
    assert!(!out.contains("2. send()"), "one experiment only");
}

#[test]
fn experiment_2_send_returns_before_the_peer_reads() {
    let out = run(&["2"]);
    assert!(out.contains("client.send(1000 bytes) -> 1000"), "{out}");
    if cfg!(unix) {
        assert_eq!(numbers(&out, "unread bytes (SIOCINQ)"), [1000], "{out}");
        assert_eq!(numbers(&out, "the receive buffer now holds"), [0], "{out}");
    }
    assert!(out.contains("conn.recv(1024) -> 1000 bytes"), "{out}");
}

#[test]
fn experiment_3_the_two_buffers_hold_everything_sent() {
    let out = run(&["3"]);
    let total = numbers(&out, "send() would block after")[0];
    assert!(total > 0, "{out}");
    if cfg!(target_os = "linux") {
        let outq = numbers(&out, "(SIOCOUTQ)")[0];
        let inq = numbers(&out, "(SIOCINQ)")[0];
        assert!(outq > 0 && inq > 0, "{out}");
        assert_eq!(
            outq + inq,
            total,
            "every byte sent is in one of the two buffers: {out}"
        );
        // Progress lines show the buffers filling.
        assert!(out.contains("send buffer [#"), "{out}");
    }
}

#[test]
fn experiment_4_shows_no_message_boundaries() {
    let out = run(&["4"]);
    assert!(
        out.contains("conn.recv(1024) -> b'helloworld' (10 bytes)"),
        "{out}"
    );
    // "conn.recv(1024) had to be called N times: [sizes]"
    let numbers = numbers(&out, "had to be called");
    let (count, sizes) = (numbers[1], &numbers[2..]);
    assert!(count >= 10, "at least 10 calls for 10000 bytes: {out}");
    assert_eq!(sizes.len() as u64, count, "{out}");
    assert_eq!(sizes.iter().sum::<u64>(), 10_000, "{out}");
    assert!(sizes.iter().all(|&n| n <= 1024), "{out}");
}

#[test]
fn experiment_5_a_nonblocking_send_is_partial_and_the_loop_finishes() {
    let out = run(&["5"]);
    let first = numbers(&out, "client.send(4 MiB) ->")[1];
    assert!(first > 0 && first < 4 * 1024 * 1024, "{out}");
    assert!(numbers(&out, "sending all 4 MiB took")[1] >= 2, "{out}");
    assert!(
        out.contains("the server received 4194304 of 4194304 bytes"),
        "{out}"
    );
}

#[test]
fn experiment_6_reports_three_read_sizes_and_writes_a_chart() {
    let dir = std::env::temp_dir().join(format!("lesson-06-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("throughput.svg");
    let out = run(&[
        "6",
        "--bytes",
        "4194304",
        "--runs",
        "1",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    // 4 MiB read 1 KiB at a time is at least 4096 recv calls.
    let row = numbers(&out, "    1 KiB ");
    assert!(row[1] >= 4096, "{out}");
    for size in ["   64 KiB ", "    1 MiB "] {
        let row = numbers(&out, size);
        assert!(row[1] >= 4, "{out}");
    }
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.contains("recv(1 KiB)") && chart.contains("recv(1 MiB)"),
        "{chart}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_experiment_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_lesson-06"))
        .arg("7")
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8(output.stderr).unwrap().lines().count(), 1);
}
