//! Smoke test of the benchmarks: each `loadgen` mode against the real
//! lessons with tiny counts, and `bench --quick`, checking that the figures
//! they report are there, positive and consistent (not that they are fast:
//! speed is shown by the benchmark, never asserted by a test).

use std::collections::BTreeMap;
use std::process::{Command, Output};

use testkit::{Process, TIMEOUT, cargo_bin, cargo_bin_of};

/// Runs `loadgen ARGS` to completion and returns its output.
fn loadgen(args: &[&str]) -> Output {
    Command::new(cargo_bin("loadgen"))
        .args(args)
        .output()
        .expect("cannot run loadgen")
}

/// The `name: value` lines of a successful run, as numbers where they are.
fn figures(output: &Output) -> BTreeMap<String, String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn number(figures: &BTreeMap<String, String>, name: &str) -> f64 {
    let value = figures
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {figures:?}"));
    let n: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number: {value:?}"));
    assert!(n.is_finite() && n >= 0.0, "{name} = {n}");
    n
}

fn lesson_05(extra: &[&str]) -> Process {
    server(cargo_bin("lesson-05"), extra)
}

/// lesson-05's hardened server, which has the flags.
fn hardened(extra: &[&str]) -> Process {
    server(cargo_bin_of("lesson-05", "hardened"), extra)
}

fn server(binary: std::path::PathBuf, extra: &[&str]) -> Process {
    let mut command = Command::new(binary);
    command
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(extra);
    Process::start_server(command).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn pingpong_verifies_every_reply_and_reports_rate_latency_and_server_cpu() {
    let server = lesson_05(&[]);
    let port = server.addr().port().to_string();
    let pid = server.id().to_string();
    let out = loadgen(&[
        "pingpong",
        "--port",
        &port,
        "--clients",
        "2",
        "--messages",
        "3",
        "--pid",
        &pid,
    ]);
    let f = figures(&out);
    assert_eq!(number(&f, "clients_completed"), 2.0);
    assert_eq!(number(&f, "replies_verified"), 6.0);
    assert!(number(&f, "msgs_per_s") > 0.0);
    let (p50, p99) = (number(&f, "p50_us"), number(&f, "p99_us"));
    assert!(p50 > 0.0 && p99 >= p50, "p50 {p50}, p99 {p99}");
    let cpu = number(&f, "server_cpu_us_per_msg");
    let parts = number(&f, "server_user_us_per_msg") + number(&f, "server_system_us_per_msg");
    assert!((cpu - parts).abs() < 0.02, "{cpu} != user + system {parts}");
}

#[test]
fn pingpong_reports_a_wrong_reply_as_a_failure() {
    let server = lesson_05(&[]);
    let port = server.addr().port().to_string();
    let out = loadgen(&[
        "pingpong",
        "--port",
        &port,
        "--clients",
        "1",
        "--messages",
        "1",
        "--reply",
        "not what it says",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong reply"), "{stderr}");
}

#[test]
fn bulk_sends_to_lesson_06_sink_and_checks_its_count() {
    let mut command = Command::new(cargo_bin("lesson-06"));
    command.args([
        "sink",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--read-size",
        "1024",
    ]);
    let mut sink = Process::start_server(command).unwrap_or_else(|err| panic!("{err}"));
    let port = sink.addr().port().to_string();
    let out = loadgen(&[
        "bulk", "--port", &port, "--bytes", "1048576", "--chunk", "65536",
    ]);
    let f = figures(&out);
    assert_eq!(number(&f, "bytes_sent"), 1_048_576.0);
    assert_eq!(number(&f, "writes"), 16.0);
    assert_eq!(f["sink_reply"], "1048576");
    assert_eq!(f["verified"], "yes");
    assert!(number(&f, "mb_per_s") > 0.0);
    assert!(number(&f, "elapsed_s") > 0.0);
    assert!(sink.wait(TIMEOUT).unwrap().success());
    let stdout = String::from_utf8_lossy(sink.stdout()).into_owned();
    assert!(stdout.contains("after 1048576 bytes"), "{stdout}");
}

#[test]
fn idle_holds_silent_connections_and_reads_the_servers_memory_and_threads() {
    let server = hardened(&["--quiet"]);
    let port = server.addr().port().to_string();
    let pid = server.id().to_string();
    let out = loadgen(&[
        "idle",
        "--port",
        &port,
        "--clients",
        "5",
        "--seconds",
        "1",
        "--pid",
        &pid,
    ]);
    let f = figures(&out);
    assert_eq!(number(&f, "opened"), 5.0);
    assert_eq!(number(&f, "still_open"), 5.0);
    // A thread per client, besides the accepting and signal threads.
    assert!(number(&f, "server_threads") >= 7.0, "{f:?}");
    assert!(number(&f, "server_rss_kib") >= number(&f, "server_rss_before_kib"));
    assert!(number(&f, "server_rss_before_kib") > 0.0);
}

#[test]
fn idle_sees_connections_the_server_closes() {
    // --max-clients 2, both places open to one address: the other three
    // are told "busy" and closed.
    let server = hardened(&["--max-clients", "2", "--max-per-address", "2"]);
    let port = server.addr().port().to_string();
    let out = loadgen(&["idle", "--port", &port, "--clients", "5", "--seconds", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("still_open: 2\n"), "{stdout}");
}

#[test]
fn loadgen_refuses_other_hosts_and_bad_modes_as_usage_errors() {
    for (args, expected) in [
        (
            &["pingpong", "--host", "10.0.0.1", "--port", "80"][..],
            "not a loopback address",
        ),
        (&["idle", "--host", "192.0.2.7"], "not a loopback address"),
        (&["flood", "--port", "80"], "unknown mode 'flood'"),
        (&["--port", "80"], "which mode?"),
        (&["bulk", "--port", "80", "--clients", "3"], "--clients"),
        (&["pingpong", "--port", "0"], "--port 0"),
    ] {
        let out = loadgen(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn bench_quick_prints_every_table_with_sane_figures() {
    // Built for the test profile's lessons, beside this test.
    cargo_bin("lesson-05");
    cargo_bin_of("lesson-05", "hardened");
    cargo_bin("lesson-06");
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--quick")
        .output()
        .expect("cannot run bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench --quick failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for heading in [
        "## 1. lesson-05 against the tutorial's Python server",
        "## 2. The cost of logging every message",
        "## 3. Idle clients",
        "## 4. lesson-06's transfer",
        "## 5. Cold builds of the lessons",
        "## Targets",
    ] {
        assert!(stdout.contains(heading), "no {heading:?} in:\n{stdout}");
    }
    // Every row of lesson-05's two servers has a positive msgs/s, and p99 >= p50.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| lesson-05 ") || l.starts_with("| hardened"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert!(rows.len() >= 4, "{stdout}");
    let first = |cell: &str| -> f64 {
        cell.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(-1.0)
    };
    for row in rows
        .iter()
        .filter(|r| r.len() > 8 && r[2].parse::<u32>().is_ok())
    {
        let (rate, p50, p99) = (first(row[3]), first(row[4]), first(row[5]));
        assert!(
            rate > 0.0 && p50 > 0.0 && p99 >= p50,
            "{row:?} in:\n{stdout}"
        );
    }
    // The transfer table: three read sizes, each positive.
    let rates: Vec<f64> = stdout
        .lines()
        .filter(|l| l.starts_with("| lesson-06 sink"))
        .map(|l| first(l.split('|').nth(3).unwrap_or("").trim()))
        .collect();
    assert_eq!(rates.len(), 3, "{stdout}");
    assert!(rates.iter().all(|&r| r > 0.0), "{rates:?}");
}
