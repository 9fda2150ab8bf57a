//! Keeps each exercise's starter in step with the lesson it asks for.
//!
//! A starter (`exercises/lesson-NN/src/main.rs`) is the lesson's program
//! with the socket calls taken out, and a TODO step for each: the English
//! instruction, the walkthrough section that explains it, then the same
//! instruction in Chinese and the Chinese walkthrough's section:
//!
//! ```text
//! // TODO 3 (send): send all of `send_data`. send() returns how many bytes it took, ...
//! //     See: lessons/lesson-02/README.md#4-send
//! //   中文：把 `send_data` 全部发送出去。……
//! //     参见：lessons/lesson-02/README.zh-CN.md#4-send
//! ```
//!
//! The names in parentheses are anchors (`// ANCHOR: bind`) of the finished
//! program, which the exercise's README links to on its "The finished
//! program" line. A TODO's comment block is its line and the indented
//! comment lines under it (`//` and two spaces or more); its Chinese part
//! starts at the line `//   中文：`. A section is named by its file, from the
//! repository's root, and its heading's anchor as GitHub makes it
//! ([`github_anchor`]): the TODO numbers follow the starter, the headings'
//! numbers the finished program, and the anchor is what lets a learner find
//! one from the other. [`check`] fails when the two drift apart:
//!
//! - a TODO names an anchor the finished program no longer has, or the
//!   TODOs are out of order against it, or misnumbered;
//! - an anchor a TODO names is not quoted in the lesson's walkthrough, so
//!   the starter would send the learner to read about a step that the
//!   walkthrough does not explain;
//! - a TODO has no Chinese instruction, or its English or Chinese part
//!   names no section; a section it names is not in the lesson's
//!   walkthrough of that language (`README.md` for the English part,
//!   `README.zh-CN.md` for the Chinese), or is no heading there, or none of
//!   the sections it names quotes a step of the TODO (so the learner would
//!   be sent to the wrong place); any other `FILE.md#anchor` in the starter
//!   that does not resolve to a heading;
//! - a text constant both files define (the message, the reply that the
//!   grader checks byte for byte) differs.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::walkthrough;

/// One TODO step of a starter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// Its line in the starter, from 1.
    pub line: usize,
    /// Its number, as written.
    pub number: u32,
    /// The anchors of the finished program it stands for.
    pub anchors: Vec<String>,
    /// Whether its comment block has a Chinese part (a line `//   中文：...`).
    pub chinese: bool,
    /// The walkthrough sections its comment block names.
    pub sections: Vec<SectionRef>,
}

/// A walkthrough section named in a starter: `lessons/lesson-05/README.md#2-accept-in-a-loop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRef {
    /// Its line in the starter, from 1.
    pub line: usize,
    /// Whether it is in a TODO's Chinese part.
    pub chinese: bool,
    /// The document, from the repository's root.
    pub file: String,
    /// The heading's anchor, without `#`.
    pub anchor: String,
}

/// What starts a TODO's Chinese part.
const CHINESE: &str = "中文：";

/// The section references on one line: every word with `.md#` in it, up to
/// the end of the anchor (letters, digits, `-` and `_`, as GitHub makes
/// them), so that punctuation after it (`,` `)` `，` `。`) is not part of it.
pub fn section_refs(line: &str) -> Vec<(String, String)> {
    let is_anchor = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    line.split(|c: char| c.is_whitespace() || "()（）`\"'，、；：;:".contains(c))
        .filter_map(|word| {
            let (file, rest) = word.split_once(".md#")?;
            let end = rest.find(|c| !is_anchor(c)).unwrap_or(rest.len());
            Some((format!("{file}.md"), rest[..end].to_owned()))
        })
        .collect()
}

/// The text of a `//` comment line (after the `//`), or `None` for code and
/// doc comments.
fn comment(line: &str) -> Option<&str> {
    let text = line.trim_start().strip_prefix("//")?;
    (!text.starts_with(['/', '!'])).then_some(text)
}

