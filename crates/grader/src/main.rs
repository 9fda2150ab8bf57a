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
//! grader check lesson-03 --port 8080 --format json -- ./server
//! ```
//!
//! Exit status: 0 when every check passed, 1 when any failed, 2 for a usage
//! or internal error.

#[cfg(unix)]
use grader::{catalog, lessons, report, run, sandbox};

use std::process::ExitCode;

const USAGE: &str = "\
grader: grades a student's program for a lesson of the socket course, as a black box

Usage:
  grader list                                   the lessons, their checks and points
  grader check LESSON [OPTIONS] -- COMMAND...   grade one program

COMMAND is run as given, with these filled in wherever they appear:
  {port}  a free loopback port (also in the environment as PORT)
  {host}  127.0.0.1 (also HOST)
  {mode}  for lessons whose program runs in several modes: lesson-04 runs it as
          `server` and `client`, lesson-06 as `sink` and `source` (also MODE)
  {bytes} how many bytes lesson-06's source must send (also BYTES)

Options:
  --port N          use port N instead of a free one (for programs that hard-code 8080)
  --format text|json  the report's format [default: text]
  --time-scale F    multiply every check's time limit by F (a slow machine: 2) [default: 1]
  --timeout SECS    the whole run's time limit [default: 300]
  --run-as USER     run the program as USER [default: nobody when the grader runs as root]
  --no-pty          give the program's stdout a pipe instead of a pseudo-terminal
  --memory MIB      address-space limit per process [default: 2048]
  --cpu SECS        CPU-time limit per process [default: 60]
  --processes N     processes and threads the program may start [default: 512]
  -h, --help        print this help

Exit status: 0 every check passed, 1 some check failed, 2 usage or internal error.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("grader: error: {message} (see grader --help)");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(unix))]
fn cli(_: &[String]) -> Result<ExitCode, String> {
    Err("the grader runs on Linux and other Unix systems only".to_owned())
}

#[cfg(unix)]
fn cli(args: &[String]) -> Result<ExitCode, String> {
    match args.first().map(String::as_str) {
        None => Err("a command is needed: list or check".to_owned()),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("-V" | "--version") => {
            println!("grader {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Some("list") => {
            print!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        Some("check") => check(&args[1..]),
        Some(other) => Err(format!("unknown command '{other}': expected list or check")),
    }
}

#[cfg(unix)]
fn list() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for lesson in catalog::LESSONS {
        let _ = writeln!(
            out,
            "{}: {} ({} points)",
            lesson.id,
            lesson.title,
            lesson.max_points()
        );
        if !lesson.modes.is_empty() {
            let _ = writeln!(
                out,
                "  runs the program as {{mode}} = {}",
                lesson.modes.join(", then ")
            );
        }
        for check in lesson.checks {
            let _ = writeln!(
                out,
                "  {:<17} {:<6} {} pt  {}",
                check.id,
                check.kind.name(),
                check.points,
                catalog::summary(check)
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(unix)]
fn check(args: &[String]) -> Result<ExitCode, String> {
    use std::time::Duration;

    let split = args.iter().position(|a| a == "--");
    let (options, command) = match split {
        Some(i) => (&args[..i], args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut options = options.iter();
    let lesson_id = options
        .next()
        .ok_or("check needs a lesson, e.g. grader check lesson-05 -- COMMAND")?;
    if lesson_id == "--help" || lesson_id == "-h" {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let lesson = catalog::lesson(lesson_id).ok_or_else(|| {
        let known: Vec<&str> = catalog::LESSONS.iter().map(|l| l.id).collect();
        format!(
            "unknown lesson '{lesson_id}': expected one of {}",
            known.join(", ")
        )
    })?;
    let mut settings = run::Settings {
        command,
        port: None,
        time_scale: 1.0,
        total_timeout: Duration::from_secs(300),
        limits: sandbox::Limits::default(),
        run_as: sandbox::RunAs::Same,
        pty: true,
    };
    let mut format = "text".to_owned();
    let mut run_as = None;
    while let Some(option) = options.next() {
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (option.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| options.next().cloned())
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match name {
            "--port" => {
                let v = value()?;
                let port: u16 = v.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
                    format!(
                        "invalid value '{v}' for --port: expected a port number from 1 to 65535"
                    )
                })?;
                settings.port = Some(port);
            }
            "--format" => {
                format = value()?;
                if format != "text" && format != "json" {
                    return Err(format!(
                        "invalid value '{format}' for --format: expected text or json"
                    ));
                }
            }
            "--time-scale" => {
                let v = value()?;
                settings.time_scale = v
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f >= 0.1 && *f <= 100.0)
                    .ok_or_else(|| format!("invalid value '{v}' for --time-scale: expected a number from 0.1 to 100"))?;
            }
            "--timeout" => {
                settings.total_timeout = Duration::from_secs(number(name, &value()?, 1, 86_400)?)
            }
            "--run-as" => run_as = Some(value()?),
            "--no-pty" => settings.pty = false,
            "--memory" => {
                settings.limits.memory_bytes = number(name, &value()?, 16, 1 << 20)? << 20
            }
            "--cpu" => settings.limits.cpu_seconds = number(name, &value()?, 1, 86_400)?,
            "--processes" => settings.limits.processes = number(name, &value()?, 1, 100_000)?,
            _ => return Err(format!("unknown option '{name}'")),
        }
    }
    if settings.command.is_empty() {
        return Err(format!(
            "no program to grade: put its command after --, e.g. grader check {} -- python3 server.py {{port}}",
            lesson.id
        ));
    }
    if !lesson.modes.is_empty() && !settings.command.iter().any(|a| a.contains("{mode}")) {
        return Err(format!(
            "{} runs the program as {}: put {{mode}} in the command where the mode goes",
            lesson.id,
            lesson.modes.join(" and ")
        ));
    }
    settings.run_as = sandbox::RunAs::choose(run_as.as_deref())?;
    if settings.port.is_none() && !settings.command.iter().any(|a| a.contains("{port}")) {
        eprintln!(
            "grader: note: the command has no {{port}}; the program must take the port from the PORT environment variable"
        );
    }
    let command = settings.command.clone();
    let ctx = run::Ctx::new(settings);
    let outcomes = lessons::grade(lesson, &ctx);
    let report = if format == "json" {
        report::json(lesson, &command, &outcomes)
    } else {
        report::text(lesson, &command, &outcomes)
    };
    print!("{report}");
    let all_passed = outcomes.iter().all(run::Outcome::passed);
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(unix)]
fn number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            format!(
                "invalid value '{value}' for {name}: expected a whole number from {min} to {max}"
            )
        })
}
