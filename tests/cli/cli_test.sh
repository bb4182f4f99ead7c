#!/usr/bin/env bash
# Drives the real elbo binary on a tiny Fashion-MNIST run: every subcommand
# works, and bad arguments give a clear error and a non-zero exit.
set -u
ELBO="$1"
DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  echo "FAIL: needs $DATA from Debian's dataset-fashion-mnist (bash scripts/setup.sh installs it)"; exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
check() {  # check NAME COMMAND...: the command must succeed
  local name=$1; shift
  if "$@" > "$WORK/out" 2> "$WORK/err"; then echo "ok   $name"; else
    echo "FAIL $name (exit $?)"; cat "$WORK/out" "$WORK/err"; failures=$((failures + 1)); fi
}
refuse() {  # refuse NAME EXIT_CODE MESSAGE COMMAND...: must fail with that code and message
  local name=$1 code=$2 message=$3; shift 3
  "$@" > "$WORK/out" 2> "$WORK/err"
  local got=$?
  if [ "$got" -eq "$code" ] && grep -qF -- "$message" "$WORK/err"; then echo "ok   $name"; else
    echo "FAIL $name: expected exit $code and '$message', got exit $got:"; cat "$WORK/err"; failures=$((failures + 1)); fi
}
exists() { for f in "$@"; do [ -s "$f" ] || { echo "FAIL missing $f"; failures=$((failures + 1)); }; done; }
jq_true() {  # jq_true NAME FILE FILTER [JQ OPTIONS...]: FILE is JSON and FILTER is true of it
  local name=$1 file=$2 filter=$3; shift 3
  jq -e "$@" "$filter" "$file" > /dev/null 2>&1 || {
    echo "FAIL $name: not $filter"; head -c 3000 "$file"; echo; failures=$((failures + 1)); }
}
png_size() { /usr/bin/python3 -c 'import struct, sys; print(*struct.unpack(">II", open(sys.argv[1], "rb").read(24)[16:24]))' "$1"; }
# png_is FILE ROWS COLUMNS: a grid of ROWS x COLUMNS 28x28 images with 2-pixel gaps (report::write_image_grid).
png_is() {
  local want="$(($3 * 30 + 2)) $(($2 * 30 + 2))" got
  got=$(png_size "$1")
  [ "$got" = "$want" ] || { echo "FAIL $1: $got pixels, expected $want"; failures=$((failures + 1)); }
}
# csv_in FILE COLUMNS LOW HIGH: every data row has COLUMNS values, each in [LOW, HIGH].
csv_in() {
  awk -F, -v n="$2" -v lo="$3" -v hi="$4" 'NR > 1 { if (NF != n) bad = 1; for (i = 1; i <= NF; i++) if ($i < lo || $i > hi) bad = 1 }
    END { exit bad }' "$1" || { echo "FAIL $1: rows without $2 values in [$3, $4]"; head -c 500 "$1"; failures=$((failures + 1)); }
}

RUN="$WORK/run"
TINY=(--set data.max_train=1500 --set data.max_test=100 --set data.validation=200 --set model.hidden=[64]
      --set model.latent_dim=4 --set train.epochs=2 --set eval.k=20 --set eval.n=50)
check "train" "$ELBO" train "${TINY[@]}" --out "$RUN"
grep -q "log p(x), IWAE K=20" "$WORK/out" || { echo "FAIL train summary table"; failures=$((failures + 1)); }
exists "$RUN"/{config.toml,checkpoint.pt,metrics.jsonl,samples.png,reconstructions.png,interpolation.png,traversal.png,curves.svg,report.html,evaluation.json}
jq_true "metrics.jsonl epoch lines" "$RUN/metrics.jsonl" '[.[] | select(.type == "epoch")] | length == 2' -s
# The bounds are ordered: log p(x) (IWAE) >= ELBO up to Monte Carlo error; every picture has its grid.
jq_true "IWAE >= ELBO - 3 SE" "$RUN/evaluation.json" '.examples == 50 and .k == 20 and .log_px >= .elbo - 3 * .elbo_gap_se'
png_is "$RUN/samples.png" 8 8
png_is "$RUN/reconstructions.png" 4 16  # test images and their reconstructions
png_is "$RUN/interpolation.png" 8 12
png_is "$RUN/traversal.png" 4 9
grep -q 'data:image/png;base64' "$RUN/report.html" || { echo "FAIL report has no embedded images"; failures=$((failures + 1)); }

