//! Bulk transfers: a known pattern of bytes, sent in uneven chunks and
//! verified on arrival by count and SHA-256.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The course's bulk pattern: byte `i` is `i % 251`. (251 is prime, so the
/// pattern never lines up with a power-of-two buffer size, and a lost or
/// repeated chunk changes the digest.)
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// SHA-256 of `data`, as lower-case hex.
///
/// ```
/// assert_eq!(
///     loadgen::bulk::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Chunk sizes that vary between `min` and `max` bytes, from a fixed seed,
/// so that a receiver cannot rely on message sizes and every run is the
/// same.
#[derive(Clone, Debug)]
pub struct UnevenChunks {
    state: u64,
    min: usize,
    max: usize,
}

impl UnevenChunks {
    /// Sizes between `min` and `max` inclusive (`min` at least 1).
    pub fn new(min: usize, max: usize, seed: u64) -> Self {
        let min = min.max(1);
        UnevenChunks {
            state: seed | 1,
            min,
            max: max.max(min),
        }
    }
}

impl Iterator for UnevenChunks {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        // xorshift64: small, fast, and the same everywhere.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let span = (self.max - self.min + 1) as u64;
        Some(self.min + (self.state % span) as usize)
    }
}

/// Writes all of `data` in chunks of the sizes `chunks` gives, each with
/// `write_all` (so a partial send is finished before the next chunk).
/// Returns how many chunks it took.
pub fn send_in_chunks(
    stream: &mut TcpStream,
    data: &[u8],
    chunks: impl Iterator<Item = usize>,
) -> io::Result<usize> {
    let mut sent = 0;
    let mut count = 0;
    for size in chunks {
        if sent >= data.len() {
            break;
        }
        let end = (sent + size).min(data.len());
        stream.write_all(&data[sent..end])?;
        sent = end;
        count += 1;
    }
    Ok(count)
}

/// What arrived on a stream until its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// How many bytes.
    pub bytes: u64,
    /// Their SHA-256, as lower-case hex.
    pub sha256: String,
    /// How many reads it took.
    pub reads: u64,
    /// Whether the stream ended (the sender closed) rather than the limit
    /// or the deadline stopping the read.
    pub ended: bool,
}

/// Reads until end of stream, `limit` bytes, or `deadline`, whichever comes
/// first, hashing as it goes (nothing is kept), with reads of `read_size`.
pub fn receive_all(
    stream: &mut TcpStream,
    read_size: usize,
    limit: u64,
    deadline: Duration,
) -> io::Result<Received> {
    let until = Instant::now() + deadline;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; read_size.max(1)];
    let (mut bytes, mut reads) = (0u64, 0u64);
    let mut ended = false;
    while bytes < limit && Instant::now() < until {
        match stream.read(&mut buffer) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(n) => {
                hasher.update(&buffer[..n]);
                bytes += n as u64;
                reads += 1;
            }
            Err(err) if crate::pingpong::is_timeout(&err) => continue,
            Err(err) => return Err(err),
        }
    }
    Ok(Received {
        bytes,
        sha256: hex(&hasher.finalize()),
        reads,
        ended,
    })
}

/// A bulk transfer to a sink: a server that counts what it receives until
/// end of stream and replies with the count in ASCII digits (lesson 06's
/// exercise), or with the SHA-256 of it in hex.
#[derive(Clone, Debug)]
pub struct ToSink {
    /// The sink, on loopback.
    pub addr: SocketAddr,
    /// Bytes to send: the [`pattern`], byte `i` being `i % 251`.
    pub bytes: u64,
    /// Bytes per `write`.
    pub chunk: usize,
    /// How long one write, or waiting for the reply, may take.
    pub io_timeout: Duration,
    /// How long the whole transfer may take.
    pub deadline: Duration,
}

impl ToSink {
    /// A transfer with 10 s per write or reply and 120 s in all.
    pub fn new(addr: SocketAddr, bytes: u64, chunk: usize) -> Self {
        ToSink {
            addr,
            bytes,
            chunk: chunk.max(1),
            io_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
        }
    }

