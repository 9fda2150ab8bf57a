//! Lesson 06: the student's program runs as a sink server (`{mode}` =
//! `sink`) that counts every byte of a stream, and as a source client
//! (`source`) that must send a whole buffer. Both amounts change from run
//! to run, so that only a program that reads to the end of the stream (or
//! sends what it is told) passes.

use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use loadgen::bulk::{UnevenChunks, pattern, receive_all, send_in_chunks, sha256_hex};

use crate::catalog::{Lesson, core};
use crate::i18n::Text;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;
use crate::tr;

use super::show_bytes;

/// Lesson 06's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-06",
    title: Text::new(
        "send and recv: a sink server and a source client",
        "send 和 recv：sink 服务端与 source 客户端",
    ),
    modes: &["sink", "source"],
    checks: &[
        core(
            "sink-listens",
            1,
            Text::new(
                "in sink mode, listens on the port it is given",
                "在 sink 模式下，在给定的端口上监听",
            ),
            Text::new(
                "bind and listen on the port the grader gives (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
                "在评分程序给出的端口上绑定并监听（见 lessons/lesson-06/README.zh-CN.md#练习sink-与-source）",
            ),
        ),
        core(
            "sink-counts",
            3,
            Text::new(
                "counts every byte of a stream of 3 to 9 MiB (a different size every run) sent in uneven pieces",
                "数清一个 3 到 9 MiB（每次运行大小都不同）、分成大小不一的小块发来的数据流的每一个字节",
            ),
            Text::new(
                "one recv returns only what has arrived: recv in a loop until it returns 0 (Java: read() returns -1; Node.js: the 'end' event), adding up the lengths, and never stop at a count you expect (see lessons/lesson-06/README.md#4-a-stream-of-bytes-not-messages)",
                "一次 recv 只返回已经到达的数据：循环调用 recv，直到它返回 0（Java：read() 返回 -1；Node.js：'end' 事件），把每次的长度加起来，决不要在你预计的数量处停下（见 lessons/lesson-06/README.zh-CN.md#4-字节流而不是消息）",
            ),
        ),
        core(
            "source-sends-all",
            3,
            Text::new(
                "in source mode, sends all {bytes} bytes of the pattern (8 to 12 MiB, a different count every run), intact (SHA-256)",
                "在 source 模式下，把按规律生成的全部 {bytes} 个字节（8 到 12 MiB，每次运行数量都不同）完好地发送出去（SHA-256）",
            ),
            Text::new(
                "send exactly the count given in {bytes} or BYTES, and all of it: send() may take only part of the data, so use sendall() (Python), write_all() (Rust), a loop over send() until every byte is sent (C) (see lessons/lesson-06/README.md#5-a-partial-send-and-why-write_all-exists)",
                "正好发送 {bytes} 或 BYTES 给出的数量，而且要全部发完：send() 可能只发出一部分数据，所以要用 sendall()（Python）、write_all()（Rust），或者在 C 里循环调用 send()，直到每个字节都发出去（见 lessons/lesson-06/README.zh-CN.md#5-只发出一部分的-send以及为什么要有-write_all）",
            ),
        ),
        core(
            "source-exits-0",
            1,
            Text::new(
                "in source mode, closes and exits with status 0",
                "在 source 模式下，关闭连接并以退出码 0 退出",
            ),
            Text::new(
                "close the socket after the last byte and let the program end (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
                "发完最后一个字节后关闭套接字，让程序结束（见 lessons/lesson-06/README.zh-CN.md#练习sink-与-source）",
            ),
        ),
    ],
    grade,
};

/// A size for this run between `min` and `min + span` bytes that is not a
/// multiple of 1024 (nor, therefore, 8 MiB): a program that stops at a
/// count it expects, or reads in fixed blocks until a known total, shows.
fn uneven_size(min: usize, span: usize) -> usize {
    let size = min + (run::random_u64() as usize) % span;
    if size.is_multiple_of(1024) {
        size + 1
    } else {
        size
    }
}

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    sink(ctx, &mut rec);
    source(ctx, &mut rec);
    rec.finish()
}

