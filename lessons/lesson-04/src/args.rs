//! Lesson 04's flags: which experiment to run, or which side to play by
//! hand, and that side's `--host`, `--port` and `--encoding`.

use std::ops::RangeInclusive;

use lexopt::prelude::*;
use netcore::cli::{self, DEFAULT_PORT, Help};
use netcore::lang::tr;
use netcore::text::Encoding;

use crate::{ABOUT, NAME};

/// What the command line asks for.
pub(crate) enum What {
    /// `server`: listen and talk with clients, one after another.
    Server(Side),
    /// `client`: connect and send the lines typed.
    Client(Side),
    /// `1` to `5`, or nothing for all five.
    Experiments(RangeInclusive<u8>),
}

/// The flags of the `server` and `client` modes.
pub(crate) struct Side {
    /// `--host`; empty means the mode's own default.
    pub(crate) host: String,
    /// `--port`.
    pub(crate) port: u16,
    /// `--encoding`.
    pub(crate) encoding: Encoding,
}

/// Reads the command line; `--help` and a usage error end the program.
pub(crate) fn parse() -> What {
    let help = Help::new(NAME, ABOUT)
        .positional(
            "WHAT",
            "1 to 5 runs one experiment; `server` or `client` plays one side by hand; nothing runs all five",
        )
        .option(
            "--host HOST",
            "server: address to listen on [0.0.0.0]; client: server to connect to [127.0.0.1]",
        )
        .option(
            "--port PORT",
            "server: port to listen on (0: any free port); client: server's port",
        )
        .default(DEFAULT_PORT)
        .option(
            "--encoding gbk|utf-8",
            "server and client: how text is encoded on the wire",
        )
        .default(Encoding::Gbk);
    cli::parse_or_exit(NAME, |parser| {
        let (mut what, mut host, mut port, mut encoding) = (None, None, None, None);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if what.is_none() => what = Some(value.string()?),
                Long("host") => host = Some(parser.value()?.string()?),
                Long("port") => port = Some(cli::port("--port", parser.value()?)?),
                Long("encoding") => encoding = Some(cli::encoding("--encoding", parser.value()?)?),
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        let given = [
            ("host", host.is_some()),
            ("port", port.is_some()),
            ("encoding", encoding.is_some()),
        ];
        let side = Side {
            host: host.unwrap_or_default(),
            port: port.unwrap_or(DEFAULT_PORT),
            encoding: encoding.unwrap_or(Encoding::Gbk),
        };
        match what.as_deref() {
            Some("server") => Ok(What::Server(side)),
            Some("client") if side.port == 0 => Err(tr(
                "--port 0: a client cannot connect to port 0; give the port the server listens on",
                "--port 0：客户端不能连接端口 0；请给出服务端监听的端口",
            )
            .into()),
            Some("client") => Ok(What::Client(side)),
            which => {
                let experiments = match which.map(str::parse::<u8>) {
                    None => 1..=5,
                    Some(Ok(n @ 1..=5)) => n..=n,
                    Some(_) => {
                        let which = which.unwrap_or_default();
                        return Err(netcore::tr!(
                            "unknown experiment '{which}': expected 1 to 5, server or client",
                            "未知的实验 '{which}'：应为 1 到 5、server 或 client"
                        )
                        .into());
                    }
                };
                // The experiments make their own loopback connections and
                // send bytes, not text: the two modes' flags would be
                // silently ignored, so they are refused.
                if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
                    return Err(netcore::tr!(
                        "--{flag} only applies to the server and client modes, not to the experiments",
                        "--{flag} 只用于 server 和 client 模式，不用于实验"
                    )
                    .into());
                }
                Ok(What::Experiments(experiments))
            }
        }
    })
}
