//! The classroom side of the grader: the exercises, hints and progress for
//! students; batch grading, the CSV gradebook and the CI and gradebook
//! formats for teachers. Formats are read back with real parsers
//! (serde_json, roxmltree), never compared as strings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use testkit::{Process, TIMEOUT, cargo_bin, python3_or_skip};

const TIME_SCALE: &str = "0.5";

/// The grader, in English whatever the machine's locale (the locale
/// variables removed), with a time limit.
fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    for var in testkit::LOCALE_VARS {
        command.env_remove(var);
    }
    command.timeout(Duration::from_secs(600));
    command
}

fn programs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

/// A fresh folder for the test, under the target folder: not under
/// `/tmp`, which the programs graded see as a private one of their own.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("grader-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lesson_03() -> String {
    cargo_bin("lesson-03").to_string_lossy().into_owned()
}

/// Grades lesson-03 with `command` in `format`; returns stdout and status.
fn check(format: &str, command: &[&str]) -> (String, i32) {
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--format",
            format,
            "--",
        ])
        .args(command)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        output.status.code().unwrap_or(-1),
    )
}

// Formats.

#[test]
fn junit_xml_has_a_test_case_per_check_and_a_failure_for_each_failed_one() {
    let (xml, code) = check(
        "junit",
        &["sh", "-c", "echo 'no <server> & no luck'; exit 3"],
    );
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("{err}:\n{xml}"));
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("lesson-03"));
    assert_eq!(suite.attribute("tests"), Some("7"));
    assert_eq!(suite.attribute("failures"), Some("7"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 7);
    assert_eq!(cases[0].attribute("name"), Some("listens"));
    assert_eq!(cases[0].attribute("classname"), Some("lesson-03.core"));
    let failure = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("exit status 3")
    );
    // The program's own output, with its < and &, survives the escaping.
    assert!(
        failure.text().unwrap().contains("no <server> & no luck"),
        "{xml}"
    );

    let (xml, code) = check("junit", &[&lesson_03(), "--port", "{port}"]);
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        7
    );
}

#[test]
fn gradescope_results_follow_the_autograder_specification() {
    let (json, code) = check("gradescope", &[&lesson_03(), "--port", "{port}"]);
    assert_eq!(code, 0);
    let results: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["score"], 11);
    assert_eq!(results["max_score"], 11);
    assert!(results["execution_time"].as_f64().unwrap() > 0.0);
    assert!(results["output"].as_str().unwrap().contains("lesson-03"));
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 7);
    for test in tests {
        for key in ["name", "status", "output", "visibility"] {
            assert!(test[key].is_string(), "{key} in {test}");
        }
        assert_eq!(test["status"], "passed");
        assert_eq!(test["score"], test["max_score"]);
    }

    let (json, _) = check("gradescope", &["sh", "-c", "exit 3"]);
    let results: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["score"], 0);
    let first = &results["tests"][0];
    assert_eq!(first["status"], "failed");
    assert_eq!(first["score"], 0);
    assert!(
        first["output"].as_str().unwrap().contains("hint:"),
        "{first}"
    );
}

