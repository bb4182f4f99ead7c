#!/usr/bin/python3
"""Cross-modal prediction on miniACC: elbo's multimodal VAE against training-mean and ridge baselines.

    /usr/bin/python3 bench/multimodal_miniacc.py --data runs/miniacc-data --elbo build/elbo --workdir runs/miniacc
        [--folds 5] [--epochs N] [--seed 1] [--draws 200] [--config examples/multimodal/miniacc.toml]
        [--set k=v ...] [--baselines-only] [--only-folds N] [--no-clinical]

DATA is the output of `Rscript scripts/data/miniacc.R DATA`: {rnaseq,cnv,rppa,mutations,mirna}.csv
(header, one line per patient, a line of empty cells where the patient lacks the assay) and
clinical.csv, all in the same patient order.

Seeded KFold by patient. Per fold the patients' lines go to WORKDIR/foldK/{train,test}_<assay>.csv
and elbo trains on them, then predicts each assay C from the four others for the test patients:

    ELBO train CONFIG --out FOLD/run --set data.dir="FOLD" [--set train.epochs=N] --set train.seed=SEED
    ELBO predict FOLD/run --from <others> --to C --out FOLD/pred_C.csv --draws DRAWS

Baselines, fitted on the fold's training patients having C: (a) the training mean of C; (b) RidgeCV
(alpha per target, logspace(-2, 5, 30), leave-one-out) from the other assays concatenated, each
standardized with training statistics, absent assays and empty cells 0 (= training mean), plus one
presence indicator per assay. Errors: RMSE over the test patients having C and all of C's features,
in units of each feature's training standard deviation (mutations: RMSE of the predicted probability
against 0/1, a Brier score's root); elbo's 90% coverage: the fraction of true values within
[q05, q95] (continuous assays). Table to WORKDIR/table.md.

Clinical association: one run trained on all patients (test = the full tables), then
`ELBO encode RUN --out RUN/latents.csv`; per latent mean: Spearman rho with numeric clinical columns,
Kruskal-Wallis p with categorical ones (non-numeric or at most 6 distinct values). The first
model.latent_dim principal components of the ridge inputs (all patients) get the same table as a
reference (with --baselines-only, only them).

Needs Debian's python3-numpy, python3-scipy, python3-sklearn.
"""
import argparse, csv, os, shlex, shutil, subprocess, sys, tomllib

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSAYS = ("rnaseq", "cnv", "rppa", "mutations", "mirna")
BINARY = {"mutations"}


def die(msg):
    sys.exit(f"multimodal_miniacc: {msg}")


def load_assay(path):
    """(feature names, raw lines, values with NaN for empty cells, presence per patient)."""
    with open(path) as f:
        lines = f.read().splitlines()
    names = lines[0].split(",")
    x = np.full((len(lines) - 1, len(names)), np.nan)
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        if len(cells) != len(names):
            die(f"{path} line {i + 2}: {len(cells)} cells, header has {len(names)}")
        x[i] = [float(c) if c else np.nan for c in cells]
    return names, lines, x, ~np.isnan(x).all(axis=1)


def load_data(d):
    data = {a: load_assay(os.path.join(d, a + ".csv")) for a in ASSAYS}
    with open(os.path.join(d, "clinical.csv"), newline="") as f:
        clin = list(csv.DictReader(f))
    n = {len(v[1]) - 1 for v in data.values()} | {len(clin)}
    if len(n) != 1:
        die(f"{d}: the tables have different numbers of patients {sorted(n)}")
    return data, clin


def write_split(data, rows, d, prefix):
    os.makedirs(d, exist_ok=True)
    for a, (_, lines, _, _) in data.items():
        with open(os.path.join(d, f"{prefix}_{a}.csv"), "w") as f:
            f.write("\n".join([lines[0]] + [lines[i + 1] for i in rows]) + "\n")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-20:])
        die(f"exit status {p.returncode}: {shlex.join(cmd)}\n{tail}")
    return p.stdout


def train_elbo(args, d, seed):
    out = os.path.join(d, "run")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [args.elbo, "train", args.config, "--out", out, "--set", f'data.dir="{os.path.abspath(d)}"',
           "--set", f"train.seed={seed}"]
    if args.epochs:
        cmd += ["--set", f"train.epochs={args.epochs}"]
    for kv in args.set:
        cmd += ["--set", kv]
    run(cmd)
    return out


