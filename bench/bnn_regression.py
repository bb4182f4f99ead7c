#!/usr/bin/python3
"""Bayesian neural network regression on the diabetes splits: elbo against a
deterministic MLP and exact Bayesian linear regression.

Data: scripts/data/diabetes.py (sklearn's diabetes table, raw units, seeded
90/10 splits DATA/train_i.csv, DATA/test_i.csv; last column "target").
Per split i:
- elbo: elbo train CONFIG --out WORKDIR/split{i} --set data.train=.../train_i.csv
  --set data.test=.../test_i.csv --set train.seed=i+1, then elbo predict
  --draws S --out .../pred.csv. RMSE and interval coverage are recomputed from
  pred.csv (mean, q05..q95, target); NLL is elbo's printed value.
- MLP: the same hidden widths (ReLU), epochs, batch size and Adam lr as
  CONFIG's model.hidden / train.*, MSE on features and target standardized
  with training statistics, torch.manual_seed(i + 1), one thread. Its NLL is
  Gaussian with variance = the mean squared training residual (original units).
- BLR: exact Bayesian linear regression on standardized features plus an
  intercept, standardized target, prior w ~ N(0, I) (scale 1), Gaussian noise
  whose variance maximizes the marginal likelihood (evidence) over a grid of
  400 values 10^-3..10^1 (standardized units); predictive N(x'm, s2 + x'Sx).
Reports mean +- sd over splits of test RMSE, NLL (nats per example, original
units) and the 50%/90% central interval coverage.

    bench/bnn_regression.py [--elbo build/elbo] [--splits 5] [--data data/diabetes]
        [--config examples/bayesian-nn/diabetes.toml] [--draws 100]
        [--workdir runs/bnn-regression] [--baselines-only] [--json FILE] [--set k=v ...]
"""
import argparse, csv, json, math, os, shutil, sys, tomllib
import numpy as np

import commands
from commands import ROOT, last_json
Z50, Z90 = 0.6744897501960817, 1.6448536269514722


def load(path):
    with open(path, newline="") as f:
        r = list(csv.reader(f))
    d = np.array(r[1:], dtype=float)
    return d[:, :-1], d[:, -1]


def gauss(y, mu, sd):
    e = np.abs(y - mu) / sd
    return {"rmse": float(np.sqrt(np.mean((y - mu) ** 2))),
            "nll": float(np.mean(0.5 * math.log(2 * math.pi) + np.log(sd) + 0.5 * e ** 2)),
            "coverage50": float(np.mean(e <= Z50)), "coverage90": float(np.mean(e <= Z90))}


def mlp(xtr, ytr, xte, yte, cfg, seed):
    import torch
    torch.manual_seed(seed); torch.set_num_threads(1)
    mx, sx, my, sy = xtr.mean(0), xtr.std(0), ytr.mean(), ytr.std()
    X = torch.tensor((xtr - mx) / sx, dtype=torch.float32); Y = torch.tensor((ytr - my) / sy, dtype=torch.float32)
    layers, w = [], X.shape[1]
    for h in cfg["hidden"]:
        layers += [torch.nn.Linear(w, h), torch.nn.ReLU()]; w = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(w, 1))
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    for _ in range(cfg["epochs"]):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), cfg["batch_size"]):
            b = perm[i:i + cfg["batch_size"]]
            loss = torch.nn.functional.mse_loss(net(X[b]).squeeze(1), Y[b])
            opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        f = lambda x: net(torch.tensor((x - mx) / sx, dtype=torch.float32)).squeeze(1).numpy() * sy + my
        s = np.sqrt(np.mean((ytr - f(xtr)) ** 2))
        return gauss(yte, f(xte), np.full(len(yte), s))


def blr(xtr, ytr, xte, yte):
    mx, sx, my, sy = xtr.mean(0), xtr.std(0), ytr.mean(), ytr.std()
    P = np.c_[np.ones(len(xtr)), (xtr - mx) / sx]; Q = np.c_[np.ones(len(xte)), (xte - mx) / sx]
    y = (ytr - my) / sy
    K = P @ P.T  # prior covariance of the noiseless outputs (prior scale 1)
    def evidence(s2):
        L = np.linalg.cholesky(K + s2 * np.eye(len(y))); a = np.linalg.solve(L, y)
        return -0.5 * a @ a - np.log(np.diag(L)).sum() - 0.5 * len(y) * math.log(2 * math.pi)
    grid = np.logspace(-3, 1, 400)
    s2 = grid[int(np.argmax([evidence(g) for g in grid]))]
    S = np.linalg.inv(np.eye(P.shape[1]) + P.T @ P / s2)
    m = S @ P.T @ y / s2
    mu, var = Q @ m, s2 + np.einsum("ij,jk,ik->i", Q, S, Q)
    r = gauss(yte, mu * sy + my, np.sqrt(var) * sy)
    r["noise_sd"] = float(math.sqrt(s2) * sy)
    return r


