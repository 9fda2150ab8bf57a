//! Lesson 03: the student's program is a single server; the grader is its
//! one client.

use std::time::Duration;

use crate::catalog::Lesson;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::{CLIENT_MESSAGE, gbk, valid_gbk};

const CONVERSATION: &[&str] = &[
    "listens",
    "prints-message",
    "replies-gbk",
    "closes-client",
    "exits-0",
];

pub(super) fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    match ctx.port() {
        Ok(port) => {
            conversation(ctx, &mut rec, port);
            restart(ctx, &mut rec, port);
        }
        Err(err) => rec.fail_rest(
            &[
                "listens",
                "prints-message",
                "replies-gbk",
                "closes-client",
                "exits-0",
                "restarts",
            ],
            &err,
            None,
        ),
    }
    invalid_gbk(ctx, &mut rec);
    rec.finish()
}

/// The tutorial's conversation.
fn conversation(ctx: &Ctx, rec: &mut Recorder, port: u16) {
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail_rest(CONVERSATION, &err, None),
    };
    rec.start();
    if let Err(err) = ctx.wait_listening(&mut program, port) {
        ctx.stop(&mut program);
        rec.fail("listens", err, Some(&program));
        return rec.fail_rest(CONVERSATION, "the program never listened", Some(&program));
    }
    rec.pass("listens");
    let mut closed = false;
    let reply = ctx.connect(port).and_then(|mut conn| {
        run::send(&mut conn, &gbk(CLIENT_MESSAGE))?;
        let (reply, ended) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        closed = ended;
        Ok(reply)
    });
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    let ending = ctx.stop(&mut program);
    let printed = if run::printed(&program, CLIENT_MESSAGE) {
        Ok(())
    } else {
        Err(format!(
            "the output does not contain the message {CLIENT_MESSAGE} the grader sent (in GBK)"
        ))
    };
    rec.record("prints-message", printed, Some(&program));
    let replied = match &reply {
        Ok(bytes) => valid_gbk(bytes)
            .map(|_| ())
            .map_err(|what| format!("the program replied {what}")),
        Err(err) => Err(err.clone()),
    };
    rec.record("replies-gbk", replied, Some(&program));
    rec.record(
        "closes-client",
        if closed {
            Ok(())
        } else {
            Err("the connection was still open 5 s after the message".to_owned())
        },
        Some(&program),
    );
    let exit = run::exit_zero(exited, ending, "its client");
    rec.record("exits-0", exit, Some(&program));
}

/// Started again at once on the same port, it must bind. The first run
/// ended with the server closing the connection first (by itself, or when
/// the grader stopped it), so its side of that connection is in TIME_WAIT.
fn restart(ctx: &Ctx, rec: &mut Recorder, port: u16) {
    rec.start();
    if !rec.passed("listens") {
        return rec.fail(
            "restarts",
            "not checked: the program never listened the first time",
            None,
        );
    }
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("restarts", err, None),
    };
    let result = ctx.wait_listening(&mut program, port).map_err(|err| {
        format!("started again on port {port} right after the first run: {err}; without SO_REUSEADDR, bind fails while the old connection is in TIME_WAIT")
    });
    ctx.stop(&mut program);
    rec.record("restarts", result, Some(&program));
}

/// A client sends bytes that are not GBK: reply anyway, exit normally.
fn invalid_gbk(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail("invalid-gbk", err, None),
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("invalid-gbk", err, None),
    };
    let result = (|| {
        ctx.wait_listening(&mut program, port)?;
        let mut conn = ctx.connect(port)?;
        run::send(&mut conn, b"\xff\xfe\xfd\xfc")?;
        let (reply, _) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
        ctx.stop(&mut program);
        let output = [program.stdout(), program.stderr()].concat();
        if let Some(what) = run::crashed(&output) {
            return Err(format!(
                "the message b'\\xff\\xfe\\xfd\\xfc' made the program crash with {what}"
            ));
        }
        if reply.is_empty() {
            return Err(
                "after the message b'\\xff\\xfe\\xfd\\xfc' the program sent no reply".to_owned(),
            );
        }
        match exited {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!(
                "after the invalid message the program ended with {}",
                describe_status(status)
            )),
            None => {
                Err("after the invalid message the program was still running after 5 s".to_owned())
            }
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-gbk", result, Some(&program));
}
