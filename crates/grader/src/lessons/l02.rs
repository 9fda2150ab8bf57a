//! Lesson 02: the student's program is a client; the grader is the server.

use crate::catalog::{Lesson, core, robust};
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::{gbk, valid_gbk};

/// Lesson 02's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-02",
    title: "the TCP client",
    modes: &[],
    checks: &[
        core(
            "connects",
            1,
            "connects to the server at the port it is given",
            "create a TCP socket and connect to (host, port), the port the grader gives on the command line (see lessons/lesson-02/README.md#2-connect)",
        ),
        core(
            "sends-gbk",
            2,
            "sends a non-empty message that is valid GBK",
            "encode the text as GBK before sending it; Python: .encode(\"gbk\"); Java: getBytes(\"GBK\"); Node.js and C: write the GBK bytes, or convert with iconv; Rust: encoding_rs::GBK (see lessons/lesson-02/README.md#3-the-conversation)",
        ),
        core(
            "prints-reply",
            2,
            "prints the reply it received (我是服务器 and a number that changes every run), decoded",
            "recv the reply and print exactly what arrived, decoded from GBK; Python: recv_data.decode(\"gbk\"); Java: new String(bytes, 0, n, \"GBK\"); Node.js: new TextDecoder(\"gbk\").decode(data) (see lessons/lesson-02/README.md#6-decode-the-reply)",
        ),
        core(
            "closes",
            1,
            "closes the connection after the reply",
            "close the socket when the conversation is over; Python, C, Rust: close() or drop; Java: socket.close(); Node.js: socket.end() (see lessons/lesson-02/README.md#7-close)",
        ),
        core(
            "exits-0",
            1,
            "exits with status 0",
            "let the program end normally after close(), with nothing left running (see lessons/lesson-02/README.md#7-close)",
        ),
        robust(
            "refused",
            1,
            "with no server, exits non-zero with a message, not a crash",
            "catch the connection-refused error and print one line; Python: except ConnectionRefusedError; Java: catch ConnectException; C: check connect()'s result and perror; Node.js: an 'error' handler (see lessons/lesson-02/README.md#2-connect)",
        ),
        robust(
            "invalid-reply",
            1,
            "survives a reply that is not valid GBK",
            "decode with errors replaced, or catch the decoding error; Python: .decode(\"gbk\", errors=\"replace\"); Java's new String(...) replaces by itself (see lessons/lesson-02/README.md#6-decode-the-reply)",
        ),
    ],
    grade,
};

const CONVERSATION: &[&str] = &["connects", "sends-gbk", "prints-reply", "closes", "exits-0"];

/// What the grader, the server, replies: the tutorial's `我是服务器` and a
/// number that changes from run to run, so that only a client that
/// received it can print it.
fn server_reply() -> String {
    format!("我是服务器，编号{}", 1000 + run::random_u64() % 9000)
}

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    let exit = conversation(ctx, &mut rec);
    refused(ctx, &mut rec);
    invalid_reply(ctx, &mut rec, exit);
    rec.finish()
}

