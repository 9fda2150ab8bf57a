//! Smoke test of the benchmarks: each `loadgen` mode against the real
//! lessons with tiny counts, and `bench --quick`, checking that the figures
//! they report are there, positive and consistent (not that they are fast:
//! speed is shown by the benchmark, never asserted by a test).

use std::collections::BTreeMap;
use std::path::Path;
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
fn paced_pingpong_brings_a_crowd_through_the_tutorials_listen_128() {
    // lesson-05 listens with the tutorial's backlog of 128; 300 clients
    // connect one at a time, never more than 63 waiting.
    let server = lesson_05(&[]);
    let port = server.addr().port().to_string();
    let out = loadgen(&[
        "pingpong",
        "--port",
        &port,
        "--clients",
        "300",
        "--messages",
        "2",
        "--pace",
    ]);
    let f = figures(&out);
    assert_eq!(number(&f, "clients_completed"), 300.0);
    assert_eq!(number(&f, "replies_verified"), 600.0);
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
    // Machine-wide figures: other work may make them fall, but they are
    // numbers.
    for name in ["kernel_stack_per_conn_kib", "slab_per_conn_kib"] {
        let value = f.get(name).unwrap_or_else(|| panic!("no {name} in {f:?}"));
        assert!(
            value.parse::<f64>().is_ok_and(f64::is_finite),
            "{name}: {value}"
        );
    }
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

/// Whether the workspace has this lesson (lessons 07 and 09 arrive on
/// branches of their own).
fn has_lesson(lesson: &str) -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../lessons")
        .join(lesson)
        .join("Cargo.toml")
        .exists()
}

/// The first number of a table cell ("123 (100–130)" is 123).
fn first(cell: &str) -> f64 {
    cell.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The rows of the Markdown table that follows `heading` (up to the next
/// blank line after it), split into trimmed cells, header and rule left out.
fn table_after<'a>(text: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let Some(at) = text.find(heading) else {
        return Vec::new();
    };
    text[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn bench_quick_prints_every_table_with_sane_figures() {
    // Built for the test profile's lessons, beside this test.
    let mut servers = vec!["lesson-05", "hardened"];
    cargo_bin("lesson-05");
    cargo_bin_of("lesson-05", "hardened");
    cargo_bin("lesson-06");
    for lesson in ["lesson-07", "lesson-08", "lesson-09"] {
        if has_lesson(lesson) {
            cargo_bin(lesson);
            servers.push(lesson);
        }
    }
    let python = testkit::python3().is_some();
    if python {
        servers.push("Python (tutorial)");
    }
    let strace = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
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
        "## 1. The servers side by side",
        "## 2. The cost of logging every message",
        "## 3. Idle clients",
        "## 4. System calls per message",
        "## 5. lesson-06's transfer",
        "## 6. Cold builds and size of the lessons",
        "## Targets",
    ] {
        assert!(stdout.contains(heading), "no {heading:?} in:\n{stdout}");
    }

    // 1. Every server at 1, 10, 100 and 1,000 clients: a positive msgs/s,
    // p99 >= p50, and CPU times that are not negative.
    let rows = table_after(&stdout, "## 1. The servers side by side");
    for server in &servers {
        let counts: Vec<&str> = rows
            .iter()
            .filter(|r| r[0] == *server)
            .map(|r| r[1])
            .collect();
        assert_eq!(counts, ["1", "10", "100", "1000"], "{server}:\n{stdout}");
    }
    for row in &rows {
        let (rate, p50, p99) = (first(row[2]), first(row[3]), first(row[4]));
        assert!(rate > 0.0 && p50 > 0.0 && p99 >= p50, "{row:?}");
        assert!(row[5..8].iter().all(|c| first(c) >= 0.0), "{row:?}");
    }
    // Context switches, voluntary / nonvoluntary, per server and count.
    let switches = table_after(&stdout, "Context switches per message");
    assert_eq!(switches.len(), servers.len(), "{stdout}");
    for row in &switches {
        assert_eq!(row.len(), 5, "{row:?}");
        for cell in &row[1..] {
            let (v, n) = cell.split_once(" / ").unwrap_or_else(|| panic!("{row:?}"));
            assert!(first(v) >= 0.0 && first(n) >= 0.0, "{row:?}");
        }
    }

    // 3. Every server held 20 idle clients but lesson-07, whose pool holds
    // 2,000; the single-threaded loop stays at one thread.
    let idle = table_after(&stdout, "## 3. Idle clients");
    assert_eq!(idle.len(), servers.len(), "{stdout}");
    for row in &idle {
        assert_eq!(first(row[2]), 20.0, "{row:?}");
    }
    if has_lesson("lesson-08") {
        let row = idle.iter().find(|r| r[0] == "lesson-08").unwrap();
        assert_eq!(row[8], "1", "{row:?}");
    }

    // 4. System calls: every server counted, or strace missing said so.
    if strace {
        let calls = table_after(&stdout, "## 4. System calls per message");
        assert_eq!(calls.len(), servers.len(), "{stdout}");
        for row in &calls {
            assert!(first(row[2]) > 1.0, "{row:?}");
            assert!(!row[3].is_empty(), "{row:?}");
        }
    } else {
        assert!(stdout.contains("strace is not installed"), "{stdout}");
    }

    // 5. The transfer table: three read sizes, each positive.
    let rates: Vec<f64> = stdout
        .lines()
        .filter(|l| l.starts_with("| lesson-06 sink"))
        .map(|l| first(l.split('|').nth(3).unwrap_or("").trim()))
        .collect();
    assert_eq!(rates.len(), 3, "{stdout}");
    assert!(rates.iter().all(|&r| r > 0.0), "{rates:?}");

    // 6. Lines of code: every lesson, main.rs no longer than src/.
    let sizes = table_after(&stdout, "Lines of code:");
    assert!(sizes.len() >= 6, "{stdout}");
    for row in &sizes {
        let (code, main) = (first(row[2]), first(row[3]));
        assert!(code > 0.0 && main <= code, "{row:?}");
    }
}
