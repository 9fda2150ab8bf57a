//! `--help`: the course's one layout, wrapped to a terminal's 80 columns.

use std::fmt::{self, Write as _};

/// The width `--help` fits in: a terminal's 80 columns.
const HELP_WIDTH: usize = 80;

/// A program's `--help` text: a line about the program, the usage line, and
/// one row per option, each help text wrapped in a column of its own.
///
/// Parsing is each program's own `lexopt` loop; this only lays out what it
/// accepts, so that every program's help looks alike and fits 80 columns
/// (a Chinese character takes two).
///
/// ```
/// use netcore::cli::Help;
/// let help = Help::new("demo", "shows a help")
///     .option("--port PORT", "port to listen on")
///     .default(8080)
///     .option("--quiet", "print less");
/// let text = help.to_string();
/// assert!(text.contains("  --port PORT   port to listen on [default: 8080]\n"));
/// assert!(text.contains("  --lang en|zh  zh prints the tutorial's Chinese labels"));
/// assert!(text.ends_with("  -h, --help    print this help and exit\n"));
/// ```
#[derive(Clone, Debug)]
pub struct Help {
    program: &'static str,
    about: &'static str,
    positional: Option<(&'static str, String)>,
    /// Each option as its flag (`--port PORT`) and its help.
    rows: Vec<(String, String)>,
}

impl Help {
    /// The help of `program`, which `about` describes in a few words.
    pub fn new(program: &'static str, about: &'static str) -> Self {
        Help {
            program,
            about,
            positional: None,
            rows: Vec::new(),
        }
    }

    /// The program's one optional positional argument, `[NAME]`.
    pub fn positional(mut self, name: &'static str, help: &str) -> Self {
        self.positional = Some((name, help.to_owned()));
        self
    }

    /// An option, as it is written (`--port PORT`, `--quiet`), and what it
    /// does.
    pub fn option(mut self, flag: &str, help: &str) -> Self {
        self.rows.push((flag.to_owned(), help.to_owned()));
        self
    }

    /// The default of the option added last, shown as `[default: VALUE]`
    /// (quoted when it holds a space).
    pub fn default(mut self, value: impl fmt::Display) -> Self {
        let value = value.to_string();
        let shown = if value.contains(' ') {
            format!("{value:?}")
        } else {
            value
        };
        if let Some((_, help)) = self.rows.last_mut() {
            // A no-break space keeps "[default:" with its value when the
            // line wraps; it is printed as a plain space.
            let _ = write!(help, " [default:\u{a0}{shown}]");
        }
        self
    }

    /// Prints the help on stdout and exits with 0, as `--help` does.
    pub fn print_and_exit(&self) -> ! {
        print!("{self}");
        std::process::exit(0)
    }
}

impl fmt::Display for Help {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (program, about) = (self.program, self.about);
        let first = wrap(&format!("{program}: {about}"), HELP_WIDTH);
        write!(f, "{}\n\nUsage: {program} [OPTIONS]", first.join("\n  "))?;
        let mut rows = Vec::new();
        if let Some((name, help)) = &self.positional {
            write!(f, " [{name}]")?;
            rows.push((format!("[{name}]"), help.clone()));
        }
        rows.extend(self.rows.iter().cloned());
        rows.push((
            "--lang en|zh".to_owned(),
            "zh prints the tutorial's Chinese labels [default: zh if the locale (LANG) is zh_*, else en]".to_owned(),
        ));
        rows.push((
            "-h, --help".to_owned(),
            "print this help and exit".to_owned(),
        ));
        f.write_str("\n\nOptions:\n")?;
        let width = rows.iter().map(|(flag, _)| columns(flag)).max();
        // Each help text starts in one column and wraps within HELP_WIDTH.
        let column = 2 + width.unwrap_or(0) + 2;
        for (flag, help) in rows {
            let pad = column - 2 - columns(&flag);
            let lines = wrap(&help, HELP_WIDTH.saturating_sub(column).max(20));
            for (i, line) in lines.iter().enumerate() {
                let line = line.replace('\u{a0}', " ");
                if i == 0 {
                    writeln!(f, "  {flag}{:pad$}{line}", "")?;
                } else {
                    writeln!(f, "{:column$}{line}", "")?;
                }
            }
        }
        Ok(())
    }
}

/// How many terminal columns `text` takes: East Asian wide characters
/// (Chinese, Japanese, Korean, full-width forms) take two, others one.
/// The ranges are the wide blocks a help text here can hold, not all of
/// Unicode's. (The tools' clap help and the help test measure with it too.)
pub fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xfe30..=0xfe4f
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

/// `text` broken at spaces into lines of at most `width` columns; a word
/// longer than that (Chinese has no spaces) is broken between characters.
/// (The tools' clap help wraps with it too.)
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let mut piece = String::new();
        for c in word.chars() {
            if columns(&piece) + columns(c.encode_utf8(&mut [0; 4])) > width {
                words.push(std::mem::take(&mut piece));
            }
            piece.push(c);
        }
        words.push(piece);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in &words {
        if !line.is_empty() && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_80_columns_chinese_counted_twice() {
        let help = Help::new(
            "lesson-02",
            "a client whose description is long enough to need more than one line of the help",
        )
        .option("--message TEXT", "text to send")
        .default("你好，我是客户端，这条消息很长，足以让帮助换行，再长一点，还要更长一点才行")
        .to_string();
        for line in help.lines() {
            assert!(columns(line) <= 80, "{} columns: {line}", columns(line));
        }
        assert!(help.starts_with("lesson-02: a client whose"), "{help}");
        assert!(help.lines().nth(1).unwrap().starts_with("  "), "{help}");
        assert_eq!(columns("你好 ok"), 7);
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert_eq!(wrap("你好你好", 4), ["你好", "你好"]);
    }

    #[test]
    fn lays_out_the_positional_options_and_defaults() {
        let help = Help::new("x", "y")
            .positional("WHAT", "which one")
            .option("--host HOST", "where")
            .default("127.0.0.1")
            .option("--message TEXT", "what")
            .default("a b")
            .to_string();
        assert_eq!(
            help,
            "x: y\n\nUsage: x [OPTIONS] [WHAT]\n\nOptions:\n  [WHAT]          which one\n  --host HOST     where [default: 127.0.0.1]\n  --message TEXT  what [default: \"a b\"]\n  --lang en|zh    zh prints the tutorial's Chinese labels [default: zh if the\n                  locale (LANG) is zh_*, else en]\n  -h, --help      print this help and exit\n"
        );
    }

    #[test]
    fn a_default_stays_with_its_label_when_the_line_wraps() {
        let help = Help::new("x", "y")
            .option("--n N", &["word"; 13].join(" "))
            .default(1)
            .to_string();
        // The help column starts after "  --lang en|zh  ", 16 columns in.
        assert!(
            help.contains(" word\n                [default: 1]\n"),
            "{help}"
        );
    }
}
