#!/usr/bin/python3
"""elbo evaluate's IWAE pass on the default model against the floor of its decoder products.

Runs `elbo evaluate RUN --k K --n N --json` (its "seconds": the encoder, K draws per example, the
decoder and the Bernoulli log-likelihood of N K rows, the log-sum-exps) and times, in the same
process run right after it, the decoder's two matrix products alone on N K random rows of the
run's shapes (latent -> hidden -> features; PyTorch's mm into preallocated outputs through the
same OpenBLAS, no bias or ReLU, in chunks of K rows, torch threads = this machine's cores, best of
--repeats passes). Prints both and their ratio (floor seconds / elbo seconds: 1.0 = elbo spends
nothing beyond the products).

    bench/iwae_floor.py [--run runs/default] [--k 1000] [--n 1000] [--elbo build/elbo] [--repeats 3]
"""
import argparse, json, os, subprocess, time, tomllib

import torch

from commands import ROOT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=os.path.join(ROOT, "runs", "default"))
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--elbo", default=os.path.join(ROOT, "build", "elbo"))
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    out = subprocess.run([a.elbo, "evaluate", a.run, "--k", str(a.k), "--n", str(a.n), "--json"], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out)
    with open(os.path.join(a.run, "config.toml"), "rb") as f:
        model = tomllib.load(f)["model"]
    # The default model's decoder (examples/default/config.toml): latent 20 -> [400] -> 784 pixels.
    latent, (hidden,), features = model["latent_dim"], model["hidden"], 784
    torch.set_num_threads(os.cpu_count())
    w1, w2 = torch.randn(hidden, latent), torch.randn(features, hidden)
    z, h, x = torch.randn(a.k, latent), torch.empty(a.k, hidden), torch.empty(a.k, features)
    best = float("inf")
    with torch.no_grad():
        for _ in range(a.repeats):
            start = time.perf_counter()
            for _ in range(a.n):
                torch.mm(z, w1.t(), out=h)
                torch.mm(h, w2.t(), out=x)
            best = min(best, time.perf_counter() - start)
    seconds = result["seconds"]
    print(json.dumps({"elbo_seconds": round(seconds, 3), "floor_seconds": round(best, 3),
                      "elbo_over_floor": round(best / seconds, 3), "k": a.k, "n": a.n,
                      "gflops": round(2 * a.n * a.k * (latent * hidden + hidden * features) / seconds / 1e9, 1),
                      "log_px": result["log_px"], "shapes": [latent, hidden, features], "threads": os.cpu_count()}))


if __name__ == "__main__":
    main()
