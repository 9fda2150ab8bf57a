//! Talking clients: the servers side by side at 1 to 1,000 clients
//! (section 1), and what logging every message costs (section 2).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use loadgen::pingpong::{Phase, PingPong};
use proctools::process::{self, ContextSwitches, Sample};
use proctools::tcp;

use crate::chart::Bar;
use crate::servers::{Kind, POOL_QUEUE, POOL_WORKERS, Purpose, Server};
use crate::{MESSAGE, Paths, REPLY, Settings, Spread, Table, Target, num};

/// How long after the last reply the server's CPU time is read: lesson
/// 05's hardened server writes its batched lines within 50 ms, and that
/// work belongs to the run.
const FLUSH: Duration = Duration::from_millis(120);

/// What one pingpong run measured, per verified reply where it says so.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ping {
    msgs_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: f64,
    user_us: f64,
    system_us: f64,
    voluntary: f64,
    nonvoluntary: f64,
}

/// `clients` clients, `messages` each, against `server`, connected one at
/// a time (loadgen's pacing: a crowd overflows a backlog of 128); the
/// server's CPU time and context switches are read when every client is
/// connected and accepted, and again when every reply has come: the
/// conversation alone, without connecting and closing.
pub(crate) fn pingpong(server: &Server, clients: usize, messages: usize) -> Result<Ping, String> {
    let message = netcore::text::Encoding::Gbk
        .encode(MESSAGE)
        .map_err(|e| e.to_string())?;
    let reply = netcore::text::Encoding::Gbk
        .encode(REPLY)
        .map_err(|e| e.to_string())?;
    let pid = server.pid();
    let port = server.addr.port();
    let samples: Mutex<Vec<Result<(Sample, ContextSwitches), String>>> = Mutex::new(Vec::new());
    let mut run = PingPong::new(server.addr, clients, messages);
    run.pace_connects = true;
    // A slow reply is a figure here, not a failure: the Python server's
    // threads can wait seconds for its interpreter lock at 1,000 clients.
    run.io_timeout = Duration::from_secs(20);
    run.deadline = Duration::from_secs(90);
    let report = run.run_observed(
        |_, _| message.clone(),
        &reply,
        |phase| {
            match phase {
                // Connected on the client's side is not accepted yet: wait
                // (bounded) until the server has taken every connection.
                Phase::Connected => accepted(port, Duration::from_secs(5)),
                Phase::Done => thread::sleep(FLUSH),
            }
            let sample = process::sample(pid)
                .and_then(|s| Ok((s, process::context_switches(pid)?)))
                .map_err(|e| format!("cannot read /proc/{pid}: {e}"));
            samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(sample);
        },
    );
    if !report.all_ok() {
        let failed = report.clients - report.completed;
        return Err(format!(
            "{failed} of {clients} clients failed; the first: {}",
            report
                .failures
                .first()
                .map_or("?".into(), |f| f.reason.clone())
        ));
    }
    let samples = samples.into_inner().unwrap_or_else(|e| e.into_inner());
    let [before, after] = &samples[..] else {
        return Err(format!(
            "the server was measured {} times, not twice",
            samples.len()
        ));
    };
    let ((before, cs_before), (after, cs_after)) = (before.clone()?, after.clone()?);
    let n = report.round_trips.len() as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n;
    let switches = cs_before.until(&cs_after);
    let latency = report.latency();
    Ok(Ping {
        msgs_per_s: report.talk_messages_per_second(),
        p50_us: latency.p50.as_secs_f64() * 1e6,
        p99_us: latency.p99.as_secs_f64() * 1e6,
        cpu_us: per(after.cpu().saturating_sub(before.cpu())),
        user_us: per(after.user.saturating_sub(before.user)),
        system_us: per(after.system.saturating_sub(before.system)),
        voluntary: switches.voluntary as f64 / n,
        nonvoluntary: switches.nonvoluntary as f64 / n,
    })
}

/// Waits until nothing waits in the accept queue of the server on `port`
/// (or `timeout` has passed, or /proc cannot say).
fn accepted(port: u16, timeout: Duration) {
    let until = Instant::now() + timeout;
    while tcp::accept_queue(port).is_some_and(|q| q > 0) && Instant::now() < until {
        thread::sleep(Duration::from_millis(1));
    }
}

/// Pingpong figures over several runs, or why a server has none: a
/// server that fails a row (refuses clients, stops answering) is shown
/// failing, the others measured all the same.
pub(crate) struct PingRuns {
    pings: Vec<Ping>,
    failed: Option<String>,
}

