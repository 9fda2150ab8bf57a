//! The `dedent` preprocessor: mdBook runs it after its own `links`
//! preprocessor has expanded the includes, and it strips from each code
//! block marked [`DEDENT`](crate::markdown::DEDENT) the indentation the
//! region has in its source, as the walkthroughs show it.
//!
//! mdBook's protocol: `book dedent supports RENDERER` answers with its exit
//! status (every renderer is supported); `book dedent` reads
//! `[context, book]` as JSON on stdin and writes the book back on stdout.
//! The book is walked as plain JSON, so that a field mdBook adds is passed
//! through untouched.

use std::io::{Read, Write};

use serde_json::Value;

use crate::markdown;

/// Runs the preprocessor on `input` (mdBook's `[context, book]`), writing
/// the changed book to `output`.
pub fn run(input: impl Read, mut output: impl Write) -> Result<(), String> {
    let value: Value = serde_json::from_reader(input)
        .map_err(|err| format!("cannot read mdBook's input: {err}"))?;
    let Value::Array(mut pair) = value else {
        return Err("mdBook's input is not [context, book]".to_owned());
    };
    if pair.len() != 2 {
        return Err("mdBook's input is not [context, book]".to_owned());
    }
    let mut book = pair.pop().unwrap_or_default();
    dedent_chapters(&mut book);
    serde_json::to_writer(&mut output, &book).map_err(|err| err.to_string())?;
    output.flush().map_err(|err| err.to_string())
}

/// Dedents the marked blocks of every chapter in `value`: every object
/// with a `content` string and `sub_items`, at any depth.
fn dedent_chapters(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("sub_items")
                && let Some(Value::String(content)) = map.get_mut("content")
            {
                *content = markdown::dedent_marked_blocks(content);
            }
            for child in map.values_mut() {
                dedent_chapters(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(dedent_chapters),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_chapters_are_dedented_and_the_rest_kept() {
        let input = r#"[{"root": "/book", "mdbook_version": "0.5.4"},
            {"items": [{"Chapter": {"name": "A", "content": "```rust,dedent\n    x;\n```\n",
              "number": [1], "sub_items": [{"Chapter": {"name": "B",
                "content": "```rust dedent\n        y;\n```\n", "sub_items": []}}],
              "path": "a.md"}}, "Separator", {"PartTitle": "P"}]}]"#;
        let mut output = Vec::new();
        run(input.as_bytes(), &mut output).unwrap();
        let book: Value = serde_json::from_slice(&output).unwrap();
        let a = &book["items"][0]["Chapter"];
        assert_eq!(a["content"], "```rust\nx;\n```\n");
        assert_eq!(
            a["sub_items"][0]["Chapter"]["content"],
            "```rust\ny;\n```\n"
        );
        assert_eq!(a["path"], "a.md");
        assert_eq!(book["items"][1], "Separator");
        assert_eq!(book["items"][2]["PartTitle"], "P");
    }

    #[test]
    fn input_that_is_not_a_pair_is_refused() {
        assert!(run(&b"{}"[..], Vec::new()).is_err());
        assert!(run(&b"[1]"[..], Vec::new()).is_err());
    }
}
