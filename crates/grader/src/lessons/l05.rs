//! Lesson 05: the student's program is a threaded server; the grader plays
//! many clients at once. Every check starts the program afresh, so that one
//! failure cannot spoil the next check.

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use loadgen::pingpong::PingPong;

use crate::catalog::Lesson;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::{Program, describe_status};

use super::l04::reset;
use super::{THREADED_REPLY, gbk};

const FIRST_MESSAGE: &str = "我是客户端1";
const SECOND_MESSAGE: &str = "我是客户端2";

pub(super) fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
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
        rec.fail_rest(&rest, "the program never listened", None);
        return rec.finish();
    }
    with_server(ctx, &mut rec, "many-clients", many_clients);
    with_server(ctx, &mut rec, "survives-close", |ctx, port, _| {
        next_after(ctx, port, false)
    });
    with_server(ctx, &mut rec, "survives-reset", |ctx, port, _| {
        next_after(ctx, port, true)
    });
    with_server(ctx, &mut rec, "split-character", split_character);
    with_server(ctx, &mut rec, "invalid-gbk", invalid_gbk);
    rec.finish()
}

/// Listens; a client talks and leaves; then one client stays silent while
/// another talks; finally the output must show the messages.
fn first_run(ctx: &Ctx, rec: &mut Recorder) {
    let rest = ["listens", "prints-messages", "concurrent"];
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    rec.start();
    if let Err(err) = ctx.wait_listening(&mut program, port) {
        ctx.stop(&mut program);
        rec.fail("listens", err, Some(&program));
        return rec.fail_rest(&rest, "the program never listened", Some(&program));
    }
    rec.pass("listens");
    let talked = converse(ctx, port, &gbk(FIRST_MESSAGE));
    let concurrent = (|| {
        let silent = ctx.connect(port)?;
        let mut second = ctx.connect(port)?;
        run::send(&mut second, &gbk(SECOND_MESSAGE))?;
        let (reply, _) = run::read_message(
            &mut second,
            ctx.timeout(Duration::from_secs(3)),
            Duration::from_millis(100),
            1 << 16,
        );
        drop(silent);
        if reply.is_empty() {
            return Err(
                "while one client stayed connected and silent, a second client got no reply within 3 s: the server handles one client at a time"
                    .to_owned(),
            );
        }
        Ok(())
    })();
    ctx.stop(&mut program);
    let printed = match talked {
        Err(err) => Err(format!("a client could not talk to the server: {err}")),
        Ok(()) if run::printed(&program, FIRST_MESSAGE) => Ok(()),
        Ok(()) => Err(format!(
            "the output does not contain the message {FIRST_MESSAGE} a client sent (in GBK)"
        )),
    };
    rec.start();
    rec.record("prints-messages", printed, Some(&program));
    rec.record("concurrent", concurrent, Some(&program));
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
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail(id, err, None),
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail(id, err, None),
    };
    let result = ctx
        .wait_listening(&mut program, port)
        .and_then(|()| check(ctx, port, &mut program));
    let result = result.map_err(|err| match program.exited() {
        Some(status) => format!(
            "the program ended ({}) during the check: {err}",
            describe_status(status)
        ),
        None => err,
    });
    ctx.stop(&mut program);
    rec.record(id, result, Some(&program));
}

fn many_clients(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    const CLIENTS: usize = 50;
    const MESSAGES: usize = 20;
    let mut run = PingPong::new(SocketAddr::from(([127, 0, 0, 1], port)), CLIENTS, MESSAGES);
    run.io_timeout = ctx.timeout(Duration::from_secs(5));
    run.deadline = ctx.timeout(Duration::from_secs(30));
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

/// 你 (c4 e3) split across two writes, then a normal message on the same
/// connection.
fn split_character(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    goes_on_after(
        ctx,
        port,
        &[b"\xc4", b"\xe3\xba\xc3"],
        "你好 arrived in two pieces split inside 你",
        "decoding half a character failed",
    )
}

/// Bytes that are not GBK, then a normal message on the same connection.
fn invalid_gbk(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    goes_on_after(
        ctx,
        port,
        &[b"\xff\xfe"],
        "the bytes b'\\xff\\xfe', which are not GBK,",
        "decoding them failed",
    )
}

/// Sends `pieces` on one connection (0.3 s apart), expects at least one
/// reply, then checks that a normal message on the same connection is
/// still answered: the conversation went on.
fn goes_on_after(
    ctx: &Ctx,
    port: u16,
    pieces: &[&[u8]],
    what: &str,
    why_closed: &str,
) -> Result<(), String> {
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
            format!("after {what} the server closed the connection: {why_closed}")
        } else {
            format!("after {what} the server sent no reply")
        });
    }
    ask(ctx, &mut conn, &gbk("第二条消息"))
        .map_err(|err| format!("after {what} the next message on the same connection: {err}"))
}
