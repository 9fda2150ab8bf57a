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
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::show_bytes;

/// Lesson 06's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-06",
    title: "send and recv: a sink server and a source client",
    modes: &["sink", "source"],
    checks: &[
        core(
            "sink-listens",
            1,
            "in sink mode, listens on the port it is given",
            "bind and listen on the port the grader gives (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
        ),
        core(
            "sink-counts",
            3,
            "counts every byte of a stream of 3 to 9 MiB (a different size every run) sent in uneven pieces",
            "one recv returns only what has arrived: recv in a loop until it returns 0 (Java: read() returns -1; Node.js: the 'end' event), adding up the lengths, and never stop at a count you expect (see lessons/lesson-06/README.md#4-a-stream-of-bytes-not-messages)",
        ),
        core(
            "source-sends-all",
            3,
            "in source mode, sends all {bytes} bytes of the pattern (8 to 12 MiB, a different count every run), intact (SHA-256)",
            "send exactly the count given in {bytes} or BYTES, and all of it: send() may take only part of the data, so use sendall() (Python), write_all() (Rust), a loop over send() until every byte is sent (C) (see lessons/lesson-06/README.md#5-a-partial-send-and-why-write_all-exists)",
        ),
        core(
            "source-exits-0",
            1,
            "in source mode, closes and exits with status 0",
            "close the socket after the last byte and let the program end (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
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
            return rec.fail_rest(&["sink-counts"], "the program never listened in sink mode");
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
                format!(", after replying {}", show_bytes(&reply))
            };
            format!(
                "the sink closed the connection before reading all {size} bytes ({err}){replied}: it must recv in a loop until recv returns 0"
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
            Ok(n) => Err(format!(
                "sent {size} bytes in {chunks} uneven pieces, then closed the sending side; the sink replied {n}: it must recv in a loop until recv returns 0, adding up every length"
            )),
            Err(_) if reply.is_empty() && !ended => Err(format!(
                "sent {size} bytes in {chunks} uneven pieces, then closed the sending side; the sink replied nothing within 10 s: it must stop when recv returns 0, not at a count it expects"
            )),
            Err(_) if reply.is_empty() => Err(format!(
                "sent {size} bytes and closed the sending side; the sink closed the connection without a reply"
            )),
            Err(_) => Err(format!(
                "the sink replied {}, not a number of bytes",
                show_bytes(&reply)
            )),
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
        .map_err(|err| format!("receiving from the source failed: {err}"))
    })();
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    ctx.stop(&mut program);
    let sent = match &received {
        Err(err) => Err(err.clone()),
        Ok(got) if !got.ended => Err(format!(
            "the source sent {} bytes and did not close the connection within the time limit",
            got.bytes
        )),
        Ok(got) if got.bytes == 8 << 20 => Err(format!(
            "the source sent 8388608 bytes, but this run asked for {bytes} ({{bytes}}, also in BYTES): send the count it is given"
        )),
        Ok(got) if got.bytes != bytes as u64 => Err(format!(
            "the source sent {} of the {bytes} bytes it was asked for: a single send() may take only part of the buffer",
            got.bytes
        )),
        Ok(got) if got.sha256 != sha256_hex(&pattern(bytes)) => Err(format!(
            "the source sent {bytes} bytes, but not the pattern (byte i must be i % 251): SHA-256 {}",
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
