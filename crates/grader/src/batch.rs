//! Grading a whole class: one folder per student, the same command run
//! inside each, several students at once, a CSV for the gradebook.
//!
//! Each student is graded by a separate `grader check` process, in a jail
//! of its own ([`crate::jail`]): a copy of the student's folder, its own
//! network, user and work space. A setup step (a build) runs first in that
//! jail, with its own time limit. A student whose program hangs, crashes or
//! does not build still gets a row with the reason: the batch always
//! finishes.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::Lesson;
use crate::i18n::{Lang, Text, tr};
use crate::run::{Outcome, Settings, all_failed};
use crate::sandbox::{Program, Spec, describe_status};
use crate::tr;

/// What a batch needs.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The lesson.
    pub lesson: &'static Lesson,
    /// The folder of student folders.
    pub dir: PathBuf,
    /// The command run in each student's folder (a shell command line, with
    /// the grader's placeholders).
    pub run: String,
    /// A build step run first in each folder, if any.
    pub setup: Option<String>,
    /// The setup step's time limit.
    pub setup_timeout: Duration,
    /// Students graded at once.
    pub jobs: usize,
    /// Options passed on to each `grader check` (time scale, limits, user).
    pub check_options: Vec<String>,
    /// Sandbox settings.
    pub settings: Settings,
}

/// One student's result.
#[derive(Clone, Debug)]
pub struct Student {
    /// The folder's name.
    pub name: String,
    /// The outcome of every check.
    pub outcomes: Vec<Outcome>,
    /// How long grading took.
    pub duration: Duration,
    /// Why the program could not be started at all (a setup problem: the
    /// row's score is 0, but nothing was graded).
    pub setup_error: Option<String>,
    /// What isolation its programs lacked, if any (the report's
    /// `isolation`).
    pub isolation: Option<String>,
}

impl Student {
    /// Points earned.
    pub fn score(&self) -> u32 {
        self.outcomes.iter().map(|o| o.score).sum()
    }

    /// The first reason a point was lost, if any.
    pub fn first_failure(&self) -> Option<String> {
        self.outcomes
            .iter()
            .find_map(|o| o.reason.as_ref().map(|r| format!("{}: {r}", o.check.id)))
    }
}

/// The hint for a submission whose setup step failed.
pub const SETUP_HINT: Text = Text::new(
    "the setup step (the build) failed: its output is in the first check's output",
    "设置步骤（构建）失败了：它的输出在第一个检查项的输出里",
);

/// The hint for a submission whose program could not be started.
pub const START_HINT: Text = Text::new(
    "the program could not be started (a setup problem, not a failed check): fix the --run command, the tools on the PATH, or the folder's permissions, and grade it again",
    "程序无法启动（这是设置问题，不是检查没通过）：请修正 --run 命令、PATH 上的工具或者文件夹的权限，然后重新评分",
);

/// The hint for a submission the grader could not grade.
const GRADER_HINT: Text = Text::new(
    "the grader itself failed on this submission: grade it alone with `grader check` to see why",
    "评分程序本身在这份作业上出了错：用 `grader check` 单独为它评分，看看原因",
);

/// The one line that reports a program that cannot be started, in the
/// grading's language (`grader check` prints it after `grader: error: `).
pub fn setup_error_line(reason: &str) -> String {
    tr!(
        "the program cannot be started, so it was not graded: {reason} (a setup problem, not a failed check)",
        "程序无法启动，所以没有评分：{reason}（这是设置问题，不是检查没通过）"
    )
}

/// The reason in a `grader check`'s stderr line that says its program
/// cannot be started ([`setup_error_line`], in either language), if
/// `line` is one.
pub fn setup_error_reason(line: &str) -> Option<&str> {
    [Lang::En, Lang::Zh].into_iter().find_map(|lang| {
        let (error, start) = lang.pick(
            (
                "grader: error: ",
                "the program cannot be started, so it was not graded: ",
            ),
            ("grader: 错误: ", "程序无法启动，所以没有评分："),
        );
        line.strip_prefix(error)?.strip_prefix(start)
    })
}

/// The hidden folders of `dir` (their names escaped), which a batch skips
/// and says so.
pub fn hidden(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .map(|n| crate::sandbox::escape_line(&n, 200))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The student folders in `dir`, sorted (hidden ones skipped).
pub fn students(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(format!("{} holds no student folders", dir.display()));
    }
    Ok(folders)
}

