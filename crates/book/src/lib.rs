//! The course as a book: mdBook sources staged from the walkthroughs, in
//! English and in Chinese.
//!
//! `bash docs/book.sh` runs `book stage` (see [`stage`]) and then mdBook
//! on each language; mdBook runs `book dedent` (see [`preprocessor`]) on
//! the way. The chapters are the walkthroughs themselves, never a copy
//! kept in the repository, and their code is included by mdBook from the
//! anchored source.

pub mod markdown;
pub mod paths;
pub mod preprocessor;
pub mod stage;
