#!/usr/bin/env python3
"""Synthetic DNA with a planted motif: i.i.d. background bases (P(G) = P(C) = gc/2, P(A) = P(T) = (1-gc)/2)
and, in a seeded random fraction `rate` of the records, the motif written at a fixed 0-based offset.
Deterministic in --seed (Python's Mersenne Twister). Prints one line: records and planted count."""
import argparse
import random

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--n", type=int, default=4000, help="records")
p.add_argument("--length", type=int, default=200, help="bases per record")
p.add_argument("--motif", default="TATAAAAG", help="bases planted (ACGT)")
p.add_argument("--offset", type=int, default=60, help="0-based position of the motif's first base")
p.add_argument("--rate", type=float, default=0.5, help="fraction of records carrying the motif")
p.add_argument("--gc", type=float, default=0.5, help="G + C fraction of the background")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--out", required=True, help="FASTA file to write")
a = p.parse_args()
if set(a.motif) - set("ACGT") or not 0 <= a.offset <= a.length - len(a.motif) or not 0 <= a.rate <= 1 \
        or not 0 <= a.gc <= 1 or a.n < 1:
    p.error("need a motif of ACGT fitting at --offset in --length, 0 <= --rate, --gc <= 1 and --n >= 1")

rng = random.Random(a.seed)
planted = set(rng.sample(range(a.n), round(a.rate * a.n)))
weights = [(1 - a.gc) / 2, a.gc / 2, a.gc / 2, (1 - a.gc) / 2]
with open(a.out, "w") as f:
    for i in range(a.n):
        s = rng.choices("ACGT", weights, k=a.length)
        if i in planted:
            s[a.offset:a.offset + len(a.motif)] = a.motif
        f.write(f">seq{i + 1}\n" + "".join(s) + "\n")
print(f"wrote {a.n} records of {a.length} bases to {a.out}, {len(planted)} with {a.motif} at offset {a.offset}")
