#!/usr/bin/python3
"""Forecast baselines for `elbo forecast`, on the same split and with the same
metrics: seasonal-naive and a deterministic GRU (PyTorch), optionally next to
elbo's own forecast CSV.

Split (as elbo's data.test_from): the training rows are those with
time < --test-from; the forecast covers the next --horizon rows (step h = row
n_train + h - 1); metrics use the steps that have a held-out value.

1. seasonal-naive: yhat(n+h) = y(n+h-k*P) + k*drift, k = ceil(h/P) periods
   ahead (P = --period rows), i.e. the value one period earlier, walking
   forward on its own forecasts beyond one period, plus drift = mean over the
   training data of y[t] - y[t-P] per period. A point forecast, so CRPS = MAE;
   its band is Gaussian with sd = s * sqrt(k), s = the sd of the training
   residuals y[t] - (y[t-P] + drift) of the one-period rule. A second row
   scores that Gaussian band's CRPS in closed form.
2. GRU: nn.GRU(1, --gru-hidden) + linear read-out of the last state, trained
   on windows of --gru-window standardized differences at lag --difference (1: first
   differences; 52: seasonal, as examples/forecast/co2.toml; 0:
   standardized levels) to predict the next one, MSE, Adam lr 1e-3, batch 64,
   --epochs, torch.manual_seed(--seed), one thread; forecast by feeding its
   own predictions back. A point forecast: CRPS = MAE, no intervals (null).
3. --elbo-forecast FC.csv (columns step,time,truth,mean,q05,q25,q50,q75,q95):
   coverage and widths recomputed from its quantiles; CRPS is approximated by
   the quantile score 2/|Q| sum_q pinball_q over the 5 quantiles (labelled
   "CRPS (q-approx)"; shown for every row -- for a point forecast it equals
   MAE; for a calibrated Gaussian forecast its expectation is 12% below the
   exact CRPS: 0.496 sd against sd/sqrt(pi) = 0.564 sd); --elbo-json FILE adds the CRPS elbo
   printed. MAE is of q50 for elbo. The seasonal-naive rows' q-approx column
   scores their Gaussian band.

Columns: CRPS, CRPS (q-approx), MAE, coverage of the 50% [q25, q75] and 90%
[q05, q95] intervals, 90% width at horizons 1/13/52/260 (those <= H).

    bench/forecast_baselines.py --csv data/co2/co2.csv --value co2 --test-from 1997 --horizon 260 --period 52
    bench/forecast_baselines.py --csv data/sunspots/sunspots.csv --value sunspots --test-from 1979 \
        --horizon 30 --period 11 --gru-window 22
    [--elbo-forecast FC.csv [--elbo-json FC.json]] [--json OUT.json] [--csv-out DIR]

Data: scripts/data/co2.py, scripts/data/sunspots.py.
"""
import argparse, csv, json, math, os
from statistics import NormalDist
import numpy as np

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
HORIZONS = (1, 13, 52, 260)
Z = {q: NormalDist().inv_cdf(q) for q in LEVELS}


def read_columns(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) if r[k] not in ("", "NA", "nan") else np.nan for r in rows])
            for k in rows[0]}


def score(truth, point, q=None, crps=None):
    """Metrics over the steps with a truth; q = {level: array} or None (point forecast)."""
    ok = ~np.isnan(truth)
    y = truth[ok]
    mae = float(np.mean(np.abs(y - point[ok])))
    if q is None:
        return {"crps": mae, "crps_q": mae, "mae": mae, "coverage50": None, "coverage90": None, "width90": None}
    pin = sum(np.maximum(l * (y - q[l][ok]), (l - 1) * (y - q[l][ok])) for l in LEVELS)
    H = len(truth)
    return {"crps": None if crps is None else float(np.mean(crps[ok])),
            "crps_q": float(np.mean(2.0 / len(LEVELS) * pin)), "mae": mae,
            "coverage50": float(np.mean((q[0.25][ok] <= y) & (y <= q[0.75][ok]))),
            "coverage90": float(np.mean((q[0.05][ok] <= y) & (y <= q[0.95][ok]))),
            "width90": {str(h): float(q[0.95][h - 1] - q[0.05][h - 1]) for h in HORIZONS if h <= H}}


