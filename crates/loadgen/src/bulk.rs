//! Bulk transfers: a known pattern of bytes, sent in uneven chunks and
//! verified on arrival by count and SHA-256.

use std::io::{self, Read, Write};
use std::net::TcpStream;
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
}