#[test]
fn classroom_format_gives_the_tutorials_server_partial_credit() {
    use base64::Engine as _;
    let Some(python) = python3_or_skip("classroom format") else {
        return;
    };
    let output = grader()
        .args([
            "check",
            "lesson-05",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
        ])
        .args(["--format", "classroom", "--"])
        .arg(python)
        .arg(programs().join("../../../../tests/python/tutorial_threaded_server.py"))
        .arg("{port}")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    // One line, for `echo ... >> "$GITHUB_OUTPUT"`.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let encoded = stdout.trim_end().strip_prefix("result=").expect("result=");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let result: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(result["version"], 1);
    assert_eq!(result["status"], "fail");
    assert_eq!(result["max_score"], 13);
    let tests = result["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 8, "{result:#}");
    // The reporter adds up `score`: the tutorial's server earns 10 of 13,
    // where one all-or-nothing test per lesson gave it 0.
    let total: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    assert_eq!(total, 10, "{result:#}");
    for test in tests {
        assert!(test["name"].as_str().unwrap().starts_with("lesson-05 "));
        assert!(["pass", "fail"].contains(&test["status"].as_str().unwrap()));
        assert!(test["message"].is_string());
        if test["status"] == "fail" {
            assert!(
                test["message"].as_str().unwrap().contains("reason:"),
                "{test}"
            );
        }
    }
}

#[test]
fn output_goes_to_a_file_when_asked() {
    let dir = temp_dir("output");
    let path = dir.join("results.json");
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--run-as",
            "root",
            "--format",
            "gradescope",
            "--output",
        ])
        .arg(&path)
        .args(["--", &lesson_03(), "--port", "{port}"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    let results: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(results["score"], 11);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_scores_the_checks_named() {
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--format",
            "json",
        ])
        .args(["--only", "listens,restarts", "--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["listens", "restarts"]);
    assert_eq!(report["total"]["max_score"], 3);
    let bad = grader()
        .args(["check", "lesson-03", "--only", "nope", "--", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

// Students: exercises, hints, progress, watch.

#[test]
fn every_exercise_as_shipped_fails_its_core_checks() {
    for lesson in [
        "lesson-02",
        "lesson-03",
        "lesson-04",
        "lesson-05",
        "lesson-06",
        "lesson-07",
        "lesson-08",
        "lesson-09",
    ] {
        let output = grader()
            .args([
                "check",
                lesson,
                "--run-as",
                "root",
                "--time-scale",
                TIME_SCALE,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{lesson}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "{lesson}: {err}: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let core_passed: Vec<&Value> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "core" && c["status"] == "passed")
            .collect();
        assert!(
            core_passed.is_empty(),
            "{lesson}: the starter passes {core_passed:?}"
        );
        assert_eq!(report["total"]["core"]["score"], 0, "{lesson}");
        let tail = report["checks"][0]["output_tail"].as_str().unwrap_or("");
        assert!(tail.contains("not written yet"), "{lesson}: {tail}");
    }
}

#[test]
fn an_exercise_that_does_not_build_gets_the_compiler_error_as_its_reason() {
    // A tiny workspace of its own, so that the course's exercises stay intact.
    let root = temp_dir("broken");
    let crate_dir = root.join("exercises/lesson-02");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"exercises/*\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        "[package]\nname = \"exercise-02\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        crate_dir.join("src/main.rs"),
        "fn main() { let socket = ; }\n",
    )
    .unwrap();
    let output = grader()
        .args(["check", "lesson-02", "--format", "json"])
        .env("GRADER_WORKSPACE", &root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "failed");
        let reason = check["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("exercise-02 does not build: error"),
            "{reason}"
        );
    }
    let tail = report["checks"][0]["output_tail"].as_str().unwrap();
    assert!(
        tail.contains("src/main.rs"),
        "the compiler's message: {tail}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn hint_names_the_first_failing_check_and_the_walkthrough_section() {
    let output = grader()
        .args([
            "hint",
            "lesson-03",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--",
        ])
        .args(["sh", "-c", "echo 'Address already in use' >&2; exit 1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Fix this one first:"), "{text}");
    assert!(text.contains("listens (core, 1 point)"), "{text}");
    assert!(
        text.contains("lessons/lesson-03/README.md#3-bind"),
        "{text}"
    );
    assert!(text.contains("Address already in use"), "{text}");

    let output = grader()
        .args([
            "hint",
            "lesson-03",
            "--run-as",
            "root",
            "--",
            &lesson_03(),
            "--port",
            "{port}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("nothing left to fix")
    );
}

#[test]
fn progress_shows_every_exercise_as_a_bar() {
    let output = grader()
        .args(["progress", "--run-as", "root", "--time-scale", TIME_SCALE])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the starters are not solved");
    let text = String::from_utf8(output.stdout).unwrap();
    for exercise in [
        "exercise-02",
        "exercise-03",
        "exercise-04",
        "exercise-05",
        "exercise-06",
        "exercise-07",
        "exercise-08",
        "exercise-09",
        "course",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(exercise))
            .unwrap_or_else(|| panic!("{exercise}:\n{text}"));
        assert!(line.contains('[') && line.contains(']'), "{line}");
    }
    assert!(text.contains("not started"), "{text}");
    // An untouched starter earns nothing: no robust point without the core.
    for line in text.lines().filter(|l| l.contains("not started")) {
        assert!(line.contains(" 0/"), "{line}");
    }
}

#[test]
fn watch_grades_again_when_a_file_changes() {
    let Some(python) = python3_or_skip("watch") else {
        return;
    };
    let dir = temp_dir("watch");
    let careful = std::fs::read_to_string(programs().join("server03.py")).unwrap();
    // A student's first try forgets to print the message.
    let first_try = careful.replace(
        "fault = sys.argv[2] if len(sys.argv) > 2 else \"\"",
        "fault = \"no-print\"",
    );
    assert_ne!(first_try, careful);
    std::fs::write(dir.join("server.py"), &first_try).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_grader"));
    testkit::in_english(&mut command)
        .args([
            "check",
            "lesson-03",
            "--watch",
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--dir",
        ])
        .arg(&dir)
        .args(["--", &python.to_string_lossy(), "server.py", "{port}"]);
    let mut watcher = Process::spawn(command).unwrap();
    watcher
        .expect_line("core 7/9, robust 2/2, total 9/11", TIMEOUT * 3)
        .unwrap();
    watcher.expect_line("watching ", TIMEOUT).unwrap();
    // The fix: polling notices it (no file-system events needed).
    std::fs::write(dir.join("server.py"), &careful).unwrap();
    watcher
        .expect_line("changed: grading again", TIMEOUT)
        .unwrap();
    watcher
        .expect_line("total 11/11: every check passed", TIMEOUT * 3)
        .unwrap();
    drop(watcher);
    let _ = std::fs::remove_dir_all(&dir);
}

// Teachers: a class of thirty in three languages.

/// Makes a student folder.
fn student(class: &Path, name: &str, files: &[(&str, &[u8])], executable: bool) {
    let dir = class.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, content) in files {
        let path = dir.join(file);
        std::fs::write(&path, content).unwrap();
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

#[test]
fn batch_grades_thirty_students_in_three_languages_into_a_csv() {
    if python3_or_skip("batch").is_none() {
        return;
    }
    let class = temp_dir("class");
    let python = std::fs::read(programs().join("server03.py")).unwrap();
    let c = std::fs::read(programs().join("server03.c")).unwrap();
    let rust = std::fs::read(cargo_bin("lesson-03")).unwrap();
    // Ten in Python: six correct, four with a fault each.
    for (i, fault) in [
        "",
        "",
        "",
        "",
        "",
        "",
        "replies-utf8",
        "no-print",
        "no-reuseaddr",
        "never-closes",
    ]
    .iter()
    .enumerate()
    {
        student(
            &class,
            &format!("py-{i:02}"),
            &[("server.py", &python), ("fault", fault.as_bytes())],
            false,
        );
    }
    // Ten in C: seven correct, two with a fault, one that does not compile.
    for (i, cflags) in [
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "-DFAULT_UTF8",
        "-DFAULT_NO_REUSE",
    ]
    .iter()
    .enumerate()
    {
        student(
            &class,
            &format!("c-{i:02}"),
            &[("server.c", &c), ("cflags", cflags.as_bytes())],
            false,
        );
    }
    student(&class, "c-09", &[("server.c", b"int main( {")], false);
    // Ten in Rust (built binaries): nine correct, one that hangs.
    for i in 0..9 {
        student(&class, &format!("rs-{i:02}"), &[("lesson-03", &rust)], true);
    }
    student(
        &class,
        "rs-09",
        &[("lesson-03", b"#!/bin/sh\nsleep 60\n")],
        true,
    );

    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args([
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--jobs",
            "4",
        ])
        .args([
            "--setup",
            "if [ -f server.c ]; then cc -O1 $(cat cflags) -o server server.c; fi",
        ])
        .args([
            "--run",
            "if [ -f server.py ]; then exec python3 server.py {port} $(cat fault); \
             elif [ -f server.c ]; then exec ./server {port}; \
             else exec ./lesson-03 --port {port}; fi",
        ])
        .args(["--junit"])
        .arg(class.join("junit.xml"))
        .arg("--csv")
        .arg(class.join("grades.csv"))
        .output()
        .unwrap();
    let summary = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert!(summary.contains("graded 30 students"), "{summary}");
    assert!(summary.contains("scores:"), "{summary}");
    // No progress bar: stdout is not a terminal here.
    assert!(!summary.contains("students graded,"), "{summary}");

    let csv = std::fs::read_to_string(class.join("grades.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv.lines().map(parse_csv_line).collect();
    assert_eq!(rows.len(), 31, "{csv}");
    assert_eq!(
        rows[0],
        [
            "student",
            "score",
            "max_score",
            "listens",
            "prints-message",
            "replies-gbk",
            "closes-client",
            "exits-0",
            "restarts",
            "invalid-gbk",
            "status",
            "first_failure"
        ]
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name}:\n{csv}"))
            .clone()
    };
    let full = |name: &str| {
        let r = row(name);
        assert_eq!(
            (r[1].as_str(), r[2].as_str(), r[10].as_str(), r[11].as_str()),
            ("11", "11", "graded", ""),
            "{name}: {r:?}"
        );
    };
    for name in ["py-00", "py-05", "c-00", "c-06", "rs-00", "rs-08"] {
        full(name);
    }
    let lost = |name: &str, check_column: usize, reason: &str| {
        let r = row(name);
        assert_eq!(r[check_column], "0", "{name}: {r:?}");
        assert!(r[11].contains(reason), "{name}: {r:?}");
    };
    lost("py-06", 5, "replies-gbk: ");
    lost("py-07", 4, "prints-message: ");
    lost("py-08", 8, "restarts: ");
    lost("c-07", 5, "UTF-8");
    lost("c-08", 8, "SO_REUSEADDR");
    lost("c-09", 3, "setup step");
    // The compiler's first error, not the linker's summary after it.
    lost("c-09", 3, "server.c:1:");
    assert!(!row("c-09")[11].contains("collect2"), "{csv}");
    lost("rs-09", 3, "did not listen");
    assert_eq!(row("c-09")[1], "0");

    // The JUnit file has a suite per student.
    let xml = std::fs::read_to_string(class.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .count(),
        30
    );
    let _ = std::fs::remove_dir_all(&class);
}

/// One CSV line, RFC 4180 quoting.
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[test]
fn every_command_has_help() {
    for command in ["check", "hint", "progress", "batch"] {
        let output = grader().args([command, "--help"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{command}");
        assert!(
            String::from_utf8(output.stdout).unwrap().contains("Usage:"),
            "{command}"
        );
    }
}

#[test]
fn batch_usage_errors_exit_2() {
    for args in [
        &["batch", "lesson-03"][..],
        &["batch", "lesson-03", "/nonexistent-folder", "--run", "x"],
        &["batch", "lesson-03", "."],
        &[
            "batch",
            "lesson-04",
            ".",
            "--run",
            "python3 notes.py {port}",
        ],
        &["batch", "lesson-03", ".", "--run", "x", "--jobs", "0"],
    ] {
        let output = grader().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8(output.stderr).unwrap().lines().count(),
            1,
            "{args:?}"
        );
    }
}

#[test]
fn a_program_that_cannot_be_started_is_a_setup_error_row_not_a_zero() {
    let Some(python) = python3_or_skip("batch setup error") else {
        return;
    };
    let class = temp_dir("setup-error");
    let server = std::fs::read(programs().join("server03.py")).unwrap();
    student(&class, "alice", &[("server.py", &server)], false);
    // Bob handed in his program under another name.
    student(&class, "bob", &[("srv.py", &server)], false);
    let run = format!("exec {} server.py {{port}}", python.to_string_lossy());
    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args([
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--run",
            &run,
            "--csv",
        ])
        .arg(class.join("grades.csv"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert!(
        summary.contains("not graded") && summary.contains("bob"),
        "{summary}"
    );
    let csv = std::fs::read_to_string(class.join("grades.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv.lines().map(parse_csv_line).collect();
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap().clone();
    assert_eq!(row("alice")[1], "11", "{csv}");
    assert_eq!(row("alice")[10], "graded", "{csv}");
    let bob = row("bob");
    assert_eq!(
        (bob[1].as_str(), bob[10].as_str()),
        ("0", "setup error"),
        "{csv}"
    );
    assert!(
        bob[11].starts_with("setup error: ") && bob[11].contains("can't open file"),
        "{csv}"
    );
    let _ = std::fs::remove_dir_all(&class);
}

#[test]
fn a_class_only_the_teacher_can_read_is_graded_from_copies_it_never_changes() {
    use std::os::unix::fs::PermissionsExt;
    let Some(python) = python3_or_skip("private class") else {
        return;
    };
    let class = temp_dir("private-class");
    let server = std::fs::read(programs().join("server03.py")).unwrap();
    student(&class, "alice", &[("server.py", &server)], false);
    std::fs::set_permissions(&class, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(class.join("alice"), std::fs::Permissions::from_mode(0o700)).unwrap();
    // Graded as a uid of its own, not root: the setup step writes in the
    // copy of the student's folder, which the class never sees.
    let out = temp_dir("private-class-out");
    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args(["--time-scale", TIME_SCALE])
        .args(["--setup", "touch built && id -u > uid"])
        .args([
            "--run",
            &format!(
                "test -f built && exec {} server.py {{port}}",
                python.to_string_lossy()
            ),
        ])
        .arg("--csv")
        .arg(out.join("grades.csv"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{summary}");
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("alice,11,"),
        "{csv}"
    );
    let mut left: Vec<String> = std::fs::read_dir(class.join("alice"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["server.py"], "the class folder was changed");
    let _ = std::fs::remove_dir_all(&class);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_gradebook_is_never_written_through_a_link_nor_inside_the_class() {
    let Some(python) = python3_or_skip("gradebook") else {
        return;
    };
    let class = temp_dir("linked-gradebook");
    let server = std::fs::read(programs().join("server03.py")).unwrap();
    student(&class, "alice", &[("server.py", &server)], false);
    let run = format!("exec {} server.py {{port}}", python.to_string_lossy());
    // Run from inside the class folder without --csv: refused, one line.
    let output = grader()
        .current_dir(&class)
        .args(["batch", "lesson-03", ".", "--run", &run])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("inside the class folder"), "{stderr}");
    assert!(!class.join("grades.csv").exists());
    // A gradebook path that a student made a link to a file elsewhere: the
    // link is replaced by the gradebook, the file it pointed to untouched.
    let out = temp_dir("linked-gradebook-out");
    let victim = out.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("grades.csv")).unwrap();
    let output = grader()
        .current_dir(&out)
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args(["--time-scale", TIME_SCALE, "--run", &run])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let gradebook = out.join("grades.csv");
    assert!(!std::fs::symlink_metadata(&gradebook).unwrap().is_symlink());
    assert!(
        std::fs::read_to_string(&gradebook)
            .unwrap()
            .contains("alice,11,")
    );
    let _ = std::fs::remove_dir_all(&class);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn odd_folder_names_neither_crash_the_grader_nor_reach_a_terminal_or_spreadsheet_raw() {
    use std::os::unix::ffi::OsStrExt;
    let Some(python) = python3_or_skip("odd names") else {
        return;
    };
    let class = temp_dir("odd-names");
    let server = std::fs::read(programs().join("server03.py")).unwrap();
    for name in ["alice", "\u{1b}]0;OWNED\u{7}title", "=SUM(1)", ".hidden"] {
        student(&class, name, &[("server.py", &server)], false);
    }
    let not_utf8 = class.join(std::ffi::OsStr::from_bytes(b"bad\xffname"));
    std::fs::create_dir_all(&not_utf8).unwrap();
    std::fs::write(not_utf8.join("server.py"), &server).unwrap();
    let out = temp_dir("odd-names-out");
    let run = format!("exec {} server.py {{port}}", python.to_string_lossy());
    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args([
            "--run-as",
            "root",
            "--time-scale",
            TIME_SCALE,
            "--run",
            &run,
        ])
        .arg("--csv")
        .arg(out.join("grades.csv"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert!(!summary.contains('\u{1b}'), "{summary:?}");
    assert!(summary.contains("skipped 1 hidden folder"), "{summary}");
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    assert!(!csv.contains('\u{1b}'), "{csv:?}");
    let rows: Vec<Vec<String>> = csv.lines().skip(1).map(parse_csv_line).collect();
    let row = |start: &str| {
        rows.iter()
            .find(|r| r[0].starts_with(start))
            .unwrap_or_else(|| panic!("no row {start}: {csv}"))
            .clone()
    };
    assert_eq!(row("alice")[1], "11", "{csv}");
    assert_eq!(row("\\u{1b}]0;OWNED\\u{7}title")[1], "11", "{csv}");
    // A spreadsheet shows it as text, not a formula.
    assert_eq!(row("'=SUM(1)")[1], "11", "{csv}");
    let bad = row("bad");
    assert_eq!(bad[10], "setup error", "{csv}");
    assert!(bad[11].contains("not valid UTF-8"), "{csv}");
    // `check` given such a name says so in one line, without a panic.
    let output = grader()
        .args(["check", "lesson-03", "--dir"])
        .arg(&not_utf8)
        .args(["--", "python3", "server.py", "{port}"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    let _ = std::fs::remove_dir_all(&class);
    let _ = std::fs::remove_dir_all(&out);
}