impl PingRuns {
    /// Its figures, unless it failed.
    fn ok(&self) -> Option<&PingRuns> {
        self.failed.is_none().then_some(self)
    }
    fn spread(&self, f: impl Fn(&Ping) -> f64) -> Spread {
        Spread::of(&self.pings.iter().map(f).collect::<Vec<_>>())
    }
    fn cpu(&self) -> Spread {
        self.spread(|p| p.cpu_us)
    }
    fn rate(&self) -> Spread {
        self.spread(|p| p.msgs_per_s)
    }
    fn row(&self, first: Vec<String>) -> Vec<String> {
        let mut row = first;
        if let Some(why) = &self.failed {
            row.push(format!("failed: {why}"));
            row.extend(std::iter::repeat_n("–".to_owned(), PING_HEADERS.len() - 1));
            return row;
        }
        row.extend([
            self.rate().to_string(),
            self.spread(|p| p.p50_us).to_string(),
            self.spread(|p| p.p99_us).to_string(),
            self.cpu().to_string(),
            self.spread(|p| p.user_us).to_string(),
            self.spread(|p| p.system_us).to_string(),
        ]);
        row
    }
    /// The context switches per message, voluntary / nonvoluntary.
    fn switches(&self) -> String {
        if self.failed.is_some() {
            return "–".into();
        }
        format!(
            "{} / {}",
            num(self.spread(|p| p.voluntary).median),
            num(self.spread(|p| p.nonvoluntary).median)
        )
    }
    /// Positive and consistent: the smoke test's check. (A CPU time can
    /// be 0 in a tiny run: /proc counts in clock ticks, 10 ms on Linux.)
    fn check(&self, what: &str) -> Result<(), String> {
        let ok = !self.pings.is_empty()
            && self.pings.iter().all(|p| {
                p.msgs_per_s > 0.0
                    && p.p50_us > 0.0
                    && p.p99_us >= p.p50_us
                    && p.cpu_us >= 0.0
                    && p.voluntary >= 0.0
                    && p.nonvoluntary >= 0.0
            })
            && self.rate().sane();
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

/// Starts every server of `kinds`, then measures them in turns: a warm-up
/// run each, then `runs` rounds of one run each, so that a change in the
/// machine's load falls on all of them. A server that fails is measured no
/// more in this row and shown failing; with `--quick` (the smoke test's
/// check) any failure is an error.
fn interleaved(
    settings: &Settings,
    paths: &Paths,
    kinds: &[Kind],
    clients: usize,
    messages: &dyn Fn(Kind) -> usize,
    runs: usize,
) -> Result<Vec<PingRuns>, String> {
    let servers: Vec<Result<Server, String>> = kinds
        .iter()
        .map(|k| k.start(paths, Purpose::Talk))
        .collect();
    let mut results: Vec<PingRuns> = servers
        .iter()
        .map(|s| PingRuns {
            pings: Vec::new(),
            failed: s.as_ref().err().cloned(),
        })
        .collect();
    let each = |k: Kind| (messages(k) / clients).max(1);
    for round in 0..=runs {
        for (i, (kind, server)) in kinds.iter().zip(&servers).enumerate() {
            let (Ok(server), None) = (server, &results[i].failed) else {
                continue;
            };
            // Round 0 is a short warm-up, not counted.
            let count = if round == 0 {
                (each(*kind) / 10).max(1)
            } else {
                each(*kind)
            };
            match pingpong(server, clients, count) {
                Ok(ping) if round > 0 => results[i].pings.push(ping),
                Ok(_) => {}
                Err(e) => results[i].failed = Some(e),
            }
        }
    }
    for (kind, r) in kinds.iter().zip(&results) {
        match &r.failed {
            None => r.check(kind.name())?,
            Some(why) if settings.quick => {
                return Err(format!("{} at {clients} clients: {why}", kind.name()));
            }
            Some(_) => {}
        }
    }
    Ok(results)
}

/// The lessons whose rows are missing, as a sentence (empty when none).
pub(crate) fn missing_note(paths: &Paths, kinds: &[Kind]) -> String {
    let missing: Vec<&str> = kinds
        .iter()
        .filter(|k| !k.available(paths))
        .map(|k| k.name())
        .collect();
    if missing.is_empty() {
        String::new()
    } else {
        format!(
            "Not measured (not in this workspace, or `python3` not found): {}.\n\n",
            missing.join(", ")
        )
    }
}

/// What section 1 gives the rest of the report.
pub(crate) struct SideBySide {
    pub(crate) part: String,
    pub(crate) cpu_bars: Vec<Bar>,
    pub(crate) targets: Vec<Target>,
}

// ---------------------------------------------------------------------
// 1. The servers side by side

pub(crate) fn side_by_side(settings: &Settings, paths: &Paths) -> Result<SideBySide, String> {
    let kinds: Vec<Kind> = Kind::SIDE_BY_SIDE
        .into_iter()
        .filter(|k| k.available(paths))
        .collect();
    let mut headers = vec!["server", "clients"];
    headers.extend(PING_HEADERS);
    let mut table = Table::new(&headers);
    let mut switches = Table::with_headers(
        std::iter::once("server".to_owned())
            .chain(
                settings
                    .client_counts()
                    .iter()
                    .map(|c| format!("{c} client{}", if *c == 1 { "" } else { "s" })),
            )
            .collect(),
    );
    let mut cpu_ratios = Table::new(&[vec!["clients"], ratio_headers(&kinds)].concat());
    let mut rate_ratios = Table::new(&[vec!["clients"], ratio_headers(&kinds)].concat());
    let mut switch_cells: Vec<Vec<String>> = vec![Vec::new(); kinds.len()];
    let mut cpu_bars = Vec::new();
    let mut targets = Vec::new();
    let position = |k: Kind| kinds.iter().position(|&x| x == k);
    for &clients in &settings.client_counts() {
        let messages = |k: Kind| settings.pingpong_total(k);
        let runs = interleaved(
            settings,
            paths,
            &kinds,
            clients,
            &messages,
            settings.side_runs(),
        )?;
        for (i, (kind, r)) in kinds.iter().zip(&runs).enumerate() {
            table.row(r.row(vec![kind.name().into(), clients.to_string()]));
            switch_cells[i].push(r.switches());
            if clients >= 100 && r.ok().is_some() {
                cpu_bars.push(Bar {
                    label: format!("{} ×{clients}", kind.short()),
                    value: r.cpu().median,
                });
            }
        }
        // Ratios of the medians, against the tutorial's program in Rust.
        if let Some(base) = position(Kind::Lesson05) {
            let base = runs[base].ok();
            let mut cpu_row = vec![clients.to_string()];
            let mut rate_row = vec![clients.to_string()];
            for (kind, r) in kinds.iter().zip(&runs) {
                if *kind == Kind::Lesson05 {
                    continue;
                }
                match (r.ok(), base) {
                    (Some(r), Some(base)) => {
                        cpu_row.push(ratio(r.cpu().median, base.cpu().median));
                        rate_row.push(ratio(r.rate().median, base.rate().median));
                    }
                    _ => {
                        cpu_row.push("–".into());
                        rate_row.push("–".into());
                    }
                }
            }
            cpu_ratios.row(cpu_row);
            rate_ratios.row(rate_row);
        }
        if clients == 100 {
            targets.extend(targets_at_100(&kinds, &runs));
        }
    }
    for (kind, cells) in kinds.iter().zip(switch_cells) {
        switches.row([vec![kind.name().to_owned()], cells].concat());
    }
    let ratios = if position(Kind::Lesson05).is_some() && kinds.len() > 1 {
        format!(
            "Ratios of the medians, each server ÷ lesson-05 (below 1: less CPU per message, or \
             fewer messages a second):\n\n\
             CPU per message:\n\n{}\nmsgs/s:\n\n{}\n",
            cpu_ratios.markdown(),
            rate_ratios.markdown()
        )
    } else {
        String::new()
    };
    let commands: String = kinds.iter().fold(String::new(), |mut s, k| {
        let _ = writeln!(s, "- {}: {}", k.name(), k.command(Purpose::Talk));
        s
    });
    let python_total = settings.pingpong_total(Kind::Python);
    let part = format!(
        "## 1. The servers side by side\n\n\
         {missing}Each client sends the tutorial's message and waits for the reply `ok, 收到了` \
         before the next; {} messages per run in all, spread over the clients ({python_total} \
         for the Python server, which is slower), {}, the servers taking turns. Every server \
         prints every message to a file, as the tutorial's does. The clients connect one at a \
         time, pausing whenever 32 wait in the server's accept queue (`loadgen --pace`). msgs/s, \
         CPU time and context switches count the conversation alone: from the moment every \
         client is connected and accepted to the moment every reply has come (the clients then \
         stay connected until the server has been read). CPU time is the server process's, \
         from `/proc/PID/stat`, per verified reply. The servers (the lessons with `--host \
         127.0.0.1 --port 0` besides):\n\n{commands}\n{pool}{}\n{ratios}\
         Context switches per message, voluntary / nonvoluntary, summed over the server's \
         threads (`/proc/PID/task/*/status`):\n\n{}\n\
         ![Server CPU time per message](benchmarks-cpu.svg)\n",
        settings.pingpong_total(Kind::Lesson05),
        plural(settings.side_runs(), "run"),
        table.markdown(),
        switches.markdown(),
        missing = missing_note(paths, &Kind::SIDE_BY_SIDE),
        pool = if kinds.contains(&Kind::Lesson07) {
            pool_note() + "\n\n"
        } else {
            String::new()
        },
    );
    Ok(SideBySide {
        part,
        cpu_bars,
        targets,
    })
}

/// `a ÷ b` with two decimals, or "–" where it has no meaning (a CPU time
/// of 0 clock ticks in a tiny run).
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r.is_finite() && b > 0.0 {
        format!("{r:.2}")
    } else {
        "–".into()
    }
}

fn ratio_headers(kinds: &[Kind]) -> Vec<&'static str> {
    kinds
        .iter()
        .filter(|k| **k != Kind::Lesson05)
        .map(|k| k.short())
        .collect()
}

