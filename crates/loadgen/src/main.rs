//! `loadgen`: the course's client engine as a command, in three modes.
//!
//! - `pingpong`: `--clients C` connections at once, `--messages M` messages
//!   each, every reply waited for and compared byte for byte; reports
//!   msgs/s and the p50 and p99 round trip.
//! - `bulk`: one connection sending `--bytes N` in writes of `--chunk K` to
//!   a sink (lesson 06's exercise), which replies with the count (or the
//!   SHA-256); reports MB/s.
//! - `idle`: `--clients C` silent connections held for `--seconds S`;
//!   reports how many stayed open and, with `--pid`, the server's resident
//!   memory and threads.
//!
//! Results are printed as `name: value` lines, one per figure, so that a
//! person and a script can both read them. Only loopback addresses are
//! accepted: any other `--host` is a usage error.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use loadgen::bulk::ToSink;
use loadgen::idle::Idle;
use loadgen::pingpong::PingPong;
use netcore::Error;
use netcore::cli::{Command, Matches, resolve};
use proctools::process;

const NAME: &str = "loadgen";
const ABOUT: &str = "drive a server on loopback with many clients (pingpong), one bulk transfer (bulk) or silent connections (idle), and report figures";
/// The tutorial client's message: "hello server, I am client Xiaohei!".
const MESSAGE: &str = "你好服务端，我是客户端小黑!";
/// The tutorial server's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
const MIB: u64 = 1024 * 1024;

fn main() -> ExitCode {
    let command = Command::new(NAME, ABOUT)
        .positional("MODE", "pingpong, bulk or idle")
        .host("127.0.0.1", "the server's address: loopback only")
        .port(netcore::cli::DEFAULT_PORT, "the server's port")
        .count_in(
            "clients",
            "C",
            "pingpong, idle: connections at once [default: 10 for pingpong, 100 for idle]",
            None,
            1..=100_000,
        )
        .count_in(
            "messages",
            "M",
            "pingpong: messages per connection",
            Some(100),
            1..=10_000_000,
        )
        .text("message", "TEXT", "pingpong: what each client sends", MESSAGE)
        .text(
            "reply",
            "TEXT",
            "pingpong: the reply every message must get",
            REPLY,
        )
        .encoding("pingpong: how the message and the reply are encoded")
        .count_in(
            "bytes",
            "N",
            "bulk: bytes to send",
            Some(64 * MIB),
            1..=64 * 1024 * MIB,
        )
        .count_in(
            "chunk",
            "K",
            "bulk: bytes per write",
            Some(128 * 1024),
            1..=64 * MIB,
        )
        .count_in(
            "seconds",
            "S",
            "idle: how long to hold the connections",
            Some(5),
            0..=3600,
        )
        .count_in(
            "pid",
            "PID",
            "pingpong, idle: the server's process id, to read its CPU time, memory and threads from /proc",
            None,
            1..=u64::from(u32::MAX),
        )
        .count_in(
            "timeout",
            "SECS",
            "the most the whole run may take",
            Some(60),
            1..=3600,
        );
    let matches = command.parse_or_exit();
    let host = matches.text("host");
    let port = matches.port("port");
    if port == 0 {
        command.exit_usage("--port 0: give the port the server listens on");
    }
    let addr = match resolve(host, port) {
        Ok(addr) if addr.ip().is_loopback() => addr,
        Ok(addr) => command.exit_usage(format!(
            "--host {host} is {}, not a loopback address: loadgen only talks to 127.0.0.1 or ::1",
            addr.ip()
        )),
        Err(err) => command.exit_usage(err.to_string()),
    };
    let mode = matches.positional().unwrap_or("");
    let only = |flags: &[&str], what: &str| {
        for flag in flags {
            if matches.given(flag) {
                command.exit_usage(format!("--{flag} does not apply to {what}"));
            }
        }
    };
    let result = match mode {
        "pingpong" => {
            only(&["bytes", "chunk", "seconds"], "pingpong");
            let encoding = matches.encoding("encoding");
            let encode = |flag: &str| {
                let text = matches.text(flag);
                match encoding.encode(text) {
                    Ok(bytes) if !bytes.is_empty() => bytes,
                    Ok(_) => command.exit_usage(format!("--{flag} is empty")),
                    Err(err) => command.exit_usage(format!("--{flag}: {err}")),
                }
            };
            let (message, reply) = (encode("message"), encode("reply"));
            pingpong(addr, &matches, &message, &reply)
        }
        "bulk" => {
            only(
                &[
                    "clients", "messages", "message", "reply", "encoding", "seconds", "pid",
                ],
                "bulk",
            );
            bulk(addr, &matches)
        }
        "idle" => {
            only(
                &["messages", "message", "reply", "encoding", "bytes", "chunk"],
                "idle",
            );
            idle(addr, &matches)
        }
        "" => command.exit_usage("which mode? pingpong, bulk or idle"),
        other => command.exit_usage(format!(
            "unknown mode '{other}': expected pingpong, bulk or idle"
        )),
    };
    netcore::report(NAME, result)
}

