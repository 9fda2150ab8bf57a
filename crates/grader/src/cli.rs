//! The `grader` command line: `list`, `check`, `hint`, `progress`, `batch`.
//!
//! [`command`] declares it to clap; each subcommand's values are then read
//! into [`Options`], and checked against one another (a lesson that runs
//! the program in modes needs `{mode}` in the command, say).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::builder::PossibleValuesParser;
use clap::error::ErrorKind;
use clap::parser::{MatchesError, ValueSource};
use clap::{Arg, ArgAction, ArgMatches, Command};
use loadgen::cli::{self as shared, Stop, whole};

use crate::batch::setup_error_line;
use crate::catalog::{self, Lesson};
use crate::i18n::{self, Lang, tr};
use crate::run::{self, Outcome, Settings};
use crate::{batch, exercise, jail, report, sandbox, tr};

/// What COMMAND and TEMPLATE may hold, said in every help that takes one,
/// after a line that says which it is.
const PLACEHOLDERS: &str = "  {port}   a free loopback port (also in the environment as PORT)
  {host}   127.0.0.1 (also HOST)
  {mode}   lesson-04 runs the program as `server` and `client`, lesson-06 as
           `sink` and `source`, lessons 08 and 09 as `reply` and `echo` (also
           MODE)
  {bytes}  how many bytes lesson-06's source must send (also BYTES)";

/// The sandbox, in a sentence.
const SANDBOX: &str = "\
Programs run in a sandbox: namespaces of their own (processes, network,
mounts), a private /tmp, a read-only machine and a clean environment (see
docs/grading.md, safety).";

/// The exit statuses of every command that grades.
const EXIT_STATUS: &str = "\
Exit status: 0 every check passed, 1 some check failed, 2 a usage error, or a
program that cannot be started at all (a missing interpreter, a file its user
cannot read).";

/// The formats of `--format`.
const FORMATS: [&str; 5] = ["text", "json", "junit", "gradescope", "classroom"];

