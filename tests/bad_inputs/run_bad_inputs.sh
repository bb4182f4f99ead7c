#!/usr/bin/env bash
# The bad-input corpus: every malformed file or argument in tests/bad_inputs/
# (and the binary IDX files and damaged run directories this script makes in a
# temporary directory) is fed to the real elbo binary, which must refuse it
# with the exact message below and exit code (2 = bad input, 1 = internal or
# system failure), and never crash, abort or print a LibTorch backtrace.
# Needs no data set: the runs here train on tiny CSV/IDX files in seconds.
#
# usage: run_bad_inputs.sh path/to/elbo
set -u
ELBO="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
CSV="$HERE/csv"
TOML="$HERE/toml"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
cases=0

# refuse NAME EXIT_CODE MESSAGE COMMAND...: must fail with that code and that substring on stderr.
refuse() {
  local name=$1 code=$2 message=$3; shift 3
  cases=$((cases + 1))
  "$@" > "$W/out" 2> "$W/err"
  local got=$?
  local bad=""
  [ "$got" -eq "$code" ] || bad="expected exit $code, got $got"
  grep -qF -- "$message" "$W/err" || bad="${bad:+$bad; }stderr lacks '$message'"
  if grep -qE "terminate called|Exception raised from|Aborted|Segmentation|core dumped|internal error" "$W/err"; then
    bad="${bad:+$bad; }crash, backtrace or internal error on stderr"
  fi
  if [ -z "$bad" ]; then echo "ok   $name"; else
    echo "FAIL $name: $bad:"; sed 's/^/     /' "$W/err" | head -20; failures=$((failures + 1)); fi
}

# check NAME COMMAND...: must succeed (set-up steps).
check() {
  local name=$1; shift
  if "$@" > "$W/out" 2> "$W/err"; then echo "ok   $name"; else
    echo "FAIL $name (exit $?)"; cat "$W/out" "$W/err"; failures=$((failures + 1)); fi
}

# Small, fast settings; data.* keys of each case override them.
FAST=(--set data.validation=4 --set model.hidden=[8] --set model.latent_dim=2 --set train.epochs=1
      --set train.batch_size=8 --set eval.k=4 --set eval.n=4 --set report.samples=4)
csv_run() {  # csv_run FILE_IN_DIR DIR: a CSV training run's data settings
  echo --set data.format=csv --set "data.dir=$2" --set "data.train=$1" --set data.test= \
       --set model.likelihood=gaussian
}
idx_run() {  # idx_run IMAGES LABELS: IDX images in $W (labels "" = none)
  echo --set "data.dir=$W" --set "data.train=$1" --set "data.train_labels=$2" --set data.test=
}

# ---------------------------------------------------------------- CSV tables
refuse "csv ragged row" 2 "ragged.csv: line 3 has 2 cells, expected 3 (from line 1)" \
  "$ELBO" train "${FAST[@]}" $(csv_run ragged.csv "$CSV") --out "$W/r"
refuse "csv non-numeric cell" 2 "non_numeric.csv: line 3, column 2: cannot parse 'five' as a number" \
  "$ELBO" train "${FAST[@]}" $(csv_run non_numeric.csv "$CSV") --out "$W/r"
refuse "csv empty file" 2 "empty.csv: empty file" \
  "$ELBO" train "${FAST[@]}" $(csv_run empty.csv "$CSV") --out "$W/r"
refuse "csv header only" 2 "header_only.csv: no data rows" \
  "$ELBO" train "${FAST[@]}" $(csv_run header_only.csv "$CSV") --out "$W/r"
refuse "csv infinite value" 2 "inf.csv: line 3, column 2: value 'inf' is not finite" \
  "$ELBO" train "${FAST[@]}" $(csv_run inf.csv "$CSV") --out "$W/r"
refuse "csv missing file" 2 "nope.csv: cannot open CSV file" \
  "$ELBO" train "${FAST[@]}" $(csv_run nope.csv "$CSV") --out "$W/r"
refuse "csv too few rows for validation" 2 "data.validation = 100 must be smaller than the number of training examples" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.validation=100 --out "$W/r"

# ---------------------------------------------------------------- TOML configs
refuse "toml syntax error" 2 "syntax.toml:2:" "$ELBO" train "$TOML/syntax.toml" --out "$W/r"
refuse "toml syntax error names it" 2 "TOML syntax error" "$ELBO" train "$TOML/syntax.toml" --out "$W/r"
refuse "toml unknown key" 2 "unknown_key.toml:2: unknown key 'train.epoch' (did you mean 'train.epochs'?)" \
  "$ELBO" train "$TOML/unknown_key.toml" --out "$W/r"
refuse "toml wrong type" 2 "wrong_type.toml:2: key 'train.epochs' must be an integer (got another type)" \
  "$ELBO" train "$TOML/wrong_type.toml" --out "$W/r"
refuse "toml negative beta" 2 "negative_beta.toml:2: key 'objective.beta' = -0.5 is out of range [0," \
  "$ELBO" train "$TOML/negative_beta.toml" --out "$W/r"
refuse "toml K < 1" 2 "zero_particles.toml:2: key 'objective.particles' = 0 is out of range [1," \
  "$ELBO" train "$TOML/zero_particles.toml" --out "$W/r"
refuse "toml batch size 0" 2 "zero_batch.toml:2: key 'train.batch_size' = 0 is out of range [1," \
  "$ELBO" train "$TOML/zero_batch.toml" --out "$W/r"
refuse "toml latent size 0" 2 "zero_latent.toml:2: key 'model.latent_dim' = 0 is out of range [1," \
  "$ELBO" train "$TOML/zero_latent.toml" --out "$W/r"