/// Finds the TODO steps of a starter: comment lines `// TODO N (a, b): ...`,
/// each with its comment block (the indented comment lines under it).
/// A TODO line in another form is an error, so that none is skipped.
pub fn todos(source: &str) -> Result<Vec<Todo>, String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut todos = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("// TODO") else {
            continue;
        };
        let parsed = rest
            .trim_start()
            .split_once(' ')
            .and_then(|(number, rest)| {
                let number = number.parse::<u32>().ok()?;
                let names = rest.strip_prefix('(')?.split_once("):")?.0;
                let anchors: Vec<String> = names
                    .split(',')
                    .map(|name| name.trim().to_owned())
                    .collect();
                anchors
                    .iter()
                    .all(|a| !a.is_empty())
                    .then_some((number, anchors))
            });
        let (number, anchors) = parsed.ok_or_else(|| {
            format!(
                "line {}: a TODO must read `// TODO N (anchor, ...): what to do`, got `{}`",
                index + 1,
                line.trim()
            )
        })?;
        // The block: this line, and the comment lines under it that are
        // indented or start the Chinese part.
        let mut todo = Todo {
            line: index + 1,
            number,
            anchors,
            chinese: false,
            sections: Vec::new(),
        };
        for (offset, block_line) in lines[index..].iter().enumerate() {
            if offset > 0 {
                let Some(text) = comment(block_line) else {
                    break;
                };
                if text.trim_start().starts_with(CHINESE) {
                    todo.chinese = true;
                } else if !text.starts_with("  ") {
                    break;
                }
            }
            for (file, anchor) in section_refs(block_line) {
                todo.sections.push(SectionRef {
                    line: index + offset + 1,
                    chinese: todo.chinese,
                    file,
                    anchor,
                });
            }
        }
        todos.push(todo);
    }
    Ok(todos)
}

/// GitHub's anchor for a heading's text: lower case, everything but
/// letters, digits, `-`, `_` and spaces dropped (backticks, colons, full-width
/// punctuation), spaces made hyphens: ``### 2. `setsockopt(SO_REUSEADDR)` ``
/// is `2-setsockoptso_reuseaddr`, `### 1. 监听，和之前一样` is `1-监听和之前一样`.
/// (The grader's hints, `see lessons/lesson-NN/README.md#anchor`, use the same.)
pub fn github_anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// One heading of a Markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Its line, from 1.
    pub line: usize,
    /// 1 for `#`, 2 for `##`, ...
    pub level: usize,
    /// Its anchor, as GitHub makes it (a repeated one gets `-1`, `-2`, ...).
    pub anchor: String,
}

/// The ATX headings (`## Title`) of a Markdown document, outside fenced
/// code blocks.
pub fn headings(markdown: &str) -> Vec<Heading> {
    let mut headings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut fence: Option<(char, usize)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let text = line.trim_start();
        if line.len() - text.len() > 3 {
            continue;
        }
        let marker = text.chars().next().unwrap_or(' ');
        let run = text.len() - text.trim_start_matches(marker).len();
        if let Some((fence_char, fence_len)) = fence {
            if marker == fence_char && run >= fence_len && text[run..].trim().is_empty() {
                fence = None;
            }
            continue;
        }
        if matches!(marker, '`' | '~') && run >= 3 {
            fence = Some((marker, run));
            continue;
        }
        if marker != '#' || run > 6 {
            continue;
        }
        let rest = &text[run..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            continue;
        }
        // A closing sequence of `#`s is not part of the title.
        let title = rest.trim();
        let title = match title.trim_end_matches('#') {
            stripped if stripped.is_empty() || stripped.ends_with(' ') => stripped.trim_end(),
            _ => title,
        };
        let base = github_anchor(title);
        let count = seen.entry(base.clone()).or_insert(0);
        let anchor = match *count {
            0 => base,
            n => format!("{base}-{n}"),
        };
        *count += 1;
        headings.push(Heading {
            line: index + 1,
            level: run,
            anchor,
        });
    }
    headings
}

/// The lines (from 1, end excluded) of the section under `headings[i]`: up
/// to the next heading of its level or above.
fn section_lines(headings: &[Heading], i: usize) -> (usize, usize) {
    let end = headings[i + 1..]
        .iter()
        .find(|h| h.level <= headings[i].level)
        .map_or(usize::MAX, |h| h.line);
    (headings[i].line, end)
}

/// The files an exercise's README gives as the finished program: the link
/// targets on its line starting "The finished program", relative to the
/// README's folder.
pub fn solution_links(readme: &str) -> Vec<String> {
    let Some(line) = readme
        .lines()
        .find(|line| line.starts_with("The finished program"))
    else {
        return Vec::new();
    };
    line.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .collect()
}