/// The grader's command line, as clap parses it and `--help` shows it.
pub fn command() -> Command {
    let command = Command::new("grader")
        .about("grades a student's program for a lesson of the socket course, as a black box")
        .version(env!("CARGO_PKG_VERSION"))
        .override_usage(
            "grader list\n       \
             grader check LESSON [OPTIONS] [-- COMMAND...]\n       \
             grader hint LESSON [OPTIONS] [-- COMMAND...]\n       \
             grader progress [OPTIONS]\n       \
             grader batch LESSON DIR --run TEMPLATE [OPTIONS]",
        )
        .subcommand_required(true)
        // `grader help [COMMAND]` is `--help` (see `main`), and the flags
        // say "print this help" as every program of the course does.
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(shared::help_flag().global(true))
        .arg(
            value("lang", "LANG")
                .global(true)
                .value_parser(|v: &str| v.parse::<Lang>())
                .help("the language of reports, reasons and hints: en, or zh for Chinese [default: zh where the first of LC_ALL, LC_MESSAGES and LANG that is set starts with zh; else en]"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("print the version"),
        )
        // Given twice, an option's last value counts, as before clap.
        .args_override_self(true)
        .after_help(format!(
            "grader check --help lists check's options; so for hint, progress and batch.\n\n\
             COMMAND, and batch's --run TEMPLATE, are run with these filled in wherever\n\
             they appear:\n{PLACEHOLDERS}\n\n{SANDBOX}\n\n{EXIT_STATUS}"
        ))
        .subcommand(Command::new("list").about("the lessons, their checks and points"))
        .subcommand(program_options(
            Command::new("check")
                .about("grade one program (no COMMAND: the lesson's exercise, built first)"),
        ))
        .subcommand(program_options(
            Command::new("hint").about("the next thing to fix: the first failing check"),
        ))
        .subcommand(
            Command::new("progress")
                .about("which lessons' exercises pass, as bars")
                .args(sandbox_options())
                .after_help(SANDBOX),
        )
        .subcommand(
            Command::new("batch")
                .about("grade every student folder in DIR, into a CSV gradebook")
                .arg(lesson_arg())
                .arg(
                    Arg::new("dir")
                        .value_name("DIR")
                        .required(true)
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("the class: a folder of student folders"),
                )
                .arg(
                    value("run", "TEMPLATE")
                        .required(true)
                        .help("the shell command run in each student's work folder, e.g. 'python3 server.py {port}'"),
                )
                .args(setup_options("each work folder"))
                .arg(
                    value("jobs", "N")
                        .value_parser(whole(1, 64))
                        .default_value("2")
                        .help("students graded at once, each in a sandbox of its own"),
                )
                .arg(
                    value("csv", "FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("the gradebook [default: grades.csv in the current folder]"),
                )
                .arg(
                    value("junit", "FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("also write JUnit XML, a test suite per student"),
                )
                .args(sandbox_options())
                .after_help(format!(
                    "TEMPLATE is run with these filled in wherever they appear:\n\
                     {PLACEHOLDERS}\n\n{SANDBOX}\n\n{EXIT_STATUS}"
                )),
        );
    shared::fit_help(command)
}

/// An option that takes a value. The value may start with '-', as before
/// clap: the program's command is split off at `--` before clap sees the
/// options (see [`main`]), so nothing after `--` can be taken for a value.
fn value(name: &'static str, value_name: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name(value_name)
        .allow_hyphen_values(true)
}

/// A switch.
fn switch(name: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue)
}

/// `LESSON`, checked against the catalog while parsing.
fn lesson_arg() -> Arg {
    Arg::new("lesson")
        .value_name("LESSON")
        .required(true)
        .value_parser(|id: &str| {
            catalog::lesson(id).ok_or_else(|| {
                let known: Vec<&str> = catalog::LESSONS.iter().map(|l| l.id).collect();
                format!("expected one of {}", known.join(", "))
            })
        })
        .help("the lesson, e.g. lesson-05 (see grader list)")
}

/// `check` and `hint`: one program, or the lesson's exercise.
fn program_options(command: Command) -> Command {
    command
        .arg(lesson_arg())
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .last(true)
                .num_args(1..)
                .help("the program, after --, e.g. -- python3 server.py {port}"),
        )
        .arg(
            value("port", "N")
                .value_parser(|v: &str| {
                    v.parse::<u16>()
                        .ok()
                        .filter(|&p| p > 0)
                        .ok_or_else(|| "expected a port number from 1 to 65535".to_owned())
                })
                .help("use port N instead of a free one (programs that hard-code 8080)"),
        )
        .arg(
            value("dir", "DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("the submission's folder: copied into the program's work folder (/tmp/work), where it runs"),
        )
        .args(setup_options("the work folder"))
        .arg(
            value("format", "FORMAT")
                .value_parser(PossibleValuesParser::new(FORMATS))
                .hide_possible_values(true)
                .default_value("text")
                .help("text, json, junit, gradescope or classroom (one `result=` line for GitHub Classroom's grading reporter)"),
        )
        .arg(
            value("output", "FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("write the report to FILE instead of standard output"),
        )
        .arg(
            value("only", "IDS")
                .help("score only these checks (comma-separated ids; all still run)"),
        )
        .arg(switch("watch").help(
            "grade again whenever a file of the exercise (or of --dir) changes",
        ))
        .args(sandbox_options())
        .after_help(format!(
            "COMMAND is run with these filled in wherever they appear:\n\
             {PLACEHOLDERS}\n\n{SANDBOX}\n\n{EXIT_STATUS}"
        ))
}

/// `--setup` and `--setup-timeout`, of check, hint and batch.
fn setup_options(folder: &str) -> [Arg; 2] {
    [
        value("setup", "TEMPLATE").help(format!(
            "a build step run first in {folder}, in the same sandbox"
        )),
        value("setup-timeout", "SECS")
            .value_parser(whole(1, 86_400))
            .default_value("300")
            .help("the build step's time limit in seconds"),
    ]
}

/// The options of every command that grades: the sandbox and its limits.
/// `batch` passes the ones given on to each student's `grader check`
/// ([`passed_on`]).
fn sandbox_options() -> Vec<Arg> {
    let limits = sandbox::Limits::default();
    [
        value("time-scale", "F")
            .value_parser(|v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && (0.1..=100.0).contains(f))
                    .ok_or_else(|| "expected a number from 0.1 to 100".to_owned())
            })
            .default_value("1")
            .help("multiply every time limit by F (a slow machine: 2)"),
        value("timeout", "SECS")
            .value_parser(whole(1, 86_400))
            .default_value("300")
            .help("one program's whole grading run"),
        value("run-as", "USER").help(
            "run programs as USER; `root` for code you trust [default: a uid of the grading's own when the grader runs as root, else the grader's]",
        ),
        switch("no-pty").help("give the program's stdout a pipe instead of a pseudo-terminal"),
        value("memory", "MIB")
            .value_parser(whole(16, 1 << 20))
            .default_value((limits.memory_bytes >> 20).to_string())
            .help("memory a submission's processes may use together (a cgroup, as root) and each process (RLIMIT_DATA: address space merely reserved, as a JVM does, is not counted)"),
        value("disk", "MIB")
            .value_parser(whole(8, 1 << 20))
            .default_value(jail::DEFAULT_DISK_MIB.to_string())
            .help("the program's private /tmp, which holds its work folder"),
        value("env", "NAME=VALUE")
            .action(ArgAction::Append)
            .value_parser(|v: &str| {
                v.split_once('=')
                    .filter(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(|| {
                        "expected NAME=VALUE, e.g. PATH=/opt/jdk/bin:/usr/bin:/bin".to_owned()
                    })
            })
            .help("add to the programs' clean environment (e.g. PATH=...); repeatable"),
        value("locale", "LOCALE")
            .default_value(run::DEFAULT_LOCALE)
            .help("the programs' LANG and LC_ALL, so that Java and C print UTF-8; `inherit` keeps the grader's own"),
        value("cpu", "SECS")
            .value_parser(whole(1, 86_400))
            .default_value(limits.cpu_seconds.to_string())
            .help("CPU-time limit per process"),
        value("processes", "N")
            .value_parser(whole(1, 100_000))
            .default_value(limits.processes.to_string())
            .help("processes and threads a program may add"),
        switch("no-namespaces")
            .help("run programs without namespaces (as where the kernel refuses them)"),
    ]
    .into_iter()
    .map(|arg| arg.help_heading("Sandbox and limits"))
    .collect()
}

/// Runs the command line `args` (without the program name).
pub fn main(args: &[String]) -> ExitCode {
    // `grader help [COMMAND]` is `grader [COMMAND] --help`, as before clap.
    let mut args = args.to_vec();
    if args.first().map(String::as_str) == Some("help") {
        args.remove(0);
        args.push("--help".to_owned());
    }
    // The program's command, after the first `--`, is split off here, not
    // by clap: then an option's value may start with '-' (`--run -x`)
    // without `--run --` taking `--` for its value.
    let program = args
        .iter()
        .position(|a| a == "--")
        .map(|i| args.drain(i..).skip(1).collect::<Vec<String>>());
    let matches = match shared::parse(command(), &args) {
        Ok(matches) => matches,
        Err(Stop::Usage {
            kind: ErrorKind::UnknownArgument,
            argument: Some(argument),
            message,
            help,
        }) if !argument.starts_with('-') && (help == "grader check" || help == "grader hint") => {
            // A word of the program's command, most likely.
            return fail(
                &help,
                &format!("{message}: put the program's command after --"),
            );
        }
        Err(stop) => return stop.exit("grader"),
    };
    // The language, before anything is said: `--lang`, else the locale.
    let lang = matches
        .subcommand()
        .and_then(|(_, sub)| value_of::<Lang>(sub, "lang"))
        .or_else(|| value_of::<Lang>(&matches, "lang"))
        .unwrap_or_else(Lang::from_env);
    i18n::set(lang);
    let Some((name, matches)) = matches.subcommand() else {
        // Not reached: clap requires a subcommand, and says so.
        return fail(
            "grader",
            "a command is needed: list, check, hint, progress or batch",
        );
    };
    let result = match (name, program) {
        ("list", None) => {
            print!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        ("check", program) => check(matches, program.unwrap_or_default(), false),
        ("hint", program) => check(matches, program.unwrap_or_default(), true),
        ("progress", None) => progress(matches),
        ("batch", None) => batch(matches),
        (_, _) => {
            Err("unexpected argument '--': only check and hint take a program's command".to_owned())
        }
    };
    result.unwrap_or_else(|message| fail(&format!("grader {name}"), &message))
}

/// Prints a usage error as one line, pointing to `help`'s `--help`, and
/// gives the exit status 2.
fn fail(help: &str, message: &str) -> ExitCode {
    eprintln!("{}", shared::usage("grader", help, message));
    ExitCode::from(shared::USAGE_EXIT_CODE)
}

/// `list`: every lesson's checks, kinds, points and summaries.
fn list() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for lesson in catalog::LESSONS {
        let (id, title, points) = (lesson.id, lesson.title.tr(), lesson.max_points());
        let _ = writeln!(
            out,
            "{}",
            tr!(
                "{id}: {title} ({points} points)",
                "{id}：{title}（{points} 分）"
            )
        );
        if !lesson.modes.is_empty() {
            let modes = lesson.modes.join(tr(", then ", "，然后是 "));
            let _ = writeln!(
                out,
                "  {}",
                tr!(
                    "runs the program as {{mode}} = {modes}",
                    "以 {{mode}} = {modes} 运行程序"
                )
            );
        }
        for check in lesson.checks {
            let _ = writeln!(
                out,
                "  {:<17} {} {} {}  {}",
                check.id,
                batch::pad(check.kind.label(), 6),
                check.points,
                tr("pt", "分"),
                check.summary.tr()
            );
        }
        out.push('\n');
    }
    out
}

/// Everything the options say.
struct Options {
    settings: Settings,
    /// The work space's size (`--disk`).
    disk_mib: u64,
    /// `--no-namespaces`.
    no_namespaces: bool,
    format: String,
    output: Option<PathBuf>,
    only: Vec<String>,
    watch: bool,
    setup: Option<String>,
    setup_timeout: Duration,
}

/// The value of option `id`, or `None` when it was not given and has no
/// default. An option that the subcommand does not take reads as not
/// given: `progress` has no `--format`, say.
fn value_of<T: Clone + Send + Sync + 'static>(matches: &ArgMatches, id: &str) -> Option<T> {
    match matches.try_get_one::<T>(id) {
        Ok(value) => value.cloned(),
        Err(err) => {
            // Asking for the wrong type is a mistake here, not the user's.
            debug_assert!(
                matches!(err, MatchesError::UnknownArgument { .. }),
                "{id}: {err}"
            );
            None
        }
    }
}

/// Whether switch `id` was given.
fn given(matches: &ArgMatches, id: &str) -> bool {
    value_of::<bool>(matches, id).unwrap_or(false)
}

/// Reads the options of a parsed subcommand; `command` is the program's
/// command (after `--`).
fn options(matches: &ArgMatches, command: Vec<String>) -> Result<Options, String> {
    let mut limits = sandbox::Limits::default();
    if let Some(mib) = value_of::<u64>(matches, "memory") {
        limits.memory_bytes = mib << 20;
    }
    if let Some(seconds) = value_of(matches, "cpu") {
        limits.cpu_seconds = seconds;
    }
    if let Some(processes) = value_of(matches, "processes") {
        limits.processes = processes;
    }
    let locale =
        value_of::<String>(matches, "locale").unwrap_or_else(|| run::DEFAULT_LOCALE.to_owned());
    let env: Vec<(String, String)> = matches
        .try_get_many::<(String, String)>("env")
        .ok()
        .flatten()
        .map(|pairs| pairs.cloned().collect())
        .unwrap_or_default();
    let run_as = value_of::<String>(matches, "run-as");
    let settings = Settings {
        command,
        port: value_of(matches, "port"),
        time_scale: value_of(matches, "time-scale").unwrap_or(1.0),
        total_timeout: Duration::from_secs(value_of(matches, "timeout").unwrap_or(300)),
        limits,
        run_as: sandbox::RunAs::choose(run_as.as_deref())?,
        pty: !given(matches, "no-pty"),
        dir: value_of(matches, "dir"),
        locale: (locale != "inherit").then_some(locale),
        env,
        jail: None,
    };
    Ok(Options {
        settings,
        disk_mib: value_of(matches, "disk").unwrap_or(jail::DEFAULT_DISK_MIB),
        no_namespaces: given(matches, "no-namespaces"),
        format: value_of(matches, "format").unwrap_or_else(|| "text".to_owned()),
        output: value_of(matches, "output"),
        only: value_of::<String>(matches, "only")
            .map(|ids| ids.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default(),
        watch: given(matches, "watch"),
        setup: value_of(matches, "setup"),
        setup_timeout: Duration::from_secs(value_of(matches, "setup-timeout").unwrap_or(300)),
    })
}

/// The sandbox's options given on the command line, as typed, for each
/// student's `grader check` (batch).
fn passed_on(matches: &ArgMatches) -> Vec<String> {
    let mut pass_on = Vec::new();
    for arg in sandbox_options() {
        let id = arg.get_id().as_str();
        if matches.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let flag = format!("--{id}");
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            pass_on.push(flag);
            continue;
        }
        // Each value as it was typed; `--env` may be given several times.
        for value in matches.get_raw(id).into_iter().flatten() {
            pass_on.extend([flag.clone(), value.to_string_lossy().into_owned()]);
        }
    }
    pass_on
}

/// `check` and `hint`.
fn check(matches: &ArgMatches, command: Vec<String>, hint: bool) -> Result<ExitCode, String> {
    let lesson: &'static Lesson =
        value_of(matches, "lesson").ok_or("which lesson? e.g. lesson-05")?;
    let options = options(matches, command)?;
    for id in &options.only {
        if lesson.check(id).is_none() {
            return Err(format!(
                "--only: {} has no check '{id}' (see grader list)",
                lesson.id
            ));
        }
    }
    if options.setup.is_some() && options.settings.dir.is_none() {
        return Err(
            "--setup builds in the copy of the submission's folder: give the folder with --dir"
                .to_owned(),
        );
    }
    let exercise = options.settings.command.is_empty();
    if !exercise
        && !lesson.modes.is_empty()
        && !options
            .settings
            .command
            .iter()
            .any(|a| a.contains("{mode}"))
    {
        return Err(format!(
            "{} runs the program as {}: put {{mode}} in the command where the mode goes",
            lesson.id,
            lesson.modes.join(" and ")
        ));
    }
    if !exercise
        && options.settings.port.is_none()
        && !options
            .settings
            .command
            .iter()
            .any(|a| a.contains("{port}"))
    {
        eprintln!(
            "{}",
            tr(
                "grader: note: the command has no {port}; the program must take the port from the PORT environment variable",
                "grader: 注意: 命令里没有 {port}；程序必须从环境变量 PORT 读取端口",
            )
        );
    }
    if exercise {
        // Built before the jail is entered: cargo may need the network to
        // fetch a dependency. (`grade` builds again, which then does
        // nothing.)
        let _ = exercise::build(lesson);
    }
    let mut options = options;
    let jail = match enter_jail(&options) {
        Ok(jail) => std::sync::Arc::new(jail),
        Err(reason) => {
            eprintln!("{}{}", error_prefix(), setup_error_line(&reason));
            return Ok(ExitCode::from(2));
        }
    };
    let isolation = jail.isolation.warning();
    options.settings.jail = Some(std::sync::Arc::clone(&jail));
    let watched = if exercise {
        exercise::folder(lesson)
    } else {
        options
            .settings
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let mut round = 0;
    loop {
        let before = exercise::fingerprint(&watched);
        round += 1;
        if round > 1
            && let Err(reason) = jail.renew()
        {
            eprintln!("{}{}", error_prefix(), setup_error_line(&reason));
            wait_for_change(&watched, &before);
            continue;
        }
        let (outcomes, command, elapsed, setup) = match grade(lesson, &options, exercise) {
            Ok((outcomes, command, elapsed)) => (outcomes, command, elapsed, None),
            Err(setup) => {
                // Not the student's failure, and not a score: said once.
                eprintln!("{}{}", error_prefix(), setup_error_line(&setup));
                if options.format == "text" || hint {
                    if !options.watch {
                        return Ok(ExitCode::from(2));
                    }
                    wait_for_change(&watched, &before);
                    continue;
                }
                // A format for a program (Gradescope, Classroom, CI) still
                // gets its report, 0 points with the reason in every check,
                // so that no platform is left without a result.
                let line = setup_error_line(&setup);
                let reason = tr!("not graded: {line}", "未评分：{line}");
                let outcomes = run::all_failed(lesson, &reason, batch::START_HINT.tr(), None);
                let command = options.settings.command.clone();
                (outcomes, command, Duration::ZERO, Some(setup))
            }
        };
        let outcomes: Vec<Outcome> = if options.only.is_empty() {
            outcomes
        } else {
            outcomes
                .into_iter()
                .filter(|o| options.only.iter().any(|id| id == o.check.id))
                .collect()
        };
        let text = if hint {
            hint_text(lesson, &outcomes)
        } else {
            match options.format.as_str() {
                "json" => report::json(lesson, &command, &outcomes, isolation.as_deref()),
                "junit" => report::junit(lesson, &outcomes),
                "gradescope" => report::gradescope(
                    lesson,
                    &outcomes,
                    elapsed.as_secs_f64(),
                    isolation.as_deref(),
                ),
                "classroom" => report::classroom(lesson, &outcomes),
                _ => report::text(lesson, &command, &outcomes, isolation.as_deref()),
            }
        };
        match &options.output {
            Some(path) => write_atomically(path, text.as_bytes())?,
            None => print!("{text}"),
        }
        if let (Some(note), true) = (&isolation, options.format != "text" || hint) {
            eprintln!("grader: {note}");
        }
        let passed = outcomes.iter().all(Outcome::passed);
        if !options.watch {
            if setup.is_some() {
                return Ok(ExitCode::from(2));
            }
            return Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        wait_for_change(&watched, &before);
    }
}

/// Enters the submission's jail (see [`jail`]), while this process has
/// one thread.
fn enter_jail(options: &Options) -> Result<jail::Jail, String> {
    let settings = &options.settings;
    let user = match &settings.run_as {
        sandbox::RunAs::User { uid, gid, .. } => Some((*uid, *gid)),
        sandbox::RunAs::Same => None,
    };
    jail::Jail::enter(
        settings.dir.as_deref(),
        user,
        settings.limits.memory_bytes,
        options.disk_mib << 20,
        !options.no_namespaces,
    )
}

/// Writes `bytes` to `path` as a new file renamed into place: whatever was
/// at `path` (a symbolic link a student put there, say) is replaced, never
/// written through, and a reader never sees half a file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let fail = |err: std::io::Error| format!("cannot write {}: {err}", path.display());
    let name = path
        .file_name()
        .ok_or_else(|| format!("cannot write {}: not a file name", path.display()))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for attempt in 0..100u32 {
        let temporary = folder.join(format!(
            ".{}.{}-{attempt}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        // create_new: O_EXCL, which never follows a link.
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(fail(err)),
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&temporary, path));
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(fail(err));
        }
        return Ok(());
    }
    Err(fail(std::io::Error::other("too many temporary files")))
}

/// `--watch`: waits until a file under `watched` differs from `before`.
/// Polling, not file-system events: it works in VMs, WSL and on network
/// folders too.
fn wait_for_change(watched: &std::path::Path, before: &[exercise::FileStamp]) {
    let folder = watched.display();
    println!(
        "\n{}",
        tr!(
            "watching {folder} for changes (Ctrl+C to stop)",
            "正在监视 {folder} 的变化（按 Ctrl+C 停止）"
        )
    );
    while exercise::fingerprint(watched) == before {
        std::thread::sleep(Duration::from_millis(500));
    }
    // Let an editor finish writing.
    std::thread::sleep(Duration::from_millis(300));
    println!("\n{}\n", tr("changed: grading again", "有变化：重新评分"));
}

/// What starts an error line on stderr, in the grading's language (as the
/// course's programs write it: `grader: error: `, `grader: 错误: `).
fn error_prefix() -> &'static str {
    tr("grader: error: ", "grader: 错误: ")
}

