//! The declarative command line the benchmark was written against (switches
//! and counts), now a thin layer over lexopt and the course's [`Help`] and
//! [`count`] check.
//!
//! The lessons do not use it: each reads its flags with a `lexopt` loop of
//! its own, which a learner can follow. Once the benchmark has moved to
//! clap, as the grader and loadgen have, this file goes.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use lexopt::prelude::*;

use super::{Help, count, parse_or_exit};

/// A program's options (switches and whole numbers), with their help.
#[derive(Clone, Debug)]
pub struct Command {
    program: &'static str,
    help: Help,
    /// Each option's name and, for a count, its range; `None` is a switch.
    options: Vec<(&'static str, Option<RangeInclusive<u64>>)>,
}

impl Command {
    /// A command line for `program`, described by `about` in `--help`.
    pub fn new(program: &'static str, about: &'static str) -> Self {
        Command {
            program,
            help: Help::new(program, about),
            options: Vec::new(),
        }
    }

    /// `--NAME N`: a whole number within `range`, optional (no default)
    /// unless `default` is given.
    pub fn count_in(
        mut self,
        name: &'static str,
        value_name: &str,
        help: &str,
        default: Option<u64>,
        range: RangeInclusive<u64>,
    ) -> Self {
        self.help = self.help.option(&format!("--{name} {value_name}"), help);
        if let Some(n) = default {
            self.help = self.help.default(n);
        }
        self.options.push((name, Some(range)));
        self
    }

    /// `--NAME`: a switch that takes no value.
    pub fn switch(mut self, name: &'static str, help: &str) -> Self {
        self.help = self.help.option(&format!("--{name}"), help);
        self.options.push((name, None));
        self
    }

    /// Parses the process's arguments as [`super::parse_or_exit`] does.
    pub fn parse_or_exit(&self) -> Matches {
        parse_or_exit(self.program, |parser| self.parse_from(parser))
    }

    /// Parses the arguments `parser` holds; `--help` prints the help and
    /// exits.
    pub fn parse_from(&self, parser: &mut lexopt::Parser) -> Result<Matches, lexopt::Error> {
        let mut given = BTreeMap::new();
        while let Some(arg) = parser.next()? {
            let (name, range) = match arg {
                Short('h') | Long("help") => self.help.print_and_exit(),
                Long(flag) => match self.options.iter().find(|(name, _)| *name == flag) {
                    Some(option) => option,
                    None => return Err(arg.unexpected()),
                },
                _ => return Err(arg.unexpected()),
            };
            let value = match range {
                Some(range) => Some(count(&format!("--{name}"), parser.value()?, range.clone())?),
                None => None,
            };
            given.insert(*name, value);
        }
        Ok(Matches { given })
    }
}

/// The options given on a command line, with their values.
#[derive(Clone, Debug)]
pub struct Matches {
    /// Each option given: a count's value, `None` for a switch.
    given: BTreeMap<&'static str, Option<u64>>,
}

impl Matches {
    /// The value of a count option, `None` when it was not given.
    pub fn count(&self, name: &str) -> Option<u64> {
        self.given.get(name).copied().flatten()
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.given.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> Command {
        Command::new("x", "y")
            .switch("quick", "fast")
            .count_in("runs", "N", "runs", None, 1..=50)
            .count_in("builds", "N", "builds", Some(3), 0..=10)
    }

    fn parse(args: &[&str]) -> Result<Matches, String> {
        let mut parser = lexopt::Parser::from_args(args);
        command()
            .parse_from(&mut parser)
            .map_err(|err| super::super::usage_message(&err))
    }

    #[test]
    fn switches_and_counts() {
        let m = parse(&[]).unwrap();
        assert_eq!((m.switch("quick"), m.count("runs")), (false, None));
        let m = parse(&["--runs=7", "--quick", "--builds", "0"]).unwrap();
        assert_eq!((m.switch("quick"), m.count("runs")), (true, Some(7)));
        assert_eq!(m.count("builds"), Some(0));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for (args, expected) in [
            (&["--runs", "0"][..], "expected a whole number from 1 to 50"),
            (&["--quick=yes"], "option --quick takes no value"),
            (&["a"], "unexpected argument 'a'"),
            (&["--nope"], "unknown option '--nope'"),
        ] {
            let message = parse(args).unwrap_err();
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[test]
    fn the_help_shows_the_defaults_given() {
        let help = command().help.to_string();
        assert!(help.contains("  --runs N    runs\n"), "{help}");
        assert!(
            help.contains("  --builds N  builds [default: 3]\n"),
            "{help}"
        );
    }
}