/// Grades every student, `jobs` at a time, showing progress on a terminal.
pub fn grade_all(batch: &Batch) -> Result<Vec<Student>, String> {
    let folders = students(&batch.dir)?;
    let total = folders.len();
    let queue = Mutex::new(folders.into_iter().enumerate().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::with_capacity(total));
    let started = Instant::now();
    let live = std::io::stdout().is_terminal();
    thread::scope(|scope| {
        for _ in 0..batch.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some((index, folder)) = next else { break };
                    let student = grade_one(batch, &folder);
                    let mut done = results.lock().unwrap_or_else(|e| e.into_inner());
                    done.push((index, student));
                    if live {
                        progress(done.len(), total, started.elapsed());
                    }
                }
            });
        }
    });
    if live {
        println!();
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, s)| s).collect())
}

fn progress(done: usize, total: usize, elapsed: Duration) {
    const WIDTH: usize = 30;
    let filled = done * WIDTH / total.max(1);
    let secs = elapsed.as_secs();
    let (bar, minutes, seconds) = (
        format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled)),
        secs / 60,
        secs % 60,
    );
    print!(
        "{}",
        tr!(
            "\r[{bar}] {done}/{total} students graded, {minutes:02}:{seconds:02} elapsed",
            "\r[{bar}] 已评完 {done}/{total} 名学生，用时 {minutes:02}:{seconds:02}"
        )
    );
    let _ = std::io::stdout().flush();
}

/// Sets up and grades one student's folder.
fn grade_one(batch: &Batch, folder: &Path) -> Student {
    // The name as the summary, the gradebook and JUnit show it: no control
    // character of it reaches a terminal or a file.
    let name = folder
        .file_name()
        .map(|n| crate::sandbox::escape_line(&n.to_string_lossy(), 200))
        .unwrap_or_default();
    let started = Instant::now();
    let checked = match folder.file_name().and_then(|n| n.to_str()) {
        Some(_) => check(batch, folder),
        None => Err(tr(
            "the folder's name is not valid UTF-8, which the grader cannot pass on: rename the folder",
            "文件夹的名字不是有效的 UTF-8，评分程序无法把它传下去：请给文件夹改名",
        )
        .to_owned()),
    };
    let (outcomes, setup_error, isolation) = match checked {
        Ok((outcomes, isolation)) => (outcomes, None, isolation),
        Err(setup) => (
            all_failed(
                batch.lesson,
                &tr!("not graded: {setup}", "未评分：{setup}"),
                START_HINT.tr(),
                None,
            ),
            Some(setup),
            None,
        ),
    };
    Student {
        name,
        outcomes,
        duration: started.elapsed(),
        setup_error,
        isolation,
    }
}

/// Runs the setup step `setup` (a shell command line) where `settings`
/// run programs (the jail's work folder), within `timeout`; `Err` holds
/// the reason and the output's tail.
pub fn setup(
    settings: &Settings,
    setup: &str,
    timeout: Duration,
) -> Result<(), (String, Option<String>)> {
    let mut env = settings.env.clone();
    if let Some(locale) = &settings.locale {
        env.push(("LANG".to_owned(), locale.clone()));
        env.push(("LC_ALL".to_owned(), locale.clone()));
    }
    let spec = Spec {
        argv: vec!["sh".into(), "-c".into(), setup.to_owned()],
        env,
        dir: settings.dir.clone(),
        stdin: Vec::new(),
        pty: false,
        limits: crate::sandbox::Limits {
            cpu_seconds: timeout.as_secs().max(1) * 2,
            ..settings.limits
        },
        run_as: settings.run_as.clone(),
        jail: settings.jail.clone(),
    };
    let mut program = Program::start(&spec).map_err(|err| {
        (
            tr!(
                "the setup step cannot start: {err}",
                "设置步骤无法启动：{err}"
            ),
            None,
        )
    })?;
    let status = program.wait(timeout);
    program.stop(Duration::from_millis(500));
    let tail = Some(program.output_tail(15)).filter(|t| !t.is_empty());
    // The first error the build printed says why; it goes into the
    // gradebook's reason.
    let output = [program.stdout(), program.stderr()].concat();
    let last = build_error(&String::from_utf8_lossy(&output))
        .map(|why| tr!(": {why}", "：{why}"))
        .unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(()),
        Some(status) => {
            let status = describe_status(status);
            Err((
                tr!(
                    "the setup step `{setup}` failed ({status}){last}",
                    "设置步骤 `{setup}` 失败了（{status}）{last}"
                ),
                tail,
            ))
        }
        None => {
            let limit = timeout.as_secs();
            Err((
                tr!(
                    "the setup step `{setup}` took longer than {limit} s",
                    "设置步骤 `{setup}` 用时超过了 {limit} 秒"
                ),
                tail,
            ))
        }
    }
}

