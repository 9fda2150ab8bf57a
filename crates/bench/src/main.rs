//! `bench`: the course's benchmarks, in one run on one machine.
//!
//! `cargo run --release -p bench` measures, side by side:
//!
//! 1. the course's servers (lesson-05 and its hardened server, lessons 07,
//!    08 and 09) and the tutorial's threaded Python server at 1, 10, 100
//!    and 1,000 clients: msgs/s, p50 and p99 round trip, the server's CPU
//!    time per message (user and system) and its context switches;
//! 2. logging every message to a file against `--quiet`, for the servers
//!    that have it;
//! 3. 10,000 idle clients held by each server: resident memory per
//!    connection, the kernel's stacks and slab per connection
//!    (`/proc/meminfo`), threads;
//! 4. system calls per message, counted by `strace -c -f` in a smaller run
//!    of its own (when strace is installed);
//! 5. lesson-06's sink reading 1 KiB, 64 KiB and 1 MiB per `recv`, and
//!    iperf3 on loopback when it is installed;
//! 6. a cold `cargo build -p lesson-NN` of every lesson (the dev profile,
//!    as a learner's first `cargo run`), and each lesson's lines of code.
//!
//! It prints each table as it is measured, then writes them, with the
//! targets and SVG charts, to `docs/benchmarks.md` (between the
//! `bench:begin` and `bench:end` markers, keeping the text around them).
//! Every figure is the median of several runs with its min–max, runs of
//! the things compared are interleaved, and ratios are taken within the
//! run. All the clients come from the `loadgen` engine, over loopback. A
//! lesson not in the workspace (yet) is left out, and the page says so.
//!
//! `--quick` runs every part with tiny counts (no cold build, no iperf3)
//! and checks that the figures are sane: the smoke test uses it.

mod builds;
mod chart;
mod idle;
mod servers;
mod syscalls;
mod talk;
mod transfer;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction};
use loadgen::cli;
use loadgen::stats::median_min_max;

use chart::{bar_chart, stacked_chart};
use servers::Kind;

const NAME: &str = "bench";
const ABOUT: &str = "measure the lessons side by side (lessons 05, 07, 08 and 09 against the tutorial's Python server at 1 to 1,000 clients, logging, 10,000 idle clients, system calls, lesson-06's transfer, cold builds and lines of code) and write docs/benchmarks.md";
/// The tutorial client's message and the server's reply, in GBK.
const MESSAGE: &str = "你好服务端，我是客户端小黑!";
const REPLY: &str = "ok, 收到了";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// Where the generated part of docs/benchmarks.md starts and ends.
const BEGIN: &str =
    "<!-- bench:begin (written by `cargo run --release -p bench`; edit outside these markers) -->";
const END: &str = "<!-- bench:end -->";

/// How much to measure.
#[derive(Clone, Debug)]
struct Settings {
    quick: bool,
    runs: usize,
    builds: usize,
    write: bool,
}

impl Settings {
    /// Messages per pingpong run of section 1, spread over the clients:
    /// the Python server, several times slower, gets a third as many.
    fn pingpong_total(&self, kind: Kind) -> usize {
        match (self.quick, kind) {
            (true, _) => 300,
            (false, Kind::Python) => 10_000,
            (false, _) => 30_000,
        }
    }
    /// Runs of section 1: at most 3 (six servers at four counts; at 5 runs
    /// it alone would take more than 3 minutes on 2 cores).
    fn side_runs(&self) -> usize {
        self.runs.clamp(1, 3)
    }
    /// The client counts of section 1.
    fn client_counts(&self) -> Vec<usize> {
        vec![1, 10, 100, 1_000]
    }
    /// Messages per client in section 2 (100 clients).
    fn logging_messages(&self) -> usize {
        if self.quick { 3 } else { 1_000 }
    }
    fn idle_counts(&self) -> Vec<usize> {
        if self.quick { vec![20] } else { vec![10_000] }
    }
    /// Runs of section 3: at most 2 (10,000 connections per server and
    /// run; the figures vary little from run to run).
    fn idle_runs(&self) -> usize {
        self.runs.clamp(1, 2)
    }
    fn idle_hold(&self) -> Duration {
        if self.quick {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        }
    }
    /// Section 4's run under strace: clients, and messages each.
    fn strace_run(&self) -> (usize, usize) {
        if self.quick { (2, 5) } else { (10, 100) }
    }
    fn transfer_bytes(&self) -> u64 {
        if self.quick { 4 * MIB } else { 1024 * MIB }
    }
}

