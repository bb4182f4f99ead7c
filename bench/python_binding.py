#!/usr/bin/python3
"""The cost of the Python binding: training epochs through elbo.train against `elbo train`, same
config, same machine, by turns (this VM's speed drifts; see README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_binding.py [--epochs 3] [--rounds 3] [--set KEY=VALUE ...]

Each run trains the default model (or the config with --set) and its epoch seconds are read from
metrics.jsonl, which both write the same way (run::MetricsLog). Prints per-round medians of the
epoch times and examples/s, and the ratio binding/CLI."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import elbo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--elbo", default=os.path.join(ROOT, "build", "elbo"), help="the CLI binary")
parser.add_argument("--set", action="append", default=[], help="config override KEY=VALUE (repeatable)")
args = parser.parse_args()
overrides = [f"train.epochs={args.epochs}", "eval.n=100", "eval.k=10", *args.set]


def epochs(run_dir):
    lines = [json.loads(l) for l in open(os.path.join(run_dir, "metrics.jsonl"))]
    return [l for l in lines if l["type"] == "epoch"]


def cli(run_dir):
    command = [args.elbo, "train", "--out", run_dir]
    for o in overrides:
        command += ["--set", o]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return epochs(run_dir)


def binding(run_dir):
    config = {}
    for o in overrides:
        key, value = o.split("=", 1)
        config[key] = json.loads(value) if value[:1] in "-0123456789[tf" else value
    elbo.train(config, out=run_dir)
    return epochs(run_dir)


work = tempfile.mkdtemp()
results = {"cli": [], "binding": []}
for r in range(args.rounds):
    for name, train in (("cli", cli), ("binding", binding)):
        start = time.time()
        lines = train(os.path.join(work, f"{name}{r}"))
        results[name].append(lines)
        seconds = ", ".join("%.2f" % l["seconds"] for l in lines)
        print(f"round {r + 1} {name:8s}: epochs {seconds} s"
              f" ({statistics.median(l['examples_per_s'] for l in lines):.0f} examples/s); whole run {time.time() - start:.1f} s",
              file=sys.stderr)


def median(name, field):
    return statistics.median(l[field] for lines in results[name] for l in lines)


print(f"| {args.epochs} epochs x {args.rounds} rounds | CLI | elbo.train | binding / CLI |")
print("| --- | --- | --- | --- |")
for field, label in (("seconds", "epoch seconds (median)"), ("examples_per_s", "training examples/s (median)")):
    c, b = median("cli", field), median("binding", field)
    print(f"| {label} | {c:.3f} | {b:.3f} | {b / c:.3f} |")