/// The targets read at 100 clients: the hardened server against Python's
/// (an earlier issue's), lesson 08 against lesson 05 (issue 13's).
fn targets_at_100(kinds: &[Kind], runs: &[PingRuns]) -> Vec<Target> {
    // Only the servers that did not fail.
    let find = |k: Kind| {
        kinds
            .iter()
            .position(|&x| x == k)
            .and_then(|i| runs[i].ok())
    };
    let mut targets = Vec::new();
    let what = "hardened's CPU per message at 100 clients ≤ 0.1 × the Python server's";
    targets.push(
        match (
            find(Kind::Hardened),
            find(Kind::Python),
            find(Kind::Lesson05),
        ) {
            (Some(hardened), Some(python), plain) => {
                let cpu = |r: &PingRuns| r.cpu().median / python.cpu().median;
                let mut measured = format!(
                    "{} × ({} vs {} µs/msg; user time alone {} ×)",
                    ratio(hardened.cpu().median, python.cpu().median),
                    num(hardened.cpu().median),
                    num(python.cpu().median),
                    ratio(
                        hardened.spread(|p| p.user_us).median,
                        python.spread(|p| p.user_us).median
                    ),
                );
                if let Some(plain) = plain {
                    let _ = write!(
                        measured,
                        "; lesson-05's plain server {} ×",
                        ratio(plain.cpu().median, python.cpu().median)
                    );
                }
                Target {
                    what: what.into(),
                    measured,
                    met: Some(cpu(hardened) <= 0.1),
                }
            }
            _ => Target::not_measured(what, "python3 or lesson-05 missing, or failed"),
        },
    );
    let what = "lesson-08's CPU per message at 100 clients ≤ lesson-05's (same run)";
    targets.push(match (find(Kind::Lesson08), find(Kind::Lesson05)) {
        (Some(l08), Some(l05)) => {
            // Run i of both was measured back to back.
            let pairs: Vec<f64> = l08
                .pings
                .iter()
                .zip(&l05.pings)
                .map(|(a, b)| a.cpu_us / b.cpu_us)
                .collect();
            let mut measured = format!(
                "{} vs {} µs/msg = {} × (run by run: {})",
                num(l08.cpu().median),
                num(l05.cpu().median),
                ratio(l08.cpu().median, l05.cpu().median),
                Spread::of(&pairs)
            );
            if let Some(hardened) = find(Kind::Hardened) {
                let _ = write!(
                    measured,
                    "; against the hardened server's {} µs/msg: {} ×",
                    num(hardened.cpu().median),
                    ratio(l08.cpu().median, hardened.cpu().median)
                );
            }
            Target {
                what: what.into(),
                measured,
                met: Some(l08.cpu().median <= l05.cpu().median),
            }
        }
        _ => Target::not_measured(what, "lesson-08 or lesson-05 missing, or failed"),
    });
    targets
}

