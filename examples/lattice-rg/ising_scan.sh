#!/usr/bin/env bash
# The Ising temperature scan of README.md: one VAE (ising.toml) per temperature and replicate
# (replicate s: data.lattice_seed = train.seed = s, so replicates share neither data nor
# initialization), then ising_tc.py reads their evaluation.json files and estimates T_c from the
# latent statistics of each replicate.
#
# usage: [SIZE=16] [REPLICATES=3] bash examples/lattice-rg/ising_scan.sh [ELBO=build/elbo] [OUT=runs/lattice/ising-scan]
set -euo pipefail
cd "$(dirname "$0")/../.."
ELBO=${1:-build/elbo}
OUT=${2:-runs/lattice/ising-scan}
TEMPS=(1.6 1.8 2.0 2.1 2.2 2.25 2.3 2.35 2.4 2.5 2.7 3.0)
SIZE=${SIZE:-16}
SEEDS=($(seq "${REPLICATES:-3}"))
for s in "${SEEDS[@]}"; do
  mkdir -p "$OUT/s$s"
  for T in "${TEMPS[@]}"; do
    run="$OUT/s$s/T$T"
    if [ ! -f "$run/evaluation.json" ]; then
      echo "ising_scan: replicate $s, T = $T"
      "$ELBO" train examples/lattice-rg/ising.toml --set data.lattice_temperature="$T" --set data.lattice_size="$SIZE" --set data.lattice_seed="$s" \
        --set train.seed="$s" --out "$run" > "$run.log" 2>&1 || { tail -5 "$run.log"; exit 1; }
    fi
  done
done
python3 examples/lattice-rg/ising_tc.py "$OUT" "${#SEEDS[@]}" "${TEMPS[@]}"