refuse "toml hidden width 0" 2 "zero_hidden.toml:2: key 'model.hidden' = 0 is out of range [1," \
  "$ELBO" train "$TOML/zero_hidden.toml" --out "$W/r"
refuse "toml learning rate 0" 2 "train.lr must be > 0 (got 0)" \
  "$ELBO" train "$TOML/zero_lr.toml" "${FAST[@]}" $(csv_run good3.csv "$CSV") --out "$W/r"
refuse "toml non-ASCII bare key" 2 "non_ascii_key.toml:1: non-ASCII byte 0xc3 outside a string or comment" \
  "$ELBO" train "$TOML/non_ascii_key.toml" --out "$W/r"
printf '# caf\xc3\xa9\n[data]\ndir = "/tmp/caf\xc3\xa9"\n[train]\nepochs = 0\n' > "$W/utf8.toml"
refuse "toml UTF-8 in strings and comments is fine" 2 "utf8.toml:5: key 'train.epochs' = 0 is out of range" \
  "$ELBO" train "$W/utf8.toml" --out "$W/r"
printf '\x00\xff\xfe\x01[train' > "$W/binary.toml"
refuse "toml binary garbage" 2 "binary.toml:1:" "$ELBO" train "$W/binary.toml" --out "$W/r"
refuse "--set unknown key" 2 "--set train.epoch=3: unknown key 'train.epoch' (did you mean 'train.epochs'?)" \
  "$ELBO" train --set train.epoch=3 --out "$W/r"
refuse "--set without =" 2 "expected key=value" "$ELBO" train --set train.epochs --out "$W/r"
refuse "dsprites more examples than factor combinations" 2 \
  "data.dsprites_size (70000) + data.dsprites_test (5000) exceeds the 73728 distinct dsprites factor combinations" \
  "$ELBO" train --set data.format=dsprites --set data.dsprites_size=70000 --out "$W/r"
refuse "dsprites size 0" 2 "key 'data.dsprites_size' = 0 is out of range [1, 73728]" \
  "$ELBO" train --set data.format=dsprites --set data.dsprites_size=0 --out "$W/r"
refuse "lattice negative mass" 2 "data.lattice_mass must be positive and finite (got -1" \
  "$ELBO" train --set data.format=lattice --set data.lattice_model=gff --set data.lattice_mass=-1 --out "$W/r"
refuse "lattice negative temperature" 2 "data.lattice_temperature must be positive and finite (got -2" \
  "$ELBO" train --set data.format=lattice --set data.lattice_model=ising --set data.lattice_temperature=-2 --out "$W/r"
refuse "lattice size 1" 2 "data.lattice_size must be at least 2 (got 1)" \
  "$ELBO" train --set data.format=lattice --set data.lattice_size=1 --out "$W/r"
refuse "lattice block factor" 2 "L = 12 (data.lattice_size) is not a multiple of the block-spin factor 8" \
  "$ELBO" train --set data.format=lattice --set data.lattice_size=12 --set 'data.lattice_blocks=[2,8]' --out "$W/r"
printf 'a,b,c\n1,2,3\n4,5,6\n' > "$W/fields.csv"
refuse "lattice file row length" 2 "fields.csv: a configuration has 3 values, but data.lattice_size = 2 needs L^2 = 4" \
  "$ELBO" train --set data.format=lattice --set data.lattice_model=file --set data.lattice_size=2 \
  --set "data.train=$W/fields.csv" --out "$W/r"
refuse "--set wrong type" 2 "key 'model.hidden' must be a list of integers" \
  "$ELBO" train --set 'model.hidden=[1.5]' --out "$W/r"

# ---------------------------------------------------------------- data-parallel flags (refused before any process starts)
refuse "--nproc 0" 2 "--nproc must be >= 1 (got 0)" "$ELBO" train --nproc 0 --out "$W/r"
refuse "--nproc not a number" 2 "Could not convert: --nproc = two" "$ELBO" train --nproc two --out "$W/r"
refuse "--rank >= --world-size" 2 "--rank 2 must be in [0, 2) for --world-size 2" \
  "$ELBO" train --rank 2 --world-size 2 --master 127.0.0.1:29500 --out "$W/r"
refuse "--rank negative" 2 "--rank -1 must be in [0, 2) for --world-size 2" \
  "$ELBO" train --rank -1 --world-size 2 --master 127.0.0.1:29500 --out "$W/r"
refuse "--world-size 0" 2 "--world-size must be >= 1 (got 0)" \
  "$ELBO" train --rank 0 --world-size 0 --master 127.0.0.1:29500 --out "$W/r"
refuse "--rank without --master" 2 "--rank, --world-size and --master go together: give all three" \
  "$ELBO" train --rank 0 --world-size 2 --out "$W/r"
refuse "--nproc with --rank" 2 "give either --nproc N or --rank, --world-size and --master" \
  "$ELBO" train --nproc 2 --rank 0 --world-size 2 --master 127.0.0.1:29500 --out "$W/r"
refuse "--master without port" 2 "--master 'localhost': expected ADDR:PORT (e.g. 10.0.0.1:29500)" \
  "$ELBO" train --rank 0 --world-size 2 --master localhost --out "$W/r"
refuse "--master bad port" 2 "--master 'node1:70000': port 70000 is outside 1..65535" \
  "$ELBO" train --rank 0 --world-size 2 --master node1:70000 --out "$W/r"
refuse "--master non-numeric port" 2 "--master 'node1:http': expected ADDR:PORT" \
  "$ELBO" train --rank 1 --world-size 2 --master node1:http --out "$W/r"
refuse "train.dist_timeout 0" 2 "key 'train.dist_timeout' = 0 is out of range [0.1," \
  "$ELBO" train --set train.dist_timeout=0 --nproc 2 --out "$W/r"
