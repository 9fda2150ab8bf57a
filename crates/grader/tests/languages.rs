//! A class hands in every language: student programs in Java, Node.js, C,
//! Go, Rust and Python (`tests/programs/`, listed in its README), each a
//! correct solution or one with a fault, graded by the grader binary as a
//! black box. Every correct program fails no check; every fault loses
//! exactly the checks it should, with a reason that says why.
//!
//! Java, C, Go and Rust programs are compiled at test time into a folder of
//! the test's own under the system's temporary folder, removed afterwards.
//! A missing runtime skips its tests with a message, except where
//! `SOCKET_LESSONS_REQUIRE_RUNTIMES=1` is set (CI): there it fails them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Set to 1 in CI: a missing runtime fails the test instead of skipping it.
const REQUIRE_RUNTIMES: &str = "SOCKET_LESSONS_REQUIRE_RUNTIMES";

/// Time limits for programs that start at once (C, Go, Rust, Node.js,
/// Python), and for the JVM, which takes a second or more to start on a
/// loaded two-core machine.
const FAST: &str = "0.5";
const JVM: &str = "1.0";

mod common;

use common::{Graded, Slot, words};

/// `grader check LESSON` at `time_scale`, with `env` added to the grader's
/// environment (which the program inherits).
fn grade(lesson: &str, time_scale: &str, env: &[(&str, &str)], command: &[String]) -> Graded {
    common::grade(lesson, time_scale, &[], env, command)
}

// Runtimes and compilers.

/// Whether `program args` runs; when it does not, skips (None) with a
/// message, or panics where [`REQUIRE_RUNTIMES`] is set.
fn runtime(test: &str, program: &str, args: &[&str]) -> Option<()> {
    let found = std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(());
    }
    assert!(
        std::env::var_os(REQUIRE_RUNTIMES).is_none_or(|v| v != "1"),
        "{test}: `{program}` is required ({REQUIRE_RUNTIMES}=1) but was not found or does not run"
    );
    eprintln!("skipped: {test}: `{program}` was not found (install it to grade these programs)");
    None
}

/// A folder of the test's own under the target folder, removed when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Under the target folder: the programs graded see a private /tmp.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "socket-lessons-{test}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn program(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(path)
}

/// Runs a compiler; its failure fails the test with the compiler's output.
fn compile(mut command: std::process::Command) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles `java/NAME.java` into a temporary folder: the command starts
/// with `java -cp DIR NAME`.
fn java(test: &str, name: &str) -> Option<(TempDir, Vec<String>)> {
    runtime(test, "javac", &["-version"])?;
    runtime(test, "java", &["-version"])?;
    let dir = TempDir::new(test);
    let mut javac = std::process::Command::new("javac");
    javac
        .args(["-encoding", "UTF-8", "-d"])
        .arg(&dir.0)
        .arg(program(&format!("java/{name}.java")));
    compile(javac);
    let command = words(&["java", "-cp", &dir.path(""), name]);
    Some((dir, command))
}

/// Compiles `file` (under `tests/programs`) with `cc -O1 -pthread` and
/// each of `defines`, into `dir`; returns the binary's path.
fn cc(dir: &TempDir, file: &str, defines: &[&str]) -> String {
    let name = format!("{}{}", file.replace(['/', '.'], "-"), defines.join(""));
    let binary = dir.path(&name);
    let mut cc = std::process::Command::new("cc");
    cc.args(["-O1", "-pthread"])
        .args(defines)
        .args(["-o", &binary])
        .arg(program(file));
    compile(cc);
    binary
}

/// Builds `go/NAME.go` with `go build`, its cache and home in `dir`.
fn go(dir: &TempDir, name: &str) -> String {
    let binary = dir.path(name);
    let mut go = std::process::Command::new("go");
    go.args(["build", "-o", &binary])
        .arg(program(&format!("go/{name}.go")))
        .current_dir(&dir.0)
        .env("HOME", &dir.0)
        .env("GOCACHE", dir.0.join("gocache"))
        .env("GOPATH", dir.0.join("gopath"))
        .env("GOFLAGS", "")
        .env("GOWORK", "off");
    compile(go);
    binary
}

