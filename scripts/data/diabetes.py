#!/usr/bin/python3
"""The diabetes table (Efron et al. 2004; 442 patients, 10 baseline features,
target = disease progression one year later) in seeded 90/10 train/test splits.

Source: sklearn.datasets.load_diabetes from Debian's python3-sklearn, raw
units (scaled=False, sklearn >= 1.1; older versions fall back to the scaled
table and say so). Split i (i = 0..splits-1) permutes the rows with
numpy.random.default_rng(seed + i): the first round(0.1 * 442) = 44 rows are
the test rows, the other 398 the training rows (each file keeps that order).

Output: OUT/train_{i}.csv and OUT/test_{i}.csv, header
age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,target.

Usage: scripts/data/diabetes.py [--out data/diabetes] [--splits 5] [--seed 0]
"""
import argparse, os
import numpy as np
from sklearn.datasets import load_diabetes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/diabetes")
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    try:
        d, scaled = load_diabetes(scaled=False), False
    except TypeError:
        d, scaled = load_diabetes(), True
    x, y, names = d.data, d.target, list(d.feature_names)
    n_test = int(round(0.1 * len(y)))
    os.makedirs(a.out, exist_ok=True)
    header = ",".join(names + ["target"]) + "\n"
    for i in range(a.splits):
        perm = np.random.default_rng(a.seed + i).permutation(len(y))
        for name, idx in (("test", perm[:n_test]), ("train", perm[n_test:])):
            with open(os.path.join(a.out, f"{name}_{i}.csv"), "w") as f:
                f.write(header + "".join(",".join("%.10g" % v for v in np.append(x[j], y[j])) + "\n" for j in idx))
    print(f"diabetes ({'scaled' if scaled else 'raw units'}): {a.splits} splits of {len(y)} rows "
          f"({len(y) - n_test} train / {n_test} test) -> {a.out}/train_i.csv, test_i.csv; columns {header.strip()}")


if __name__ == "__main__":
    main()