fn pid(matches: &Matches) -> Option<u32> {
    matches.count("pid").map(|p| p as u32)
}

fn pingpong(
    addr: SocketAddr,
    matches: &Matches,
    message: &[u8],
    reply: &[u8],
) -> Result<(), Error> {
    let clients = matches.count("clients").unwrap_or(10) as usize;
    let messages = matches.count("messages").unwrap_or(100) as usize;
    let mut run = PingPong::new(addr, clients, messages);
    run.deadline = Duration::from_secs(matches.count("timeout").unwrap_or(60));
    println!("pingpong: {clients} clients x {messages} messages to {addr}");
    let before = pid(matches).map(process::sample).transpose();
    let report = run.run(|_, _| message.to_vec(), reply);
    let after = pid(matches).map(process::sample).transpose();
    let latency = report.latency();
    println!("clients_completed: {}", report.completed);
    println!("replies_verified: {}", report.round_trips.len());
    println!("elapsed_s: {:.6}", report.elapsed.as_secs_f64());
    println!("msgs_per_s: {:.0}", report.messages_per_second());
    println!("p50_us: {:.1}", latency.p50.as_secs_f64() * 1e6);
    println!("p99_us: {:.1}", latency.p99.as_secs_f64() * 1e6);
    match (before, after) {
        (Ok(Some(before)), Ok(Some(after))) if !report.round_trips.is_empty() => {
            let per = |d: Duration| d.as_secs_f64() * 1e6 / report.round_trips.len() as f64;
            println!(
                "server_cpu_us_per_msg: {:.2}",
                per(after.cpu().saturating_sub(before.cpu()))
            );
            println!(
                "server_user_us_per_msg: {:.2}",
                per(after.user.saturating_sub(before.user))
            );
            println!(
                "server_system_us_per_msg: {:.2}",
                per(after.system.saturating_sub(before.system))
            );
        }
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("{NAME}: warning: cannot measure the server's CPU time: {err}")
        }
        _ => {}
    }
    if report.all_ok() {
        Ok(())
    } else {
        let first = &report.failures[0];
        Err(Error::msg(format!(
            "{} of {clients} clients failed; client {} at message {:?}: {}",
            report.clients - report.completed,
            first.client,
            first.message,
            first.reason
        )))
    }
}

fn bulk(addr: SocketAddr, matches: &Matches) -> Result<(), Error> {
    let bytes = matches.count("bytes").unwrap_or(64 * MIB);
    let chunk = matches.count("chunk").unwrap_or(128 * 1024) as usize;
    let mut run = ToSink::new(addr, bytes, chunk);
    run.deadline = Duration::from_secs(matches.count("timeout").unwrap_or(60));
    println!("bulk: {bytes} bytes in writes of {chunk} to {addr}");
    let report = run
        .run()
        .map_err(|err| Error::io(format_args!("the transfer to {addr} failed"), &err))?;
    println!("bytes_sent: {}", report.bytes);
    println!("writes: {}", report.writes);
    println!("elapsed_s: {:.6}", report.elapsed.as_secs_f64());
    println!("mb_per_s: {:.1}", report.megabytes_per_second());
    println!(
        "sink_reply: {}",
        String::from_utf8_lossy(&report.reply).trim()
    );
    report
        .verified
        .map(|()| println!("verified: yes"))
        .map_err(Error::msg)
}

fn idle(addr: SocketAddr, matches: &Matches) -> Result<(), Error> {
    let clients = matches.count("clients").unwrap_or(100) as usize;
    let seconds = matches.count("seconds").unwrap_or(5);
    let mut run = Idle::new(addr, clients, Duration::from_secs(seconds));
    run.open_deadline = Duration::from_secs(matches.count("timeout").unwrap_or(60));
    run.server_pid = pid(matches);
    println!("idle: {clients} silent connections to {addr}, held {seconds} s");
    let report = run.run();
    println!("opened: {}", report.opened);
    println!("still_open: {}", report.still_open);
    println!("open_time_s: {:.3}", report.open_time.as_secs_f64());
    if let (Some(before), Some(during)) = (report.before, report.during) {
        println!("server_rss_before_kib: {}", before.rss_bytes / 1024);
        println!("server_rss_kib: {}", during.rss_bytes / 1024);
        println!("server_threads: {}", during.threads);
    }
    if let Some(per) = report.memory_per_connection() {
        println!("server_rss_per_conn_kib: {:.2}", per / 1024.0);
    }
    if report.all_ok() {
        Ok(())
    } else {
        let why = report.failures.first().cloned().unwrap_or_else(|| {
            format!(
                "the server closed {} of the connections",
                report.opened - report.still_open
            )
        });
        Err(Error::msg(format!(
            "{} of {clients} connections stayed open: {why}",
            report.still_open
        )))
    }
}
