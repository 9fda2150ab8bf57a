//! Section 4, system calls per message, counted by `strace -c -f` in a
//! smaller run of their own (strace slows every system call down many
//! times, so its runs are never timed).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use loadgen::pingpong::PingPong;
use proctools::child::Guard;
use proctools::process;

use crate::chart::Bar;
use crate::servers::{Kind, Purpose};
use crate::talk::missing_note;
use crate::{MESSAGE, Paths, REPLY, Settings, Table, num};

/// One row of `strace -c`'s summary: a system call and how often it was
/// made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Count {
    pub(crate) syscall: String,
    pub(crate) calls: u64,
}

/// Parses `strace -c`'s table: the calls of every system call, and their
/// sum (what its `total` row says).
pub(crate) fn parse_summary(text: &str) -> Option<(Vec<Count>, u64)> {
    let mut counts = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        // "% time seconds usecs/call calls [errors] syscall": the calls
        // are the fourth column, the name the last (the errors column is
        // blank where there were none). The header, the rules and the
        // total are left out.
        let (Some(first), Some(&name)) = (words.first(), words.last()) else {
            continue;
        };
        if words.len() < 5 || first.starts_with(['%', '-']) || name == "total" {
            continue;
        }
        if let Ok(calls) = words[3].parse::<u64>() {
            counts.push(Count {
                syscall: name.to_owned(),
                calls,
            });
        }
    }
    let total = counts.iter().map(|c| c.calls).sum();
    (!counts.is_empty()).then_some((counts, total))
}

/// What section 4 gives the rest of the report.
pub(crate) struct SyscallPart {
    pub(crate) part: String,
    pub(crate) bars: Vec<Bar>,
}

pub(crate) fn syscalls(settings: &Settings, paths: &Paths) -> Result<SyscallPart, String> {
    let heading = "## 4. System calls per message\n\n";
    let Some(strace) = &paths.strace else {
        return Ok(SyscallPart {
            part: format!(
                "{heading}strace is not installed: not measured (`apt-get install strace`, then \
                 run again).\n"
            ),
            bars: Vec::new(),
        });
    };
    let (clients, each) = settings.strace_run();
    let kinds: Vec<Kind> = Kind::SIDE_BY_SIDE
        .into_iter()
        .filter(|k| k.available(paths))
        .collect();
    let mut table = Table::new(&[
        "server",
        "messages",
        "system calls per message",
        "the most frequent, per message",
    ]);
    let mut bars = Vec::new();
    let mut notes = Vec::new();
    for kind in kinds {
        match count(strace, paths, kind, clients, each) {
            Ok((counts, total)) => {
                let messages = (clients * each) as f64;
                let mut sorted = counts.clone();
                sorted.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.syscall.cmp(&b.syscall)));
                let top: Vec<String> = sorted
                    .iter()
                    .take(5)
                    .map(|c| format!("{} {}", c.syscall, num(c.calls as f64 / messages)))
                    .collect();
                let per = total as f64 / messages;
                table.row(vec![
                    kind.name().into(),
                    (clients * each).to_string(),
                    num(per),
                    top.join(", "),
                ]);
                bars.push(Bar {
                    label: kind.short().into(),
                    value: per,
                });
            }
            Err(err) => notes.push(format!("- {}: not measured: {err}", kind.name())),
        }
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("\n{}\n", notes.join("\n"))
    };
    let part = format!(
        "{heading}{}Each server is started as in section 1, then `strace -c -f -p PID` is \
         attached to it (every thread, and those it starts) while {clients} clients send {each} \
         messages each, connected as in section 1; strace is detached 0.2 s after the last \
         reply. The counts include the clients' connections being accepted, served and closed \
         (a thread started and ended per client where there is one), spread over the messages. \
         Under strace every system call is many times slower, so threads wait for each other's \
         locks more often than in the timed runs: the counts of `futex` (the calls behind a \
         lock that is waited for) are higher here than without strace; those of `recvfrom`, \
         `sendto`, `write` and `epoll_wait` are not.\n\n{}{notes}\n\
         ![System calls per message](benchmarks-syscalls.svg)\n",
        missing_note(paths, &Kind::SIDE_BY_SIDE),
        table.markdown()
    );
    Ok(SyscallPart { part, bars })
}