/// Where things are.
struct Paths {
    /// The workspace.
    root: PathBuf,
    /// Where the lesson binaries are (beside this one).
    bin_dir: PathBuf,
    /// Scratch files: server logs, strace's summaries, cold build folders.
    scratch: PathBuf,
    python: Option<PathBuf>,
    iperf3: Option<PathBuf>,
    strace: Option<PathBuf>,
}

/// The command line: a few switches and counts, on clap as the course's
/// other tools (the lessons keep a lighter parser, which builds faster).
fn command() -> clap::Command {
    let command = clap::Command::new(NAME)
        .about(ABOUT)
        .disable_help_flag(true)
        .args_override_self(true)
        .arg(switch(
            "quick",
            "tiny counts, one run, no cold build or iperf3, nothing written: a check that every part works",
        ))
        .arg(
            Arg::new("runs")
                .long("runs")
                .value_name("N")
                .value_parser(cli::whole(1, 50))
                .help("runs per figure (the median is shown; at most 3 for the servers side by side, 2 for idle clients) [default: 5; 1 with --quick]"),
        )
        .arg(
            Arg::new("builds")
                .long("builds")
                .value_name("N")
                .value_parser(cli::whole(0, 10))
                .default_value("3")
                .help("cold builds of each lesson to time (0 skips them)"),
        )
        .arg(switch("no-write", "print the tables only; leave docs/ alone"))
        .arg(cli::help_flag());
    cli::fit_help(command)
}

/// A flag that takes no value.
fn switch(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .action(ArgAction::SetTrue)
        .help(help)
}

