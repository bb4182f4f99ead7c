#!/usr/bin/env python3
"""Tables of README.md from lattice runs' evaluation.json (elbo evaluate: the `lattice` key).

Gaussian free field runs: each model's bounds against the exact references (the true density,
the closed-form linear PPCA optimum) and the fraction of power kept per Fourier shell against the
optimum's. Spin (Ising) runs: KL per latent, the magnetization latent, the fraction kept per shell
and the power of block-spin fields at the same wavelengths. Standard library only.

usage: tables.py RUN_DIR...
"""
import json
import sys

SHELLS = 7


def name(run):
    return run.rstrip("/").split("/")[-1]


def free_field(runs):
    print("| run | L | d | ELBO − truth | IWAE − truth | PPCA optimum − truth | IWAE − PPCA (SE) | ELBO gap |")
    print("|---|---|---|---|---|---|---|---|")
    for run, e in runs:
        g = e["lattice"]["gff"]
        p, elbo, iwae = g["ppca"], g["elbo_minus_truth"], g["iwae_minus_truth"]
        print(f"| {name(run)} | {e['lattice']['L']} | {p['latent_dim']} | {elbo['mean']:.2f} ± {elbo['se']:.2f} | "
              f"{iwae['mean']:.2f} ± {iwae['se']:.2f} | {p['minus_truth']:.2f} | "
              f"{(iwae['mean'] - p['minus_truth']) / iwae['se']:+.1f} | {e['elbo_gap']:.2f} |")
    print("\nFraction of each shell's power the reconstructions keep, shells s of |k| = 2 pi s / L: "
          "model ± SE / PPCA optimum\n")
    print("| run | " + " | ".join(f"s = {s}" for s in range(SHELLS)) + " |")
    print("|---|" + "---|" * SHELLS)
    for run, e in runs:
        l = e["lattice"]
        cells = [f"{r:.3f} ± {s:.3f} / {p:.3f}" for r, s, p in
                 zip(l["power_ratio"], l["power_ratio_se"], l["gff"]["ppca"]["power_ratio"])][:SHELLS]
        print(f"| {name(run)} | " + " | ".join(cells) + " |")


def spins(runs):
    print("| run | KL per latent | corr(mu, m) of the magnetization latent | <\\|m\\|> | "
          + " | ".join(f"kept, s = {s}" for s in range(4)) + " |")
    print("|---|---|---|---|" + "---|" * 4)
    for run, e in runs:
        l, m = e["lattice"], e["lattice"]["magnetization"]
        kept = [f"{r:.3f} ± {s:.3f}" for r, s in zip(l["power_ratio"], l["power_ratio_se"])][:4]
        print(f"| {name(run)} | " + " ".join(f"{x:.2f}" for x in e["kl_per_dim"]) +
              f" | {m['best_correlation']:+.3f} | {m['mean_abs_m']:.3f} | " + " | ".join(kept) + " |")
    print("\nPower per shell (mean |phi_hat(k)|^2 / L^2) of the spins, their reconstructions and block spins "
          "(majority rule, drawn at the wavelength they stand for: coarse shell s' at s = s')\n")
    print("| run | field | " + " | ".join(f"s = {s}" for s in range(4)) + " |")
    print("|---|---|" + "---|" * 4)
    for run, e in runs:
        l = e["lattice"]
        rows = [("input", l["power_input"]), ("reconstruction", l["power_reconstruction"])]
        rows += [(f"block spins b = {b['b']}", b["power"]) for b in l["block_spin"]]
        for label, power in rows:
            cells = [f"{x:.3f}" for x in power[:4]] + ["—"] * (4 - len(power[:4]))
            print(f"| {name(run)} | {label} | " + " | ".join(cells) + " |")


def main():
    runs = []
    for run in sys.argv[1:]:
        with open(f"{run}/evaluation.json") as f:
            runs.append((run, json.load(f)))
    gff = [r for r in runs if "gff" in r[1]["lattice"]]
    spin = [r for r in runs if r[1]["lattice"].get("spins")]
    if gff:
        free_field(gff)
    if spin:
        print() if gff else None
        spins(spin)


if __name__ == "__main__":
    main()