/// What a grading run gives: the outcomes, the command shown in the
/// report, and the time it took.
type Graded = (Vec<Outcome>, Vec<String>, Duration);

/// Grades `lesson` (its exercise when `exercise`); `Err` with the reason
/// when the program could not be started at all.
fn grade(lesson: &'static Lesson, options: &Options, exercise: bool) -> Result<Graded, String> {
    let started = Instant::now();
    let mut settings = options.settings.clone();
    if exercise {
        match exercise::build(lesson) {
            Ok(binary) => settings.command = exercise::command(lesson, &binary),
            Err(output) => {
                let (package, error) = (exercise::package(lesson), exercise::first_error(&output));
                let reason = tr!(
                    "{package} does not build: {error}",
                    "{package} 无法构建：{error}"
                );
                let command = vec![
                    "cargo".to_owned(),
                    "build".to_owned(),
                    "-p".to_owned(),
                    exercise::package(lesson),
                ];
                return Ok((
                    run::all_failed(lesson, &reason, run::BUILD_HINT.tr(), Some(output)),
                    command,
                    started.elapsed(),
                ));
            }
        }
    }
    let command = settings.command.clone();
    if let Some(setup) = &options.setup
        && let Err((reason, tail)) = batch::setup(&settings, setup, options.setup_timeout)
    {
        let outcomes = run::all_failed(lesson, &reason, batch::SETUP_HINT.tr(), tail);
        return Ok((outcomes, command, started.elapsed()));
    }
    let ctx = run::Ctx::new(settings);
    let outcomes = (lesson.grade)(lesson, &ctx);
    match ctx.setup_error() {
        Some(reason) => Err(reason),
        None => Ok((outcomes, command, started.elapsed())),
    }
}

