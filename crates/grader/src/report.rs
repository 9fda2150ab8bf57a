//! The grading report: for a person (text) or for a program (JSON).
//!
//! The JSON schema (`"schema": "socket-lessons-grader/1"`):
//!
//! ```text
//! {
//!   "schema": "socket-lessons-grader/1",
//!   "grader": {"name": "grader", "version": "0.1.0"},
//!   "lesson": "lesson-05", "title": "the threaded server",
//!   "command": ["python3", "server.py", "{port}"],
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
//! `null` when it passed.

use std::fmt::Write as _;

use crate::catalog::{Kind, Lesson};
use crate::run::Outcome;

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
/// reason, a hint, and the end of the program's output.
pub fn text(lesson: &Lesson, command: &[String], outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", lesson.id, lesson.title);
    let _ = writeln!(out, "program: {}", command.join(" "));
    out.push('\n');
    let width = outcomes.iter().map(|o| o.check.id.len()).max().unwrap_or(0);
    for outcome in outcomes {
        let check = outcome.check;
        let _ = writeln!(
            out,
            "  {}  {:<width$}  {:<6}  {}/{}  {:>5.1}s  {}",
            if outcome.passed() { "PASS" } else { "FAIL" },
            check.id,
            check.kind.name(),
            outcome.score,
            check.points,
            outcome.duration.as_secs_f64(),
            crate::catalog::summary(check),
        );
        if let Some(reason) = &outcome.reason {
            let _ = writeln!(out, "        reason: {reason}");
            let _ = writeln!(out, "        hint:   {}", outcome.hint());
            if let Some(tail) = &outcome.output_tail {
                let _ = writeln!(out, "        output (last lines):");
                for line in tail.lines() {
                    let _ = writeln!(out, "          {line}");
                }
            }
        }
    }
    let (all, core, robust) = totals(outcomes);
    out.push('\n');
    let _ = writeln!(
        out,
        "core {}/{}, robust {}/{}, total {}/{}{}",
        core.score,
        core.max,
        robust.score,
        robust.max,
        all.score,
        all.max,
        if all.score == all.max {
            ": every check passed"
        } else {
            ""
        }
    );
    out
}

/// The report as JSON (see the module documentation for the schema).
pub fn json(lesson: &Lesson, command: &[String], outcomes: &[Outcome]) -> String {
    let (all, core, robust) = totals(outcomes);
    let mut out = String::new();
    out.push_str("{\n");
    let _ = writeln!(out, "  \"schema\": \"socket-lessons-grader/1\",");
    let _ = writeln!(
        out,
        "  \"grader\": {{\"name\": \"grader\", \"version\": {}}},",
        string(env!("CARGO_PKG_VERSION"))
    );
    let _ = writeln!(out, "  \"lesson\": {},", string(lesson.id));
    let _ = writeln!(out, "  \"title\": {},", string(lesson.title));
    let command: Vec<String> = command.iter().map(|a| string(a)).collect();
    let _ = writeln!(out, "  \"command\": [{}],", command.join(", "));
    let _ = writeln!(out, "  \"passed\": {},", all.score == all.max);
    let _ = writeln!(
        out,
        "  \"total\": {{\"score\": {}, \"max_score\": {}, \"core\": {{\"score\": {}, \"max_score\": {}}}, \"robust\": {{\"score\": {}, \"max_score\": {}}}}},",
        all.score, all.max, core.score, core.max, robust.score, robust.max
    );
    out.push_str("  \"checks\": [\n");
    for (i, outcome) in outcomes.iter().enumerate() {
        let check = outcome.check;
        let failed = |value: Option<&str>| value.map_or_else(|| "null".to_owned(), string);
        let _ = write!(
            out,
            "    {{\"id\": {}, \"kind\": {}, \"points\": {}, \"score\": {}, \"status\": {}, \"summary\": {}, \"duration_seconds\": {:.3}, \"reason\": {}, \"hint\": {}, \"output_tail\": {}}}",
            string(check.id),
            string(check.kind.name()),
            check.points,
            outcome.score,
            string(if outcome.passed() { "passed" } else { "failed" }),
            string(&crate::catalog::summary(check)),
            outcome.duration.as_secs_f64(),
            failed(outcome.reason.as_deref()),
            failed(outcome.reason.as_ref().map(|_| outcome.hint())),
            failed(outcome.output_tail.as_deref()),
        );
        out.push_str(if i + 1 < outcomes.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    out
}

/// A failed check's details, for formats that have one text field.
fn details(outcome: &Outcome) -> String {
    let mut text = String::new();
    if let Some(reason) = &outcome.reason {
        let _ = writeln!(text, "reason: {reason}");
        let _ = writeln!(text, "hint: {}", outcome.hint());
    }
    if let Some(tail) = &outcome.output_tail {
        let _ = write!(text, "output (last lines):\n{tail}");
    }
    text
}

/// The report as Gradescope's autograder `results.json`: the score, the
/// maximum, the time, and one test per check with its score, status and
/// output (the reason, the hint and the program's output tail).
pub fn gradescope(lesson: &Lesson, outcomes: &[Outcome], execution_time: f64) -> String {
    let (all, core, robust) = totals(outcomes);
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"score\": {},", all.score);
    let _ = writeln!(out, "  \"max_score\": {},", all.max);
    let _ = writeln!(out, "  \"execution_time\": {execution_time:.3},");
    let summary = format!(
        "{}: {}. core {}/{}, robust {}/{}, total {}/{}",
        lesson.id, lesson.title, core.score, core.max, robust.score, robust.max, all.score, all.max
    );
    let _ = writeln!(out, "  \"output\": {},", string(&summary));
    out.push_str(
        "  \"visibility\": \"visible\",\n  \"stdout_visibility\": \"hidden\",\n  \"tests\": [\n",
    );
    for (i, outcome) in outcomes.iter().enumerate() {
        let check = outcome.check;
        let mut output = crate::catalog::summary(check);
        output.push('\n');
        output.push_str(&details(outcome));
        let _ = write!(
            out,
            "    {{\"name\": {}, \"number\": \"{}\", \"score\": {}, \"max_score\": {}, \"status\": {}, \"output\": {}, \"visibility\": \"visible\"}}",
            string(&format!("{} ({})", check.id, check.kind.name())),
            i + 1,
            outcome.score,
            check.points,
            string(if outcome.passed() { "passed" } else { "failed" }),
            string(output.trim_end()),
        );
        out.push_str(if i + 1 < outcomes.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    out
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

/// Text made safe for XML: escaped, and without the control characters XML
/// 1.0 cannot hold at all.
fn text_node(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || c == '\r' || c >= ' ')
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

/// A JSON string literal.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}