/// The `const NAME: &str = "...";` items of a source file, as (name, line).
fn text_constants(source: &str) -> Vec<(String, String)> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("const ")?;
            let (name, rest) = rest.split_once(": &str = ")?;
            Some((name.to_owned(), rest.trim_end_matches(';').to_owned()))
        })
        .collect()
}

/// Checks the exercise in `exercise` (a folder with `README.md` and
/// `src/main.rs`) against its finished program; every problem found.
pub fn check(exercise: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let read =
        |path: &Path| fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()));
    let (readme, starter) = match (
        read(&exercise.join("README.md")),
        read(&exercise.join("src/main.rs")),
    ) {
        (Ok(readme), Ok(starter)) => (readme, starter),
        (readme, starter) => {
            problems.extend(readme.err());
            problems.extend(starter.err());
            return problems;
        }
    };
    let todos = match todos(&starter) {
        Ok(todos) if todos.is_empty() => return vec!["src/main.rs has no TODO step".into()],
        Ok(todos) => todos,
        Err(err) => return vec![format!("src/main.rs: {err}")],
    };
    for (expected, todo) in (1..).zip(&todos) {
        if todo.number != expected {
            problems.push(format!(
                "src/main.rs line {}: TODO {} should be TODO {expected}",
                todo.line, todo.number
            ));
        }
    }

    // The finished program's files, and the lesson (the folder above src/).
    let links = solution_links(&readme);
    if links.is_empty() {
        problems.push(
            "README.md: no line starting \"The finished program\" that links to the solution's files"
                .into(),
        );
        return problems;
    }
    let mut solutions: Vec<(PathBuf, String)> = Vec::new();
    for link in &links {
        let path = exercise.join(link);
        match read(&path) {
            Ok(text) => solutions.push((path, text)),
            Err(err) => problems.push(format!("README.md links to a file that is missing: {err}")),
        }
    }
    let Some(lesson) = solutions
        .first()
        .and_then(|(path, _)| path.parent()?.parent().map(Path::to_path_buf))
    else {
        return problems;
    };
    let walkthrough = read(&lesson.join("README.md")).unwrap_or_default();
    let quoted = walkthrough::quotes(&walkthrough).unwrap_or_default();

    // Every TODO's anchors, found in order across the solution's files; and
    // each TODO's steps, as (file in the lesson, anchor).
    // The line of the last step found in each of the solution's files.
    let mut last: Vec<Option<usize>> = vec![None; solutions.len()];
    let mut steps: Vec<Vec<(String, String)>> = Vec::new();
    for todo in &todos {
        let mut found_steps = Vec::new();
        for anchor in &todo.anchors {
            let marker = format!("// ANCHOR: {anchor}");
            let found = solutions
                .iter()
                .enumerate()
                .find_map(|(index, (path, text))| {
                    let line = text.lines().position(|l| l.trim() == marker)?;
                    Some((index, line, path))
                });
            let Some((index, line, path)) = found else {
                problems.push(format!(
                    "src/main.rs line {}: TODO {} names anchor '{anchor}', which the finished program ({}) does not have",
                    todo.line,
                    todo.number,
                    links.join(", ")
                ));
                continue;
            };
            // Steps keep their order within a file; a file of its own (a
            // module, or another lesson's file the lesson uses) may come
            // between them.
            if last[index].is_some_and(|last_line| line < last_line) {
                problems.push(format!(
                    "src/main.rs line {}: TODO {} ({anchor}) comes before an earlier TODO's step in the finished program: reorder the TODO steps",
                    todo.line, todo.number
                ));
            }
            last[index] = Some(line);
            // As the walkthrough names it: relative to the lesson, or
            // `../lesson-NN/...` for another lesson's file.
            let relative = match path.strip_prefix(&lesson) {
                Ok(inside) => inside.to_string_lossy().replace('\\', "/"),
                Err(_) => lesson
                    .parent()
                    .and_then(|lessons| path.strip_prefix(lessons).ok())
                    .map(|p| format!("../{}", p.to_string_lossy().replace('\\', "/")))
                    .unwrap_or_default(),
            };
            if !quoted
                .iter()
                .any(|q| q.file == relative && q.anchor == *anchor)
            {
                problems.push(format!(
                    "TODO {} ({anchor}): the walkthrough {} never quotes {relative}:{anchor}, so it does not explain that step",
                    todo.number,
                    lesson.join("README.md").display()
                ));
            }
            found_steps.push((relative, anchor.clone()));
        }
        steps.push(found_steps);
    }
    problems.extend(check_sections(
        &exercise.join("../.."),
        &lesson,
        &starter,
        &todos,
        &steps,
    ));

    // Text constants both define must agree: the grader checks the bytes.
    let mut lesson_constants = Vec::new();
    if let Ok(entries) = fs::read_dir(lesson.join("src")) {
        for entry in entries.flatten() {
            if let Ok(text) = fs::read_to_string(entry.path()) {
                lesson_constants.extend(text_constants(&text));
            }
        }
    }
    for (name, value) in text_constants(&starter) {
        if matches!(name.as_str(), "NAME" | "ABOUT") {
            continue;
        }
        match lesson_constants.iter().find(|(n, _)| *n == name) {
            Some((_, theirs)) if *theirs != value => problems.push(format!(
                "src/main.rs: const {name} is {value}, the finished program's is {theirs}"
            )),
            Some(_) => {}
            None => problems.push(format!(
                "src/main.rs: const {name} is not in the finished program's src/ (a text both must agree on)"
            )),
        }
    }
    problems
}

