#!/usr/bin/python3
"""Imputation benchmark: elbo (MIWAE) against mean, KNN and iterative imputation.

Hides table entries completely at random (MCAR) and scores each method's
imputation of the hidden cells on identical masks. Tables: scikit-learn's
bundled breast_cancer (569x30), wine (178x13) and diabetes (442x10, unscaled),
features only. For each rate and mask seed, numpy default_rng(seed) hides each
entry independently with probability rate; a row with every entry hidden gets
one uniformly chosen entry un-hidden again (so every row keeps one observed
value; their count is printed). The masked table goes to
{workdir}/{table}-{rate}-{seed}.csv, hidden cells left empty.

Scoring is in standardized units: each column's mean and population std over
its observed entries (std 0 -> 1). Mean imputation, KNNImputer() and
IterativeImputer(max_iter=20, random_state=seed) fit and impute the same
standardized masked table (transductive, as in the MIWAE paper). elbo trains
on the masked file and imputes it:

    ELBO train CONFIG --out RUN --set data.train=FILE --set data.test=FILE --set train.seed=SEED [--set k=v ...]
    ELBO impute RUN --data FILE --draws DRAWS --summary --out RUN/cells.csv

and its imputed means E[x_mis | x_obs] (original units) are standardized with the same
statistics. Reported per table and rate (mean +- std over seeds): RMSE over
hidden cells of each method, and the fraction of hidden true values inside
elbo's 50% [q25, q75] and 90% [q05, q95] intervals. Raw numbers go to
{workdir}/results.json.

    bench/impute_baselines.py [--workdir runs/impute-baselines] [--tables breast_cancer,wine,diabetes]
        [--rates 0.2,0.5] [--seeds 1,2,3] [--jobs 1] [--elbo build/elbo]
        [--config examples/missing-data/table.toml] [--draws 200] [--set k=v ...] [--skip-elbo]

Needs Debian's python3-sklearn and python3-numpy.
"""
import argparse, concurrent.futures, csv, json, os, shlex, subprocess, sys, warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = ("breast_cancer", "wine", "diabetes")
METHODS = ("mean", "knn", "iterative", "elbo")


def load_table(name):
    if name == "diabetes":
        try:
            d = datasets.load_diabetes(scaled=False)
        except TypeError:  # scikit-learn < 1.1 has no `scaled`
            d = datasets.load_diabetes()
    else:
        d = getattr(datasets, "load_" + name)()
    names = [str(f).replace(",", "_").replace('"', "_").replace("'", "_") for f in d.feature_names]
    return np.asarray(d.data, dtype=np.float64), names


def make_mask(shape, rate, seed):
    """MCAR mask (True = hidden); rows left with nothing observed get one entry back."""
    rng = np.random.default_rng(seed)
    hidden = rng.random(shape) < rate
    full = np.flatnonzero(hidden.all(axis=1))
    for i in full:
        hidden[i, rng.integers(shape[1])] = False
    return hidden, len(full)


def write_csv(path, names, x, hidden):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row, h in zip(x, hidden):
            f.write(",".join("" if hi else "%.17g" % v for v, hi in zip(row, h)) + "\n")


def run_elbo(args, file, run, seed):
    train = [args.elbo, "train", args.config, "--out", run, "--set", f"data.train={file}",
             "--set", f"data.test={file}", "--set", f"train.seed={seed}"]
    for kv in args.set:
        train += ["--set", kv]
    impute = [args.elbo, "impute", run, "--data", file, "--draws", str(args.draws), "--summary",
              "--out", os.path.join(run, "cells.csv")]
    for cmd in (train, impute):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            tail = "\n".join(p.stderr.strip().splitlines()[-20:])
            raise RuntimeError(f"exit status {p.returncode}: {shlex.join(cmd)}\n{tail}")
    return os.path.join(run, "cells.csv")


