#!/usr/bin/env bash
# Gradescope's setup.sh: runs once, as root, when the autograder image is
# built. The autograder zip holds this repository (setup.sh and
# run_autograder at its top, copied from docs/gradescope/).
set -euo pipefail
apt-get update
# The languages a class may hand in. Leave out those it does not use.
apt-get install -y --no-install-recommends \
    ca-certificates curl build-essential python3 openjdk-17-jdk-headless nodejs
# Rust for the grader and for Rust submissions, installed for every user
# (the students' programs and builds run as a uid of their own, which
# cannot read /root).
export RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo
curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --no-modify-path
chmod -R a+rX /usr/local/rustup /usr/local/cargo
cd /autograder/source && /usr/local/cargo/bin/cargo build --release -p grader
