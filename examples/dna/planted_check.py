#!/usr/bin/env python3
"""Checks a VAE trained on planted-motif sequences (planted_motif.py, examples/dna/planted.toml):
1. the rate of the motif at its offset among generated sequences (elbo sample) against its rate in the
   training file, with the binomial standard error of the sample rate;
2. the AUROC of the mutation map (elbo score --mutations) separating substitutions inside the motif
   from those outside it, over the records that carry the motif: a substitution's score is minus its
   ELBO change (worse = higher), the AUROC the probability that one inside outscores one outside.
Standard library only."""
import argparse
import csv
import math


def records(path):
    name, seq = None, []
    for line in open(path):
        line = line.strip()
        if line.startswith(">"):
            if name is not None:
                yield name, "".join(seq)
            name, seq = line[1:].split()[0], []
        elif line:
            seq.append(line.upper())
    if name is not None:
        yield name, "".join(seq)


def auroc(pos, neg):
    """Mann-Whitney U / (|pos| |neg|), ties counted 1/2, via ranks of the pooled scores."""
    pooled = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(pooled):
        j = i
        while j < len(pooled) and pooled[j][0] == pooled[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # mean of ranks i+1 .. j
        rank_sum += mid * sum(1 for k in range(i, j) if pooled[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--training", required=True, help="the training FASTA (planted_motif.py output)")
p.add_argument("--samples", required=True, help="FASTA of generated sequences (elbo sample)")
p.add_argument("--mutations", help="mutations.csv of elbo score --mutations on held-out planted sequences")
p.add_argument("--motif", default="TATAAAAG")
p.add_argument("--offset", type=int, default=60)
a = p.parse_args()
end = a.offset + len(a.motif)
has = lambda s: s[a.offset:end] == a.motif
train = [has(s) for _, s in records(a.training)]
sampled = [has(s) for _, s in records(a.samples)]
rate, n = sum(sampled) / len(sampled), len(sampled)
target = sum(train) / len(train)
se = math.sqrt(max(rate * (1 - rate), 1e-12) / n)
print(f"motif at offset {a.offset}: {rate:.4f} ± {se:.4f} of {n} samples, {target:.4f} of {len(train)} training "
      f"records: {abs(rate - target) / se:.2f} SE apart")
if a.mutations:
    rows = list(csv.DictReader(open(a.mutations)))
    refs = {}
    for r in rows:
        refs.setdefault(r["record"], {})[int(r["position"]) - 1] = r["reference"]
    carriers = {name for name, bases in refs.items()
                if all(bases.get(a.offset + i) == b for i, b in enumerate(a.motif))}
    inside, outside = [], []
    for r in rows:
        if r["record"] not in carriers:
            continue
        i = int(r["position"]) - 1
        for b in "ACGT":
            if b != r["reference"]:
                (inside if a.offset <= i < end else outside).append(-float(r[b]))
    print(f"mutation map AUROC (inside vs outside the motif, {len(carriers)} carrier records, "
          f"{len(inside)} + {len(outside)} substitutions): {auroc(inside, outside):.4f}")
