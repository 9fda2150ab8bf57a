//! Lesson 06's flags: which experiment to run, or which side of the
//! exercise to play, and that side's options.

use std::ops::Range;

use lexopt::prelude::*;
use netcore::cli::{self, DEFAULT_PORT, Help};
use netcore::lang::tr;
use netcore::tr;

use crate::{ABOUT, KIB, MIB, NAME};

/// What `source` sends unless `--bytes` (or the `BYTES` variable) says
/// otherwise: 8 MiB.
const SOURCE_BYTES: u64 = 8 * MIB as u64;
/// The most `--bytes` may ask for: 16 GiB.
const MAX_BYTES: u64 = 16 * 1024 * MIB as u64;

/// What the command line asks for.
pub(crate) enum What {
    /// `sink`: count one client's bytes.
    Sink {
        /// `--host`; empty is every IPv4 address.
        host: String,
        /// `--port`.
        port: u16,
        /// `--read-size`: bytes asked for per `recv`.
        read_size: usize,
    },
    /// `source`: send a known pattern.
    Source {
        /// `--host`, the sink's address.
        host: String,
        /// `--port`, the sink's port.
        port: u16,
        /// `--bytes`, else the `BYTES` variable, else 8 MiB.
        bytes: u64,
    },
    /// The experiments to run, as indexes into `experiments::ALL`.
    Experiments(Range<usize>),
}

/// Reads the command line; `--help` and a usage error end the program.
pub(crate) fn parse() -> What {
    let help = Help::new(NAME, ABOUT)
        .positional(
            "WHAT",
            "1 to 6 runs one experiment; nothing runs all six; `sink` or `source` is the exercise (see the walkthrough)",
        )
        .option(
            "--bytes N",
            "source: bytes to send [default: $BYTES, else 8388608]",
        )
        .option(
            "--read-size N",
            "sink: bytes asked for per recv() [default: 65536]",
        )
        .option(
            "--host HOST",
            "sink: address to listen on [0.0.0.0]; source: the sink to connect to [127.0.0.1]",
        )
        .option(
            "--port PORT",
            "sink: port to listen on (0: any free port); source: the sink's port",
        )
        .default(DEFAULT_PORT);
    cli::parse_or_exit(NAME, |parser| {
        let (mut what, mut bytes, mut read_size, mut host, mut port) =
            (None, None, None, None, None);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if what.is_none() => what = Some(value.string()?),
                Long("bytes") => {
                    bytes = Some(cli::count("--bytes", parser.value()?, 1..=MAX_BYTES)?)
                }
                Long("read-size") => {
                    let max = 16 * MIB as u64;
                    read_size = Some(cli::count("--read-size", parser.value()?, 1..=max)? as usize);
                }
                Long("host") => host = Some(parser.value()?.string()?),
                Long("port") => port = Some(cli::port("--port", parser.value()?)?),
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        // An option given where it would be silently ignored is refused.
        let refuse = |given: &[(&str, bool)], what: &str| match given.iter().find(|(_, g)| *g) {
            Some((flag, _)) => {
                let applies = match *flag {
                    "bytes" => tr("source mode", "source 模式"),
                    "read-size" => tr("sink mode", "sink 模式"),
                    _ => tr("sink and source modes", "sink 和 source 模式"),
                };
                Err(tr!(
                    "--{flag} only applies to {applies}, not to {what}",
                    "--{flag} 只用于 {applies}，{what}不接受它"
                ))
            }
            None => Ok(()),
        };
        let port_given = port.is_some();
        let port = port.unwrap_or(DEFAULT_PORT);
        match what.as_deref() {
            Some("sink") => {
                refuse(&[("bytes", bytes.is_some())], tr("sink mode", "sink 模式"))?;
                let host = host.unwrap_or_default();
                let read_size = read_size.unwrap_or(64 * KIB);
                Ok(What::Sink {
                    host,
                    port,
                    read_size,
                })
            }
            Some("source") => {
                refuse(
                    &[("read-size", read_size.is_some())],
                    tr("source mode", "source 模式"),
                )?;
                if port == 0 {
                    return Err(tr(
                        "--port 0: a client cannot connect to port 0; give the port the sink listens on",
                        "--port 0：客户端不能连接端口 0；请给出 sink 监听的端口",
                    )
                    .into());
                }
                let host = host.filter(|h| !h.is_empty()).unwrap_or("127.0.0.1".into());
                // The grader says how many bytes to send in BYTES (a
                // different count every run); --bytes wins.
                let bytes = match bytes {
                    Some(n) => n,
                    None => bytes_from_env()?.unwrap_or(SOURCE_BYTES),
                };
                Ok(What::Source { host, port, bytes })
            }
            which => {
                let chosen = match which.map(str::parse::<usize>) {
                    None => 0..6,
                    Some(Ok(n @ 1..=6)) => n - 1..n,
                    Some(_) => {
                        let which = which.unwrap_or_default();
                        return Err(tr!(
                            "unknown experiment '{which}': expected 1 to 6, sink or source",
                            "未知的实验 '{which}'：应为 1 到 6、sink 或 source"
                        )
                        .into());
                    }
                };
                let given = [
                    ("host", host.is_some()),
                    ("port", port_given),
                    ("read-size", read_size.is_some()),
                    ("bytes", bytes.is_some()),
                ];
                refuse(&given, tr("the experiments", "实验"))?;
                Ok(What::Experiments(chosen))
            }
        }
    })
}

/// The `BYTES` environment variable, where the grader puts the source's
/// byte count; a value that is not a count is a usage error.
fn bytes_from_env() -> Result<Option<u64>, String> {
    let Ok(value) = std::env::var("BYTES") else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_BYTES).contains(&n) => Ok(Some(n)),
        _ => Err(tr!(
            "BYTES={value}: expected a number of bytes from 1 to {MAX_BYTES}",
            "BYTES={value}：应为 1 到 {MAX_BYTES} 之间的字节数"
        )),
    }
}
