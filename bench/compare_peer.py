#!/usr/bin/python3
"""Side-by-side benchmark: elbo's default model against the PyTorch peer.

Trains the same architecture (784-400-20 MLP VAE, Bernoulli likelihood,
analytic KL, Adam 1e-3, batch 128) for the same epochs on the same machine in
the same run, then prints training throughput, test ELBO, IWAE log p(x), IWAE
throughput and peak memory (RSS) of each, elbo's seconds from process start to
its first training step, and elbo/peer ratios. Targets (issue 6): training
>= 2.5x, IWAE >= 2x, peak RSS <= 0.5x, first step < 1 s, test ELBO within 1 nat.

    bench/compare_peer.py [--epochs 10] [--k 1000] [--n 1000] [--rounds 3] [--elbo build/elbo]

A shared VM's speed drifts by 10-20% within minutes, so the two run by turns,
elbo then peer, for --rounds rounds: every round's ratios are printed, and the
table holds each measure's median over the rounds. Round r trains both with
seed r: one seed's test ELBO varies by ~0.6 nats (seeds 1-3: elbo -244.84,
-243.71, -243.83; the peer -243.64, -244.13, -244.21), so the quality compared
is the median over seeds.

Needs Debian's python3-torch for the peer (installed on first use).
Both train on all 60000 training images (no validation split, as the peer).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_peer():
    for p in (os.path.join(ROOT, "..", "shared", "peers", "torch_vae.py"),
              os.path.join(ROOT, "shared", "peers", "torch_vae.py")):
        if os.path.exists(p):
            return os.path.abspath(p)
    sys.exit("compare_peer: cannot find shared/peers/torch_vae.py beside the repository")


def ensure_torch():
    if subprocess.run(["/usr/bin/python3", "-c", "import torch, numpy"], capture_output=True).returncode != 0:
        print("compare_peer: installing python3-torch for the peer", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3-torch"], check=True)


def run_measured(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (its stdout or None, its peak resident memory in MB)."""
    proc = subprocess.Popen(cmd, stdout=stdout, text=True)
    out = proc.stdout.read() if stdout == subprocess.PIPE else None
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"compare_peer: {cmd[0]} failed with exit status {proc.returncode}")
    return out, usage.ru_maxrss / 1024.0  # KB on Linux


def run_elbo(elbo, epochs, k, n, seed, out):
    common = ["--set", f"train.epochs={epochs}", "--set", "data.validation=0", "--set", f"train.seed={seed}",
              "--set", f"eval.k={k}", "--set", f"eval.n={n}", "--set", "train.log_every=100"]
    _, rss = run_measured([elbo, "train", *common, "--out", out])
    lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    seconds = sum(e["seconds"] for e in lines if e.get("type") == "epoch")
    startup = next(e["seconds_to_first_step"] for e in lines if e.get("type") == "startup")
    train_eps = 60000 * epochs / seconds
    ev = json.loads(subprocess.run([elbo, "evaluate", out, "--k", str(k), "--n", str(n), "--json"],
                                   check=True, capture_output=True, text=True).stdout)
    return {"train_examples_per_s": train_eps, "test_elbo": ev["elbo"], "test_iwae": ev["log_px"],
            "iwae_examples_per_s": ev["examples_per_s"], "peak_rss_mb": rss, "seconds_to_first_step": startup}


def run_peer(epochs, k, n, seed):
    out, rss = run_measured(["/usr/bin/python3", find_peer(), "--epochs", str(epochs), "--iwae-k", str(k),
                             "--eval-n", str(n), "--seed", str(seed)], stdout=subprocess.PIPE)
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--elbo", default=os.path.join(ROOT, "build", "elbo"))
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    ensure_torch()
    rows = [("training examples/s", "train_examples_per_s", True),
            ("test ELBO (nats)", "test_elbo", False),
            (f"test log p(x), IWAE K={a.k}", "test_iwae", False),
            ("IWAE examples/s", "iwae_examples_per_s", True),
            ("peak RSS (MB)", "peak_rss_mb", True)]
    ours_runs, peer_runs = [], []
    t0 = time.time()
    for r in range(a.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            ours_runs.append(run_elbo(a.elbo, a.epochs, a.k, a.n, r + 1, os.path.join(tmp, "run")))
        peer_runs.append(run_peer(a.epochs, a.k, a.n, r + 1))
        o, p = ours_runs[-1], peer_runs[-1]
        print(f"round {r + 1}/{a.rounds}: training {o['train_examples_per_s'] / p['train_examples_per_s']:.2f}x, "
              f"IWAE {o['iwae_examples_per_s'] / p['iwae_examples_per_s']:.2f}x, "
              f"RSS {o['peak_rss_mb'] / p['peak_rss_mb']:.2f}x, first step {o['seconds_to_first_step']:.2f} s, "
              f"test ELBO {o['test_elbo'] - p['test_elbo']:+.2f} nats (seed {r + 1})",
              flush=True)
    median = lambda runs, key: statistics.median(run[key] for run in runs)
    ours = {key: median(ours_runs, key) for _, key, _ in rows + [("", "seconds_to_first_step", False)]}
    peer = {key: median(peer_runs, key) for _, key, _ in rows}
    print(f"elbo vs PyTorch peer: default MLP VAE, {a.epochs} epochs, IWAE K={a.k} on {a.n} test images, "
          f"median of {a.rounds} round(s)")
    print(f"{'':32}{'elbo':>12}{'peer':>12}{'elbo/peer':>12}")
    for label, key, ratio in rows:
        r = f"{ours[key] / peer[key]:.2f}x" if ratio else f"{ours[key] - peer[key]:+.2f} nats"
        print(f"{label:32}{ours[key]:12.2f}{peer[key]:12.2f}{r:>12}")
    print(f"{'seconds to first training step':32}{ours['seconds_to_first_step']:12.2f}{'-':>12}")
    print(f"(wall time {time.time() - t0:.0f} s; peer torch {peer_runs[0].get('torch')})")
    print(json.dumps({"elbo": ours_runs, "peer": peer_runs}))


if __name__ == "__main__":
    main()