// ---------------------------------------------------------------------
// 2. The cost of logging every message

pub(crate) fn logging(settings: &Settings, paths: &Paths) -> Result<(String, Target), String> {
    let pairs: Vec<(Kind, Kind)> = [
        (Kind::HardenedQuiet, Kind::Hardened),
        (Kind::Lesson08Quiet, Kind::Lesson08),
        (Kind::Lesson09Quiet, Kind::Lesson09),
    ]
    .into_iter()
    .filter(|(q, _)| q.available(paths))
    .collect();
    let kinds: Vec<Kind> = pairs.iter().flat_map(|&(q, l)| [q, l]).collect();
    let clients = 100;
    let messages = settings.logging_messages();
    let runs = interleaved(
        settings,
        paths,
        &kinds,
        clients,
        &|_| messages * clients,
        settings.runs,
    )?;
    let mut headers = vec!["server", "output"];
    headers.extend(PING_HEADERS);
    let mut table = Table::new(&headers);
    let mut notes = String::new();
    let mut target = Target::not_measured(
        "hardened logging every message to a file ≤ 1.1 × the CPU per message of `--quiet`",
        "lesson-05 missing",
    );
    for (i, (quiet, logged)) in pairs.iter().enumerate() {
        let (q, l) = (&runs[2 * i], &runs[2 * i + 1]);
        table.row(q.row(vec![quiet.name().into(), "none (`--quiet`)".into()]));
        table.row(l.row(vec![
            logged.name().into(),
            "a line per message, to a file".into(),
        ]));
        let (Some(l), Some(q)) = (l.ok(), q.ok()) else {
            let _ = writeln!(notes, "- {}: no ratio (a server failed).", logged.name());
            if *logged == Kind::Hardened {
                target.measured = "a server failed".into();
            }
            continue;
        };
        // The ratio of each run's pair (run i of both was measured back
        // to back), and of the medians.
        let by_run: Vec<f64> = l
            .pings
            .iter()
            .zip(&q.pings)
            .map(|(l, q)| l.cpu_us / q.cpu_us)
            .collect();
        let ratio = l.cpu().median / q.cpu().median;
        let _ = writeln!(
            notes,
            "- {}: CPU per message, logged ÷ quiet: {} (ratio of the medians); run by run: {}.",
            logged.name(),
            ratio_of(ratio),
            Spread::of(&by_run)
        );
        if *logged == Kind::Hardened {
            target.measured = format!("{} ×", ratio_of(ratio));
            target.met = Some(ratio <= 1.1);
        }
    }
    let part = format!(
        "## 2. The cost of logging every message\n\n\
         {}Each server at {clients} clients × {messages} messages ({}), printing a line per \
         message to a file, against the same server with `--quiet`. lesson-05's hardened server \
         batches its lines (a thread of its own writes them); lessons 08 and 09 `println!` each \
         line, as lesson-05's plain server does.\n\n{}\n{notes}",
        missing_note(
            paths,
            &[
                Kind::HardenedQuiet,
                Kind::Lesson08Quiet,
                Kind::Lesson09Quiet
            ]
        ),
        plural(settings.runs, "run"),
        table.markdown()
    );
    Ok((part, target))
}

