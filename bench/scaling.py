#!/usr/bin/python3
"""Data-parallel scaling of `elbo train --nproc N` on this machine.

Trains the default model (MLP VAE 784-400-20, Bernoulli, Fashion-MNIST) three
ways with the same per-process batch B (weak scaling: 2 processes train on
global batches of 2B):

  1 process, all cores   OpenBLAS threads = cores (what `elbo train` does)
  1 process, cores/2     OPENBLAS_NUM_THREADS = cores/2: one rank's share
  2 processes            --nproc 2 (each rank gets OPENBLAS_NUM_THREADS = cores/2)

and, as the machine's own limit, two independent 1-process runs of cores/2
threads at the same time (no communication; their throughputs added). It
prints the training throughput of each (examples of the global batch per
second, from the epoch records of metrics.jsonl, the first epoch left out as
warm-up; the best of --repeat rounds, the configurations interleaved, since
anything else running on the machine only ever slows a run down) with

  efficiency = T(2 processes) / (2 T(1 process, cores/2))
  speedup    = T(2 processes) / T(1 process, all cores)
  machine    = T(2 independent processes) / (2 T(1 process, cores/2))
  data-parallel overhead: 1 - T(2 processes) / T(2 independent processes)

Efficiency compares like with like (each process has the same share of the
machine); speedup says what --nproc 2 buys over one process that already runs
its matrix products on all cores; machine says how much of the ideal 2x the
hardware gives two busy processes at all, and the overhead is what the
all-reduce and the lock-step add on top. See bench/README.md.

    bench/scaling.py [--elbo build/elbo] [--epochs 3] [--max-train 20000] [--batch 128] [--repeat 3] [--strong]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def command(elbo, out, nproc, batch, args, env_extra):
    cmd = [elbo, "train", "--out", out,
           "--set", f"train.epochs={args.epochs}", "--set", f"train.batch_size={batch}",
           "--set", f"data.max_train={args.max_train}", "--set", "eval.k=10", "--set", "eval.n=100",
           "--set", "report.samples=16", "--set", "train.log_every=1000000"]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.update(env_extra)
    return cmd, env


def throughput(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        epochs = [r for r in map(json.loads, f) if r["type"] == "epoch"]
    return statistics.mean(e["examples_per_s"] for e in (epochs[1:] or epochs)), epochs[-1]["elbo"]


def train(outs, *args):
    """Runs one training per directory in `outs`, all at once; returns the summed throughput."""
    start = time.time()
    procs = []
    for out in outs:
        cmd, env = command(args[0], out, *args[1:])
        procs.append((cmd, subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
    for cmd, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"scaling.py: {' '.join(cmd)} failed (exit {proc.returncode}):\n{err}")
    results = [throughput(out) for out in outs]
    return sum(r[0] for r in results), time.time() - start, results[0][1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--elbo", default=os.path.join(HERE, "..", "build", "elbo"))
    p.add_argument("--epochs", type=int, default=3, help="epochs per run (the first is warm-up)")
    p.add_argument("--max-train", type=int, default=20000, help="data.max_train (validation 5000 comes out of it)")
    p.add_argument("--batch", type=int, default=128, help="train.batch_size, per process")
    p.add_argument("--repeat", type=int, default=3, help="rounds; each configuration's best is reported")
    p.add_argument("--strong", action="store_true",
                   help="strong scaling: 2 processes of batch/2 (the same global batch as 1 process)")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    half = max(1, cores // 2)
    batch2 = args.batch // 2 if args.strong else args.batch
    runs = [("1 process, all cores", 1, 1, args.batch, {}),
            (f"1 process, {half} BLAS thread(s)", 1, 1, args.batch, {"OPENBLAS_NUM_THREADS": str(half)}),
            (f"2 processes (--nproc 2), batch {batch2} each", 1, 2, batch2, {}),
            (f"2 independent 1-process runs at once, {half} thread(s) each", 2, 1, args.batch,
             {"OPENBLAS_NUM_THREADS": str(half)})]
    print(f"elbo data-parallel scaling: {cores} cores, load average {os.getloadavg()[0]:.2f}, "
          f"{args.epochs} epochs of data.max_train={args.max_train}, "
          f"{'strong' if args.strong else 'weak'} scaling")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for round in range(args.repeat):
            for i, (name, copies, nproc, batch, env) in enumerate(runs):
                outs = [os.path.join(work, f"{i}.{c}") for c in range(copies)]
                rate, seconds, elbo = train(outs, args.elbo, nproc, batch, args, env)
                results.setdefault(i, []).append(rate)
                print(f"  round {round + 1}: {name:<56} {rate:7.0f} examples/s  (run {seconds:5.1f} s, "
                      f"last-epoch ELBO {elbo:.2f})", flush=True)
    print("best of each:")
    for i, (name, *_) in enumerate(runs):
        print(f"  {name:<56} {max(results[i]):7.0f} examples/s")
    results = {i: max(r) for i, r in results.items()}
    print(f"  efficiency = T(2 processes) / (2 T(1 process, {half} thread(s)))         = {results[2] / (2 * results[1]):.2f}")
    print(f"  speedup    = T(2 processes) / T(1 process, all cores)              = {results[2] / results[0]:.2f}")
    print(f"  machine    = T(2 independent) / (2 T(1 process, {half} thread(s)))       = {results[3] / (2 * results[1]):.2f}")
    print(f"  data-parallel overhead = 1 - T(2 processes) / T(2 independent)     = {1 - results[2] / results[3]:.2f}")


if __name__ == "__main__":
    main()
