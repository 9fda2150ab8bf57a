//! Keeps each lesson's walkthrough (`README.md`) in step with its source.
//!
//! The source marks regions the way mdBook does:
//!
//! ```text
//! // ANCHOR: connect
//! client.connect(&server.into())?;
//! // ANCHOR_END: connect
//! ```
//!
//! and the walkthrough quotes a region with a marker line right before a
//! fenced code block:
//!
//! ````text
//! <!-- include: src/main.rs:connect -->
//! ```rust
//! client.connect(&server.into())?;
//! ```
//! ````
//!
//! [`check`] reports every block that differs from its region, every marker
//! whose anchor is missing or empty, and every anchored region the
//! walkthrough never shows. [`update`] rewrites the blocks from the source.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The marker that introduces a quoted region: `<!-- include: FILE:ANCHOR -->`.
const MARKER_START: &str = "<!-- include: ";
const MARKER_END: &str = " -->";

/// The named regions of one source file, dedented, without anchor lines.
pub fn regions(source: &str) -> Result<BTreeMap<String, String>, String> {
    let mut open: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut done: BTreeMap<String, String> = BTreeMap::new();
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("// ANCHOR: ") {
            let name = name.trim().to_owned();
            if open.contains_key(&name) || done.contains_key(&name) {
                return Err(format!(
                    "line {}: anchor '{name}' is defined twice",
                    number + 1
                ));
            }
            open.insert(name, Vec::new());
        } else if let Some(name) = trimmed.strip_prefix("// ANCHOR_END: ") {
            let name = name.trim();
            let lines = open.remove(name).ok_or_else(|| {
                format!("line {}: ANCHOR_END '{name}' without ANCHOR", number + 1)
            })?;
            done.insert(name.to_owned(), dedent(&lines));
        } else {
            for lines in open.values_mut() {
                lines.push(line);
            }
        }
    }
    if let Some(name) = open.keys().next() {
        return Err(format!("anchor '{name}' has no ANCHOR_END"));
    }
    Ok(done)
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        out.push_str(line.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out
}

/// One quoted block in a walkthrough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The line of the marker, from 1.
    pub line: usize,
    /// The source file, relative to the lesson's folder.
    pub file: String,
    /// The anchor's name.
    pub anchor: String,
    /// The index of the block's first content line, and one past its last.
    pub body: (usize, usize),
    /// The block's content.
    pub text: String,
}

/// Finds every marker and the fenced block after it.
pub fn quotes(markdown: &str) -> Result<Vec<Quote>, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut quotes = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let Some(spec) = line
            .strip_prefix(MARKER_START)
            .and_then(|s| s.strip_suffix(MARKER_END))
        else {
            i += 1;
            continue;
        };
        let marker_line = i + 1;
        let (file, anchor) = spec
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| format!("line {marker_line}: marker needs FILE:ANCHOR, got '{spec}'"))?;
        let fence = lines
            .get(i + 1)
            .map(|l| l.trim_start())
            .filter(|l| l.starts_with("```"))
            .ok_or_else(|| {
                format!("line {marker_line}: no ``` code block right after the marker")
            })?;
        let fence_len = fence.len() - fence.trim_start_matches('`').len();
        let start = i + 2;
        let end = (start..lines.len())
            .find(|&j| {
                let t = lines[j].trim();
                t.len() >= fence_len && t.chars().all(|c| c == '`')
            })
            .ok_or_else(|| format!("line {marker_line}: the code block is never closed"))?;
        let mut text = String::new();
        for l in &lines[start..end] {
            text.push_str(l.trim_end());
            text.push('\n');
        }
        quotes.push(Quote {
            line: marker_line,
            file: file.trim().to_owned(),
            anchor: anchor.trim().to_owned(),
            body: (start, end),
            text,
        });
        i = end + 1;
    }
    Ok(quotes)
}

/// Every way `readme` (in the folder `dir`) disagrees with the source it
/// quotes; empty when they agree.
pub fn check(dir: &Path, readme: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let quotes = match quotes(readme) {
        Ok(quotes) => quotes,
        Err(err) => return vec![err],
    };
    if quotes.is_empty() {
        problems.push(format!(
            "quotes no source: add `{MARKER_START}src/main.rs:ANCHOR{MARKER_END}` markers"
        ));
    }
    let mut sources: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for quote in &quotes {
        if !sources.contains_key(&quote.file) {
            let loaded = fs::read_to_string(dir.join(&quote.file))
                .map_err(|err| format!("cannot read {}: {err}", quote.file))
                .and_then(|source| {
                    regions(&source).map_err(|err| format!("{}: {err}", quote.file))
                });
            match loaded {
                Ok(regions) => {
                    sources.insert(quote.file.clone(), regions);
                }
                Err(err) => {
                    problems.push(format!("line {}: {err}", quote.line));
                    continue;
                }
            }
        }
        let regions = &sources[&quote.file];
        match regions.get(&quote.anchor) {
            None => problems.push(format!(
                "line {}: {} has no anchor '{}'",
                quote.line, quote.file, quote.anchor
            )),
            Some(region) if region.trim().is_empty() => problems.push(format!(
                "line {}: anchor '{}' in {} is empty",
                quote.line, quote.anchor, quote.file
            )),
            Some(region) if *region != quote.text => problems.push(format!(
                "line {}: the block quoting {}:{} differs from the source\n--- source ---\n{region}--- walkthrough ---\n{}",
                quote.line, quote.file, quote.anchor, quote.text
            )),
            Some(_) => {}
        }
    }
    for (file, regions) in &sources {
        for anchor in regions.keys() {
            if !quotes
                .iter()
                .any(|q| &q.file == file && &q.anchor == anchor)
            {
                problems.push(format!("{file}:{anchor} is never shown in the walkthrough"));
            }
        }
    }
    problems
}

