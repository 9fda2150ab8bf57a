//! Experiment 6: the application's read size and throughput, shown with one
//! transfer per size. The course's benchmark (`cargo run --release -p
//! bench`, its section 4) measures the same with repeated runs, beside
//! iperf3, and draws the chart.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use netcore::lang::tr;
use netcore::{Context, Error, tr};

use super::common::connected_pair;
use crate::{KIB, MIB};

/// What each transfer moves: enough for the 1 KiB reads to take a
/// noticeable time, little enough for the experiment to take about a second
/// in a debug build.
const TRANSFER: usize = 64 * MIB;

// ANCHOR: throughput
/// Experiment 6: How much the application asks for per `recv` decides how many system
/// calls a transfer costs, and so its speed.
pub(crate) fn read_size_and_throughput() -> Result<(), Error> {
    let mib = TRANSFER / MIB;
    let heading = tr!(
        "6. Reading {mib} MiB with different recv() sizes, one transfer each:",
        "6. 用不同的 recv() 大小读取 {mib} MiB，每种大小传输一次:"
    );
    println!("{heading}");
    // The columns are 9, 10, 10, 8 and 8 wide (a Chinese character takes
    // two).
    let header = tr(
        "recv size  recv calls        time      MB/s  vs 1 KiB",
        "recv 大小   recv 次数        耗时      MB/s  比 1 KiB",
    );
    println!("   {header}");
    let mut slowest = None;
    for read_size in [KIB, 64 * KIB, MIB] {
        let (elapsed, calls) = timed_transfer(read_size)?;
        let rate = TRANSFER as f64 / elapsed.as_secs_f64() / 1e6;
        let base = *slowest.get_or_insert(rate);
        println!(
            "   {:>9}  {calls:>10}  {elapsed:>10.3?}  {rate:>8.0}  {:>7.1}x",
            size_name(read_size),
            rate / base
        );
    }
    let bench = tr(
        "   One transfer each varies from run to run on a busy machine; for medians of\n   repeated runs beside iperf3: cargo run --release -p bench (docs/benchmarks.md)",
        "   每种大小只传输一次，在繁忙的机器上每次运行的结果都不同；多次运行的中位数\n   及与 iperf3 的对比见：cargo run --release -p bench（docs/benchmarks.md）",
    );
    println!("{bench}");
    Ok(())
}

/// Sends [`TRANSFER`] bytes from one thread and receives them with reads of
/// `read_size`; returns the time and the number of recv calls.
fn timed_transfer(read_size: usize) -> Result<(Duration, u64), Error> {
    let (client, conn) = connected_pair()?;
    let started = Instant::now();
    let sender = thread::spawn(move || -> std::io::Result<()> {
        let chunk = vec![b's'; MIB];
        for _ in 0..TRANSFER / MIB {
            (&client).write_all(&chunk)?;
        }
        Ok(())
    });
    let mut buffer = vec![0u8; read_size];
    let mut received = 0;
    let mut calls = 0;
    while received < TRANSFER {
        let n = (&conn)
            .read(&mut buffer)
            .context(|| tr("recv failed", "recv 失败"))?;
        if n == 0 {
            break;
        }
        received += n;
        calls += 1;
    }
    let elapsed = started.elapsed();
    match sender.join() {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(Error::io(tr("the sender failed", "发送线程失败"), &err)),
        Err(_) => {
            let panicked = tr("the sender thread panicked", "发送线程崩溃了（panic）");
            return Err(Error::msg(panicked));
        }
    }
    if received != TRANSFER {
        return Err(Error::msg(tr!(
            "received {received} of {TRANSFER} bytes",
            "只收到 {TRANSFER} 字节中的 {received} 字节"
        )));
    }
    Ok((elapsed, calls))
}
// ANCHOR_END: throughput

/// `1 KiB`, `64 KiB`, `1 MiB`.
fn size_name(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}
