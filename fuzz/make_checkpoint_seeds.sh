#!/usr/bin/env bash
# Writes the seed corpus of checkpoint_fuzzer: one small real checkpoint per model family
# (a few steps of training on scikit-learn's wine table, a 64-image slice of Fashion-MNIST for
# the conv VAE, a generated sine series for the Bayesian GRU), each well under 64 KB.
#
# usage: fuzz/make_checkpoint_seeds.sh [ELBO=build/elbo] [OUT=fuzz/corpus/checkpoint]
set -euo pipefail
cd "$(dirname "$0")/.."
elbo=${1:-build/elbo}
out=${2:-fuzz/corpus/checkpoint}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
wine=(--set data.format=csv --set data.dir=/usr/lib/python3/dist-packages/sklearn/datasets/data
      --set data.train=wine_data.csv --set data.train_labels= --set data.test= --set data.test_labels=
      --set data.test_fraction=0.2 --set data.validation=20 --set data.skip_rows=1 --set data.header=no
      --set data.standardize=true --set model.likelihood=gaussian)
common=(--set train.epochs=1 --set train.batch_size=16 --set eval.k=2 --set eval.n=8 --set report.samples=4)
train() {  # name, then --set arguments
  local name=$1
  shift
  "$elbo" train --out "$work/$name" "${common[@]}" "$@" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
  cp "$work/$name/checkpoint.pt" "$out/$name.pt"
}
train vae "${wine[@]}" --set data.label_column=-1 --set 'model.hidden=[4]' --set model.latent_dim=2
train hvae "${wine[@]}" --set data.label_column=-1 --set model.type=hvae --set 'model.hidden=[4]' \
  --set 'model.latent_dims=[3, 2]' --set model.inference=structured
train m2 "${wine[@]}" --set data.label_column=-1 --set model.type=m2 --set model.classes=3 --set 'model.hidden=[4]' \
  --set model.latent_dim=2
train classifier "${wine[@]}" --set data.label_column=-1 --set model.type=classifier --set model.classes=3 \
  --set 'model.hidden=[4]'
train bnn "${wine[@]}" --set data.label_column=-1 --set model.type=bnn --set model.classes=3 --set 'model.hidden=[4]'
train geco "${wine[@]}" --set data.label_column=-1 --set objective.type=geco --set 'model.hidden=[4]' \
  --set model.latent_dim=2
train conv_vae --set data.max_train=64 --set data.max_test=16 --set data.validation=16 --set model.encoder=conv \
  --set model.decoder=conv --set 'model.channels=[2]' --set model.latent_dim=2
python3 -c "
import math
print('time,value')
for t in range(120): print(f'{t},{math.sin(t / 5) + 0.1 * math.cos(t):.4f}')" > "$work/series.csv"
train brnn --set data.format=series --set data.dir= --set data.train="$work/series.csv" --set data.time_column=time \
  --set data.value_columns=value --set data.test_from=100 --set data.window=8 --set data.validation=0 \
  --set model.type=brnn --set 'model.hidden=[3]' --set data.train_labels= --set data.test= --set data.test_labels=
ls -l "$out"
