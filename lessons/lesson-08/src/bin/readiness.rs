//! Lesson 08's experiment: edge- against level-triggered readiness, on
//! epoll itself (Linux), without mio in between.
//!
//! Each part opens a connection over loopback, registers the server's end
//! with epoll, has the client send 64 bytes at once, and lets the server
//! read 16 bytes per `recv`:
//!
//! 1. level-triggered, one `recv` per wakeup: it works, in 4 wakeups;
//! 2. edge-triggered, one `recv` per wakeup: it stalls with 48 bytes
//!    unread, and each later arrival buys only one more `recv`;
//! 3. edge-triggered, `recv` until WouldBlock (mio's rule): 1 wakeup;
//! 4. EPOLLOUT asked for with nothing to send: level-triggered, a busy
//!    loop; edge-triggered, one wakeup.
//!
//! `cargo run -p lesson-08 --bin readiness`; the walkthrough's section
//! "Edge- and level-triggered readiness" reads its output.

// epoll is not in std, socket2 or netcore: it is called here through libc,
// one call per `unsafe` block, each with its reason.
#![allow(unsafe_code)]

use std::process::ExitCode;

use lexopt::prelude::*;
use netcore::cli::{self, Help};

const NAME: &str = "readiness";
const ABOUT: &str = "lesson 08's experiment: edge- and level-triggered epoll, side by side";

