#!/usr/bin/env bash
# Builds the course as a book, a static website in English and in Chinese:
#
#   bash docs/book.sh               # then open target/book/en/index.html
#   bash docs/book.sh --no-install  # exit 3 instead of installing mdBook
#
# The chapters are the walkthroughs themselves: `book stage` (crates/book)
# stages them, with the summaries and book.toml files of docs/book/, into
# target/book-src/{en,zh-CN}, their code included from the anchored
# source; mdBook builds each into target/book/{en,zh-CN}. mdBook is
# installed from crates.io when the pinned version is missing, once, into
# a folder of its own (SOCKET_LESSONS_TOOLS, by default
# ~/.cache/socket-lessons), so that an mdBook of another version that you
# use elsewhere is left alone. The book's tests: tests/book.rs.
set -euo pipefail

# The one place the version is pinned: a new mdBook can change the HTML the
# tests read, so it is upgraded on purpose, with the tests run.
MDBOOK_VERSION=0.5.4

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${SOCKET_LESSONS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/socket-lessons}"
installed="$tools/mdbook-$MDBOOK_VERSION"

die() {
  echo "docs/book.sh: $*" >&2
  exit 1
}

install=1
case "${1:-}" in
  "") ;;
  --no-install) install=0 ;;
  -h | --help)
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *)
    echo "docs/book.sh: unknown option '$1' (the options are --no-install and --help)" >&2
    exit 2
    ;;
esac

# The mdBook of the pinned version: ours, or one on the PATH.
find_mdbook() {
  local candidate
  for candidate in "$installed/bin/mdbook" "$(command -v mdbook || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] &&
      [ "$("$candidate" --version 2>/dev/null)" = "mdbook v$MDBOOK_VERSION" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! mdbook="$(find_mdbook)"; then
  if [ "$install" = 0 ]; then
    echo "docs/book.sh: mdBook $MDBOOK_VERSION is not installed; run 'bash docs/book.sh' to install it" >&2
    exit 3
  fi
  command -v cargo >/dev/null 2>&1 ||
    die "cargo is needed to install mdBook $MDBOOK_VERSION: install Rust (https://rustup.rs)"
  echo "docs/book.sh: installing mdBook $MDBOOK_VERSION into $installed (a few minutes, once)" >&2
  # Only the `search` feature: the book needs no `serve` or `watch` (a web
  # server and a file watcher, a third of the build). --locked builds the
  # dependencies mdBook was released with. CARGO_TARGET_DIR is unset so
  # that cargo builds in a folder of its own and removes it afterwards.
  env -u CARGO_TARGET_DIR cargo install mdbook --version "$MDBOOK_VERSION" --locked \
    --no-default-features --features search --root "$installed" ||
    die "cargo could not install mdBook $MDBOOK_VERSION (its messages are above)"
  mdbook="$(find_mdbook)" ||
    die "$installed/bin/mdbook --version does not say mdbook v$MDBOOK_VERSION after installing it"
fi

cd "$root"
staged="$root/target/book-src"
site="$root/target/book"
cargo run --quiet -p book -- stage "$root" "$staged" ||
  die "could not stage the book's sources (the problem is above)"

for lang in en zh-CN; do
  # mdBook reports a failed include or a broken summary on stderr, at
  # times without failing: any warning or error fails the build here.
  if ! log="$("$mdbook" build "$staged/$lang" --dest-dir "$site/$lang" 2>&1)"; then
    echo "$log" >&2
    die "mdBook could not build the $lang book (its messages are above)"
  fi
  if grep -E 'WARN|ERROR' <<<"$log" >&2; then
    die "mdBook warned while building the $lang book (above)"
  fi
done

cat <<EOF
docs/book.sh: the book is built (mdBook $MDBOOK_VERSION). Open it in a browser:
  English: $site/en/index.html
  中文:    $site/zh-CN/index.html
EOF