/// A document's headings and quoted regions, once read.
struct Document {
    headings: Vec<Heading>,
    quotes: Vec<walkthrough::Quote>,
}

impl Document {
    fn read(path: &Path) -> Option<Self> {
        let text = fs::read_to_string(path).ok()?;
        Some(Document {
            headings: headings(&text),
            quotes: walkthrough::quotes(&text).unwrap_or_default(),
        })
    }

    /// Whether the section `anchor` holds a quote of `file:region`.
    fn explains(&self, anchor: &str, file: &str, region: &str) -> bool {
        (0..self.headings.len())
            .filter(|&i| self.headings[i].anchor == anchor)
            .any(|i| {
                let (start, end) = section_lines(&self.headings, i);
                self.quotes
                    .iter()
                    .any(|q| q.file == file && q.anchor == region && start < q.line && q.line < end)
            })
    }

    /// The anchor of the heading right above the first quote of
    /// `file:region`: the section a TODO for it should name.
    fn explaining(&self, file: &str, region: &str) -> Option<&str> {
        let quote = self
            .quotes
            .iter()
            .find(|q| q.file == file && q.anchor == region)?;
        self.headings
            .iter()
            .rev()
            .find(|h| h.line < quote.line)
            .map(|h| h.anchor.as_str())
    }
}

