//! The hardened server's flags: the tutorial server's (`--host`, `--port`,
//! `--encoding`) and its limits, all off by default.

use std::time::Duration;

use lexopt::prelude::*;
use netcore::cli::{self, ServerOptions};

use crate::{ABOUT, Limits, NAME};

/// What the command line asks for.
pub(crate) struct Args {
    /// Where to listen, and the encoding.
    pub(crate) server: ServerOptions,
    /// `--max-clients`: `None` is no limit.
    pub(crate) max_clients: Option<usize>,
    /// `--max-per-address`, by default half of `--max-clients`, rounded up.
    pub(crate) max_per_address: Option<usize>,
    /// `--idle-timeout` and `--min-rate`.
    pub(crate) limits: Limits,
    /// `--quiet`: no line per client or message.
    pub(crate) quiet: bool,
}

/// Reads the flags; `--help` and a usage error end the program.
/// The longest `--idle-timeout`: a year, in seconds.
const MAX_IDLE_SECS: u64 = 365 * 24 * 3600;

/// The command line: the server's flags and its limits; `--help` and a
/// usage error end the program.
pub(crate) fn parse() -> Args {
    let help = ServerOptions::help(NAME, ABOUT)
        .option(
            "--max-clients N",
            "refuse new clients (with a busy reply) while N are connected [default: no limit]",
        )
        .option(
            "--max-per-address N",
            "refuse a client whose address has N connected [default: half of --max-clients, rounded up]",
        )
        .option(
            "--idle-timeout SECS",
            "close a client that sends nothing for SECS seconds, or too little (--min-rate) [default: never]",
        )
        .option(
            "--min-rate BYTES",
            "with --idle-timeout: close a client that sends on average fewer than BYTES bytes a second",
        )
        .default(1)
        .option(
            "--quiet",
            "print no line about single clients or messages (for benchmarks); start-up notes, server warnings and the summary still appear",
        );
    // Every limit is at least 1: no clients at all, or a timeout of no
    // time, would be a server that serves nobody.
    let limit = |flag: &str, value| cli::count(flag, value, 1..=u64::MAX).map(|n| n as usize);
    cli::parse_or_exit(NAME, |parser| {
        let mut server = ServerOptions::default();
        let (mut max_clients, mut max_per_address) = (None, None);
        let (mut idle_timeout, mut min_rate, mut quiet) = (None, None, false);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => server.host = parser.value()?.string()?,
                Long("port") => server.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => server.encoding = cli::encoding("--encoding", parser.value()?)?,
                Long("max-clients") => max_clients = Some(limit("--max-clients", parser.value()?)?),
                Long("max-per-address") => {
                    max_per_address = Some(limit("--max-per-address", parser.value()?)?);
                }
                Long("idle-timeout") => {
                    // At most a year: a deadline must stay a time the
                    // clock can reach.
                    let secs = cli::count("--idle-timeout", parser.value()?, 1..=MAX_IDLE_SECS)?;
                    idle_timeout = Some(Duration::from_secs(secs));
                }
                Long("min-rate") => {
                    min_rate = Some(cli::count("--min-rate", parser.value()?, 0..=u64::MAX)?);
                }
                Long("quiet") => quiet = true,
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        if min_rate.is_some() && idle_timeout.is_none() {
            return Err(netcore::tr!(
                "--min-rate only applies with --idle-timeout",
                "--min-rate 只能与 --idle-timeout 一起使用"
            )
            .into());
        }
        Ok(Args {
            server,
            max_clients,
            max_per_address: max_per_address.or(max_clients.map(|n| n.div_ceil(2))),
            limits: Limits {
                idle_timeout,
                min_rate: min_rate.unwrap_or(1),
            },
            quiet,
        })
    })
}