refuse "data-parallel GECO" 2 "objective.type = \"geco\" is not supported in data-parallel training" \
  "$ELBO" train --set objective.type=geco --nproc 2 --out "$W/r"
refuse "data-parallel beta-TCVAE" 2 "objective.type = \"tcvae\" is not supported in data-parallel training" \
  "$ELBO" train --set objective.type=tcvae --nproc 2 --out "$W/r"
refuse "data-parallel free bits" 2 "objective.free_bits > 0 is not supported in data-parallel training" \
  "$ELBO" train --set objective.free_bits=0.5 --rank 0 --world-size 2 --master 127.0.0.1:1 \
  --set train.dist_timeout=0.5 --out "$W/r"

# ---------------------------------------------------------------- IDX files (made here)
# 20 grey 4x4 images, and helpers for headers: magic 00 00 <type> <ndim>, big-endian sizes.
pixels() { head -c "$1" /dev/zero | tr '\0' '\200'; }
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x04\x00\x00\x00\x04'; pixels 320; } > "$W/good.idx"
{ printf '\x00\x00\x08\x01\x00\x00\x00\x14'; head -c 20 /dev/zero; } > "$W/labels20.idx"
{ printf '\x00\x00\x08\x01\x00\x00\x00\x13'; head -c 19 /dev/zero; } > "$W/labels19.idx"
{ printf 'PK\x03\x04'; pixels 100; } > "$W/bad_magic.idx"
{ printf '\x00\x00\x08\x09'; pixels 100; } > "$W/ndim9.idx"
{ printf '\x00\x00\x08\x00'; } > "$W/ndim0.idx"
{ printf '\x00\x00\x08\x02\x00\x00\x00\x14\x00\x00\x00\x10'; pixels 320; } > "$W/flat.idx"
{ printf '\x00\x00\x07\x03\x00\x00\x00\x14\x00\x00\x00\x04\x00\x00\x00\x04'; pixels 320; } > "$W/type7.idx"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x04\x00\x00\x00\x04'; pixels 100; } > "$W/truncated.idx"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00'; } > "$W/short_header.idx"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x04\x00\x00\x00\x04'; pixels 330; } > "$W/trailing.idx"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x04'; } > "$W/no_images.idx"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x04'; } > "$W/zero_height.idx"
{ printf '\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'; } > "$W/huge.idx"
# float32 images holding a NaN (0x7fc00000) in the first pixel
{ printf '\x00\x00\x0d\x03\x00\x00\x00\x14\x00\x00\x00\x02\x00\x00\x00\x02\x7f\xc0\x00\x00';
  head -c 316 /dev/zero; } > "$W/nan_float.idx"
gzip -n -c "$W/good.idx" > "$W/good.idx.gz"
head -c 30 "$W/good.idx.gz" > "$W/truncated.idx.gz"
cp "$W/good.idx.gz" "$W/corrupt.idx.gz"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$W/corrupt.idx.gz" bs=1 seek=12 conv=notrunc status=none

check "idx good file trains" "$ELBO" train "${FAST[@]}" $(idx_run good.idx labels20.idx) --out "$W/idx_run"
check "idx gzip file trains" "$ELBO" train "${FAST[@]}" $(idx_run good.idx.gz "") --out "$W/idx_run_gz"
refuse "idx bad magic" 2 "bad_magic.idx: not an IDX file: bad magic 0x504b0304 at offset 0" \
  "$ELBO" train "${FAST[@]}" $(idx_run bad_magic.idx "") --out "$W/r"
refuse "idx 9 dimensions" 2 "ndim9.idx: bad IDX dimension count 9 at offset 3 (expected 1 to 8)" \
  "$ELBO" train "${FAST[@]}" $(idx_run ndim9.idx "") --out "$W/r"
refuse "idx 0 dimensions" 2 "ndim0.idx: bad IDX dimension count 0 at offset 3" \
  "$ELBO" train "${FAST[@]}" $(idx_run ndim0.idx "") --out "$W/r"
refuse "idx images of wrong rank" 2 "flat.idx: expected images [N, H, W] or [N, H, W, C], got [20, 16]" \
  "$ELBO" train "${FAST[@]}" $(idx_run flat.idx "") --out "$W/r"
refuse "idx unknown type code" 2 "type7.idx: unknown IDX type code 0x07 at offset 2" \
  "$ELBO" train "${FAST[@]}" $(idx_run type7.idx "") --out "$W/r"
refuse "idx truncated payload" 2 "truncated.idx: truncated: expected 320 payload bytes after the 16-byte header, found 100" \
  "$ELBO" train "${FAST[@]}" $(idx_run truncated.idx "") --out "$W/r"
refuse "idx truncated header" 2 "short_header.idx: truncated header: expected 16 bytes for 3 dimensions, found 10" \
  "$ELBO" train "${FAST[@]}" $(idx_run short_header.idx "") --out "$W/r"
refuse "idx trailing bytes" 2 "trailing.idx: 10 trailing bytes after the payload" \
  "$ELBO" train "${FAST[@]}" $(idx_run trailing.idx "") --out "$W/r"
refuse "idx no images" 2 "no_images.idx: no images (shape [0, 4, 4])" \
  "$ELBO" train "${FAST[@]}" $(idx_run no_images.idx "") --out "$W/r"
refuse "idx zero-sized images" 2 "zero_height.idx: empty images (shape [20, 0, 4])" \
  "$ELBO" train "${FAST[@]}" $(idx_run zero_height.idx "") --out "$W/r"
refuse "idx absurd declared size" 2 "huge.idx: declared size too large" \
  "$ELBO" train "${FAST[@]}" $(idx_run huge.idx "") --out "$W/r"
refuse "idx NaN pixel" 2 "nan_float.idx: non-finite value (nan) in example 1" \
  "$ELBO" train "${FAST[@]}" $(idx_run nan_float.idx "") --out "$W/r"
