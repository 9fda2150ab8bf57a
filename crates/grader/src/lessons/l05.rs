//! Lesson 05: the student's program is a threaded server; the grader plays
//! many clients at once. Every check after the first run starts the
//! program afresh, so that one failure cannot spoil the next check.

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use loadgen::pingpong::PingPong;

use crate::catalog::{Lesson, core, robust};
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::{Ending, Program, describe_status};

use super::l04::reset;
use super::{gbk, show_bytes};

/// Lesson 05's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-05",
    title: "the threaded server",
    modes: &[],
    checks: &[
        core(
            "listens",
            1,
            "listens on the port it is given",
            "bind and listen on the port the grader gives (see lessons/lesson-05/README.md#1-listen-as-before)",
        ),
        core(
            "prints-messages",
            1,
            "prints each message it receives, decoded",
            "print each message decoded from GBK, on stdout or stderr (see lessons/lesson-05/README.md#4-serve-one-client)",
        ),
        core(
            "concurrent",
            3,
            "32 clients stay connected and silent after talking; each new one is still answered",
            "serve every client on a thread of its own, as many as connect (an event loop such as select, epoll, asyncio or Node.js's net serves them all too); a fixed pool of N workers leaves client N+1 waiting while N clients sit silent. Python: threading.Thread per accept(), not a ThreadPoolExecutor; Java: new Thread(...).start(), not Executors.newFixedThreadPool; C: pthread_create per client (see lessons/lesson-05/README.md#3-a-thread-per-client)",
        ),
        core(
            "many-clients",
            3,
            "50 clients at once, 20 messages each: every reply is ok, 收到了 in GBK",
            "reply ok, 收到了 in GBK (exactly the bytes b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb') to every message, on the client's own thread (see lessons/lesson-05/README.md#4-serve-one-client)",
        ),
        core(
            "survives-close",
            1,
            "after a client closes, the next client is served",
            "when recv returns 0, close that client's socket and end only its thread; Java: read() returns -1 (see lessons/lesson-05/README.md#4-serve-one-client)",
        ),
        robust(
            "survives-reset",
            1,
            "after a client resets its connection, the next client is served",
            "catch the connection-reset error in the client's thread and end only that thread; Python: except ConnectionResetError; C: recv returns -1 (ECONNRESET); Java: catch IOException (see lessons/lesson-05/README.md#where-the-tutorials-server-breaks)",
        ),
        robust(
            "split-character",
            2,
            "你好 split inside a character across two sends is printed whole",
            "decode with one incremental decoder per connection, which keeps half a character for the next recv; Python: codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\"); Java: one CharsetDecoder per connection; Node.js: new TextDecoder(\"gbk\") with {stream: true}; Rust: encoding_rs's Decoder (see lessons/lesson-05/README.md#4-serve-one-client)",
        ),
        robust(
            "invalid-gbk",
            1,
            "invalid GBK does not end the conversation",
            "decode with errors replaced instead of letting the error end the thread; Python: errors=\"replace\" (see lessons/lesson-05/README.md#4-serve-one-client)",
        ),
    ],
    grade,
};

/// "ok, 收到了": the threaded server's reply to every message.
const THREADED_REPLY: &str = "ok, 收到了";
const FIRST_MESSAGE: &str = "我是客户端1";
const SECOND_MESSAGE: &str = "我是客户端2";
/// How many clients `concurrent` keeps connected and silent at once:
/// tens, so that a fixed pool of workers shows.
const SILENT_CLIENTS: usize = 32;

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    first_run(ctx, &mut rec);
    if !rec.passed("listens") {
        let rest = [
            "many-clients",
            "survives-close",
            "survives-reset",
            "split-character",
            "invalid-gbk",
        ];
        rec.fail_rest(&rest, "the program never listened");
        return rec.finish();
    }
    with_server(ctx, &mut rec, "many-clients", many_clients);
    with_server(ctx, &mut rec, "survives-close", |ctx, port, _| {
        next_after(ctx, port, false)
    });
    with_server(ctx, &mut rec, "survives-reset", |ctx, port, _| {
        next_after(ctx, port, true)
    });
    let prints = rec.passed("prints-messages");
    with_server(ctx, &mut rec, "split-character", |ctx, port, program| {
        split_character(ctx, port, program, prints)
    });
    with_server(ctx, &mut rec, "invalid-gbk", invalid_gbk);
    rec.finish()
}

