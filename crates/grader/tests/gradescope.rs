//! The Gradescope recipe of docs/grading.md, run as Gradescope runs it:
//! its folders laid out under a root of the test's own
//! (`source/target/release/grader`, `submission`, `results`), the shipped
//! `docs/gradescope/run_autograder` run with `AUTOGRADER` set to that root,
//! and `results.json` checked against Gradescope's format, for a
//! submission in each language the machine has.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn programs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

fn run_autograder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/gradescope/run_autograder")
}

/// Whether `tool` is in the system's folders (the PATH programs get).
fn installed(tool: &str) -> bool {
    ["/usr/local/bin", "/usr/bin", "/bin"]
        .iter()
        .any(|dir| Path::new(dir).join(tool).exists())
}

/// A Gradescope root: `source/target/release/grader`, `submission` with
/// `files`, and no `results` yet (run_autograder makes it).
fn autograder_root(name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gradescope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let release = root.join("source/target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_grader"), release.join("grader")).unwrap();
    std::fs::create_dir_all(root.join("submission")).unwrap();
    for (file, content) in files {
        std::fs::write(root.join("submission").join(file), content).unwrap();
    }
    root
}

/// Runs the shipped run_autograder for lesson-05 under `root`, with
/// `options` for the grader; returns results.json.
fn grade(root: &Path, options: &str) -> Value {
    // run_autograder runs the grader, which speaks English here whatever
    // the machine's locale.
    let output = testkit::in_english(&mut Command::new("bash"))
        .arg(run_autograder())
        .env("AUTOGRADER", root)
        .env("LESSON", "lesson-05")
        .env("GRADER_OPTIONS", options)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "run_autograder failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(root.join("results/results.json")).unwrap_or_else(|err| {
        panic!(
            "no results.json ({err}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// The fields Gradescope reads, with their types.
fn assert_gradescope_format(results: &Value) {
    assert!(results["score"].is_number(), "{results:#}");
    assert!(results["execution_time"].is_number(), "{results:#}");
    assert!(results["output"].is_string(), "{results:#}");
    assert!(
        ["visible", "hidden", "after_due_date", "after_published"]
            .contains(&results["visibility"].as_str().unwrap_or("")),
        "{results:#}"
    );
    let tests = results["tests"].as_array().expect("tests");
    let mut sum = 0.0;
    for test in tests {
        for key in ["name", "output", "visibility", "number"] {
            assert!(test[key].is_string(), "{key} in {test}");
        }
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap_or("")));
        assert!(test["score"].as_f64().unwrap() <= test["max_score"].as_f64().unwrap());
        sum += test["score"].as_f64().unwrap();
    }
    assert_eq!(sum, results["score"].as_f64().unwrap(), "{results:#}");
}

/// A language, the tool it needs, the files handed in, and the score
/// expected of 13.
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, Vec<u8>)>,
    u64,
);

#[test]
fn the_gradescope_recipe_grades_python_c_java_and_node_submissions() {
    let python =
        std::fs::read(programs().join("../../../../tests/python/tutorial_threaded_server.py"))
            .unwrap();
    let c = std::fs::read(programs().join("c/server05.c")).unwrap();
    let java = std::fs::read_to_string(programs().join("java/Server05.java"))
        .unwrap()
        .replace("class Server05", "class Server")
        .into_bytes();
    let node = std::fs::read(programs().join("node/server05.js")).unwrap();
    let cases: Vec<Case> = vec![
        // The tutorial's server: the robust decoding checks fail.
        ("python", "python3", vec![("server.py", python)], 10),
        ("c", "cc", vec![("server.c", c)], 13),
        ("java", "javac", vec![("Server.java", java)], 13),
        ("node", "node", vec![("server.js", node)], 13),
        (
            "c-broken",
            "cc",
            vec![("server.c", b"int main( {".to_vec())],
            0,
        ),
    ];
    let require = std::env::var_os("SOCKET_LESSONS_REQUIRE_RUNTIMES").is_some();
    std::thread::scope(|scope| {
        let mut jobs = Vec::new();
        for (language, tool, files, expected) in &cases {
            if !installed(tool) {
                assert!(!require, "{language}: {tool} is required but not installed");
                eprintln!("{language}: skipped, {tool} is not installed");
                continue;
            }
            jobs.push(scope.spawn(move || {
                let root = autograder_root(language, files);
                let results = grade(&root, "");
                assert_gradescope_format(&results);
                assert_eq!(
                    results["score"].as_u64(),
                    Some(*expected),
                    "{language}: {results:#}"
                );
                if *expected == 0 {
                    // A build that fails says why, in the first test.
                    let first = results["tests"][0]["output"].as_str().unwrap_or("");
                    assert!(first.contains("the setup step"), "{first}");
                    assert!(first.contains("error"), "{first}");
                }
                let _ = std::fs::remove_dir_all(&root);
            }));
        }
        for job in jobs {
            job.join().unwrap();
        }
    });
}

/// A Rust submission: a crate of its own (its `[workspace]` table keeps it
/// out of any workspace above it), built offline by the recipe's setup step
/// in the sandbox. The recipe's `setup.sh` installs Rust system-wide; a
/// machine with rustup under `/root` only (as the test machine) lends the
/// sandbox that toolchain for this test, running the program as root.
#[test]
fn the_gradescope_recipe_builds_and_grades_a_rust_submission() {
    let (options, found) = if Path::new("/usr/local/cargo/bin/cargo").exists() {
        (String::new(), true)
    } else {
        let home = std::env::var("HOME").unwrap_or_default();
        let cargo_bin = format!("{home}/.cargo/bin");
        let rustup = std::env::var("RUSTUP_HOME").unwrap_or(format!("{home}/.rustup"));
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .is_some_and(|v| v.split_whitespace().nth(1) == Some("0"))
        });
        (
            format!(
                "--run-as root --env PATH={cargo_bin}:/usr/local/bin:/usr/bin:/bin --env RUSTUP_HOME={rustup}"
            ),
            root && Path::new(&cargo_bin).join("cargo").exists(),
        )
    };
    if !found {
        assert!(
            std::env::var_os("SOCKET_LESSONS_REQUIRE_RUNTIMES").is_none(),
            "rust: cargo is required but neither system-wide nor root's"
        );
        eprintln!("rust: skipped, no cargo the sandbox can use");
        return;
    }
    let main = std::fs::read(programs().join("rust/server05.rs")).unwrap();
    let manifest =
        b"[package]\nname = \"server\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"
            .to_vec();
    let root = autograder_root("rust", &[("Cargo.toml", manifest)]);
    std::fs::create_dir_all(root.join("submission/src")).unwrap();
    std::fs::write(root.join("submission/src/main.rs"), main).unwrap();
    let results = grade(&root, &options);
    assert_gradescope_format(&results);
    // Whole characters printed as GBK bytes, replies in GBK: full marks.
    assert_eq!(results["score"].as_u64(), Some(13), "{results:#}");
    let _ = std::fs::remove_dir_all(&root);
}
