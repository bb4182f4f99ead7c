#!/usr/bin/env bash
# Missing data, measured: (1) MIWAE imputation of UCI tables against mean imputation and
# scikit-learn's KNN and iterative imputers on the same MCAR masks (bench/impute_baselines.py);
# (2) Fashion-MNIST with the bottom half or 50% of the pixels hidden: test log p(x_obs) (IWAE,
# K = 1000) and imputation scores of MIWAE-5 against the zero-imputation VAE on the same masks.
# Usage: bash examples/missing-data/run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/missing-data}
ELBO=${ELBO:-build/elbo}
mkdir -p "$out"
/usr/bin/python3 bench/impute_baselines.py --elbo "$ELBO" --workdir "$out/tables" | tee "$out/tables.txt"
for pattern in bottom_half mcar; do
  for model in miwae vae; do
    dir=$out/fashion-$pattern-$model
    sets=(--set "data.missing=\"$pattern\"" --set data.missing_rate=0.5)
    [ "$pattern" = mcar ] && sets+=(--set data.missing_rows=1.0)
    [ "$model" = vae ] && sets+=(--set 'objective.type="elbo"' --set objective.particles=1 --set model.encoder_mask=false)
    "$ELBO" train examples/missing-data/fashion.toml --out "$dir" "${sets[@]}" > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
    /usr/bin/python3 -c 'import json, sys
e = json.load(open(sys.argv[1])); i = e["imputation"]
print("| %s | %s | %.2f ± %.2f | %.2f | %.4f | %.3f | %.3f | %.4f |" % (sys.argv[2], sys.argv[3], e["log_px"], e["log_px_se"],
      e["elbo"], i["rmse"], i["coverage50"], i["coverage90"], i["log_likelihood"]))' "$dir/evaluation.json" "$pattern" "$model" \
      | tee -a "$out/fashion.txt"
  done
done
