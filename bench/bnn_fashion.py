#!/usr/bin/python3
"""Fashion-MNIST Bayesian neural network: elbo against the PyTorch Bayes by
Backprop peer and a deterministic MLP, side by side, in one run on this machine.

Runs (784-400-400-10, same epochs):
  (a) the peer ../shared/peers/torch_bbb.py --epochs E --draws S (its JSON line);
  (b) elbo train CONFIG --out WORKDIR/bnn --set train.epochs=E, then
      elbo predict WORKDIR/bnn --draws S --out WORKDIR/bnn/test.csv;
  (c) the same with --set 'model.type="classifier"' (a deterministic MLP).
For (b) and (c), elbo predict --data on data/ood/digits-idx3-ubyte.gz and
noise-idx3-ubyte.gz (scripts/data/ood_images.py) gives the predictive entropy
of out-of-distribution images: AUROC of entropy separating them (positives)
from the Fashion-MNIST test images (negatives), rank-based, ties counted half.

Test error, NLL (-log(p_label + 1e-12), nats per example) and ECE (15 equal-
width confidence bins over [0, 1], sum over bins of fraction * |accuracy -
mean confidence|, exactly as the peer) are recomputed from the prediction
CSVs (p0..p9, entropy, label); where elbo's printed JSON differs by > 1e-3 both
are shown. Training examples/s: total examples / total seconds of the
"epoch" lines of RUN/metrics.jsonl; prediction examples/s as elbo prints.

    bench/bnn_fashion.py [--epochs 1] [--draws 10] [--elbo build/elbo]
        [--config examples/bayesian-nn/fashion.toml] [--workdir runs/bnn-fashion]
        [--json FILE] [--skip-peer] [--set k=v ...]
"""
import argparse, csv, gzip, json, os, shutil, sys
import numpy as np

import commands
from commands import ROOT, last_json, train_rate
FASHION = "/usr/share/datasets/fashion-mnist"


def run(cmd):
    """The JSON line the command prints last."""
    return last_json(commands.run(cmd))


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rows]) for k in rows[0]}


def probs(c):
    return np.stack([c[f"p{k}"] for k in range(sum(1 for k in c if k[:1] == "p" and k[1:].isdigit()))], 1)


def class_metrics(p, y):
    """error, NLL and 15-bin ECE of predictive probabilities p (N, C) for labels y (as torch_bbb.py)."""
    conf, pred = p.max(1), p.argmax(1)
    correct = (pred == y).astype(float)
    bins = np.minimum((conf * 15).astype(int), 14)
    ece = sum(np.mean(bins == b) * abs(correct[bins == b].mean() - conf[bins == b].mean())
              for b in range(15) if np.any(bins == b))
    return {"error": 1 - correct.mean(), "nll": float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean()),
            "ece": float(ece)}


