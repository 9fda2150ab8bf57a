//! `bench`: the course's benchmarks, in one run on one machine.
//!
//! `cargo run --release -p bench` measures, side by side:
//!
//! 1. lesson-05 against the tutorial's threaded Python server (when
//!    `python3` is present) at 1, 10 and 100 clients: msgs/s, p50 and p99
//!    round trip, and the server's CPU time per message;
//! 2. lesson-05 logging every message to a file against lesson-05 with
//!    `--quiet`;
//! 3. 1,000 and 5,000 idle clients held by each server: resident memory per
//!    connection and threads;
//! 4. lesson-06's sink reading 1 KiB, 64 KiB and 1 MiB per `recv`, and
//!    iperf3 on loopback when it is installed (lesson 06's experiment 6
//!    shows the effect with one transfer per size; this measures it);
//! 5. a cold `cargo build -p lesson-NN` of every lesson (the dev profile,
//!    as a learner's first `cargo run`).
//!
//! It prints each table as it is measured, then writes them, with the
//! targets and two SVG charts, to `docs/benchmarks.md` (between the
//! `bench:begin` and `bench:end` markers, keeping the text around them).
//! Every figure is the median of several runs with its min–max, runs of
//! the things compared are interleaved, and ratios are taken within the
//! run. All the clients come from the `loadgen` engine, over loopback.
//!
//! `--quick` runs every part with tiny counts (no cold build, no iperf3)
//! and checks that the figures are sane: the smoke test uses it.

mod chart;

use std::fmt::Write as _;
use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction};
use loadgen::bulk::ToSink;
use loadgen::cli;
use loadgen::idle::{Idle, Report as IdleReport};
use loadgen::pingpong::PingPong;
use loadgen::stats::median_min_max;
use proctools::child::{Guard, LISTENING_PREFIX, connectable, listening_addr};
use proctools::{process, tcp};

use chart::{Bar, bar_chart};

const NAME: &str = "bench";
const ABOUT: &str = "measure the lessons side by side (lesson-05 against the tutorial's Python server, logging, idle clients, lesson-06's transfer, the lessons' cold builds) and write docs/benchmarks.md";
/// The tutorial client's message and the server's reply, in GBK.
const MESSAGE: &str = "你好服务端，我是客户端小黑!";
const REPLY: &str = "ok, 收到了";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// The longest any server may take to print `listening on`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
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
    /// Messages per pingpong run, spread over the clients.
    fn pingpong_total(&self) -> usize {
        if self.quick { 300 } else { 30_000 }
    }
    fn logging_messages(&self) -> usize {
        if self.quick { 3 } else { 2_000 }
    }
    fn idle_counts(&self) -> Vec<usize> {
        if self.quick {
            vec![20]
        } else {
            vec![1_000, 5_000]
        }
    }
    fn idle_hold(&self) -> Duration {
        if self.quick {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        }
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
    /// Scratch files: server logs, cold build folders.
    scratch: PathBuf,
    python: Option<PathBuf>,
    iperf3: Option<PathBuf>,
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
                .help("runs per figure (the median is shown) [default: 5; 1 with --quick]"),
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
    let paths = paths(settings)?;
    let mut doc = String::new();
    let mut targets = Vec::new();
    let machine = machine(&paths);
    println!("{machine}");
    doc.push_str(&machine);
    doc.push('\n');

    let mut charts = Vec::new();
    let (part, cpu_bars, cpu_target) = versus_python(settings, &paths)?;
    emit(&mut doc, &part);
    charts.push((
        "benchmarks-cpu.svg",
        bar_chart("Server CPU time per message", "µs", &cpu_bars),
    ));
    targets.extend(cpu_target);
    let (part, target) = logging(settings, &paths)?;
    emit(&mut doc, &part);
    targets.push(target);
    let (part, target) = idle(settings, &paths)?;
    emit(&mut doc, &part);
    targets.push(target);
    let (part, bars, target) = transfer(settings, &paths)?;
    emit(&mut doc, &part);
    charts.push((
        "benchmarks-transfer.svg",
        bar_chart("Loopback transfer of 1 GiB", "MB/s", &bars),
    ));
    targets.push(target);
    let (part, target) = cold_build(settings, &paths)?;
    emit(&mut doc, &part);
    targets.push(target);

    let mut table = Table::new(&["target", "measured", "met"]);
    for t in &targets {
        table.row(vec![
            t.what.clone(),
            t.measured.clone(),
            match t.met {
                Some(true) => "yes".into(),
                Some(false) => "**no**".into(),
                None => "not measured".into(),
            },
        ]);
    }
    let part = format!("## Targets\n\n{}", table.markdown());
    emit(&mut doc, &part);

    // The servers' logs and the cold builds' folders.
    let _ = fs::remove_dir_all(&paths.scratch);
    if settings.write {
        write_docs(&paths.root, &doc, &charts)?;
    }
    Ok(())
}

