//! Exercise 06: a sink server and a source client (lesson 06).
//!
//! `exercise-06 sink --port P` and `exercise-06 source --port P`. Fill in
//! the TODO steps of `sink` and `source`; `lessons/lesson-06/README.md`
//! explains why each one matters. Check your work with
//! `cargo run -p grader -- check lesson-06`.
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).
//!
//! 中文：`exercise-06 sink --port P` 和 `exercise-06 source --port P`。按顺序完成
//! `sink` 和 `source` 里的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-06/README.zh-CN.md` 讲解了每一步为什么重要。用
//! `cargo run -p grader -- check lesson-06` 检查你的程序。
//!
//! TODO 步骤会用到两样东西：写了 `use netcore::Context;` 之后，可以在 I/O 调用
//! 后面加上 `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行
//! 错误信息；`(&socket).read(&mut buffer)`（要先写 `use std::io::Read;`）就是在
//! 普通缓冲区上的 `recv`（socket2 自己的 `recv` 要的是未初始化的缓冲区）。

use std::process::ExitCode;

use lexopt::prelude::*;
use netcore::Error;
use netcore::cli::{self, DEFAULT_PORT, Help, resolve};

const NAME: &str = "exercise-06";
const ABOUT: &str = "exercise 06: a sink server and a source client";
/// What the source sends, in bytes, unless told otherwise.
const DEFAULT_BYTES: u64 = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let help = Help::new(NAME, ABOUT)
        .positional("MODE", "sink or source")
        .option(
            "--port PORT",
            "sink: port to listen on; source: the sink's port",
        )
        .default(DEFAULT_PORT)
        .option(
            "--bytes N",
            "source: bytes to send [default: $BYTES, else 8388608]",
        );
    let (mode, port, bytes) = cli::parse_or_exit(NAME, |parser| {
        let (mut mode, mut port, mut bytes) = (None, DEFAULT_PORT, None);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if mode.is_none() => mode = Some(value.string()?),
                Long("port") => port = cli::port("--port", parser.value()?)?,
                Long("bytes") => {
                    bytes = Some(cli::count("--bytes", parser.value()?, 0..=u64::MAX)?)
                }
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok((mode, port, bytes))
    });
    // The grader says how many bytes to send in BYTES (a different count
    // every run); --bytes wins.
    let bytes = bytes
        .or_else(|| std::env::var("BYTES").ok()?.trim().parse().ok())
        .unwrap_or(DEFAULT_BYTES);
    let result = match mode.as_deref() {
        Some("sink") => sink(port),
        Some("source") => source(port, bytes),
        _ => cli::exit_usage(NAME, "say which side to play: sink or source"),
    };
    netcore::report(NAME, result)
}

/// Counts every byte of one connection and replies with the count.
fn sink(port: u16) -> Result<(), Error> {
    let addr = resolve("0.0.0.0", port)?;
    // TODO 1 (sink): socket, SO_REUSEADDR, bind(addr), listen(128); print `listening on IP:PORT`.
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //   中文：创建套接字，设置 SO_REUSEADDR，bind(addr)，listen(128)；打印 `listening on IP:PORT`。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    // TODO 2 (sink): accept ONE connection. recv in a loop, adding up the lengths, until recv
    //     returns 0 (the sender has closed its side). One recv(1024) is not enough: the
    //     grader sends 3 to 9 MiB (a different amount every run) in uneven pieces.
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //          lessons/lesson-06/README.md#4-a-stream-of-bytes-not-messages
    //   中文：只接受一个连接。循环调用 recv，把每次收到的长度加起来，直到 recv 返回 0
    //     （对端关闭了它的发送方向）。只 recv(1024) 一次是不够的：评分程序会发送 3 到 9 MiB
    //     （每次运行的数量都不同），而且分成大小不一的片段。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    //           lessons/lesson-06/README.zh-CN.md#4-字节流而不是消息
    // TODO 3 (sink): reply with the count as decimal digits (e.g. b"8388608"), then close.
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //   中文：用十进制数字回复收到的总字节数（例如 b"8388608"），然后关闭套接字。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = addr;
    Err(Error::msg(netcore::lang::tr(
        "sink mode is not written yet: follow the TODO steps in exercises/lesson-06/src/main.rs",
        "sink 模式还没有写好：请按照 exercises/lesson-06/src/main.rs 里的 TODO 步骤来写",
    )))
}

/// Sends `bytes` bytes of the course's pattern: byte i is i % 251.
fn source(port: u16, bytes: u64) -> Result<(), Error> {
    let addr = resolve("127.0.0.1", port)?;
    // The data to send, written for you.
    let data: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    // TODO 4 (source): socket and connect to `addr`.
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //   中文：创建套接字，和 `addr` 建立连接。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    // TODO 5 (source): send ALL of `data`: send() returns how many bytes it took, which may be fewer
    //     than offered (the grader does not read at first, so the buffers fill). Loop.
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //          lessons/lesson-06/README.md#5-a-partial-send-and-why-write_all-exists
    //   中文：把 `data` 全部发送出去，一个字节都不能少：send() 返回这一次收下了多少字节，可能比你交给它的少
    //     （评分程序一开始不读取，缓冲区会被填满）。要循环发送。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    //           lessons/lesson-06/README.zh-CN.md#5-只发出一部分的-send以及为什么要有-write_all
    // TODO 6 (source): close the socket and return Ok(()).
    //     See: lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source
    //   中文：关闭套接字，然后返回 Ok(())。
    //     参见：lessons/lesson-06/README.zh-CN.md#练习sink-与-source
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, data);
    Err(Error::msg(netcore::lang::tr(
        "source mode is not written yet: follow the TODO steps in exercises/lesson-06/src/main.rs",
        "source 模式还没有写好：请按照 exercises/lesson-06/src/main.rs 里的 TODO 步骤来写",
    )))
}