/// What a failed build printed that says why, in one line: the first error
/// (a compiler's or a linker's), not the summary lines that follow it
/// (`collect2: error: ld returned 1 exit status`, `make: *** ...`, a
/// caret line), with the cause named where it is a known one; the last
/// line that says anything where no line looks like an error.
pub fn build_error(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let summary = |l: &str| {
        l.starts_with("collect2:")
            || l.starts_with("make:")
            || l.starts_with("error: could not compile")
            || l.starts_with("error: aborting")
            || l.contains(" error generated")
            || l.contains(" errors generated")
            || l.ends_with(" error")
            || l.ends_with(" errors")
    };
    let is_error = |l: &str| {
        let lower = l.to_lowercase();
        (lower.contains("error:")
            || lower.starts_with("error[")
            || lower.contains("fatal error")
            || lower.contains("cannot open output file")
            || lower.contains("permission denied")
            || lower.contains("undefined reference"))
            && !summary(l)
    };
    let line = lines
        .iter()
        .find(|l| is_error(l))
        .or_else(|| {
            lines
                .iter()
                .rev()
                .find(|l| l.chars().any(char::is_alphanumeric) && !summary(l))
        })
        .or(lines.last())?;
    let mut why = crate::sandbox::escape_line(line, 200);
    let all = output.to_lowercase();
    if all.contains("cannot open output file")
        || all.contains("permission denied")
        || all.contains("error while writing")
    {
        why.push_str(tr(
            " (the build could not write its output: the student's folder is not writable by the user the build runs as)",
            "（构建无法写出它的输出：运行构建的那个用户不能写学生的文件夹）",
        ));
    } else if all.contains("no space left on device") {
        why.push_str(tr(" (the disk is full)", "（磁盘满了）"));
    }
    Some(why)
}

/// Grades `folder` with a `grader check` process of its own; `Err` with
/// the reason when its program could not be started at all.
fn check(batch: &Batch, folder: &Path) -> Result<(Vec<Outcome>, Option<String>), String> {
    let exe = match crate::sandbox::own_binary() {
        Ok(exe) => exe,
        Err(err) => {
            return Ok((
                all_failed(
                    batch.lesson,
                    &tr!(
                        "cannot find the grader itself: {err}",
                        "找不到评分程序本身：{err}"
                    ),
                    GRADER_HINT.tr(),
                    None,
                ),
                None,
            ));
        }
    };
    let mut command = Command::new(exe);
    std::os::unix::process::CommandExt::arg0(&mut command, "grader");
    // The student's report in the batch's language: its reasons become
    // the gradebook's and the summary's.
    let lang = crate::i18n::current().code();
    command
        .args(["check", batch.lesson.id, "--format", "json", "--lang", lang])
        .arg("--dir")
        .arg(folder)
        .args(&batch.check_options);
    if let Some(setup) = &batch.setup {
        command
            .args(["--setup", setup, "--setup-timeout"])
            .arg(batch.setup_timeout.as_secs().to_string());
    }
    command
        .args(["--", "sh", "-c", &batch.run])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = match run_bounded(
        command,
        batch.settings.total_timeout
            + batch
                .setup
                .as_ref()
                .map_or(Duration::ZERO, |_| batch.setup_timeout)
            + Duration::from_secs(60),
    ) {
        Ok(output) => output,
        Err(err) => {
            return Ok((all_failed(batch.lesson, &err, GRADER_HINT.tr(), None), None));
        }
    };
    let stderr = String::from_utf8_lossy(&output.1);
    if let Some(setup) = stderr.lines().find_map(setup_error_reason) {
        return Err(setup.to_owned());
    }
    let isolation = serde_json::from_slice::<serde_json::Value>(&output.0)
        .ok()
        .and_then(|r| r["isolation"].as_str().map(str::to_owned));
    let outcomes = match parse(batch.lesson, &output.0) {
        Ok(outcomes) => outcomes,
        Err(err) => all_failed(
            batch.lesson,
            &tr!(
                "the grader could not grade this submission: {err}",
                "评分程序无法为这份作业评分：{err}"
            ),
            GRADER_HINT.tr(),
            Some(stderr.into_owned()),
        ),
    };
    Ok((outcomes, isolation))
}

