#!/usr/bin/env bash
# report.html in a real browser: tiny runs (dsprites with hidden entries, after evaluate --gaps --mi;
# an Ising lattice field; a run directory with metrics.jsonl but no checkpoint yet, through
# elbo report) opened in headless Chromium by puppeteer-core (report_check.cjs): no console
# errors, every image decoded, charts with role="img", a <title> and their numbers, no serious or
# critical axe-core violations. Screenshots are kept in BUILD/browser/artifacts/.
# Fails (never skips) when chromium, node or the npm packages are missing: tests/browser/install.sh
# BUILD installs them (scripts/test.sh runs it).
# Usage: report_test.sh ELBO_BINARY BUILD_DIR
set -u
ELBO="$1"
BUILD="$(cd "$2" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
MODULES="$BUILD/browser/node_modules"
fix="run: bash tests/browser/install.sh $BUILD (scripts/test.sh does it for build/)"
command -v "${CHROMIUM:-chromium}" > /dev/null || { echo "FAIL: no chromium (Debian package chromium); $fix"; exit 1; }
command -v node > /dev/null || { echo "FAIL: no node (Debian package nodejs); $fix"; exit 1; }
[ -f "$MODULES/puppeteer-core/package.json" ] && [ -f "$MODULES/axe-core/axe.min.js" ] \
  || { echo "FAIL: no puppeteer-core or axe-core in $MODULES; $fix"; exit 1; }
cmp -s "$HERE/package-lock.json" "$BUILD/browser/installed.lock" \
  || { echo "FAIL: $BUILD/browser has no complete install of tests/browser/package-lock.json; $fix"; exit 1; }
export CHROMIUM="$(command -v "${CHROMIUM:-chromium}")"

WORK="$BUILD/browser/runs"
rm -rf "$WORK" "$BUILD/browser/artifacts"
mkdir -p "$WORK"
run() {  # run COMMAND...: must succeed
  "$@" > "$WORK/out" 2> "$WORK/err" || { echo "FAIL: $* (exit $?)"; cat "$WORK/out" "$WORK/err"; exit 1; }
}
run "$ELBO" train --set data.format=dsprites --set data.dsprites_size=600 --set data.dsprites_test=100 \
  --set data.validation=100 --set data.missing=bottom_half --set eval.impute_draws=5 --set model.hidden=[32] \
  --set model.latent_dim=3 --set train.epochs=2 --set eval.k=5 --out "$WORK/dsprites"
run "$ELBO" evaluate "$WORK/dsprites" --k 5 --n 40 --gaps --mi --refine-steps 10
run "$ELBO" train --set data.format=lattice --set data.lattice_model=ising --set data.lattice_size=8 \
  --set data.lattice_train=400 --set data.lattice_test=100 --set data.validation=100 --set model.hidden=[16] \
  --set model.latent_dim=2 --set train.epochs=1 --set eval.k=5 --out "$WORK/ising"
mkdir -p "$WORK/starting"  # a run before its first checkpoint
cp "$WORK/dsprites"/{config.toml,metrics.jsonl} "$WORK/starting/"
run "$ELBO" report "$WORK/starting"

node "$HERE/report_check.cjs" "$MODULES" "$BUILD/browser/artifacts" \
  "$WORK/dsprites/report.html" "$WORK/ising/report.html" "$WORK/starting/report.html"
