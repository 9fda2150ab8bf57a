//! Lesson 02: the student's program is a client; the grader is the server.

use std::time::Duration;

use crate::catalog::Lesson;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::{SERVER_REPLY, gbk, valid_gbk};

const CONVERSATION: &[&str] = &["connects", "sends-gbk", "prints-reply", "closes", "exits-0"];

pub(super) fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    conversation(ctx, &mut rec);
    refused(ctx, &mut rec);
    invalid_reply(ctx, &mut rec);
    rec.finish()
}

/// The tutorial's conversation: connect, send, receive the reply, close.
fn conversation(ctx: &Ctx, rec: &mut Recorder) {
    let (listener, mut program) = match ctx.start_client(None, b"") {
        Ok(started) => started,
        Err(err) => return rec.fail_rest(CONVERSATION, &err, None),
    };
    rec.start();
    let mut conn = match run::accept(
        &listener,
        &mut program,
        ctx.timeout(Duration::from_secs(10)),
    ) {
        Ok(conn) => {
            rec.pass("connects");
            conn
        }
        Err(err) => {
            ctx.stop(&mut program);
            rec.fail("connects", err, Some(&program));
            return rec.fail_rest(CONVERSATION, "the program never connected", Some(&program));
        }
    };
    let (message, ended) = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(5)),
        Duration::from_millis(300),
        1 << 20,
    );
    let sent = match valid_gbk(&message) {
        Ok(_) => Ok(()),
        Err(_) if message.is_empty() && ended => {
            Err("the program closed the connection without sending anything".to_owned())
        }
        Err(what) if message.is_empty() => {
            Err(format!("the program sent {what} within the time limit"))
        }
        Err(what) => Err(format!("the program sent {what}")),
    };
    rec.record("sends-gbk", sent, Some(&program));

    let _ = run::send(&mut conn, &gbk(SERVER_REPLY));
    let (_, closed) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    let ending = ctx.stop(&mut program);
    rec.record(
        "prints-reply",
        if run::printed(&program, SERVER_REPLY) {
            Ok(())
        } else {
            Err(format!(
                "the output does not contain the reply {SERVER_REPLY} (sent as GBK)"
            ))
        },
        Some(&program),
    );
    rec.record(
        "closes",
        if closed {
            Ok(())
        } else {
            Err("the connection was still open 5 s after the reply".to_owned())
        },
        Some(&program),
    );
    let exit = run::exit_zero(exited, ending, "the reply");
    rec.record("exits-0", exit, Some(&program));
}

/// Nothing listens: a clear message and a non-zero status, no crash.
fn refused(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    let port = match run::free_port() {
        Ok(port) => port,
        Err(err) => return rec.fail("refused", err, None),
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("refused", err, None),
    };
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    ctx.stop(&mut program);
    let output = [program.stdout(), program.stderr()].concat();
    let result = match exited {
        None => Err("with nothing listening, the program was still running after 5 s".to_owned()),
        Some(status) if status.success() => Err(
            "with nothing listening, the program exited with status 0, as if all went well"
                .to_owned(),
        ),
        Some(_) => match run::crashed(&output) {
            Some(what) => Err(format!(
                "with nothing listening, the program crashed with {what}"
            )),
            None if output.iter().all(u8::is_ascii_whitespace) => {
                Err("with nothing listening, the program exited without a word".to_owned())
            }
            None => Ok(()),
        },
    };
    rec.record("refused", result, Some(&program));
}

/// The reply is not GBK: the program must survive it.
fn invalid_reply(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    let (listener, mut program) = match ctx.start_client(None, b"") {
        Ok(started) => started,
        Err(err) => return rec.fail("invalid-reply", err, None),
    };
    let result = (|| {
        let mut conn = run::accept(
            &listener,
            &mut program,
            ctx.timeout(Duration::from_secs(10)),
        )?;
        let _ = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(5)),
            Duration::from_millis(300),
            1 << 20,
        );
        run::send(&mut conn, b"\xff\xfe\xfd ok")?;
        let _ = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
        ctx.stop(&mut program);
        let output = [program.stdout(), program.stderr()].concat();
        match (exited, run::crashed(&output)) {
            (_, Some(what)) => Err(format!(
                "the reply b'\\xff\\xfe\\xfd ok' made the program crash with {what}"
            )),
            (Some(status), None) if status.success() => Ok(()),
            (Some(status), None) => Err(format!(
                "after the reply b'\\xff\\xfe\\xfd ok' the program ended with {}",
                describe_status(status)
            )),
            (None, None) => Err(
                "after the reply b'\\xff\\xfe\\xfd ok' the program was still running after 5 s"
                    .to_owned(),
            ),
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-reply", result, Some(&program));
}
