//! Printing from many threads at once, cheaply: the output of a server
//! with a thread per client.
//!
//! `println!` takes the lock of Rust's stdout and, because stdout is
//! line-buffered even when it is a file or a pipe, makes one `write` system
//! call per line. With a hundred client threads printing a line per
//! message, they queue for that lock and the server spends more time in
//! `write` than in `recv` and `send` together. So:
//!
//! - On a terminal, each line is written at once, as `println!` does: a
//!   person is watching.
//! - Otherwise (a file, a pipe), lines are collected in a buffer and written
//!   together: at most [`FLUSH_INTERVAL`] after the first of them, or when
//!   the buffer holds [`BUFFER_SIZE`] bytes, or at [`flush`]. A reader of the
//!   pipe (a test, `tee`) still sees every line within a fraction of a
//!   second. Each line is formatted before the lock is taken, so the lock is
//!   held only for a copy.
//! - [`set_quiet`] turns off the lines printed with [`logln!`](crate::logln)
//!   (one per client event or message); [`outln!`](crate::outln) lines
//!   (`listening on ...`, a summary) are always printed.
//!
//! Every line goes through this module, in order: a program that uses it
//! should not mix in `println!`, whose lines could overtake buffered ones.
//! [`finish`] prints a last line and keeps the output locked, so nothing
//! follows it: for a shutdown summary just before `std::process::exit`.

use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

/// The longest a buffered line waits before it is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// How many buffered bytes make a write at once, without waiting.
pub const BUFFER_SIZE: usize = 64 * 1024;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Set when the flushing thread could not be started: then every line is
/// written at once.
static UNBUFFERED: AtomicBool = AtomicBool::new(false);

/// Prints a line that is always shown (`listening on ...`, a summary), as
/// `println!` does, through this module's buffer.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(::std::format_args!($($arg)*))
    };
}

/// Prints a line about one client or one message, unless
/// [`set_quiet`](crate::out::set_quiet) turned such lines off.
#[macro_export]
macro_rules! logln {
    ($($arg:tt)*) => {
        if !$crate::out::is_quiet() {
            $crate::out::line(::std::format_args!($($arg)*))
        }
    };
}

/// Turns the lines of [`logln!`](crate::logln) off (or on again).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether [`logln!`](crate::logln) lines are off.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

struct Output {
    /// Lines not written yet (always empty on a terminal).
    pending: Mutex<Vec<u8>>,
    /// Wakes the flushing thread when `pending` stops being empty.
    wake: Condvar,
    terminal: bool,
    /// Whether the flushing thread has been started.
    flusher: OnceLock<()>,
}

fn output() -> &'static Output {
    static OUTPUT: OnceLock<Output> = OnceLock::new();
    OUTPUT.get_or_init(|| Output {
        pending: Mutex::new(Vec::with_capacity(BUFFER_SIZE)),
        wake: Condvar::new(),
        terminal: std::io::stdout().is_terminal(),
        flusher: OnceLock::new(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Prints one line (a newline is added). Use [`outln!`](crate::outln) or
/// [`logln!`](crate::logln) rather than calling this directly.
pub fn line(args: fmt::Arguments<'_>) {
    // Format first, without any lock held.
    let mut text = String::with_capacity(96);
    let _ = text.write_fmt(args);
    text.push('\n');
    let out = output();
    if out.terminal {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
        return;
    }
    let full = {
        let mut pending = lock(&out.pending);
        let was_empty = pending.is_empty();
        pending.extend_from_slice(text.as_bytes());
        if was_empty {
            out.flusher.get_or_init(start_flusher);
            out.wake.notify_one();
        }
        pending.len() >= BUFFER_SIZE
    };
    if full || UNBUFFERED.load(Ordering::Relaxed) {
        flush();
    }
}

/// Writes every buffered line now.
pub fn flush() {
    let mut stdout = std::io::stdout().lock();
    write_pending(&mut stdout);
}

/// Writes what is buffered to `stdout`, whose lock the caller holds: two
/// flushes never interleave, so lines keep their order.
fn write_pending(stdout: &mut std::io::StdoutLock<'_>) {
    let lines = std::mem::take(&mut *lock(&output().pending));
    if !lines.is_empty() {
        let _ = stdout.write_all(&lines);
    }
    let _ = stdout.flush();
    // Give the buffer back, so that its capacity is reused.
    let mut pending = lock(&output().pending);
    if pending.is_empty() && pending.capacity() < lines.capacity() {
        let mut lines = lines;
        lines.clear();
        *pending = lines;
    }
}

/// Flushes what is buffered, prints `args` as the last line, and keeps the
/// output locked for good, so that no other thread prints after it. For a
/// summary just before `std::process::exit`.
pub fn finish(args: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    write_pending(&mut stdout);
    let _ = stdout.write_fmt(args);
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
    // Nobody else may print from now on: the lock is never released.
    std::mem::forget(stdout);
}

/// Starts the thread that writes buffered lines at most [`FLUSH_INTERVAL`]
/// after they were printed. It sleeps while nothing is buffered.
fn start_flusher() {
    let spawned = thread::Builder::new()
        .name("output flusher".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            let out = output();
            loop {
                {
                    let mut pending = lock(&out.pending);
                    while pending.is_empty() {
                        pending = out.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                    }
                }
                // Let more lines join the first one, then write them all.
                thread::sleep(FLUSH_INTERVAL);
                flush();
            }
        });
    if spawned.is_err() {
        // No thread for it: from now on every line is written at once.
        UNBUFFERED.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_switches_log_lines_off() {
        assert!(!is_quiet());
        set_quiet(true);
        assert!(is_quiet());
        set_quiet(false);
        assert!(!is_quiet());
    }
}
