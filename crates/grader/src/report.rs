//! The grading report: for a person (text) or for a program (JSON).
//!
//! Every label a person reads (the text report's headings, `PASS` and
//! `FAIL`, the score line, Gradescope's and Classroom's test names and
//! outputs, JUnit's failure messages) is in the grading's language
//! ([`crate::i18n`]); what a program reads (JSON keys, check ids, `core`
//! and `robust`, `passed` and `failed`, JUnit class names) is the same in
//! both.
//!
//! The JSON schema (`"schema": "socket-lessons-grader/1"`):
//!
//! ```text
//! {
//!   "schema": "socket-lessons-grader/1",
//!   "grader": {"name": "grader", "version": "0.1.0"},
//!   "lesson": "lesson-05", "title": "the threaded server",
//!   "command": ["python3", "server.py", "{port}"],
//!   "lang": "en",
//!   "isolation": null,
//!   "passed": false,
//!   "total": {"score": 12, "max_score": 13,
//!             "core": {"score": 9, "max_score": 9},
//!             "robust": {"score": 3, "max_score": 4}},
//!   "checks": [
//!     {"id": "listens", "kind": "core", "points": 1, "score": 1,
//!      "status": "passed", "summary": "...", "duration_seconds": 0.12,
//!      "reason": null, "hint": null, "output_tail": null},
//!     ...
//!   ]
//! }
//! ```
//!
//! `reason`, `hint` and `output_tail` are strings when the check failed and
//! `null` when it passed. `lang` (`en` or `zh`) is the language of
//! `title`, `summary`, `reason`, `hint` and `isolation`. `isolation` is `null` where the programs ran with
//! every protection docs/grading.md promises, and otherwise a line that
//! says what they lacked.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::catalog::{Kind, Lesson};
use crate::i18n::tr;
use crate::run::Outcome;
use crate::tr;

/// Scores added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Points earned.
    pub score: u32,
    /// Points there were.
    pub max: u32,
}

/// The total, and the total of each kind.
pub fn totals(outcomes: &[Outcome]) -> (Score, Score, Score) {
    let mut all = Score::default();
    let mut core = Score::default();
    let mut robust = Score::default();
    for outcome in outcomes {
        for score in [
            &mut all,
            if outcome.check.kind == Kind::Core {
                &mut core
            } else {
                &mut robust
            },
        ] {
            score.score += outcome.score;
            score.max += outcome.check.points;
        }
    }
    (all, core, robust)
}

/// The report for a person: a line per check, and for each failure its
/// reason, a hint, and the end of the program's output. `isolation`, where
/// programs ran with less isolation than promised, is its first line.
pub fn text(
    lesson: &Lesson,
    command: &[String],
    outcomes: &[Outcome],
    isolation: Option<&str>,
) -> String {
    let mut out = String::new();
    if let Some(note) = isolation {
        let _ = writeln!(out, "{note}");
    }
    let (id, title) = (lesson.id, lesson.title.tr());
    let _ = writeln!(out, "{}", tr!("{id}: {title}", "{id}：{title}"));
    let command = command.join(" ");
    let _ = writeln!(out, "{}", tr!("program: {command}", "程序：{command}"));
    out.push('\n');
    let width = outcomes.iter().map(|o| o.check.id.len()).max().unwrap_or(0);
    let mut shown: Vec<&String> = Vec::new();
    for outcome in outcomes {
        let check = outcome.check;
        let _ = writeln!(
            out,
            "  {}  {:<width$}  {}  {}/{}  {:>5.1}s  {}",
            if outcome.passed() {
                tr("PASS", "通过")
            } else {
                tr("FAIL", "失败")
            },
            check.id,
            crate::batch::pad(check.kind.label(), 6),
            outcome.score,
            check.points,
            outcome.duration.as_secs_f64(),
            check.summary.tr(),
        );
        if let Some(reason) = &outcome.reason {
            let _ = writeln!(out, "        {}{reason}", tr("reason: ", "原因："));
            let _ = writeln!(
                out,
                "        {}{}",
                tr("hint:   ", "提示："),
                outcome.hint()
            );
            match &outcome.output_tail {
                // The same run's output is shown once, under its first
                // failed check.
                Some(tail) if shown.contains(&tail) => {
                    let _ = writeln!(
                        out,
                        "        {}",
                        tr("output: as shown above", "输出：见上文")
                    );
                }
                Some(tail) => {
                    let _ = writeln!(
                        out,
                        "        {}",
                        tr("output (last lines):", "输出（最后几行）：")
                    );
                    for line in tail.lines() {
                        let _ = writeln!(out, "          {line}");
                    }
                    shown.push(tail);
                }
                None => {}
            }
        }
    }
    let (all, core, robust) = totals(outcomes);
    out.push('\n');
    let all_passed = if all.score == all.max {
        tr(": every check passed", "：全部检查通过")
    } else {
        ""
    };
    let _ = writeln!(out, "{}{all_passed}", score_line(all, core, robust));
    out
}

