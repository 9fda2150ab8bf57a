//! The grader in Chinese: `--lang zh`, or a Chinese locale without
//! `--lang`, gives every check's summary, reason and hint in Chinese, in
//! every format, the hints pointing to the Chinese walkthroughs; `--lang
//! en` overrides the locale. Each format is read back with a real parser
//! (serde_json, roxmltree, base64), so Chinese text must leave it valid.
//!
//! Most programs here end at once (`sh -c 'exit 3'`: `listens` fails, and
//! every later check is "not checked"), so that these tests are quick.

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use testkit::{LOCALE_VARS, python3_or_skip};

/// A program that ends before it listens.
const ENDS_AT_ONCE: [&str; 3] = ["sh", "-c", "exit 3"];

/// `listens`' summary and the Chinese reason of a program that ended
/// before it listened.
const LISTENS_ZH: &str = "在给定的端口上监听";
const ENDED_ZH: &str = "就结束了（退出码 3）";
/// Words of `listens`' Chinese hint, and its link.
const HINT_ZH: &str = "确认 bind 成功";
const LINK_ZH: &str = "lessons/lesson-03/README.zh-CN.md#3-bind";

/// The grader with no locale variable: a test adds the ones it needs.
fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    for var in LOCALE_VARS {
        command.env_remove(var);
    }
    command.timeout(Duration::from_secs(300));
    command
}

/// `grader check lesson-03 --format FORMAT OPTIONS -- PROGRAM`: stdout
/// and the exit status.
fn check(format: &str, options: &[&str], program: &[&str]) -> (String, i32) {
    let output = grader()
        .args(["check", "lesson-03", "--run-as", "root", "--format", format])
        .args(["--time-scale", "0.5"])
        .args(options)
        .arg("--")
        .args(program)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        output.status.code().unwrap_or(-1),
    )
}

/// A fresh folder for the test, under the target folder (the programs
/// graded see `/tmp` as a private one of their own).
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("grader-zh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The check `id` of a JSON report (ours or Gradescope's `tests`).
fn find<'a>(checks: &'a Value, key: &str, id: &str) -> &'a Value {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[key].as_str().is_some_and(|v| v.starts_with(id)))
        .unwrap_or_else(|| panic!("no {id} in {checks:#}"))
}

#[test]
fn the_text_report_is_in_chinese() {
    // The program's own bytes stay escaped as in English: no escape
    // sequence reaches the teacher's terminal.
    let (text, code) = check(
        "text",
        &["--lang", "zh"],
        &["sh", "-c", "printf 'x\\033]0;pwned\\007\\n'; exit 3"],
    );
    assert_eq!(code, 1, "{text}");
    for needle in [
        "lesson-03：单客户端 TCP 服务端",
        "程序：sh -c",
        "失败  listens",
        "核心",
        LISTENS_ZH,
        "原因：",
        ENDED_ZH,
        "提示：",
        HINT_ZH,
        LINK_ZH,
        "输出（最后几行）：",
        "x\\u{1b}]0;pwned\\u{7}",
        // The checks that could not run say why, and whom to fix first.
        "未检查：程序始终没有监听",
        "先让 `listens` 通过",
        "核心检查 0/9，健壮性检查 0/2，总分 0/11",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.contains("reason:"), "{text}");
}

#[test]
fn the_json_report_is_in_chinese_with_the_same_keys() {
    let (json, code) = check("json", &["--lang", "zh"], &ENDS_AT_ONCE);
    assert_eq!(code, 1, "{json}");
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(report["schema"], "socket-lessons-grader/1");
    assert_eq!(report["lang"], "zh");
    assert_eq!(report["title"], "单客户端 TCP 服务端");
    let listens = find(&report["checks"], "id", "listens");
    // What programs read is the same in both languages.
    assert_eq!(listens["kind"], "core");
    assert_eq!(listens["status"], "failed");
    assert_eq!(listens["summary"], LISTENS_ZH);
    let reason = listens["reason"].as_str().unwrap();
    assert!(reason.contains(ENDED_ZH), "{reason}");
    let hint = listens["hint"].as_str().unwrap();
    assert!(hint.contains(HINT_ZH) && hint.contains(LINK_ZH), "{hint}");
}

#[test]
fn a_students_bytes_are_shown_in_a_chinese_reason_as_in_an_english_one() {
    let Some(python) = python3_or_skip("a Chinese reason quoting bytes") else {
        return;
    };
    let server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs/server03.py");
    let program = [
        python.to_string_lossy().into_owned(),
        server.to_string_lossy().into_owned(),
        "{port}".to_owned(),
        "replies-utf8".to_owned(),
    ];
    let program: Vec<&str> = program.iter().map(String::as_str).collect();
    let (json, _) = check("json", &["--lang", "zh"], &program);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let replies = find(&report["checks"], "id", "replies-gbk");
    let reason = replies["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("程序回复了 ") && reason.contains("个字节的 UTF-8，不是 GBK：b'"),
        "{reason}"
    );
    assert!(reason.contains("（UTF-8 编码的 \""), "{reason}");
    let hint = replies["hint"].as_str().unwrap();
    assert!(
        hint.contains("lessons/lesson-03/README.zh-CN.md#8-send"),
        "{hint}"
    );
}

#[test]
fn junit_xml_stays_valid_with_chinese_failure_messages() {
    let (xml, code) = check(
        "junit",
        &["--lang", "zh"],
        &["sh", "-c", "echo '没有 <服务端> & 运气'; exit 3"],
    );
    assert_eq!(code, 1, "{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("{err}:\n{xml}"));
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("listens"))
        .unwrap();
    // Class names and failure types are read by CI systems: unchanged.
    assert_eq!(case.attribute("classname"), Some("lesson-03.core"));
    let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("type"), Some("core"));
    assert!(
        failure.attribute("message").unwrap().contains(ENDED_ZH),
        "{xml}"
    );
    let text = failure.text().unwrap();
    for needle in ["原因：", "提示：", HINT_ZH, LINK_ZH, "没有 <服务端> & 运气"] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}

