//! Lesson 02: the student's program is a client; the grader is the server.

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;
use crate::tr;

use super::{gbk, valid_gbk};

/// Lesson 02's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-02",
    title: Text::new("the TCP client", "TCP 客户端"),
    modes: &[],
    checks: &[
        core(
            "connects",
            1,
            Text::new(
                "connects to the server at the port it is given",
                "连接到评分程序给出的端口上的服务端",
            ),
            Text::new(
                "create a TCP socket and connect to (host, port), the port the grader gives on the command line (see lessons/lesson-02/README.md#2-connect)",
                "创建一个 TCP 套接字，连接到 (host, port)，端口用评分程序在命令行上给出的那个（见 lessons/lesson-02/README.zh-CN.md#2-connect）",
            ),
        ),
        core(
            "sends-gbk",
            2,
            Text::new(
                "sends a non-empty message that is valid GBK",
                "发送一条非空的、有效的 GBK 消息",
            ),
            Text::new(
                "encode the text as GBK before sending it; Python: .encode(\"gbk\"); Java: getBytes(\"GBK\"); Node.js and C: write the GBK bytes, or convert with iconv; Rust: encoding_rs::GBK (see lessons/lesson-02/README.md#3-the-conversation)",
                "发送之前先把文本编码成 GBK；Python：.encode(\"gbk\")；Java：getBytes(\"GBK\")；Node.js 和 C：直接写出 GBK 字节，或者用 iconv 转换；Rust：encoding_rs::GBK（见 lessons/lesson-02/README.zh-CN.md#3-对话）",
            ),
        ),
        core(
            "prints-reply",
            2,
            Text::new(
                "prints the reply it received (我是服务器 and a number that changes every run), decoded",
                "把收到的回复解码后打印出来（我是服务器，加上每次运行都不同的编号）",
            ),
            Text::new(
                "recv the reply and print exactly what arrived, decoded from GBK; Python: recv_data.decode(\"gbk\"); Java: new String(bytes, 0, n, \"GBK\"); Node.js: new TextDecoder(\"gbk\").decode(data) (see lessons/lesson-02/README.md#6-decode-the-reply)",
                "用 recv 接收回复，把实际收到的内容按 GBK 解码后原样打印；Python：recv_data.decode(\"gbk\")；Java：new String(bytes, 0, n, \"GBK\")；Node.js：new TextDecoder(\"gbk\").decode(data)（见 lessons/lesson-02/README.zh-CN.md#6-解码回复）",
            ),
        ),
        core(
            "closes",
            1,
            Text::new(
                "closes the connection after the reply",
                "收到回复后关闭连接",
            ),
            Text::new(
                "close the socket when the conversation is over; Python, C, Rust: close() or drop; Java: socket.close(); Node.js: socket.end() (see lessons/lesson-02/README.md#7-close)",
                "对话结束后关闭套接字；Python、C、Rust：close() 或 drop；Java：socket.close()；Node.js：socket.end()（见 lessons/lesson-02/README.zh-CN.md#7-close）",
            ),
        ),
        core(
            "exits-0",
            1,
            Text::new("exits with status 0", "以退出码 0 退出"),
            Text::new(
                "let the program end normally after close(), with nothing left running (see lessons/lesson-02/README.md#7-close)",
                "close() 之后让程序正常结束，不要留下仍在运行的东西（见 lessons/lesson-02/README.zh-CN.md#7-close）",
            ),
        ),
        robust(
            "refused",
            1,
            Text::new(
                "with no server, exits non-zero with a message, not a crash",
                "没有服务端时，给出提示并以非零退出码退出，而不是崩溃",
            ),
            Text::new(
                "catch the connection-refused error and print one line; Python: except ConnectionRefusedError; Java: catch ConnectException; C: check connect()'s result and perror; Node.js: an 'error' handler (see lessons/lesson-02/README.md#2-connect)",
                "捕获连接被拒绝的错误，打印一行提示；Python：except ConnectionRefusedError；Java：catch ConnectException；C：检查 connect() 的返回值并调用 perror；Node.js：注册 'error' 事件的处理函数（见 lessons/lesson-02/README.zh-CN.md#2-connect）",
            ),
        ),
        robust(
            "invalid-reply",
            1,
            Text::new(
                "survives a reply that is not valid GBK",
                "收到不是有效 GBK 的回复时不会崩溃",
            ),
            Text::new(
                "decode with errors replaced, or catch the decoding error; Python: .decode(\"gbk\", errors=\"replace\"); Java's new String(...) replaces by itself (see lessons/lesson-02/README.md#6-decode-the-reply)",
                "解码时替换无效的字节，或者捕获解码错误；Python：.decode(\"gbk\", errors=\"replace\")；Java 的 new String(...) 会自动替换（见 lessons/lesson-02/README.zh-CN.md#6-解码回复）",
            ),
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
            rec.fail_rest(
                CONVERSATION,
                &tr!("the program never connected", "程序始终没有连接上来"),
            );
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
        Err(_) if message.is_empty() && ended => Err(tr!(
            "the program closed the connection without sending anything",
            "程序什么也没有发送就关闭了连接"
        )),
        Err(_) if message.is_empty() => Err(tr!(
            "the program sent nothing within the time limit",
            "程序在时限内什么也没有发送"
        )),
        Err(what) => Err(tr!("the program sent {what}", "程序发送了 {what}")),
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
            Err(tr!(
                "the connection was still open 5 s after the reply, although the grader had closed its side",
                "回复之后过了 5 秒，连接仍然开着，尽管评分程序已经关闭了自己这一端"
            ))
        },
        Some(&program),
    );
    let exited = program.wait(ctx.timeout(std::time::Duration::from_secs(5)));
    let ending = ctx.stop(&mut program);
    let exit = run::exit_zero(exited, ending, &tr!("the reply", "回复"));
    rec.record("exits-0", exit, Some(&program));
    let printed = if run::printed(&program, &reply) {
        Ok(())
    } else if run::printed(&program, "我是服务器") {
        Err(tr!(
            "the output holds 我是服务器 but not the reply the grader sent this time, {reply} (in GBK): print the reply that recv returned, not a text of your own",
            "输出里有 我是服务器，却没有评分程序这一次发送的回复 {reply}（GBK 编码）：请打印 recv 返回的回复，而不是自己写的文字"
        ))
    } else {
        Err(tr!(
            "neither stdout nor stderr holds the reply the grader sent, {reply} (in GBK)",
            "stdout 和 stderr 里都没有评分程序发送的回复 {reply}（GBK 编码）"
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
        return rec.fail_rest(
            &["refused"],
            &tr!(
                "the program never connected to a server",
                "程序始终没有连接上服务端"
            ),
        );
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
        None => Err(tr!(
            "with nothing listening, the program was still running after 10 s",
            "没有任何程序在监听时，过了 10 秒程序仍在运行"
        )),
        Some(status) if status.success() => Err(tr!(
            "with nothing listening, the program exited with status 0, as if all went well",
            "没有任何程序在监听时，程序却以退出码 0 退出，好像一切顺利"
        )),
        Some(_) => match run::crashed(&output) {
            Some(what) => Err(tr!(
                "with nothing listening, the program crashed with {what}",
                "没有任何程序在监听时，程序崩溃了，出现了 {what}"
            )),
            None if output.iter().all(u8::is_ascii_whitespace) => Err(tr!(
                "with nothing listening, the program exited without a word",
                "没有任何程序在监听时，程序一声不响地退出了"
            )),
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
    let what = tr!(
        "the reply b'\\xff\\xfe\\xfd ok' (not GBK)",
        "回复 b'\\xff\\xfe\\xfd ok'（不是 GBK）"
    );
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
            (_, Some(crash)) => Err(tr!(
                "{what} made the program crash with {crash}",
                "{what}让程序崩溃了，出现了 {crash}"
            )),
            (Some(status), None) if status.success() => Ok(()),
            (Some(status), None) if Some(status) == normal_exit => Ok(()),
            (Some(status), None) => {
                let status = describe_status(status);
                Err(tr!(
                    "after {what} the program ended with {status}, unlike after a valid reply",
                    "收到{what}之后，程序结束了，{status}；收到有效的回复之后并不会这样"
                ))
            }
            (None, None) if normal_exit.is_none() => Ok(()),
            (None, None) => Err(tr!(
                "after {what} the program was still running 5 s later, unlike after a valid reply",
                "收到{what}之后过了 5 秒，程序仍在运行；收到有效的回复之后并不会这样"
            )),
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-reply", result, Some(&program));
}
