#!/usr/bin/env python3
"""Tables of README.md for Gaussian free field runs: each model's bounds against the exact
references elbo evaluate wrote (lattice.gff in evaluation.json), and the fraction of power kept
per Fourier shell against the closed-form linear (PPCA) optimum. Standard library only.

usage: gff_table.py RUN_DIR...
"""
import json
import sys


def main():
    runs = []
    for run in sys.argv[1:]:
        with open(f"{run}/evaluation.json") as f:
            runs.append((run, json.load(f)))
    print("| run | L | d | ELBO − truth | IWAE − truth | PPCA optimum − truth | IWAE − PPCA (SE) | ELBO gap |")
    print("|---|---|---|---|---|---|---|---|")
    for run, e in runs:
        g = e["lattice"]["gff"]
        p, elbo, iwae = g["ppca"], g["elbo_minus_truth"], g["iwae_minus_truth"]
        print(f"| {run.rstrip('/').split('/')[-1]} | {e['lattice']['L']} | {p['latent_dim']} | "
              f"{elbo['mean']:.2f} ± {elbo['se']:.2f} | {iwae['mean']:.2f} ± {iwae['se']:.2f} | "
              f"{p['minus_truth']:.2f} | {(iwae['mean'] - p['minus_truth']) / iwae['se']:+.1f} | "
              f"{e['elbo_gap']:.2f} |")
    print("\nFraction of each shell's power the reconstructions keep, shells s of |k| = 2 pi s / L: "
          "model ± SE / PPCA optimum\n")
    shells = 7
    print("| run | " + " | ".join(f"s = {s}" for s in range(shells)) + " |")
    print("|---|" + "---|" * shells)
    for run, e in runs:
        l = e["lattice"]
        cells = [f"{r:.3f} ± {s:.3f} / {p:.3f}" for r, s, p in
                 zip(l["power_ratio"], l["power_ratio_se"], l["gff"]["ppca"]["power_ratio"])][:shells]
        print(f"| {run.rstrip('/').split('/')[-1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