#[test]
fn gradescope_results_are_in_chinese() {
    let (json, code) = check("gradescope", &["--lang", "zh"], &ENDS_AT_ONCE);
    assert_eq!(code, 1, "{json}");
    let results: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let output = results["output"].as_str().unwrap();
    assert!(
        output.contains("lesson-03：单客户端 TCP 服务端") && output.contains("总分 0/11"),
        "{output}"
    );
    let listens = find(&results["tests"], "name", "listens");
    assert_eq!(listens["name"], "listens（核心）");
    assert_eq!(listens["status"], "failed");
    let output = listens["output"].as_str().unwrap();
    for needle in [LISTENS_ZH, ENDED_ZH, HINT_ZH, LINK_ZH] {
        assert!(output.contains(needle), "{needle:?} not in {output}");
    }
}

#[test]
fn the_classroom_result_is_in_chinese() {
    use base64::Engine as _;
    let (line, code) = check("classroom", &["--lang", "zh"], &ENDS_AT_ONCE);
    assert_eq!(code, 1, "{line}");
    let encoded = line.trim_end().strip_prefix("result=").unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let result: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(result["status"], "fail");
    let listens = find(&result["tests"], "name", "lesson-03 listens");
    assert_eq!(listens["name"], "lesson-03 listens（核心，1 分）");
    assert_eq!(listens["test_code"], LISTENS_ZH);
    let message = listens["message"].as_str().unwrap();
    for needle in [ENDED_ZH, HINT_ZH, LINK_ZH] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
}

#[test]
fn hint_says_the_next_step_in_chinese() {
    let output = grader()
        .args([
            "hint",
            "lesson-03",
            "--lang",
            "zh",
            "--run-as",
            "root",
            "--",
        ])
        .args(ENDS_AT_ONCE)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    for needle in [
        "lesson-03：7 个检查项中有 7 个没通过。先修这一个：",
        "listens（核心，1 分）：在给定的端口上监听",
        "发生了什么：",
        ENDED_ZH,
        "下一步：",
        LINK_ZH,
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

#[test]
fn a_chinese_locale_speaks_chinese_and_lang_en_overrides_it() {
    let list = |env: &[(&str, &str)], args: &[&str]| {
        let output = grader()
            .arg("list")
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let chinese = "lesson-05：多线程服务端（13 分）";
    let english = "lesson-05: the threaded server (13 points)";
    for env in [
        &[("LANG", "zh_CN.UTF-8")][..],
        &[("LC_MESSAGES", "zh_CN.UTF-8")],
        &[("LC_ALL", "zh_TW.UTF-8"), ("LANG", "en_US.UTF-8")],
    ] {
        let text = list(env, &[]);
        assert!(text.contains(chinese), "{env:?}:\n{text}");
        assert!(text.contains(LISTENS_ZH), "{env:?}:\n{text}");
        let text = list(env, &["--lang", "en"]);
        assert!(text.contains(english), "{env:?} --lang en:\n{text}");
    }
    // The first variable that is set decides, as for any Unix tool.
    let text = list(&[("LC_ALL", "C.UTF-8"), ("LANG", "zh_CN.UTF-8")], &[]);
    assert!(text.contains(english), "{text}");
    assert!(list(&[], &[]).contains(english));
    assert!(list(&[], &["--lang", "zh"]).contains(chinese));
    assert!(list(&[], &["--lang=zh-CN"]).contains(chinese));

    // And a whole report, from the locale alone.
    let output = grader()
        .args(["check", "lesson-03", "--format", "json", "--run-as", "root"])
        .arg("--")
        .args(ENDS_AT_ONCE)
        .env("LANG", "zh_CN.UTF-8")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["lang"], "zh");
    let listens = find(&report["checks"], "id", "listens");
    assert!(
        listens["reason"].as_str().unwrap().contains(ENDED_ZH),
        "{report:#}"
    );
    assert!(listens["hint"].as_str().unwrap().contains(LINK_ZH));
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let output = grader()
        .args(["check", "lesson-03", "--lang", "fr", "--", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("invalid value 'fr' for '--lang <LANG>'") && stderr.contains("en or zh"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_batch_in_chinese_writes_chinese_reasons_and_summary() {
    let dir = temp_dir("batch");
    let class = dir.join("class");
    for student in ["alice", "bob"] {
        std::fs::create_dir_all(class.join(student)).unwrap();
    }
    let csv = dir.join("grades.csv");
    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class)
        .args(["--run", "exit 3", "--run-as", "root", "--time-scale", "0.5"])
        .arg("--csv")
        .arg(&csv)
        .args(["--lang", "zh"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for needle in [
        "lesson-03：2 名学生评分完毕",
        "检查项",
        "通过人数",
        "得分分布：",
        "成绩已写入",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in\n{stdout}");
    }
    let gradebook = std::fs::read_to_string(&csv).unwrap();
    // The header and the status are read by spreadsheets and scripts.
    assert!(
        gradebook.starts_with("student,score,max_score,listens,"),
        "{gradebook}"
    );
    let alice = gradebook.lines().find(|l| l.starts_with("alice,")).unwrap();
    assert!(
        alice.contains(",graded,") && alice.contains("listens: 程序还没有在端口"),
        "{alice}"
    );
    assert!(alice.contains(ENDED_ZH), "{alice}");
    let _ = std::fs::remove_dir_all(&dir);
}