def seasonal_naive(y, H, P):
    n = len(y)
    drift = float(np.mean(y[P:] - y[:-P]))
    s = float(np.std(y[P:] - y[:-P] - drift, ddof=1))
    k = np.ceil(np.arange(1, H + 1) / P).astype(int)
    point = y[n - 1 + np.arange(1, H + 1) - k * P] + k * drift
    sd = s * np.sqrt(k)
    return point, sd, drift, s


def gaussian_crps(y, mu, sd):
    z = (y - mu) / sd
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    return sd * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi))


def gru_forecast(y, H, a):
    import torch
    torch.manual_seed(a.seed); torch.set_num_threads(1)
    L = a.difference  # lag of the differences y[t] - y[t-L] (0 = levels), as elbo's data.difference
    d = y[L:] - y[:-L] if L else y.copy()
    mu, sd = d.mean(), d.std()
    z = torch.tensor((d - mu) / sd, dtype=torch.float32)
    W = a.gru_window
    assert len(z) > W + 1, f"--gru-window {W} leaves no training window"
    X = torch.stack([z[i:i + W] for i in range(len(z) - W)]).unsqueeze(-1)
    T = z[W:].unsqueeze(-1)
    gru, out = torch.nn.GRU(1, a.gru_hidden, batch_first=True), torch.nn.Linear(a.gru_hidden, 1)
    f = lambda x: out(gru(x)[0][:, -1])
    opt = torch.optim.Adam(list(gru.parameters()) + list(out.parameters()), lr=1e-3)
    for _ in range(a.epochs):
        perm, total = torch.randperm(len(X)), 0.0
        for i in range(0, len(X), 64):
            b = perm[i:i + 64]
            loss = torch.nn.functional.mse_loss(f(X[b]), T[b])
            opt.zero_grad(); loss.backward(); opt.step()
            total += float(loss) * len(b)
    hist = list(z[-W:].tolist())
    with torch.no_grad():
        for _ in range(H):
            hist.append(float(f(torch.tensor(hist[-W:]).view(1, W, 1))))
    step = np.array(hist[W:]) * sd + mu
    if not L:
        return step, total / len(X)
    level = list(y[-L:])  # y[t] = y[t-L] + d[t], from the history, then from the forecast itself
    for h in range(H):
        level.append(level[h] + step[h])
    return np.array(level[L:]), total / len(X)


def write_fc(path, t, truth, point, q):
    with open(path, "w") as f:
        f.write("step,time,truth,mean," + ",".join("q%02d" % round(100 * l) for l in LEVELS) + "\n")
        for h in range(len(point)):
            qs = [q[l][h] if q else point[h] for l in LEVELS]
            f.write(",".join([str(h + 1), "%.6f" % t[h], "" if np.isnan(truth[h]) else "%g" % truth[h]]
                             + ["%.6g" % v for v in [point[h]] + qs]) + "\n")