/// Prints a part of the report and adds it to the document.
fn emit(doc: &mut String, part: &str) {
    println!("{part}");
    doc.push_str(part);
    doc.push('\n');
}

/// One target of the issue, as measured.
struct Target {
    what: String,
    measured: String,
    met: Option<bool>,
}

/// Finds the workspace, the lesson binaries (built now, in this binary's
/// profile), `python3` and `iperf3`.
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
    let missing = ["lesson-05", "hardened", "lesson-06"]
        .iter()
        .any(|name| !bin_dir.join(name).exists());
    if missing || !settings.quick {
        // Up to date in a moment when nothing changed; the lessons must be
        // measured as they are now.
        let mut cargo = Command::new(cargo());
        cargo
            .current_dir(&root)
            .args(["build", "--quiet", "-p", "lesson-05", "-p", "lesson-06"]);
        if release {
            cargo.arg("--release");
        }
        let status = cargo
            .status()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if !status.success() {
            return Err("cannot build lesson-05 and lesson-06".into());
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
    Ok(Paths {
        root,
        bin_dir,
        scratch,
        python,
        iperf3,
    })
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The machine, the tools and the load, as a short paragraph.
fn machine(paths: &Paths) -> String {
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
    let python = paths
        .python
        .as_deref()
        .map_or("python3: not found".to_owned(), |p| version(p, "--version"));
    let iperf3 = paths
        .iperf3
        .as_deref()
        .map_or("iperf3: not used".to_owned(), |p| version(p, "--version"));
    let profile = if paths.bin_dir.ends_with("release") {
        "release"
    } else {
        "debug"
    };
    format!(
        "Machine: {cpu}, {cores} cores, {memory} memory, Linux {kernel}; load average {load} at the start \
         (the machine is shared: other work runs beside the benchmark).\n\
         Tools: {rustc}; {python}; {iperf3}. Lessons built in the {profile} profile.\n"
    )
}

// ---------------------------------------------------------------------
// Servers

/// A server under test, its stdout going to a file (as a server's output
/// goes in the measurements: not through a pipe the benchmark would have to
/// read); killed and reaped on drop by its [`Guard`].
struct Server {
    child: Guard,
    addr: SocketAddr,
}

impl Server {
    /// Starts `program args`, its stdout written to `log`, and waits for
    /// its `listening on IP:PORT` line there.
    fn start(program: &Path, args: &[&str], log: &Path) -> Result<Server, String> {
        let name = program.display().to_string();
        let out =
            File::create(log).map_err(|err| format!("cannot create {}: {err}", log.display()))?;
        let mut child = Guard::spawn(
            Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(Stdio::null()),
        )
        .map_err(|err| format!("cannot start {name}: {err}"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if let Some(line) = text
                .lines()
                .find(|l| l.trim_start().starts_with(LISTENING_PREFIX))
            {
                let addr = listening_addr(line)
                    .ok_or_else(|| format!("{name}: cannot read an address from {line:?}"))?;
                return Ok(Server {
                    child,
                    addr: connectable(addr),
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{name} exited ({status}) before listening"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{name} did not print `listening on` within {START_TIMEOUT:?}"
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (bounded) for the server to exit by itself.
    fn wait(mut self, timeout: Duration) -> Result<(), String> {
        match self.child.wait_timeout(timeout) {
            Ok(Some(_)) => Ok(()),
            _ => Err(format!("the server did not exit within {timeout:?}")),
        }
    }
}

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// lesson-05, the tutorial's server, logging to a file.
    Lesson05,
    /// lesson-05's hardened server, logging to a file.
    Hardened,
    /// lesson-05's hardened server, --quiet.
    HardenedQuiet,
    /// The tutorial's threaded server in Python, logging to a file.
    Python,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Lesson05 => "lesson-05",
            Kind::Hardened => "hardened",
            Kind::HardenedQuiet => "hardened --quiet",
            Kind::Python => "Python (tutorial)",
        }
    }

    fn start(self, paths: &Paths) -> Result<Server, String> {
        let log = paths
            .scratch
            .join(format!("{}.log", self.name().replace([' ', '(', ')'], "")));
        match self {
            Kind::Lesson05 | Kind::Hardened | Kind::HardenedQuiet => {
                let mut args = vec!["--host", "127.0.0.1", "--port", "0"];
                if self == Kind::HardenedQuiet {
                    args.push("--quiet");
                }
                let binary = if self == Kind::Lesson05 {
                    "lesson-05"
                } else {
                    "hardened"
                };
                Server::start(&paths.bin_dir.join(binary), &args, &log)
            }
            Kind::Python => {
                let python = paths.python.as_deref().ok_or("python3 is not available")?;
                let script = paths.root.join("tests/python/tutorial_threaded_server.py");
                let script = script.to_string_lossy();
                Server::start(python, &[&script, "0", "127.0.0.1"], &log)
            }
        }
    }
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
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// What one pingpong run measured.
#[derive(Clone, Copy, Debug)]
struct Ping {
    msgs_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: f64,
    user_us: f64,
    system_us: f64,
}

/// `clients` clients, `messages` each, against `server`; the server's CPU
/// time is read from /proc before and after.
fn pingpong(server: &Server, clients: usize, messages: usize) -> Result<Ping, String> {
    let message = netcore::text::Encoding::Gbk
        .encode(MESSAGE)
        .map_err(|e| e.to_string())?;
    let reply = netcore::text::Encoding::Gbk
        .encode(REPLY)
        .map_err(|e| e.to_string())?;
    let before = process::sample(server.pid()).map_err(|e| format!("cannot read /proc: {e}"))?;
    let report = PingPong::new(server.addr, clients, messages).run(|_, _| message.clone(), &reply);
    if !report.all_ok() {
        return Err(format!("pingpong failed: {:?}", report.failures.first()));
    }
    // lesson-05 writes buffered lines within 50 ms: that work belongs to
    // this run.
    thread::sleep(Duration::from_millis(120));
    let after = process::sample(server.pid()).map_err(|e| format!("cannot read /proc: {e}"))?;
    let n = report.round_trips.len() as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n;
    let latency = report.latency();
    Ok(Ping {
        msgs_per_s: report.messages_per_second(),
        p50_us: latency.p50.as_secs_f64() * 1e6,
        p99_us: latency.p99.as_secs_f64() * 1e6,
        cpu_us: per(after.cpu().saturating_sub(before.cpu())),
        user_us: per(after.user.saturating_sub(before.user)),
        system_us: per(after.system.saturating_sub(before.system)),
    })
}

/// Pingpong figures over several runs.
struct PingRuns(Vec<Ping>);

impl PingRuns {
    fn spread(&self, f: impl Fn(&Ping) -> f64) -> Spread {
        Spread::of(&self.0.iter().map(f).collect::<Vec<_>>())
    }
    fn cpu(&self) -> Spread {
        self.spread(|p| p.cpu_us)
    }
    fn row(&self, first: Vec<String>) -> Vec<String> {
        let mut row = first;
        row.extend([
            self.spread(|p| p.msgs_per_s).to_string(),
            self.spread(|p| p.p50_us).to_string(),
            self.spread(|p| p.p99_us).to_string(),
            self.cpu().to_string(),
            self.spread(|p| p.user_us).to_string(),
            self.spread(|p| p.system_us).to_string(),
        ]);
        row
    }
    /// Positive and consistent: the smoke test's check. (A CPU time can
    /// be 0 in a tiny run: /proc counts in clock ticks, 10 ms on Linux.)
    fn check(&self, what: &str) -> Result<(), String> {
        let ok = !self.0.is_empty()
            && self.0.iter().all(|p| {
                p.msgs_per_s > 0.0 && p.p50_us > 0.0 && p.p99_us >= p.p50_us && p.cpu_us >= 0.0
            })
            && self.spread(|p| p.msgs_per_s).sane();
        if ok {
            Ok(())
        } else {
            Err(format!("{what}: figures are not sane"))
        }
    }
}

const PING_HEADERS: [&str; 6] = [
    "msgs/s",
    "p50 µs",
    "p99 µs",
    "CPU µs/msg",
    "user µs/msg",
    "system µs/msg",
];

// ---------------------------------------------------------------------
// 1. lesson-05 against the tutorial's Python server

fn versus_python(
    settings: &Settings,
    paths: &Paths,
) -> Result<(String, Vec<Bar>, Option<Target>), String> {
    // The plain server (a println! per message) and the hardened one
    // (batched output), each against the tutorial's Python server.
    let mut kinds = vec![Kind::Lesson05, Kind::Hardened];
    if paths.python.is_some() {
        kinds.push(Kind::Python);
    }
    let mut headers = vec!["server", "clients"];
    headers.extend(PING_HEADERS);
    let mut table = Table::new(&headers);
    let mut bars = Vec::new();
    let mut target = None;
    let mut ratios = Table::new(&[
        "clients",
        "lesson-05 CPU/msg ÷ Python's",
        "hardened CPU/msg ÷ Python's",
        "lesson-05 msgs/s ÷ Python's",
        "hardened msgs/s ÷ Python's",
    ]);
    for clients in [1, 10, 100] {
        let messages = (settings.pingpong_total() / clients).max(1);
        let servers: Vec<Server> = kinds
            .iter()
            .map(|k| k.start(paths))
            .collect::<Result<_, _>>()?;
        // A short warm-up run each, not counted.
        for server in &servers {
            pingpong(server, clients, (messages / 10).max(1))?;
        }
        let mut runs: Vec<Vec<Ping>> = vec![Vec::new(); kinds.len()];
        for _ in 0..settings.runs {
            for (i, server) in servers.iter().enumerate() {
                runs[i].push(pingpong(server, clients, messages)?);
            }
        }
        let runs: Vec<PingRuns> = runs.into_iter().map(PingRuns).collect();
        for (kind, r) in kinds.iter().zip(&runs) {
            r.check(kind.name())?;
            table.row(r.row(vec![kind.name().into(), clients.to_string()]));
            bars.push(Bar {
                label: format!("{} ×{clients}", short(*kind)),
                value: r.cpu().median,
            });
        }
        if let [plain, hardened, python] = &runs[..] {
            let cpu = |r: &PingRuns| r.cpu().median / python.cpu().median;
            let rate = |r: &PingRuns| {
                r.spread(|p| p.msgs_per_s).median / python.spread(|p| p.msgs_per_s).median
            };
            ratios.row(vec![
                clients.to_string(),
                format!("{:.2}", cpu(plain)),
                format!("{:.2}", cpu(hardened)),
                format!("{:.1}", rate(plain)),
                format!("{:.1}", rate(hardened)),
            ]);
            if clients == 100 {
                target = Some(Target {
                    what: "hardened's CPU per message at 100 clients ≤ 0.1 × the Python server's"
                        .into(),
                    measured: format!(
                        "{:.2} × ({} vs {} µs/msg; user time alone {:.2} ×); lesson-05's plain server {:.2} ×",
                        cpu(hardened),
                        num(hardened.cpu().median),
                        num(python.cpu().median),
                        hardened.spread(|p| p.user_us).median / python.spread(|p| p.user_us).median,
                        cpu(plain)
                    ),
                    met: Some(cpu(hardened) <= 0.1),
                });
            }
        }
    }
    let python_note = if paths.python.is_some() {
        String::new()
    } else {
        "python3 was not found: only lesson-05 is measured.\n\n".into()
    };
    let ratio_part = if kinds.len() == 3 {
        format!("Ratios of the medians:\n\n{}", ratios.markdown())
    } else {
        String::new()
    };
    let part = format!(
        "## 1. lesson-05 against the tutorial's Python server\n\n\
         {python_note}lesson-05 is the plain server (`src/main.rs`, a `println!` per message), \
         hardened the one of `src/bin/hardened/` (output queued and written in batches by a thread of its own). \
         Each client sends the tutorial's message and waits for the reply `ok, 收到了`, \
         {} messages per run in all; every server prints every message to a file. \
         CPU time is the server process's, user and system, from `/proc/PID/stat`, per verified reply.\n\n\
         {}\n{ratio_part}\n![Server CPU time per message](benchmarks-cpu.svg)\n",
        settings.pingpong_total(),
        table.markdown()
    );
    Ok((part, bars, target))
}

fn short(kind: Kind) -> &'static str {
    match kind {
        Kind::Python => "Python",
        Kind::Lesson05 => "lesson-05",
        Kind::Hardened | Kind::HardenedQuiet => "hardened",
    }
}

// ---------------------------------------------------------------------
// 2. The cost of logging every message

fn logging(settings: &Settings, paths: &Paths) -> Result<(String, Target), String> {
    let kinds = [Kind::HardenedQuiet, Kind::Hardened];
    let clients = 100;
    let messages = settings.logging_messages();
    let servers: Vec<Server> = kinds
        .iter()
        .map(|k| k.start(paths))
        .collect::<Result<_, _>>()?;
    for server in &servers {
        pingpong(server, clients, (messages / 10).max(1))?;
    }
    let mut runs: Vec<Vec<Ping>> = vec![Vec::new(); 2];
    for _ in 0..settings.runs {
        for (i, server) in servers.iter().enumerate() {
            runs[i].push(pingpong(server, clients, messages)?);
        }
    }
    let runs: Vec<PingRuns> = runs.into_iter().map(PingRuns).collect();
    let mut headers = vec!["server", "output"];
    headers.extend(PING_HEADERS);
    let mut table = Table::new(&headers);
    for (kind, r) in kinds.iter().zip(&runs) {
        r.check(kind.name())?;
        let output = if *kind == Kind::Hardened {
            "a line per message, to a file"
        } else {
            "none (`--quiet`)"
        };
        table.row(r.row(vec![kind.name().into(), output.into()]));
    }
    // The ratio of each run's pair (run i of both was measured back to
    // back), and of the medians.
    let pairs: Vec<f64> = runs[1]
        .0
        .iter()
        .zip(&runs[0].0)
        .map(|(logged, quiet)| logged.cpu_us / quiet.cpu_us)
        .collect();
    let ratio = runs[1].cpu().median / runs[0].cpu().median;
    let part = format!(
        "## 2. The cost of logging every message\n\n\
         lesson-05's hardened server at {clients} clients × {messages} messages, printing a \
         line per message to a file, against the same server with `--quiet`.\n\n{}\n\
         CPU per message, logged ÷ quiet: {ratio:.3} (ratio of the medians); run by run: {}.\n",
        table.markdown(),
        Spread::of(&pairs)
    );
    let target = Target {
        what: "hardened logging every message to a file ≤ 1.1 × the CPU per message of `--quiet`"
            .into(),
        measured: format!("{ratio:.3} ×"),
        met: Some(ratio <= 1.1),
    };
    Ok((part, target))
}

// ---------------------------------------------------------------------
// 3. Idle clients

fn idle(settings: &Settings, paths: &Paths) -> Result<(String, Target), String> {
    let mut kinds = vec![Kind::Hardened];
    if paths.python.is_some() {
        kinds.push(Kind::Python);
    }
    let runs = settings.runs.clamp(1, 3);
    let mut table = Table::new(&[
        "server",
        "clients",
        "still open",
        "RSS before (MiB)",
        "RSS held (MiB)",
        "KiB per connection",
        "threads",
    ]);
    let mut target = Target {
        what: "hardened holds 5,000 idle clients at ≤ 12 KiB of resident memory each".into(),
        measured: "not measured".into(),
        met: None,
    };
    for &clients in &settings.idle_counts() {
        let mut figures: Vec<Vec<IdleReport>> = vec![Vec::new(); kinds.len()];
        for _ in 0..runs {
            for (i, kind) in kinds.iter().enumerate() {
                // A fresh server each run: its memory before is the baseline.
                let server = kind.start(paths)?;
                let mut run = Idle::new(server.addr, clients, settings.idle_hold());
                run.server_pid = Some(server.pid());
                figures[i].push(run.run());
            }
        }
        for (kind, reports) in kinds.iter().zip(&figures) {
            let held: Vec<f64> = reports.iter().map(|r| r.still_open as f64).collect();
            let per: Vec<f64> = reports
                .iter()
                .filter_map(|r| r.memory_per_connection())
                .map(|b| b / 1024.0)
                .collect();
            let mib = |f: &dyn Fn(&IdleReport) -> Option<u64>| {
                Spread::of(
                    &reports
                        .iter()
                        .filter_map(f)
                        .map(|b| b as f64 / MIB as f64)
                        .collect::<Vec<_>>(),
                )
            };
            let threads = Spread::of(
                &reports
                    .iter()
                    .filter_map(|r| r.during.map(|s| s.threads as f64))
                    .collect::<Vec<_>>(),
            );
            let held = Spread::of(&held);
            let per = Spread::of(&per);
            if *kind == Kind::Hardened && (!held.sane() || !per.sane() || !threads.sane()) {
                return Err(format!(
                    "idle, {}: figures are not sane: {:?}",
                    kind.name(),
                    reports.first().map(|r| &r.failures)
                ));
            }
            let problems: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
            let mut still = held.to_string();
            if let Some(first) = problems.first() {
                let _ = write!(still, " ({first})");
            }
            table.row(vec![
                kind.name().into(),
                clients.to_string(),
                still,
                mib(&|r| r.before.map(|s| s.rss_bytes)).to_string(),
                mib(&|r| r.during.map(|s| s.rss_bytes)).to_string(),
                per.to_string(),
                threads.to_string(),
            ]);
            if *kind == Kind::Hardened && clients == 5_000 {
                let all = held.min >= clients as f64;
                target.measured = format!(
                    "{} of 5,000 held; {} KiB per connection",
                    num(held.min),
                    num(per.median)
                );
                target.met = Some(all && per.median <= 12.0);
            }
        }
    }
    let part = format!(
        "## 3. Idle clients\n\n\
         Silent connections opened one after another (waiting whenever the server's accept queue \
         holds 32), held for {:.1} s, then checked; the server's resident memory (`VmRSS`) and threads \
         come from `/proc/PID/status`, before the first connection and at the end of the hold. \
         A fresh server each run ({runs} runs).\n\n{}",
        settings.idle_hold().as_secs_f64(),
        table.markdown()
    );
    Ok((part, target))
}

// ---------------------------------------------------------------------
// 4. lesson-06's transfer, and iperf3

fn transfer(settings: &Settings, paths: &Paths) -> Result<(String, Vec<Bar>, Target), String> {
    let bytes = settings.transfer_bytes();
    let reads = [KIB, 64 * KIB, MIB];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); reads.len()];
    let mut iperf: Vec<f64> = Vec::new();
    let mut iperf_note = String::new();
    for _ in 0..settings.runs {
        for (i, read) in reads.iter().enumerate() {
            let log = paths.scratch.join("sink.log");
            let size = read.to_string();
            let sink = Server::start(
                &paths.bin_dir.join("lesson-06"),
                &[
                    "sink",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--read-size",
                    &size,
                ],
                &log,
            )?;
            let report = ToSink::new(sink.addr, bytes, 128 * KIB as usize)
                .run()
                .map_err(|err| format!("transfer to lesson-06 sink: {err}"))?;
            report.verified.clone()?;
            sink.wait(Duration::from_secs(10))?;
            rates[i].push(report.megabytes_per_second());
        }
        if let Some(program) = &paths.iperf3 {
            match iperf3(program) {
                Ok(rate) => iperf.push(rate),
                Err(err) => iperf_note = format!("iperf3 failed: {err}"),
            }
        }
    }
    if paths.iperf3.is_none() {
        iperf_note = if settings.quick {
            "iperf3: not run with --quick.".into()
        } else {
            "iperf3 is not installed: no comparison (`apt-get install iperf3`, then run again)."
                .into()
        };
    }
    let mut table = Table::new(&["receiver", "recv size", "MB/s"]);
    let mut bars = Vec::new();
    for (read, r) in reads.iter().zip(&rates) {
        let spread = Spread::of(r);
        if !spread.sane() {
            return Err("transfer: figures are not sane".into());
        }
        table.row(vec![
            "lesson-06 sink".into(),
            size_name(*read),
            spread.to_string(),
        ]);
        bars.push(Bar {
            label: format!("recv({})", size_name(*read)),
            value: spread.median,
        });
    }
    let one_mib = Spread::of(&rates[2]).median;
    let target = if iperf.is_empty() {
        Target {
            what: "lesson-06's 1 MiB transfer ≥ iperf3's default loopback throughput".into(),
            measured: format!("{} MB/s; {iperf_note}", num(one_mib)),
            met: None,
        }
    } else {
        let spread = Spread::of(&iperf);
        // Run i of the sink and of iperf3 were measured back to back.
        let pairs: Vec<f64> = rates[2].iter().zip(&iperf).map(|(a, b)| a / b).collect();
        table.row(vec![
            "iperf3 (default: 128 KiB, one stream)".into(),
            "128 KiB".into(),
            spread.to_string(),
        ]);
        bars.push(Bar {
            label: "iperf3".into(),
            value: spread.median,
        });
        Target {
            what: "lesson-06's 1 MiB transfer ≥ iperf3's default loopback throughput".into(),
            measured: format!(
                "{} ÷ {} MB/s = {:.3} × (run by run: {})",
                num(one_mib),
                num(spread.median),
                one_mib / spread.median,
                Spread::of(&pairs)
            ),
            met: Some(one_mib >= spread.median),
        }
    };
    let part = format!(
        "## 4. lesson-06's transfer, and iperf3\n\n\
         loadgen sends {} (the course's pattern, in writes of 128 KiB, iperf3's default) to \
         `lesson-06 sink --read-size N`, which replies with the count it received; the time runs \
         from the connection to the verified reply. {}\n\n{}\n\
         ![Loopback transfer by recv size](benchmarks-transfer.svg)\n",
        size_name(bytes),
        if iperf.is_empty() {
            iperf_note
        } else {
            "iperf3 runs 3 s per run, interleaved with the sink's runs; its figure is what the receiver got.".into()
        },
        table.markdown()
    );
    Ok((part, bars, target))
}

/// One iperf3 run on loopback with its defaults (one TCP stream, 128 KiB
/// writes), 3 s: the receiver's MB/s.
fn iperf3(program: &Path) -> Result<f64, String> {
    // iperf3 needs a port number: take a free one from the OS.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port()
        .to_string();
    let mut server = Guard::spawn(
        Command::new(program)
            .args(["-s", "-1", "-B", "127.0.0.1", "-p", &port])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .map_err(|e| format!("cannot start iperf3: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while tcp::accept_queue(port.parse().unwrap_or(0)).is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let client = Command::new(program)
        .args(["-c", "127.0.0.1", "-p", &port, "-t", "3", "-J"])
        .stderr(Stdio::null())
        .output();
    // It ends by itself after one client (-1); kill it if it has not.
    let _ = server.kill();
    let output = client.map_err(|e| format!("cannot run iperf3: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("iperf3's report: {e}"))?;
    json["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .map(|bits| bits / 8.0 / 1e6)
        .ok_or_else(|| format!("no throughput in iperf3's report: {}", json["error"]))
}

fn size_name(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        if bytes >= 1024 * MIB && bytes.is_multiple_of(1024 * MIB) {
            format!("{} GiB", bytes / (1024 * MIB))
        } else {
            format!("{} MiB", bytes / MIB)
        }
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

// ---------------------------------------------------------------------
// 5. Cold builds

/// The lessons whose cold build is timed: a learner's first command.
const LESSONS: [&str; 6] = [
    "lesson-01",
    "lesson-02",
    "lesson-03",
    "lesson-04",
    "lesson-05",
    "lesson-06",
];
/// The most seconds a lesson's cold build may take on 2 cores.
const COLD_BUILD_TARGET: f64 = 5.0;

fn cold_build(settings: &Settings, paths: &Paths) -> Result<(String, Target), String> {
    let what = format!(
        "every lesson's cold build (what `cargo run -p lesson-NN` compiles) ≤ {COLD_BUILD_TARGET} s on a 2-core machine"
    );
    if settings.builds == 0 {
        let note = if settings.quick {
            "not run with --quick"
        } else {
            "skipped (--builds 0)"
        };
        return Ok((
            format!("## 5. Cold builds of the lessons\n\n{note}.\n"),
            Target {
                what,
                measured: note.into(),
                met: None,
            },
        ));
    }
    // Download what is missing first: the timed builds use no network.
    let _ = Command::new(cargo())
        .current_dir(&paths.root)
        .args(["fetch", "--quiet"])
        .status();
    let mut table = Table::new(&["command", "builds", "seconds"]);
    let mut slowest: Option<(&str, f64)> = None;
    // Round by round, every lesson once per round: a machine that gets
    // busier during the run weighs on every lesson alike.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); LESSONS.len()];
    for round in 0..settings.builds {
        for (lesson, times) in LESSONS.iter().zip(&mut times) {
            times.push(time_cold_build(paths, lesson, round)?);
        }
    }
    for (lesson, times) in LESSONS.iter().zip(&times) {
        let spread = Spread::of(times);
        table.row(vec![
            format!("`cargo build -p {lesson} --bin {lesson}`"),
            settings.builds.to_string(),
            spread.to_string(),
        ]);
        if slowest.is_none_or(|(_, s)| spread.median > s) {
            slowest = Some((lesson, spread.median));
        }
    }
    let (slowest, median) = slowest.ok_or("no lesson to build")?;
    let part = format!(
        "## 5. Cold builds of the lessons\n\n\
         A learner's first `cargo run -p lesson-NN` compiles the lesson's own binary (lesson-05's \
         hardened server is compiled when it is first run). Each build is the dev profile into a \
         new, empty \
         `CARGO_TARGET_DIR`; the crates are downloaded beforehand (`cargo fetch`), so no network \
         time is counted. The lessons take turns, one build each per round.\n\n{}",
        table.markdown()
    );
    Ok((
        part,
        Target {
            what,
            measured: format!("slowest: {slowest}, {} s", num(median)),
            met: Some(median <= COLD_BUILD_TARGET),
        },
    ))
}

/// Seconds of one cold `cargo build -p lesson` into an empty target folder.
fn time_cold_build(paths: &Paths, lesson: &str, round: usize) -> Result<f64, String> {
    let target = paths.scratch.join(format!("cold-build-{lesson}-{round}"));
    let started = Instant::now();
    let output = Command::new(cargo())
        .current_dir(&paths.root)
        .env("CARGO_TARGET_DIR", &target)
        // What `cargo run -p lesson-NN` builds: the lesson's own binary
        // (lesson-05's hardened server is built when it is run).
        .args(["build", "--offline", "-p", lesson, "--bin", lesson])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let _ = fs::remove_dir_all(&target);
    if !output.status.success() {
        return Err(format!(
            "cold build of {lesson} failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(elapsed)
}

// ---------------------------------------------------------------------
// Output

/// A Markdown table with padded columns, readable as text too.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|h| (*h).to_owned()).collect()],
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