/// Compiles `rust/NAME.rs` with `rustc --edition 2021 -O` into `dir`.
fn rustc(dir: &TempDir, name: &str) -> String {
    let binary = dir.path(name);
    let mut rustc = std::process::Command::new("rustc");
    rustc
        .args(["--edition", "2021", "-O", "-o", &binary])
        .arg(program(&format!("rust/{name}.rs")));
    compile(rustc);
    binary
}

/// `base` followed by `args`.
fn with(base: &[String], args: &[&str]) -> Vec<String> {
    base.iter().cloned().chain(words(args)).collect()
}

fn node(test: &str, file: &str, args: &[&str]) -> Option<Vec<String>> {
    runtime(test, "node", &["--version"])?;
    let script = program(&format!("node/{file}"));
    Some(with(&words(&["node", &script.to_string_lossy()]), args))
}

fn python(test: &str, file: &str, args: &[&str]) -> Option<Vec<String>> {
    let python = runtime(test, "python3", &["--version"]);
    if python.is_none() {
        // selfcheck's own switch for Python, set by .ci/run, applies too.
        assert!(
            std::env::var_os("SOCKET_LESSONS_REQUIRE_PYTHON").is_none(),
            "{test}: python3 is required"
        );
        return None;
    }
    let script = program(file);
    Some(with(&words(&["python3", &script.to_string_lossy()]), args))
}

const LESSON_03: &[&str] = &[
    "listens",
    "prints-message",
    "replies-gbk",
    "closes-client",
    "exits-0",
    "restarts",
    "invalid-gbk",
];

// Java: compiled with javac; the grader's UTF-8 locale makes System.out
// print Chinese (without it, every Chinese character prints as `?`).

#[test]
fn java_lesson_02_client() {
    let Some((_dir, java)) = java("java lesson-02", "Client02") else {
        return;
    };
    let client = with(&java, &["{host}", "{port}"]);
    grade("lesson-02", JVM, &[], &client).assert_verdict("Client02", &[], "");
    // It never reads: it prints the tutorial's words, not this run's reply.
    // It closes before the reply comes, so nothing else is lost.
    grade("lesson-02", JVM, &[], &with(&client, &["literal"])).assert_verdict(
        "Client02 literal",
        &["prints-reply"],
        "not the reply",
    );
}

#[test]
fn a_java_vm_that_cannot_start_is_a_setup_error_not_a_failed_bind() {
    if runtime("java setup error", "java", &["-version"]).is_none() {
        return;
    }
    let dir = TempDir::new("java-no-start");
    let _slot = Slot::take();
    // An initial heap of 1 GiB under a 256 MiB memory limit: the JVM
    // cannot start, whatever the program would do.
    let output = common::grader()
        .args([
            "check",
            "lesson-05",
            "--run-as",
            "root",
            "--memory",
            "256",
            "--",
        ])
        .args(["java", "-Xms1g", "-version", "{port}"])
        .current_dir(&dir.0)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the Java VM") && !stderr.contains("bind"),
        "{stderr}"
    );
}

#[test]
fn java_lesson_03_server() {
    let Some((_dir, java)) = java("java lesson-03", "Server03") else {
        return;
    };
    grade("lesson-03", JVM, &[], &with(&java, &["{port}"])).assert_verdict("Server03", &[], "");
}

#[test]
fn java_lesson_04_notes() {
    let Some((_dir, java)) = java("java lesson-04", "Notes04") else {
        return;
    };
    grade("lesson-04", JVM, &[], &with(&java, &["{mode}", "{port}"])).assert_verdict(
        "Notes04",
        &[],
        "",
    );
}