fn main() -> ExitCode {
    // English only, whatever the locale (netcore's helpers follow it).
    netcore::lang::set(netcore::lang::Lang::En);
    let matches = match cli::parse(command(), std::env::args_os().skip(1)) {
        Ok(matches) => matches,
        Err(stop) => return stop.exit(NAME),
    };
    let quick = matches.get_flag("quick");
    let count = |name: &str| matches.get_one::<u64>(name).map(|&n| n as usize);
    let settings = Settings {
        quick,
        runs: count("runs").unwrap_or(if quick { 1 } else { 5 }),
        builds: if quick {
            0
        } else {
            count("builds").unwrap_or(3)
        },
        write: !quick && !matches.get_flag("no-write"),
    };
    match run(&settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{NAME}: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(settings: &Settings) -> Result<(), String> {
    let started = Instant::now();
    // 10,000 idle clients are 10,000 descriptors here, and as many in the
    // server, which inherits the limit.
    let files = netcore::sys::raise_open_file_limit()
        .map(|l| l.after.to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"));
    let paths = paths(settings)?;
    let mut doc = String::new();
    let mut targets = Vec::new();
    let machine = machine(&paths, &files);
    println!("{machine}");
    doc.push_str(&machine);
    doc.push('\n');

    let mut charts = Vec::new();
    // How long each part took, for the last line.
    let mut times = vec![("building".to_owned(), started.elapsed())];
    let mut lap = Instant::now();
    let mut timed = |what: &str| {
        times.push((what.to_owned(), lap.elapsed()));
        lap = Instant::now();
    };
    let side = talk::side_by_side(settings, &paths)?;
    emit(&mut doc, &side.part);
    charts.push((
        "benchmarks-cpu.svg",
        bar_chart(
            "Server CPU time per message, 100 and 1,000 clients",
            "µs",
            &side.cpu_bars,
        ),
    ));
    targets.extend(side.targets);
    timed("1");
    let (part, target) = talk::logging(settings, &paths)?;
    emit(&mut doc, &part);
    targets.push(target);
    timed("2");
    let idle = idle::idle(settings, &paths)?;
    emit(&mut doc, &idle.part);
    charts.push((
        "benchmarks-idle.svg",
        stacked_chart(
            "Memory per idle connection (10,000 held)",
            "KiB",
            &["resident (VmRSS)", "kernel stacks (KernelStack)"],
            &idle.stacks,
        ),
    ));
    targets.extend(idle.targets);
    timed("3");
    let calls = syscalls::syscalls(settings, &paths)?;
    emit(&mut doc, &calls.part);
    if !calls.bars.is_empty() {
        charts.push((
            "benchmarks-syscalls.svg",
            bar_chart("System calls per message (strace -c -f)", "", &calls.bars),
        ));
    }
    timed("4");
    let (part, bars, target) = transfer::transfer(settings, &paths)?;
    emit(&mut doc, &part);
    charts.push((
        "benchmarks-transfer.svg",
        bar_chart("Loopback transfer of 1 GiB", "MB/s", &bars),
    ));
    targets.push(target);
    timed("5");
    let (part, build_targets) = builds::builds(settings, &paths)?;
    emit(&mut doc, &part);
    targets.extend(build_targets);
    timed("6");

    let mut table = Table::new(&["target", "measured", "met"]);
    for t in &targets {
        table.row(vec![
            t.what.clone(),
            t.measured.clone(),
            match t.met {
                // Tiny counts decide nothing.
                Some(_) if settings.quick => "not judged (--quick)".into(),
                Some(true) => "yes".into(),
                Some(false) => "**no**".into(),
                None => "not measured".into(),
            },
        ]);
    }
    let part = format!("## Targets\n\n{}", table.markdown());
    emit(&mut doc, &part);
    let parts: Vec<String> = times
        .iter()
        .map(|(what, time)| {
            let what = if what.len() == 1 {
                format!("section {what}")
            } else {
                what.clone()
            };
            format!("{what} {} s", time.as_secs())
        })
        .collect();
    emit(
        &mut doc,
        &format!(
            "This run took {} ({}).\n",
            minutes(started.elapsed()),
            parts.join(", ")
        ),
    );

    // The servers' logs and the cold builds' folders.
    let _ = fs::remove_dir_all(&paths.scratch);
    if settings.write {
        write_docs(&paths.root, &doc, &charts)?;
    }
    Ok(())
}

/// "7 min 48 s".
fn minutes(time: Duration) -> String {
    let s = time.as_secs();
    format!("{} min {} s", s / 60, s % 60)
}

/// Prints a part of the report and adds it to the document.
fn emit(doc: &mut String, part: &str) {
    println!("{part}");
    doc.push_str(part);
    doc.push('\n');
}

/// One target of the issues, as measured.
struct Target {
    what: String,
    measured: String,
    met: Option<bool>,
}

impl Target {
    fn not_measured(what: &str, why: &str) -> Target {
        Target {
            what: what.into(),
            measured: why.into(),
            met: None,
        }
    }
}

/// Finds the workspace, the lesson binaries (built now, in this binary's
/// profile), `python3`, `iperf3` and `strace`.
fn paths(settings: &Settings) -> Result<Paths, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .ok_or("cannot find the workspace")?
        .to_path_buf();
    let exe = std::env::current_exe().map_err(|err| format!("current_exe: {err}"))?;
    let mut bin_dir = exe.parent().ok_or("no folder")?.to_path_buf();
    if bin_dir.ends_with("deps") {
        bin_dir.pop();
    }
    let release = bin_dir.ends_with("release");
    // The servers measured: lessons 05 to 09, those in this workspace
    // (lessons 07 and 09 arrive on branches of their own).
    let lessons: Vec<String> = builds::lessons(&root)
        .into_iter()
        .filter(|l| l.as_str() >= "lesson-05")
        .collect();
    let binaries = |l: &String| -> Vec<String> {
        if l == "lesson-05" {
            vec![l.clone(), "hardened".into()]
        } else {
            vec![l.clone()]
        }
    };
    let missing = lessons
        .iter()
        .flat_map(binaries)
        .any(|name| !bin_dir.join(name).exists());
    if missing || !settings.quick {
        // Up to date in a moment when nothing changed; the lessons must be
        // measured as they are now.
        let mut cargo = Command::new(cargo());
        cargo.current_dir(&root).args(["build", "--quiet"]);
        for lesson in &lessons {
            cargo.args(["-p", lesson]);
        }
        if release {
            cargo.arg("--release");
        }
        let status = cargo
            .status()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if !status.success() {
            return Err(format!("cannot build {}", lessons.join(", ")));
        }
    }
    let scratch = std::env::temp_dir().join(format!("socket-lessons-bench-{}", std::process::id()));
    fs::create_dir_all(&scratch)
        .map_err(|err| format!("cannot create {}: {err}", scratch.display()))?;
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let python = runs("python3", "--version").then(|| PathBuf::from("python3"));
    let iperf3 = (!settings.quick && runs("iperf3", "--version")).then(|| PathBuf::from("iperf3"));
    let strace = runs("strace", "-V").then(|| PathBuf::from("strace"));
    Ok(Paths {
        root,
        bin_dir,
        scratch,
        python,
        iperf3,
        strace,
    })
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The machine, the tools and the load, as a short paragraph.
fn machine(paths: &Paths, open_files: &str) -> String {
    let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let load = read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let version = |program: &Path, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .ok()
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    let rustc = version(Path::new("rustc"), "--version");
    let optional = |program: &Option<PathBuf>, arg: &str, missing: &str| {
        program
            .as_deref()
            .map_or(missing.to_owned(), |p| version(p, arg))
    };
    let python = optional(&paths.python, "--version", "python3: not found");
    let iperf3 = optional(&paths.iperf3, "--version", "iperf3: not used");
    let strace = optional(&paths.strace, "-V", "strace: not found");
    let profile = if paths.bin_dir.ends_with("release") {
        "release"
    } else {
        "debug"
    };
    let somaxconn = read("/proc/sys/net/core/somaxconn").trim().to_owned();
    format!(
        "Machine: {cpu}, {cores} cores, {memory} memory, Linux {kernel}; load average {load} at the start \
         (the machine is shared: other work runs beside the benchmark). Open files: {open_files} \
         per process; net.core.somaxconn {somaxconn}.\n\
         Tools: {rustc}; {python}; {iperf3}; {strace}. Lessons built in the {profile} profile.\n"
    )
}

// ---------------------------------------------------------------------
// Figures

/// A median with its minimum and maximum.
#[derive(Clone, Copy, Debug, Default)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        let mut values = values.to_vec();
        median_min_max(&mut values)
            .map(|(median, min, max)| Spread { median, min, max })
            .unwrap_or_default()
    }

    fn sane(&self) -> bool {
        self.median.is_finite()
            && self.min > 0.0
            && self.min <= self.median
            && self.median <= self.max
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", num(self.median))
        } else {
            write!(
                f,
                "{} ({}–{})",
                num(self.median),
                num(self.min),
                num(self.max)
            )
        }
    }
}