refuse "idx label count mismatch" 2 "labels19.idx: expected 20 labels (one per image in $W/good.idx), got shape [19]" \
  "$ELBO" train "${FAST[@]}" $(idx_run good.idx labels19.idx) --out "$W/r"
refuse "idx missing labels file" 2 "train-labels-idx1-ubyte.gz: cannot open IDX file" \
  "$ELBO" train "${FAST[@]}" $(idx_run good.idx train-labels-idx1-ubyte.gz) --out "$W/r"
refuse "idx truncated gzip" 2 "truncated.idx.gz: corrupt gzip stream" \
  "$ELBO" train "${FAST[@]}" $(idx_run truncated.idx.gz "") --out "$W/r"
refuse "idx corrupt gzip" 2 "corrupt.idx.gz: corrupt gzip stream" \
  "$ELBO" train "${FAST[@]}" $(idx_run corrupt.idx.gz "") --out "$W/r"

# ---------------------------------------------------------------- runs, checkpoints, output
cp "$CSV/good3.csv" "$W/data.csv"
RUN="$W/run3"
check "csv run trains" "$ELBO" train "${FAST[@]}" $(csv_run data.csv "$W") --out "$RUN"
check "csv run evaluates" "$ELBO" evaluate "$RUN" --k 4 --n 4 --json
cp "$CSV/good4.csv" "$W/data.csv"   # the data file changes under the run: 4 columns instead of 3
refuse "evaluate on data of another shape" 2 "data '$W/data.csv' has 4 features per example, the model expects 3" \
  "$ELBO" evaluate "$RUN" --k 4 --n 4
refuse "resume on data of another shape" 2 "was trained on data with 3 features per example, but '$W/data.csv' has 4" \
  "$ELBO" train --out "$RUN" --resume
cp "$CSV/good3.csv" "$W/data.csv"
refuse "resume with another model's config" 2 "--resume: the config differs from the one stored in '$RUN/checkpoint.pt'" \
  "$ELBO" train "${FAST[@]}" $(csv_run data.csv "$W") --set model.latent_dim=3 --out "$RUN" --resume

mkdir -p "$W/trunc" "$W/empty" "$W/garbage"
head -c 2000 "$RUN/checkpoint.pt" > "$W/trunc/checkpoint.pt"
: > "$W/empty/checkpoint.pt"
printf 'this is not a checkpoint\n' > "$W/garbage/checkpoint.pt"
refuse "truncated checkpoint" 2 "checkpoint '$W/trunc/checkpoint.pt' is truncated or corrupt" "$ELBO" evaluate "$W/trunc"
refuse "empty checkpoint" 2 "checkpoint '$W/empty/checkpoint.pt' is truncated or corrupt (0 bytes)" "$ELBO" evaluate "$W/empty"
refuse "garbage checkpoint" 2 "checkpoint '$W/garbage/checkpoint.pt' is truncated or corrupt" "$ELBO" evaluate "$W/garbage"
refuse "truncated checkpoint on resume" 2 "checkpoint '$W/trunc/checkpoint.pt' is truncated or corrupt" \
  "$ELBO" train --out "$W/trunc" --resume
refuse "resume without checkpoint" 2 "no checkpoint to resume from" "$ELBO" train --out "$W/nothing_here" --resume
# A flipped byte inside a stored weight: the checksum written with the checkpoint catches it.
mkdir -p "$W/flipped" && cp "$RUN/checkpoint.pt" "$W/flipped/"
python3 - "$W/flipped/checkpoint.pt" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    info = next(i for i in z.infolist() if i.filename.endswith("/data/0"))
raw = bytearray(open(path, "rb").read())
name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
raw[info.header_offset + 30 + name_len + extra_len + 1] ^= 0x40
open(path, "wb").write(raw)
PY
refuse "checkpoint with a flipped byte" 2 "checkpoint '$W/flipped/checkpoint.pt' is corrupt: its contents do not match the checksum" \
  "$ELBO" evaluate "$W/flipped"
# Found by fuzz/checkpoint_fuzzer (LibTorch's reader, before any checksum is read): a renamed
# attribute in data.pkl made its unpickler throw std::out_of_range (exit 1, "Argument passed to
# at() was not in the map."); a LONG_BINPUT memo index of 2^30 made it grow its memo table to
# 16 GB before failing. Both are refused as corrupt, the second before LibTorch sees the file.
edit_pickle() {  # edit_pickle RUN_DIR KIND: rewrites bytes of archive/data.pkl in place
  mkdir -p "$1" && cp "$RUN/checkpoint.pt" "$1/"
  python3 - "$1/checkpoint.pt" "$2" <<'PY'
import pickletools, sys, zipfile
path, kind = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(path) as z:
    info = next(i for i in z.infolist() if i.filename.endswith("/data.pkl"))
    pickle = z.read(info.filename)
raw = bytearray(open(path, "rb").read())
start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little") \
    + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
if kind == "renamed":
    at = pickle.index(b"weight") + 4
    raw[start + at] = ord("j")  # "weight" -> "weijht"
elif kind == "storage":  # the first storage's element count set to the largest its opcode holds
    ops = list(pickletools.genops(pickle))
    count = next(ops[i - 2] for i, (op, arg, pos) in enumerate(ops) if op.name == "BINPERSID")
    width = {"BININT1": 1, "BININT2": 2, "BININT": 4}[count[0].name]
    raw[start + count[2] + 1:start + count[2] + 1 + width] = b"\x7f" * width
else:  # the first BINPUT becomes LONG_BINPUT 2^30
    at = next(pos for op, arg, pos in pickletools.genops(pickle) if op.name == "BINPUT")
    raw[start + at:start + at + 5] = b"r" + (1 << 30).to_bytes(4, "little")
open(path, "wb").write(raw)
PY
}
edit_pickle "$W/renamed" renamed
refuse "checkpoint with a renamed attribute (fuzz finding)" 2 "checkpoint '$W/renamed/checkpoint.pt' is truncated or corrupt" \
  "$ELBO" evaluate "$W/renamed"
