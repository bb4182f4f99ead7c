#!/usr/bin/env bash
# No lost work: a training run killed with SIGKILL at several moments (before
# its first checkpoint, right after a checkpoint appears, a little after one)
# and continued with --resume each time ends with a checkpoint whose tensors
# are bit-identical to an uninterrupted run's (same seeds, same machine). SIGTERM and SIGINT
# make it write a checkpoint and exit with 130, and the resumed run again
# matches. Uses a slice of Fashion-MNIST (fails without the data set).
#
# usage: kill_resume_test.sh path/to/elbo
set -u
ELBO="$1"
DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  echo "FAIL: needs $DATA from Debian's dataset-fashion-mnist (bash scripts/setup.sh installs it)"; exit 1
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# 2000 training examples in batches of 50: 40 steps per epoch, 120 in all, a checkpoint every 7 steps.
TINY=(--set data.max_train=2200 --set data.max_test=100 --set data.validation=200 --set model.hidden=[64]
      --set model.latent_dim=4 --set train.epochs=3 --set train.batch_size=50 --set train.checkpoint_every=7
      --set eval.k=5 --set eval.n=20 --set report.samples=4)

"$ELBO" train "${TINY[@]}" --out "$W/ref" > "$W/ref.log" 2>&1 || { cat "$W/ref.log"; fail "reference run"; exit 1; }
echo "ok   reference run"

# same_tensors A B: both checkpoints hold bit-identical tensor data (weights, info, config and
# Adam's moments). Compared as a multiset of the archive's data records: LibTorch 1.13 stores
# the optimizer state in hash-map order (keyed by tensor addresses), which varies per process.
same_tensors() {
  python3 - "$1" "$2" <<'PY'
import sys, zipfile
def blobs(path):
    with zipfile.ZipFile(path) as z:
        return sorted(z.read(n) for n in z.namelist() if "/data/" in n and not n.endswith(".pkl"))
a, b = blobs(sys.argv[1]), blobs(sys.argv[2])
sys.exit(0 if a == b and len(a) > 0 else 1)
PY
}

step_of() { [ -f "$1/checkpoint.pt" ] && cksum < "$1/checkpoint.pt" || echo none; }

# start DIR: a fresh run, or --resume when DIR has a checkpoint; sets PID.
start() {
  if [ -f "$1/checkpoint.pt" ]; then "$ELBO" train --out "$1" --resume >> "$W/run.log" 2>&1 &
  else "$ELBO" train "${TINY[@]}" --out "$1" >> "$W/run.log" 2>&1 & fi
  PID=$!
}

# wait_new_checkpoint DIR BEFORE: until the checkpoint differs from BEFORE (or the run ended / 120 s).
wait_new_checkpoint() {
  for _ in $(seq 6000); do
    [ "$(step_of "$1")" != "$2" ] && return 0
    kill -0 "$PID" 2> /dev/null || return 1
    sleep 0.02
  done
  return 1
}

# finish DIR: resume until done (no kill) and compare with the reference.
finish() {
  local name=$1 dir=$2
  if "$ELBO" train --out "$dir" --resume >> "$W/run.log" 2>&1; then
    if same_tensors "$W/ref/checkpoint.pt" "$dir/checkpoint.pt"; then echo "ok   $name: final checkpoint bit-identical to the uninterrupted run"
    else fail "$name: final checkpoint differs from the uninterrupted run"; fi
    jq -e -s 'any(.[]; .type == "epoch" and .step == 120)' "$dir/metrics.jsonl" > /dev/null || fail "$name: metrics.jsonl lacks the last epoch"
    [ -s "$dir/report.html" ] || fail "$name: no report"
  else
    fail "$name: the last resume failed:"; tail -20 "$W/run.log"
  fi
}

# --- SIGKILL at several moments
RUN="$W/killed"
kills=0
start "$RUN"; sleep 0.3; kill -KILL "$PID" 2> /dev/null && kills=$((kills + 1)); wait "$PID" 2> /dev/null
for delay in 0 0.05 0 0.15 0.01; do
  before=$(step_of "$RUN")
  start "$RUN"
  if wait_new_checkpoint "$RUN" "$before"; then
    sleep "$delay"
    kill -KILL "$PID" 2> /dev/null && kills=$((kills + 1))
  fi
  wait "$PID" 2> /dev/null
done
echo "     (SIGKILLed $kills times)"
[ "$kills" -ge 4 ] || fail "expected at least 4 kills mid-run, got $kills"
finish "SIGKILL + --resume" "$RUN"

# --- SIGTERM and SIGINT: checkpoint, message, exit 130
for sig in TERM INT; do
  RUN="$W/sig$sig"
  : > "$W/run.log"
  start "$RUN"
  if wait_new_checkpoint "$RUN" none; then
    sleep 0.1
    kill -"$sig" "$PID"
    wait "$PID"; code=$?
    [ "$code" -eq 130 ] || fail "SIG$sig: expected exit 130, got $code"
    grep -q "interrupted; checkpoint written at step" "$W/run.log" || fail "SIG$sig: no interruption message"
    echo "ok   SIG$sig: exit 130 at step $(grep -o 'written at step [0-9]*' "$W/run.log" | tail -1 | grep -o '[0-9]*$')"
    finish "SIG$sig + --resume" "$RUN"
  else
    fail "SIG$sig: no checkpoint appeared"; wait "$PID"
  fi
done

# A kill mid-write leaves checkpoint.pt.tmp.<pid>; the next `elbo train` in that directory removes it.
leftover=$(find "$W" -name '*.tmp.*' | wc -l)
[ "$leftover" -eq 0 ] || fail "$leftover temporary files left behind: $(find "$W" -name '*.tmp.*')"
echo "kill_resume: $failures failure(s)"
[ "$failures" -eq 0 ]