/// A number with as many digits as it deserves.
fn num(v: f64) -> String {
    match v.abs() {
        // A ratio over a CPU time of 0 clock ticks (a tiny run).
        _ if !v.is_finite() => "–".into(),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

// ---------------------------------------------------------------------
// Output

/// A Markdown table with padded columns, readable as text too.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table::with_headers(headers.iter().map(|h| (*h).to_owned()).collect())
    }

    fn with_headers(headers: Vec<String>) -> Table {
        Table {
            rows: vec![headers],
        }
    }

    fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn markdown(&self) -> String {
        let columns = self.rows[0].len();
        let width = |c: usize| {
            self.rows
                .iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let line = |row: &[String]| {
            let cells: Vec<String> = (0..columns)
                .map(|c| {
                    let cell = row.get(c).map_or("", String::as_str);
                    let pad = widths[c] - cell.chars().count();
                    format!("{cell}{:pad$}", "")
                })
                .collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = line(&self.rows[0]);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat((*w).max(3))).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &self.rows[1..] {
            out.push_str(&line(row));
        }
        out
    }
}

/// Writes docs/benchmarks.md (the generated part between the markers,
/// keeping what is around them) and the charts.
fn write_docs(root: &Path, generated: &str, charts: &[(&str, String)]) -> Result<(), String> {
    let docs = root.join("docs");
    let path = docs.join("benchmarks.md");
    let old = fs::read_to_string(&path).unwrap_or_default();
    let block = format!("{BEGIN}\n\n{generated}\n{END}");
    let new = match (old.find("<!-- bench:begin"), old.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{block}{}", &old[..start], &old[end + END.len()..])
        }
        _ => format!(
            "# Benchmarks\n\nThe lessons measured side by side on one machine, in one run of \
             `cargo run --release -p bench`.\n\n{block}\n"
        ),
    };
    fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    for (name, svg) in charts {
        let file = docs.join(name);
        fs::write(&file, svg).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    println!("wrote {} and {} chart(s)", path.display(), charts.len());
    Ok(())
}