edit_pickle "$W/memo" memo
refuse "checkpoint with a huge pickle memo index (fuzz finding)" 2 \
  "checkpoint '$W/memo/checkpoint.pt' is truncated or corrupt ($(stat -c %s "$RUN/checkpoint.pt") bytes): not a valid archive: record 'archive/data.pkl'" \
  "$ELBO" evaluate "$W/memo"
refuse "checkpoint with a huge pickle memo index names it" 2 "memo index 1073741824 exceeds the record" \
  "$ELBO" evaluate "$W/memo"
# Also found by the fuzzer: a storage whose element count (in data.pkl) exceeds its record, which
# LibTorch's reader accepts and the checksum then reads past the end of.
edit_pickle "$W/storage" storage
refuse "checkpoint with a storage larger than its record (fuzz finding)" 2 "elements, its record holds" \
  "$ELBO" evaluate "$W/storage"
# Found by the fuzzer (scripts/fuzz.sh 600 checkpoint_fuzzer): a mutated code/__torch__.py, the
# TorchScript source LibTorch's reader compiles, crashed inside its compiler (SEGV in
# ScriptTypeParser::parseClassConstant). Only the source torch::save writes for a module of buffers passes.
mkdir -p "$W/torchscript" && cp "$HERE/checkpoint/torchscript_parser_crash.pt" "$W/torchscript/checkpoint.pt"
refuse "checkpoint whose TorchScript source crashed LibTorch's compiler (fuzz finding)" 2 \
  "record 'archive/code/__torch__.py': line 2 is not TorchScript that torch::save writes for a checkpoint" \
  "$ELBO" evaluate "$W/torchscript"
# Found by the same run: a tensor whose size in data.pkl (2352 bytes of config) exceeds its storage
# record (2323 bytes); LibTorch's reader builds it anyway, and reading it reads past the storage.
mkdir -p "$W/beyond" && cp "$HERE/checkpoint/tensor_beyond_storage.pt" "$W/beyond/checkpoint.pt"
refuse "checkpoint with a tensor beyond its storage (fuzz finding)" 2 \
  "entry 'config' (shape [2352], strides [1], offset 0) reaches beyond its storage of 2323 bytes" \
  "$ELBO" evaluate "$W/beyond"
# A ZIP record claiming more bytes than the file holds (LibTorch would allocate them first).
mkdir -p "$W/zipsize" && cp "$RUN/checkpoint.pt" "$W/zipsize/"
python3 - "$W/zipsize/checkpoint.pt" <<'PY'
import struct, sys
path = sys.argv[1]
raw = bytearray(open(path, "rb").read())
central = raw.index(b"PK\x01\x02")
raw[central + 20:central + 28] = struct.pack("<II", 1 << 31, 1 << 31)  # compressed and uncompressed sizes
open(path, "wb").write(raw)
PY
refuse "checkpoint with a ZIP record larger than the file" 2 \
  "checkpoint '$W/zipsize/checkpoint.pt' is truncated or corrupt" "$ELBO" evaluate "$W/zipsize"
refuse "checkpoint with a ZIP record larger than the file names it" 2 "claims 2147483648 bytes at byte" \
  "$ELBO" evaluate "$W/zipsize"

# Numerical faults (exit 1): an injected NaN loss stops the run naming the step; with
# train.nonfinite = "skip" the run goes on until more than train.max_skipped steps were skipped.
refuse "NaN loss stops" 1 "numerical failure: non-finite loss (nan) at step 3 (epoch 1, batch 3 of 4); training stopped and no checkpoint was written yet" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set train.inject_nan_step=3 --out "$W/nan"
refuse "NaN loss beyond max_skipped" 1 "1 steps with non-finite values were skipped, more than train.max_skipped = 0" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set train.inject_nan_step=3 --set train.nonfinite=skip \
  --set train.max_skipped=0 --out "$W/nan"
check "NaN loss skipped" "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set train.inject_nan_step=3 \
  --set train.nonfinite=skip --out "$W/nan_skip"
grep -q 'non-finite loss (nan) at step 3 (epoch 1, batch 3 of 4); step skipped' "$W/err" || {
  echo "FAIL NaN loss skipped: no warning"; failures=$((failures + 1)); }

# A full disk while writing the checkpoint (file size capped at 8 KiB, SIGXFSZ ignored): a clear error naming the path.
refuse "full disk on checkpoint" 1 "cannot write '$W/full/checkpoint.pt': File too large" \
  bash -c 'ulimit -f 8; trap "" XFSZ; exec "$@"' _ "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --out "$W/full"
[ -z "$(ls "$W/full" | grep '\.tmp\.')" ] || { echo "FAIL full disk: temporary file left"; failures=$((failures + 1)); }

# Missing data (data.missing, elbo impute): each bad setting names its key or file.
refuse "missing rate 1" 2 "data.missing_rate = 1 must be in [0, 1)" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=mcar --set data.missing_rate=1 --out "$W/m"
refuse "missing rate above 1" 2 "key 'data.missing_rate' = 1.5 is out of range [0, 1]" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=mcar --set data.missing_rate=1.5 --out "$W/m"
refuse "missing column name" 2 "data.missing_columns: 'zz' is not a column of '$CSV/good3.csv' (header: a, b, c)" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=columns --set data.missing_columns=zz --out "$W/m"
refuse "missing column index" 2 "data.missing_columns: column 7 is outside 1..3" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=columns --set 'data.missing_columns="7"' --out "$W/m"
refuse "missing columns hide everything" 2 "data.missing_columns = \"a,b,c\" hides every observed entry" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=columns --set data.missing_columns=a,b,c --out "$W/m"
refuse "missing block on a table" 2 "data.missing = \"block\" needs image data" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set data.missing=block --out "$W/m"
refuse "every entry of every row missing" 2 "all_missing.csv': every entry of every row is missing" \
  "$ELBO" train "${FAST[@]}" $(csv_run all_missing.csv "$CSV") --set data.validation=0 --set data.test=all_missing.csv --out "$W/m"
