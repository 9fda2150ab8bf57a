//! The hardened server's output: a hundred client threads print, and none
//! of them ever waits for whatever stdout is.
//!
//! `println!` writes under a lock, one `write` per line, and blocks when
//! the reader is slow: behind a pager or a stalled log shipper the pipe
//! fills (64 KiB), every client thread then waits in `println!`, the
//! accept loop too, and so does a Ctrl+C handler that prints a summary.
//! Here:
//!
//! - A thread formats its line and queues it; a writer thread per output
//!   file writes the queue: at once on a terminal, otherwise within
//!   [`FLUSH_INTERVAL`], many lines per `write`.
//! - The queue is bounded ([`QUEUE_LIMIT`]). A line that does not fit is
//!   dropped and counted, never waited for: where lines went missing, the
//!   output says how many, and so do the summary and stderr.
//! - A stdout that fails (`> /dev/full`, a closed pipe) is reported on
//!   stderr, and the exit status is 1.
//! - When stdout and stderr are one file (`> log 2>&1`), one queue holds
//!   both, so a warning stays between the lines it was printed between.
//! - Warnings are rate-limited ([`WARNINGS_PER_WINDOW`]), with a count of
//!   those held back; `--quiet` turns off the lines about single clients
//!   and messages, their warnings included.
//! - [`finish`] prints the summary and waits for it at most
//!   [`FINISH_PATIENCE`]: shutdown never hangs on a reader that is gone.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use netcore::lang::tr;

/// The longest a line waits in the queue when stdout is not a terminal.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// What the queue of one output file may hold; a line beyond it is
/// dropped. The writer may hold as much again, being written.
pub(crate) const QUEUE_LIMIT: usize = 1024 * 1024;
/// How many queued bytes are written at once, without waiting.
const WRITE_AT_ONCE: usize = 64 * 1024;
/// The most bytes one `write` is given: PIPE_BUF on Linux, the size up to
/// which a write to a pipe is atomic.
const WRITE_PIECE: usize = 4096;
/// How long [`finish`] waits for the summary (and a last error) to be
/// written.
pub(crate) const FINISH_PATIENCE: Duration = Duration::from_secs(2);
/// Warnings shown per [`WARNING_WINDOW`]; the rest are counted.
pub(crate) const WARNINGS_PER_WINDOW: u32 = 5;
/// The window of the warnings' rate limit.
pub(crate) const WARNING_WINDOW: Duration = Duration::from_secs(5);

/// Calls `$print` with the English or the Chinese line (`--lang`), each a
/// format string with the same arguments: the four macros below take both.
macro_rules! in_lang {
    ($print:path, $en:literal, $zh:literal $(, $($arg:tt)*)?) => {
        match ::netcore::lang::current() {
            ::netcore::lang::Lang::En => $print(::std::format_args!($en $(, $($arg)*)?)),
            ::netcore::lang::Lang::Zh => $print(::std::format_args!($zh $(, $($arg)*)?)),
        }
    };
}

/// Prints a line that is always shown (`listening on ...`, start-up notes):
/// `outln!("english {x}", "中文 {x}")`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::in_lang!($crate::output::line, $($arg)*)
    };
}

/// Prints a line about one client or one message, unless `--quiet`.
macro_rules! logln {
    ($($arg:tt)*) => {
        if !$crate::output::is_quiet() {
            $crate::output::in_lang!($crate::output::line, $($arg)*)
        }
    };
}

/// Prints `NAME: warning: ...` on stderr, rate-limited: for what concerns
/// the whole server (accept failing, no thread for a client).
macro_rules! warnln {
    ($($arg:tt)*) => {
        $crate::output::in_lang!($crate::output::warning, $($arg)*)
    };
}

/// A warning about one client or one message: rate-limited, and off with
/// `--quiet`.
macro_rules! client_warnln {
    ($($arg:tt)*) => {
        if !$crate::output::is_quiet() {
            $crate::output::in_lang!($crate::output::warning, $($arg)*)
        }
    };
}

pub(crate) use {client_warnln, in_lang, logln, outln, warnln};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// One output file, its queue and its writer thread. When stdout and
/// stderr are the same file, both streams share one sink.
struct Sink {
    queue: Mutex<Queue>,
    /// Wakes the writer: lines arrived, or `finish` is waiting.
    wake: Condvar,
    /// Wakes `finish`: the writer has written everything.
    drained: Condvar,
    terminal: bool,
    /// Lines the writer has taken from the queue and not written yet.
    in_hand: AtomicU64,
    /// The streams this sink writes: both when stdout and stderr are one
    /// file.
    streams: Vec<Stream>,
}

