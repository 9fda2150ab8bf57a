//! The `grader` command line: `list`, `check`, `hint`, `progress`, `batch`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::catalog::{self, Lesson};
use crate::run::{self, Outcome, Settings};
use crate::{batch, exercise, jail, report, sandbox};

/// The help text.
pub const USAGE: &str = "\
grader: grades a student's program for a lesson of the socket course, as a black box

Usage:
  grader list                                  the lessons, their checks and points
  grader check LESSON [OPTIONS] [-- COMMAND...]  grade one program (no COMMAND: the
                                               lesson's exercise, exercises/LESSON, built first)
  grader hint LESSON [OPTIONS] [-- COMMAND...]   the next thing to fix: the first failing check
  grader progress [OPTIONS]                    which lessons' exercises pass, as bars
  grader batch LESSON DIR --run TEMPLATE [OPTIONS]  grade every student folder in DIR

COMMAND (and TEMPLATE) are run with these filled in wherever they appear:
  {port}  a free loopback port (also in the environment as PORT)
  {host}  127.0.0.1 (also HOST)
  {mode}  lesson-04 runs the program as `server` and `client`, lesson-06 as `sink` and
          `source` (also MODE)
  {bytes} how many bytes lesson-06's source must send (also BYTES)

Options of check and hint:
  --port N            use port N instead of a free one (programs that hard-code 8080)
  --dir DIR           the submission's folder: copied into the program's work folder
                      (/tmp/work), where it runs
  --setup TEMPLATE    a build step run first in the work folder, in the same sandbox
  --setup-timeout S   the build step's time limit in seconds [default: 300]
  --format FORMAT     text, json, junit, gradescope or classroom (one `result=` line
                      for GitHub Classroom's grading reporter) [default: text]
  --output FILE       write the report to FILE instead of standard output
  --only IDS          score only these checks (comma-separated ids; all still run)
  --watch             grade again whenever a file of the exercise (or of --dir) changes

Options of batch:
  --run TEMPLATE      the shell command run in each student's work folder
  --setup TEMPLATE    a build step run first in each work folder, in the same sandbox
  --setup-timeout S   the build step's time limit in seconds [default: 300]
  --jobs N            students graded at once, each in a sandbox of its own [default: 2]
  --csv FILE          the gradebook [default: grades.csv in the current folder]
  --junit FILE        also write JUnit XML, a test suite per student

Options of every command:
  --time-scale F      multiply every time limit by F (a slow machine: 2) [default: 1]
  --timeout SECS      one program's whole grading run [default: 300]
  --run-as USER       run programs as USER; `root` for code you trust [default: a uid of
                      the grading's own when the grader runs as root, else the grader's]
  --no-pty            give the program's stdout a pipe instead of a pseudo-terminal
  --memory MIB        memory a submission's processes may use together (a cgroup, as root)
                      and each process (RLIMIT_DATA: address space merely reserved, as a
                      JVM does, is not counted) [default: 2048]
  --disk MIB          the program's private /tmp, which holds its work folder [default: 256]
  --env NAME=VALUE    add to the programs' clean environment (e.g. PATH=...); repeatable
  --locale LOCALE     the programs' LANG and LC_ALL, so that Java and C print UTF-8;
                      `inherit` keeps the grader's own [default: C.UTF-8]
  --cpu SECS          CPU-time limit per process [default: 60]
  --processes N       processes and threads a program may add [default: 512]
  --no-namespaces     run programs without namespaces (as where the kernel refuses them)
  -h, --help          print this help;  -V, --version  print the version

Programs run in a sandbox: namespaces of their own (processes, network, mounts), a private
/tmp, a read-only machine and a clean environment (see docs/grading.md, safety).

Exit status: 0 every check passed, 1 some check failed, 2 a usage error, or a program
that cannot be started at all (a missing interpreter, a file its user cannot read).
";

/// Runs the command line `args` (without the program name).
pub fn main(args: &[String]) -> ExitCode {
    match dispatch(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("grader: error: {message} (see grader --help)");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode, String> {
    match args.first().map(String::as_str) {
        None => Err("a command is needed: list, check, hint, progress or batch".to_owned()),
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
        Some("check") => check(&args[1..], false),
        Some("hint") => check(&args[1..], true),
        Some("progress") => help_or(progress(&args[1..])),
        Some("batch") => help_or(batch(&args[1..])),
        Some(other) => Err(format!(
            "unknown command '{other}': expected list, check, hint, progress or batch"
        )),
    }
}

/// Turns the options parser's request for help into the help text.
fn help_or(result: Result<ExitCode, String>) -> Result<ExitCode, String> {
    match result {
        Err(e) if e == "__help" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => other,
    }
}

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
                check.summary
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
    run_as: Option<String>,
    /// Options to pass on to a child `grader check` (batch).
    pass_on: Vec<String>,
    // batch
    run: Option<String>,
    setup: Option<String>,
    setup_timeout: Duration,
    jobs: usize,
    csv: Option<PathBuf>,
    junit: Option<PathBuf>,
}

fn parse_options(args: &[String]) -> Result<(Options, Vec<String>), String> {
    let mut o = Options {
        settings: Settings {
            command: Vec::new(),
            port: None,
            time_scale: 1.0,
            total_timeout: Duration::from_secs(300),
            limits: sandbox::Limits::default(),
            run_as: sandbox::RunAs::Same,
            pty: true,
            dir: None,
            locale: Some(run::DEFAULT_LOCALE.to_owned()),
            env: Vec::new(),
            jail: None,
        },
        disk_mib: jail::DEFAULT_DISK_MIB,
        no_namespaces: false,
        format: "text".to_owned(),
        output: None,
        only: Vec::new(),
        watch: false,
        run_as: None,
        pass_on: Vec::new(),
        run: None,
        setup: None,
        setup_timeout: Duration::from_secs(300),
        jobs: 2,
        csv: None,
        junit: None,
    };
    let (options, command) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut positional = Vec::new();
    let mut iter = options.iter();
    while let Some(option) = iter.next() {
        if !option.starts_with('-') {
            positional.push(option.clone());
            continue;
        }
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (option.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match name {
            "--port" => {
                let v = value()?;
                o.settings.port =
                    Some(v.parse().ok().filter(|&p: &u16| p > 0).ok_or_else(|| {
                        format!(
                            "invalid value '{v}' for --port: expected a port number from 1 to 65535"
                        )
                    })?);
            }
            "--dir" => o.settings.dir = Some(PathBuf::from(value()?)),
            "--format" => {
                o.format = value()?;
                if !["text", "json", "junit", "gradescope", "classroom"]
                    .contains(&o.format.as_str())
                {
                    return Err(format!(
                        "invalid value '{}' for --format: expected text, json, junit, gradescope or classroom",
                        o.format
                    ));
                }
            }
            "--output" => o.output = Some(PathBuf::from(value()?)),
            "--only" => o.only = value()?.split(',').map(|s| s.trim().to_owned()).collect(),
            "--watch" => o.watch = true,
            "--time-scale" => {
                let v = value()?;
                o.settings.time_scale = v
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && (0.1..=100.0).contains(f))
                    .ok_or_else(|| format!("invalid value '{v}' for --time-scale: expected a number from 0.1 to 100"))?;
                o.pass_on.extend(["--time-scale".to_owned(), v]);
            }
            "--timeout" => {
                let v = value()?;
                o.settings.total_timeout = Duration::from_secs(number(name, &v, 1, 86_400)?);
                o.pass_on.extend(["--timeout".to_owned(), v]);
            }
            "--run-as" => {
                let v = value()?;
                o.pass_on.extend(["--run-as".to_owned(), v.clone()]);
                o.run_as = Some(v);
            }
            "--no-pty" => {
                o.settings.pty = false;
                o.pass_on.push("--no-pty".to_owned());
            }
            "--locale" => {
                let v = value()?;
                o.settings.locale = (v != "inherit").then(|| v.clone());
                o.pass_on.extend(["--locale".to_owned(), v]);
            }
            "--memory" => {
                let v = value()?;
                o.settings.limits.memory_bytes = number(name, &v, 16, 1 << 20)? << 20;
                o.pass_on.extend(["--memory".to_owned(), v]);
            }
            "--cpu" => {
                let v = value()?;
                o.settings.limits.cpu_seconds = number(name, &v, 1, 86_400)?;
                o.pass_on.extend(["--cpu".to_owned(), v]);
            }
            "--env" => {
                let v = value()?;
                let (key, val) = v
                    .split_once('=')
                    .filter(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                    .ok_or_else(|| {
                        format!("invalid value '{v}' for --env: expected NAME=VALUE, e.g. PATH=/opt/jdk/bin:/usr/bin:/bin")
                    })?;
                o.settings.env.push((key.to_owned(), val.to_owned()));
                o.pass_on.extend(["--env".to_owned(), v]);
            }
            "--no-namespaces" => {
                o.no_namespaces = true;
                o.pass_on.push("--no-namespaces".to_owned());
            }
            "--disk" => {
                let v = value()?;
                o.disk_mib = number(name, &v, 8, 1 << 20)?;
                o.pass_on.extend(["--disk".to_owned(), v]);
            }
            "--processes" => {
                let v = value()?;
                o.settings.limits.processes = number(name, &v, 1, 100_000)?;
                o.pass_on.extend(["--processes".to_owned(), v]);
            }
            "--run" => o.run = Some(value()?),
            "--setup" => o.setup = Some(value()?),
            "--setup-timeout" => {
                o.setup_timeout = Duration::from_secs(number(name, &value()?, 1, 86_400)?)
            }
            "--jobs" => o.jobs = number(name, &value()?, 1, 64)? as usize,
            "--csv" => o.csv = Some(PathBuf::from(value()?)),
            "--junit" => o.junit = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err("__help".to_owned()),
            _ => return Err(format!("unknown option '{name}'")),
        }
    }
    o.settings.command = command;
    o.settings.run_as = sandbox::RunAs::choose(o.run_as.as_deref())?;
    Ok((o, positional))
}

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

fn find_lesson(id: Option<&String>) -> Result<&'static Lesson, String> {
    let id = id.ok_or("which lesson? e.g. lesson-05")?;
    catalog::lesson(id).ok_or_else(|| {
        let known: Vec<&str> = catalog::LESSONS.iter().map(|l| l.id).collect();
        format!(
            "unknown lesson '{id}': expected one of {}",
            known.join(", ")
        )
    })
}

/// `check` and `hint`.
fn check(args: &[String], hint: bool) -> Result<ExitCode, String> {
    let (options, positional) = match parse_options(args) {
        Err(e) if e == "__help" => {
            print!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        other => other?,
    };
    if positional.len() > 1 {
        return Err(format!(
            "unexpected argument '{}': put the program's command after --",
            positional[1]
        ));
    }
    let lesson = find_lesson(positional.first())?;
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
            "grader: note: the command has no {{port}}; the program must take the port from the PORT environment variable"
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
            eprintln!("grader: error: {}", setup_error_line(&reason));
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
            eprintln!("grader: error: {}", setup_error_line(&reason));
            wait_for_change(&watched, &before);
            continue;
        }
        let (outcomes, command, elapsed, setup) = match grade(lesson, &options, exercise) {
            Ok((outcomes, command, elapsed)) => (outcomes, command, elapsed, None),
            Err(setup) => {
                // Not the student's failure, and not a score: said once.
                eprintln!("grader: error: {}", setup_error_line(&setup));
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
                let reason = format!("not graded: {}", setup_error_line(&setup));
                let outcomes = run::all_failed(lesson, &reason, batch::START_HINT, None);
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
    println!(
        "\nwatching {} for changes (Ctrl+C to stop)",
        watched.display()
    );
    while exercise::fingerprint(watched) == before {
        std::thread::sleep(Duration::from_millis(500));
    }
    // Let an editor finish writing.
    std::thread::sleep(Duration::from_millis(300));
    println!("\nchanged: grading again\n");
}

/// The one line that reports a program that cannot be started.
fn setup_error_line(reason: &str) -> String {
    format!(
        "the program cannot be started, so it was not graded: {reason} (a setup problem, not a failed check)"
    )
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
                let reason = format!(
                    "{} does not build: {}",
                    exercise::package(lesson),
                    exercise::first_error(&output)
                );
                let command = vec![
                    "cargo".to_owned(),
                    "build".to_owned(),
                    "-p".to_owned(),
                    exercise::package(lesson),
                ];
                return Ok((
                    run::all_failed(lesson, &reason, run::BUILD_HINT, Some(output)),
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
        let outcomes = run::all_failed(lesson, &reason, batch::SETUP_HINT, tail);
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
    let Some(next) = next else {
        return format!(
            "{}: every check passes ({} points): nothing left to fix.\n",
            lesson.id,
            lesson.max_points()
        );
    };
    let check = next.check;
    let mut text = format!(
        "{}: {} of {} checks fail. Fix this one first:\n\n  {} ({}, {} {}): {}\n\n  what happened: {}\n  next step:     {}\n",
        lesson.id,
        failing.len(),
        outcomes.len(),
        check.id,
        check.kind.name(),
        check.points,
        if check.points == 1 { "point" } else { "points" },
        check.summary,
        next.reason.as_deref().unwrap_or(""),
        next.hint()
    );
    if let Some(tail) = &next.output_tail {
        text.push_str("\n  the program's last output:\n");
        for line in tail.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

/// `progress`: every exercise graded, as bars.
fn progress(args: &[String]) -> Result<ExitCode, String> {
    let (options, positional) = parse_options(args)?;
    if let Some(extra) = positional.first() {
        return Err(format!("unexpected argument '{extra}'"));
    }
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
        if live {
            print!("\rgrading {}...", exercise::package(lesson));
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
        let outcomes = match grade(lesson, &options, true) {
            Ok((outcomes, _, _)) => outcomes,
            Err(setup) => {
                rows.push(format!(
                    "{:<12} cannot be run: {}",
                    exercise::package(lesson),
                    setup_error_line(&setup)
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
            None => "done: every check passes".to_owned(),
            Some(_) if untouched => "not started".to_owned(),
            Some(reason) => {
                let short: String = reason.chars().take(70).collect();
                format!("next: {short}")
            }
        };
        rows.push(format!(
            "{:<12} {} {:>3}/{:<3} {note}",
            exercise::package(lesson),
            bar(score, lesson.max_points(), 24),
            score,
            lesson.max_points()
        ));
    }
    if live {
        print!("\r{:30}\r", "");
    }
    for row in rows {
        println!("{row}");
    }
    println!(
        "{:<12} {} {:>3}/{:<3}",
        "course",
        bar(total, max, 24),
        total,
        max
    );
    println!("\n`cargo run -p grader -- hint lesson-NN` says what to fix next.");
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
fn batch(args: &[String]) -> Result<ExitCode, String> {
    let (options, positional) = parse_options(args)?;
    let lesson = find_lesson(positional.first())?;
    let dir = PathBuf::from(positional.get(1).ok_or(
        "batch needs the folder of student folders: grader batch LESSON DIR --run TEMPLATE",
    )?);
    if let Some(extra) = positional.get(2) {
        return Err(format!("unexpected argument '{extra}'"));
    }
    let run = options.run.clone().ok_or("batch needs --run TEMPLATE: the command run in each student's folder, e.g. --run 'python3 server.py {port}'")?;
    if !lesson.modes.is_empty() && !run.contains("{mode}") {
        return Err(format!(
            "{} runs the program as {}: put {{mode}} in --run",
            lesson.id,
            lesson.modes.join(" and ")
        ));
    }
    if options.settings.port.is_some() {
        return Err(
            "batch gives every student a port of its own: --port is not for batch".to_owned(),
        );
    }
    // The folder must hold student folders before anything is said or run.
    batch::students(&dir)?;
    let csv_path = match &options.csv {
        Some(path) => path.clone(),
        None => default_gradebook(&dir)?,
    };
    let started = Instant::now();
    let job = batch::Batch {
        lesson,
        dir: dir.clone(),
        run,
        setup: options.setup.clone(),
        setup_timeout: options.setup_timeout,
        jobs: options.jobs,
        check_options: options.pass_on.clone(),
        settings: options.settings.clone(),
    };
    let students = batch::grade_all(&job)?;
    write_atomically(&csv_path, batch::csv(lesson, &students).as_bytes())?;
    if let Some(path) = &options.junit {
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
            path,
            report::junit_document(&suites, tests, failures, time).as_bytes(),
        )?;
    }
    print!("{}", batch::summary(lesson, &students, started.elapsed()));
    let hidden = batch::hidden(&dir);
    if !hidden.is_empty() {
        println!(
            "\nskipped {} hidden folder{} (a name that starts with a dot): {}",
            hidden.len(),
            if hidden.len() == 1 { "" } else { "s" },
            hidden.join(", ")
        );
    }
    println!("\ngrades written to {}", csv_path.display());
    let all = students
        .iter()
        .all(|s| s.outcomes.iter().all(Outcome::passed));
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
