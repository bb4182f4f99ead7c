"""`import elbo` against the elbo CLI on the same run, and its distribution functions against
torch.distributions. usage: PYTHONPATH=BUILD/python module_test.py ELBO_BINARY
Needs Debian's Fashion-MNIST (/usr/share/datasets/fashion-mnist), as the CLI tests do."""
import csv
import gzip
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import torch

import elbo

ELBO = sys.argv[1]
WORK = tempfile.mkdtemp()
failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(name)


def raises(name, error, fragment, call):
    try:
        call()
    except error as e:
        check(name, fragment in str(e), f"{error.__name__} without '{fragment}': {e}")
        return
    except Exception as e:  # noqa: BLE001 - the wrong type is the failure reported
        check(name, False, f"expected {error.__name__}, got {type(e).__name__}: {e}")
        return
    check(name, False, f"expected {error.__name__}, nothing raised")


def cli(*args):
    return subprocess.run([ELBO, *args], check=True, capture_output=True, text=True).stdout


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return torch.tensor([[float(v) for v in row] for row in rows[1:]], dtype=torch.float64)


def numbers(tree, path=""):
    """Every number in a JSON tree by its path, timing fields left out."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k not in ("seconds", "examples_per_s"):
                yield from numbers(v, f"{path}.{k}")
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield path, float(tree)


# ---- training, with a progress callback and the GIL released ----
config = {"data": {"max_train": 1200, "max_test": 60, "validation": 200},
          "model": {"hidden": [32], "latent_dim": 3},
          "train": {"epochs": 2, "log_every": 4},
          "eval.k": 5, "eval.n": 20}
lines = []
ticks = [0]
stop = threading.Event()


def count():  # runs only while the GIL is free
    while not stop.is_set():
        ticks[0] += 1
        time.sleep(0.0005)


counter = threading.Thread(target=count)
counter.start()
start = time.time()
run = elbo.train(config, overrides={"train.seed": 3}, out=os.path.join(WORK, "run"), progress=lines.append)
seconds = time.time() - start
stop.set()
counter.join()
types = [line["type"] for line in lines]
check("train: progress gets train_step, step and epoch lines", types[0] == "train_step" and types.count("epoch") == 2
      and "step" in types, types)
check("train: epoch lines as metrics.jsonl writes them",
      [json.loads(l) for l in open(os.path.join(WORK, "run", "metrics.jsonl")) if '"epoch"' in l and '"valid_elbo"' in l]
      == [l for l in lines if l["type"] == "epoch"])
check(f"train: the GIL is released while training ({ticks[0]} ticks of another thread in {seconds:.1f} s)",
      ticks[0] > 100 * seconds, f"{ticks[0]} ticks in {seconds:.1f} s")
check("train: the run", run.step == 2 * math.ceil(1000 / 128) and run.latent_dim == 3 and run.features == 784,
      repr(run))
check("train: config", run.config["model"]["hidden"] == [32] and run.config["train"]["seed"] == 3, run.config["train"])
RUN = run.dir


def stop_after_first_epoch(line):
    if line["type"] == "epoch":
        raise RuntimeError("stopped by the callback")


resumed_dir = os.path.join(WORK, "resumed")
raises("train: an exception in the callback stops training", RuntimeError, "stopped by the callback",
       lambda: elbo.train(config, {"train.seed": 3}, out=resumed_dir, progress=stop_after_first_epoch))
resumed = elbo.train(out=resumed_dir, resume=True)
check("train: resume=True ends with the weights of an uninterrupted run", resumed.step == run.step and all(
    torch.equal(t, run.state_dict()[name]) for name, t in resumed.state_dict().items()))

# ---- the same numbers as the CLI on the same run ----
scores = run.evaluate(k=10, n=30)
cli_scores = json.loads(cli("evaluate", RUN, "--k", "10", "--n", "30", "--json"))
ours, theirs = dict(numbers(scores)), dict(numbers(cli_scores))
check("evaluate: the keys of elbo evaluate --json", sorted(ours) == sorted(theirs),
      set(ours).symmetric_difference(theirs))
worst = max((abs(ours[k] - theirs[k]) / max(1.0, abs(theirs[k])), k) for k in theirs if k in ours)
check(f"evaluate: the numbers of elbo evaluate --json ({len(theirs)}, largest relative difference {worst[0]:.2g})",
      worst[0] < 1e-9, worst)
check("evaluate: k, n", scores["k"] == 10 and scores["examples"] == 30, scores)
loaded = elbo.load(RUN)
check("load: same evaluation", loaded.evaluate(k=10, n=30)["elbo"] == scores["elbo"])

with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:20].copy()
cli("encode", RUN, "--n", "20", "--out", os.path.join(WORK, "latents.csv"))
cli("reconstruct", RUN, "--n", "20", "--out", os.path.join(WORK, "reconstructions.csv"))
cli("sample", RUN, "--n", "6", "--out", os.path.join(WORK, "samples.csv"))
latents, reconstructions = read_csv(os.path.join(WORK, "latents.csv")), read_csv(os.path.join(WORK, "reconstructions.csv"))
mean, scale = run.encode(images)  # NumPy uint8 images [20, 28, 28]: k / 255, as the data loader reads them
check("encode: (mean, scale) tensors [20, 3]", isinstance(mean, torch.Tensor) and mean.shape == (20, 3)
      and scale.shape == (20, 3) and bool((scale > 0).all()), (type(mean), mean.shape))
check("encode: elbo encode's means and scales", torch.allclose(torch.cat([mean, scale], 1).double(), latents[:, :6],
                                                                 rtol=1e-6, atol=1e-6),
      (torch.cat([mean, scale], 1).double() - latents[:, :6]).abs().max())
flat = torch.from_numpy(images).reshape(20, 784).float() / 255
check("encode: [B, 784] floats and [B, 1, 28, 28] as the same images",
      torch.equal(run.encode(flat)[0], mean) and torch.equal(run.encode(flat.reshape(20, 1, 28, 28))[0], mean))
rec = run.reconstruct(images)
check("reconstruct: elbo reconstruct's", torch.allclose(rec.double(), reconstructions, rtol=0, atol=2e-7),
      (rec.double() - reconstructions).abs().max())
check("decode: decode(encode(x).mean) = reconstruct(x)", torch.equal(run.decode(mean), rec))
check("sample: elbo sample's (seed 1)", torch.allclose(run.sample(6).double(), read_csv(os.path.join(WORK, "samples.csv")),
                                                       rtol=0, atol=2e-7))
torch.manual_seed(7)
expected = torch.rand(3)
torch.manual_seed(7)
run.sample(4, seed=2)
check("sample: torch's global generator left as it was", torch.equal(torch.rand(3), expected))
weights = run.state_dict()["decoder.layer0.weight"]
check("state_dict: the model's own tensors (no copy)",
      weights.data_ptr() == run.state_dict()["decoder.layer0.weight"].data_ptr() and weights.shape == (32, 3))

# ---- impute, predict, forecast, design: the CLI subcommands' numbers on the same tiny runs ----
HERE = os.path.dirname(os.path.abspath(__file__))
CSV_DIR = os.path.join(HERE, "..", "bad_inputs", "csv")
EXAMPLES = os.path.join(HERE, "..", "..", "examples")


def read_rows(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


# elbo impute --data on a standardized table with MCAR cells (tests/cli/cli_test.sh's TABLE run).
table = elbo.train({"data": {"format": "csv", "dir": CSV_DIR, "train": "good4.csv", "test": "good4.csv", "validation": 0,
                             "standardize": True, "missing": "mcar", "missing_rate": 0.3},
                    "model": {"likelihood": "gaussian", "hidden": [16], "latent_dim": 2},
                    "train": {"epochs": 3, "batch_size": 8}, "eval.k": 20, "eval.n": 0}, out=os.path.join(WORK, "table"))
with open(os.path.join(WORK, "holes.csv"), "w") as f:
    f.write("a,b,c,d\n0.5,,1.25,\n,,,\n0.1,0.2,0.3,0.4\n")
cli("impute", table.dir, "--data", os.path.join(WORK, "holes.csv"), "--draws", "3", "--out", os.path.join(WORK, "filled.csv"))
holes = torch.tensor([[0.5, math.nan, 1.25, math.nan], [math.nan] * 4, [0.1, 0.2, 0.3, 0.4]])
imp = table.impute(holes, draws=3)
filled = read_csv(os.path.join(WORK, "filled.csv"))[:, 2:].reshape(3, 3, 4)
check("impute: elbo impute --data's completed copies", imp["draws"].shape == (3, 3, 4)
      and torch.allclose(imp["draws"].double(), filled, rtol=1e-6, atol=1e-6), (imp["draws"].double() - filled).abs().max())
mask = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
check("impute: a mask gives the same copies as NaN", torch.equal(table.impute(torch.nan_to_num(holes, 7.0), mask=mask,
                                                                                draws=3)["draws"], imp["draws"]))
check("impute: observed cells kept, mean [3, 4]", imp["mean"].shape == (3, 4)
      and abs(float(imp["mean"][2, 3]) - 0.4) < 1e-6 and imp["effective_sample_size"].shape == (3,))
raises("impute: no missing entries", ValueError, "no missing entries", lambda: table.impute(torch.zeros(2, 4)))

# elbo predict on a bnn regression run (tests/bad_inputs' FAST settings).
fast = {"data.validation": 4, "model.hidden": [8], "model.latent_dim": 2, "train.epochs": 1, "train.batch_size": 8,
        "eval.k": 4, "eval.n": 4, "report.samples": 4}
bnn = elbo.train({**fast, "data.format": "csv", "data.dir": CSV_DIR, "data.train": "good4.csv", "data.test": "",
                  "model.likelihood": "gaussian", "model.type": "bnn", "model.task": "regression",
                  "data.target_columns": "d"}, out=os.path.join(WORK, "bnn"))
cli("predict", bnn.dir, "--draws", "5", "--out", os.path.join(WORK, "p.csv"))
p = read_csv(os.path.join(WORK, "p.csv"))
ours = bnn.predict(draws=5)
mine = torch.cat([ours["mean"], ours["sd"], ours["quantiles"][:, :, 0].T], 1).double()
check("predict: elbo predict's mean, sd and quantiles", mine.shape == p[:, :7].shape
      and torch.allclose(mine, p[:, :7], rtol=1e-6, atol=1e-6), (mine - p[:, :7]).abs().max() if mine.shape == p[:, :7].shape
      else mine.shape)
raises("predict: a VAE has no predictive distribution", ValueError, "which has no predictive distribution",
       lambda: run.predict())

# elbo forecast on a brnn series run (tests/bad_inputs' SERIES settings).
series = elbo.train({"data": {"format": "series", "dir": CSV_DIR, "train": "series_good.csv", "test": "",
                              "train_labels": "", "test_labels": "", "validation": 0, "time_column": "time",
                              "test_from": 31, "window": 8},
                     "model": {"type": "brnn", "hidden": [4]}, "train": {"epochs": 1, "batch_size": 8},
                     "eval.k": 2, "eval.n": 4}, out=os.path.join(WORK, "series"))
cli("forecast", series.dir, "--horizon", "12", "--draws", "20", "--out", os.path.join(WORK, "fc.csv"))
header, rows = read_rows(os.path.join(WORK, "fc.csv"))
theirs = torch.tensor([[float(v) for v in row[3:9]] for row in rows], dtype=torch.float64)  # mean, q05..q95
fc = series.forecast(12, draws=20)
mine = torch.cat([fc["mean"][:, :1], fc["quantiles"][:, :, 0].T], 1).double()
check("forecast: elbo forecast's mean and quantiles", header[3:9] == ["mean", "q05", "q25", "q50", "q75", "q95"]
      and fc["paths"].shape == (20, 12, 1) and torch.allclose(mine, theirs, rtol=1e-6, atol=1e-6),
      (header, fc["paths"].shape, (mine - theirs).abs().max() if mine.shape == theirs.shape else mine.shape))
raises("forecast: not a brnn run", ValueError, "forecasts continue a brnn run", lambda: run.forecast(5))
# The run's report forecasts its held-out rows as Run.forecast does with its seed and 1000 paths.
held_out = series.forecast(1000, draws=2)["truth"].shape[0]
fc = series.forecast(held_out, draws=1000, seed=1)
q, truth = fc["quantiles"][:, :, 0], fc["truth"][:, 0]
inside = lambda lo, hi: float(((truth >= q[lo]) & (truth <= q[hi])).double().mean())
expected = "%.3f / %.3f" % (inside(1, 3), inside(0, 4))
with open(os.path.join(series.dir, "report.html")) as f:
    report = f.read()
shown = re.search(r"coverage of the 50% / 90% bands</t[dh]>\s*<td>([^<]*)</td>", report)
check("report: a brnn run's forecast section", "<h2>Forecast</h2>" in report and shown is not None
      and shown.group(1) == expected, (shown.group(1) if shown else "no coverage row", expected))

# elbo design on a DNA run of planted-motif windows (tests/cli/cli_test.sh's, one epoch).
subprocess.run([sys.executable, os.path.join(EXAMPLES, "dna", "planted_motif.py"), "--n", "300", "--length", "40",
                "--offset", "10", "--seed", "1", "--out", os.path.join(WORK, "planted.fa")], check=True, capture_output=True)
dna = elbo.train(os.path.join(EXAMPLES, "dna", "dna.toml"),
                 {"data.train": os.path.join(WORK, "planted.fa"), "data.window": 40, "data.stride": 40, "data.max_train": 0,
                  "data.max_test": 0, "data.validation": 30, "model.latent_dim": 4, "train.epochs": 1, "eval.k": 20,
                  "objective.warmup_steps": 0}, out=os.path.join(WORK, "dna"))
cli("design", dna.dir, "--property", "gc", "--target", "0.5", "--n", "8", "--steps", "30", "--out", os.path.join(WORK, "design"))
designed = dna.design("gc", 0.5, n=8, steps=30)
with open(os.path.join(WORK, "design", "design.json")) as f:
    design_json = json.load(f)
ours = dict(numbers({k: v for k, v in designed.items() if k not in ("design_x", "design_codes")}))
theirs = dict(numbers(design_json))
check("design: the keys of design.json", sorted(ours) == sorted(theirs), set(ours).symmetric_difference(theirs))
worst = max([(abs(ours[k] - theirs[k]) / max(1.0, abs(theirs[k])), k) for k in theirs if k in ours] or [(1.0, "none")])
check(f"design: the numbers of design.json ({len(theirs)}, largest relative difference {worst[0]:.2g})", worst[0] < 1e-9,
      worst)
with open(os.path.join(WORK, "design", "designs.fasta")) as f:
    fasta = [line.strip() for line in f if not line.startswith(">")]
check("design: the designs of designs.fasta", ["".join("ACGT"[int(b)] for b in row) for row in designed["design_x"]] == fasta
      and designed["design_codes"].shape == (8, 4), (fasta[:1], designed["design_x"][:1]))
raises("design: a property the run lacks", ValueError, "motif:", lambda: dna.design("weight", 1.0, n=2, steps=1))

# ---- errors: the CLI's messages as ValueError ----
raises("encode: wrong shape", ValueError, "x must be [B, 784] or images [B, 1, 28, 28], got [4, 5]",
       lambda: run.encode(torch.zeros(4, 5)))
raises("decode: wrong shape", ValueError, "z must be [B, 3] (latent codes), got [2, 4]", lambda: run.decode(torch.zeros(2, 4)))
raises("load: no run", ValueError, "does not exist", lambda: elbo.load(os.path.join(WORK, "nothing")))
raises("train: unknown key", ValueError, "did you mean 'train.epochs'", lambda: elbo.train({"train": {"epoch": 1}}, out=WORK))
raises("train: wrong type", ValueError, "key 'train.epochs' must be", lambda: elbo.train({"train.epochs": "two"}, out=WORK))
raises("train: out of range", ValueError, "out of range", lambda: elbo.train({"model.latent_dim": 0}, out=WORK))
raises("evaluate: k", ValueError, "k must be positive", lambda: run.evaluate(k=0))

# ---- distributions against torch.distributions ----
D = torch.distributions
g = torch.Generator().manual_seed(0)
mq, sq = torch.randn(5, 4, generator=g, requires_grad=True), torch.rand(5, 4, generator=g) + 0.1
mp, sp = torch.randn(4, generator=g), torch.rand(4, generator=g) + 0.1
kl = elbo.kl_normal(mq, sq, mp, sp)
check("kl_normal = torch's", torch.allclose(kl, D.kl_divergence(D.Normal(mq, sq), D.Normal(mp, sp)), atol=1e-6))
check("kl_normal against N(0, 1) by default", torch.allclose(elbo.kl_normal(mq, sq),
                                                             D.kl_divergence(D.Normal(mq, sq), D.Normal(0.0, 1.0)), atol=1e-6))
kl.sum().backward()
check("kl_normal is differentiable", mq.grad is not None and torch.allclose(mq.grad, (mq - mp).detach() / sp ** 2, atol=1e-5))
x = torch.randn(5, 4, generator=g)
check("normal_log_prob = torch's", torch.allclose(elbo.normal_log_prob(x, mp, sp), D.Normal(mp, sp).log_prob(x), atol=1e-5))
logits, bits = torch.randn(5, 4, generator=g), (torch.rand(5, 4, generator=g) > 0.5).float()
check("bernoulli_log_prob = torch's", torch.allclose(elbo.bernoulli_log_prob(bits, logits),
                                                     D.Bernoulli(logits=logits).log_prob(bits), atol=1e-6))
check("bernoulli_log_prob takes NumPy", torch.allclose(elbo.bernoulli_log_prob(bits.numpy(), logits.numpy()),
                                                       D.Bernoulli(logits=logits).log_prob(bits), atol=1e-6))
lp = torch.randn(5, 4, generator=g)
check("kl_bernoulli = torch's", torch.allclose(elbo.kl_bernoulli(logits, lp),
                                               D.kl_divergence(D.Bernoulli(logits=logits), D.Bernoulli(logits=lp)), atol=1e-5))
raises("kl_normal: shapes", ValueError, "do not broadcast", lambda: elbo.kl_normal(torch.zeros(3), torch.ones(4)))
raises("kl_normal: scale", ValueError, "every scale must be positive", lambda: elbo.kl_normal(torch.zeros(3), -torch.ones(3)))

shutil.rmtree(WORK)
print("module:", "all passed" if not failures else f"{len(failures)} failed: {failures}")
sys.exit(1 if failures else 0)