#[derive(Default)]
struct Queue {
    /// Lines not written yet, in order; consecutive lines of one stream
    /// are joined into one chunk.
    chunks: Vec<(Stream, Vec<u8>)>,
    bytes: usize,
    /// How many lines `chunks` holds.
    lines: u64,
    /// The writer has taken chunks and is writing them.
    writing: bool,
    /// `finish` wants everything written now, without the interval.
    hurry: bool,
    /// Lines dropped since the last line that fitted: the gap is marked in
    /// the output where it happened.
    gap: u64,
}

struct Output {
    name: &'static str,
    out: Arc<Sink>,
    err: Arc<Sink>,
    files: [Option<File>; 2],
    quiet: AtomicBool,
    /// After `finish`: later lines would follow the summary; they are
    /// left out.
    finished: AtomicBool,
    /// Lines that could not be written, in all.
    dropped: AtomicU64,
    /// Why a stream could not be written, once it failed.
    broken: [Mutex<Option<String>>; 2],
    /// Whether `broken` holds a reason, read without a lock on every line.
    is_broken: [AtomicBool; 2],
    warnings: Mutex<RateLimit>,
}

struct RateLimit {
    window: Instant,
    shown: u32,
    /// Held back in the current window.
    held: u64,
    /// Held back in all.
    held_total: u64,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets up the output and starts its writer threads, before any client
/// thread exists; `name` prefixes warnings. Calling it again does nothing.
pub(crate) fn init(name: &'static str, quiet: bool) {
    OUTPUT.get_or_init(|| {
        let files = [duplicate(&io::stdout()), duplicate(&io::stderr())];
        let same = match &files {
            [Some(out), Some(err)] => same_file(out, err),
            _ => false,
        };
        let sink = |terminal: bool, streams: Vec<Stream>| {
            Arc::new(Sink {
                queue: Mutex::new(Queue::default()),
                wake: Condvar::new(),
                drained: Condvar::new(),
                terminal,
                in_hand: AtomicU64::new(0),
                streams,
            })
        };
        let (out, err) = if same {
            let both = sink(io::stdout().is_terminal(), vec![Stream::Out, Stream::Err]);
            (Arc::clone(&both), both)
        } else {
            (
                sink(io::stdout().is_terminal(), vec![Stream::Out]),
                sink(io::stderr().is_terminal(), vec![Stream::Err]),
            )
        };
        let broken = |file: &Option<File>| {
            Mutex::new(
                file.is_none()
                    .then(|| tr("it is not open", "它没有打开").to_owned()),
            )
        };
        Output {
            name,
            out,
            err,
            broken: [broken(&files[0]), broken(&files[1])],
            is_broken: [
                AtomicBool::new(files[0].is_none()),
                AtomicBool::new(files[1].is_none()),
            ],
            files,
            quiet: AtomicBool::new(quiet),
            finished: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            warnings: Mutex::new(RateLimit {
                window: Instant::now(),
                shown: 0,
                held: 0,
                held_total: 0,
            }),
        }
    });
    let output = get();
    start_writer(&output.out);
    if !Arc::ptr_eq(&output.out, &output.err) {
        start_writer(&output.err);
    }
}

fn get() -> &'static Output {
    OUTPUT
        .get()
        .expect("output::init is called first thing in main")
}

/// Whether `--quiet` turned the lines about single clients off.
pub(crate) fn is_quiet() -> bool {
    OUTPUT
        .get()
        .is_some_and(|output| output.quiet.load(Ordering::Relaxed))
}

/// Queues one line for stdout (a newline is added). Use `outln!` or
/// `logln!`.
pub(crate) fn line(args: fmt::Arguments<'_>) {
    push(Stream::Out, args);
}