def run(cmd):
    """The JSON line the command prints last."""
    return last_json(commands.run(cmd, echo=False))


def elbo(a, i, tr, te, yte):
    rd = os.path.join(a.workdir, f"split{i}")
    shutil.rmtree(rd, ignore_errors=True)
    run([a.elbo, "train", a.config, "--out", rd, "--set", f"data.train={tr}", "--set", f"data.test={te}",
         "--set", f"train.seed={i + 1}"] + sum((["--set", s] for s in a.set), []))
    j = run([a.elbo, "predict", rd, "--draws", str(a.draws), "--out", os.path.join(rd, "pred.csv")])
    with open(os.path.join(rd, "pred.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    c = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    if "target" in c and not np.allclose(c["target"], yte, rtol=1e-5):
        sys.exit(f"{rd}/pred.csv: target column differs from {te}")
    r = {"rmse": float(np.sqrt(np.mean((c["mean"] - yte) ** 2))), "nll": j.get("nll"),
         "coverage50": float(np.mean((c["q25"] <= yte) & (yte <= c["q75"]))),
         "coverage90": float(np.mean((c["q05"] <= yte) & (yte <= c["q95"])))}
    if "rmse" in j and abs(j["rmse"] - r["rmse"]) > 1e-3 * max(1.0, r["rmse"]):
        print(f"NOTE split {i}: RMSE from pred.csv {r['rmse']:.4f}, elbo printed {j['rmse']:.4f}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elbo", default="build/elbo"); ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--data", default="data/diabetes"); ap.add_argument("--config", default="examples/bayesian-nn/diabetes.toml")
    ap.add_argument("--draws", type=int, default=100); ap.add_argument("--workdir", default="runs/bnn-regression")
    ap.add_argument("--baselines-only", action="store_true"); ap.add_argument("--json")
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="extra setting for elbo train")
    a = ap.parse_args()
    a.elbo, a.config, a.data = (os.path.abspath(p) if os.path.exists(p) else os.path.join(ROOT, p)
                                for p in (a.elbo, a.config, a.data))
    a.workdir = os.path.abspath(a.workdir)
    t = tomllib.load(open(a.config, "rb"))
    cfg = {"hidden": t.get("model", {}).get("hidden", [50]), **{k: t.get("train", {}).get(k, d) for k, d in
                                                               (("epochs", 200), ("batch_size", 32), ("lr", 1e-3))}}
    print(f"MLP {cfg}; BLR prior scale 1, noise variance by evidence", file=sys.stderr)
    res = {}
    for i in range(a.splits):
        tr, te = os.path.join(a.data, f"train_{i}.csv"), os.path.join(a.data, f"test_{i}.csv")
        (xtr, ytr), (xte, yte) = load(tr), load(te)
        out = {"MLP (deterministic)": mlp(xtr, ytr, xte, yte, cfg, i + 1), "Bayesian linear regression": blr(xtr, ytr, xte, yte)}
        if not a.baselines_only:
            out = {"elbo BNN": elbo(a, i, tr, te, yte), **out}
        print(f"split {i}: BLR noise sd {out['Bayesian linear regression']['noise_sd']:.2f}; " + "; ".join(f"{k} RMSE {v['rmse']:.2f} NLL {v['nll'] if v['nll'] is None else round(v['nll'], 3)}"
                                         for k, v in out.items()), file=sys.stderr)
        for k, v in out.items():
            res.setdefault(k, []).append(v)
    ms = lambda k, rs: "-" if any(r[k] is None for r in rs) else \
        "%.3f ± %.3f" % (np.mean([r[k] for r in rs]), np.std([r[k] for r in rs], ddof=1) if len(rs) > 1 else 0.0)
    print(f"\ndiabetes, {a.splits} splits (mean ± sd over splits)\n")
    print("| method | test RMSE | test NLL (nats) | coverage50 | coverage90 |\n| --- | --- | --- | --- | --- |")
    for k, rs in res.items():
        print(f"| {k} | {ms('rmse', rs)} | {ms('nll', rs)} | {ms('coverage50', rs)} | {ms('coverage90', rs)} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"splits": a.splits, "mlp": cfg, "results": res}, f, indent=1)


if __name__ == "__main__":
    main()