/// The scores in a line, in the grading's language: `core 6/9, robust
/// 4/4, total 10/13`, `核心检查 6/9，健壮性检查 4/4，总分 10/13`.
pub fn score_line(all: Score, core: Score, robust: Score) -> String {
    let (c, cm, r, rm, a, am) = (
        core.score,
        core.max,
        robust.score,
        robust.max,
        all.score,
        all.max,
    );
    tr!(
        "core {c}/{cm}, robust {r}/{rm}, total {a}/{am}",
        "核心检查 {c}/{cm}，健壮性检查 {r}/{rm}，总分 {a}/{am}"
    )
}

/// The report as JSON (see the module documentation for the schema).
pub fn json(
    lesson: &Lesson,
    command: &[String],
    outcomes: &[Outcome],
    isolation: Option<&str>,
) -> String {
    let (all, core, robust) = totals(outcomes);
    let checks: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let check = outcome.check;
            json!({
                "id": check.id,
                "kind": check.kind.name(),
                "points": check.points,
                "score": outcome.score,
                "status": if outcome.passed() { "passed" } else { "failed" },
                "summary": check.summary.tr(),
                "duration_seconds": seconds(outcome.duration.as_secs_f64()),
                "reason": outcome.reason,
                "hint": outcome.reason.as_ref().map(|_| outcome.hint()),
                "output_tail": outcome.output_tail,
            })
        })
        .collect();
    let report = json!({
        "schema": "socket-lessons-grader/1",
        "grader": {"name": "grader", "version": env!("CARGO_PKG_VERSION")},
        "lesson": lesson.id,
        "title": lesson.title.tr(),
        "command": command,
        "lang": crate::i18n::current().code(),
        "isolation": isolation,
        "passed": all.score == all.max,
        "total": {
            "score": all.score,
            "max_score": all.max,
            "core": {"score": core.score, "max_score": core.max},
            "robust": {"score": robust.score, "max_score": robust.max},
        },
        "checks": checks,
    });
    pretty(&report)
}

/// Seconds rounded to milliseconds, as a JSON number.
fn seconds(value: f64) -> Value {
    json!((value * 1000.0).round() / 1000.0)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// A failed check's details, for formats that have one text field.
fn details(outcome: &Outcome) -> String {
    let mut text = String::new();
    if let Some(reason) = &outcome.reason {
        let _ = writeln!(text, "{}{reason}", tr("reason: ", "原因："));
        let _ = writeln!(text, "{}{}", tr("hint: ", "提示："), outcome.hint());
    }
    if let Some(tail) = &outcome.output_tail {
        let _ = write!(
            text,
            "{}\n{tail}",
            tr("output (last lines):", "输出（最后几行）：")
        );
    }
    text
}

/// The report as Gradescope's autograder `results.json`: the score, the
/// maximum, the time, and one test per check with its score, status and
/// output (the reason, the hint and the program's output tail).
pub fn gradescope(
    lesson: &Lesson,
    outcomes: &[Outcome],
    execution_time: f64,
    isolation: Option<&str>,
) -> String {
    let (all, core, robust) = totals(outcomes);
    let tests: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .map(|(i, outcome)| {
            let check = outcome.check;
            let output = format!("{}\n{}", check.summary.tr(), details(outcome));
            let (id, kind) = (check.id, check.kind.label());
            json!({
                "name": tr!("{id} ({kind})", "{id}（{kind}）"),
                "number": (i + 1).to_string(),
                "score": outcome.score,
                "max_score": check.points,
                "status": if outcome.passed() { "passed" } else { "failed" },
                "output": output.trim_end(),
                "visibility": "visible",
            })
        })
        .collect();
    let note = isolation
        .map(|note| format!("{note}\n"))
        .unwrap_or_default();
    let (id, title, scores) = (lesson.id, lesson.title.tr(), score_line(all, core, robust));
    let report = json!({
        "score": all.score,
        "max_score": all.max,
        "execution_time": seconds(execution_time),
        "output": tr!("{note}{id}: {title}. {scores}", "{note}{id}：{title}。{scores}"),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    });
    pretty(&report)
}

/// The report as a GitHub Classroom grading step's output: one line,
/// `result=` and the base64 of the JSON that `autograding-grading-reporter`
/// reads, with one test per check, so that the reporter adds up partial
/// credit (`Points X/Y` is the sum of the tests' `score` over `max_score`).
pub fn classroom(lesson: &Lesson, outcomes: &[Outcome]) -> String {
    use base64::Engine as _;
    let (all, _, _) = totals(outcomes);
    let tests: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let check = outcome.check;
            let (lesson, id, kind, points) =
                (lesson.id, check.id, check.kind.label(), check.points);
            json!({
                "name": tr!(
                    "{lesson} {id} ({kind}, {points} pt)",
                    "{lesson} {id}（{kind}，{points} 分）"
                ),
                "status": if outcome.passed() { "pass" } else { "fail" },
                "score": outcome.score,
                "message": if outcome.passed() {
                    check.summary.tr().to_owned()
                } else {
                    details(outcome).trim_end().to_owned()
                },
                "test_code": check.summary.tr(),
                "filename": "",
                "line_no": 0,
                "duration": seconds(outcome.duration.as_secs_f64()),
            })
        })
        .collect();
    let result = json!({
        "version": 1,
        "status": if all.score == all.max { "pass" } else { "fail" },
        "max_score": all.max,
        "tests": tests,
    });
    format!(
        "result={}\n",
        base64::engine::general_purpose::STANDARD.encode(result.to_string())
    )
}

