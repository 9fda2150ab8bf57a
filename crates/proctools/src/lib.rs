//! `proctools`: what the course's tools share about other processes.
//!
//! The grader, `loadgen` and the benchmarks each start programs, wait for
//! them with a deadline, and read what they cost from Linux's `/proc`. They
//! used to do it three times over, and did not agree on the clock tick that
//! `/proc` counts CPU time in; this crate is the one home of that code:
//!
//! - [`process`]: one process (or thread) read from `/proc/PID`: its state,
//!   parent and group, CPU times converted with the real clock tick
//!   (`sysconf(_SC_CLK_TCK)`), resident memory and threads, the time each
//!   thread wanted a CPU, its sockets and children; and every process on the
//!   machine;
//! - [`system`]: the machine's kernel memory that no process's `VmRSS`
//!   shows (`KernelStack`, `Slab` in `/proc/meminfo`);
//! - [`tcp`]: the kernel's tables of TCP sockets (`/proc/net/tcp`, `tcp6`):
//!   who listens, how many connections wait to be accepted, which
//!   connection is in CLOSE_WAIT;
//! - [`child`]: a child process that is killed and reaped when its owner
//!   drops it, waited for with a deadline, and the `listening on IP:PORT`
//!   line every server of the course prints.
//!
//! It is a library for tools and their tests, not for the lessons: a
//! lesson's first build never compiles it. The grader's sandbox (process
//! groups, namespaces, the jail's init) stays in the grader; what is here
//! is the part every tool does the same way.
//!
//! Every wait here is bounded. Where there is no `/proc` (not Linux), the
//! readers return an error or nothing, never a made-up figure.

pub mod child;
pub mod process;
pub mod system;
pub mod tcp;
