#!/usr/bin/env bash
# M1+M2 (Kingma et al. 2014, section 3.2) against the supervised classifier: for seeds 1-3, an M1
# VAE (m1.toml, its own seed) on every training image without labels, its posterior means written
# out (elbo encode --means-only: training and validation images, then the test images), and on
# them M2 (m1m2.toml) and the same q(y|x) network trained on the labelled codes alone, with 100
# and 1000 labels. Prints one row per run and the mean test error per setting (all 10,000 test
# images); run.sh gives the classifier on the pixels.
# Usage: bash examples/m2-semi-supervised/m1m2.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/m1m2}
ELBO=${ELBO:-build/elbo}
mkdir -p "$out"
: > "$out.txt"
for seed in 1 2 3; do
  m1=$out/m1-$seed
  if [ ! -f "$m1/checkpoint.pt" ]; then
    "$ELBO" train examples/m2-semi-supervised/m1.toml --set train.seed="$seed" --out "$m1" > "$m1.log" 2>&1 \
      || { cat "$m1.log"; exit 1; }
  fi
  "$ELBO" encode "$m1" --split train --means-only --out "$m1/train.csv" > /dev/null
  "$ELBO" encode "$m1" --means-only --out "$m1/test.csv" > /dev/null
  for labels in 100 1000; do
    for type in m2 classifier; do
      dir=$out/$type-$labels-$seed
      "$ELBO" train examples/m2-semi-supervised/m1m2.toml --set "data.dir=\"$m1\"" --set data.labelled="$labels" \
        --set train.seed="$seed" --set "model.type=\"$type\"" --out "$dir" > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
      /usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["classification"]; print(sys.argv[2], "%.2f" % (100*e["error"]))' \
        "$dir/evaluation.json" "M1+$type $labels labels seed $seed test error %" | tee -a "$out.txt"
    done
  done
done
/usr/bin/python3 examples/m2-semi-supervised/summarize.py "$out.txt"
