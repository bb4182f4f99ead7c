#!/usr/bin/env bash
# CI after the main test suite (scripts/test.sh already ran the bad-input corpus
# and the kill-and-resume test through ctest):
#   1. a bounded fuzz pass: each parser's libFuzzer target for FUZZ_SECONDS (default 20 s each).
#      checkpoint_fuzzer is left to `scripts/fuzz.sh 600 checkpoint_fuzzer`: it instruments the
#      model families (about 75 LibTorch sources, ~20 min of clang on 2 cores before ccache has
#      them); CI runs its findings as tests/bad_inputs/ cases and the archive check's unit tests;
#   2. the unit tests of the parser and math modules built with ASan + UBSan.
# The sanitizer build covers ELBO_SANITIZE_MODULES (default core;dist;data;report:
# the readers, config, distributions and report writers). model/nn/objective/diag/train
# are LibTorch graph code whose tests train networks: under ASan they would take
# longer than the rest of CI together on 2 cores. Run them with
#   ELBO_SANITIZE_MODULES= scripts/ci_extra.sh      (empty = every module)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# libFuzzer and the sanitizer runtimes come with clang.
ELBO_EXTRA_PACKAGES="clang libclang-rt-14-dev" bash scripts/setup.sh

bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}" idx_fuzzer csv_fuzzer fasta_fuzzer config_fuzzer cif_fuzzer

modules=${ELBO_SANITIZE_MODULES-core;dist;data;report}
echo "ci: sanitizer build (modules: ${modules:-all})"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DELBO_SANITIZE=ON -DELBO_BUILD_BENCH=OFF \
  "-DELBO_MODULES=$modules" > build-asan.log 2>&1 || { cat build-asan.log; exit 1; }
cmake --build build-asan -j"$(nproc)" >> build-asan.log 2>&1 || { tail -50 build-asan.log; exit 1; }
# LibTorch is not instrumented: its static caches read as leaks at exit, and its
# own allocations are invisible to ASan. Everything compiled here is checked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan -j"$(nproc)" --output-on-failure -E 'install_consumer'
