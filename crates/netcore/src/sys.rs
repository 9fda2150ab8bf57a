//! The few operating-system calls the lessons need that neither `std` nor
//! socket2 offers: shutdown signals, a quiet end when stdout is closed, the
//! open-file limit, and how many bytes sit in a socket's kernel buffers.
//!
//! This is the only module with `unsafe` code: each block is one libc call
//! on values it owns, with a comment saying why it is sound. On systems
//! where a call does not exist, the functions return an
//! [`io::ErrorKind::Unsupported`] error, and the lessons say that the
//! measurement is unavailable.
#![allow(unsafe_code)]

use std::io;

use socket2::Socket;

/// A signal that asks a server to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGINT: Ctrl+C in the terminal.
    Interrupt,
    /// SIGTERM: `kill PID`, or a service manager stopping the program.
    Terminate,
}

impl Shutdown {
    /// The signal's usual name: `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Shutdown::Interrupt => "SIGINT",
            Shutdown::Terminate => "SIGTERM",
        }
    }
}

/// Runs `handler` on a dedicated thread when the process gets SIGINT or
/// SIGTERM, instead of dying at once.
///
/// Call it from `main` before starting any other thread: it blocks the two
/// signals in the calling thread, every thread started afterwards inherits
/// that, and one thread named `signals` waits for them with `sigwait`. So
/// the handler is ordinary Rust code (it may lock stdout, print, and call
/// `std::process::exit`), not a signal handler with its strict rules.
///
/// On Windows this does nothing and Ctrl+C ends the program as usual.
pub fn on_shutdown<F>(handler: F) -> io::Result<()>
where
    F: FnOnce(Shutdown) + Send + 'static,
{
    #[cfg(unix)]
    {
        // SAFETY: sigset_t is plain data that sigemptyset initialises before
        // use; every pointer passed points to a local that outlives the call.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            set
        };
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                loop {
                    let mut signal: libc::c_int = 0;
                    // SAFETY: `set` is an initialised signal set owned by
                    // this thread and `signal` a local it may write.
                    let rc = unsafe { libc::sigwait(&set, &mut signal) };
                    if rc != 0 {
                        continue;
                    }
                    let which = if signal == libc::SIGINT {
                        Shutdown::Interrupt
                    } else {
                        Shutdown::Terminate
                    };
                    handler(which);
                    return;
                }
            })?;
    }
    #[cfg(not(unix))]
    drop(handler);
    Ok(())
}

/// Makes a write to a closed stdout or stderr end the program quietly, as it
/// ends any Unix tool (`lesson-01 | head -1`), while a `send` on a closed
/// socket still fails with an error that the program reports.
///
/// Rust starts every program with SIGPIPE ignored, so a write to a pipe
/// whose reader has gone fails with "broken pipe", and `println!` turns that
/// failure into a panic with a backtrace (exit code 101). Restoring
/// SIGPIPE's default action, `signal(SIGPIPE, SIG_DFL)`, ends the program
/// quietly instead, but not only for stdout: on Linux a `send` on a socket
/// whose peer has gone raises SIGPIPE as well unless the call passes
/// `MSG_NOSIGNAL`, which std's `TcpStream` does and socket2's
/// `Socket::send` (every lesson's `send`) does not. (On Apple systems
/// socket2 sets `SO_NOSIGPIPE` on each socket, so there only stdout and
/// stderr can raise it.) A lesson server would then die the first time a
/// client reset its connection.
///
/// So SIGPIPE gets a small handler instead of the default action. When
/// stdout or stderr is a pipe (or socket) that nobody reads any more, which
/// `poll` reports as POLLERR or POLLHUP, it restores the default action and
/// raises the signal again: the program ends exactly as with `SIG_DFL`.
/// Otherwise the signal came from a socket: the handler returns, and the
/// `send` fails with "broken pipe" as it always did.
///
/// [`crate::cli::parse_or_exit`] calls this, first thing in every
/// lesson. On Windows, which has no SIGPIPE, it does nothing.
pub fn exit_quietly_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: `action` is zeroed plain data, filled in before sigaction
    // reads it; the handler makes only async-signal-safe calls (poll,
    // signal, raise) on locals.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigpipe as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGPIPE, &action, std::ptr::null_mut());
    }
}

/// Undoes [`exit_quietly_on_closed_stdout`] for a program that reports a
/// closed stdout or stderr itself and keeps serving (lesson 05's hardened
/// server): SIGPIPE is ignored again, as Rust programs start, so a write
/// to a pipe nobody reads fails with "broken pipe" instead of ending the
/// process. On Windows it does nothing.
pub fn keep_running_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN has no
    // preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// SIGPIPE's handler: see [`exit_quietly_on_closed_stdout`].
