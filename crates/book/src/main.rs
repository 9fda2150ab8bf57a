//! `book`: stages the course's book for mdBook, and dedents its included
//! regions as an mdBook preprocessor. `bash docs/book.sh` runs it; see the
//! library's documentation.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: book stage REPO OUT
         stage the book's sources from the repository REPO into OUT/en and
         OUT/zh-CN (bash docs/book.sh runs it, then mdBook)
       book dedent [supports RENDERER]
         mdBook's preprocessor (mdBook runs it)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["stage", repo, out] => stage(repo, out),
        ["dedent", "supports", _] => Ok(()),
        ["dedent"] => book::preprocessor::run(io::stdin().lock(), io::stdout().lock()),
        ["--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("book: {err}");
            ExitCode::FAILURE
        }
    }
}

fn stage(repo: &str, out: &str) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let out = PathBuf::from(out);
    let staged = book::stage::stage(repo.as_ref(), &out, &exe.to_string_lossy())?;
    eprintln!(
        "book: staged {} chapters and {} source pages per language, {} included regions in all, in {}",
        staged.chapters,
        staged.source_pages,
        staged.includes,
        out.display()
    );
    Ok(())
}
