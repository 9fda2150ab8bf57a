//! Just enough Markdown to stage a walkthrough: which lines are fenced code,
//! the link targets outside code, and the walkthroughs' include markers.

/// The marker that introduces a quoted region in a walkthrough:
/// `<!-- include: FILE:ANCHOR -->` right before a fenced code block (see
/// `tests/walkthrough.rs`).
const MARKER_START: &str = "<!-- include: ";
const MARKER_END: &str = " -->";

/// mdBook's directives start with these two braces and a `#`; written in
/// two pieces so that this file, shown in the book, is not expanded.
pub const DIRECTIVE_OPEN: &str = "{{";

/// The code block attribute that asks the preprocessor (see
/// [`crate::preprocessor`]) to strip a region's indentation.
pub const DEDENT: &str = "dedent";

/// A fence that opens a code block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    /// Spaces before it.
    pub indent: usize,
    /// `` ` `` or `~`.
    pub ch: char,
    /// How many of them.
    pub len: usize,
}

impl Fence {
    /// The fence that `line` opens, if it opens one.
    pub fn opened_by(line: &str) -> Option<Fence> {
        let trimmed = line.trim_start();
        let ch = trimmed.chars().next().filter(|&c| c == '`' || c == '~')?;
        let len = trimmed.len() - trimmed.trim_start_matches(ch).len();
        (len >= 3).then_some(Fence {
            indent: line.len() - trimmed.len(),
            ch,
            len,
        })
    }

    /// Whether `line` closes this fence.
    pub fn closed_by(&self, line: &str) -> bool {
        let trimmed = line.trim();
        trimmed.len() >= self.len && trimmed.chars().all(|c| c == self.ch)
    }
}

/// What a line of a Markdown text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Text, where links are links.
    Prose,
    /// A fence opening a code block.
    Open(Fence),
    /// Inside a code block.
    Code,
    /// The fence closing a code block.
    Close,
}

/// Every line of `text` with what it is.
pub fn lines(text: &str) -> Vec<(&str, Line)> {
    let mut out = Vec::new();
    let mut open: Option<Fence> = None;
    for line in text.lines() {
        let kind = match open {
            Some(fence) if fence.closed_by(line) => {
                open = None;
                Line::Close
            }
            Some(_) => Line::Code,
            None => match Fence::opened_by(line) {
                Some(fence) => {
                    open = Some(fence);
                    Line::Open(fence)
                }
                None => Line::Prose,
            },
        };
        out.push((line, kind));
    }
    out
}

/// `line` (prose) with the target of every inline link and image replaced
/// by `rewrite(target)`; targets inside code spans are left alone.
pub fn rewrite_links(
    line: &str,
    rewrite: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            // A code span: skip to the run of as many backticks that closes it.
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            let ticks = &line[i..i + run];
            let after = i + run;
            i = match find_run(&line[after..], ticks) {
                Some(end) => after + end + run,
                None => after,
            };
            continue;
        }
        if bytes[i] == b']' && bytes.get(i + 1) == Some(&b'(') {
            let start = i + 2;
            let end = target_end(&line[start..]).map(|n| start + n);
            if let Some(end) = end {
                let target = &line[start..end];
                out.push_str(&line[copied..start]);
                out.push_str(&rewrite(target)?);
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&line[copied..]);
    Ok(out)
}

/// Where a run of exactly `ticks` starts in `text`.
fn find_run(text: &str, ticks: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if run == ticks.len() {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// The length of a link target at the start of `text` (what follows `](`):
/// up to a space or the `)` that balances, or a `<...>` target.
fn target_end(text: &str) -> Option<usize> {
    if text.starts_with('<') {
        return text.find('>').map(|n| n + 1);
    }
    let mut depth = 0usize;
    for (n, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(n),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some(n),
            _ => {}
        }
    }
    None
}

/// The `(FILE, ANCHOR)` an include marker line names, if `line` is one.
pub fn include_marker(line: &str) -> Option<(&str, &str)> {
    let spec = line
        .trim()
        .strip_prefix(MARKER_START)?
        .strip_suffix(MARKER_END)?;
    let (file, anchor) = spec.trim().rsplit_once(':')?;
    Some((file.trim(), anchor.trim()))
}

/// `text` with each include marker and the code block after it replaced by
/// a code block that includes the region with mdBook: `include(FILE,
/// ANCHOR)` gives the path to include. The block keeps its language and
/// gains the [`DEDENT`] attribute. Markers inside code blocks (a page that
/// shows how to write one) are text.
pub fn replace_includes(
    text: &str,
    include: &mut dyn FnMut(&str, &str) -> Result<String, String>,
) -> Result<String, String> {
    let lines = lines(text);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let (line, kind) = lines[i];
        let marker = (kind == Line::Prose)
            .then(|| include_marker(line))
            .flatten();
        let Some((file, anchor)) = marker else {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        };
        let Some((fence_line, Line::Open(_))) = lines.get(i + 1).copied() else {
            return Err(format!(
                "line {}: no code block right after `{}`",
                i + 1,
                line.trim()
            ));
        };
        let close = (i + 2..lines.len())
            .find(|&j| lines[j].1 == Line::Close)
            .ok_or_else(|| format!("line {}: the code block is never closed", i + 2))?;
        let path = include(file, anchor)?;
        out.push_str(fence_line.trim_end());
        out.push(
            if fence_line.trim_start().trim_start_matches('`').is_empty() {
                ' '
            } else {
                ','
            },
        );
        out.push_str(DEDENT);
        out.push('\n');
        out.push_str(&format!("{DIRECTIVE_OPEN}#include {path}:{anchor}}}}}\n"));
        out.push_str(lines[close].0);
        out.push('\n');
        i = close + 1;
    }
    Ok(out)
}