check "evaluate --json" "$ELBO" evaluate "$RUN" --k 10 --n 30 --json
jq_true "evaluate json" "$WORK/out" '.examples == 30 and .k == 10 and (.active_units | type == "number") and (.kl_per_dim | length == 4)'
check "evaluate table" "$ELBO" evaluate "$RUN" --k 10 --n 30
grep -q "Pinsker" "$WORK/out" || { echo "FAIL evaluate table"; failures=$((failures + 1)); }
check "evaluate --gaps --mi" "$ELBO" evaluate "$RUN" --k 10 --n 20 --gaps --mi --refine-steps 30
for row in "approximation gap" "amortization gap" "total gap" "Pinsker bound TV, refined" "mutual information" "distortion"; do
  grep -q "$row" "$WORK/out" || { echo "FAIL evaluate --gaps --mi: no '$row' row"; failures=$((failures + 1)); }
done
check "evaluate --gaps --mi --json" "$ELBO" evaluate "$RUN" --k 10 --n 20 --gaps --mi --refine-steps 30 --json
# Each gap is non-negative up to 3 standard errors; the information keys are there.
jq_true "evaluate --gaps --mi --json" "$WORK/out" '.gaps as $g | ([$g.approximation_gap, $g.amortization_gap, $g.total_gap]
  | all(.mean >= -3 * .se)) and ($g.pinsker_tv_bound_refined | type == "number") and
  ([.information.mutual_information, .information.rate, .information.distortion] | all(type == "number"))'
grep -q "Inference gaps" "$RUN/report.html" && grep -q "Information" "$RUN/report.html" || { echo "FAIL report has no gap/information sections"; failures=$((failures + 1)); }
# elbo report rebuilds report.html from metrics.jsonl and the checkpoint, naming the step it shows: of a finished
# run, of one still training (a long run stopped with SIGTERM afterwards) and of one without a checkpoint yet.
last_step=$(jq -s '[.[] | select(.type == "epoch")] | last | .step' "$RUN/metrics.jsonl")
check "report of a finished run" "$ELBO" report "$RUN" --k 5 --n 20
grep -qF "the checkpoint at step $last_step, training curves to step $last_step" "$WORK/out" \
  && grep -qF "at step $last_step</h1>" "$RUN/report.html" && grep -qF "epoch 2 of 2: training finished" "$RUN/report.html" \
  && grep -qF "<th>test examples</th><td>20</td>" "$RUN/report.html" \
  || { echo "FAIL report of a finished run (step $last_step)"; cat "$WORK/out"; failures=$((failures + 1)); }
LIVE="$WORK/live"
"$ELBO" train "${TINY[@]}" --set train.epochs=100000 --set train.checkpoint_every=5 --out "$LIVE" > /dev/null 2>&1 &
trainer=$!
for _ in $(seq 300); do [ -s "$LIVE/checkpoint.pt" ] && break; sleep 0.1; done
check "report while training runs" "$ELBO" report "$LIVE" --k 5 --n 20
kill -0 "$trainer" 2> /dev/null || { echo "FAIL report while training: the run was no longer training"; failures=$((failures + 1)); }
kill -TERM "$trainer"; wait "$trainer"
live_step=$(sed -n 's/.*<h1>elbo run: .* at step \([0-9]*\)<\/h1>.*/\1/p' "$LIVE/report.html")
[ -n "$live_step" ] && [ "$live_step" -gt 0 ] && grep -qF "checkpoint at step $live_step" "$LIVE/report.html" \
  && grep -q "of 100000 (training not finished)" "$LIVE/report.html" && [ ! -e "$LIVE/evaluation.json" ] \
  || { echo "FAIL report while training: no step shown, or evaluation.json written"; cat "$WORK/out"; failures=$((failures + 1)); }
mkdir -p "$WORK/starting" "$WORK/not_a_run"
cp "$RUN/config.toml" "$RUN/metrics.jsonl" "$WORK/starting/"
check "report before the first checkpoint" "$ELBO" report "$WORK/starting"
grep -qF "no checkpoint yet" "$WORK/out" && grep -qF "none yet: no checkpoint (training curves only)" "$WORK/starting/report.html" \
  && grep -qF "metrics.jsonl up to step $last_step" "$WORK/starting/report.html" \
  || { echo "FAIL report before the first checkpoint"; cat "$WORK/out"; failures=$((failures + 1)); }
mkdir -p "$WORK/no_metrics" && cp "$RUN/checkpoint.pt" "$WORK/no_metrics/"
check "report of a checkpoint without metrics.jsonl" "$ELBO" report "$WORK/no_metrics" --k 5 --n 10
grep -qF "metrics.jsonl has no records yet" "$WORK/no_metrics/report.html" && grep -qF "at step $last_step</h1>" "$WORK/no_metrics/report.html" \
  || { echo "FAIL report of a checkpoint without metrics.jsonl"; failures=$((failures + 1)); }
refuse "report of a directory that is not a run" 2 "is not a run directory: it has no metrics.jsonl and no checkpoint.pt" \
  "$ELBO" report "$WORK/not_a_run"