/// Queues `NAME: warning: ...` for stderr, unless too many warnings came
/// lately. Use `warnln!` or `client_warnln!`.
pub(crate) fn warning(args: fmt::Arguments<'_>) {
    let output = get();
    let held = {
        let mut limit = lock(&output.warnings);
        let now = Instant::now();
        if now.duration_since(limit.window) >= WARNING_WINDOW {
            limit.window = now;
            limit.shown = 0;
        }
        if limit.shown == WARNINGS_PER_WINDOW {
            limit.held += 1;
            limit.held_total += 1;
            return;
        }
        limit.shown += 1;
        std::mem::take(&mut limit.held)
    };
    if held > 0 {
        push(
            Stream::Err,
            format_args!(
                "{}: {}",
                output.name,
                netcore::tr!(
                    "warning: {held} more warning(s) held back (at most {WARNINGS_PER_WINDOW} per {window} s)",
                    "警告: 另有 {held} 条警告未显示（每 {window} 秒最多 {WARNINGS_PER_WINDOW} 条）",
                    window = WARNING_WINDOW.as_secs()
                )
            ),
        );
    }
    let warning = tr("warning:", "警告:");
    push(
        Stream::Err,
        format_args!("{}: {warning} {args}", output.name),
    );
}

fn push(stream: Stream, args: fmt::Arguments<'_>) {
    let output = get();
    if output.finished.load(Ordering::Relaxed) {
        return;
    }
    // Format before taking any lock.
    let mut text = String::with_capacity(96);
    let _ = text.write_fmt(args);
    text.push('\n');
    enqueue(stream, text.into_bytes(), false);
}

/// Queues `line` (newline included); `force` queues it even over the
/// limit (the summary, a last error).
fn enqueue(stream: Stream, line: Vec<u8>, force: bool) {
    let output = get();
    if output.is_broken[stream as usize].load(Ordering::Relaxed) {
        output.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let sink = output.sink(stream);
    let mut queue = lock(&sink.queue);
    // The marker goes where the next line that fits goes: in the same
    // file, whichever stream that line is on. (Not before a forced line,
    // the summary or a last error: they come when the output is stalled,
    // and the count of lost lines says it all.)
    let gap = if force {
        0
    } else {
        std::mem::take(&mut queue.gap)
    };
    let marker = (gap > 0).then(|| {
        netcore::tr!(
            "output: {gap} line(s) dropped here (stdout was not read fast enough)\n",
            "输出: 此处丢弃了 {gap} 行（stdout 读得不够快）\n"
        )
        .into_bytes()
    });
    let need = line.len() + marker.as_ref().map_or(0, Vec::len);
    if !force && queue.bytes + need > QUEUE_LIMIT {
        queue.gap = gap + 1;
        drop(queue);
        output.dropped.fetch_add(1, Ordering::Relaxed);
        // Said once per stall, where stderr is a file of its own (in the
        // same file, the warning would wait behind the stalled lines).
        if gap == 0 && stream == Stream::Out && !Arc::ptr_eq(&output.out, &output.err) {
            warning(format_args!(
                "{}",
                tr(
                    "stdout is not read fast enough: lines of output are being dropped, and counted",
                    "stdout 读得不够快：输出的行正在被丢弃，并被计数"
                )
            ));
        }
        return;
    }
    let was_empty = queue.chunks.is_empty();
    let was_below = queue.bytes < WRITE_AT_ONCE;
    for bytes in marker.into_iter().chain([line]) {
        queue.bytes += bytes.len();
        queue.lines += 1;
        match queue.chunks.last_mut() {
            Some((last, chunk)) if *last == stream => chunk.extend_from_slice(&bytes),
            _ => queue.chunks.push((stream, bytes)),
        }
    }
    // Woken once per reason, not per line: a notify is a system call.
    let wake = was_empty || sink.terminal || (was_below && queue.bytes >= WRITE_AT_ONCE);
    drop(queue);
    if wake {
        sink.wake.notify_one();
    }
}

impl Output {
    /// Records why `stream` cannot be written; its lines are dropped from
    /// now on.
    fn mark_broken(&self, stream: Stream, why: String) {
        *lock(&self.broken[stream as usize]) = Some(why);
        self.is_broken[stream as usize].store(true, Ordering::SeqCst);
    }

    fn sink(&self, stream: Stream) -> &Sink {
        match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        }
    }
}