#[test]
fn java_lesson_05_threads() {
    let Some((_dir, java)) = java("java lesson-05", "Server05") else {
        return;
    };
    let server = with(&java, &["{port}"]);
    grade("lesson-05", JVM, &[], &server).assert_verdict("Server05", &[], "");
    grade("lesson-05", JVM, &[], &with(&server, &["pool"])).assert_verdict(
        "Server05 pool",
        &["concurrent"],
        "2 clients at a time",
    );
}

#[test]
fn java_lesson_06_buffers() {
    let Some((_dir, java)) = java("java lesson-06", "Buffers06") else {
        return;
    };
    let command = with(&java, &["{mode}", "{port}", "{bytes}"]);
    grade("lesson-06", JVM, &[], &command).assert_verdict("Buffers06", &[], "");
}

#[test]
fn java_lesson_07_pool() {
    let Some((_dir, java)) = java("java lesson-07", "Pool07") else {
        return;
    };
    let pool = with(&java, &["{port}"]);
    grade("lesson-07", JVM, &[], &pool).assert_verdict("Pool07", &[], "");
    // A LinkedBlockingQueue without a bound: offer() never fails, so no
    // client is refused; the deadline alone frees the workers.
    grade("lesson-07", JVM, &[], &with(&pool, &["unbounded"])).assert_verdict(
        "Pool07 unbounded",
        &["queue-full"],
        "none was refused",
    );
}

// Node.js: the net module's event loop.

#[test]
fn node_lesson_02_client() {
    // It calls socket.end() after the reply; Node.js then waits for the
    // server's close, which the grader sends after replying.
    let Some(command) = node("node lesson-02", "client02.js", &["{host}", "{port}"]) else {
        return;
    };
    grade("lesson-02", FAST, &[], &command).assert_verdict("client02.js", &[], "");
}

#[test]
fn node_lesson_03_server() {
    let Some(command) = node("node lesson-03", "server03.js", &["{port}"]) else {
        return;
    };
    grade("lesson-03", FAST, &[], &command).assert_verdict("server03.js", &[], "");
}

#[test]
fn node_lesson_04_notes() {
    let Some(command) = node("node lesson-04", "notes04.js", &["{mode}", "{port}"]) else {
        return;
    };
    grade("lesson-04", FAST, &[], &command).assert_verdict("notes04.js", &[], "");
}

#[test]
fn node_lesson_05_event_loop() {
    let Some(command) = node("node lesson-05", "server05.js", &["{port}"]) else {
        return;
    };
    grade("lesson-05", FAST, &[], &command).assert_verdict("server05.js", &[], "");
    let Some(command) = node(
        "node lesson-05",
        "server05.js",
        &["{port}", "per-chunk-decode"],
    ) else {
        return;
    };
    grade("lesson-05", FAST, &[], &command).assert_verdict(
        "server05.js per-chunk-decode",
        &["split-character"],
        "你好 whole",
    );
}

#[test]
fn node_lesson_06_buffers() {
    let Some(command) = node(
        "node lesson-06",
        "buffers06.js",
        &["{mode}", "{port}", "{bytes}"],
    ) else {
        return;
    };
    grade("lesson-06", FAST, &[], &command).assert_verdict("buffers06.js", &[], "");
}

#[test]
fn node_lesson_08_event_loop() {
    // The lesson-09 program: one event loop, which is lesson 08's design.
    let Some(command) = node("node lesson-08", "server09.js", &["{mode}", "{port}"]) else {
        return;
    };
    grade("lesson-08", FAST, &[], &command).assert_verdict("server09.js", &[], "");
}

#[test]
fn node_lesson_09_async() {
    // The event loop serves every client; `slow` blocks a worker thread.
    let Some(command) = node("node lesson-09", "server09.js", &["{mode}", "{port}"]) else {
        return;
    };
    grade("lesson-09", FAST, &[], &command).assert_verdict("server09.js", &[], "");
}

// C: compiled with cc -O1 -pthread; faults chosen with -D.