refuse "report of a missing directory" 2 "does not exist" "$ELBO" report "$WORK/nope"
check "refine" "$ELBO" refine "$RUN" --n 5 --steps 20 --k 10 --out "$WORK/q.csv"
[ "$(head -1 "$WORK/q.csv")" = "mu1,mu2,mu3,mu4,sigma1,sigma2,sigma3,sigma4,elbo_amortized,elbo_refined,label" ] || { echo "FAIL refine header"; failures=$((failures + 1)); }
[ "$(wc -l < "$WORK/q.csv")" -eq 6 ] || { echo "FAIL refine rows"; failures=$((failures + 1)); }
COLLAPSED="$WORK/collapsed"
check "train collapsed (beta = 200)" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set objective.beta=200 --out "$COLLAPSED"
grep -q "posterior collapse" "$WORK/err" || { echo "FAIL train: no collapse warning on stderr"; failures=$((failures + 1)); }
check "evaluate collapsed" "$ELBO" evaluate "$COLLAPSED" --k 5 --n 20
grep -q "posterior collapse" "$WORK/err" || { echo "FAIL no collapse warning on stderr"; cat "$WORK/err"; failures=$((failures + 1)); }
SWEEP="$WORK/sweep"
check "sweep beta" "$ELBO" sweep --values 0.5,8 "${TINY[@]}" --set train.epochs=1 --set eval.k=5 --out "$SWEEP"
exists "$SWEEP"/{sweep.json,rate_distortion.svg,report.html} "$SWEEP"/beta={0.5,8}/checkpoint.pt
# Rows are sorted by rate: the heavier KL weight must buy the lower rate.
[ "$(grep -A1 'rate  distortion' "$WORK/out" | tail -1 | awk '{print $1}')" = "8" ] || { echo "FAIL sweep: beta=8 should have the lowest rate"; cat "$WORK/out"; failures=$((failures + 1)); }
check "sweep reuses finished runs" "$ELBO" sweep --values 0.5,8 "${TINY[@]}" --set train.epochs=1 --set eval.k=5 --out "$SWEEP"
[ "$(grep -c 'reused' "$WORK/err")" -eq 2 ] || { echo "FAIL sweep did not reuse its runs"; failures=$((failures + 1)); }
refuse "sweep unknown key" 2 "did you mean" "$ELBO" sweep --key objective.betta --values 1 --out "$WORK/sweep2"

# dsprites (built-in images with known factors): evaluate reports the MIG, the report a latent traversal.
DSPRITES="$WORK/dsprites"
check "train dsprites" "$ELBO" train --set data.format=dsprites --set data.dsprites_size=600 --set data.dsprites_test=200 \
  --set data.validation=100 --set model.hidden=[64] --set model.latent_dim=4 --set train.epochs=1 --set eval.k=5 \
  --set eval.n=200 --out "$DSPRITES"
exists "$DSPRITES"/{traversal.png,report.html}
check "evaluate dsprites" "$ELBO" evaluate "$DSPRITES" --k 5
for row in "MIG (20 bins)" "gap of factor shape" "gap of factor pos_y"; do
  grep -qF "$row" "$WORK/out" || { echo "FAIL evaluate dsprites: no '$row' row"; cat "$WORK/out"; failures=$((failures + 1)); }
done
check "evaluate dsprites --json" "$ELBO" evaluate "$DSPRITES" --k 5 --json
jq_true "evaluate dsprites json" "$WORK/out" '(.disentanglement.mig | type == "number") and
  (.disentanglement.factors | any(.name == "orientation"))'
grep -q "Disentanglement (MIG)" "$DSPRITES/report.html" && grep -q "Latent traversal" "$DSPRITES/report.html" \
  || { echo "FAIL dsprites report sections"; failures=$((failures + 1)); }

check "sample png" "$ELBO" sample "$RUN" --n 8 --out "$WORK/s.png"
check "sample csv" "$ELBO" sample "$RUN" --n 3 --out "$WORK/s.csv"
[ "$(wc -l < "$WORK/s.csv")" -eq 4 ] || { echo "FAIL sample csv rows"; failures=$((failures + 1)); }
csv_in "$WORK/s.csv" 784 0 1  # Bernoulli means
png_is "$WORK/s.png" 1 8
check "reconstruct" "$ELBO" reconstruct "$RUN" --n 4 --out "$WORK/r.png"
check "encode" "$ELBO" encode "$RUN" --n 5 --out "$WORK/z.csv"
[ "$(head -1 "$WORK/z.csv")" = "mu1,mu2,mu3,mu4,sigma1,sigma2,sigma3,sigma4,label" ] || { echo "FAIL encode header"; failures=$((failures + 1)); }
[ "$(wc -l < "$WORK/z.csv")" -eq 6 ] || { echo "FAIL encode rows"; failures=$((failures + 1)); }
awk -F, 'NR > 1 && (NF != 9 || $5 <= 0 || $6 <= 0 || $7 <= 0 || $8 <= 0 || $9 !~ /^[0-9]$/) { bad = 1 } END { exit bad }' "$WORK/z.csv" \
  || { echo "FAIL encode: rows without 4 means, 4 positive scales and a label"; failures=$((failures + 1)); }