fn start_writer(sink: &Arc<Sink>) {
    let streams = sink.streams.clone();
    let sink = Arc::clone(sink);
    let started = thread::Builder::new()
        .name("output writer".into())
        .stack_size(64 * 1024)
        .spawn(move || write_forever(&sink));
    if let Err(err) = started {
        // Without a writer nothing reaches the file; say so where it can
        // still be seen, and let the lines be counted as dropped.
        let output = get();
        for stream in streams {
            output.mark_broken(
                stream,
                netcore::tr!("no thread to write it: {err}", "没有线程可以写它: {err}"),
            );
        }
        eprintln!(
            "{}: error: cannot start the output writer: {err}",
            output.name
        );
    }
}

/// The writer thread: takes what is queued, writes it, and again.
fn write_forever(sink: &Sink) {
    loop {
        let chunks = {
            let mut queue = lock(&sink.queue);
            while queue.chunks.is_empty() {
                queue = sink.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            if !sink.terminal {
                // Let more lines join the first, for one write.
                queue = sink
                    .wake
                    .wait_timeout_while(queue, FLUSH_INTERVAL, |q| {
                        q.bytes < WRITE_AT_ONCE && !q.hurry
                    })
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            queue.writing = true;
            queue.bytes = 0;
            sink.in_hand
                .store(std::mem::take(&mut queue.lines), Ordering::SeqCst);
            std::mem::take(&mut queue.chunks)
        };
        for (stream, bytes) in chunks {
            write_chunk(sink, stream, &bytes);
        }
        let mut queue = lock(&sink.queue);
        queue.writing = false;
        if queue.chunks.is_empty() {
            sink.drained.notify_all();
        }
    }
}

/// Writes one chunk; on an error the stream is marked broken, the lines
/// not written are counted as dropped, and stderr is told (once).
fn write_chunk(sink: &Sink, stream: Stream, bytes: &[u8]) {
    let output = get();
    let file = output.files[stream as usize].as_ref();
    if output.is_broken[stream as usize].load(Ordering::Relaxed) || file.is_none() {
        lost(sink, bytes);
        return;
    }
    let Some(mut file) = file else { return };
    let mut written = 0;
    while written < bytes.len() {
        // At most PIPE_BUF bytes at a time: a pipe takes such a write whole
        // or blocks without taking any of it, so the lines counted as
        // unwritten when a stalled stdout holds up the exit are exactly the
        // ones that were not written. (One write of 64 KiB can fill the pipe
        // and stay blocked, the part it wrote uncounted.)
        let piece = &bytes[written..bytes.len().min(written + WRITE_PIECE)];
        match file.write(piece) {
            Ok(0) => {
                let err = io::Error::from(io::ErrorKind::WriteZero);
                return fail(sink, stream, &err, &bytes[written..]);
            }
            Ok(n) => {
                let lines = lines_in(&bytes[written..written + n]);
                sink.in_hand.fetch_sub(lines, Ordering::SeqCst);
                written += n;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return fail(sink, stream, &err, &bytes[written..]),
        }
    }
}

/// Lines the writer had in hand that will never be written: counted as
/// dropped.
fn lost(sink: &Sink, bytes: &[u8]) {
    let lines = lines_in(bytes);
    get().dropped.fetch_add(lines, Ordering::SeqCst);
    sink.in_hand.fetch_sub(lines, Ordering::SeqCst);
}

fn fail(sink: &Sink, stream: Stream, err: &io::Error, unwritten: &[u8]) {
    let output = get();
    lost(sink, unwritten);
    let what = netcore::error::describe(err);
    output.mark_broken(stream, what.clone());
    if stream == Stream::Out {
        enqueue(
            Stream::Err,
            format!(
                "{}: {}\n",
                output.name,
                netcore::tr!(
                    "error: cannot write to stdout ({what}); its lines are dropped from now on, and counted",
                    "错误: 无法写入 stdout（{what}）；从现在起它的行被丢弃，并被计数"
                )
            )
            .into_bytes(),
            true,
        );
    }
}

fn lines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Prints the summary as the last line of stdout, and returns the exit
/// status: 0 when every line was written, else 1, with the reason on
/// stderr. Waits at most [`FINISH_PATIENCE`] for each file: a stdout that
/// nobody reads cannot hold the shutdown.
pub(crate) fn finish(summary: fmt::Arguments<'_>) -> u8 {
    let Some(output) = OUTPUT.get() else {
        println!("{summary}");
        return 0;
    };
    output.finished.store(true, Ordering::SeqCst);
    let held = lock(&output.warnings).held_total;
    let mut text = summary.to_string();
    if held > 0 {
        text += &netcore::tr!("; {held} warning(s) held back", "；{held} 条警告未显示");
    }
    // Warnings still queued for a stderr of its own are written first, so
    // that the summary can say whether stderr took them.
    if !Arc::ptr_eq(&output.out, &output.err) {
        wait_drained(&output.err);
    }
    let stderr_broken = lock(&output.broken[Stream::Err as usize]).clone();
    if let Some(why) = &stderr_broken {
        text += &netcore::tr!(
            "; stderr could not be written ({why})",
            "；stderr 无法写入（{why}）"
        );
    }
    text.push('\n');
    enqueue(Stream::Out, text.into_bytes(), true);
    let written = wait_drained(&output.out);

    // What the writer has not written by now never will be: it is lost
    // with what was dropped before.
    let lost = output.dropped.load(Ordering::SeqCst) + unwritten(&output.out);
    let broken = lock(&output.broken[Stream::Out as usize]).clone();
    let problem = match (broken, written) {
        (Some(why), _) => Some(netcore::tr!(
            "cannot write to stdout ({why}): {lost} line(s) of output lost",
            "无法写入 stdout（{why}）：丢失了 {lost} 行输出"
        )),
        (None, false) => Some(netcore::tr!(
            "stdout was not read fast enough: the summary and {other} other line(s) of output could not be written",
            "stdout 读得不够快：汇总行和另外 {other} 行输出没能写出",
            other = lost.saturating_sub(1)
        )),
        (None, true) if lost > 0 => Some(netcore::tr!(
            "{lost} line(s) of output dropped: stdout was not read fast enough",
            "丢弃了 {lost} 行输出：stdout 读得不够快"
        )),
        (None, true) => None,
    };
    if let Some(problem) = &problem {
        enqueue(
            Stream::Err,
            format!("{}: {} {problem}\n", output.name, tr("error:", "错误:")).into_bytes(),
            true,
        );
    }
    // Warnings still queued for stderr go out before the exit too.
    wait_drained(&output.err);
    if problem.is_some() || stderr_broken.is_some() {
        1
    } else {
        0
    }
}

/// Prints `NAME: error: ...` after what is queued, and returns the exit
/// status, 1: for a server that cannot start (its port is taken).
pub(crate) fn exit_error(name: &str, message: fmt::Arguments<'_>) -> u8 {
    match OUTPUT.get() {
        None => eprintln!("{name}: {} {message}", tr("error:", "错误:")),
        Some(output) => {
            output.finished.store(true, Ordering::SeqCst);
            enqueue(
                Stream::Err,
                format!("{name}: {} {message}\n", tr("error:", "错误:")).into_bytes(),
                true,
            );
            wait_drained(&output.out);
            wait_drained(&output.err);
        }
    }
    1
}

/// Lines `sink` holds that are not written yet: queued, or in the writer's
/// hand.
fn unwritten(sink: &Sink) -> u64 {
    lock(&sink.queue).lines + sink.in_hand.load(Ordering::SeqCst)
}

/// Waits, at most [`FINISH_PATIENCE`], until `sink` has written
/// everything queued; whether it did.
fn wait_drained(sink: &Sink) -> bool {
    let mut queue = lock(&sink.queue);
    queue.hurry = true;
    sink.wake.notify_one();
    let (queue, timeout) = sink
        .drained
        .wait_timeout_while(queue, FINISH_PATIENCE, |q| {
            !q.chunks.is_empty() || q.writing
        })
        .unwrap_or_else(|e| e.into_inner());
    drop(queue);
    !timeout.timed_out()
}

/// A file of our own for stdout or stderr (the same open file, duplicated),
/// which the writer uses without the lock of Rust's `Stdout`; `None` when
/// the stream is closed.
#[cfg(unix)]
fn duplicate(stream: &impl std::os::fd::AsFd) -> Option<File> {
    stream.as_fd().try_clone_to_owned().ok().map(File::from)
}

#[cfg(windows)]
fn duplicate(stream: &impl std::os::windows::io::AsHandle) -> Option<File> {
    stream.as_handle().try_clone_to_owned().ok().map(File::from)
}

/// Whether stdout and stderr lead to the same file, pipe or terminal.
#[cfg(unix)]
fn same_file(a: &File, b: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(windows)]
fn same_file(_: &File, _: &File) -> bool {
    // Simplification: on Windows, stdout and stderr keep separate queues.
    false
}