fn sink(ctx: &Ctx, rec: &mut Recorder) {
    let (mut program, port) = match ctx.start_server(Some("sink")) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("sink-listens", err, program.as_ref());
            return rec.fail_rest(
                &["sink-counts"],
                &tr!(
                    "the program never listened in sink mode",
                    "程序在 sink 模式下始终没有监听"
                ),
            );
        }
    };
    rec.pass("sink-listens");
    let size = uneven_size(3 << 20, 6 << 20);
    let result = (|| {
        let mut conn = ctx.connect(port)?;
        conn.set_write_timeout(Some(ctx.timeout(Duration::from_secs(20))))
            .map_err(|e| e.to_string())?;
        let data = pattern(size);
        // A sink that stops reading early and closes resets the connection:
        // seen as a failed send, or, when the last send was already queued,
        // as a failed shutdown (ENOTCONN): the same fault either way.
        let closed_early = |conn: &mut std::net::TcpStream, err: String| {
            let (reply, _) = run::read_to_end(conn, Duration::from_millis(500));
            let replied = if reply.is_empty() {
                String::new()
            } else {
                let reply = show_bytes(&reply);
                tr!(", after replying {reply}", "，它回复了 {reply}")
            };
            tr!(
                "the sink closed the connection before reading all {size} bytes ({err}){replied}: it must recv in a loop until recv returns 0",
                "sink 还没有读完全部 {size} 个字节就关闭了连接（{err}）{replied}：它必须循环调用 recv，直到 recv 返回 0"
            )
        };
        let chunks = match send_in_chunks(
            &mut conn,
            &data,
            UnevenChunks::new(1, 65_536, run::random_u64()),
        ) {
            Ok(chunks) => chunks,
            Err(err) => return Err(closed_early(&mut conn, err.to_string())),
        };
        if let Err(err) = conn.shutdown(Shutdown::Write) {
            return Err(closed_early(&mut conn, err.to_string()));
        }
        let (reply, ended) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(10)));
        let text = String::from_utf8_lossy(&reply);
        let count = text.trim();
        match count.parse::<u64>() {
            Ok(n) if n == size as u64 => Ok(()),
            Ok(n) => Err(tr!(
                "sent {size} bytes in {chunks} uneven pieces, then closed the sending side; the sink replied {n}: it must recv in a loop until recv returns 0, adding up every length",
                "评分程序分 {chunks} 块大小不一地发送了 {size} 个字节，然后关闭了发送方向；sink 回复的是 {n}：它必须循环调用 recv，直到 recv 返回 0，把每次的长度都加起来"
            )),
            Err(_) if reply.is_empty() && !ended => Err(tr!(
                "sent {size} bytes in {chunks} uneven pieces, then closed the sending side; the sink replied nothing within 10 s: it must stop when recv returns 0, not at a count it expects",
                "评分程序分 {chunks} 块大小不一地发送了 {size} 个字节，然后关闭了发送方向；sink 在 10 秒内什么也没有回复：它必须在 recv 返回 0 时停下，而不是在它预计的数量处停下"
            )),
            Err(_) if reply.is_empty() => Err(tr!(
                "sent {size} bytes and closed the sending side; the sink closed the connection without a reply",
                "评分程序发送了 {size} 个字节，然后关闭了发送方向；sink 没有回复就关闭了连接"
            )),
            Err(_) => {
                let reply = show_bytes(&reply);
                Err(tr!(
                    "the sink replied {reply}, not a number of bytes",
                    "sink 回复的是 {reply}，不是字节数"
                ))
            }
        }
    })();
    ctx.stop(&mut program);
    rec.record("sink-counts", result, Some(&program));
}

fn source(ctx: &Ctx, rec: &mut Recorder) {
    let rest = ["source-sends-all", "source-exits-0"];
    rec.start();
    // At least 8 MiB: more than the kernel's buffers take in one send()
    // (about 4 MiB here), so that a single send shows as partial.
    let bytes = uneven_size(8 << 20, 4 << 20);
    let vars = [("bytes", bytes.to_string())];
    let (listener, mut program) = match ctx.start_client_with(Some("source"), b"", &vars) {
        Ok(started) => started,
        Err(err) => return rec.fail_rest(&rest, &err),
    };
    let received = (|| {
        let mut conn = ctx.accept(&listener, &mut program)?;
        // Read nothing for a moment: the buffers fill, and a sender that
        // does not handle partial sends shows it.
        thread::sleep(Duration::from_millis(500));
        conn.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        receive_all(
            &mut conn,
            64 * 1024,
            bytes as u64 + 1,
            ctx.timeout(Duration::from_secs(20)),
        )
        .map_err(|err| {
            tr!(
                "receiving from the source failed: {err}",
                "从 source 接收数据失败：{err}"
            )
        })
    })();
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    ctx.stop(&mut program);
    let sent = match &received {
        Err(err) => Err(err.clone()),
        Ok(got) if !got.ended => {
            let sent = got.bytes;
            Err(tr!(
                "the source sent {sent} bytes and did not close the connection within the time limit",
                "source 发送了 {sent} 个字节，却没有在时限内关闭连接"
            ))
        }
        Ok(got) if got.bytes == 8 << 20 => Err(tr!(
            "the source sent 8388608 bytes, but this run asked for {bytes} ({{bytes}}, also in BYTES): send the count it is given",
            "source 发送了 8388608 个字节，但这一次要求的是 {bytes} 个（{{bytes}}，也在 BYTES 里）：要发送给定的数量"
        )),
        Ok(got) if got.bytes != bytes as u64 => {
            let sent = got.bytes;
            Err(tr!(
                "the source sent {sent} of the {bytes} bytes it was asked for: a single send() may take only part of the buffer",
                "要求发送 {bytes} 个字节，source 只发送了 {sent} 个：一次 send() 可能只发出缓冲区的一部分"
            ))
        }
        Ok(got) if got.sha256 != sha256_hex(&pattern(bytes)) => {
            let sha256 = &got.sha256;
            Err(tr!(
                "the source sent {bytes} bytes, but not the pattern (byte i must be i % 251): SHA-256 {sha256}",
                "source 发送了 {bytes} 个字节，但内容不是规定的规律数据（第 i 个字节必须是 i % 251）：SHA-256 {sha256}"
            ))
        }
        Ok(_) => Ok(()),
    };
    rec.record("source-sends-all", sent, Some(&program));
    let exit = match exited {
        Some(status) if status.success() => Ok(()),
        Some(status) => {
            let status = describe_status(status);
            Err(tr!(
                "the source ended with {status}",
                "source 结束了，{status}"
            ))
        }
        None => Err(tr!(
            "the source was still running 5 s after sending",
            "发送完之后过了 5 秒，source 仍在运行"
        )),
    };
    rec.record("source-exits-0", exit, Some(&program));
}