# The training and validation examples (1300 + 200), means only: features for a stacked model (M1+M2).
check "encode the training split" "$ELBO" encode "$RUN" --split train --means-only --out "$WORK/ztrain.csv"
[ "$(head -1 "$WORK/ztrain.csv")" = "mu1,mu2,mu3,mu4,label" ] && [ "$(wc -l < "$WORK/ztrain.csv")" -eq 1501 ] \
  || { echo "FAIL encode --split train: header or row count"; failures=$((failures + 1)); }
png_is "$WORK/r.png" 2 4
exists "$WORK"/{s.png,s.csv,r.png,z.csv}

# Conditional VAE: class-conditional samples; labels are required and checked.
COND="$WORK/cond"
check "train conditional" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set model.conditional=true --out "$COND"
check "sample --condition" "$ELBO" sample "$COND" --condition 3 --n 4 --out "$WORK/c.csv"
[ "$(wc -l < "$WORK/c.csv")" -eq 5 ] || { echo "FAIL sample --condition rows"; failures=$((failures + 1)); }
refuse "sample --condition out of range" 2 "outside 0..9" "$ELBO" sample "$COND" --condition 10 --out "$WORK/c.png"
refuse "sample --condition unconditional" 2 "not conditional" "$ELBO" sample "$RUN" --condition 3 --out "$WORK/c.png"
refuse "conditional without labels" 2 "needs labels" "$ELBO" train "${TINY[@]}" --set model.conditional=true \
  --set 'data.train_labels=""' --set 'data.test_labels=""' --out "$WORK/x"
# Hierarchical VAE: KL and active units per layer.
HIER="$WORK/hier"
check "train hvae" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set model.type=hvae --set 'model.latent_dims=[4, 2]' \
  --set model.inference=structured --set objective.kl=mc --out "$HIER"
grep -q "KL z2 (2 dims)" "$WORK/out" || { echo "FAIL hvae: no per-layer row"; cat "$WORK/out"; failures=$((failures + 1)); }
check "evaluate hvae --gaps --json" "$ELBO" evaluate "$HIER" --k 10 --n 10 --gaps --refine-steps 20 --json
jq_true "evaluate hvae json" "$WORK/out" '(.groups | any(.name == "z2" and .dims == 2)) and (.gaps.approximation_gap.mean | type == "number")'

# M2 with 20 labels: the train step (fused) is printed and logged; the test error, the
# confusion matrix and the analogy picture; class-conditional samples; gaps need an external q.
M2="$WORK/m2"
check "train m2" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set model.type=m2 --set data.labelled=20 --out "$M2"
grep -qF "train step: fused" "$WORK/err" \
  || { echo "FAIL m2: train step not reported"; cat "$WORK/err"; failures=$((failures + 1)); }
jq_true "m2: train step logged" "$M2/metrics.jsonl" 'any(.[]; .type == "train_step" and .train_step == "fused")' -s
grep -q "test error of q(y|x)" "$WORK/out" && grep -q "confusion matrix" "$WORK/out" && grep -q "KL y (0 dims)" "$WORK/out" \
  || { echo "FAIL m2 summary"; cat "$WORK/out"; failures=$((failures + 1)); }
exists "$M2"/{analogies.png,report.html}
grep -q "Confusion matrix" "$M2/report.html" && grep -q "Analogies" "$M2/report.html" \
  || { echo "FAIL m2 report sections"; failures=$((failures + 1)); }
check "evaluate m2 --json" "$ELBO" evaluate "$M2" --k 5 --n 30 --json
jq_true "evaluate m2 json" "$WORK/out" '.classification | .examples == 30 and .error >= 0 and .error <= 1 and (.confusion | length == 10)'
check "sample m2 --condition" "$ELBO" sample "$M2" --condition 3 --n 4 --out "$WORK/m2.csv"
refuse "m2 gaps" 2 "does not support external posteriors" "$ELBO" evaluate "$M2" --k 5 --n 5 --gaps
check "train classifier" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set model.type=classifier --set data.labelled=20 \
  --out "$WORK/classifier"
