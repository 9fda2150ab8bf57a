//! `grader`: grades a student's program for a lesson of the socket course.
//!
//! The program, in any language, is run as a black box: the grader puts a
//! free loopback port into its command (`{port}`, `{host}`, `{mode}`,
//! `{bytes}`, and the `PORT`, `HOST`, `MODE`, `BYTES` environment
//! variables), plays the other side of the conversation, and scores each
//! check with a reason for every point lost. See `docs/grading.md`.
//!
//! ```text
//! grader list
//! grader check lesson-05 -- python3 server.py {port}
//! grader check lesson-05            # the exercise in exercises/lesson-05
//! grader batch lesson-03 class/ --run 'python3 server.py {port}'
//! ```
//!
//! Exit status: 0 when every check passed, 1 when any failed, 2 for a usage
//! or internal error.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = Vec::new();
    for (i, arg) in std::env::args_os().skip(1).enumerate() {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!(
                    "grader: error: argument {} ({}) is not valid UTF-8: rename the file or folder (see grader --help)",
                    i + 1,
                    arg.to_string_lossy().escape_debug()
                );
                return ExitCode::from(2);
            }
        }
    }
    #[cfg(unix)]
    if args.first().map(String::as_str) == Some(grader::jail::INIT_COMMAND) {
        return grader::jail::init_main(&args[1..]);
    }
    #[cfg(unix)]
    return grader::cli::main(&args);
    #[cfg(not(unix))]
    {
        let _ = args;
        eprintln!("grader: error: the grader runs on Linux and other Unix systems only");
        ExitCode::from(2)
    }
}
