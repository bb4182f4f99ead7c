#!/usr/bin/env bash
# Quick start, command 2: install and build if needed, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash tests/browser/install.sh build   # chromium, Node.js and the npm packages of the report's browser test
ctest --test-dir build -j"$(nproc)" --output-on-failure "$@"