grep -q "test error of q(y|x)" "$WORK/out" || { echo "FAIL classifier summary"; cat "$WORK/out"; failures=$((failures + 1)); }
refuse "m2 without labels" 2 "have no labels" "$ELBO" train "${TINY[@]}" --set model.type=m2 --set data.labelled=20 \
  --set 'data.train_labels=""' --set 'data.test_labels=""' --out "$WORK/x"
jq_true "default run: fused step logged" "$RUN/metrics.jsonl" 'any(.[]; .type == "train_step" and .train_step == "fused")' -s

# Missing data: MIWAE on images with the bottom half hidden and on a table with MCAR cells; train and
# evaluate score the imputations; elbo impute writes completed copies, quantiles and pictures.
MISS="$WORK/missing"
check "train miwae, bottom half hidden" "$ELBO" train "${TINY[@]}" --set train.epochs=1 --set data.missing=bottom_half \
  --set objective.type=miwae --set objective.particles=3 --set model.encoder_mask=true --set eval.impute_draws=10 --out "$MISS"
grep -qF "train step: autograd (the encoder reads the mask (model.encoder_mask))" "$WORK/err" \
  && grep -q "imputation RMSE (hidden entries)" "$WORK/out" && grep -q "coverage of 50% / 90% intervals" "$WORK/out" \
  || { echo "FAIL miwae summary"; cat "$WORK/out" "$WORK/err"; failures=$((failures + 1)); }
exists "$MISS"/{imputations.png,report.html}
[ "$(png_size "$MISS/imputations.png")" = "242 242" ] || { echo "FAIL imputations.png size $(png_size "$MISS/imputations.png")"; failures=$((failures + 1)); }
grep -q "Imputation" "$MISS/report.html" || { echo "FAIL report has no imputation section"; failures=$((failures + 1)); }
check "evaluate missing --json" "$ELBO" evaluate "$MISS" --k 5 --n 10 --json
jq_true "evaluate missing json" "$WORK/out" '.imputation | .examples == 10 and .hidden == 3920 and .particles == 5 and .draws == 10 and .rmse > 0'
check "impute png" "$ELBO" impute "$MISS" --k 10 --n 3 --out "$WORK/imp.png"
[ "$(png_size "$WORK/imp.png")" = "242 92" ] || { echo "FAIL impute png size $(png_size "$WORK/imp.png")"; failures=$((failures + 1)); }
check "impute copies" "$ELBO" impute "$MISS" --k 10 --n 3 --draws 2 --out "$WORK/imp.csv"
[ "$(wc -l < "$WORK/imp.csv")" -eq 7 ] && [ "$(head -1 "$WORK/imp.csv" | cut -d, -f1-3)" = "draw,row,x1" ] \
  || { echo "FAIL impute copies csv"; head -2 "$WORK/imp.csv"; failures=$((failures + 1)); }
check "impute --summary" "$ELBO" impute "$MISS" --k 10 --n 3 --draws 20 --summary --out "$WORK/cells.csv"
[ "$(head -1 "$WORK/cells.csv")" = "row,column,mean,q05,q25,q50,q75,q95,truth" ] && [ "$(wc -l < "$WORK/cells.csv")" -eq $((1 + 3 * 392)) ] \
  || { echo "FAIL impute summary csv"; head -2 "$WORK/cells.csv"; failures=$((failures + 1)); }
# Quantiles are ordered and the mean of Bernoulli means lies in [0, 1].
awk -F, 'NR > 1 && !($4 <= $5 && $5 <= $6 && $6 <= $7 && $7 <= $8 && $3 >= 0 && $3 <= 1) { bad = 1 } END { exit bad }' "$WORK/cells.csv" \
  || { echo "FAIL impute summary: unordered quantiles or mean outside [0, 1]"; failures=$((failures + 1)); }
CSV_DIR="$(cd "$(dirname "$0")/../bad_inputs/csv" && pwd)"
TABLE=(--set data.format=csv --set "data.dir=$CSV_DIR" --set data.train=good4.csv --set data.test=good4.csv
       --set data.validation=0 --set data.standardize=true --set model.likelihood=gaussian --set model.hidden=[16]
       --set model.latent_dim=2 --set train.epochs=3 --set train.batch_size=8 --set eval.k=20 --set eval.n=0)
check "train table, mcar" "$ELBO" train "${TABLE[@]}" --set data.missing=mcar --set data.missing_rate=0.3 --out "$WORK/table"
grep -q "imputation RMSE" "$WORK/out" || { echo "FAIL table imputation scores"; cat "$WORK/out"; failures=$((failures + 1)); }
printf 'a,b,c,d\n0.5,,1.25,\n,,,\n0.1,0.2,0.3,0.4\n' > "$WORK/holes.csv"
check "impute --data copies" "$ELBO" impute "$WORK/table" --data "$WORK/holes.csv" --draws 3 --out "$WORK/filled.csv"
[ "$(head -1 "$WORK/filled.csv")" = "draw,row,a,b,c,d" ] && [ "$(wc -l < "$WORK/filled.csv")" -eq 10 ] \
  || { echo "FAIL impute --data header/rows"; cat "$WORK/filled.csv"; failures=$((failures + 1)); }