/// Runs a grader process, killing it after `limit`; returns stdout, stderr.
fn run_bounded(mut command: Command, limit: Duration) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut child = crate::sandbox::spawn_adopted(&mut command)
        .map_err(|err| tr!("cannot start the grader: {err}", "无法启动评分程序：{err}"))?;
    let result = wait_bounded(&mut child, limit);
    crate::sandbox::release(child.id());
    result
}

fn wait_bounded(
    child: &mut std::process::Child,
    limit: Duration,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    match proctools::child::wait_timeout(child, limit) {
        Ok(Some(_)) => {}
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            crate::jail::clean_after(child.id());
            let limit = limit.as_secs();
            return Err(tr!(
                "grading took longer than {limit} s and was stopped",
                "评分用时超过了 {limit} 秒，已被停止"
            ));
        }
        Err(err) => {
            return Err(tr!(
                "cannot wait for the grader: {err}",
                "无法等待评分程序：{err}"
            ));
        }
    }
    Ok((
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    ))
}

/// Reads a `grader check --format json` report back into outcomes.
pub fn parse(lesson: &'static Lesson, json: &[u8]) -> Result<Vec<Outcome>, String> {
    let report: serde_json::Value = serde_json::from_slice(json)
        .map_err(|err| tr!("its report is not JSON: {err}", "它的报告不是 JSON：{err}"))?;
    let checks = report["checks"]
        .as_array()
        .ok_or(tr("its report has no checks", "它的报告里没有检查项"))?;
    checks
        .iter()
        .map(|c| {
            let id = c["id"]
                .as_str()
                .ok_or(tr("a check without an id", "一个没有 id 的检查项"))?;
            let check = lesson
                .check(id)
                .ok_or_else(|| tr!("unknown check {id}", "未知的检查项 {id}"))?;
            Ok(Outcome {
                check,
                score: c["score"].as_u64().unwrap_or(0) as u32,
                reason: c["reason"].as_str().map(str::to_owned),
                duration: Duration::from_secs_f64(
                    c["duration_seconds"].as_f64().unwrap_or(0.0).max(0.0),
                ),
                output_tail: c["output_tail"].as_str().map(str::to_owned),
                hint: c["hint"]
                    .as_str()
                    .filter(|h| *h != check.hint.en && *h != check.hint.zh)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// The gradebook: a row per student (student, score, max_score, a column
/// per check with the points earned, `status`: `graded`, or `setup error`
/// for a program that could not be started, and the first failure's
/// reason).
pub fn csv(lesson: &Lesson, students: &[Student]) -> String {
    let mut out = String::from("student,score,max_score");
    for check in lesson.checks {
        out.push(',');
        out.push_str(check.id);
    }
    out.push_str(",status,first_failure\n");
    for student in students {
        let _ = write!(
            out,
            "{},{},{}",
            field(&student.name),
            student.score(),
            lesson.max_points()
        );
        for check in lesson.checks {
            let score = student
                .outcomes
                .iter()
                .find(|o| o.check.id == check.id)
                .map_or(0, |o| o.score);
            let _ = write!(out, ",{score}");
        }
        let (status, reason) = match &student.setup_error {
            Some(setup) => (
                "setup error",
                tr!("setup error: {setup}", "设置错误：{setup}"),
            ),
            None => ("graded", student.first_failure().unwrap_or_default()),
        };
        let _ = writeln!(out, ",{status},{}", field(&reason));
    }
    out
}

/// A CSV field, quoted when it needs to be (RFC 4180).
fn field(text: &str) -> String {
    // Control characters shown escaped, and a cell a spreadsheet would take
    // for a formula (a student's folder named `=HYPERLINK(...)`) made text.
    let mut text = crate::sandbox::escape_line(&text.replace(['\n', '\r'], " "), 2000);
    if text.starts_with(['=', '+', '-', '@']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The summary for the terminal: how many students passed each check, and
/// a histogram of the scores.
pub fn summary(lesson: &Lesson, students: &[Student], elapsed: Duration) -> String {
    let mut out = String::new();
    // Students whose program could not be started were not graded: they
    // are listed, not counted as zeros.
    let setup: Vec<&str> = students
        .iter()
        .filter(|s| s.setup_error.is_some())
        .map(|s| s.name.as_str())
        .collect();
    let students: Vec<&Student> = students
        .iter()
        .filter(|s| s.setup_error.is_none())
        .collect();
    if let Some(note) = students.iter().find_map(|s| s.isolation.as_deref()) {
        let _ = writeln!(out, "{note}");
    }
    let n = students.len();
    let (id, seconds, points) = (lesson.id, elapsed.as_secs_f64(), lesson.max_points());
    let _ = writeln!(
        out,
        "{}\n",
        tr!(
            "{id}: graded {n} students in {seconds:.1} s ({points} points in all)",
            "{id}：{n} 名学生评分完毕，用时 {seconds:.1} s（满分 {points} 分）"
        )
    );
    if !setup.is_empty() {
        let (count, names) = (setup.len(), setup.join(", "));
        let _ = writeln!(
            out,
            "  {}\n",
            tr!(
                "not graded, {count} whose program could not be started (setup error in the gradebook's status column): {names}",
                "未评分：{count} 名学生的程序无法启动（成绩表的 status 列为 setup error）：{names}"
            )
        );
    }
    let _ = writeln!(
        out,
        "  {} {} {}",
        pad(tr("check", "检查项"), 17),
        pad(tr("kind", "类别"), 6),
        tr("passed by", "通过人数")
    );
    for check in lesson.checks {
        let passed = students
            .iter()
            .filter(|s| {
                s.outcomes
                    .iter()
                    .any(|o| o.check.id == check.id && o.passed())
            })
            .count();
        let _ = writeln!(
            out,
            "  {:<17} {} {passed:>3}/{n}  {}",
            check.id,
            pad(check.kind.label(), 6),
            bar(passed, n, 20)
        );
    }
    let _ = writeln!(out, "\n  {}", tr("scores:", "得分分布："));
    let max = lesson.max_points();
    let counts: Vec<usize> = (0..=max)
        .map(|score| students.iter().filter(|s| s.score() == score).count())
        .collect();
    let most = counts.iter().copied().max().unwrap_or(0);
    for (score, count) in counts.iter().enumerate().rev() {
        if *count > 0 || score as u32 == max || score == 0 {
            let _ = writeln!(
                out,
                "  {score:>4}/{max}  {:<20} {count}",
                "#".repeat(count * 20 / most.max(1))
            );
        }
    }
    out
}

/// `text` padded with spaces to `width` terminal columns (a Chinese
/// character takes two), so that columns line up in both languages.
pub(crate) fn pad(text: &str, width: usize) -> String {
    let used = loadgen::cli::columns(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

fn bar(value: usize, total: usize, width: usize) -> String {
    let filled = (value * width).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_build_is_told_by_its_first_error_and_its_cause() {
        let gcc = "server.c: In function 'main':\nserver.c:3:12: error: expected ';' before '}' token\n    3 |   return 0\n      |           ^\n      |           ;\n";
        assert_eq!(
            build_error(gcc).unwrap(),
            "server.c:3:12: error: expected ';' before '}' token"
        );
        let ld = "/usr/bin/ld: cannot open output file server: Permission denied\ncollect2: error: ld returned 1 exit status\n";
        let why = build_error(ld).unwrap();
        assert!(
            why.starts_with("/usr/bin/ld: cannot open output file server"),
            "{why}"
        );
        assert!(why.contains("not writable"), "{why}");
        let javac =
            "Server.java:5: error: cannot find symbol\n        Sockt s;\n        ^\n1 error\n";
        assert_eq!(
            build_error(javac).unwrap(),
            "Server.java:5: error: cannot find symbol"
        );
        let rust = "error[E0425]: cannot find value `x` in this scope\n --> src/main.rs:2:5\nerror: could not compile `s` (bin \"s\") due to 1 previous error\n";
        assert_eq!(
            build_error(rust).unwrap(),
            "error[E0425]: cannot find value `x` in this scope"
        );
        assert_eq!(build_error("just a note\n").unwrap(), "just a note");
        assert_eq!(build_error(""), None);
    }

    #[test]
    fn a_setup_error_line_is_read_back_in_either_language() {
        for lang in [Lang::En, Lang::Zh] {
            let line = crate::i18n::with_lang(lang, || {
                format!(
                    "{}{}",
                    lang.pick("grader: error: ", "grader: 错误: "),
                    setup_error_line("python3: not found")
                )
            });
            let reason = setup_error_reason(&line).unwrap_or_default();
            assert!(reason.starts_with("python3: not found"), "{line}");
        }
        assert_eq!(setup_error_reason("grader: error: something else"), None);
    }

    #[test]
    fn columns_line_up_in_chinese() {
        assert_eq!(pad("检查项", 8), "检查项  ");
        assert_eq!(pad("check", 8), "check   ");
        assert_eq!(pad("toolongname", 4), "toolongname");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "two lines");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("e\u{1b}]0;title"), "e\\u{1b}]0;title");
    }
}