    /// Connects, sends, shuts down the sending half, reads the reply and
    /// checks it. The time runs from the connection to the reply: the sink
    /// has read every byte by then.
    pub fn run(&self) -> io::Result<SinkReport> {
        let mut stream = crate::connect(self.addr, self.io_timeout, self.io_timeout)?;
        // One buffer a little longer than a chunk holds the pattern from
        // offset 0; `sent % 251` says where the next chunk starts in it.
        let source = pattern(self.chunk + 251);
        let started = Instant::now();
        let until = started + self.deadline;
        let (mut sent, mut writes) = (0u64, 0u64);
        while sent < self.bytes {
            if Instant::now() >= until {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("sent {sent} of {} bytes before the deadline", self.bytes),
                ));
            }
            let start = (sent % 251) as usize;
            let len = (self.bytes - sent).min(self.chunk as u64) as usize;
            stream.write_all(&source[start..start + len])?;
            sent += len as u64;
            writes += 1;
        }
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut reply = Vec::new();
        let mut buffer = [0u8; 128];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) if reply.len() + n <= 1024 => reply.extend_from_slice(&buffer[..n]),
                Ok(_) => break,
                Err(err) => return Err(err),
            }
        }
        let elapsed = started.elapsed();
        let verified = self.check(&reply);
        Ok(SinkReport {
            bytes: sent,
            writes,
            reply,
            verified,
            elapsed,
        })
    }

    fn check(&self, reply: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(reply);
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u64>() {
                Ok(n) if n == self.bytes => Ok(()),
                _ => Err(format!(
                    "the sink counted {text} bytes, {} were sent",
                    self.bytes
                )),
            };
        }
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut hasher = Sha256::new();
            let block = pattern(251 * 4096);
            let mut left = self.bytes;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                hasher.update(&block[..n]);
                left -= n as u64;
            }
            let expected = hex(&hasher.finalize());
            return if text.eq_ignore_ascii_case(&expected) {
                Ok(())
            } else {
                Err(format!("the sink's SHA-256 is {text}, expected {expected}"))
            };
        }
        Err(format!(
            "the sink replied {:?}, neither a byte count nor a SHA-256",
            String::from_utf8_lossy(reply)
        ))
    }
}

/// The outcome of a [`ToSink`] transfer.
#[derive(Clone, Debug)]
pub struct SinkReport {
    /// Bytes sent.
    pub bytes: u64,
    /// `write` calls it took.
    pub writes: u64,
    /// What the sink replied.
    pub reply: Vec<u8>,
    /// Whether the reply matches what was sent.
    pub verified: Result<(), String>,
    /// From the connection to the end of the reply.
    pub elapsed: Duration,
}

impl SinkReport {
    /// Throughput in MB/s (10^6 bytes per second).
    pub fn megabytes_per_second(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn uneven_chunks_vary_and_stay_in_range() {
        let sizes: Vec<usize> = UnevenChunks::new(1, 100, 7).take(1000).collect();
        assert!(sizes.iter().all(|&s| (1..=100).contains(&s)));
        let distinct: std::collections::BTreeSet<_> = sizes.iter().collect();
        assert!(distinct.len() > 50);
        let again: Vec<usize> = UnevenChunks::new(1, 100, 7).take(1000).collect();
        assert_eq!(sizes, again, "the same seed gives the same sizes");
    }

    #[test]
    fn a_transfer_arrives_whole_with_the_same_digest() {
        let data = pattern(1 << 20);
        let expected = sha256_hex(&data);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            let n = send_in_chunks(&mut stream, &data, UnevenChunks::new(1, 70_000, 3)).unwrap();
            assert!(n > 10);
        });
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let got = receive_all(&mut conn, 4096, u64::MAX, Duration::from_secs(30)).unwrap();
        sender.join().unwrap();
        assert!(got.ended);
        assert_eq!(got.bytes, 1 << 20);
        assert_eq!(got.sha256, expected);
    }

    #[test]
    fn the_pattern_matches_its_definition() {
        let p = pattern(600);
        assert_eq!(p[250], 250);
        assert_eq!(p[251], 0);
        assert_eq!(p[599], (599 % 251) as u8);
    }

    #[test]
    fn a_sink_transfer_is_verified_by_count_or_digest() {
        for digest in [false, true] {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let sink = std::thread::spawn(move || {
                let (mut conn, _) = listener.accept().unwrap();
                let mut data = Vec::new();
                conn.read_to_end(&mut data).unwrap();
                let reply = if digest {
                    sha256_hex(&data)
                } else {
                    data.len().to_string()
                };
                conn.write_all(reply.as_bytes()).unwrap();
            });
            let report = ToSink::new(addr, 1_000_003, 4096).run().unwrap();
            sink.join().unwrap();
            assert_eq!(report.verified, Ok(()), "digest: {digest}");
            assert_eq!(report.bytes, 1_000_003);
            assert!(report.megabytes_per_second() > 0.0);
        }
    }

    #[test]
    fn a_wrong_count_is_reported() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut data = Vec::new();
            conn.read_to_end(&mut data).unwrap();
            conn.write_all(b"1024").unwrap();
        });
        let report = ToSink::new(addr, 5000, 100).run().unwrap();
        sink.join().unwrap();
        assert!(report.verified.unwrap_err().contains("counted 1024"));
    }
}
