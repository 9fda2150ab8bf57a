//! The lesson's six experiments, one per file. Each prints its own heading
//! and measurements, and works on a fresh connected pair from [`common`].

mod boundaries;
mod common;
mod early;
mod fill;
mod partial;
mod read_size;
mod sizes;

use netcore::Error;

/// The experiments in the order `cargo run -p lesson-06` runs them:
/// `cargo run -p lesson-06 -- N` runs `ALL[N - 1]`.
pub(crate) const ALL: [fn() -> Result<(), Error>; 6] = [
    sizes::buffer_sizes,
    early::send_returns_early,
    fill::fill_until_blocked,
    boundaries::no_message_boundaries,
    partial::partial_send,
    read_size::read_size_and_throughput,
];
