//! The grader of the socket course, as a library: the binary `grader` is a
//! thin command line over it (see `docs/grading.md`).
//!
//! - [`catalog`]: the lessons, their checks, points and hints;
//! - [`i18n`]: English or Chinese (`--lang`, or the locale), for every
//!   text a person reads: [`i18n::Text`] and [`tr!`];
//! - [`lessons`]: how each lesson's checks play the other side of the
//!   conversation;
//! - [`run`]: what the checks share: placeholders, timeouts, outcomes;
//! - [`sandbox`]: running an untrusted program: its own process group,
//!   resource limits, capped output, and nothing left behind;
//! - [`jail`]: what keeps one submission's programs apart: namespaces, a
//!   private work space, a user of their own, a memory cgroup;
//! - [`probe`]: is anything listening on a port, asked without connecting;
//! - [`report`]: the report, as text, JSON, JUnit XML or Gradescope's
//!   `results.json`;
//! - [`exercise`]: the students' exercises, built and run by default;
//! - [`batch`]: a whole class at once, with a CSV for the gradebook;
//! - [`cli`]: the `grader` command line.
//!
//! It runs on Linux and other Unix systems.
#![cfg(unix)]

pub mod batch;
pub mod catalog;
pub mod cli;
pub mod exercise;
pub mod i18n;
pub mod jail;
pub mod lessons;
pub mod probe;
pub mod report;
pub mod run;
pub mod sandbox;
