//! What the course's tools that parse their flags with clap share: `loadgen`
//! and the grader (the lessons keep a parser of their own, which builds
//! faster).
//!
//! It lives here because `loadgen` needs clap for its own command, and the
//! grader depends on this library anyway: sharing it costs no extra crate.
//!
//! The conventions it keeps, as the course's other programs do:
//!
//! - a usage error is one line on stderr, `PROGRAM: error: WHAT (see
//!   PROGRAM COMMAND --help)`, and exit status 2 ([`parse`], [`Stop`],
//!   [`usage`]);
//!   clap's own error takes several lines, with a blank line, the usage and
//!   a pointer to `--help`;
//! - `--help` fits a terminal of 80 columns ([`fit_help`]), without clap's
//!   `wrap_help` feature, which would build a crate to ask the terminal
//!   its size.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

/// The exit status of a usage error (a wrong flag or value), as in most
/// Unix tools.
pub const USAGE_EXIT_CODE: u8 = 2;

/// The width that `--help` fits in: a terminal's 80 columns.
pub const HELP_WIDTH: usize = 80;

/// Why parsing stopped short of a command line to run.
#[derive(Debug)]
pub enum Stop {
    /// `--help` or `--version` was given: the text to print on stdout, and
    /// exit with 0.
    Help(String),
    /// A mistake: what clap says about it, as one line ([`one_line`]).
    Usage {
        /// What kind of mistake, for a program that adds a note to some.
        kind: clap::error::ErrorKind,
        /// The argument that clap could not place, if that is the mistake.
        argument: Option<String>,
        /// What is wrong, without the program's name.
        message: String,
        /// The command whose `--help` explains it ([`help_path`]).
        help: String,
    },
}

impl Stop {
    /// Prints the help, or the usage error as one line on stderr
    /// ([`usage`]), and gives the exit status: 0 or 2.
    pub fn exit(&self, program: &str) -> ExitCode {
        match self {
            Stop::Help(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Stop::Usage { message, help, .. } => {
                eprintln!("{}", usage(program, help, message));
                ExitCode::from(USAGE_EXIT_CODE)
            }
        }
    }
}

/// Parses `args` (without the program's name) with `command`, or says why
/// not ([`Stop`]).
pub fn parse<I>(command: Command, args: I) -> Result<ArgMatches, Stop>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let help = help_path(&command, &args);
    // The program's name as the first argument, so that clap's usage line
    // says `grader check`, whatever the binary was called.
    let argv = std::iter::once(OsString::from(command.get_name())).chain(args);
    command.try_get_matches_from(argv).map_err(|error| {
        if error.use_stderr() {
            let argument = match error.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(argument)) => Some(argument.clone()),
                _ => None,
            };
            Stop::Usage {
                kind: error.kind(),
                argument,
                message: one_line(&error),
                help,
            }
        } else {
            Stop::Help(error.to_string())
        }
    })
}

/// A usage error as the one line that is printed:
/// `grader: error: MESSAGE (see grader check --help)`.
pub fn usage(program: &str, help: &str, message: &str) -> String {
    format!("{program}: error: {message} (see {help} --help)")
}

/// The command whose `--help` explains the mistake: the program, or the
/// program and its subcommand when the first argument names one
/// (`grader check`).
pub fn help_path(command: &Command, args: &[OsString]) -> String {
    let name = command.get_name();
    match args.first().and_then(|arg| arg.to_str()) {
        Some(first) if command.find_subcommand(first).is_some() => format!("{name} {first}"),
        _ => name.to_owned(),
    }
}

/// What clap says about a mistake, as one line: its first line (`unexpected
/// argument '--formt' found`), then the lines that add to it (the possible
/// values, a missing argument's name) and its tips (`tip: a similar argument
/// exists: '--format'`), joined by `; `. The usage and the pointer to
/// `--help` are left out: the line that [`usage`] makes points to the help.
pub fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    let mut line = String::new();
    for raw in text.lines() {
        let part = raw.trim();
        if part.starts_with("Usage:") || part.starts_with("For more information") {
            break;
        }
        // clap's tip to put an unknown flag after `--` misleads here: after
        // `--` comes the grader's program command, and loadgen takes none.
        if part.is_empty() || part.starts_with("tip: to pass '") {
            continue;
        }
        let part = part.strip_prefix("error: ").unwrap_or(part);
        let separator = if line.is_empty() {
            ""
        } else if part.starts_with("tip:") {
            "; "
        } else if line.ends_with(':') || part.starts_with('[') {
            // "arguments were not provided:" + "<LESSON>", or a value and
            // "[possible values: ...]".
            " "
        } else if raw.starts_with(' ') {
            // The next of the missing arguments, each on a line of its own.
            ", "
        } else {
            "; "
        };
        line.push_str(separator);
        line.push_str(part);
    }
    line
}

/// A parser of whole numbers from `min` to `max`, whose error names the
/// range: `invalid value '0' for '--jobs <N>': expected a whole number from
/// 1 to 64`.
pub fn whole(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |value: &str| {
        value
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("expected a whole number from {min} to {max}"))
    }
}

/// The `-h, --help` flag, said as the course's programs say it ("print
/// this help"; clap's own says "Print help"). A command that takes it sets
/// `disable_help_flag(true)`.
pub fn help_flag() -> Arg {
    Arg::new("help")
        .short('h')
        .long("help")
        .action(ArgAction::Help)
        .help("print this help")
}

