#!/usr/bin/python3
"""The toy regression curve of Blundell et al. 2015 ("Weight Uncertainty in
Neural Networks", section 5.2), synthetic:

    y = x + 0.3 sin(2 pi (x + e)) + 0.3 sin(4 pi (x + e)) + e,  e ~ N(0, 0.02^2),  x ~ U[0, 0.5]

Output (numpy default_rng(--seed)): OUT/train.csv (256 draws, header x,y),
OUT/test.csv (256 fresh draws from the same range and noise) and OUT/grid.csv
(header x only: 300 evenly spaced x in [-0.5, 1.2], endpoints included, for
drawing the predictive band inside and outside the data).

Usage: scripts/data/blundell_curve.py [--out data/blundell] [--n 256] [--seed 0]
"""
import argparse, os
import numpy as np


def draw(rng, n):
    x = rng.uniform(0.0, 0.5, n)
    e = rng.normal(0.0, 0.02, n)
    return x, x + 0.3 * np.sin(2 * np.pi * (x + e)) + 0.3 * np.sin(4 * np.pi * (x + e)) + e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/blundell")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    for name in ("train", "test"):
        x, y = draw(rng, a.n)
        np.savetxt(os.path.join(a.out, name + ".csv"), np.c_[x, y], fmt="%.10g", delimiter=",",
                   header="x,y", comments="")
    np.savetxt(os.path.join(a.out, "grid.csv"), np.linspace(-0.5, 1.2, 300), fmt="%.10g", header="x", comments="")
    print(f"blundell: {a.out}/train.csv, test.csv ({a.n} rows each, x in [0, 0.5]), grid.csv (300 x in [-0.5, 1.2])")


if __name__ == "__main__":
    main()