check "rows with every entry missing are dropped" "$ELBO" train "${FAST[@]}" $(csv_run all_missing_rows.csv "$CSV") \
  --set data.validation=0 --set data.test_fraction=0.0 --set data.test=all_missing_rows.csv --out "$W/dropped"
grep -qF "dropped rows with every entry missing: 2 training, 0 validation, 2 test" "$W/err" || {
  echo "FAIL dropped rows: no count in the log"; cat "$W/err"; failures=$((failures + 1)); }
refuse "impute without missing entries" 2 "elbo impute: the test data of '$RUN' have no missing entries" \
  "$ELBO" impute "$RUN"
refuse "impute --data without missing entries" 2 "elbo impute: '$CSV/good3.csv' has no missing entries" \
  "$ELBO" impute "$RUN" --data "$CSV/good3.csv"
refuse "impute --data of another width" 2 "elbo impute: '$CSV/good4.csv' has 4 features per example" \
  "$ELBO" impute "$RUN" --data "$CSV/good4.csv"
refuse "impute png of a table" 2 "the data of this run are not images; write .csv instead" \
  "$ELBO" impute "$W/dropped" --out "$W/i.png"

# A metrics.jsonl whose last line a kill cut inside a string: skipped with a warning naming the
# file and line (it once made evaluate --mi spin forever), and dropped on resume.
mkdir -p "$W/cut" && cp "$RUN"/{checkpoint.pt,config.toml} "$W/cut/"
cat "$RUN/metrics.jsonl" "$HERE/jsonl/cut_string.jsonl" > "$W/cut/metrics.jsonl"
cut_line=$(wc -l < "$W/cut/metrics.jsonl"); cut_line=$((cut_line + 1))  # the last line has no newline
check "cut metrics line skipped" timeout 120 "$ELBO" evaluate "$W/cut" --k 4 --n 4 --mi
grep -qF "$W/cut/metrics.jsonl:$cut_line: cut or garbled line skipped" "$W/err" || {
  echo "FAIL cut metrics line: no warning"; cat "$W/err"; failures=$((failures + 1)); }
check "cut metrics line dropped on resume" timeout 120 "$ELBO" train --out "$W/cut" --resume
! grep -q '"ste$' "$W/cut/metrics.jsonl" || { echo "FAIL cut metrics line kept on resume"; failures=$((failures + 1)); }

refuse "evaluate a missing run" 2 "run directory '$W/nope' does not exist" "$ELBO" evaluate "$W/nope"

printf 'x' > "$W/a_file"
refuse "output dir under a file" 2 "cannot create output directory '$W/a_file/run'" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --out "$W/a_file/run"
refuse "output dir in /proc" 2 "cannot create output directory '/proc/elbo/run'" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --out /proc/elbo/run
if [ "$(id -u)" -ne 0 ]; then  # root can write anywhere
  mkdir -p "$W/readonly" && chmod 555 "$W/readonly"
  refuse "read-only output dir" 2 "output directory '$W/readonly' is not writable" \
    "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --out "$W/readonly"
fi

# ---------------------------------------------------------------- multimodal data
MM=("$TOML/multimodal.toml" --set "data.dir=$CSV")
refuse "modalities with different row counts" 2 "modality 'counts' ('$CSV/mm_short.csv') has 5 rows, modality 'expr' ('$CSV/mm_expr.csv') has 12" \
  "$ELBO" train "${MM[@]}" --set 'data.modalities[1].file="mm_short.csv"' --out "$W/mm"
refuse "modality name used twice" 2 "data.modalities[1].name: the modality name 'expr' is used twice" \
  "$ELBO" train "${MM[@]}" --set 'data.modalities[1].name="expr"' --out "$W/mm"
refuse "negative counts" 2 "modality 'counts' ('$CSV/mm_negative.csv'): the poisson likelihood needs counts (non-negative integers); row 7, column 'c1' holds -1" \
  "$ELBO" train "${MM[@]}" --set 'data.modalities[1].file="mm_negative.csv"' --out "$W/mm"
refuse "row without any modality" 2 "1 row of the training files has no modality (every modality absent): row 3" \
  "$ELBO" train "${MM[@]}" --set 'data.modalities[0].file="mm_expr_gap.csv"' --set 'data.modalities[1].file="mm_counts_gap.csv"' --out "$W/mm"
refuse "modality index past the tables" 2 "key 'data.modalities[2].name': the config has 2 [[data.modalities]] tables" \
  "$ELBO" train "${MM[@]}" --set 'data.modalities[2].name="x"' --out "$W/mm"
check "multimodal run" "$ELBO" train "${MM[@]}" --out "$W/mm"
refuse "predict --from no modality" 2 "--from: 'rna' names no modality (the modalities are: expr, counts)" \
  "$ELBO" predict "$W/mm" --from rna --to counts
refuse "predict --to no modality" 2 "--to: 'protein' names no modality (the modalities are: expr, counts)" \
  "$ELBO" predict "$W/mm" --from expr --to protein
refuse "predict --to also in --from" 2 "--to: 'expr' is also in --from" \
  "$ELBO" predict "$W/mm" --from expr,counts --to expr