/// `readme` with every quoted block replaced by its region's current text.
/// Markers whose anchor is missing are left as they are (and [`check`]
/// still reports them).
pub fn update(dir: &Path, readme: &str) -> Result<String, String> {
    let quotes = quotes(readme)?;
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = String::new();
    let mut next = 0;
    for quote in &quotes {
        let source = fs::read_to_string(dir.join(&quote.file))
            .map_err(|err| format!("cannot read {}: {err}", quote.file))?;
        let regions = regions(&source)?;
        let Some(region) = regions.get(&quote.anchor) else {
            continue;
        };
        for line in &lines[next..quote.body.0] {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(region);
        next = quote.body.1;
    }
    for line in &lines[next..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "fn main() {\n    // ANCHOR: all\n    // ANCHOR: one\n    let a = 1;\n    // ANCHOR_END: one\n\n    let b = a + 1;\n    // ANCHOR_END: all\n}\n";

    fn lesson(readme: &str) -> (tempdir::Dir, String) {
        let dir = tempdir::Dir::new();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
        (dir, readme.to_owned())
    }

    mod tempdir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicUsize, Ordering};

        pub(super) struct Dir(PathBuf);
        impl Dir {
            pub(super) fn new() -> Self {
                static N: AtomicUsize = AtomicUsize::new(0);
                let path = std::env::temp_dir().join(format!(
                    "walkthrough-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
            pub(super) fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const GOOD: &str = "# L\n<!-- include: src/main.rs:one -->\n```rust\nlet a = 1;\n```\ntext\n<!-- include: src/main.rs:all -->\n```rust\nlet a = 1;\n\nlet b = a + 1;\n```\n";

    #[test]
    fn regions_are_dedented_and_nested_anchor_lines_dropped() {
        let regions = regions(SOURCE).unwrap();
        assert_eq!(regions["one"], "let a = 1;\n");
        assert_eq!(regions["all"], "let a = 1;\n\nlet b = a + 1;\n");
    }

    #[test]
    fn matching_blocks_pass() {
        let (dir, readme) = lesson(GOOD);
        assert_eq!(check(dir.path(), &readme), Vec::<String>::new());
    }

    #[test]
    fn a_changed_block_fails() {
        let (dir, readme) = lesson(&GOOD.replace("let b = a + 1;", "let b = a + 2;"));
        let problems = check(dir.path(), &readme);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("differs from the source"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_missing_anchor_fails_instead_of_quoting_nothing() {
        let (dir, readme) = lesson(&format!(
            "{GOOD}<!-- include: src/main.rs:gone -->\n```rust\n```\n"
        ));
        let problems = check(dir.path(), &readme);
        assert!(
            problems.iter().any(|p| p.contains("no anchor 'gone'")),
            "{problems:?}"
        );
    }

    #[test]
    fn an_unquoted_region_and_an_unquoting_walkthrough_fail() {
        let (dir, readme) = lesson("<!-- include: src/main.rs:one -->\n```rust\nlet a = 1;\n```\n");
        let problems = check(dir.path(), &readme);
        assert_eq!(
            problems,
            vec!["src/main.rs:all is never shown in the walkthrough".to_owned()]
        );
        let (dir, readme) = lesson("# nothing quoted\n");
        assert!(check(dir.path(), &readme)[0].contains("quotes no source"));
    }

    #[test]
    fn broken_anchors_fail() {
        assert!(
            regions("// ANCHOR: a\n")
                .unwrap_err()
                .contains("no ANCHOR_END")
        );
        assert!(
            regions("// ANCHOR_END: a\n")
                .unwrap_err()
                .contains("without ANCHOR")
        );
        assert!(
            regions("// ANCHOR: a\n// ANCHOR_END: a\n// ANCHOR: a\n")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn update_rewrites_blocks_from_the_source() {
        let stale = GOOD.replace("let b = a + 1;", "old");
        let (dir, readme) = lesson(&stale);
        let updated = update(dir.path(), &readme).unwrap();
        assert_eq!(updated, GOOD);
        assert!(check(dir.path(), &updated).is_empty());
    }
}
