//! Section 5, lesson-06's transfer, and iperf3 on loopback.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use loadgen::bulk::ToSink;
use proctools::child::Guard;
use proctools::tcp;

use crate::chart::Bar;
use crate::servers::Server;
use crate::{KIB, MIB, Paths, Settings, Spread, Table, Target, num};

pub(crate) fn transfer(
    settings: &Settings,
    paths: &Paths,
) -> Result<(String, Vec<Bar>, Target), String> {
    let bytes = settings.transfer_bytes();
    let reads = [KIB, 64 * KIB, MIB];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); reads.len()];
    let mut iperf: Vec<f64> = Vec::new();
    let mut iperf_note = String::new();
    for _ in 0..settings.runs {
        for (i, read) in reads.iter().enumerate() {
            let log = paths.scratch.join("sink.log");
            let size = read.to_string();
            let sink = Server::start(
                &paths.bin_dir.join("lesson-06"),
                &[
                    "sink",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--read-size",
                    &size,
                ],
                &log,
            )?;
            let report = ToSink::new(sink.addr, bytes, 128 * KIB as usize)
                .run()
                .map_err(|err| format!("transfer to lesson-06 sink: {err}"))?;
            report.verified.clone()?;
            sink.wait(Duration::from_secs(10))?;
            rates[i].push(report.megabytes_per_second());
        }
        if let Some(program) = &paths.iperf3 {
            match iperf3(program) {
                Ok(rate) => iperf.push(rate),
                Err(err) => iperf_note = format!("iperf3 failed: {err}"),
            }
        }
    }
    if paths.iperf3.is_none() {
        iperf_note = if settings.quick {
            "iperf3: not run with --quick.".into()
        } else {
            "iperf3 is not installed: no comparison (`apt-get install iperf3`, then run again)."
                .into()
        };
    }
    let mut table = Table::new(&["receiver", "recv size", "MB/s"]);
    let mut bars = Vec::new();
    for (read, r) in reads.iter().zip(&rates) {
        let spread = Spread::of(r);
        if !spread.sane() {
            return Err("transfer: figures are not sane".into());
        }
        table.row(vec![
            "lesson-06 sink".into(),
            size_name(*read),
            spread.to_string(),
        ]);
        bars.push(Bar {
            label: format!("recv({})", size_name(*read)),
            value: spread.median,
        });
    }
    let one_mib = Spread::of(&rates[2]).median;
    let target = if iperf.is_empty() {
        Target {
            what: "lesson-06's 1 MiB transfer ≥ iperf3's default loopback throughput".into(),
            measured: format!("{} MB/s; {iperf_note}", num(one_mib)),
            met: None,
        }
    } else {
        let spread = Spread::of(&iperf);
        // Run i of the sink and of iperf3 were measured back to back.
        let pairs: Vec<f64> = rates[2].iter().zip(&iperf).map(|(a, b)| a / b).collect();
        table.row(vec![
            "iperf3 (default: 128 KiB, one stream)".into(),
            "128 KiB".into(),
            spread.to_string(),
        ]);
        bars.push(Bar {
            label: "iperf3".into(),
            value: spread.median,
        });
        Target {
            what: "lesson-06's 1 MiB transfer ≥ iperf3's default loopback throughput".into(),
            measured: format!(
                "{} ÷ {} MB/s = {:.3} × (run by run: {})",
                num(one_mib),
                num(spread.median),
                one_mib / spread.median,
                Spread::of(&pairs)
            ),
            met: Some(one_mib >= spread.median),
        }
    };
    let part = format!(
        "## 5. lesson-06's transfer, and iperf3\n\n\
         loadgen sends {} (the course's pattern, in writes of 128 KiB, iperf3's default) to \
         `lesson-06 sink --read-size N`, which replies with the count it received; the time runs \
         from the connection to the verified reply. {}\n\n{}\n\
         ![Loopback transfer by recv size](benchmarks-transfer.svg)\n",
        size_name(bytes),
        if iperf.is_empty() {
            iperf_note
        } else {
            "iperf3 runs 3 s per run, interleaved with the sink's runs; its figure is what the receiver got.".into()
        },
        table.markdown()
    );
    Ok((part, bars, target))
}

/// One iperf3 run on loopback with its defaults (one TCP stream, 128 KiB
/// writes), 3 s: the receiver's MB/s.
fn iperf3(program: &Path) -> Result<f64, String> {
    // iperf3 needs a port number: take a free one from the OS.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port()
        .to_string();
    let mut server = Guard::spawn(
        Command::new(program)
            .args(["-s", "-1", "-B", "127.0.0.1", "-p", &port])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .map_err(|e| format!("cannot start iperf3: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while tcp::accept_queue(port.parse().unwrap_or(0)).is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let client = Command::new(program)
        .args(["-c", "127.0.0.1", "-p", &port, "-t", "3", "-J"])
        .stderr(Stdio::null())
        .output();
    // It ends by itself after one client (-1); kill it if it has not.
    let _ = server.kill();
    let output = client.map_err(|e| format!("cannot run iperf3: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("iperf3's report: {e}"))?;
    json["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .map(|bits| bits / 8.0 / 1e6)
        .ok_or_else(|| format!("no throughput in iperf3's report: {}", json["error"]))
}

pub(crate) fn size_name(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        if bytes >= 1024 * MIB && bytes.is_multiple_of(1024 * MIB) {
            format!("{} GiB", bytes / (1024 * MIB))
        } else {
            format!("{} MiB", bytes / MIB)
        }
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