/// Listens; a client talks and leaves; then clients connect one after
/// another, each talking once and then staying connected and silent;
/// finally the output must show the first message.
fn first_run(ctx: &Ctx, rec: &mut Recorder) {
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("listens", err, program.as_ref());
            return rec.fail_rest(
                &["prints-messages", "concurrent"],
                "the program never listened",
            );
        }
    };
    rec.pass("listens");
    let talked = converse(ctx, port, &gbk(FIRST_MESSAGE));
    rec.start();
    let concurrent = concurrent(ctx, port, &mut program);
    ctx.stop(&mut program);
    // Recorded in the order they ran, for their times; reported in the
    // catalog's order.
    rec.record("concurrent", concurrent, Some(&program));
    let printed = match talked {
        Err(err) => Err(format!("a client could not talk to the server: {err}")),
        Ok(()) if run::printed(&program, FIRST_MESSAGE) => Ok(()),
        Ok(()) => Err(format!(
            "neither stdout nor stderr holds the message {FIRST_MESSAGE} a client sent (in GBK)"
        )),
    };
    rec.record("prints-messages", printed, Some(&program));
}

/// Clients connect one after another; each sends a message, gets its
/// reply, and stays connected and silent. A server with a thread per
/// client (or an event loop) answers all of them; one that serves N at a
/// time (one thread, or a pool of N) leaves client N+1 without a reply.
fn concurrent(ctx: &Ctx, port: u16, program: &mut Program) -> Result<(), String> {
    let mut silent: Vec<TcpStream> = Vec::with_capacity(SILENT_CLIENTS);
    for n in 0..=SILENT_CLIENTS {
        let mut conn = ctx.connect(port).map_err(|err| {
            format!(
                "with {} clients connected and silent, client {}: {err}",
                silent.len(),
                n + 1
            )
        })?;
        run::send(&mut conn, &gbk(&format!("安静的客户端{}", n + 1)))?;
        let (reply, ended) = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(3)),
            Duration::from_millis(100),
            1 << 16,
        );
        if reply.is_empty() {
            let waiting = match silent.len() {
                1 => "the client before it stayed connected and silent".to_owned(),
                k => format!("the {k} clients before it stayed connected and silent"),
            };
            // A closed connection may mean a dying server, which on a busy
            // machine takes a moment to end.
            let exited = if ended {
                program.wait(Duration::from_secs(1))
            } else {
                program.exited()
            };
            let seen = if let Some(status) = exited {
                format!("the server ended ({})", describe_status(status))
            } else if ended {
                "the server closed its connection without a reply".to_owned()
            } else {
                "it got no reply within 3 s".to_owned()
            };
            return Err(match (silent.len(), exited, ended) {
                (k, None, false) if k > 0 => format!(
                    "client {} sent a message while {waiting}; {seen}: the server serves only {k} client{} at a time",
                    n + 1,
                    if k == 1 { "" } else { "s" }
                ),
                (0, _, _) => format!("the first client sent a message; {seen}"),
                _ => format!("client {} sent a message while {waiting}; {seen}", n + 1),
            });
        }
        if n < SILENT_CLIENTS {
            silent.push(conn);
        }
    }
    Ok(())
}

/// Sends one message, waits for a reply (any bytes), closes.
fn converse(ctx: &Ctx, port: u16, message: &[u8]) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    run::send(&mut conn, message)?;
    let (reply, _) = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(5)),
        Duration::from_millis(100),
        1 << 16,
    );
    if reply.is_empty() {
        return Err("no reply within 5 s".to_owned());
    }
    Ok(())
}

/// Starts the program, waits for it to listen, runs `check` against it and
/// records the result for check `id`.
fn with_server(
    ctx: &Ctx,
    rec: &mut Recorder,
    id: &str,
    check: impl FnOnce(&Ctx, u16, &mut Program) -> Result<(), String>,
) {
    rec.start();
    if ctx.out_of_time() {
        return;
    }
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => return rec.fail(id, err, program.as_ref()),
    };
    let result = check(ctx, port, &mut program);
    // A server that is dying may not have ended yet on a busy machine:
    // a moment's wait lets the reason say that it ended.
    let result =
        result.map_err(
            |err| match program.wait(Duration::from_secs(1)).zip(program.ending()) {
                Some((status, Ending::ByItself(_))) if !err.contains("the server ended") => {
                    format!(
                        "the program ended ({}) during the check: {err}",
                        describe_status(status)
                    )
                }
                _ => err,
            },
        );
    ctx.stop(&mut program);
    rec.record(id, result, Some(&program));
}

