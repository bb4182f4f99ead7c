#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) into build-fuzz/
# and runs each for a fixed time on its seed corpus (fuzz/corpus/<target>/,
# copied to build-fuzz/corpus/<target>/ so new inputs stay out of the clone).
# Prints the executions per target; exits non-zero on any crash, leaving the
# input in build-fuzz/artifacts/<target>/ (reproduce: build-fuzz/fuzz/<target> FILE).
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx_fuzzer csv_fuzzer fasta_fuzzer config_fuzzer cif_fuzzer checkpoint_fuzzer)
if ! command -v clang++ > /dev/null; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

mkdir -p build-fuzz
cmake -S . -B build-fuzz -DELBO_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo > build-fuzz/build.log 2>&1 \
  || { cat build-fuzz/build.log; exit 1; }
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}" >> build-fuzz/build.log 2>&1 || { tail -40 build-fuzz/build.log; exit 1; }

# LibTorch and zlib are not instrumented; leaks inside LibTorch's allocator caches are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=""
for t in "${targets[@]}"; do
  name=${t%_fuzzer}
  corpus=build-fuzz/corpus/$name
  artifacts=build-fuzz/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$name"/* "$corpus"/ 2> /dev/null || true
  log=build-fuzz/$t.log
  echo "fuzz: $t for ${seconds}s"
  if build-fuzz/fuzz/"$t" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
       -artifact_prefix="$artifacts"/ -print_final_stats=1 > "$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log and $artifacts/)"
    status=1
    grep -A30 -m1 "ERROR\|runtime error\|deadly signal" "$log" | head -40 || true
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  summary+=$(printf '  %-14s %10s executions  %-10s corpus %4d files  %s' "$t" "${runs:-?}" "${cov:-}" \
                    "$(ls "$corpus" | wc -l)" "$result")$'\n'
done
echo "fuzz summary (${seconds}s per target):"
printf '%s' "$summary"
exit $status