refuse "predict a run without a predictive distribution" 2 "holds a model.type = \"vae\" run, which has no predictive distribution" \
  "$ELBO" predict "$RUN" --from a --to b

# ---------------------------------------------------------------- time series and Bayesian networks
SERIES=(--set data.format=series --set "data.dir=$CSV" --set data.train=series_good.csv --set data.test=
        --set data.train_labels= --set data.test_labels= --set data.validation=0 --set data.time_column=time
        --set data.test_from=31 --set data.window=8 --set model.type=brnn --set model.hidden=[4] --set train.epochs=1
        --set train.batch_size=8 --set eval.k=2 --set eval.n=4)
refuse "series time not increasing" 2 "series_unordered.csv:5: time 3 does not increase" \
  "$ELBO" train "${SERIES[@]}" --set data.train=series_unordered.csv --set data.window=2 --set data.test_from=7 --out "$W/s"
refuse "series missing value" 2 "series_gap.csv:5: column 'value' is missing; set data.fill = \"linear\"" \
  "$ELBO" train "${SERIES[@]}" --set data.train=series_gap.csv --set data.window=2 --set data.test_from=7 --out "$W/s"
refuse "brnn without a series" 2 "model.type = \"brnn\" reads windows of a time series: set data.format = \"series\"" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set model.type=brnn --out "$W/s"
check "series run" "$ELBO" train "${SERIES[@]}" --out "$W/s"
check "series forecast" "$ELBO" forecast "$W/s" --horizon 12 --draws 20 --out "$W/s/fc.csv"
check "forecast wrote 12 steps and a picture" bash -c "[ \$(wc -l < '$W/s/fc.csv') -eq 13 ] && grep -q '<svg' '$W/s/fc.svg'"
refuse "forecast horizon < 1" 2 "--horizon must be >= 1 (got 0)" "$ELBO" forecast "$W/s" --horizon 0
refuse "forecast a non-series run" 2 "holds a model.type = \"vae\" run; forecasts continue a brnn run" \
  "$ELBO" forecast "$RUN" --horizon 5
refuse "predict a series run" 2 "holds a model.type = \"brnn\" run, which has no predictive distribution" \
  "$ELBO" predict "$W/s"
refuse "bnn regression without targets" 2 "model.task = \"regression\" needs float targets: name their CSV columns in data.target_columns" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set model.type=bnn --set model.task=regression --out "$W/b"
check "bnn regression run" "$ELBO" train "${FAST[@]}" $(csv_run good4.csv "$CSV") --set model.type=bnn \
  --set model.task=regression --set data.target_columns=d --out "$W/b"
check "bnn predict" "$ELBO" predict "$W/b" --draws 5 --out "$W/b/p.csv"
check "bnn predict wrote mean, sd, quantiles and the target" grep -q "^mean,sd,q05,q25,q50,q75,q95,target$" "$W/b/p.csv"
refuse "bnn target column not in the table" 2 "data.target_columns: 'price' is not a column of" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set model.type=bnn --set model.task=regression \
  --set data.target_columns=price --out "$W/b"
refuse "bnn convolutions on a table" 2 "with model.encoder = \"conv\" needs image data; this data set has" \
  "$ELBO" train "${FAST[@]}" $(csv_run good4.csv "$CSV") --set model.type=bnn --set model.task=regression \
  --set data.target_columns=d --set model.encoder=conv --out "$W/b"

# ---------------------------------------------------------------- FASTA sequences (data.format = "fasta")
FA="$HERE/fasta"
FASTA=("$TOML/fasta.toml" --set "data.dir=$FA")
gzip -n -c "$FA/good.fa" > "$W/good.fa.gz"
head -c 60 "$W/good.fa.gz" > "$W/truncated.fa.gz"
cp "$W/good.fa.gz" "$W/corrupt.fa.gz"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$W/corrupt.fa.gz" bs=1 seek=30 conv=notrunc status=none
refuse "fasta without a header" 2 "$FA/no_header.fa:2: expected a '>' header line, got 'ACGTACGTAC'" \
  "$ELBO" train "${FASTA[@]}" --set data.train=no_header.fa --out "$W/f"
refuse "fasta empty record" 2 "$FA/empty_record.fa:3: record 'chr2' is empty (a header with no sequence)" \
  "$ELBO" train "${FASTA[@]}" --set data.train=empty_record.fa --out "$W/f"
refuse "fasta non-IUPAC character" 2 "$FA/bad_char.fa:5: record 'chr2': character 'X' (column 7) is not an IUPAC nucleotide code" \
  "$ELBO" train "${FASTA[@]}" --set data.train=bad_char.fa --out "$W/f"
refuse "fasta window longer than every sequence" 2 \
  "data.window = 100 is longer than every sequence of $FA/good.fa (longest: 'chr3', 80 bases)" \
  "$ELBO" train "${FASTA[@]}" --set data.test=test.fa --set data.window=100 --out "$W/f"
refuse "fasta gzip that ends early" 2 "$W/truncated.fa.gz: corrupt gzip stream: it ends early" \
  "$ELBO" train "${FASTA[@]}" --set "data.dir=$W" --set data.train=truncated.fa.gz --out "$W/f"
refuse "fasta corrupt gzip" 2 "$W/corrupt.fa.gz: corrupt gzip stream" \
  "$ELBO" train "${FASTA[@]}" --set "data.dir=$W" --set data.train=corrupt.fa.gz --out "$W/f"
refuse "fasta with a single record and no test file" 2 "$FA/test.fa: one record ('t1')" \
  "$ELBO" train "${FASTA[@]}" --set data.train=test.fa --out "$W/f"
refuse "fasta standardized" 2 "data.format = \"fasta\" gives each base as its index A0 C1 G2 T3" \
  "$ELBO" train "${FASTA[@]}" --set data.standardize=true --out "$W/f"