#[cfg(unix)]
extern "C" fn on_sigpipe(_signal: libc::c_int) {
    let mut fds = [libc::STDOUT_FILENO, libc::STDERR_FILENO].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    });
    // SAFETY: poll writes only the `revents` of the two local entries, and
    // with a timeout of 0 it never blocks.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, 0) };
    let closed = ready > 0
        && fds
            .iter()
            .any(|fd| fd.revents & (libc::POLLERR | libc::POLLHUP) != 0);
    if closed {
        // SAFETY: both calls are async-signal-safe. SIGPIPE stays blocked
        // while this handler runs, so the raised signal is delivered, with
        // its default action, the moment the handler returns.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
}

/// The open-file limit before and after [`raise_open_file_limit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFileLimit {
    /// The soft limit the process started with.
    pub before: u64,
    /// The soft limit now.
    pub after: u64,
    /// The hard limit: as far as an unprivileged process may raise it.
    pub hard: u64,
}

/// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit.
///
/// Every connected client costs the server one file descriptor, and many
/// systems start programs with a soft limit of 1024, far below what the
/// kernel allows. A server that wants thousands of clients raises it itself.
pub fn raise_open_file_limit() -> io::Result<OpenFileLimit> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the local `limit` and nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let before = limit.rlim_cur;
        let mut target = limit.rlim_max;
        if cfg!(target_os = "macos") {
            // macOS refuses more than OPEN_MAX even when the hard limit is
            // "unlimited".
            target = target.min(10_240);
        }
        if target > limit.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: target,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit only reads the local `raised`.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
                return Err(io::Error::last_os_error());
            }
            limit.rlim_cur = target;
        }
        #[allow(clippy::useless_conversion)]
        Ok(OpenFileLimit {
            before: u64::from(before),
            after: u64::from(limit.rlim_cur),
            hard: u64::from(limit.rlim_max),
        })
    }
    #[cfg(not(unix))]
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no open-file limit to raise here",
    ))
}

/// How many bytes a socket holds that the peer has not acknowledged yet:
/// its send buffer's fill (Linux's SIOCOUTQ, also called TIOCOUTQ).
pub fn unsent_bytes(socket: &Socket) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    return queue_ioctl(socket, libc::TIOCOUTQ);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the send queue size (SIOCOUTQ) is Linux-only",
        ))
    }
}

/// How many bytes have arrived in a socket's receive buffer that the program
/// has not read yet (SIOCINQ, also called FIONREAD).
pub fn unread_bytes(socket: &Socket) -> io::Result<usize> {
    #[cfg(unix)]
    return queue_ioctl(socket, libc::FIONREAD);
    #[cfg(not(unix))]
    {
        let _ = socket;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the receive queue size (FIONREAD) is not measured here",
        ))
    }
}

#[cfg(unix)]
fn queue_ioctl(socket: &Socket, request: libc::Ioctl) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut bytes: libc::c_int = 0;
    // SAFETY: both requests write one c_int through the pointer, which
    // points to a local; the descriptor is borrowed from a live socket.
    if unsafe { libc::ioctl(socket.as_raw_fd(), request, &mut bytes) } != 0 {
        return Err(io::Error::last_os_error());
    }
    usize::try_from(bytes).map_err(|_| io::Error::other("negative queue size"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn raising_the_open_file_limit_never_lowers_it() {
        let limit = raise_open_file_limit().unwrap();
        assert!(limit.after >= limit.before);
        assert!(limit.after <= limit.hard);
    }

    #[test]
    fn queue_sizes_follow_the_data() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut server = Socket::from(server);
        client.write_all(&[7; 1000]).unwrap();
        // Loopback delivers at once, but not synchronously: poll, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let client_socket = Socket::from(client.try_clone().unwrap());
        while unread_bytes(&server).unwrap() < 1000 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(unread_bytes(&server).unwrap(), 1000);
        let mut buf = [0; 400];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(unread_bytes(&server).unwrap(), 600);
        if cfg!(target_os = "linux") {
            // Delivered and acknowledged: nothing left in the send buffer.
            while unsent_bytes(&client_socket).unwrap() > 0 && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            assert_eq!(unsent_bytes(&client_socket).unwrap(), 0);
        }
    }

    #[test]
    fn a_send_on_a_closed_socket_still_fails_with_an_error() {
        // With SIGPIPE's plain default action this test would kill its own
        // process: socket2's send does not pass MSG_NOSIGNAL on Linux.
        exit_quietly_on_closed_stdout();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = Socket::from(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let server = Socket::from(listener.accept().unwrap().0);
        server.set_linger(Some(std::time::Duration::ZERO)).unwrap();
        drop(server); // a reset: the client's next sends fail
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let err = loop {
            match client.send(b"hello") {
                Ok(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Ok(_) => panic!("send kept succeeding on a reset connection"),
                Err(err) => break err,
            }
        };
        let err = match err.kind() {
            // The first failure reports the reset; the next one is EPIPE,
            // the case that raises SIGPIPE.
            std::io::ErrorKind::ConnectionReset => client.send(b"again").unwrap_err(),
            _ => err,
        };
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
}
