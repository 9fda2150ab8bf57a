//! Lesson 06: the student's program runs as a sink server (`{mode}` =
//! `sink`) that counts every byte of a stream, and as a source client
//! (`source`) that must send a whole buffer.

use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use loadgen::bulk::{UnevenChunks, pattern, receive_all, send_in_chunks, sha256_hex};

use crate::catalog::Lesson;
use crate::run::{self, Ctx, Outcome, Recorder, SOURCE_BYTES};
use crate::sandbox::describe_status;

/// What the grader sends to the sink.
const SINK_BYTES: usize = 8 * 1024 * 1024;

pub(super) fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    sink(ctx, &mut rec);
    source(ctx, &mut rec);
    rec.finish()
}

fn sink(ctx: &Ctx, rec: &mut Recorder) {
    let rest = ["sink-listens", "sink-counts"];
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    let mut program = match ctx.start(port, Some("sink"), b"") {
        Ok(program) => program,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    rec.start();
    if let Err(err) = ctx.wait_listening(&mut program, port) {
        ctx.stop(&mut program);
        rec.fail("sink-listens", err, Some(&program));
        return rec.fail_rest(
            &rest,
            "the program never listened in sink mode",
            Some(&program),
        );
    }
    rec.pass("sink-listens");
    let result = (|| {
        let mut conn = ctx.connect(port)?;
        conn.set_write_timeout(Some(ctx.timeout(Duration::from_secs(20))))
            .map_err(|e| e.to_string())?;
        let data = pattern(SINK_BYTES);
        let chunks = match send_in_chunks(&mut conn, &data, UnevenChunks::new(1, 65_536, 0x5eed)) {
            Ok(chunks) => chunks,
            Err(err) => {
                let (reply, _) = run::read_to_end(&mut conn, Duration::from_millis(500));
                let replied = if reply.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", after replying {:?}",
                        truncate(&String::from_utf8_lossy(&reply), 40)
                    )
                };
                return Err(format!(
                    "the sink closed the connection before all {SINK_BYTES} bytes were sent ({err}){replied}: it must recv in a loop until recv returns 0"
                ));
            }
        };
        conn.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        let (reply, _) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(10)));
        let text = String::from_utf8_lossy(&reply);
        let count = text.trim();
        match count.parse::<u64>() {
            Ok(n) if n == SINK_BYTES as u64 => Ok(()),
            Ok(n) => Err(format!(
                "sent {SINK_BYTES} bytes in {chunks} uneven pieces, then closed the sending side; the sink replied {n}: it must recv in a loop until recv returns 0"
            )),
            Err(_) if reply.is_empty() => Err(format!(
                "sent {SINK_BYTES} bytes and closed the sending side; the sink replied nothing"
            )),
            Err(_) => Err(format!(
                "the sink replied {:?}, not a number of bytes",
                truncate(&text, 60)
            )),
        }
    })();
    ctx.stop(&mut program);
    rec.record("sink-counts", result, Some(&program));
}

fn source(ctx: &Ctx, rec: &mut Recorder) {
    let rest = ["source-sends-all", "source-exits-0"];
    rec.start();
    let (listener, mut program) = match ctx.start_client(Some("source"), b"") {
        Ok(started) => started,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    let received = (|| {
        let mut conn = run::accept(
            &listener,
            &mut program,
            ctx.timeout(Duration::from_secs(10)),
        )?;
        // Read nothing for a moment: the buffers fill, and a sender that
        // does not handle partial sends shows it.
        thread::sleep(Duration::from_millis(500));
        conn.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        receive_all(
            &mut conn,
            64 * 1024,
            SOURCE_BYTES as u64 + 1,
            ctx.timeout(Duration::from_secs(20)),
        )
        .map_err(|err| format!("receiving from the source failed: {err}"))
    })();
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    ctx.stop(&mut program);
    let expected = sha256_hex(&pattern(SOURCE_BYTES));
    let sent = match &received {
        Err(err) => Err(err.clone()),
        Ok(got) if !got.ended => Err(format!(
            "the source sent {} bytes and did not close the connection within the time limit",
            got.bytes
        )),
        Ok(got) if got.bytes != SOURCE_BYTES as u64 => Err(format!(
            "the source sent {} of the {SOURCE_BYTES} bytes: a single send() may take only part of the buffer",
            got.bytes
        )),
        Ok(got) if got.sha256 != expected => Err(format!(
            "the source sent {SOURCE_BYTES} bytes, but not the pattern (byte i must be i % 251): SHA-256 {} instead of {expected}",
            got.sha256
        )),
        Ok(_) => Ok(()),
    };
    rec.record("source-sends-all", sent, Some(&program));
    let exit = match exited {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(format!("the source ended with {}", describe_status(status))),
        None => Err("the source was still running 5 s after sending".to_owned()),
    };
    rec.record("source-exits-0", exit, Some(&program));
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}