refuse "fasta with a gaussian likelihood" 2 "it needs model.type = \"vae\" with model.likelihood = \"categorical\"" \
  "$ELBO" train "${FASTA[@]}" --set model.likelihood=gaussian --out "$W/f"
check "fasta gzip run trains" "$ELBO" train "${FASTA[@]}" --set "data.dir=$W" --set data.train=good.fa.gz \
  --set data.reverse_complement=true --out "$W/fasta_run"
[ -s "$W/fasta_run/samples.fasta" ] || { echo "FAIL fasta run wrote no samples.fasta"; failures=$((failures + 1)); }

# ---------------------------------------------------------------- crystals (data.format = "crystals")
CIF="$HERE/cif"
CRYSTALS=("$TOML/crystals.toml" --set "data.dir=$CIF")
refuse "cif missing cell parameter" 2 "$CIF/missing_cell.cif:2: data_broken: missing _cell_angle_gamma" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=missing_cell.cif --out "$W/c"
refuse "cif degenerate cell" 2 "$CIF/degenerate.cif:8: data_flat: degenerate cell (zero volume)" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=degenerate.cif --out "$W/c"
refuse "cif coordinate outside [0, 1) refused by data.wrap_coordinates" 2 \
  "$CIF/outside.cif:15: _atom_site_fract_x = 1.5 of Cl is outside [0, 1) (wrapping into the cell is turned off)" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=outside.cif --set data.wrap_coordinates=false --out "$W/c"
refuse "cif more atoms than data.max_atoms" 2 \
  "$CIF/too_many_atoms.cif:2: data_nacl: more than 4 atoms in the cell after applying its 4 symmetry operations" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=too_many_atoms.cif --out "$W/c"
refuse "cif unknown element" 2 "$CIF/unknown_element.cif:15: unknown element symbol 'Xq'" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=unknown_element.cif --out "$W/c"
refuse "cif missing file" 2 "$CIF/nope.cif" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.train=nope.cif --out "$W/c"
refuse "crystals with a vae" 2 "data.format = \"crystals\" gives each crystal as lattice, count, species and coordinates: it needs model.type = \"crystal\"" \
  "$ELBO" train "${CRYSTALS[@]}" --set model.type=vae --out "$W/c"
refuse "crystal model on images" 2 "model.type = \"crystal\" reads crystal structures: set data.format = \"crystals\"" \
  "$ELBO" train "${FAST[@]}" $(csv_run good3.csv "$CSV") --set model.type=crystal --out "$W/c"
refuse "crystal coordinate grid below 1" 2 "key 'model.coordinate_grid' = 0 is out of range [1, 16]" \
  "$ELBO" train "${CRYSTALS[@]}" --set model.coordinate_grid=0 --out "$W/c"
refuse "crystal coordinate grid without the autoregressive decoder" 2 "model.coordinate_grid = 4 (a mixture on a grid per atom) needs model.coordinate_decoder = \"autoregressive\"" \
  "$ELBO" train "${CRYSTALS[@]}" --set model.coordinate_grid=4 --set model.coordinate_decoder=independent --out "$W/c"
refuse "crystals standardized" 2 "data.format = \"crystals\" gives each crystal as its lattice, atom count, species and coordinates" \
  "$ELBO" train "${CRYSTALS[@]}" --set data.standardize=true --out "$W/c"
cases=$((cases + 1))
if "$ELBO" train "${CRYSTALS[@]}" --set data.train=outside.cif --out "$W/crystal_run" > "$W/out" 2> "$W/err" &&
   grep -qF "elbo: note: $CIF/outside.cif:15: _atom_site_fract_x = 1.5 is outside [0, 1): 1 coordinate of data_nacl wrapped into the cell" "$W/err"; then
  echo "ok   cif coordinate outside [0, 1) wrapped with a note"
else
  echo "FAIL cif coordinate outside [0, 1) wrapped with a note:"; sed 's/^/     /' "$W/err" | head -20; failures=$((failures + 1))
fi
check "crystal run samples CIF files" "$ELBO" sample "$W/crystal_run" --n 3 --poscar
check "crystal run reconstructs test structures as CIF files" "$ELBO" reconstruct "$W/crystal_run"
for f in samples/sample1.cif samples/sample3.poscar samples/samples.csv reconstructions/reconstruction1.cif \
         reconstructions/reconstructions.csv; do
  [ -s "$W/crystal_run/$f" ] || { echo "FAIL crystal run wrote no $f"; failures=$((failures + 1)); }
done
refuse "crystal design for a non-positive volume" 2 "elbo design: --target of the crystal property 'volume_per_atom' must be positive (got -1)" \
  "$ELBO" design "$W/crystal_run" --property volume_per_atom --target -1 --n 2 --steps 2
refuse "design fitted on decoded codes without an oracle" 2 "elbo design: --fit decoded measures decoded codes with an exact oracle" \
  "$ELBO" design "$RUN" --property x1 --target 0 --fit decoded --n 2 --steps 2
refuse "valid-only samples of a non-crystal run" 2 "elbo sample --valid-only: only crystal runs have a validity check" \
  "$ELBO" sample "$RUN" --n 2 --valid-only
check "crystal run samples valid structures only" "$ELBO" sample "$W/crystal_run" --n 4 --valid-only --out "$W/valid"
cases=$((cases + 1))
if grep -q "acceptance rate" "$W/out" && [ "$(ls "$W/valid"/sample*.cif | wc -l)" -eq 4 ]; then echo "ok   valid-only sampling reports its acceptance rate"
else echo "FAIL valid-only sampling: no acceptance rate or not 4 CIF files"; sed 's/^/     /' "$W/out" | head; failures=$((failures + 1)); fi

echo "bad inputs: $cases cases, $failures failure(s)"
[ "$failures" -eq 0 ]
