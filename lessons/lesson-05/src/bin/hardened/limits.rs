//! The hardened server's limits: how many clients it serves at once, how
//! many of them one address may hold, and how long a client may keep its
//! place without sending.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The places for clients: at most `max_clients` at once, and at most
/// `max_per_address` from one address, so that one machine cannot take
/// every place. No limit when `max_clients` is `None` (the tutorial's
/// server has none).
#[derive(Debug)]
pub(crate) struct Slots {
    max_clients: Option<usize>,
    max_per_address: Option<usize>,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a client was refused a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Full {
    /// `max_clients` clients are connected.
    Server { connected: usize, max: usize },
    /// Its address holds `max_per_address` places already.
    Address { held: usize, max: usize },
}

impl Slots {
    /// Places for `max_clients` clients, `max_per_address` of them from one
    /// address.
    pub(crate) fn new(max_clients: Option<usize>, max_per_address: Option<usize>) -> Arc<Self> {
        Arc::new(Slots {
            max_clients,
            max_per_address,
            held: Mutex::new(Held::default()),
        })
    }

    // ANCHOR: take
    /// Takes a place for a client from `ip`, or says why there is none.
    /// The place is given back when the [`Slot`] is dropped, however the
    /// client's thread ends.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let key = address_key(ip);
        let mut held = self.lock();
        if let Some(max) = self.max_clients
            && held.total >= max
        {
            return Err(Full::Server {
                connected: held.total,
                max,
            });
        }
        let from_here = held.by_address.get(&key).copied().unwrap_or(0);
        if let Some(max) = self.max_per_address
            && from_here >= max
        {
            return Err(Full::Address {
                held: from_here,
                max,
            });
        }
        held.total += 1;
        *held.by_address.entry(key).or_default() += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            key,
        })
    }
    // ANCHOR_END: take

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One client's place; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    key: IpAddr,
}

// ANCHOR: give_back
impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.lock();
        held.total -= 1;
        if let Some(count) = held.by_address.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.by_address.remove(&self.key);
            }
        }
    }
}
// ANCHOR_END: give_back

/// The address a place is counted against: an IPv4 address, or an IPv6
/// address's /64 prefix, since one IPv6 host is usually given a whole /64
/// of addresses.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

/// When a client that sends too little loses its place.
///
/// A plain idle timeout restarts at every byte, so a client sending one
/// byte a second keeps its place forever. Here the client starts with
/// `idle` of time, each byte it sends buys `1 / min_rate` second more, and
/// its time left never grows beyond `idle`: a client that sends nothing
/// for `idle` is closed, and so, a little later, is one that sends on
/// average fewer than `min_rate` bytes a second.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    idle: Duration,
    min_rate: u64,
    last_byte: Instant,
}

/// Why a client's time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    /// It sent nothing for the whole idle timeout.
    Idle,
    /// It sent, but on average fewer bytes a second than the minimum rate.
    TooSlow,
}

impl Deadline {
    /// A new client's deadline: `idle` from now.
    pub(crate) fn start(idle: Duration, min_rate: u64) -> Self {
        let now = Instant::now();
        Deadline {
            at: now + idle,
            idle,
            min_rate,
            last_byte: now,
        }
    }

    // ANCHOR: earn
    /// `bytes` arrived: move the deadline on by what they earn.
    pub(crate) fn received(&mut self, bytes: usize) {
        let now = Instant::now();
        self.last_byte = now;
        let earned = if self.min_rate == 0 {
            self.idle
        } else {
            Duration::from_secs_f64(bytes as f64 / self.min_rate as f64)
        };
        self.at = (self.at + earned).min(now + self.idle);
    }

    /// The time left, to give `recv` as its timeout; why it ran out when
    /// none is left.
    pub(crate) fn left(&self) -> Result<Duration, Expired> {
        let now = Instant::now();
        // A socket timeout of zero means "no timeout": ask for at least 1 ms.
        match self.at.checked_duration_since(now) {
            Some(left) if left >= Duration::from_millis(1) => Ok(left),
            _ if now.duration_since(self.last_byte) >= self.idle => Err(Expired::Idle),
            _ => Err(Expired::TooSlow),
        }
    }
    // ANCHOR_END: earn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_every_place() {
        let slots = Slots::new(Some(4), Some(2));
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 1].into();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert_eq!(
            slots.take(a).unwrap_err(),
            Full::Address { held: 2, max: 2 }
        );
        let _third = slots.take(b).unwrap();
        let _fourth = slots.take(b).unwrap();
        assert_eq!(
            slots.take([10, 0, 0, 1].into()).unwrap_err(),
            Full::Server {
                connected: 4,
                max: 4
            }
        );
        drop(first);
        assert!(slots.take(a).is_ok());
    }

    #[test]
    fn an_ipv6_host_counts_as_one_address_per_64_prefix() {
        let slots = Slots::new(None, Some(1));
        let _one = slots.take("2001:db8::1".parse().unwrap()).unwrap();
        assert!(slots.take("2001:db8::2".parse().unwrap()).is_err());
        assert!(slots.take("2001:db8:0:1::1".parse().unwrap()).is_ok());
        // An IPv4 client of an IPv6 socket counts as its IPv4 address.
        let _v4 = slots.take("::ffff:10.0.0.1".parse().unwrap()).unwrap();
        assert!(slots.take([10, 0, 0, 1].into()).is_err());
    }

    #[test]
    fn bytes_earn_time_but_never_more_than_the_idle_timeout() {
        let idle = Duration::from_secs(10);
        let mut deadline = Deadline::start(idle, 1);
        let before = deadline.at;
        deadline.received(1_000_000);
        assert!(deadline.at <= Instant::now() + idle);
        assert!(deadline.at >= before);
        // Without a minimum rate, any byte restarts the whole timeout.
        let mut plain = Deadline::start(idle, 0);
        plain.received(1);
        assert!(plain.left().unwrap() > Duration::from_secs(9));
    }

    #[test]
    fn a_trickle_runs_out_of_time() {
        // 1 byte per 1.5 s against a minimum of 1 byte/s: each byte earns
        // 1 s while 1.5 s pass. Simulated by moving the deadline back.
        let idle = Duration::from_secs(2);
        let mut deadline = Deadline::start(idle, 1);
        let mut expired = None;
        for _ in 0..10 {
            deadline.at -= Duration::from_millis(1500);
            deadline.last_byte -= Duration::from_millis(1500);
            if let Err(why) = deadline.left() {
                expired = Some(why);
                break;
            }
            deadline.received(1);
        }
        assert_eq!(expired, Some(Expired::TooSlow));
    }
}
