#!/usr/bin/env bash
# M2 against the supervised classifier (the same q(y|x) network on the labelled images
# alone): 100 and 1000 labels, seeds 1-3, the same config and epochs. Prints one row per
# run and the mean test error per setting (all 10,000 test images).
# Usage: bash examples/m2-semi-supervised/run.sh [OUT] [JOBS]   (JOBS runs at a time, one BLAS thread each)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/m2-semi-supervised}
jobs=${2:-1}
export ELBO=${ELBO:-build/elbo}  # a copy of the binary keeps the runs apart from rebuilds
mkdir -p "$out"
[ "$jobs" -gt 1 ] && export OPENBLAS_NUM_THREADS=1
one() {  # one TYPE LABELS SEED OUT: trains and prints the test error
  local dir=$4/$1-$2-$3
  "$ELBO" train examples/m2-semi-supervised/config.toml --out "$dir" --set data.labelled="$2" --set train.seed="$3" \
    --set "model.type=\"$1\"" --set eval.n=0 --set eval.k=10 > "$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
  /usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["classification"]; print(sys.argv[2], "%.2f" % (100*e["error"]))' \
    "$dir/evaluation.json" "$1 $2 labels seed $3 test error %"
}
export -f one
for labels in 100 1000; do for seed in 1 2 3; do for type in m2 classifier; do echo "$type $labels $seed $out"; done; done; done |
  xargs -P "$jobs" -L 1 bash -c 'one "$@"' _ | tee "$out.txt"
/usr/bin/python3 examples/m2-semi-supervised/summarize.py "$out.txt"