def fmt(v, d=3):
    return "-" if v is None else ("%.*f" % (d, v) if isinstance(v, float) else str(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True); ap.add_argument("--time", default="time")
    ap.add_argument("--value", required=True); ap.add_argument("--test-from", type=float, required=True)
    ap.add_argument("--horizon", type=int, required=True); ap.add_argument("--period", type=int, default=52)
    ap.add_argument("--gru-hidden", type=int, default=32); ap.add_argument("--gru-window", type=int, default=104)
    ap.add_argument("--epochs", type=int, default=30); ap.add_argument("--difference", type=int, default=1,
                                                                               help="lag L of the GRU's differences y[t] - y[t-L] (0 = levels)")
    ap.add_argument("--seed", type=int, default=1); ap.add_argument("--skip-gru", action="store_true")
    ap.add_argument("--elbo-forecast"); ap.add_argument("--elbo-json")
    ap.add_argument("--json"); ap.add_argument("--csv-out")
    a = ap.parse_args()
    c = read_columns(a.csv)
    t, y = c[a.time], c[a.value]
    assert np.all(np.diff(t) > 0), "time column not increasing"
    assert not np.isnan(y).any(), "missing values in the series"
    n, H = int(np.sum(t < a.test_from)), a.horizon
    truth = np.full(H, np.nan); m = min(H, len(y) - n); truth[:m] = y[n:n + m]
    dt = np.median(np.diff(t)); tf = np.r_[t[n:n + m], t[n + m - 1 if m else n - 1] + dt * np.arange(1, H - m + 1)]
    print(f"{a.csv}: {n} training rows ({t[0]:g} .. {t[n - 1]:g}), forecast {H} steps from {tf[0]:g}, "
          f"{m} with a held-out value")
    rows, fcs = {}, {}
    point, sd, drift, s = seasonal_naive(y[:n], H, a.period)
    q = {l: point + Z[l] * sd for l in LEVELS}
    print(f"seasonal-naive: period {a.period}, drift {drift:.4g} per period, residual sd {s:.4g}")
    rows["seasonal-naive"] = score(truth, point, q)
    rows["seasonal-naive"]["crps"] = rows["seasonal-naive"]["mae"]  # a point forecast
    rows["seasonal-naive, Gaussian-band CRPS"] = score(truth, point, q, gaussian_crps(truth, point, sd))
    fcs["seasonal_naive"] = (point, q)
    if not a.skip_gru:
        gp, last = gru_forecast(y[:n], H, a)
        print(f"GRU: hidden {a.gru_hidden}, window {a.gru_window}, {a.epochs} epochs, "
              f"{'differences at lag %d' % a.difference if a.difference else 'levels'}, last epoch's training MSE {last:.4f} (standardized)")
        rows[f"GRU {a.gru_hidden} (deterministic)"] = score(truth, gp)
        fcs["gru"] = (gp, None)
    if a.elbo_forecast:
        e = read_columns(a.elbo_forecast)
        assert len(e["step"]) >= H, f"{a.elbo_forecast} has {len(e['step'])} steps, fewer than --horizon {H}"
        et = e["truth"][:H]
        if not np.allclose(np.nan_to_num(et, nan=-1e30), np.nan_to_num(truth, nan=-1e30), rtol=1e-5, atol=1e-3) \
                or not np.allclose(e["time"][:m], tf[:m], atol=1e-3):
            print(f"WARNING: {a.elbo_forecast}'s time/truth columns differ from {a.csv}'s split; using {a.csv}'s")
        eq = {l: e["q%02d" % round(100 * l)][:H] for l in LEVELS}
        r = score(truth, eq[0.5], eq)
        if a.elbo_json:
            j = json.loads([ln for ln in open(a.elbo_json).read().splitlines() if ln.startswith("{")][-1])
            r["crps"] = j.get("crps")
            print("elbo printed:", json.dumps(j))
        rows["elbo Bayesian GRU"] = r
    hs = [h for h in HORIZONS if h <= H]
    print("\n| method | CRPS | CRPS (q-approx) | MAE | coverage50 | coverage90 | "
          + " | ".join(f"width90 h={h}" for h in hs) + " |")
    print("| --- " * (6 + len(hs)) + "|")
    for k, r in rows.items():
        w = r["width90"] or {}
        print(f"| {k} | {fmt(r['crps'])} | {fmt(r['crps_q'])} | {fmt(r['mae'])} | {fmt(r['coverage50'])} | "
              f"{fmt(r['coverage90'])} | " + " | ".join(fmt(w.get(str(h))) for h in hs) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"csv": a.csv, "value": a.value, "test_from": a.test_from, "horizon": H, "period": a.period,
                       "train_rows": n, "heldout_steps": m, "methods": rows}, f, indent=1)
    if a.csv_out:
        os.makedirs(a.csv_out, exist_ok=True)
        for k, (p, qq) in fcs.items():
            write_fc(os.path.join(a.csv_out, k + ".csv"), tf, truth, p, qq)


if __name__ == "__main__":
    main()