/// Checks the walkthrough sections a starter names (see the module's doc):
/// `root` is the repository's root, which the references start from,
/// `lesson` the lesson's folder, `steps` each TODO's (file, anchor) of the
/// finished program.
fn check_sections(
    root: &Path,
    lesson: &Path,
    starter: &str,
    todos: &[Todo],
    steps: &[Vec<(String, String)>],
) -> Vec<String> {
    let mut problems = Vec::new();
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let from_root = |path: &Path| {
        fs::canonicalize(path)
            .ok()
            .and_then(|p| {
                p.strip_prefix(&canonical_root)
                    .ok()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
            })
            .unwrap_or_else(|| path.display().to_string())
    };
    let mut documents: HashMap<String, Option<Document>> = HashMap::new();

    // Every section named anywhere in the starter is a heading of its file.
    for (index, line) in starter.lines().enumerate() {
        for (file, anchor) in section_refs(line) {
            let document = documents
                .entry(file.clone())
                .or_insert_with(|| Document::read(&root.join(&file)));
            match document {
                None => problems.push(format!(
                    "src/main.rs line {}: {file}#{anchor}: there is no {file} (a section is named by its file from the repository's root)",
                    index + 1
                )),
                Some(document) if !document.headings.iter().any(|h| h.anchor == anchor) => {
                    let known: Vec<String> = document
                        .headings
                        .iter()
                        .map(|h| format!("#{}", h.anchor))
                        .collect();
                    problems.push(format!(
                        "src/main.rs line {}: {file}#{anchor} is no heading of {file}; its headings are {}",
                        index + 1,
                        known.join(" ")
                    ));
                }
                Some(_) => {}
            }
        }
    }

    // Every TODO has a Chinese part, and each part names sections of the
    // lesson's walkthrough in its language that explain the TODO's steps.
    let parts = [
        (false, "English", "See: ", lesson.join("README.md")),
        (true, "Chinese", "参见：", lesson.join("README.zh-CN.md")),
    ];
    for (todo, steps) in todos.iter().zip(steps) {
        let at = format!("src/main.rs line {}: TODO {}", todo.line, todo.number);
        if !todo.chinese {
            problems.push(format!(
                "{at} has no Chinese instruction: add the same instruction in Chinese under it, on comment lines starting `//   {CHINESE}`"
            ));
        }
        for (chinese, language, label, path) in &parts {
            let walkthrough = from_root(path);
            let document = documents
                .entry(walkthrough.clone())
                .or_insert_with(|| Document::read(path));
            let Some(document) = document.as_ref() else {
                problems.push(format!(
                    "{at}: the lesson's {language} walkthrough {walkthrough} cannot be read"
                ));
                continue;
            };
            let named: Vec<&SectionRef> = todo
                .sections
                .iter()
                .filter(|s| s.chinese == *chinese)
                .collect();
            if named.is_empty() {
                let suggestion = steps
                    .iter()
                    .find_map(|(file, region)| document.explaining(file, region))
                    .unwrap_or("HEADING");
                problems.push(format!(
                    "{at} names no section of {walkthrough} in its {language} part: add a line `{label}{walkthrough}#{suggestion}`"
                ));
                continue;
            }
            for section in &named {
                if from_root(&root.join(&section.file)) != walkthrough {
                    problems.push(format!(
                        "src/main.rs line {}: TODO {}'s {language} part names {}#{}, which is not in the lesson's {language} walkthrough {walkthrough}",
                        section.line, todo.number, section.file, section.anchor
                    ));
                }
            }
            for (file, region) in steps {
                let Some(explaining) = document.explaining(file, region) else {
                    problems.push(format!(
                        "{at} ({region}): the {language} walkthrough {walkthrough} never quotes {file}:{region}"
                    ));
                    continue;
                };
                let explained = named.iter().any(|s| {
                    from_root(&root.join(&s.file)) == walkthrough
                        && document.explains(&s.anchor, file, region)
                });
                if !explained {
                    let names: Vec<String> = named
                        .iter()
                        .map(|s| match from_root(&root.join(&s.file)) == walkthrough {
                            true => format!("#{}", s.anchor),
                            false => format!("{}#{}", s.file, s.anchor),
                        })
                        .collect();
                    problems.push(format!(
                        "{at} ({region}): none of the sections its {language} part names ({}) quotes {file}:{region}; {walkthrough}#{explaining} does",
                        names.join(" ")
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = "const REPLY: &str = \"ok\";\nfn run() {\n    // ANCHOR: socket\n    let s = 1;\n    // ANCHOR_END: socket\n    // ANCHOR: bind\n    let b = s;\n    // ANCHOR_END: bind\n}\n";
    const WALKTHROUGH: &str = "# L\n\n## 1. Make a socket\n\n<!-- include: src/main.rs:socket -->\n```rust\nlet s = 1;\n```\n\n## 2. `bind()`\n\n<!-- include: src/main.rs:bind -->\n```rust\nlet b = s;\n```\n";
    const WALKTHROUGH_ZH: &str = "# 第 L 课\n\n## 1. 创建套接字\n\n<!-- include: src/main.rs:socket -->\n```rust\nlet s = 1;\n```\n\n## 2. `bind()`\n\n<!-- include: src/main.rs:bind -->\n```rust\nlet b = s;\n```\n";
    const STARTER: &str = "const REPLY: &str = \"ok\";\nfn run() {\n    // TODO 1 (socket): make it.\n    //     more words.\n    //     See: lessons/les/README.md#1-make-a-socket\n    //   中文：创建它。\n    //     参见：lessons/les/README.zh-CN.md#1-创建套接字\n    //\n    // TODO 2 (bind): bind it.\n    //     See: lessons/les/README.md#2-bind\n    //   中文：绑定它。\n    //     参见：lessons/les/README.zh-CN.md#2-bind\n    // Then delete this line.\n}\n";
    const README: &str = "# E\n\nThe finished program to compare with: [`main.rs`](../../lessons/les/src/main.rs).\n";

    /// A course in a temporary folder: `exercises/ex/` and `lessons/les/`.
    struct Course(PathBuf);

    impl Course {
        fn new(starter: &str, readme: &str, solution: &str, walkthrough: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "starter-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let course = Course(root);
            for (path, text) in [
                ("exercises/ex/src/main.rs", starter),
                ("exercises/ex/README.md", readme),
                ("lessons/les/src/main.rs", solution),
                ("lessons/les/README.md", walkthrough),
                ("lessons/les/README.zh-CN.md", WALKTHROUGH_ZH),
            ] {
                course.write(path, text);
            }
            course
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn check(&self) -> Vec<String> {
            check(&self.0.join("exercises/ex"))
        }
    }

    impl Drop for Course {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The problems of the course with `starter`, which must include one
    /// containing `expected`.
    fn fails_with(starter: &str, expected: &str) -> Vec<String> {
        let problems = Course::new(starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem with {expected:?}, got {problems:#?}"
        );
        problems
    }

    #[test]
    fn todos_are_read_with_their_anchors() {
        let found = todos("// TODO 1 (recv, decode): x\n// TODO 2 (send): y\n").unwrap();
        assert_eq!(found[0].anchors, ["recv", "decode"]);
        assert_eq!(found[1].number, 2);
        assert!(todos("    // TODO 1: no anchor\n").is_err());
    }

    #[test]
    fn todos_are_read_with_their_chinese_part_and_sections() {
        let found = todos(STARTER).unwrap();
        assert!(found.iter().all(|todo| todo.chinese));
        let sections: Vec<(usize, bool, &str, &str)> = found[0]
            .sections
            .iter()
            .map(|s| (s.line, s.chinese, s.file.as_str(), s.anchor.as_str()))
            .collect();
        assert_eq!(
            sections,
            [
                (5, false, "lessons/les/README.md", "1-make-a-socket"),
                (7, true, "lessons/les/README.zh-CN.md", "1-创建套接字"),
            ]
        );
        // The block ends at a line that is not an indented comment: the
        // blank `//`, code, or `// Then ...`.
        let found =
            todos("// TODO 1 (a): x\n//\n//   中文：甲\n// TODO 2 (b): y\n// Then a.md#x\n")
                .unwrap();
        assert!(!found[0].chinese && found[0].sections.is_empty());
        assert!(found[1].sections.is_empty());
    }

    #[test]
    fn section_references_end_at_their_anchor() {
        assert_eq!(
            section_refs(
                "see lessons/a/README.md#2-bind), and 参见：lessons/a/README.zh-CN.md#2-绑定，然后"
            ),
            [
                ("lessons/a/README.md".to_owned(), "2-bind".to_owned()),
                ("lessons/a/README.zh-CN.md".to_owned(), "2-绑定".to_owned()),
            ]
        );
        assert!(section_refs("README.md and lessons/a/").is_empty());
    }

    #[test]
    fn anchors_are_made_as_github_makes_them() {
        // Headings of the walkthroughs, with the anchors the grader's hints
        // and the walkthroughs' own links use.
        for (heading, anchor) in [
            ("2. `setsockopt(SO_REUSEADDR)`", "2-setsockoptso_reuseaddr"),
            ("4. `listen(128)`", "4-listen128"),
            (
                "Note 3: the client closes, the server's `recv` returns 0",
                "note-3-the-client-closes-the-servers-recv-returns-0",
            ),
            ("1. 监听，和之前一样", "1-监听和之前一样"),
            (
                "注意点 5：`close` 与 `shutdown(Write)`",
                "注意点-5close-与-shutdownwrite",
            ),
            (
                "5. 只发出一部分的 `send`，以及为什么要有 `write_all`",
                "5-只发出一部分的-send以及为什么要有-write_all",
            ),
        ] {
            assert_eq!(github_anchor(heading), anchor);
        }
    }

    #[test]
    fn headings_skip_code_blocks_and_number_repeats() {
        let found = headings(
            "# A\n```rust\n# not a heading\n#[cfg(unix)]\n```\n## A ##\n#nope\n~~~\n## in code\n~~~\n### `b()`\n",
        );
        let found: Vec<(usize, usize, &str)> = found
            .iter()
            .map(|h| (h.line, h.level, h.anchor.as_str()))
            .collect();
        assert_eq!(found, [(1, 1, "a"), (6, 2, "a-1"), (11, 3, "b")]);
    }

    #[test]
    fn a_starter_in_step_passes() {
        assert_eq!(
            Course::new(STARTER, README, SOLUTION, WALKTHROUGH).check(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_renamed_anchor_fails() {
        let solution = SOLUTION.replace("ANCHOR: bind", "ANCHOR: bind_it");
        let problems = Course::new(STARTER, README, &solution, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("names anchor 'bind'")),
            "{problems:?}"
        );
    }

    #[test]
    fn todos_out_of_order_or_misnumbered_fail() {
        let starter = "// TODO 1 (bind): b\n// TODO 2 (socket): s\n";
        let problems = Course::new(starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("reorder")),
            "{problems:?}"
        );
        let starter = "// TODO 1 (socket): s\n// TODO 3 (bind): b\n";
        let problems = Course::new(starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("should be TODO 2")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_step_the_walkthrough_does_not_quote_fails() {
        let walkthrough = WALKTHROUGH.replace("src/main.rs:bind", "src/main.rs:socket");
        let problems = Course::new(STARTER, README, SOLUTION, &walkthrough).check();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("never quotes src/main.rs:bind")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_todo_without_chinese_or_sections_fails() {
        let starter = "// TODO 1 (socket): make it.\n// TODO 2 (bind): bind it.\n";
        let problems = fails_with(starter, "TODO 1 has no Chinese instruction");
        // The message says which section to name, in each language.
        assert!(
            problems.iter().any(|p| p.contains(
                "TODO 2 names no section of lessons/les/README.md in its English part: add a line `See: lessons/les/README.md#2-bind`"
            )),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains(
                "TODO 1 names no section of lessons/les/README.zh-CN.md in its Chinese part: add a line `参见：lessons/les/README.zh-CN.md#1-创建套接字`"
            )),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_section_that_is_no_heading_fails() {
        let problems = fails_with(
            &STARTER.replace("README.md#2-bind", "README.md#2-bind-it"),
            "lessons/les/README.md#2-bind-it is no heading of lessons/les/README.md",
        );
        assert!(
            problems[0].contains("#1-make-a-socket #2-bind"),
            "{problems:#?}"
        );
        fails_with(
            &STARTER.replace("#1-创建套接字", "#1-创建"),
            "lessons/les/README.zh-CN.md#1-创建 is no heading",
        );
        fails_with(
            &STARTER.replace("lessons/les/README.md#2", "lessons/lesson/README.md#2"),
            "there is no lessons/lesson/README.md",
        );
    }

    #[test]
    fn a_section_of_the_other_language_fails() {
        // The Chinese part sends a Chinese reader to the English walkthrough.
        let starter = STARTER.replace(
            "参见：lessons/les/README.zh-CN.md#1-创建套接字",
            "参见：lessons/les/README.md#1-make-a-socket",
        );
        fails_with(
            &starter,
            "TODO 1's Chinese part names lessons/les/README.md#1-make-a-socket, which is not in the lesson's Chinese walkthrough lessons/les/README.zh-CN.md",
        );
        let starter = STARTER.replace(
            "See: lessons/les/README.md#2-bind",
            "See: lessons/les/README.zh-CN.md#2-bind",
        );
        fails_with(
            &starter,
            "TODO 2's English part names lessons/les/README.zh-CN.md#2-bind",
        );
    }

    #[test]
    fn a_section_that_does_not_explain_the_step_fails() {
        // A heading that exists, but the wrong one: TODO 2 (bind) sent to
        // the section on the socket.
        let starter = STARTER.replace("README.md#2-bind", "README.md#1-make-a-socket");
        fails_with(
            &starter,
            "TODO 2 (bind): none of the sections its English part names (#1-make-a-socket) quotes src/main.rs:bind; lessons/les/README.md#2-bind does",
        );
        // The same, when the Chinese walkthrough moves the quote elsewhere.
        let course = Course::new(STARTER, README, SOLUTION, WALKTHROUGH);
        course.write(
            "lessons/les/README.zh-CN.md",
            &WALKTHROUGH_ZH.replace("## 2. `bind()`\n", "## 2. `bind()`\n\n## 3. 绑定\n"),
        );
        let problems = course.check();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("lessons/les/README.zh-CN.md#3-绑定 does")),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_section_named_outside_the_todos_is_checked_too() {
        fails_with(
            &format!("//! Read lessons/les/README.md#3-close first.\n{STARTER}"),
            "lessons/les/README.md#3-close is no heading",
        );
    }

    #[test]
    fn a_reply_that_differs_fails() {
        let starter = STARTER.replace("\"ok\"", "\"ok!\"");
        let problems = Course::new(&starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("const REPLY")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_readme_without_the_solution_link_fails() {
        let problems = Course::new(STARTER, "# E\n", SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("The finished program")),
            "{problems:?}"
        );
    }
}