/// A ratio with three decimals, or "–" where it has no meaning.
fn ratio_of(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.3}")
    } else {
        "–".into()
    }
}

/// "1 run", "5 runs".
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// lesson-07's pool, as the page says it.
pub(crate) fn pool_note() -> String {
    format!(
        "lesson-07 runs with `--workers {POOL_WORKERS} --queue {POOL_QUEUE}`: a worker for \
         every client of the largest row, so that the pool neither refuses nor starves the load \
         generator's clients."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping(cpu_us: f64) -> Ping {
        Ping {
            msgs_per_s: 1000.0,
            p50_us: 10.0,
            p99_us: 20.0,
            cpu_us,
            user_us: cpu_us / 4.0,
            system_us: cpu_us * 3.0 / 4.0,
            voluntary: 1.0,
            nonvoluntary: 0.25,
        }
    }

    #[test]
    fn a_failed_server_is_a_row_that_says_why() {
        let failed = PingRuns {
            pings: Vec::new(),
            failed: Some("120 of 1000 clients failed".into()),
        };
        let row = failed.row(vec!["lesson-07".into(), "1000".into()]);
        assert_eq!(row.len(), 2 + PING_HEADERS.len());
        assert_eq!(row[2], "failed: 120 of 1000 clients failed");
        assert!(row[3..].iter().all(|c| c == "–"), "{row:?}");
        assert_eq!(failed.switches(), "–");
        assert!(failed.ok().is_none());
    }

    #[test]
    fn medians_and_spreads_of_the_runs() {
        let runs = PingRuns {
            pings: vec![ping(20.0), ping(10.0), ping(30.0)],
            failed: None,
        };
        assert!(runs.check("x").is_ok());
        let row = runs.row(vec!["a".into(), "1".into()]);
        assert_eq!(row[5], "20 (10–30)");
        assert_eq!(runs.switches(), "1 / 0.25");
        assert_eq!(ratio(10.0, 20.0), "0.50");
        assert_eq!(ratio(10.0, 0.0), "–");
        assert_eq!(plural(1, "run"), "1 run");
        assert_eq!(plural(3, "run"), "3 runs");
    }
}