fn main() -> ExitCode {
    let help = Help::new(NAME, ABOUT);
    cli::parse_or_exit(NAME, |parser| {
        while let Some(arg) = parser.next()? {
            match arg {
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(())
    });
    netcore::report(NAME, experiment::run())
}

#[cfg(not(target_os = "linux"))]
mod experiment {
    /// epoll is Linux's: elsewhere there is nothing to show.
    pub(crate) fn run() -> Result<(), netcore::Error> {
        Err(netcore::Error::msg(netcore::lang::tr(
            "this experiment calls epoll, which only Linux has",
            "这个实验调用 epoll，只有 Linux 才有",
        )))
    }
}

#[cfg(target_os = "linux")]
mod experiment {
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use netcore::lang::tr;
    use netcore::{Context, Error, tr};

    /// What the client sends at once.
    const SENT: usize = 64;
    /// What the server reads per `recv`.
    const RECV_SIZE: usize = 16;
    /// How long to wait for a wakeup that is expected (bytes on their way).
    const PATIENCE_MS: i32 = 10_000;
    /// How long to wait to see that no wakeup comes.
    const QUIET_MS: i32 = 200;
    /// Where part 4 stops counting a busy loop's wakeups.
    const BUSY_WAKEUPS: usize = 1000;
    /// A bound on any part's wakeups.
    const MAX_WAKEUPS: usize = 100;

    pub(crate) fn run() -> Result<(), Error> {
        println!(
            "{}",
            tr!(
                "Edge- and level-triggered readiness, on epoll itself. Each part opens a connection\nover loopback; the client sends {SENT} bytes at once, and the server reads {RECV_SIZE} bytes per recv.",
                "边缘触发与水平触发的就绪通知，直接用 epoll 演示。每一部分都在回环地址上建立\n一个连接；客户端一次发送 {SENT} 字节，服务端每次 recv 读 {RECV_SIZE} 字节。"
            )
        );
        reading(Part::Level)?;
        reading(Part::EdgeOnce)?;
        reading(Part::EdgeDrain)?;
        writability()
    }

    /// Parts 1 to 3.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Part {
        Level,
        EdgeOnce,
        EdgeDrain,
    }

    fn reading(part: Part) -> Result<(), Error> {
        println!();
        println!(
            "{}",
            match part {
                Part::Level => tr(
                    "1. Level-triggered (EPOLLIN), one recv per wakeup",
                    "1. 水平触发（EPOLLIN），每次唤醒 recv 一次",
                ),
                Part::EdgeOnce => tr(
                    "2. Edge-triggered (EPOLLIN | EPOLLET), one recv per wakeup",
                    "2. 边缘触发（EPOLLIN | EPOLLET），每次唤醒 recv 一次",
                ),
                Part::EdgeDrain => tr(
                    "3. Edge-triggered (EPOLLIN | EPOLLET), recv until WouldBlock (mio's rule, and lesson 08's)",
                    "3. 边缘触发（EPOLLIN | EPOLLET），一直 recv 到 WouldBlock（mio 的规则，也是第 08 课的做法）",
                ),
            }
        );
        let (mut client, mut server) = pair()?;
        let epoll = Epoll::new().context(|| "epoll_create1")?;
        let mut interest = libc::EPOLLIN as u32;
        if part != Part::Level {
            interest |= libc::EPOLLET as u32;
        }
        epoll
            .add(server.as_raw_fd(), interest)
            .context(|| "epoll_ctl")?;
        client
            .write_all(&[b'x'; SENT])
            .context(|| tr("cannot send", "无法发送"))?;

        let (mut wakeups, mut sent_more) = (0, false);
        // The first wakeup is for bytes on their way: wait for it. After
        // that, a wakeup comes at once or not at all.
        let mut timeout = PATIENCE_MS;
        while wakeups < MAX_WAKEUPS {
            if let Some(events) = epoll.wait(timeout).context(|| "epoll_wait")? {
                wakeups += 1;
                timeout = QUIET_MS;
                let reads = if part == Part::EdgeDrain {
                    recv_until_would_block(&mut server)?
                } else {
                    vec![recv_once(&mut server)?]
                };
                print_wakeup(wakeups, events, &reads, part == Part::EdgeDrain, &server)?;
                continue;
            }
            print_quiet(&server)?;
            let left = unread(&server)?;
            if part != Part::EdgeOnce || sent_more || left == 0 {
                break;
            }
            // Bytes wait and no wakeup comes for them. Send more, and see
            // what that buys.
            println!(
                "   => {}",
                tr!(
                    "stalled: {left} bytes wait in the socket, and epoll reports nothing, since no new bytes arrived",
                    "卡住了：套接字里还有 {left} 字节没读，epoll 却什么也不报告，因为没有新的字节到达"
                )
            );
            println!(
                "   {}",
                tr!(
                    "the client sends {SENT} more bytes",
                    "客户端再发送 {SENT} 字节"
                )
            );
            client
                .write_all(&[b'y'; SENT])
                .context(|| tr("cannot send", "无法发送"))?;
            (sent_more, timeout) = (true, PATIENCE_MS);
        }
        let left = unread(&server)?;
        let conclusion = match part {
            Part::Level => tr!(
                "all {SENT} bytes read, in {wakeups} wakeups: epoll reports the socket for as long as it holds bytes",
                "{SENT} 字节全部读完，唤醒了 {wakeups} 次：只要套接字里还有字节，epoll 就一直报告它就绪"
            ),
            Part::EdgeOnce if left > 0 => tr!(
                "{left} bytes unread: one wakeup per arrival, not per byte waiting, and the server stays behind for good",
                "还有 {left} 字节未读：每到达一次数据才唤醒一次，而不是有字节在等就唤醒，服务端永远落在后面"
            ),
            Part::EdgeOnce => tr!(
                "all bytes read, in {wakeups} wakeups",
                "全部字节都读完了，唤醒了 {wakeups} 次"
            ),
            Part::EdgeDrain => tr!(
                "all {SENT} bytes read, in {wakeups} wakeup",
                "{SENT} 字节全部读完，只唤醒了 {wakeups} 次"
            ),
        };
        println!("   => {conclusion}");
        Ok(())
    }

    /// Part 4: EPOLLOUT asked for while there is nothing to send.
    fn writability() -> Result<(), Error> {
        println!();
        println!(
            "{}",
            tr(
                "4. EPOLLOUT asked for while there is nothing to send",
                "4. 没有要发送的数据，却关注 EPOLLOUT（可写）",
            )
        );
        for edge in [false, true] {
            let (_client, server) = pair()?;
            let epoll = Epoll::new().context(|| "epoll_create1")?;
            let mut interest = libc::EPOLLOUT as u32;
            if edge {
                interest |= libc::EPOLLET as u32;
            }
            epoll
                .add(server.as_raw_fd(), interest)
                .context(|| "epoll_ctl")?;
            let mut wakeups = 0;
            while wakeups < BUSY_WAKEUPS {
                match epoll.wait(QUIET_MS).context(|| "epoll_wait")? {
                    Some(_) => wakeups += 1,
                    None => break,
                }
            }
            let line = match (edge, wakeups) {
                (false, BUSY_WAKEUPS) => tr!(
                    "level-triggered: {wakeups} wakeups in a row (stopped there), and not one byte to send: a busy loop",
                    "水平触发：连续唤醒 {wakeups} 次（到此为止），却没有一个字节要发送：忙循环"
                ),
                (false, _) => tr!(
                    "level-triggered: {wakeups} wakeups, then none within {QUIET_MS} ms",
                    "水平触发：唤醒 {wakeups} 次，之后 {QUIET_MS} 毫秒内没有再唤醒"
                ),
                (true, _) => tr!(
                    "edge-triggered: {wakeups} wakeup, then none within {QUIET_MS} ms",
                    "边缘触发：唤醒 {wakeups} 次，之后 {QUIET_MS} 毫秒内没有再唤醒"
                ),
            };
            println!("   {line}");
        }
        println!(
            "   => {}",
            tr(
                "ask for EPOLLOUT only while output waits: with level triggering it is that or a busy loop; lesson 08 does the same with mio",
                "只在有数据等着发送时才关注 EPOLLOUT：用水平触发时，不这样做就是忙循环；第 08 课用 mio 也是这样做的",
            )
        );
        Ok(())
    }

    /// One `recv` of up to [`RECV_SIZE`] bytes; 0 for WouldBlock.
    fn recv_once(server: &mut TcpStream) -> Result<usize, Error> {
        let mut buffer = [0u8; RECV_SIZE];
        match server.read(&mut buffer) {
            Ok(n) => Ok(n),
            Err(err) if err.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(err) => Err(Error::io("recv", &err)),
        }
    }

    /// `recv` until WouldBlock: each read's size.
    fn recv_until_would_block(server: &mut TcpStream) -> Result<Vec<usize>, Error> {
        let mut reads = Vec::new();
        while reads.len() < MAX_WAKEUPS {
            match recv_once(server)? {
                0 => break,
                n => reads.push(n),
            }
        }
        Ok(reads)
    }

    fn print_wakeup(
        number: usize,
        events: u32,
        reads: &[usize],
        drained: bool,
        server: &TcpStream,
    ) -> Result<(), Error> {
        let names = event_names(events);
        let sizes = reads
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" + ");
        let left = unread(server)?;
        let line = if drained {
            tr!(
                "wakeup {number}: {names}; recv {sizes} bytes, then WouldBlock; {left} unread",
                "第 {number} 次唤醒：{names}；recv {sizes} 字节，然后 WouldBlock；还有 {left} 字节未读"
            )
        } else {
            tr!(
                "wakeup {number}: {names}; recv {sizes} bytes; {left} unread",
                "第 {number} 次唤醒：{names}；recv {sizes} 字节；还有 {left} 字节未读"
            )
        };
        println!("   {line}");
        Ok(())
    }

    fn print_quiet(server: &TcpStream) -> Result<(), Error> {
        let left = unread(server)?;
        println!(
            "   {}",
            tr!(
                "no wakeup within {QUIET_MS} ms; {left} bytes unread",
                "{QUIET_MS} 毫秒内没有唤醒；还有 {left} 字节未读"
            )
        );
        Ok(())
    }

    fn event_names(events: u32) -> String {
        let names: Vec<&str> = [
            (libc::EPOLLIN, "EPOLLIN"),
            (libc::EPOLLOUT, "EPOLLOUT"),
            (libc::EPOLLHUP, "EPOLLHUP"),
            (libc::EPOLLERR, "EPOLLERR"),
        ]
        .into_iter()
        .filter(|(bit, _)| events & *bit as u32 != 0)
        .map(|(_, name)| name)
        .collect();
        names.join(" | ")
    }

    /// Bytes in the server's receive buffer that it has not read (FIONREAD).
    fn unread(server: &TcpStream) -> Result<usize, Error> {
        netcore::sys::unread_bytes(&socket2::SockRef::from(server)).context(|| "FIONREAD")
    }

    /// A connected pair over loopback: the client, and the server's end,
    /// non-blocking.
    fn pair() -> Result<(TcpStream, TcpStream), Error> {
        let connect = || -> io::Result<(TcpStream, TcpStream)> {
            let listener = TcpListener::bind(("127.0.0.1", 0))?;
            let client = TcpStream::connect(listener.local_addr()?)?;
            let (server, _) = listener.accept()?;
            server.set_nonblocking(true)?;
            Ok((client, server))
        };
        connect().context(|| tr("cannot connect over loopback", "无法在回环地址上建立连接"))
    }

    /// An epoll instance: the kernel object under mio's `Poll`.
    struct Epoll(OwnedFd);

    impl Epoll {
        /// epoll_create1.
        fn new() -> io::Result<Epoll> {
            // SAFETY: epoll_create1 takes no pointer; a result of 0 or more
            // is a new descriptor that nothing else owns.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is open and ours alone (above).
            Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// epoll_ctl(EPOLL_CTL_ADD): watch `fd` for `events`.
        fn add(&self, fd: RawFd, events: u32) -> io::Result<()> {
            let mut event = libc::epoll_event { events, u64: 0 };
            // SAFETY: `event` is a live local that the kernel only reads.
            let rc =
                unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// epoll_wait for one event, up to `timeout_ms`: the events reported,
        /// or `None` when the time ran out.
        fn wait(&self, timeout_ms: i32) -> io::Result<Option<u32>> {
            loop {
                let mut event = libc::epoll_event { events: 0, u64: 0 };
                // SAFETY: room for one event, and the kernel is told 1.
                let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), &mut event, 1, timeout_ms) };
                match n {
                    1 => return Ok(Some(event.events)),
                    0 => return Ok(None),
                    _ => {
                        let err = io::Error::last_os_error();
                        if err.kind() != ErrorKind::Interrupted {
                            return Err(err);
                        }
                    }
                }
            }
        }
    }
}
