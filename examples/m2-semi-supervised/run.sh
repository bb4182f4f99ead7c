#!/usr/bin/env bash
# M2 against the supervised classifier (the same q(y|x) network on the labelled images
# alone), 100 and 1000 labels, seeds 1-3, the same epochs; prints one row per run and the
# mean test error per setting. Usage: bash examples/m2-semi-supervised/run.sh [EPOCHS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-10}
out=${2:-runs/m2-semi-supervised}
elbo=${ELBO:-build/elbo}  # a copy keeps the runs apart from rebuilds
mkdir -p "$out"
for labels in 100 1000; do
  for seed in 1 2 3; do
    for type in m2 classifier; do
      dir=$out/$type-$labels-$seed
      $elbo train examples/m2-semi-supervised/config.toml --out "$dir" \
        --set data.labelled=$labels --set train.seed=$seed --set train.epochs=$epochs \
        --set "model.type=\"$type\"" > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
      /usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["classification"]; print(sys.argv[2], "%.2f" % (100*e["error"]))' \
        "$dir/evaluation.json" "$type $labels labels seed $seed test error %"
    done
  done
done | tee "$out.txt"
/usr/bin/python3 - "$out.txt" <<'PY'
import collections, sys
errors = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    errors[(parts[0], int(parts[1]))].append(float(parts[-1]))
for (kind, labels), e in sorted(errors.items()):
    print(f"{kind:10s} {labels:5d} labels: mean test error {sum(e)/len(e):.2f}% over {len(e)} seeds ({', '.join(f'{v:.2f}' for v in e)})")
PY