/// One server under `strace -c -f`: its counts while `clients` clients
/// send `each` messages.
fn count(
    strace: &Path,
    paths: &Paths,
    kind: Kind,
    clients: usize,
    each: usize,
) -> Result<(Vec<Count>, u64), String> {
    let server = kind.start(paths, Purpose::Talk)?;
    let pid = server.pid();
    let stem = kind.name().replace([' ', '(', ')'], "");
    let out = paths.scratch.join(format!("strace-{stem}.txt"));
    let log = paths.scratch.join(format!("strace-{stem}.err"));
    let threads = process::thread_ids(pid).len().max(1);
    let mut tracer = Guard::spawn(
        Command::new(strace)
            .args(["-c", "-f", "-o"])
            .arg(&out)
            .args(["-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                fs::File::create(&log)
                    .map_err(|e| format!("cannot create {}: {e}", log.display()))?,
            ),
    )
    .map_err(|e| format!("cannot start strace: {e}"))?;
    // strace says "Process N attached" for each thread it has stopped, or
    // "Process N attached with K threads" for a whole process at once.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let said = fs::read_to_string(&log).unwrap_or_default();
        if attached(&said) >= threads {
            break;
        }
        if let Ok(Some(status)) = tracer.try_wait() {
            return Err(format!(
                "strace exited ({status}): {}",
                said.lines().last().unwrap_or("")
            ));
        }
        if Instant::now() >= deadline {
            return Err("strace did not attach within 20 s".into());
        }
        thread::sleep(Duration::from_millis(20));
    }
    let encode = |t: &str| {
        netcore::text::Encoding::Gbk
            .encode(t)
            .map_err(|e| e.to_string())
    };
    let (message, reply) = (encode(MESSAGE)?, encode(REPLY)?);
    let mut run = PingPong::new(server.addr, clients, each);
    run.pace_connects = true;
    // Every system call is slow under strace: more time for each reply.
    run.io_timeout = Duration::from_secs(20);
    run.deadline = Duration::from_secs(120);
    let report = run.run(|_, _| message.clone(), &reply);
    thread::sleep(Duration::from_millis(200));
    // SIGINT: strace detaches (the server runs on) and writes its summary.
    let _ = Command::new("kill")
        .args(["-INT", &tracer.id().to_string()])
        .status();
    if tracer
        .wait_timeout(Duration::from_secs(20))
        .ok()
        .flatten()
        .is_none()
    {
        return Err("strace did not end within 20 s of SIGINT".into());
    }
    drop(server);
    if !report.all_ok() {
        return Err(format!(
            "{} of {clients} clients failed under strace: {}",
            report.clients - report.completed,
            report
                .failures
                .first()
                .map_or("?".into(), |f| f.reason.clone())
        ));
    }
    let text = fs::read_to_string(&out).map_err(|e| format!("no strace summary: {e}"))?;
    parse_summary(&text).ok_or_else(|| "strace's summary has no counts".into())
}

/// How many threads strace's messages say it has attached to.
fn attached(said: &str) -> usize {
    said.lines()
        .filter(|l| l.contains(" attached"))
        .map(|l| {
            l.split_once("attached with ")
                .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(1)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strace_summaries_with_and_without_errors() {
        let text = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 84.31    0.542360         222      2440       581 futex
  5.90    0.037950          37      1000           sendto
  4.83    0.031089          30      1010           recvfrom
------ ----------- ----------- --------- --------- ------------------
100.00    0.611399         137      4450       581 total
";
        let (counts, total) = parse_summary(text).unwrap();
        assert_eq!(total, 4450);
        assert_eq!(
            counts,
            vec![
                Count {
                    syscall: "futex".into(),
                    calls: 2440
                },
                Count {
                    syscall: "sendto".into(),
                    calls: 1000
                },
                Count {
                    syscall: "recvfrom".into(),
                    calls: 1010
                },
            ]
        );
        let no_errors = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.00    0.000060          60         1           write
 40.00    0.000040          40         2           read
------ ----------- ----------- --------- --------- ----------------
100.00    0.000100          33         3           total
";
        assert_eq!(parse_summary(no_errors).unwrap().1, 3);
        assert_eq!(parse_summary("strace: Process 1 attached\n"), None);
    }

    #[test]
    fn counts_the_threads_strace_attached() {
        assert_eq!(
            attached("strace: Process 8160 attached with 3 threads\n"),
            3
        );
        assert_eq!(
            attached("strace: Process 1 attached\nstrace: Process 2 attached\n"),
            2
        );
        assert_eq!(attached("strace: Process 1 detached\n"), 0);
    }
}