/// `text` with each mdBook directive that is already there (a page that
/// writes about one) escaped, so that mdBook shows it instead of running
/// it.
pub fn escape_directives(text: &str) -> String {
    text.replace(
        &format!("{DIRECTIVE_OPEN}#"),
        &format!("\\{DIRECTIVE_OPEN}#"),
    )
}

/// `text` (a chapter after mdBook expanded its includes) with the common
/// indentation of each code block marked [`DEDENT`] removed, and the mark
/// dropped: a region quoted from inside a function reads as it does in the
/// walkthrough.
pub fn dedent_marked_blocks(text: &str) -> String {
    let lines = lines(text);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let (line, kind) = lines[i];
        let Line::Open(fence) = kind else {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        };
        let Some(unmarked) = strip_dedent_mark(line) else {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        };
        out.push_str(&unmarked);
        out.push('\n');
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].1 == Line::Close)
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        let common = body
            .iter()
            .filter(|(l, _)| !l.trim().is_empty())
            .map(|(l, _)| l.len() - l.trim_start_matches(' ').len())
            .min()
            .unwrap_or(0);
        let strip = common.saturating_sub(fence.indent);
        for (l, _) in body {
            let spaces = l.len() - l.trim_start_matches(' ').len();
            out.push_str(&l[spaces.min(strip)..]);
            out.push('\n');
        }
        if let Some((close, _)) = lines.get(end) {
            out.push_str(close);
            out.push('\n');
        }
        i = end + 1;
    }
    out
}

/// The fence line without its [`DEDENT`] attribute, if it has one.
fn strip_dedent_mark(line: &str) -> Option<String> {
    let trimmed = line.trim_end();
    for sep in [',', ' '] {
        if let Some(rest) = trimmed.strip_suffix(&format!("{sep}{DEDENT}")) {
            return Some(rest.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links_of(line: &str) -> Vec<String> {
        let mut seen = Vec::new();
        rewrite_links(line, &mut |t| {
            seen.push(t.to_owned());
            Ok(t.to_owned())
        })
        .unwrap();
        seen
    }

    #[test]
    fn links_and_images_are_found_outside_code_spans() {
        assert_eq!(
            links_of("See [lesson 03](../lesson-03/README.md#3-bind) and ![chart](c.svg)."),
            ["../lesson-03/README.md#3-bind", "c.svg"]
        );
        assert_eq!(links_of("`a[0](1)` then [x](y \"title\")"), ["y"]);
        assert_eq!(links_of("``a ` [x](y) ``"), Vec::<String>::new());
        assert_eq!(links_of("[f(x)](<a b.md>)"), ["<a b.md>"]);
        assert_eq!(
            links_of("[w](https://en.wikipedia.org/wiki/A_(b))"),
            ["https://en.wikipedia.org/wiki/A_(b)"]
        );
    }

    #[test]
    fn rewriting_keeps_everything_but_the_targets() {
        let line = "A [x](a.md) and `[y](b.md)` and [z](c.md#f).";
        let out = rewrite_links(line, &mut |t| Ok(t.replace(".md", ".html"))).unwrap();
        assert_eq!(out, "A [x](a.html) and `[y](b.md)` and [z](c.html#f).");
    }

    #[test]
    fn fences_are_tracked() {
        let text = "a\n````text\n```rust\n```\n````\nb\n  ```\n  x\n  ```\n";
        let kinds: Vec<Line> = lines(text).into_iter().map(|(_, k)| k).collect();
        assert!(matches!(kinds[1], Line::Open(Fence { len: 4, .. })));
        assert_eq!(kinds[2..4], [Line::Code, Line::Code]);
        assert_eq!(kinds[4], Line::Close);
        assert_eq!(kinds[5], Line::Prose);
        assert!(matches!(kinds[6], Line::Open(Fence { indent: 2, .. })));
        assert_eq!(kinds[8], Line::Close);
    }

    #[test]
    fn include_markers_become_mdbook_includes() {
        let text = "# L\n<!-- include: src/main.rs:bind -->\n```rust\nold\ncode\n```\nafter\n";
        let out = replace_includes(text, &mut |file, _| Ok(format!("../x/{file}"))).unwrap();
        assert_eq!(
            out,
            format!(
                "# L\n```rust,dedent\n{DIRECTIVE_OPEN}#include ../x/src/main.rs:bind}}}}\n```\nafter\n"
            )
        );
    }

    #[test]
    fn markers_shown_inside_code_are_left_alone() {
        let text = "````text\n<!-- include: src/main.rs:bind -->\n```rust\n```\n````\n";
        let out = replace_includes(text, &mut |_, _| Err("called".into())).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn a_marker_without_its_block_is_an_error() {
        let text = "<!-- include: src/main.rs:bind -->\ntext\n";
        let err = replace_includes(text, &mut |f, _| Ok(f.to_owned())).unwrap_err();
        assert!(err.contains("no code block"), "{err}");
    }

    #[test]
    fn existing_directives_are_escaped() {
        let text = format!("write {DIRECTIVE_OPEN}#include file}}}}");
        assert_eq!(
            escape_directives(&text),
            format!("write \\{DIRECTIVE_OPEN}#include file}}}}")
        );
    }

    #[test]
    fn marked_blocks_lose_their_common_indentation_only() {
        let text = "```rust,dedent\n        let a = 1;\n\n            b();\n```\n```rust\n    kept;\n```\n- item\n\n  ```rust dedent\n      x;\n  ```\n";
        assert_eq!(
            dedent_marked_blocks(text),
            "```rust\nlet a = 1;\n\n    b();\n```\n```rust\n    kept;\n```\n- item\n\n  ```rust\n  x;\n  ```\n"
        );
    }
}