# Observed cells come back in the file's units; row 3 (complete) in every copy.
awk -F, 'NR > 1 && $2 == 1 && (($3 - 0.5)^2 > 1e-10 || ($5 - 1.25)^2 > 1e-10) { bad = 1 }
         NR > 1 && $2 == 3 && (($3 - 0.1)^2 + ($6 - 0.4)^2 > 1e-10) { bad = 1 } END { exit bad }' "$WORK/filled.csv" \
  || { echo "FAIL impute --data: observed cells changed"; cat "$WORK/filled.csv"; failures=$((failures + 1)); }
check "impute --data --summary" "$ELBO" impute "$WORK/table" --data "$WORK/holes.csv" --summary --out "$WORK/holes_cells.csv"
[ "$(head -1 "$WORK/holes_cells.csv")" = "row,column,mean,q05,q25,q50,q75,q95" ] && [ "$(wc -l < "$WORK/holes_cells.csv")" -eq 7 ] \
  || { echo "FAIL impute --data summary"; cat "$WORK/holes_cells.csv"; failures=$((failures + 1)); }

check "resume of a finished run" "$ELBO" train --out "$RUN" --resume
check "config listing" "$ELBO" config
check "help" "$ELBO" --help

refuse "unknown key" 2 "did you mean 'train.epochs'" "$ELBO" train --set train.epoch=3 --out "$WORK/x"
refuse "negative beta" 2 "objective.beta" "$ELBO" train --set objective.beta=-1 --out "$WORK/x"
# Multimodal: Fashion-MNIST as left half, right half and label (examples/multimodal/fashion.toml);
# train and evaluate score each modality given the others; predict decodes one from others.
MM="$WORK/multimodal"
EXAMPLES="$(cd "$(dirname "$0")/../../examples" && pwd)"
check "train multimodal" "$ELBO" train "$EXAMPLES/multimodal/fashion.toml" "${TINY[@]}" --set train.epochs=1 --out "$MM"
for row in "log p(left | others)" "log p(right | others)" "log p(label | others)"; do
  grep -qF "$row" "$WORK/out" || { echo "FAIL multimodal summary: no '$row'"; cat "$WORK/out"; failures=$((failures + 1)); }
done
exists "$MM"/{cross_generation.png,report.html}
grep -q "Latent means by the modalities each row has" "$MM/report.html" || { echo "FAIL multimodal report"; failures=$((failures + 1)); }
[ "$(png_size "$MM/cross_generation.png")" = "$(png_size "$MM/cross_generation.png" | awk '{print $1}') 242" ] \
  || { echo "FAIL cross_generation.png: not 8 rows"; failures=$((failures + 1)); }
check "evaluate multimodal --json" "$ELBO" evaluate "$MM" --k 5 --n 10 --json
jq_true "evaluate multimodal json" "$WORK/out" '.modalities[0] | .modality == "left" and .rows == 10 and (.conditional | type == "number")'
check "predict label from left" "$ELBO" predict "$MM" --from left --to label --k 10 --n 20 --draws 10 --out "$WORK/label.csv"
[ "$(head -1 "$WORK/label.csv")" = "row,label_1:p0,label_1:p1,label_1:p2,label_1:p3,label_1:p4,label_1:p5,label_1:p6,label_1:p7,label_1:p8,label_1:p9,label_1:mode" ] \
  && [ "$(wc -l < "$WORK/label.csv")" -eq 21 ] && grep -q "error of the most frequent predicted class" "$WORK/out" \
  || { echo "FAIL predict label csv"; head -2 "$WORK/label.csv"; cat "$WORK/out"; failures=$((failures + 1)); }
check "predict right from left, picture" "$ELBO" predict "$MM" --from left --to right --k 10 --n 3 --out "$WORK/lr.png"
exists "$WORK/lr.png"

# DNA (examples/dna/dna.toml) on planted-motif FASTA: a conv1d VAE with an autoregressive decoder;
# bits per base, samples as FASTA, per-sequence scores and a mutation map of every window.
python3 "$EXAMPLES/dna/planted_motif.py" --n 300 --length 40 --offset 10 --seed 1 --out "$WORK/planted.fa" > /dev/null
head -8 "$WORK/planted.fa" > "$WORK/four.fa"
DNA="$WORK/dna"
check "train dna" "$ELBO" train "$EXAMPLES/dna/dna.toml" --set data.train="$WORK/planted.fa" --set data.window=40 \
  --set data.stride=40 --set data.max_train=0 --set data.max_test=0 --set data.validation=30 --set model.latent_dim=4 \
  --set train.epochs=2 --set eval.k=20 --set objective.warmup_steps=0 --out "$DNA"