/// The tutorial's conversation: the client connects and sends; the
/// grader replies and closes its side, as the tutorial's server does; the
/// client reads the reply and closes. Returns how the program ended, when
/// it ended by itself.
fn conversation(ctx: &Ctx, rec: &mut Recorder) -> Option<std::process::ExitStatus> {
    let (listener, mut program) = match ctx.start_client(None, b"") {
        Ok(started) => started,
        Err(err) => {
            rec.fail_rest(CONVERSATION, &err);
            return None;
        }
    };
    rec.start();
    let mut conn = match ctx.accept(&listener, &mut program) {
        Ok(conn) => {
            rec.pass("connects");
            conn
        }
        Err(err) => {
            ctx.stop(&mut program);
            rec.fail("connects", err, Some(&program));
            rec.fail_rest(CONVERSATION, "the program never connected");
            return None;
        }
    };
    let (message, ended) = run::read_message(
        &mut conn,
        ctx.timeout(std::time::Duration::from_secs(5)),
        std::time::Duration::from_millis(300),
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

    let reply = server_reply();
    let _ = run::send(&mut conn, &gbk(&reply));
    run::finish_sending(&conn);
    let (_, closed) = run::read_to_end(&mut conn, ctx.timeout(std::time::Duration::from_secs(5)));
    drop(conn);
    // Recorded in the order they are seen, so that each check's time is
    // its own wait; the report lists them in the catalog's order.
    rec.record(
        "closes",
        if closed {
            Ok(())
        } else {
            Err(
                "the connection was still open 5 s after the reply, although the grader had closed its side"
                    .to_owned(),
            )
        },
        Some(&program),
    );
    let exited = program.wait(ctx.timeout(std::time::Duration::from_secs(5)));
    let ending = ctx.stop(&mut program);
    let exit = run::exit_zero(exited, ending, "the reply");
    rec.record("exits-0", exit, Some(&program));
    let printed = if run::printed(&program, &reply) {
        Ok(())
    } else if run::printed(&program, "我是服务器") {
        Err(format!(
            "the output holds 我是服务器 but not the reply the grader sent this time, {reply} (in GBK): print the reply that recv returned, not a text of your own"
        ))
    } else {
        Err(format!(
            "neither stdout nor stderr holds the reply the grader sent, {reply} (in GBK)"
        ))
    };
    rec.record("prints-reply", printed, Some(&program));
    exited
}

/// Nothing listens: a clear message and a non-zero status, no crash.
fn refused(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    if !rec.passed("connects") {
        // A program that never connects cannot show that it handles a
        // refused connection (an untouched starter exits 1 with a message).
        return rec.fail_rest(&["refused"], "the program never connected to a server");
    }
    let port = match run::free_port() {
        Ok(port) => port,
        Err(err) => return rec.fail("refused", err, None),
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("refused", err, None),
    };
    // Its whole life is this wait, start-up included, which takes a while
    // on a busy machine: a program that hangs is the only one that waits
    // it all.
    let exited = program.wait(ctx.timeout(std::time::Duration::from_secs(10)));
    ctx.stop(&mut program);
    let output = [program.stdout(), program.stderr()].concat();
    let result = match exited {
        None => Err("with nothing listening, the program was still running after 10 s".to_owned()),
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

/// The reply is not GBK: the program must survive it. Only what the
/// invalid reply changed counts: a program that also ends the same way
/// after a valid reply has lost `exits-0` for that already.
fn invalid_reply(ctx: &Ctx, rec: &mut Recorder, normal_exit: Option<std::process::ExitStatus>) {
    rec.start();
    let (listener, mut program) = match ctx.start_client(None, b"") {
        Ok(started) => started,
        Err(err) => return rec.fail("invalid-reply", err, None),
    };
    const WHAT: &str = "the reply b'\\xff\\xfe\\xfd ok' (not GBK)";
    let result = (|| {
        let mut conn = ctx.accept(&listener, &mut program)?;
        let _ = run::read_message(
            &mut conn,
            ctx.timeout(std::time::Duration::from_secs(5)),
            std::time::Duration::from_millis(300),
            1 << 20,
        );
        run::send(&mut conn, b"\xff\xfe\xfd ok")?;
        run::finish_sending(&conn);
        let _ = run::read_to_end(&mut conn, ctx.timeout(std::time::Duration::from_secs(5)));
        drop(conn);
        let exited = program.wait(ctx.timeout(std::time::Duration::from_secs(5)));
        ctx.stop(&mut program);
        let output = [program.stdout(), program.stderr()].concat();
        match (exited, run::crashed(&output)) {
            (_, Some(what)) => Err(format!("{WHAT} made the program crash with {what}")),
            (Some(status), None) if status.success() => Ok(()),
            (Some(status), None) if Some(status) == normal_exit => Ok(()),
            (Some(status), None) => Err(format!(
                "after {WHAT} the program ended with {}, unlike after a valid reply",
                describe_status(status)
            )),
            (None, None) if normal_exit.is_none() => Ok(()),
            (None, None) => Err(format!(
                "after {WHAT} the program was still running 5 s later, unlike after a valid reply"
            )),
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-reply", result, Some(&program));
}