fn many_clients(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    const CLIENTS: usize = 50;
    const MESSAGES: usize = 20;
    let mut run = PingPong::new(SocketAddr::from(([127, 0, 0, 1], port)), CLIENTS, MESSAGES);
    // This check is about the replies, not about concurrency (`concurrent`
    // is): a client may wait for its turn, as it does at a server that
    // serves one client at a time on a busy machine, as long as the whole
    // run ends within the deadline.
    run.deadline = ctx.timeout(Duration::from_secs(30));
    run.io_timeout = run.deadline;
    let report = run.run(
        |c, m| gbk(&format!("客户端{c}消息{m}")),
        &gbk(THREADED_REPLY),
    );
    if report.all_ok() {
        return Ok(());
    }
    let first = &report.failures[0];
    let at = first
        .message
        .map_or("connecting".to_owned(), |m| format!("message {}", m + 1));
    Err(format!(
        "{} of {CLIENTS} clients failed; the first, client {}, at {at}: {}",
        CLIENTS - report.completed,
        first.client + 1,
        first.reason
    ))
}

/// A client talks, then closes (or resets); the next client must be served.
fn next_after(ctx: &Ctx, port: u16, with_reset: bool) -> Result<(), String> {
    let mut first = ctx.connect(port)?;
    run::send(&mut first, &gbk(FIRST_MESSAGE))?;
    let _ = run::read_message(
        &mut first,
        ctx.timeout(Duration::from_secs(3)),
        Duration::from_millis(100),
        1 << 16,
    );
    if with_reset {
        // Half a character, then a reset: the rudest way to leave. Wait for
        // the server to answer the half character first, so that the reset
        // finds it waiting in recv (not in send), where a server that does
        // not handle errors dies of it.
        run::send(&mut first, b"\xc4")?;
        let _ = run::read_message(
            &mut first,
            ctx.timeout(Duration::from_millis(500)),
            Duration::from_millis(100),
            1 << 16,
        );
        reset(first);
    } else {
        drop(first);
    }
    thread::sleep(Duration::from_millis(200));
    let how = if with_reset {
        "reset its connection"
    } else {
        "closed its connection"
    };
    let mut next = ctx
        .connect(port)
        .map_err(|err| format!("after a client {how}: {err}"))?;
    ask(ctx, &mut next, &gbk(SECOND_MESSAGE))
        .map_err(|err| format!("after a client {how}, the next client: {err}"))
}

/// Sends `message` and waits for a reply (any bytes: these checks are
/// about the conversation going on; `many-clients` checks the words).
fn ask(ctx: &Ctx, conn: &mut TcpStream, message: &[u8]) -> Result<(), String> {
    run::send(conn, message)?;
    let (reply, ended) = run::read_message(
        conn,
        ctx.timeout(Duration::from_secs(5)),
        Duration::from_millis(100),
        1 << 16,
    );
    if reply.is_empty() {
        return Err(if ended {
            "the connection was closed".to_owned()
        } else {
            "no reply within 5 s".to_owned()
        });
    }
    Ok(())
}

/// 你好 with 你 (c4 e3) split across two sends, 0.3 s apart: the server
/// must print 你好 whole, which only a decoder that keeps half a character
/// for the next `recv` does; and the conversation must go on. A server
/// that prints no messages at all has lost `prints-messages` for that:
/// here only the conversation is checked then.
fn split_character(
    ctx: &Ctx,
    port: u16,
    program: &mut Program,
    prints: bool,
) -> Result<(), String> {
    const WHAT: &str = "你好 arrived in two pieces, b'\\xc4' and 0.3 s later b'\\xe3\\xba\\xc3',";
    goes_on_after(ctx, port, &[b"\xc4", b"\xe3\xba\xc3"], WHAT)?;
    if !prints {
        return Ok(());
    }
    // Output is read once the program has ended (and flushed).
    ctx.stop(program);
    if run::printed(program, "你好") {
        Ok(())
    } else {
        Err(format!(
            "{WHAT} and the conversation went on, but neither stdout nor stderr holds 你好 whole"
        ))
    }
}

/// Bytes that are not GBK, then a normal message on the same connection.
fn invalid_gbk(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    goes_on_after(
        ctx,
        port,
        &[b"\xff\xfe"],
        "the bytes b'\\xff\\xfe', which are not GBK,",
    )
}

/// Sends `pieces` on one connection (0.3 s apart), expects at least one
/// reply, then checks that a normal message on the same connection is
/// still answered: the conversation went on.
fn goes_on_after(ctx: &Ctx, port: u16, pieces: &[&[u8]], what: &str) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(300));
        }
        run::send(&mut conn, piece)?;
    }
    // One reply per recv: there may be several; take them all.
    let (replies, ended) = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(3)),
        Duration::from_millis(300),
        1 << 16,
    );
    if replies.is_empty() {
        return Err(if ended {
            format!("after {what} the server closed the connection without a reply")
        } else {
            format!("after {what} the server sent no reply within 3 s")
        });
    }
    ask(ctx, &mut conn, &gbk("第二条消息")).map_err(|err| {
        format!(
            "after {what} and the reply {}, the next message on the same connection: {err}",
            show_bytes(&replies)
        )
    })
}