grep -q "bits per base, -IWAE K=20" "$WORK/out" || { echo "FAIL dna summary: no bits per base"; failures=$((failures + 1)); }
# Bits per base of a 4-letter alphabet: IWAE <= -ELBO up to Monte Carlo error, both near 2 on random bases.
jq_true "dna bits per base" "$DNA/evaluation.json" \
  '.bits_per_base | .iwae <= .elbo + 3 * .iwae_se and .iwae > 1.5 and .elbo < 2.5'
# fasta_is FILE N LENGTH: N records, each one line of LENGTH bases from ACGT.
fasta_is() {
  awk -v n="$2" -v len="$3" '/^>/ { r++; next } { if (length($0) != len || $0 !~ /^[ACGT]+$/) bad = 1 }
    END { exit bad || r != n }' "$1" || { echo "FAIL $1: not $2 records of $3 bases"; head -4 "$1"; failures=$((failures + 1)); }
}
fasta_is "$DNA/samples.fasta" 64 40
check "sample dna" "$ELBO" sample "$DNA" --n 5 --out "$WORK/s.fasta"
fasta_is "$WORK/s.fasta" 5 40
check "reconstruct dna" "$ELBO" reconstruct "$DNA" --n 3 --out "$WORK/r.fasta"
fasta_is "$WORK/r.fasta" 6 40
check "score" "$ELBO" score "$DNA" --fasta "$WORK/four.fa" --k 20 --mutations --particles 4 --out "$WORK/score"
[ "$(wc -l < "$WORK/score/scores.csv")" -eq 5 ] && [ "$(wc -l < "$WORK/score/mutations.csv")" -eq 161 ] \
  && awk -F, 'NR > 1 && !($4 > 0 && $5 <= $4 + 3 * $6 + 1e-9) { bad = 1 } END { exit bad }' "$WORK/score/scores.csv" \
  || { echo "FAIL score csv"; cat "$WORK/score/scores.csv"; failures=$((failures + 1)); }
# The heat map: 4 windows of 4 base rows, blank rows between (19 rows of 4-pixel cells), 40 positions.
[ "$(png_size "$WORK/score/mutations.png")" = "164 80" ] || { echo "FAIL mutations.png size $(png_size "$WORK/score/mutations.png")"; failures=$((failures + 1)); }
refuse "score a non-DNA run" 2 "not trained on FASTA" "$ELBO" score "$RUN" --fasta "$WORK/four.fa"
printf 'ACGT\n' > "$WORK/headless.fa"
refuse "score headless FASTA" 2 "headless.fa:1" "$ELBO" score "$DNA" --fasta "$WORK/headless.fa"
# Markov baselines, k-mer spectra and GC content: orders 0..3 near 2 bits/base on random background bases, the
# model's IWAE bound per base as evaluate reports it, and the shuffled held-out windows (n >= the 30 held out: all
# of them) with the held-out composition exactly.
check "sequences" "$ELBO" sequences "$DNA" --orders 3 --n 100
exists "$DNA"/{sequences.json,kmer_jsd.svg,gc.svg}
jq_true "sequences json" "$DNA/sequences.json" '(.markov_chains | length == 4)
  and all(.markov_chains[]; .test_bits_per_base > 1.8 and .test_bits_per_base < 2.2) and .best_order <= 3
  and ((.vae_iwae_bits_per_base - $ev[0].bits_per_base.iwae) | fabs) < 1e-6
  and all(.vae_samples, .markov_samples, .shuffled_held_out; .kmer_jsd_bits | length == 6 and all(.[]; . >= 0 and . <= 1))
  and .shuffled_held_out.kmer_jsd_bits[0] == 0 and .shuffled_held_out.gc_mean == .held_out.gc_mean' \
  --slurpfile ev "$DNA/evaluation.json"
refuse "sequences of a non-DNA run" 2 'data.format = "fasta"' "$ELBO" sequences "$RUN"
# Inverse design toward GC 0.5: designs as FASTA, every number in design.json, the trajectory of each design.
check "design" "$ELBO" design "$DNA" --property gc --target 0.5 --n 8 --steps 30 --out "$WORK/design"
fasta_is "$WORK/design/designs.fasta" 8 40
[ "$(wc -l < "$WORK/design/trajectory.csv")" -eq 249 ] || { echo "FAIL design trajectory rows"; failures=$((failures + 1)); }
jq_true "design json" "$WORK/design/design.json" \
  '.summary.designs | (.property.mean | . >= 0 and . <= 1) and (.novelty.mean | . > 0 and . <= 1) and (.bits_per_base.mean > 0)'
