#!/usr/bin/env bash
# The whole test suite (README's second command; .ci/run runs exactly this).
# Installs what is missing (.ci/deps --python), then: fmt check, clippy (lints table: no unwrap,
# expect or panic outside tests, docs on public items), a build without the simulator feature,
# rustdoc with warnings denied, cargo-deny (licenses, bans, sources), one release build that
# `basalt --check` (every file in conf/, and the guide's manifests in conf/guide/), the Rust tests (unit, golden, layering, in-process
# request path) and the end-to-end tests (real binaries, openai SDK, botocore) all reuse.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/deps --python
step() { printf '\n== %s\n' "$*" >&2; }
step fmt;    cargo fmt --all -- --check
step clippy; cargo clippy --release --all-targets -- -D warnings
step "build without the simulator"; cargo check --release --no-default-features --lib --bins
step rustdoc; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --lib
step cargo-deny; cargo deny --log-level error check licenses bans sources
step build;  cargo build --release --bins
step "--check conf/"; for f in conf/*.yaml conf/guide; do target/release/basalt --check --config "$f"; done
step "cargo test"; cargo test --release
step e2e;    .venv/bin/pytest -q tests/e2e "$@"
