//! Lesson 01's one flag: `--host`, the name that step 3 resolves.

use lexopt::prelude::*;
use netcore::cli::{self, Help};

use crate::{ABOUT, NAME};

/// What step 3 resolves unless `--host` names another host.
const HOST: &str = "localhost";

/// The host name to resolve, from the command line; `--help` and a usage
/// error end the program.
pub(crate) fn parse() -> String {
    let help = Help::new(NAME, ABOUT)
        .option("--host HOST", "host name to resolve in step 3")
        .default(HOST);
    cli::parse_or_exit(NAME, |parser| {
        let mut host = HOST.to_owned();
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => host = parser.value()?.string()?,
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(host)
    })
}
