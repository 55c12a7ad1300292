#!/usr/bin/env bash
# The whole test suite (README's second command; .ci/run runs exactly this).
# Installs what is missing (.ci/deps --python), then: fmt check, clippy, one release build that
# the Rust tests (unit + golden) and the end-to-end tests (real binaries, openai SDK, botocore)
# all reuse.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/deps --python
cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
cargo build --release --bins
cargo test --release
.venv/bin/pytest -q tests/e2e "$@"
