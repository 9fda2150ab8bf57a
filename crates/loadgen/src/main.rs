//! `loadgen`: the course's client engine as a command, in three modes.
//!
//! - `pingpong`: `--clients C` connections at once, `--messages M` messages
//!   each, every reply waited for and compared byte for byte; reports
//!   msgs/s and the p50 and p99 round trip.
//! - `bulk`: one connection sending `--bytes N` in writes of `--chunk K` to
//!   a sink (lesson 06's exercise), which replies with the count (or the
//!   SHA-256); reports MB/s.
//! - `idle`: `--clients C` silent connections held for `--seconds S`;
//!   reports how many stayed open, the growth of the machine's kernel
//!   memory per connection (`KernelStack`, `Slab`) and, with `--pid`, the
//!   server's resident memory and threads.
//!
//! Results are printed as `name: value` lines, one per figure, so that a
//! person and a script can both read them. Only loopback addresses are
//! accepted: any other `--host` is a usage error.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};
use loadgen::bulk::ToSink;
use loadgen::cli::{self, whole};
use loadgen::idle::Idle;
use loadgen::pingpong::{Fault, PingPong};
use netcore::Error;
use netcore::cli::resolve;
use netcore::text::Encoding;
use proctools::process;

const NAME: &str = "loadgen";
const ABOUT: &str = "loadgen: drive a server on loopback with many clients (pingpong), one bulk transfer (bulk) or silent connections (idle), and report figures";
/// The tutorial client's message: "hello server, I am client Xiaohei!".
const MESSAGE: &str = "你好服务端，我是客户端小黑!";
/// The tutorial server's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
const MIB: u64 = 1024 * 1024;

/// The command line: a mode, and options checked while parsing (a count
/// out of its range is a usage error before anything is sent).
fn command() -> Command {
    // A value may start with '-' (a message, say), as with the parser
    // loadgen had before clap.
    let value = |name: &'static str, value_name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name(value_name)
            .allow_hyphen_values(true)
            .help(help)
    };
    let number = |name: &'static str, value_name, help, range: (u64, u64)| {
        value(name, value_name, help).value_parser(whole(range.0, range.1))
    };
    let command = Command::new(NAME)
        .about(ABOUT)
        .disable_help_flag(true)
        .disable_version_flag(true)
        // Given twice, the last value counts.
        .args_override_self(true)
        .arg(Arg::new("mode").value_name("MODE").help("pingpong, bulk or idle"))
        .arg(value("host", "HOST", "the server's address: loopback only").default_value("127.0.0.1"))
        .arg(
            value("port", "PORT", "the server's port")
                .value_parser(|v: &str| {
                    v.parse::<u16>()
                        .map_err(|_| "expected a port number from 0 to 65535".to_owned())
                })
                .default_value(netcore::cli::DEFAULT_PORT.to_string()),
        )
        .arg(number(
            "clients",
            "C",
            "pingpong, idle: connections at once [default: 10 for pingpong, 100 for idle]",
            (1, 100_000),
        ))
        .arg(
            number("messages", "M", "pingpong: messages per connection", (1, 10_000_000))
                .default_value("100"),
        )
        .arg(value("message", "TEXT", "pingpong: what each client sends").default_value(MESSAGE))
        .arg(
            value("reply", "TEXT", "pingpong: the reply every message must get")
                .default_value(REPLY),
        )
        .arg(
            value(
                "encoding",
                "gbk|utf-8",
                "pingpong: how the message and the reply are encoded",
            )
            .value_parser(|v: &str| v.parse::<Encoding>())
            .default_value(Encoding::Gbk.name()),
        )
        .arg(
            Arg::new("pace")
                .long("pace")
                .action(clap::ArgAction::SetTrue)
                .help("pingpong: connect one client at a time, pausing while 32 or more wait in the server's accept queue (a crowd connecting at once overflows listen(128))"),
        )
        .arg(
            number("bytes", "N", "bulk: bytes to send", (1, 64 * 1024 * MIB))
                .default_value((64 * MIB).to_string()),
        )
        .arg(
            number("chunk", "K", "bulk: bytes per write", (1, 64 * MIB))
                .default_value((128 * 1024).to_string()),
        )
        .arg(
            number("seconds", "S", "idle: how long to hold the connections", (0, 3600))
                .default_value("5"),
        )
        .arg(number(
            "pid",
            "PID",
            "pingpong, idle: the server's process id, to read its CPU time, memory and threads from /proc",
            (1, u64::from(u32::MAX)),
        ))
        .arg(
            number("timeout", "SECS", "the most the whole run may take", (1, 3600))
                .default_value("60"),
        )
        .arg(cli::help_flag());
    cli::fit_help(command)
}

/// Prints a usage error found after parsing (a value loadgen checks
/// itself) as one line, and exits with 2.
fn exit_usage(message: impl AsRef<str>) -> ! {
    eprintln!("{}", cli::usage(NAME, NAME, message.as_ref()));
    std::process::exit(cli::USAGE_EXIT_CODE.into())
}