def auroc(neg, pos):
    """P(pos score > neg score) + P(tie) / 2, from average ranks (Mann-Whitney U)."""
    s = np.r_[neg, pos]
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s)); ranks[order] = np.arange(1, len(s) + 1)
    vals, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.bincount(inv, ranks) / cnt)[inv]  # average rank within ties
    return float((ranks[len(neg):].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def test_labels():
    d = gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")).read()
    return np.frombuffer(d, np.uint8, offset=8).astype(int)


def elbo_model(a, name, sets, notes):
    rd = os.path.join(a.workdir, name)
    shutil.rmtree(rd, ignore_errors=True)
    run([a.elbo, "train", a.config, "--out", rd, "--set", f"train.epochs={a.epochs}"]
        + sum((["--set", s] for s in sets + a.set), []))
    printed = run([a.elbo, "predict", rd, "--draws", str(a.draws), "--out", os.path.join(rd, "test.csv")])
    c = read_csv(os.path.join(rd, "test.csv"))
    p = probs(c)
    y = c["label"].astype(int) if "label" in c else test_labels()
    if len(y) == 10000 and np.any(y != test_labels()):
        notes.append(f"{name}: the label column differs from Fashion-MNIST's t10k labels")
    r = class_metrics(p, y)
    for k in ("error", "nll", "ece"):
        if k in printed and abs(printed[k] - r[k]) > 1e-3:
            notes.append(f"{name}: {k} from test.csv {r[k]:.4f}, elbo printed {printed[k]:.4f}")
    h = -(p * np.log(np.maximum(p, 1e-300))).sum(1)
    if np.max(np.abs(h - c["entropy"])) > 1e-3:
        notes.append(f"{name}: entropy column differs from -sum p log p by up to {np.max(np.abs(h - c['entropy'])):.3g}")
    r.update(train_ex_s=train_rate(rd), predict_ex_s=printed.get("predict_examples_per_s"), printed=printed)
    for ood in ("digits", "noise"):
        f = os.path.join(ROOT, "data", "ood", f"{ood}-idx3-ubyte.gz")
        out = os.path.join(rd, f"{ood}.csv")
        run([a.elbo, "predict", rd, "--data", f, "--draws", str(a.draws), "--out", out])
        r[f"auroc_{ood}"] = auroc(c["entropy"], read_csv(out)["entropy"])
    return r


def floor_ex_s(batch=128, steps=300):
    """The model's floor: examples/s of its large matrix products alone, the 8 GEMMs of one step
    of a 784-400-400-10 network with one weight draw per batch (forward x W^T per layer; backward
    grad W per layer and grad x for layers 2 and 3), float32, through LibTorch's BLAS (the same
    OpenBLAS elbo calls). The local reparameterization does each of them twice (means and
    variances), so its floor is half this."""
    import time, torch
    torch.manual_seed(0)
    sizes = [(784, 400), (400, 400), (400, 10)]
    xs = [torch.rand(batch, i) for i, _ in sizes]
    ws = [torch.randn(o, i) * 0.05 for i, o in sizes]
    gs = [torch.randn(batch, o) for _, o in sizes]
    def step():
        for k, (x, w, g) in enumerate(zip(xs, ws, gs)):
            torch.mm(x, w.t()); torch.mm(g.t(), x)
            if k: torch.mm(g, w)
    for _ in range(20): step()
    t = time.perf_counter()
    for _ in range(steps): step()
    return batch * steps / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=1); ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--elbo", default="build/elbo"); ap.add_argument("--config", default="examples/bayesian-nn/fashion.toml")
    ap.add_argument("--workdir", default="runs/bnn-fashion"); ap.add_argument("--json")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="extra setting for both elbo models")
    a = ap.parse_args()
    a.elbo, a.config = (os.path.abspath(p) if os.path.exists(p) else os.path.join(ROOT, p) for p in (a.elbo, a.config))
    a.workdir = os.path.abspath(a.workdir)
    for f in ("digits", "noise"):
        if not os.path.exists(os.path.join(ROOT, "data", "ood", f"{f}-idx3-ubyte.gz")):
            sys.exit("bnn_fashion: run scripts/data/ood_images.py first")
    peer = next((p for p in (os.path.join(ROOT, "..", "shared", "peers", "torch_bbb.py"),
                             os.path.join(ROOT, "shared", "peers", "torch_bbb.py")) if os.path.exists(p)), None)
    rows, notes = {}, []
    if not a.skip_peer:
        if not peer:
            sys.exit("bnn_fashion: cannot find shared/peers/torch_bbb.py beside the repository")
        j = run(["/usr/bin/python3", os.path.abspath(peer), "--epochs", str(a.epochs), "--draws", str(a.draws)])
        rows["peer BBB (torch eager)"] = {"train_ex_s": j["train_examples_per_s"], "error": j["test_error"],
                                          "nll": j["test_nll"], "ece": j["ece"],
                                          "predict_ex_s": j["predict_examples_per_s"], "printed": j}
    rows["elbo BNN"] = elbo_model(a, "bnn", [], notes)
    rows["elbo MLP (deterministic)"] = elbo_model(a, "mlp", ['model.type="classifier"'], notes)
    f = lambda v, d: "-" if v is None else "%.*f" % (d, v)
    print(f"\nFashion-MNIST, 784-400-400-10, {a.epochs} epoch(s), {a.draws} draws\n")
    print("| model | train ex/s | test error | test NLL | ECE (15 bins) | predict ex/s | AUROC digits | AUROC noise |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for k, r in rows.items():
        print(f"| {k} | {f(r['train_ex_s'], 0)} | {f(r['error'], 4)} | {f(r['nll'], 4)} | {f(r['ece'], 4)} | "
              f"{f(r['predict_ex_s'], 0)} | {f(r.get('auroc_digits'), 3)} | {f(r.get('auroc_noise'), 3)} |")
    floor = floor_ex_s()
    rows["floor_train_ex_s"] = floor
    print(f"\nfloor (the step's 8 matrix products alone, one weight draw): {floor:.0f} examples/s; "
          f"elbo BNN / floor: {rows['elbo BNN']['train_ex_s'] / floor:.2f} "
          f"(local reparameterization doubles the products: its own floor is {floor / 2:.0f})")
    pk = "peer BBB (torch eager)"
    if pk in rows and rows["elbo BNN"]["train_ex_s"]:
        ratio = rows["elbo BNN"]["train_ex_s"] / rows[pk]["train_ex_s"]
        rows["ratio_train_elbo_bnn_over_peer"] = ratio
        print(f"\nelbo BNN / peer training examples/s: {ratio:.2f}x")
    for n in notes:
        print("NOTE:", n)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"epochs": a.epochs, "draws": a.draws, "rows": rows, "notes": notes}, fh, indent=1)


if __name__ == "__main__":
    main()
