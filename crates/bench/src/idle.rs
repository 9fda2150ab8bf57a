//! Section 3, idle clients: what a silent connection costs each server,
//! in its own memory and in the kernel's.

use std::thread;
use std::time::{Duration, Instant};

use loadgen::idle::{Idle, Report};
use proctools::system::KernelMemory;

use crate::chart::Stack;
use crate::servers::{Kind, Purpose};
use crate::talk::missing_note;
use crate::{MIB, Paths, Settings, Spread, Table, Target, num};

/// What section 3 gives the rest of the report.
pub(crate) struct IdlePart {
    pub(crate) part: String,
    /// Memory per connection at the largest count: (server, RSS, kernel
    /// stack), in KiB.
    pub(crate) stacks: Vec<Stack>,
    pub(crate) targets: Vec<Target>,
}

/// The most resident memory per idle connection issue 13 allows lessons
/// 08 and 09, in KiB.
const EVENT_LOOP_TARGET_KIB: f64 = 2.0;

pub(crate) fn idle(settings: &Settings, paths: &Paths) -> Result<IdlePart, String> {
    let kinds: Vec<Kind> = Kind::SIDE_BY_SIDE
        .into_iter()
        .filter(|k| k.available(paths))
        .collect();
    let runs = settings.idle_runs();
    let mut table = Table::new(&[
        "server",
        "clients",
        "still open",
        "RSS before (MiB)",
        "RSS held (MiB)",
        "RSS KiB/conn",
        "KernelStack KiB/conn",
        "Slab KiB/conn",
        "threads",
        "open time (s)",
    ]);
    let largest = settings.idle_counts().into_iter().max().unwrap_or(0);
    let mut targets = vec![
        Target::not_measured(
            "hardened holds 5,000 idle clients at ≤ 12 KiB of resident memory each",
            "not measured",
        ),
        Target::not_measured(
            "lesson-08 holds 10,000 idle connections at ≤ 2 KiB of resident memory each",
            "not measured",
        ),
        Target::not_measured(
            "lesson-09 holds 10,000 idle connections at ≤ 2 KiB of resident memory each",
            "not measured",
        ),
    ];
    let mut stacks = Vec::new();
    for &clients in &settings.idle_counts() {
        let mut figures: Vec<Vec<Report>> = vec![Vec::new(); kinds.len()];
        for _ in 0..runs {
            for (i, kind) in kinds.iter().enumerate() {
                if !settings.quick {
                    // The previous server's threads and sockets are given
                    // back to the kernel before this one's "before".
                    settle(Duration::from_secs(3));
                }
                // A fresh server each run: its memory before is the baseline.
                let server = match kind.start(paths, Purpose::Idle) {
                    Ok(server) => server,
                    Err(err) if settings.quick => return Err(err),
                    Err(err) => {
                        figures[i].push(Report {
                            clients,
                            failures: vec![err],
                            ..Report::default()
                        });
                        continue;
                    }
                };
                let mut run = Idle::new(server.addr, clients, settings.idle_hold());
                run.server_pid = Some(server.pid());
                figures[i].push(run.run());
                server.stop();
            }
        }
        for (kind, reports) in kinds.iter().zip(&figures) {
            let spread = |f: &dyn Fn(&Report) -> Option<f64>| {
                Spread::of(&reports.iter().filter_map(f).collect::<Vec<_>>())
            };
            let held = spread(&|r| Some(r.still_open as f64));
            let rss = spread(&|r| r.memory_per_connection().map(|b| b / 1024.0));
            let stack = spread(&|r| r.kernel_memory_per_connection().map(|k| k.0 / 1024.0));
            let slab = spread(&|r| r.kernel_memory_per_connection().map(|k| k.1 / 1024.0));
            let mib = |f: &dyn Fn(&Report) -> Option<u64>| {
                spread(&|r| f(r).map(|b| b as f64 / MIB as f64))
            };
            let kernel = reports
                .iter()
                .any(|r| r.kernel_memory_per_connection().is_some());
            let threads = spread(&|r| r.during.map(|s| s.threads as f64));
            let open_time = spread(&|r| Some(r.open_time.as_secs_f64()));
            // The servers with targets here must hold every client (a
            // thread per client grows its memory even with 20 of them).
            let must_hold = matches!(kind, Kind::Hardened | Kind::Lesson08 | Kind::Lesson09);
            let grows = *kind != Kind::Hardened || rss.sane();
            // A check for --quick (the smoke test); a full run reports what
            // it saw, in the table and the targets.
            let failed = held.min < clients as f64 || !grows || !threads.sane();
            if settings.quick && must_hold && failed {
                return Err(format!(
                    "idle, {}: figures are not sane: {:?}",
                    kind.name(),
                    reports.first().map(|r| &r.failures)
                ));
            }
            let mut still = held.to_string();
            if let Some(first) = reports.iter().flat_map(|r| &r.failures).next() {
                still = format!("{still} ({first})");
            }
            table.row(vec![
                kind.name().into(),
                clients.to_string(),
                still,
                mib(&|r| r.before.map(|s| s.rss_bytes)).to_string(),
                mib(&|r| r.during.map(|s| s.rss_bytes)).to_string(),
                rss.to_string(),
                signed(stack, kernel),
                signed(slab, kernel),
                threads.to_string(),
                open_time.to_string(),
            ]);
            if clients != largest {
                continue;
            }
            // A server that held fewer (lesson-07's pool) says so on the chart.
            let label = if held.median < clients as f64 {
                format!(
                    "{} ({} held)",
                    kind.short(),
                    thousands(held.median as usize)
                )
            } else {
                kind.short().into()
            };
            stacks.push(Stack {
                label,
                values: vec![rss.median.max(0.0), stack.median.max(0.0)],
            });
            let all = held.min >= clients as f64;
            let said = format!(
                "{} of {} held; {} KiB per connection",
                num(held.min),
                thousands(clients),
                num(rss.median)
            );
            match kind {
                Kind::Hardened if clients >= 5_000 => {
                    targets[0].measured = said;
                    targets[0].met = Some(all && rss.median <= 12.0);
                }
                Kind::Lesson08 | Kind::Lesson09 if clients >= 10_000 => {
                    let i = if *kind == Kind::Lesson08 { 1 } else { 2 };
                    targets[i].measured = format!(
                        "{said} (the kernel's: {} KiB of stack, {} KiB of slab, both ends)",
                        num(stack.median),
                        num(slab.median)
                    );
                    targets[i].met = Some(all && rss.median <= EVENT_LOOP_TARGET_KIB);
                }
                _ => {}
            }
        }
    }
    let part = format!(
        "## 3. Idle clients\n\n\
         {}Silent connections opened one after another (waiting whenever the server's accept \
         queue holds 32), held for {:.1} s, then checked; a fresh server each run ({runs} \
         run{}), the servers taking turns. The server's resident memory (`VmRSS`) and threads \
         come from `/proc/PID/status`, before the first connection and at the end of the hold. \
         The kernel's memory that `VmRSS` does not show comes from `/proc/meminfo` at the same \
         two moments: `KernelStack` (a stack in the kernel for every thread) and `Slab` (the \
         sockets, their files, epoll's entries, each thread's `task_struct`, for both ends of \
         each loopback connection, the client's too); both are the whole machine's, so other \
         work moves them as well. lesson-07 runs its pool of {} workers and a queue of {} with \
         `--idle-timeout 0` (its deadline would close the silent clients being measured): it \
         holds what its workers and queue hold and refuses the rest with its busy reply, by \
         design.\n\n{}\n![Memory per idle connection](benchmarks-idle.svg)\n",
        missing_note(paths, &Kind::SIDE_BY_SIDE),
        settings.idle_hold().as_secs_f64(),
        if runs == 1 { "" } else { "s" },
        crate::servers::POOL_WORKERS,
        crate::servers::POOL_QUEUE,
        table.markdown()
    );
    Ok(IdlePart {
        part,
        stacks,
        targets,
    })
}

/// A spread that may be negative (a machine-wide figure can fall while
/// other work ends), or "–" where nothing was measured.
fn signed(spread: Spread, measured: bool) -> String {
    if measured {
        spread.to_string()
    } else {
        "–".into()
    }
}

/// 10000 as "10,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Waits until the kernel's stacks stop shrinking (the previous server's
/// threads are gone), at most `timeout`.
fn settle(timeout: Duration) {
    let until = Instant::now() + timeout;
    let mut last = KernelMemory::read().map(|k| k.kernel_stack).unwrap_or(0);
    while Instant::now() < until {
        thread::sleep(Duration::from_millis(200));
        let now = KernelMemory::read().map(|k| k.kernel_stack).unwrap_or(0);
        if now + 256 * 1024 >= last {
            return;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        assert_eq!(super::thousands(10_000), "10,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }
}
