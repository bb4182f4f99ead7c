#!/usr/bin/env python3
"""T_c of the 2-D Ising model from the latent statistics of one VAE per temperature.

Reads RUN_DIR/s<r>/T<T>/evaluation.json (elbo evaluate: lattice.magnetization, kl_per_dim,
active_units) for replicates r = 1..R and prints the mean table over replicates and, per
replicate, these estimates of T_c:

  latent <|mu|> drop:  steepest descent of <|mu|> of the latent most correlated with the
                       magnetization m (Wetzel 2017's order-parameter latent): the midpoint of the
                       steepest interval between scan points. Chosen before the scan was run.
  latent KL peak:      the temperature where that latent's KL term (the information the code keeps
                       about m) peaks: a parabola through the largest value and its two neighbours.
  data chi peak:       the same peak estimator on the finite-size susceptibility L^2 Var|m| / T of
                       the test fields: where this lattice size itself puts its pseudo-critical point.
  data <|m|> drop:     the first estimator on the test fields' own <|m|>.

Exact: T_c = 2 / ln(1 + sqrt 2) = 2.26919 (Onsager 1944). Standard library only.

usage: ising_tc.py RUN_DIR REPLICATES T1 T2 ...
"""
import json
import math
import statistics
import sys

TC = 2 / math.log(1 + math.sqrt(2))


def steepest_descent(ts, values):
    """Midpoint of the interval where (v[i+1] - v[i]) / (t[i+1] - t[i]) is most negative."""
    slopes = [(values[i + 1] - values[i]) / (ts[i + 1] - ts[i]) for i in range(len(ts) - 1)]
    i = min(range(len(slopes)), key=lambda j: slopes[j])
    return 0.5 * (ts[i] + ts[i + 1])


def vertex(ts, values):
    """Exact vertex of the interpolating parabola through three points around the maximum."""
    i = max(range(len(values)), key=lambda j: values[j])
    if i == 0 or i == len(ts) - 1:
        return ts[i]
    (x0, x1, x2), (y0, y1, y2) = ts[i - 1:i + 2], values[i - 1:i + 2]
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator
    return x1 if a >= 0 else -b / (2 * a)


def read(run_dir, replicate, name):
    with open(f"{run_dir}/s{replicate}/T{name}/evaluation.json") as f:
        e = json.load(f)
    m = e["lattice"]["magnetization"]
    best, L = m["best_latent"], e["lattice"]["L"]
    t = float(name)
    return {"T": t, "abs_m": m["mean_abs_m"], "chi": L * L * m["var_abs_m"] / t, "corr": abs(m["best_correlation"]),
            "abs_mu": m["mean_abs_mu"], "sd_mu": m["sd_mu"], "kl": e["kl_per_dim"][best],
            "active": e["active_units"], "elbo": e["elbo"]}


def main():
    run_dir, replicates = sys.argv[1], int(sys.argv[2])
    names = sorted(sys.argv[3:], key=float)  # directories T<name>, as the scan wrote them
    runs = [[read(run_dir, r, n) for n in names] for r in range(1, replicates + 1)]
    columns = [("abs_m", "<\\|m\\|> (data)", 3), ("chi", "L² Var\\|m\\| / T (data)", 2), ("corr", "\\|corr(mu, m)\\|", 3),
               ("abs_mu", "<\\|mu\\|>", 3), ("kl", "KL of that latent", 2), ("active", "active units of 4", 1),
               ("elbo", "test ELBO", 2)]
    print(f"Means over {replicates} replicates (± their standard error):\n")
    print("| T | " + " | ".join(c[1] for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for i, name in enumerate(names):
        cells = []
        for key, _, digits in columns:
            v = [run[i][key] for run in runs]
            se = statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else 0.0
            cells.append(f"{statistics.mean(v):.{digits}f} ± {se:.{digits}f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    ts = [float(n) for n in names]
    print(f"\nT_c estimates per replicate (exact {TC:.4f}):\n")
    print("| estimator | " + " | ".join(f"replicate {r}" for r in range(1, replicates + 1)) + " | mean ± SE | off by |")
    print("|---|" + "---|" * (replicates + 2))
    for label, key, estimate in (("latent <\\|mu\\|> drop (chosen first)", "abs_mu", steepest_descent),
                                 ("latent KL peak", "kl", vertex), ("data chi peak", "chi", vertex),
                                 ("data <\\|m\\|> drop", "abs_m", steepest_descent)):
        values = [estimate(ts, [row[key] for row in run]) for run in runs]
        mean = statistics.mean(values)
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        print(f"| {label} | " + " | ".join(f"{v:.3f}" for v in values) +
              f" | {mean:.3f} ± {se:.3f} | {100 * (mean - TC) / TC:+.1f}% |")


if __name__ == "__main__":
    main()
