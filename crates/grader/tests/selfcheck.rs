//! The grader grades itself: every lesson's own program scores full marks,
//! the tutorial's programs lose exactly the robust checks the tutorial's
//! code fails, and each faulty program loses exactly the checks it should,
//! with the expected reason. A check that no program here fails would be a
//! check that cannot fail.
//!
//! The grader runs as a black box (its binary, JSON output parsed with
//! serde_json). The Python programs need `python3`; without it those tests
//! skip with a message, except in CI where `.ci/run` makes them required.

use std::path::PathBuf;
use std::time::Duration;

use testkit::{cargo_bin, cargo_bin_of, python3_or_skip};

/// Timeouts in these tests: half the grader's defaults, which are generous.
const TIME_SCALE: &str = "0.5";

mod common;

use common::{Graded, words};

fn grade(lesson: &str, options: &[&str], command: &[String]) -> Graded {
    common::grade(lesson, TIME_SCALE, options, &[], command)
}

fn bin(name: &str) -> String {
    cargo_bin(name).to_string_lossy().into_owned()
}

fn program(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn tutorial(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `python3 program args... [fault]`, or None (skipped) without python3.
fn python(test: &str, script: String, args: &[&str], fault: &str) -> Option<Vec<String>> {
    let python = python3_or_skip(test)?;
    let mut command = vec![python.to_string_lossy().into_owned(), script];
    command.extend(args.iter().map(|s| (*s).to_owned()));
    if !fault.is_empty() {
        command.push(fault.to_owned());
    }
    Some(command)
}

// The lessons' own programs.

#[test]
fn lesson_02_scores_full_marks() {
    grade(
        "lesson-02",
        &[],
        &words(&[&bin("lesson-02"), "--host", "{host}", "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_03_scores_full_marks() {
    grade(
        "lesson-03",
        &[],
        &words(&[&bin("lesson-03"), "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_04_scores_full_marks() {
    grade(
        "lesson-04",
        &[],
        &words(&[&bin("lesson-04"), "{mode}", "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_05_scores_full_marks() {
    grade(
        "lesson-05",
        &[],
        &words(&[&bin("lesson-05"), "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_05_hardened_scores_full_marks() {
    let hardened = cargo_bin_of("lesson-05", "hardened");
    grade(
        "lesson-05",
        &[],
        &words(&[&hardened.to_string_lossy(), "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_06_scores_full_marks() {
    // lesson-06's source sends 8 MiB unless told otherwise, as the check expects.
    grade(
        "lesson-06",
        &[],
        &words(&[&bin("lesson-06"), "{mode}", "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_07_scores_full_marks() {
    grade(
        "lesson-07",
        &[],
        &words(&[&bin("lesson-07"), "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_08_scores_full_marks() {
    grade(
        "lesson-08",
        &[],
        &words(&[&bin("lesson-08"), "{mode}", "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

#[test]
fn lesson_09_scores_full_marks() {
    grade(
        "lesson-09",
        &[],
        &words(&[&bin("lesson-09"), "{mode}", "--port", "{port}"]),
    )
    .assert_failed(&[]);
}

// The tutorial's own programs: all core checks, not the robust ones.

#[test]
fn the_tutorials_client_fails_only_the_robust_checks() {
    let Some(command) = python(
        "tutorial client",
        tutorial("tutorial_client.py"),
        &["{host}", "{port}"],
        "",
    ) else {
        return;
    };
    let graded = grade("lesson-02", &[], &command);
    graded.assert_failed(&["refused", "invalid-reply"]);
    assert!(
        graded.reason("refused").contains("Python traceback"),
        "{}",
        graded.reason("refused")
    );
    assert!(graded.tail("invalid-reply").contains("UnicodeDecodeError"));
}

#[test]
fn the_tutorials_server_fails_only_the_robust_check() {
    let Some(command) = python(
        "tutorial server",
        tutorial("tutorial_server.py"),
        &["{port}"],
        "",
    ) else {
        return;
    };
    grade("lesson-03", &[], &command).assert_failed(&["invalid-gbk"]);
}

#[test]
fn the_tutorials_threaded_server_fails_only_the_robust_decoding_checks() {
    let Some(command) = python(
        "tutorial threaded server",
        tutorial("tutorial_threaded_server.py"),
        &["{port}"],
        "",
    ) else {
        return;
    };
    let graded = grade("lesson-05", &[], &command);
    graded.assert_failed(&["split-character", "invalid-gbk"]);
    assert!(graded.tail("invalid-gbk").contains("UnicodeDecodeError"));
}

// Careful Python programs, and each fault.

/// Grades `script` with each fault, checking the failed checks (and for
/// some, a word of the reason).
fn faults(lesson: &str, script: &str, args: &[&str], cases: &[(&str, &[&str], &str)]) {
    for (fault, failed, reason_word) in cases {
        let Some(command) = python(lesson, program(script), args, fault) else {
            return;
        };
        grade(lesson, &[], &command).assert_verdict(
            &format!("{lesson} {fault}"),
            failed,
            reason_word,
        );
    }
}

#[test]
fn lesson_02_faults() {
    faults(
        "lesson-02",
        "client02.py",
        &["{host}", "{port}"],
        &[
            ("", &[], ""),
            ("sends-invalid", &["sends-gbk"], "not valid GBK"),
            ("no-print", &["prints-reply"], "neither stdout nor stderr"),
            (
                "never-closes",
                // invalid-reply is not lost too: it tests its own point.
                &["closes", "exits-0"],
                "still open",
            ),
            ("exit-1", &["exits-0"], "exit status 1"),
            (
                "never-connects",
                &[
                    "connects",
                    "sends-gbk",
                    "prints-reply",
                    "closes",
                    "exits-0",
                    "refused",
                    "invalid-reply",
                ],
                "did not connect",
            ),
        ],
    );
}

#[test]
fn lesson_03_faults() {
    faults(
        "lesson-03",
        "server03.py",
        &["{port}"],
        &[
            ("", &[], ""),
            ("replies-utf8", &["replies-gbk"], "UTF-8"),
            (
                "no-print",
                &["prints-message"],
                "neither stdout nor stderr holds the message",
            ),
            (
                "never-closes",
                // invalid-gbk is not lost too: it tests its own point.
                &["closes-client", "exits-0"],
                "still open",
            ),
            ("no-reuseaddr", &["restarts"], "SO_REUSEADDR"),
        ],
    );
}

#[test]
fn lesson_04_faults() {
    faults(
        "lesson-04",
        "notes04.py",
        &["{mode}", "{port}"],
        &[
            ("", &[], ""),
            ("spins", &["stops-on-zero"], "CPU"),
            ("dies-on-reset", &["survives-reset"], "reset"),
            ("client-hangs", &["client-exits"], "still running"),
        ],
    );
}

#[test]
fn lesson_05_faults() {
    faults(
        "lesson-05",
        "server05.py",
        &["{port}"],
        &[
            ("", &[], ""),
            (
                "one-at-a-time",
                &["concurrent"],
                "serves only 1 client at a time",
            ),
            (
                "no-print",
                &["prints-messages"],
                "neither stdout nor stderr",
            ),
            // Bytes as Python writes them, with the text they hold: never
            // the expected GBK shown as mojibake.
            (
                "wrong-reply",
                &["many-clients"],
                "expected b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb' (\"ok, 收到了\" in GBK)",
            ),
            (
                "dies-on-close",
                &["concurrent", "many-clients", "survives-close"],
                "",
            ),
            ("dies-on-reset", &["survives-reset"], "reset"),
        ],
    );
}

#[test]
fn an_event_loop_serves_everyone_and_is_not_taken_for_a_pool() {
    let Some(command) = python(
        "asyncio server",
        program("server05_asyncio.py"),
        &["{port}"],
        "",
    ) else {
        return;
    };
    grade("lesson-05", &[], &command).assert_failed(&[]);
}

#[test]
fn lesson_06_faults() {
    faults(
        "lesson-06",
        "buffers06.py",
        &["{mode}", "{port}"],
        &[
            ("", &[], ""),
            ("reads-once", &["sink-counts"], "recv in a loop"),
            (
                "partial-send",
                &["source-sends-all"],
                "bytes it was asked for",
            ),
            ("exit-1", &["source-exits-0"], "exit status 1"),
        ],
    );
}

// Lesson 07: a careful pool in Python, and each fault; the lesson's own
// program with its failure turned on; lesson 05's hardened server, a thread
// per client with a cap.

#[test]
fn lesson_07_faults_threads_and_deadline() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            ("", &[], ""),
            (
                "thread-per-client",
                &["bounded-threads"],
                "before any client connected the program had",
            ),
            (
                "no-deadline",
                &["idle-deadline"],
                "the server serves 4 clients at a time, and a silent client keeps its worker past the deadline",
            ),
        ],
    );
}

#[test]
fn lesson_07_faults_a_capped_thread_per_client_and_a_short_deadline() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            // A cap just above the 50 clients of a count that used to come
            // first: the threads are counted from before the first client.
            ("capped-threads", &["bounded-threads"], "more threads for"),
            (
                "short-deadline",
                &["idle-deadline"],
                "sooner than 4 s: a silent client must be kept",
            ),
        ],
    );
}

#[test]
fn lesson_07_faults_queue() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            (
                "unbounded",
                &["queue-full"],
                "none was refused (its connection closed, with or without the busy reply)",
            ),
            (
                "blocking-put",
                &["queue-full"],
                "the server stopped accepting",
            ),
            ("leaks", &["queue-full"], "files in /tmp) grew by"),
        ],
    );
}

#[test]
fn lesson_07_faults_queue_closing_the_first_clients() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            (
                "unbounded-1s",
                &["queue-full"],
                "one of the first 8, which the workers and the queue hold",
            ),
            // Nearly every client seems refused, the first ones too.
            (
                "unbounded-fast",
                &["queue-full"],
                "one of the first 8, which the workers and the queue hold",
            ),
            (
                "refuses-some",
                &["queue-full"],
                "the others were kept waiting",
            ),
        ],
    );
}

#[test]
fn lesson_07_faults_conversation() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            (
                "utf8-reply",
                &["many-clients"],
                "expected b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb' (\"ok, 收到了\" in GBK)",
            ),
            (
                "double-reply",
                &["many-clients"],
                "10 bytes it did not ask for",
            ),
            (
                "per-recv-decode",
                &["split-character"],
                "neither stdout nor stderr holds 你好 whole",
            ),
            ("strict-decode", &["invalid-gbk"], "without a reply"),
        ],
    );
}

#[test]
fn lesson_07_faults_reset_and_age() {
    faults(
        "lesson-07",
        "pool07.py",
        &["{port}"],
        &[
            (
                "dies-on-reset",
                &["survives-reset"],
                "after 6 clients, one after another, reset their connections, the next client",
            ),
            (
                "lifetime",
                &["talking-client"],
                "not on the connection's age",
            ),
        ],
    );
}

#[test]
fn lesson_07_without_its_deadline_starves_the_next_client() {
    let graded = grade(
        "lesson-07",
        &[],
        &words(&[&bin("lesson-07"), "--port", "{port}", "--idle-timeout", "0"]),
    );
    graded.assert_verdict(
        "lesson-07 --idle-timeout 0",
        &["idle-deadline"],
        "client 5 sent a message while the 4 clients before it stayed connected and silent",
    );
}

#[test]
fn a_thread_per_client_with_a_cap_is_not_a_pool() {
    let hardened = cargo_bin_of("lesson-05", "hardened");
    let graded = grade(
        "lesson-07",
        &[],
        &words(&[
            &hardened.to_string_lossy(),
            "--port",
            "{port}",
            "--max-clients",
            "200",
            "--max-per-address",
            "200",
        ]),
    );
    graded.assert_verdict(
        "lesson-05 hardened",
        &["bounded-threads"],
        "more threads for",
    );
}

// Lessons 08 and 09: a careful event loop (selectors) and a careful asyncio
// server in Python, and each fault; lesson 09's own program with its
// mistake turned on.

#[test]
fn lesson_08_faults_threads_and_cpu() {
    faults(
        "lesson-08",
        "evloop.py",
        &["{mode}", "{port}"],
        &[
            ("", &[], ""),
            ("thread-per-client", &["one-thread"], "more threads for"),
            (
                "spin",
                &["no-busy-loop"],
                "with 20 clients connected and silent, and nothing sent or received, over",
            ),
            (
                "utf8-reply",
                &["many-clients"],
                "1000 clients connected at once, each sent message 1; 1000 of them did not get the reply",
            ),
            (
                "double-reply",
                &["many-clients"],
                "1000 of them got more bytes, which no message asked for",
            ),
        ],
    );
}

#[test]
fn lesson_08_faults_echo() {
    faults(
        "lesson-08",
        "evloop.py",
        &["{mode}", "{port}"],
        &[
            ("unbounded", &["never-reads"], "files in /tmp) grew by"),
            // The same, kept in a file in the jail's /tmp, which is memory
            // too (tmpfs) though no VmRSS shows it.
            ("spool", &["never-reads"], "files in /tmp) grew by"),
            (
                "blocking-send",
                &["never-reads"],
                "meanwhile another client sent 1048576 bytes: 0 of its echo came back",
            ),
            (
                "spin-while-full",
                &["never-reads"],
                "then, with its output waiting and nothing else to do, over",
            ),
            ("drops-partial", &["slow-reader"], "reading the echo slowly"),
            // Memory kept flat by throwing bytes away: only the echo read
            // back at last shows it.
            (
                "drop-over-16m",
                &["never-reads"],
                "then it stopped sending and read the echo",
            ),
        ],
    );
}

#[test]
fn lesson_08_faults_decoding() {
    faults(
        "lesson-08",
        "evloop.py",
        &["{mode}", "{port}"],
        &[
            (
                "per-recv-decode",
                &["split-character"],
                "neither stdout nor stderr holds 你好 whole",
            ),
            ("strict-decode", &["invalid-gbk"], "the program ended"),
            (
                "crash-on-reset",
                &["survives-reset"],
                "after a client reset its connection",
            ),
            // Lesson 08 sends no slow request: the loop that blocks in it
            // loses nothing here (lesson 09's slow-request catches it).
            ("blocking-slow", &[], ""),
        ],
    );
}

#[test]
fn lesson_09_faults() {
    faults(
        "lesson-09",
        "async09.py",
        &["{mode}", "{port}"],
        &[
            ("", &[], ""),
            (
                "blocking-slow",
                &["slow-request"],
                "other clients were answered only after it",
            ),
            // Its slow request is answered twice too, and the slow-request
            // check does not take the second reply for the next one.
            (
                "double-reply",
                &["many-clients"],
                "1000 of them got more bytes, which no message asked for",
            ),
            (
                "drop-over-16m",
                &["never-reads"],
                "then it stopped sending and read the echo",
            ),
            (
                "crash-on-reset",
                &["survives-reset"],
                "after a client reset its connection",
            ),
        ],
    );
    faults(
        "lesson-09",
        "evloop.py",
        &["{mode}", "{port}"],
        &[
            // The event loop runs `slow` on a thread of its own: a careful
            // lesson 09 too.
            ("", &[], ""),
            (
                "thread-per-client",
                &["bounded-threads"],
                "more threads for",
            ),
            (
                "blocking-slow",
                &["slow-request"],
                "the blocking work stopped the other clients",
            ),
        ],
    );
}

#[test]
fn lesson_09_with_its_blocking_mistake_stalls_the_other_clients() {
    // `--blocking-mistake` is for the reply mode only (lesson 09 refuses it
    // in echo mode), and one worker thread makes the stall certain on any
    // machine.
    let script = format!(
        "if [ \"$MODE\" = reply ]; then exec {0} reply --port \"$PORT\" --workers 1 --blocking-mistake; else exec {0} \"$MODE\" --port \"$PORT\"; fi",
        bin("lesson-09")
    );
    grade("lesson-09", &[], &words(&["sh", "-c", &script, "{mode}"])).assert_verdict(
        "lesson-09 --blocking-mistake",
        &["slow-request"],
        "were answered only after it",
    );
}

// Programs that misbehave in general.

#[test]
fn a_program_that_hangs_gets_a_reason_not_a_silent_timeout() {
    let graded = grade("lesson-03", &[], &words(&["sleep", "60"]));
    assert_eq!(graded.code, 1);
    assert!(
        graded.reason("listens").contains("did not listen on port"),
        "{}",
        graded.reason("listens")
    );
    assert!(graded.reason("prints-message").contains("never listened"));
    // The checks that could not run send the student to the one that
    // failed, and do not repeat the output shown under it.
    let check = graded
        .checks()
        .find(|c| c["id"] == "prints-message")
        .unwrap();
    assert!(
        check["hint"]
            .as_str()
            .unwrap()
            .contains("first make `listens` pass"),
        "{check}"
    );
    assert!(check["output_tail"].is_null(), "{check}");
}

#[test]
fn a_program_that_crashes_is_reported_with_its_status_and_output() {
    let graded = grade(
        "lesson-05",
        &[],
        &words(&["sh", "-c", "echo 'boom: cannot start' >&2; exit 3"]),
    );
    assert_eq!(graded.code, 1);
    assert!(
        graded.reason("listens").contains("exit status 3"),
        "{}",
        graded.reason("listens")
    );
    assert!(graded.tail("listens").contains("boom: cannot start"));
}

#[test]
fn a_program_that_listens_on_the_wrong_port_is_told_so() {
    // It listens on a port of its own choosing, not the one it was given.
    let graded = grade(
        "lesson-05",
        &[],
        &words(&[&bin("lesson-05"), "--port", "0"]),
    );
    let reason = graded.reason("listens");
    assert!(
        reason.contains("listens on port") && reason.contains(", not on "),
        "{reason}"
    );
}

#[test]
fn a_program_that_prints_without_end_does_not_fill_memory() {
    let graded = grade(
        "lesson-03",
        &[],
        &words(&["sh", "-c", "yes 'spam spam spam'"]),
    );
    assert_eq!(graded.code, 1);
    let tail = graded.tail("listens");
    assert!(tail.contains("spam spam spam"), "{tail}");
    // The report holds a few lines of it, not the gigabytes it printed.
    assert!(graded.report.to_string().len() < 64 * 1024);
}

#[test]
fn nothing_a_program_starts_is_left_behind() {
    let marker = format!("77{}.25", std::process::id() % 1000);
    let script = format!(
        "sleep {marker} & exec {} --port \"$PORT\"",
        bin("lesson-05")
    );
    let graded = grade("lesson-05", &[], &words(&["sh", "-c", &script]));
    graded.assert_failed(&[]);
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&marker))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_memory_hog_is_stopped_by_the_limit() {
    let Some(python) = python3_or_skip("memory hog") else {
        return;
    };
    let hog = "data = bytearray(8 << 30)";
    let command = words(&[&python.to_string_lossy(), "-c", hog]);
    let graded = grade("lesson-05", &["--memory", "512"], &command);
    assert!(
        graded.reason("listens").contains("exit status 1"),
        "{}",
        graded.reason("listens")
    );
    assert!(
        graded.tail("listens").contains("MemoryError"),
        "{}",
        graded.tail("listens")
    );
}

#[test]
fn a_program_that_does_not_listen_fails_every_mode_of_lessons_04_and_06() {
    for lesson in ["lesson-04", "lesson-06"] {
        let graded = grade(lesson, &[], &words(&["sh", "-c", "exit 5", "{mode}"]));
        let all: Vec<&str> = graded.checks().map(|c| c["id"].as_str().unwrap()).collect();
        graded.assert_failed(&all);
        let first = all[0];
        assert!(
            graded.reason(first).contains("exit status 5"),
            "{lesson}: {}",
            graded.reason(first)
        );
    }
}

#[test]
fn a_program_that_does_not_listen_fails_every_check_of_lessons_07_to_09_saying_why() {
    for lesson in ["lesson-07", "lesson-08", "lesson-09"] {
        let graded = grade(lesson, &[], &words(&["sh", "-c", "exit 5", "{mode}"]));
        let all: Vec<&str> = graded.checks().map(|c| c["id"].as_str().unwrap()).collect();
        graded.assert_failed(&all);
        assert!(
            graded.reason(all[0]).contains("exit status 5"),
            "{lesson}: {}",
            graded.reason(all[0])
        );
        // Every other check says it was not checked because the program
        // never listened: none is left to the run's time limit.
        for id in &all[1..] {
            let reason = graded.reason(id);
            assert!(
                reason.starts_with("not checked: the program never listened"),
                "{lesson} {id}: {reason}"
            );
        }
    }
}

#[test]
fn the_cpu_time_limit_stops_a_busy_loop() {
    let Some(python) = python3_or_skip("cpu limit") else {
        return;
    };
    let command = words(&[&python.to_string_lossy(), "-c", "while True: pass"]);
    // One second of CPU can take many seconds of wall time on a busy
    // machine: the time scale gives it 20 s to use it up.
    let graded = grade("lesson-05", &["--cpu", "1", "--time-scale", "4"], &command);
    let reason = graded.reason("listens");
    assert!(
        reason.contains("SIGXCPU") || reason.contains("SIGKILL"),
        "{reason}"
    );
}

/// The user the grader runs programs as by default, when that makes the
/// process limit apply: `nobody` when the tests run as root, else the
/// tests' own user. `None` when root has no `nobody` user.
fn unprivileged() -> Option<&'static str> {
    let uid = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("same");
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .any(|l| l.starts_with("nobody:"))
        .then_some("nobody")
}

#[test]
fn the_process_limit_stops_a_program_that_starts_too_many() {
    let Some(python) = python3_or_skip("process limit") else {
        return;
    };
    let Some(user) = unprivileged() else {
        eprintln!("skipped: running as root with no user 'nobody' to run the program as");
        return;
    };
    // What a fork bomb does, without the bomb: start processes until the
    // system says no, and report how many it got.
    let script = "import subprocess, sys\nstarted = []\ntry:\n    for _ in range(200):\n        started.append(subprocess.Popen(['sleep', '30']))\nexcept OSError as error:\n    print(f'stopped after {len(started)}: {error}', file=sys.stderr)\n    sys.exit(7)\nprint('started all 200')";
    let command = words(&[&python.to_string_lossy(), "-c", script]);
    let graded = grade(
        "lesson-05",
        &["--processes", "20", "--run-as", user],
        &command,
    );
    let tail = graded.tail("listens");
    assert!(
        graded.reason("listens").contains("exit status 7"),
        "{}\n{tail}",
        graded.reason("listens")
    );
    assert!(
        tail.contains("stopped after") && !tail.contains("started all 200"),
        "{tail}"
    );
}

#[test]
fn without_a_terminal_python_output_is_still_seen_thanks_to_sigint() {
    let Some(command) = python(
        "no pty",
        tutorial("tutorial_threaded_server.py"),
        &["{port}"],
        "",
    ) else {
        return;
    };
    // Python block-buffers a pipe; ending it with SIGINT makes it flush.
    let graded = grade("lesson-05", &["--no-pty"], &command);
    assert!(
        !graded.failed().contains("prints-messages"),
        "{:#}",
        graded.report
    );
}

// The command line.

#[test]
fn list_shows_every_lesson_with_points() {
    let output = common::grader().arg("list").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "lesson-02",
        "lesson-06",
        "concurrent",
        "core",
        "robust",
        "pt",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    for args in [
        &["check", "lesson-10", "--", "x"][..],
        &["check"],
        &["check", "lesson-05", "stray", "--", "x"],
        &["check", "lesson-04", "--", "prog", "{port}"],
        &["check", "lesson-05", "--format", "xml", "--", "x"],
        &["check", "lesson-05", "--port", "0", "--", "x"],
        &["frobnicate"],
        &[],
    ] {
        let output = common::grader().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("grader: error: "), "{stderr}");
    }
}

#[test]
fn the_json_report_follows_its_schema() {
    let graded = grade("lesson-05", &[], &words(&["sh", "-c", "exit 3"]));
    let report = &graded.report;
    assert_eq!(report["schema"], "socket-lessons-grader/1");
    assert_eq!(report["grader"]["name"], "grader");
    assert!(report["grader"]["version"].is_string());
    assert_eq!(report["lesson"], "lesson-05");
    assert_eq!(report["passed"], false);
    assert_eq!(report["command"][0], "sh");
    let total = &report["total"];
    assert_eq!(total["score"], 0);
    assert_eq!(
        total["max_score"].as_u64().unwrap(),
        total["core"]["max_score"].as_u64().unwrap()
            + total["robust"]["max_score"].as_u64().unwrap()
    );
    for check in report["checks"].as_array().unwrap() {
        for key in ["id", "kind", "summary", "status"] {
            assert!(check[key].is_string(), "{key} in {check}");
        }
        assert!(check["points"].as_u64().unwrap() > 0);
        assert!(check["duration_seconds"].as_f64().unwrap() >= 0.0);
        assert!(check["kind"] == "core" || check["kind"] == "robust");
        assert!(check["reason"].is_string() && check["hint"].is_string());
    }
}

#[test]
fn the_text_report_gives_reason_hint_and_output() {
    let output = common::grader()
        .args([
            "check",
            "lesson-03",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--",
        ])
        .args(["sh", "-c", "echo 'starting up'; exit 4"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "FAIL  listens",
        "reason: the program ended (exit status 4) without listening",
        "hint:   bind",
        "starting up",
        "core 0/9, robust 0/2, total 0/11",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

// Programs that cannot be started are a setup error, not a score.

#[test]
fn a_program_that_cannot_be_started_is_a_setup_error_said_once() {
    for command in [
        &["no-such-command-in-the-path", "{port}"][..],
        &["sh", "-c", "exec no-such-command-either {port}"],
    ] {
        let output = common::grader()
            .args(["check", "lesson-03", "--run-as", "root", "--"])
            .args(command)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("cannot be started") && stderr.contains("not a failed check"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "no report, no score");
    }
    let Some(python) = python3_or_skip("setup error") else {
        return;
    };
    let output = common::grader()
        .args(["check", "lesson-05", "--run-as", "root", "--"])
        .args([
            python.to_string_lossy().as_ref(),
            "/nonexistent/server.py",
            "{port}",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Python cannot open the program's file"),
        "{stderr}"
    );
}

#[test]
fn programs_get_a_utf8_locale_unless_told_otherwise() {
    let script = "echo \"locale: LANG=$LANG LC_ALL=$LC_ALL\"; exit 3";
    let graded = grade("lesson-03", &[], &words(&["sh", "-c", script]));
    let tail = graded.tail("listens");
    assert!(
        tail.contains("locale: LANG=C.UTF-8 LC_ALL=C.UTF-8"),
        "{tail}"
    );
    let graded = grade(
        "lesson-03",
        &["--locale", "zh_CN.UTF-8"],
        &words(&["sh", "-c", script]),
    );
    assert!(
        graded.tail("listens").contains("LANG=zh_CN.UTF-8"),
        "{}",
        graded.tail("listens")
    );
}

#[test]
fn memory_is_limited_by_use_not_by_reserved_address_space() {
    // A program that reserves 8 GiB of address space it never touches (as
    // a JVM or V8 does at start) runs; one that uses more than the limit
    // does not.
    let Some(python) = python3_or_skip("memory reservation") else {
        return;
    };
    let reserve = "import mmap, sys\nm = mmap.mmap(-1, 8 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=0)\nprint('reserved 8 GiB')\nsys.exit(4)";
    let graded = grade(
        "lesson-05",
        &["--memory", "512"],
        &words(&[&python.to_string_lossy(), "-c", reserve]),
    );
    assert!(
        graded.tail("listens").contains("reserved 8 GiB")
            && graded.reason("listens").contains("exit status 4"),
        "{}\n{}",
        graded.reason("listens"),
        graded.tail("listens")
    );
}

/// Processes that keep both cores busy while a test runs. Each is a busy
/// loop under `timeout 120`, in a process group of its own: dropping the
/// `Load` kills the whole group (killing `timeout` alone would leave its
/// loop running), and `timeout` bounds it even if the test process dies.
struct Load(Vec<std::process::Child>);

impl Load {
    fn start(processes: usize) -> Load {
        use std::os::unix::process::CommandExt;
        Load(
            (0..processes)
                .map(|_| {
                    std::process::Command::new("timeout")
                        .args(["120", "sh", "-c", "while :; do :; done"])
                        .process_group(0)
                        .spawn()
                        .expect("timeout and sh")
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_busy_machine_does_not_hide_a_spinning_server() {
    let Some(command) = python(
        "spin under load",
        program("notes04.py"),
        &["{mode}", "{port}"],
        "spins",
    ) else {
        return;
    };
    // Four busy loops on top of whatever else runs: a spinning server gets
    // a fraction of a core, but wants all of it.
    let load = Load::start(4);
    let graded = grade("lesson-04", &["--time-scale", "2"], &command);
    assert!(
        graded.failed().contains("stops-on-zero"),
        "{:#}",
        graded.report
    );
    assert!(
        graded.reason("stops-on-zero").contains("wanted a CPU"),
        "{}",
        graded.reason("stops-on-zero")
    );
    // And under the same load, a server that stops reading still passes.
    let careful = python(
        "careful under load",
        program("notes04.py"),
        &["{mode}", "{port}"],
        "",
    )
    .expect("python3 was found above");
    let graded = grade("lesson-04", &["--time-scale", "2"], &careful);
    assert!(
        !graded.failed().contains("stops-on-zero"),
        "{:#}",
        graded.report
    );
    // The load is gone once dropped: nothing of it outlives the test. A
    // killed process takes a moment to die and be reaped by init, so the
    // check waits for that, up to 20 s.
    let groups: Vec<u32> = load.0.iter().map(std::process::Child::id).collect();
    drop(load);
    let alive_in_groups = || -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    let fields: Vec<&str> = stat
                        .rsplit(')')
                        .next()
                        .map(|rest| rest.split_whitespace().collect())
                        .unwrap_or_default();
                    let dead = matches!(fields.first(), Some(&("Z" | "X")));
                    let pgrp = fields.get(2).and_then(|g| g.parse::<u32>().ok());
                    pgrp.is_some_and(|g| groups.contains(&g)) && !dead
                })
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut left = alive_in_groups();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = alive_in_groups();
    }
    assert!(left.is_empty(), "load processes left behind: {left:?}");
}

/// A program that moves its work where the grader does not start it (a
/// nested user and PID namespace; a new session, orphaned) is measured all
/// the same: a spinning event loop hidden that way still loses
/// `no-busy-loop`, and a thread per client still loses `one-thread`.
#[test]
fn work_moved_out_of_sight_is_still_measured() {
    let Some(python) = python3_or_skip("hidden work") else {
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let cases = [
        ("namespace", "spin", "no-busy-loop", "over"),
        ("session", "thread-per-client", "one-thread", "more threads"),
    ];
    for (how, fault, lost, reason_word) in cases {
        {
            let command = words(&[
                &python,
                &program("hide.py"),
                how,
                "--",
                &python,
                &program("evloop.py"),
                "{mode}",
                "{port}",
                fault,
            ]);
            grade("lesson-08", &["--only", lost], &command).assert_verdict(
                &format!("lesson-08 {fault}, hidden by {how}"),
                &[lost],
                reason_word,
            );
        }
    }
}