/// The next thing to fix: the first failing core check, else the first
/// failing robust one.
fn hint_text(lesson: &Lesson, outcomes: &[Outcome]) -> String {
    let failing: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    let next = failing
        .iter()
        .find(|o| o.check.kind == catalog::Kind::Core)
        .or_else(|| failing.first());
    let (id, points) = (lesson.id, lesson.max_points());
    let Some(next) = next else {
        return tr!(
            "{id}: every check passes ({points} points): nothing left to fix.\n",
            "{id}：全部检查通过（{points} 分）：没有要修的了。\n"
        );
    };
    let check = next.check;
    let (failing, total) = (failing.len(), outcomes.len());
    let (check_id, kind, points) = (check.id, check.kind.label(), check.points);
    let unit = if points == 1 { "point" } else { "points" };
    let (summary, reason, hint) = (
        check.summary.tr(),
        next.reason.as_deref().unwrap_or(""),
        next.hint(),
    );
    let mut text = tr!(
        "{id}: {failing} of {total} checks fail. Fix this one first:\n\n  {check_id} ({kind}, {points} {unit}): {summary}\n\n  what happened: {reason}\n  next step:     {hint}\n",
        "{id}：{total} 个检查项中有 {failing} 个没通过。先修这一个：\n\n  {check_id}（{kind}，{points} 分）：{summary}\n\n  发生了什么：{reason}\n  下一步：    {hint}\n"
    );
    if let Some(tail) = &next.output_tail {
        text.push_str(tr(
            "\n  the program's last output:\n",
            "\n  程序最后的输出：\n",
        ));
        for line in tail.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

/// `progress`: every exercise graded, as bars.
fn progress(matches: &ArgMatches) -> Result<ExitCode, String> {
    let options = options(matches, Vec::new())?;
    // Every exercise built first, while the network is there (cargo may
    // fetch a dependency), then one jail for all of them.
    for lesson in catalog::LESSONS {
        let _ = exercise::build(lesson);
    }
    let mut options = options;
    let jail = enter_jail(&options).map_err(|reason| setup_error_line(&reason))?;
    if let Some(note) = jail.isolation.warning() {
        println!("{note}");
    }
    options.settings.jail = Some(std::sync::Arc::new(jail));
    let (mut total, mut max) = (0, 0);
    let mut rows = Vec::new();
    let live = std::io::stdout().is_terminal();
    for lesson in catalog::LESSONS {
        let package = exercise::package(lesson);
        if live {
            print!("\r{}", tr!("grading {package}...", "正在评分 {package}..."));
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
        let outcomes = match grade(lesson, &options, true) {
            Ok((outcomes, _, _)) => outcomes,
            Err(setup) => {
                let line = setup_error_line(&setup);
                rows.push(format!(
                    "{package:<12} {}",
                    tr!("cannot be run: {line}", "无法运行：{line}")
                ));
                max += lesson.max_points();
                continue;
            }
        };
        let score: u32 = outcomes.iter().map(|o| o.score).sum();
        total += score;
        max += lesson.max_points();
        let untouched = outcomes.iter().any(|o| {
            o.output_tail
                .as_deref()
                .is_some_and(|t| t.contains("not written yet"))
        });
        let note = match outcomes.iter().find_map(|o| o.reason.as_deref()) {
            None => tr("done: every check passes", "完成：全部检查通过").to_owned(),
            Some(_) if untouched => tr("not started", "还没开始").to_owned(),
            Some(reason) => {
                // About as wide in either language: a Chinese character
                // takes two columns.
                let room = i18n::current().pick(70, 40);
                let short: String = reason.chars().take(room).collect();
                tr!("next: {short}", "下一步：{short}")
            }
        };
        rows.push(format!(
            "{package:<12} {} {:>3}/{:<3} {note}",
            bar(score, lesson.max_points(), 24),
            score,
            lesson.max_points()
        ));
    }
    if live {
        print!("\r{:40}\r", "");
    }
    for row in rows {
        println!("{row}");
    }
    println!(
        "{} {} {:>3}/{:<3}",
        batch::pad(tr("course", "全课程"), 12),
        bar(total, max, 24),
        total,
        max
    );
    println!(
        "\n{}",
        tr(
            "`cargo run -p grader -- hint lesson-NN` says what to fix next.",
            "`cargo run -p grader -- hint lesson-NN` 会告诉你下一步要修什么。",
        )
    );
    Ok(if total == max {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn bar(value: u32, total: u32, width: u32) -> String {
    let filled = (value * width).checked_div(total).unwrap_or(0);
    format!(
        "[{}{}]",
        "#".repeat(filled as usize),
        ".".repeat((width - filled) as usize)
    )
}

/// The gradebook's path when `--csv` is not given: `grades.csv` in the
/// current folder, which must not be inside the class folder (where a
/// student's files could take its place).
fn default_gradebook(class: &std::path::Path) -> Result<PathBuf, String> {
    let here =
        std::env::current_dir().map_err(|err| format!("cannot find the current folder: {err}"))?;
    let class = std::fs::canonicalize(class)
        .map_err(|err| format!("cannot open {}: {err}", class.display()))?;
    let here = std::fs::canonicalize(&here).unwrap_or(here);
    if here.starts_with(&class) {
        return Err(format!(
            "the gradebook would be written inside the class folder {}: run the grader from another folder, or give --csv FILE outside it",
            class.display()
        ));
    }
    Ok(PathBuf::from("grades.csv"))
}

/// `batch`: a whole class.
fn batch(matches: &ArgMatches) -> Result<ExitCode, String> {
    let lesson: &'static Lesson =
        value_of(matches, "lesson").ok_or("which lesson? e.g. lesson-05")?;
    let dir: PathBuf = value_of(matches, "dir").ok_or(
        "batch needs the folder of student folders: grader batch LESSON DIR --run TEMPLATE",
    )?;
    let run: String = value_of(matches, "run").ok_or("batch needs --run TEMPLATE: the command run in each student's folder, e.g. --run 'python3 server.py {port}'")?;
    let options = options(matches, Vec::new())?;
    if !lesson.modes.is_empty() && !run.contains("{mode}") {
        return Err(format!(
            "{} runs the program as {}: put {{mode}} in --run",
            lesson.id,
            lesson.modes.join(" and ")
        ));
    }
    // The folder must hold student folders before anything is said or run.
    batch::students(&dir)?;
    let csv_path = match value_of(matches, "csv") {
        Some(path) => path,
        None => default_gradebook(&dir)?,
    };
    let started = Instant::now();
    let job = batch::Batch {
        lesson,
        dir: dir.clone(),
        run,
        setup: options.setup.clone(),
        setup_timeout: options.setup_timeout,
        jobs: value_of::<u64>(matches, "jobs").unwrap_or(2) as usize,
        check_options: passed_on(matches),
        settings: options.settings.clone(),
    };
    let students = batch::grade_all(&job)?;
    write_atomically(&csv_path, batch::csv(lesson, &students).as_bytes())?;
    if let Some(path) = value_of::<PathBuf>(matches, "junit") {
        let suites: Vec<String> = students
            .iter()
            .map(|s| report::junit_suite(&s.name, lesson, &s.outcomes))
            .collect();
        let tests: usize = students.iter().map(|s| s.outcomes.len()).sum();
        let failures: usize = students
            .iter()
            .map(|s| s.outcomes.iter().filter(|o| !o.passed()).count())
            .sum();
        let time: f64 = students.iter().map(|s| s.duration.as_secs_f64()).sum();
        write_atomically(
            &path,
            report::junit_document(&suites, tests, failures, time).as_bytes(),
        )?;
    }
    print!("{}", batch::summary(lesson, &students, started.elapsed()));
    let hidden = batch::hidden(&dir);
    if !hidden.is_empty() {
        let (count, names) = (hidden.len(), hidden.join(", "));
        let s = if count == 1 { "" } else { "s" };
        println!(
            "\n{}",
            tr!(
                "skipped {count} hidden folder{s} (a name that starts with a dot): {names}",
                "跳过了 {count} 个隐藏文件夹（名字以点开头）：{names}"
            )
        );
    }
    let gradebook = csv_path.display();
    println!(
        "\n{}",
        tr!("grades written to {gradebook}", "成绩已写入 {gradebook}")
    );
    let all = students
        .iter()
        .all(|s| s.outcomes.iter().all(Outcome::passed));
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subcommand's matches for `grader ARGS`.
    fn parse(args: &[&str]) -> ArgMatches {
        let argv = std::iter::once("grader").chain(args.iter().copied());
        let matches = command().try_get_matches_from(argv).unwrap();
        matches.subcommand().unwrap().1.clone()
    }

    #[test]
    fn the_command_line_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn defaults_are_those_of_the_grader_before_clap() {
        let options = options(&parse(&["check", "lesson-05"]), Vec::new()).unwrap();
        let settings = &options.settings;
        let limits = sandbox::Limits::default();
        assert_eq!(settings.port, None);
        assert_eq!(settings.time_scale, 1.0);
        assert_eq!(settings.total_timeout, Duration::from_secs(300));
        assert_eq!(settings.limits.memory_bytes, limits.memory_bytes);
        assert_eq!(settings.limits.cpu_seconds, limits.cpu_seconds);
        assert_eq!(settings.limits.processes, limits.processes);
        assert!(settings.pty);
        assert_eq!(settings.locale.as_deref(), Some(run::DEFAULT_LOCALE));
        assert!(settings.env.is_empty() && settings.dir.is_none());
        assert_eq!(options.disk_mib, jail::DEFAULT_DISK_MIB);
        assert!(!options.no_namespaces && !options.watch);
        assert_eq!(options.format, "text");
        assert!(options.output.is_none() && options.only.is_empty());
        assert!(options.setup.is_none());
        assert_eq!(options.setup_timeout, Duration::from_secs(300));
    }

    #[test]
    fn values_are_read_into_the_settings() {
        let matches = parse(&[
            "check",
            "--port=9000",
            "lesson-05",
            "--memory",
            "64",
            "--only",
            "listens, restarts",
            "--locale",
            "inherit",
            "--env",
            "A=1",
            "--env",
            "B==2",
            "--no-pty",
            "--format",
            "json",
            "--format",
            "junit",
        ]);
        let options = options(&matches, vec!["prog".to_owned()]).unwrap();
        let settings = &options.settings;
        assert_eq!(settings.command, ["prog"]);
        assert_eq!(settings.port, Some(9000));
        assert_eq!(settings.limits.memory_bytes, 64 << 20);
        assert_eq!(options.only, ["listens", "restarts"]);
        assert_eq!(settings.locale, None);
        let env = [("A", "1"), ("B", "=2")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(settings.env, env);
        assert!(!settings.pty);
        // Given twice, the last value counts.
        assert_eq!(options.format, "junit");
    }

    #[test]
    fn batch_passes_the_sandbox_options_given_on_as_typed() {
        let matches = parse(&[
            "batch",
            "lesson-03",
            "class",
            "--run",
            "x {port}",
            "--env",
            "A=1",
            "--time-scale",
            "0.5",
            "--no-namespaces",
            "--env",
            "B=2",
            "--time-scale",
            "2.0",
            "--jobs",
            "4",
        ]);
        assert_eq!(
            passed_on(&matches),
            [
                "--time-scale",
                "2.0",
                "--env",
                "A=1",
                "--env",
                "B=2",
                "--no-namespaces"
            ]
        );
        assert!(passed_on(&parse(&["batch", "lesson-03", "class", "--run", "x"])).is_empty());
    }

    #[test]
    fn every_help_fits_80_columns() {
        let mut command = command();
        let mut helps = vec![command.render_help().to_string()];
        for sub in command.get_subcommands_mut() {
            helps.push(sub.render_help().to_string());
        }
        for help in helps {
            for line in help.lines() {
                assert!(shared::columns(line) <= shared::HELP_WIDTH, "{line}");
            }
        }
    }
}
