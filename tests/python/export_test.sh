#!/usr/bin/env bash
# elbo export --format state_dict: torch.load (Debian's python3-torch) reads a plain dict of tensors,
# and a decoder rebuilt from it in plain PyTorch decodes as elbo does (tests/python/rebuild_decoder.py).
# usage: export_test.sh ELBO PYTHON
set -u
ELBO="$1" PYTHON="$2"
HERE="$(cd "$(dirname "$0")" && pwd)"
"$PYTHON" -c "import torch" 2>/dev/null || { echo "FAIL: $PYTHON cannot import torch (Debian: apt-get install python3-torch; bash scripts/setup.sh installs it)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
run() {  # run NAME COMMAND...: the command must succeed
  local name=$1; shift
  if "$@" > "$WORK/out" 2> "$WORK/err"; then echo "ok   $name"; else
    echo "FAIL $name (exit $?)"; cat "$WORK/out" "$WORK/err"; failures=$((failures + 1)); fi
}
RUN="$WORK/run"
run "train" "$ELBO" train --set data.max_train=1000 --set data.max_test=50 --set data.validation=100 \
  --set model.hidden=[48,32] --set model.latent_dim=3 --set train.epochs=1 --set eval.k=5 --set eval.n=20 --out "$RUN"
run "export" "$ELBO" export "$RUN" --format state_dict --out "$WORK/model.pt"
[ -s "$WORK/model.pt" ] && [ -s "$WORK/model.json" ] || { echo "FAIL export wrote no model.pt and model.json"; failures=$((failures + 1)); }
run "export default path" "$ELBO" export "$RUN"
[ -s "$RUN/state_dict.pt" ] && [ -s "$RUN/state_dict.json" ] || { echo "FAIL export default path"; failures=$((failures + 1)); }
"$ELBO" export "$RUN" --out "$WORK/model.json" > /dev/null 2> "$WORK/err"
[ $? -eq 2 ] && grep -q "must not end in .json" "$WORK/err" || { echo "FAIL export to .json not refused"; cat "$WORK/err"; failures=$((failures + 1)); }
"$ELBO" export "$RUN" --format onnx > /dev/null 2> "$WORK/err"
[ $? -ne 0 ] && grep -q "onnx" "$WORK/err" || { echo "FAIL --format onnx not refused"; cat "$WORK/err"; failures=$((failures + 1)); }
run "encode" "$ELBO" encode "$RUN" --n 20 --out "$WORK/latents.csv"
run "reconstruct" "$ELBO" reconstruct "$RUN" --n 20 --out "$WORK/reconstructions.csv"
"$PYTHON" "$HERE/rebuild_decoder.py" "$WORK/model.pt" "$WORK/latents.csv" "$WORK/reconstructions.csv" "$RUN/checkpoint.pt" \
  || failures=$((failures + 1))
[ "$failures" -eq 0 ] && echo "export: all passed" || { echo "export: $failures failed"; exit 1; }