def read_prediction(path, names, n_rows):
    """elbo predict's CSV as {stat: array (rows, features)} in the test files' row order."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if [int(r["row"]) for r in rows] != list(range(1, n_rows + 1)):
        die(f"{path}: expected rows 1..{n_rows}, got {len(rows)} rows")
    out = {}
    for s in ("mean", "q05", "q95"):
        missing = [f"{n}:{s}" for n in names if f"{n}:{s}" not in rows[0]]
        if missing:
            die(f"{path}: no column {missing[0]} ({len(missing)} absent)")
        out[s] = np.array([[float(r[f"{n}:{s}"]) for n in names] for r in rows])
    return out


def standardize_stats(x, rows):
    """Column mean and population std over rows (NaN-aware; std 0 or undefined -> 1)."""
    sub = x[rows]
    mu = np.nan_to_num(np.nanmean(sub, axis=0)) if len(sub) else np.zeros(x.shape[1])
    sd = np.nan_to_num(np.nanstd(sub, axis=0)) if len(sub) else np.ones(x.shape[1])
    sd[sd == 0] = 1.0
    return mu, sd


def ridge_inputs(data, assays, train_rows):
    """Rows of all patients: each assay standardized with train_rows' statistics, absent/empty -> 0, presence flags."""
    blocks = []
    for a in assays:
        _, _, x, present = data[a]
        mu, sd = standardize_stats(x, train_rows[present[train_rows]])
        blocks += [np.nan_to_num((x - mu) / sd), present[:, None].astype(float)]
    return np.hstack(blocks)


def sq_errors(pred, truth, sd):
    """Squared errors over the observed truth cells, in training-sd units."""
    ok = ~np.isnan(truth)
    return (((pred - truth) / sd)[ok] ** 2)


def factor_analysis_predictions(data, tr, rank):
    """{assay: predictions (all patients) of it from the others}: the conditional mean E[x_C | x_O] of a
    factor analysis x = W z + mu + e (z ~ N(0, I_rank), e ~ N(0, diag psi)) fitted by maximum likelihood
    (scikit-learn's SVD method) to the training patients' continuous assays, standardized, empty cells
    and absent assays at the training mean. The exact-inference, exactly-fitted counterpart of the
    linear multimodal VAE: the reference for what a linear shared latent can predict."""
    assays = [a for a in ASSAYS if a not in BINARY]
    blocks, cols, c = [], {}, 0
    for a in assays:
        _, _, x, present = data[a]
        mu, sd = standardize_stats(x, tr[present[tr]])
        blocks.append((x - mu) / sd)
        cols[a] = np.arange(c, c + x.shape[1])
        c += x.shape[1]
    z = np.hstack(blocks)
    cov = FactorAnalysis(rank, random_state=0).fit(np.nan_to_num(z[tr])).get_covariance()
    out = {}
    for a in assays:
        pred = np.zeros((len(z), len(cols[a])))
        for i in range(len(z)):
            seen = [cols[b] for b in assays if b != a and data[b][3][i]]
            if seen:
                o = np.concatenate(seen)
                pred[i] = cov[np.ix_(cols[a], o)] @ np.linalg.solve(cov[np.ix_(o, o)], np.nan_to_num(z[i, o]))
        _, _, x, present = data[a]
        mu, sd = standardize_stats(x, tr[present[tr]])
        out[a] = pred * sd + mu
    return out


