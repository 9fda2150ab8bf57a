//! Cross-lesson tests for the socket-lessons course.
//!
//! The test targets are `interop.rs` (lessons talking to each other and to
//! the tutorial's Python peers) and `walkthroughs.rs` (every walkthrough's
//! code blocks match the source they quote). This library holds the
//! walkthrough checker, so that it has unit tests of its own: a check that
//! cannot fail would be worse than none.

pub mod walkthrough;
