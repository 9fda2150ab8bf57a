//! What the grader's black-box tests share: running `grader check` with a
//! JSON report, reading the report back, and asserting a verdict.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// How many gradings of one test binary run at once: each plays up to 50
/// clients, and the timing checks (`concurrent`, `stops-on-zero`) need some
/// CPU left over on a loaded two-core machine.
const AT_ONCE: usize = 3;

/// A graded program: the grader's exit status, its JSON report, its stderr.
pub struct Graded {
    pub code: i32,
    pub report: Value,
    pub stderr: String,
}

impl Graded {
    pub fn checks(&self) -> impl Iterator<Item = &Value> {
        self.report["checks"].as_array().expect("checks").iter()
    }

    pub fn check(&self, id: &str) -> &Value {
        self.checks()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} in {:#}", self.report))
    }

    pub fn failed(&self) -> BTreeSet<String> {
        self.checks()
            .filter(|c| c["status"] == "failed")
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn reason(&self, id: &str) -> String {
        self.check(id)["reason"].as_str().unwrap_or("").to_owned()
    }

    pub fn tail(&self, id: &str) -> String {
        self.check(id)["output_tail"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Exactly `expected` failed, and the exit status says so.
    pub fn assert_failed(&self, expected: &[&str]) {
        self.assert_verdict("", expected, "");
    }

    /// Exactly `expected` failed (`what` names the program in messages),
    /// and the first of them, in report order, for a reason that contains
    /// `word`.
    pub fn assert_verdict(&self, what: &str, expected: &[&str], word: &str) {
        let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            self.failed(),
            expected,
            "{what}: report:\n{:#}\nstderr: {}",
            self.report,
            self.stderr
        );
        assert_eq!(
            self.code,
            if expected.is_empty() { 0 } else { 1 },
            "{what}: exit status"
        );
        if let Some(first) = self
            .checks()
            .map(|c| c["id"].as_str().unwrap())
            .find(|id| expected.contains(*id))
        {
            let reason = self.reason(first);
            assert!(
                reason.contains(word),
                "{what}: {first}: {word:?} not in the reason: {reason}\n{}",
                self.tail(first)
            );
            assert!(
                self.check(first)["hint"]
                    .as_str()
                    .unwrap_or("")
                    .contains("lessons/"),
                "{what}: {first}: the hint names no walkthrough"
            );
        }
    }
}

/// A counting semaphore: at most [`AT_ONCE`] gradings at a time.
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// One of the [`AT_ONCE`] places for a grading, held until dropped.
pub struct Slot;

impl Slot {
    /// Waits for a place.
    pub fn take() -> Slot {
        let (count, freed) = &RUNNING;
        let mut count = count.lock().unwrap_or_else(|e| e.into_inner());
        while *count >= AT_ONCE {
            count = freed.wait(count).unwrap_or_else(|e| e.into_inner());
        }
        *count += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        freed.notify_one();
    }
}

/// The grader, speaking English whatever the machine's locale: the
/// locale variables that would choose Chinese (`LC_ALL`, `LC_MESSAGES`,
/// `LANG`) are removed from its environment. Every test that runs the
/// grader and reads its words starts it so (or passes `--lang`).
pub fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    for var in testkit::LOCALE_VARS {
        command.env_remove(var);
    }
    command
}

/// `grader check LESSON --format json --run-as root --time-scale SCALE
/// OPTIONS -- COMMAND`, with `env` added to the grader's environment
/// (which the program inherits).
pub fn grade(
    lesson: &str,
    time_scale: &str,
    options: &[&str],
    env: &[(&str, &str)],
    command: &[String],
) -> Graded {
    let _slot = Slot::take();
    let output = grader()
        .args(["check", lesson, "--format", "json", "--run-as", "root"])
        .args(["--time-scale", time_scale])
        .args(options)
        .arg("--")
        .args(command)
        .envs(env.iter().copied())
        .timeout(Duration::from_secs(400))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}):\n{stdout}\n{stderr}"));
    Graded {
        code: output.status.code().unwrap_or(-1),
        report,
        stderr,
    }
}

/// Owned words.
pub fn words(command: &[&str]) -> Vec<String> {
    command.iter().map(|s| (*s).to_owned()).collect()
}