/// One JUnit `<testsuite>`: a test case per check, a `<failure>` for each
/// failed one. `name` names the suite (the lesson, or a student in a
/// batch).
pub fn junit_suite(name: &str, lesson: &Lesson, outcomes: &[Outcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.passed()).count();
    let time: f64 = outcomes.iter().map(|o| o.duration.as_secs_f64()).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  <testsuite name={} tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
        attr(name),
        outcomes.len()
    );
    for outcome in outcomes {
        let check = outcome.check;
        let classname = format!("{}.{}", lesson.id, check.kind.name());
        let open = format!(
            "    <testcase name={} classname={} time=\"{:.3}\"",
            attr(check.id),
            attr(&classname),
            outcome.duration.as_secs_f64()
        );
        match &outcome.reason {
            None => {
                let _ = writeln!(out, "{open}/>");
            }
            Some(reason) => {
                let _ = writeln!(out, "{open}>");
                let _ = writeln!(
                    out,
                    "      <failure message={} type=\"{}\">{}</failure>",
                    attr(reason),
                    check.kind.name(),
                    text_node(&details(outcome))
                );
                let _ = writeln!(out, "    </testcase>");
            }
        }
    }
    out.push_str("  </testsuite>\n");
    out
}

/// A whole JUnit XML document around `suites`.
pub fn junit_document(suites: &[String], tests: usize, failures: usize, time: f64) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"grader\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">"
    );
    for suite in suites {
        out.push_str(suite);
    }
    out.push_str("</testsuites>\n");
    out
}

/// The report as JUnit XML, one test case per check.
pub fn junit(lesson: &Lesson, outcomes: &[Outcome]) -> String {
    let suite = junit_suite(lesson.id, lesson, outcomes);
    let failures = outcomes.iter().filter(|o| !o.passed()).count();
    let time: f64 = outcomes.iter().map(|o| o.duration.as_secs_f64()).sum();
    junit_document(&[suite], outcomes.len(), failures, time)
}

/// Text made safe for XML: escaped, and without the characters XML 1.0
/// cannot hold at all (most C0 controls, U+FFFE, U+FFFF), which would make
/// the whole file unreadable.
fn text_node(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\n' | '\t' | '\r')
                || (c >= ' ' && c != '\u{7f}' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A quoted XML attribute value.
fn attr(text: &str) -> String {
    let escaped = text_node(text)
        .replace('"', "&quot;")
        .replace('\n', "&#10;");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_cannot_hold() {
        assert_eq!(
            text_node("a\u{1}b\u{ffff}c\u{fffe}<&>\u{1b}[2J"),
            "abc&lt;&amp;&gt;[2J"
        );
        assert_eq!(attr("x\ny\"z"), "\"x&#10;y&quot;z\"");
    }
}