def association_table(title, z, clin, cols):
    """Markdown: per clinical column and latent dimension, Spearman rho (numeric) or Kruskal-Wallis p."""
    d = z.shape[1]
    out = [f"### {title}", "",
           "Numeric columns: Spearman rho (p); categorical: Kruskal-Wallis p. * = p < 0.05 / (dims x columns).", "",
           "| column | test | n | " + " | ".join(f"z{j + 1}" for j in range(d)) + " |",
           "|---|---|---|" + "---|" * d]
    bonf = 0.05 / (d * len(cols))
    notes = []
    for c in cols:
        vals = [r[c] for r in clin]
        have = np.array([v != "" for v in vals])
        try:
            num = np.array([float(v) if v != "" else np.nan for v in vals])
            numeric = len(set(num[have])) > 6
        except ValueError:
            numeric = False
        cells = []
        if numeric:
            n = int(have.sum())
            if n < 10:
                notes.append(f"{c}: only {n} patients have a value, skipped")
                continue
            for j in range(d):
                rho, p = stats.spearmanr(num[have], z[have, j])
                cells.append(f"{rho:+.2f} ({p:.1g}){'*' if p < bonf else ''}")
            test = "Spearman"
        else:
            groups = {}
            for i in np.flatnonzero(have):
                groups.setdefault(vals[i], []).append(i)
            small = [g for g, ix in groups.items() if len(ix) < 3]
            groups = {g: ix for g, ix in groups.items() if len(ix) >= 3}
            n = sum(len(ix) for ix in groups.values())
            if small:
                notes.append(f"{c}: groups with fewer than 3 patients left out: {', '.join(small)}")
            if len(groups) < 2:
                notes.append(f"{c}: fewer than 2 groups of at least 3 patients, skipped")
                continue
            for j in range(d):
                p = stats.kruskal(*[z[ix, j] for ix in groups.values()]).pvalue
                cells.append(f"{p:.1g}{'*' if p < bonf else ''}")
            test = f"KW, {len(groups)} groups"
        out.append(f"| {c} | {test} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(out + [""] + [f"- {s}" for s in notes]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "runs", "miniacc-data"))
    ap.add_argument("--elbo", default=os.path.join(ROOT, "build", "elbo"))
    ap.add_argument("--workdir", default=os.path.join(ROOT, "runs", "miniacc"))
    ap.add_argument("--config", default=os.path.join(ROOT, "examples", "multimodal", "miniacc.toml"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=0, help="train.epochs (0 = the config's)")
    ap.add_argument("--seed", type=int, default=1, help="KFold shuffle and train.seed")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="extra setting for elbo train")
    ap.add_argument("--baselines-only", action="store_true", help="skip elbo")
    ap.add_argument("--only-folds", type=int, default=0, help="score only the first N folds (quick trials)")
    ap.add_argument("--no-clinical", action="store_true", help="skip the clinical association run")
    args = ap.parse_args()
    command = "$ " + shlex.join(sys.argv)
    print(command + "\n", flush=True)
    use_elbo = not args.baselines_only
    if use_elbo:
        for p in (args.elbo, args.config):
            if not os.path.exists(p):
                die(f"{p} not found (use --elbo/--config, or --baselines-only)")
    with open(args.config, "rb") as f:
        latent_dim = tomllib.load(f).get("model", {}).get("latent_dim", 10)
    for kv in args.set:  # a --set of the latent size also sizes the factor analysis and the PCA reference
        if kv.split("=")[0].strip() == "model.latent_dim":
            latent_dim = int(kv.split("=")[1])

    data, clin = load_data(args.data)
    n = len(clin)
    print("| assay | features | patients |\n|---|---|---|")
    for a in ASSAYS:
        print(f"| {a} | {len(data[a][0])} | {int(data[a][3].sum())} |")
    print()

    err = {a: {m: [] for m in ("elbo", "mean", "ridge", "fa")} for a in ASSAYS}
    cover = {a: [] for a in ASSAYS}
    n_test = {a: 0 for a in ASSAYS}
    folds = KFold(n_splits=args.folds, shuffle=True, random_state=args.seed).split(np.arange(n))
    for k, (tr, te) in enumerate(folds, 1):
        if args.only_folds and k > args.only_folds:
            break
        d = os.path.join(args.workdir, f"fold{k}")
        write_split(data, tr, d, "train")
        write_split(data, te, d, "test")
        if use_elbo:
            rundir = train_elbo(args, d, args.seed)
        fa = factor_analysis_predictions(data, tr, latent_dim)
        for a in ASSAYS:
            names, _, x, present = data[a]
            others = [b for b in ASSAYS if b != a]
            tr_a, te_a = tr[present[tr]], te[present[te]]
            n_test[a] += len(te_a)
            if len(tr_a) == 0 or len(te_a) == 0:
                print(f"fold {k}: {a}: {len(tr_a)} training and {len(te_a)} test patients have it, not scored")
                continue
            mu, sd = standardize_stats(x, tr_a)
            if a in BINARY:
                sd = np.ones_like(sd)
            truth = x[te_a]
            err[a]["mean"].append(sq_errors(np.broadcast_to(mu, truth.shape), truth, sd))
            xin = ridge_inputs(data, others, tr)
            y = np.nan_to_num((x[tr_a] - mu) / sd)  # empty training cells -> the mean
            ridge = RidgeCV(alphas=np.logspace(-2, 5, 30), alpha_per_target=True).fit(xin[tr_a], y)
            pred = ridge.predict(xin[te_a]) * sd + mu
            if a in BINARY:
                pred = np.clip(pred, 0, 1)
            err[a]["ridge"].append(sq_errors(pred, truth, sd))
            if a in fa:
                err[a]["fa"].append(sq_errors(fa[a][te_a], truth, sd))
            if use_elbo:
                out = os.path.join(d, f"pred_{a}.csv")
                run([args.elbo, "predict", rundir, "--from", ",".join(others), "--to", a, "--out", out,
                     "--draws", str(args.draws)])
                p = read_prediction(out, names, len(te))
                rows = np.flatnonzero(present[te])  # test patients having a, within the test files
                err[a]["elbo"].append(sq_errors(p["mean"][rows], truth, sd))
                if a not in BINARY:
                    ok = ~np.isnan(truth)
                    cover[a].append(((p["q05"][rows] <= truth) & (truth <= p["q95"][rows]))[ok])
        print(f"fold {k}: {len(tr)} training, {len(te)} test patients", flush=True)

    rmse = lambda v: f"{np.sqrt(np.mean(np.concatenate(v))):.3f}" if v else "–"
    table = [f"| assay | features | test patients | RMSE elbo | RMSE mean | RMSE ridge | RMSE factor analysis (rank {latent_dim}) "
             "| elbo 90% coverage |", "|---|---|---|---|---|---|---|---|"]
    for a in ASSAYS:
        cov = f"{np.mean(np.concatenate(cover[a])):.3f}" if cover[a] else "–"
        table.append(f"| {a} | {len(data[a][0])} | {n_test[a]} | {rmse(err[a]['elbo'])} | {rmse(err[a]['mean'])} | "
                     f"{rmse(err[a]['ridge'])} | {rmse(err[a]['fa'])} | {cov} |")
    text = (f"{command}\n\n{args.folds}-fold CV by patient (KFold seed {args.seed}); each assay predicted from the "
            "four others; RMSE in training-sd units (mutations: of the probability, 0/1 units)\n\n" + "\n".join(table) + "\n")

    if args.no_clinical:
        print(text)
        return
    # Clinical association.
    cols = [c for c in clin[0] if c != "patient"]
    allrows = np.arange(n)
    pcs = PCA(n_components=latent_dim, random_state=0).fit_transform(ridge_inputs(data, ASSAYS, allrows))
    assoc = association_table(f"First {latent_dim} principal components of the standardized assays (reference)",
                              pcs, clin, cols)
    if use_elbo:
        d = os.path.join(args.workdir, "all")
        write_split(data, allrows, d, "train")
        write_split(data, allrows, d, "test")
        rundir = train_elbo(args, d, args.seed)
        lat = os.path.join(rundir, "latents.csv")
        run([args.elbo, "encode", rundir, "--out", lat])
        with open(lat, newline="") as f:
            rows = list(csv.DictReader(f))
        means = [c for c in rows[0] if c.startswith("mean") or (c.startswith("mu") and c[2:].lstrip("_").isdigit())]
        if len(rows) != n or not means:
            die(f"{lat}: {len(rows)} rows (want {n}), latent mean columns {means} (header: {list(rows[0])})")
        z = np.array([[float(r[c]) for c in means] for r in rows])
        assoc = association_table(f"elbo posterior means, trained on all {n} patients", z, clin, cols) + "\n" + assoc
    text += "\n## Clinical association\n\n" + assoc
    print(text)
    os.makedirs(args.workdir, exist_ok=True)
    with open(os.path.join(args.workdir, "table.md"), "w") as f:
        f.write(text)
    print(f"written to {os.path.join(args.workdir, 'table.md')}")


if __name__ == "__main__":
    main()