#[test]
fn c_lesson_02_client() {
    if runtime("c lesson-02", "cc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("c-lesson-02");
    let client = cc(&dir, "c/client02.c", &[]);
    grade(
        "lesson-02",
        FAST,
        &[],
        &words(&[&client, "{host}", "{port}"]),
    )
    .assert_verdict("client02.c", &[], "");
}

#[test]
fn c_lesson_03_server() {
    if runtime("c lesson-03", "cc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("c-lesson-03");
    for (define, failed, word) in [
        ("", &[][..], ""),
        ("-DFAULT_UTF8", &["replies-gbk"][..], "UTF-8"),
        ("-DFAULT_NO_REUSE", &["restarts"][..], "SO_REUSEADDR"),
        // bind() fails, unchecked; listen() then binds a random port.
        ("-DFAULT_UNCHECKED_BIND", LESSON_03, "bind"),
        // The port without htons(): it listens on the port byte-swapped.
        ("-DFAULT_NO_HTONS", LESSON_03, "two bytes swapped"),
        // Bound to 255.255.255.255: a listener the grader cannot reach,
        // which must not pass `listens`.
        ("-DFAULT_BROADCAST_BIND", LESSON_03, "cannot reach"),
    ] {
        let defines: &[&str] = if define.is_empty() { &[] } else { &[define] };
        let server = cc(&dir, "server03.c", defines);
        grade("lesson-03", FAST, &[], &words(&[&server, "{port}"])).assert_verdict(
            &format!("server03.c {define}"),
            failed,
            word,
        );
    }
}

#[test]
fn c_lesson_04_notes() {
    if runtime("c lesson-04", "cc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("c-lesson-04");
    for (define, failed, word) in [
        ("", &[][..], ""),
        ("-DFAULT_SPIN", &["stops-on-zero"][..], "CPU"),
        ("-DFAULT_NO_CLOSE", &["stops-on-zero"][..], "close"),
    ] {
        let defines: &[&str] = if define.is_empty() { &[] } else { &[define] };
        let notes = cc(&dir, "c/notes04.c", defines);
        grade(
            "lesson-04",
            FAST,
            &[],
            &words(&[&notes, "{mode}", "{port}"]),
        )
        .assert_verdict(&format!("notes04.c {define}"), failed, word);
    }
}

#[test]
fn c_lesson_05_threads() {
    if runtime("c lesson-05", "cc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("c-lesson-05");
    // Printing to stderr instead of stdout loses nothing: both are read.
    for define in ["", "-DFAULT_STDERR"] {
        let defines: &[&str] = if define.is_empty() { &[] } else { &[define] };
        let server = cc(&dir, "c/server05.c", defines);
        grade("lesson-05", FAST, &[], &words(&[&server, "{port}"])).assert_verdict(
            &format!("server05.c {define}"),
            &[],
            "",
        );
    }
}

#[test]
fn c_lesson_06_buffers() {
    if runtime("c lesson-06", "cc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("c-lesson-06");
    let buffers = cc(&dir, "c/buffers06.c", &[]);
    let command = words(&[&buffers, "{mode}", "{port}", "{bytes}"]);
    grade("lesson-06", FAST, &[], &command).assert_verdict("buffers06.c", &[], "");
}

// Go: go build, a goroutine per connection.

#[test]
fn go_lesson_02_client() {
    if runtime("go lesson-02", "go", &["version"]).is_none() {
        return;
    }
    let dir = TempDir::new("go-lesson-02");
    let client = go(&dir, "client02");
    grade(
        "lesson-02",
        FAST,
        &[],
        &words(&[&client, "{host}", "{port}"]),
    )
    .assert_verdict("client02.go", &[], "");
}

#[test]
fn go_lesson_05_goroutines() {
    if runtime("go lesson-05", "go", &["version"]).is_none() {
        return;
    }
    let dir = TempDir::new("go-lesson-05");
    let server = go(&dir, "server05");
    grade("lesson-05", FAST, &[], &words(&[&server, "{port}"])).assert_verdict(
        "server05.go",
        &[],
        "",
    );
    grade("lesson-05", FAST, &[], &words(&[&server, "{port}", "pool"])).assert_verdict(
        "server05.go pool",
        &["concurrent"],
        "serves only 2 clients at a time",
    );
}

#[test]
fn go_lesson_09_goroutines() {
    if runtime("go lesson-09", "go", &["version"]).is_none() {
        return;
    }
    let dir = TempDir::new("go-lesson-09");
    // A goroutine per client; `slow` blocks its thread in a system call,
    // and the runtime runs the other goroutines on another.
    let server = go(&dir, "server09");
    grade(
        "lesson-09",
        FAST,
        &[],
        &words(&[&server, "{mode}", "{port}"]),
    )
    .assert_verdict("server09.go", &[], "");
}

// Rust: a single file compiled with rustc.

#[test]
fn rust_lesson_03_a_panic_is_reported_with_its_message() {
    if runtime("rust lesson-03", "rustc", &["--version"]).is_none() {
        return;
    }
    let dir = TempDir::new("rust-lesson-03");
    let server = rustc(&dir, "server03_panics");
    // With a backtrace the panic's own line is far from the end of the
    // output; the output shown must still hold it.
    let graded = grade(
        "lesson-03",
        FAST,
        &[("RUST_BACKTRACE", "1")],
        &words(&[&server, "{port}"]),
    );
    graded.assert_verdict("server03_panics.rs", &["invalid-gbk"], "panic");
    let tail = graded.tail("invalid-gbk");
    assert!(tail.contains("panicked at"), "{tail}");
}

// Python: faults beyond those selfcheck.rs grades.

#[test]
fn python_lesson_02_client_faults() {
    let Some(client) = python("python lesson-02", "client02.py", &["{host}", "{port}"]) else {
        return;
    };
    grade("lesson-02", FAST, &[], &with(&client, &["literal"])).assert_verdict(
        "client02.py literal",
        &["prints-reply"],
        "not the reply",
    );
}

#[test]
fn python_lesson_04_notes_faults() {
    let Some(notes) = python("python lesson-04", "notes04.py", &["{mode}", "{port}"]) else {
        return;
    };
    for (fault, failed, word) in [
        ("exits-at-once", "client-exits", "before the server closed"),
        // Reads once, sleeps past the grader's hold, exits: it never sees
        // the second reply, sent just before the server closes.
        ("reads-once", "client-exits", "but not the second"),
        ("no-close", "stops-on-zero", "close"),
    ] {
        grade("lesson-04", FAST, &[], &with(&notes, &[fault])).assert_verdict(
            &format!("notes04.py {fault}"),
            &[failed],
            word,
        );
    }
}

#[test]
fn python_lesson_05_server_faults() {
    let Some(server) = python("python lesson-05", "server05.py", &["{port}"]) else {
        return;
    };
    for (fault, failed, word) in [
        ("pool", &["concurrent"][..], "2 clients at a time"),
        ("per-recv-decode", &["split-character"][..], "你好"),
        // The logging module writes to stderr, which is read too.
        ("logging", &[][..], ""),
    ] {
        grade("lesson-05", FAST, &[], &with(&server, &[fault])).assert_verdict(
            &format!("server05.py {fault}"),
            failed,
            word,
        );
    }
}

#[test]
fn python_lesson_06_a_sink_that_counts_to_8_mib() {
    let Some(buffers) = python("python lesson-06", "buffers06.py", &["{mode}", "{port}"]) else {
        return;
    };
    // It counts to the tutorial's 8 MiB rather than to the end of stream:
    // the grader sends another size.
    grade("lesson-06", FAST, &[], &with(&buffers, &["counts-8mib"])).assert_verdict(
        "buffers06.py counts-8mib",
        &["sink-counts"],
        "sink",
    );
}