refuse "design an unknown property" 2 "motif:" "$ELBO" design "$DNA" --property weight --target 1

# Lattice fields (built in): evaluate adds the power kept per Fourier shell, G(r) and the code's
# canonical correlations with the lowest modes; the report draws them.
LAT="$WORK/lattice"
check "train ising" "$ELBO" train --set data.format=lattice --set data.lattice_model=ising --set data.lattice_size=8 \
  --set data.lattice_train=600 --set data.lattice_test=100 --set data.validation=100 --set model.hidden=[32] \
  --set model.latent_dim=2 --set train.epochs=1 --set eval.k=5 --out "$LAT"
jq_true "lattice json" "$LAT/evaluation.json" '.lattice | .L == 8 and (.power_ratio | length) == (.shell_k | length)
  and (.correlation_input | length == 5) and (.block_spin | length == 2)
  and all(.canonical_correlations_low_modes[]; . >= 0 and . <= 1)'
grep -q "Fourier shells" "$LAT/report.html" || { echo "FAIL lattice report section"; failures=$((failures + 1)); }
jq_true "ising magnetization" "$LAT/evaluation.json" '.lattice.spins and (.lattice.magnetization |
  (.latent_correlation | length == 2) and .mean_abs_m > 0 and .mean_abs_m <= 1 and (.best_correlation | fabs <= 1))'
# A linear VAE on the Gaussian free field: evaluate prints the exact references (true density, PPCA optimum).
check "train gff linear" "$ELBO" train --set data.format=lattice --set data.lattice_size=8 --set data.lattice_train=400 \
  --set data.lattice_test=100 --set data.validation=100 --set 'model.hidden=[]' --set model.likelihood=gaussian \
  --set model.likelihood_scale=shared --set model.latent_dim=3 --set train.epochs=2 --set eval.k=5 --out "$LAT-gff"
jq_true "gff references" "$LAT-gff/evaluation.json" '.lattice as $l | $l.gff | .ppca.latent_dim == 3
  and .ppca.log_likelihood < .log_likelihood_truth and .elbo_minus_truth.mean < 0 and .elbo_minus_truth.se > 0
  and (.ppca.power_ratio | length) == ($l.shell_k | length)'
# elbo lattice writes the configurations; data.lattice_model = "file" reads them back (CSV and IDX).
check "lattice files" "$ELBO" lattice "$LAT/config.toml" --set data.lattice_train=300 --out "$LAT-files"
check "train on lattice files" "$ELBO" train "$LAT/config.toml" --set data.lattice_model=file \
  --set "data.train=$LAT-files/train.idx" --set "data.test=$LAT-files/test.csv" --out "$LAT-from-files"
jq_true "lattice files are spins" "$LAT-from-files/evaluation.json" '.lattice.spins and .lattice.L == 8 and .examples == 100'

refuse "bad choice" 2 "is not one of" "$ELBO" train --set model.likelihood=gauss --out "$WORK/x"
refuse "dirac prior" 2 "support mismatch" "$ELBO" train "${TINY[@]}" --set model.prior=dirac --out "$WORK/x"
refuse "missing run" 2 "does not exist" "$ELBO" evaluate "$WORK/nope"
refuse "missing config" 2 "config" "$ELBO" train "$WORK/nope.toml"
refuse "unknown subcommand" 2 "" "$ELBO" frobnicate
refuse "bad K" 2 "--k" "$ELBO" evaluate "$RUN" --k 0
refuse "refine bad init" 2 "not in" "$ELBO" refine "$RUN" --init zero
refuse "refine csv only" 2 ".csv" "$ELBO" refine "$RUN" --out "$WORK/q.png"
refuse "bad output type" 2 ".png or .csv" "$ELBO" sample "$RUN" --out "$WORK/s.jpg"
printf '[train]\nepochs = = 3\n' > "$WORK/bad.toml"
refuse "toml syntax" 2 "bad.toml:2" "$ELBO" train "$WORK/bad.toml"
refuse "unwritable out" 2 "/proc/elbo" "$ELBO" train "${TINY[@]}" --out /proc/elbo/run

# Every JSON file any command wrote parses (non-finite numbers are written as null).
while IFS= read -r f; do
  case "$f" in *.jsonl) jq_true "valid JSON lines" "$f" '.' -s ;; *) jq_true "valid JSON" "$f" '.' ;; esac
done < <(find "$WORK" -name '*.json' -o -name '*.jsonl')
[ "$(find "$WORK" -name '*.json' | wc -l)" -ge 10 ] || { echo "FAIL: fewer JSON files than runs"; failures=$((failures + 1)); }

echo "cli: $failures failure(s)"
[ "$failures" -eq 0 ]