def read_summary(path, hidden):
    """elbo's summary CSV as arrays (mean, q05, q25, q75, q95) over np.nonzero(hidden)'s order."""
    cells = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (int(r["row"]) - 1, int(r["column"]) - 1)
            if key in cells:
                sys.exit(f"impute_baselines: {path} lists cell row {key[0] + 1} column {key[1] + 1} twice")
            cells[key] = [float(r[k]) for k in ("mean", "q05", "q25", "q75", "q95")]
    want = set(zip(*(i.tolist() for i in np.nonzero(hidden))))
    if set(cells) != want:
        extra, missing = sorted(set(cells) - want), sorted(want - set(cells))
        show = lambda s: ", ".join(f"({r + 1},{c + 1})" for r, c in s[:5]) + (" ..." if len(s) > 5 else "")
        sys.exit(f"impute_baselines: {path} does not list exactly the hidden cells: "
                 f"{len(missing)} hidden cells absent [{show(missing)}], "
                 f"{len(extra)} listed cells not hidden [{show(extra)}]")
    return np.array([cells[k] for k in zip(*(i.tolist() for i in np.nonzero(hidden)))]).T


def baselines(z_masked, seed):
    """Imputed standardized tables by method (NaN = missing in z_masked)."""
    mean = np.where(np.isnan(z_masked), 0.0, z_masked)  # observed columns have mean 0
    knn = KNNImputer().fit_transform(z_masked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        it = IterativeImputer(max_iter=20, random_state=seed).fit_transform(z_masked)
    return {"mean": mean, "knn": knn, "iterative": it}


def ms(v):
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}" if v else "–"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="runs/impute-baselines")
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--rates", default="0.2,0.5")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--elbo", default=os.path.join(ROOT, "build", "elbo"))
    ap.add_argument("--config", default=os.path.join(ROOT, "examples", "missing-data", "table.toml"))
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="extra setting for elbo train")
    ap.add_argument("--skip-elbo", action="store_true", help="score the baselines only")
    args = ap.parse_args()
    print("$ " + shlex.join(sys.argv) + "\n", flush=True)

    tables = [t for t in args.tables.split(",") if t]
    for t in tables:
        if t not in TABLES:
            sys.exit(f"impute_baselines: unknown table {t!r} (have {', '.join(TABLES)})")
    rates = [float(r) for r in args.rates.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if not args.skip_elbo:
        for p in (args.elbo, args.config):
            if not os.path.exists(p):
                sys.exit(f"impute_baselines: {p} not found (use --elbo/--config, or --skip-elbo)")
    os.makedirs(os.path.join(args.workdir, "runs"), exist_ok=True)

    # Masks, files, baselines.
    cases, unhidden = [], 0
    for t in tables:
        x, names = load_table(t)
        for rate in rates:
            for seed in seeds:
                hidden, n = make_mask(x.shape, rate, seed)
                unhidden += n
                tag = f"{t}-{rate:g}-{seed}"
                file = os.path.abspath(os.path.join(args.workdir, tag + ".csv"))
                write_csv(file, names, x, hidden)
                masked = np.where(hidden, np.nan, x)
                mu = np.nanmean(masked, axis=0)
                sd = np.nanstd(masked, axis=0)
                sd[sd == 0] = 1.0
                truth = ((x - mu) / sd)[hidden]
                imputed = baselines((masked - mu) / sd, seed)
                rmse = {m: float(np.sqrt(np.mean((z[hidden] - truth) ** 2))) for m, z in imputed.items()}
                cases.append(dict(table=t, rate=rate, seed=seed, tag=tag, file=file, hidden=hidden,
                                  mu=mu, sd=sd, truth=truth, rmse=rmse, shape=list(x.shape),
                                  n_hidden=int(hidden.sum())))
    print(f"{unhidden} all-hidden rows had one entry un-hidden over {len(cases)} masks\n", flush=True)

    # elbo.
    if not args.skip_elbo:
        def job(c):
            return run_elbo(args, c["file"], os.path.abspath(os.path.join(args.workdir, "runs", c["tag"])), c["seed"])
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(job, c): c for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                c = futures[fut]
                try:
                    summary = fut.result()
                except RuntimeError as e:
                    for f in futures:
                        f.cancel()
                    print(f"impute_baselines: elbo failed on {c['tag']}, {e}", file=sys.stderr)
                    sys.exit(1)
                col = np.nonzero(c["hidden"])[1]
                mean, q05, q25, q75, q95 = ((v - c["mu"][col]) / c["sd"][col] for v in read_summary(summary, c["hidden"]))
                y = c["truth"]
                c["rmse"]["elbo"] = float(np.sqrt(np.mean((mean - y) ** 2)))
                c["cover50"] = float(np.mean((q25 <= y) & (y <= q75)))
                c["cover90"] = float(np.mean((q05 <= y) & (y <= q95)))
                print(f"elbo {c['tag']}: rmse {c['rmse']['elbo']:.3f}, coverage 50% {c['cover50']:.3f}, "
                      f"90% {c['cover90']:.3f}", file=sys.stderr)

    # Table.
    methods = [m for m in METHODS if m != "elbo" or not args.skip_elbo]
    agg = {}
    for t in tables:
        for rate in rates:
            cs = [c for c in cases if c["table"] == t and c["rate"] == rate]
            agg[t, rate] = {m: [c["rmse"][m] for c in cs] for m in methods}
            agg[t, rate]["cover50"] = [c["cover50"] for c in cs if "cover50" in c]
            agg[t, rate]["cover90"] = [c["cover90"] for c in cs if "cover90" in c]
    print(f"RMSE over hidden cells in standardized units, mean ± std over seeds {','.join(map(str, seeds))}\n")
    print("| table | MCAR | mean | KNN | Iterative | elbo | elbo cover 50% | elbo cover 90% |")
    print("|---|---|---|---|---|---|---|---|")
    for (t, rate), a in agg.items():
        print(f"| {t} | {rate:g} | {ms(a['mean'])} | {ms(a['knn'])} | {ms(a['iterative'])} | "
              f"{ms(a.get('elbo', []))} | {ms(a['cover50'])} | {ms(a['cover90'])} |")

    # Verdict.
    verdict = {}
    if not args.skip_elbo:
        m = lambda t, r, k: float(np.mean(agg[t, r][k]))
        beats_mean = [(t, r) for (t, r) in agg if m(t, r, "elbo") < m(t, r, "mean")]
        verdict["beats_mean_everywhere"] = len(beats_mean) == len(agg)
        print("\nVerdict")
        print(f"- elbo beats mean imputation on every table and rate: "
              f"{'yes' if verdict['beats_mean_everywhere'] else 'no'} ({len(beats_mean)}/{len(agg)})")
        if 0.5 in rates:
            both = [t for t in tables
                    if m(t, 0.5, "elbo") < min(m(t, 0.5, "knn"), m(t, 0.5, "iterative"))]
            verdict["beats_both_sklearn_at_50"] = both
            print(f"- at 50% MCAR elbo beats both KNN and Iterative on {len(both)} of {len(tables)} tables"
                  f"{': ' + ', '.join(both) if both else ''}")
        off = [(t, r, m(t, r, "cover90")) for (t, r) in agg if not 0.85 <= m(t, r, "cover90") <= 0.95]
        verdict["cover90_in_range"] = not off
        print(f"- elbo's 90% coverage within [0.85, 0.95] everywhere: {'yes' if not off else 'no'}"
              + "".join(f"; {t} {r:g}: {v:.3f}" for t, r, v in off))

    results = {"command": shlex.join(sys.argv), "unhidden_rows": unhidden, "verdict": verdict,
               "cases": [{k: c[k] for k in ("table", "rate", "seed", "file", "shape", "n_hidden", "rmse",
                                            "cover50", "cover90") if k in c} for c in cases]}
    with open(os.path.join(args.workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nraw numbers: {os.path.join(args.workdir, 'results.json')}")


if __name__ == "__main__":
    main()