/// `command`'s help, and its subcommands', made to fit [`HELP_WIDTH`]
/// columns: its summary, each argument's help (with its default, `[default: 300]`,
/// which clap would otherwise add after it) is wrapped at spaces to the
/// room that clap leaves it, and so is each subcommand's summary.
///
/// Clap lines up the help of each section (the positional arguments, the
/// options under each heading, the subcommands) in a column two spaces
/// after that section's widest entry, counting four more for the short
/// flag's place before a long option (`    --port <N>` or `-h, --help`). A
/// help text that already holds a line break is left as it is.
pub fn fit_help(mut command: Command) -> Command {
    // Built first, as clap does before it parses: an argument's entry
    // (`--port <N>`) can only be shown once clap has settled what it takes.
    command.build();
    if let Some(about) = command.get_about().map(ToString::to_string) {
        command = command.about(fit(&about, 0));
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let widest_name = names.iter().map(|name| columns(name)).max().unwrap_or(0);
    for name in names {
        command = command.mut_subcommand(&name, |sub| {
            let sub = match sub.get_about().map(ToString::to_string) {
                Some(about) => sub.about(fit(&about, widest_name.max(2) + 4)),
                None => sub,
            };
            fit_help(sub)
        });
    }
    let section = |arg: &Arg| {
        (
            arg.is_positional(),
            arg.get_help_heading().map(str::to_owned),
        )
    };
    let shown: Vec<&Arg> = command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .collect();
    let mut changes = Vec::new();
    for arg in &shown {
        let widest = shown
            .iter()
            .filter(|other| section(other) == section(arg))
            .map(|other| entry_width(other))
            .max()
            .unwrap_or(0);
        let Some(help) = arg.get_help().map(ToString::to_string) else {
            continue;
        };
        let default: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|value| value.to_string_lossy().into_owned())
            .collect();
        let mut text = help;
        if !default.is_empty()
            && !arg.is_hide_default_value_set()
            && arg.get_action().takes_values()
        {
            // A no-break space keeps "[default:" with its value.
            text.push_str(&format!(" [default:\u{a0}{}]", default.join(",")));
        }
        changes.push((arg.get_id().clone(), fit(&text, widest.max(2) + 4)));
    }
    for (id, text) in changes {
        command = command.mut_arg(id, |arg| arg.help(text).hide_default_value(true));
    }
    command
}

/// How wide clap writes an argument's entry, before the padding: its flag
/// and value name, and the short flag's four columns before a long option.
fn entry_width(arg: &Arg) -> usize {
    let short = if arg.get_long().is_some() { 4 } else { 0 };
    columns(&arg.to_string()) + short
}

/// `text` wrapped to the room after `column`, its lines joined by a line
/// break (clap indents the following lines to the column). A text that
/// holds a line break was laid out by hand, and is kept.
fn fit(text: &str, column: usize) -> String {
    if text.contains('\n') {
        return text.replace('\u{a0}', " ");
    }
    let width = HELP_WIDTH.saturating_sub(column).max(20);
    netcore::cli::wrap(text, width)
        .join("\n")
        .replace('\u{a0}', " ")
}

/// How many terminal columns `text` takes (a Chinese character takes two):
/// the lessons' help measures with the same function.
pub use netcore::cli::columns;

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> Command {
        Command::new("tool")
            .disable_help_flag(true)
            .arg(help_flag())
            .arg(
                Arg::new("jobs")
                    .long("jobs")
                    .value_name("N")
                    .value_parser(whole(1, 64))
                    .default_value("2")
                    .help("how many at once, a text long enough to need two lines of help to be shown whole"),
            )
            .arg(Arg::new("format").long("format").value_parser(["text", "json"]))
    }

    fn error(args: &[&str]) -> String {
        let argv = std::iter::once("tool").chain(args.iter().copied());
        one_line(&command().try_get_matches_from(argv).unwrap_err())
    }

    #[test]
    fn errors_are_one_line_that_keeps_what_clap_says() {
        assert_eq!(
            error(&["--jobs", "0"]),
            "invalid value '0' for '--jobs <N>': expected a whole number from 1 to 64"
        );
        assert_eq!(
            error(&["--jbos", "3"]),
            "unexpected argument '--jbos' found; tip: a similar argument exists: '--jobs'"
        );
        assert_eq!(
            error(&["--format", "jsn"]),
            "invalid value 'jsn' for '--format <format>' [possible values: text, json]; tip: a similar value exists: 'json'"
        );
        assert_eq!(
            error(&["--format"]),
            "a value is required for '--format <format>' but none was supplied [possible values: text, json]"
        );
        assert_eq!(
            usage("tool", "tool sub", "oops"),
            "tool: error: oops (see tool sub --help)"
        );
    }

    #[test]
    fn help_fits_80_columns_with_its_default() {
        let help = fit_help(command()).render_help().to_string();
        for line in help.lines() {
            assert!(columns(line) <= HELP_WIDTH, "{line}");
        }
        assert!(help.contains("[default: 2]"), "{help}");
        assert_eq!(help.matches("[default:").count(), 1, "{help}");
        assert_eq!(columns("你好 ok"), 7);
        assert_eq!(fit("aaa bbb ccc", HELP_WIDTH - 20), "aaa bbb ccc");
    }
}