fn main() -> ExitCode {
    // `loadgen ... | head -1` then ends quietly, as every program of the
    // course does, instead of panicking on the broken pipe.
    netcore::sys::exit_quietly_on_closed_stdout();
    // A tool for teachers and benchmarks, in English only: netcore's
    // helpers (errors, encodings) follow the process's language, which a
    // Chinese locale would otherwise choose.
    netcore::lang::set(netcore::lang::Lang::En);
    let matches = match cli::parse(command(), std::env::args_os().skip(1)) {
        Ok(matches) => matches,
        Err(stop) => return stop.exit(NAME),
    };
    // A connection is a descriptor: `idle --clients 10000` needs more than
    // the 1024 many systems start a program with. As far as the hard limit
    // allows; beyond, the run says which connection failed.
    if let Err(err) = netcore::sys::raise_open_file_limit() {
        eprintln!("{NAME}: warning: cannot raise the open-file limit: {err}");
    }
    let text = |name: &str| matches.get_one::<String>(name).map_or("", String::as_str);
    let host = text("host");
    let port = *matches.get_one::<u16>("port").expect("a default");
    if port == 0 {
        exit_usage("--port 0: give the port the server listens on");
    }
    let addr = match resolve(host, port) {
        Ok(addr) if addr.ip().is_loopback() => addr,
        Ok(addr) => exit_usage(format!(
            "--host {host} is {}, not a loopback address: loadgen only talks to 127.0.0.1 or ::1",
            addr.ip()
        )),
        Err(err) => exit_usage(err.to_string()),
    };
    let mode = text("mode");
    let only = |flags: &[&str], what: &str| {
        for flag in flags {
            if matches.value_source(flag) == Some(ValueSource::CommandLine) {
                exit_usage(format!("--{flag} does not apply to {what}"));
            }
        }
    };
    let result = match mode {
        "pingpong" => {
            only(&["bytes", "chunk", "seconds"], "pingpong");
            let encoding = *matches.get_one::<Encoding>("encoding").expect("a default");
            let encode = |flag: &str| match encoding.encode(text(flag)) {
                Ok(bytes) if !bytes.is_empty() => bytes,
                Ok(_) => exit_usage(format!("--{flag} is empty")),
                Err(err) => exit_usage(format!("--{flag}: {err}")),
            };
            let (message, reply) = (encode("message"), encode("reply"));
            pingpong(addr, &matches, &message, &reply)
        }
        "bulk" => {
            only(
                &[
                    "clients", "messages", "message", "reply", "encoding", "seconds", "pid", "pace",
                ],
                "bulk",
            );
            bulk(addr, &matches)
        }
        "idle" => {
            only(
                &[
                    "messages", "message", "reply", "encoding", "bytes", "chunk", "pace",
                ],
                "idle",
            );
            idle(addr, &matches)
        }
        "" => exit_usage("which mode? pingpong, bulk or idle"),
        other => exit_usage(format!(
            "unknown mode '{other}': expected pingpong, bulk or idle"
        )),
    };
    netcore::report(NAME, result)
}

/// A count's value: its default, or `None` for one without a default that
/// was not given.
fn count(matches: &ArgMatches, name: &str) -> Option<u64> {
    matches.get_one::<u64>(name).copied()
}

fn pid(matches: &ArgMatches) -> Option<u32> {
    count(matches, "pid").map(|p| p as u32)
}

fn pingpong(
    addr: SocketAddr,
    matches: &ArgMatches,
    message: &[u8],
    reply: &[u8],
) -> Result<(), Error> {
    let clients = count(matches, "clients").unwrap_or(10) as usize;
    let messages = count(matches, "messages").unwrap_or(100) as usize;
    let mut run = PingPong::new(addr, clients, messages);
    run.deadline = Duration::from_secs(count(matches, "timeout").unwrap_or(60));
    run.pace_connects = matches.get_flag("pace");
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
        // None: the client failed before its first message (connecting).
        let at = match first.message {
            Some(message) => format!("at message {message}"),
            None => "before its first message".to_owned(),
        };
        // The wait for one reply is not --timeout (the whole run's): say it.
        let reason = match first.fault {
            Fault::NoReply => format!(
                "no reply within {} s (the wait for each reply)",
                run.io_timeout.as_secs()
            ),
            _ => first.reason.clone(),
        };
        Err(Error::msg(format!(
            "{} of {clients} clients failed; client {} {at}: {reason}",
            report.clients - report.completed,
            first.client,
        )))
    }
}

fn bulk(addr: SocketAddr, matches: &ArgMatches) -> Result<(), Error> {
    let bytes = count(matches, "bytes").unwrap_or(64 * MIB);
    let chunk = count(matches, "chunk").unwrap_or(128 * 1024) as usize;
    let mut run = ToSink::new(addr, bytes, chunk);
    run.deadline = Duration::from_secs(count(matches, "timeout").unwrap_or(60));
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

fn idle(addr: SocketAddr, matches: &ArgMatches) -> Result<(), Error> {
    let clients = count(matches, "clients").unwrap_or(100) as usize;
    let seconds = count(matches, "seconds").unwrap_or(5);
    let mut run = Idle::new(addr, clients, Duration::from_secs(seconds));
    run.open_deadline = Duration::from_secs(count(matches, "timeout").unwrap_or(60));
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
    if let Some((stack, slab)) = report.kernel_memory_per_connection() {
        // Machine-wide: both ends of each connection, and whatever else runs.
        println!("kernel_stack_per_conn_kib: {:.2}", stack / 1024.0);
        println!("slab_per_conn_kib: {:.2}", slab / 1024.0);
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
