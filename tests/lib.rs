//! Cross-lesson tests for the socket-lessons course.
//!
//! The test targets are `interop.rs` (lessons talking to each other and to
//! the tutorial's Python peers), `walkthroughs.rs` (every walkthrough's
//! code blocks match the source they quote), `exercises.rs` (every
//! exercise's starter matches its finished program), `translations.rs`
//! (every Chinese document follows its English twin), `book.rs` (the
//! course as a website, built and read as a browser reads it) and
//! `help.rs`. This library holds the checkers, so that they have unit tests
//! of their own: a check that cannot fail would be worse than none.

pub mod site;
pub mod starter;
pub mod translation;
pub mod walkthrough;
