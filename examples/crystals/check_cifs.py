#!/usr/bin/env python3
"""Reads every CIF (and POSCAR) file `elbo sample` / `elbo reconstruct` wrote with pymatgen and ASE and
checks that both see the structure the table says (atom count, volume), and the project's
minimum distance against pymatgen's distance matrix.

usage: /usr/bin/python3 examples/crystals/check_cifs.py RUN/samples [--table samples.csv]
Prints one line per failure and a summary; exits 1 if any file fails to load or disagrees.
"""
import argparse
import csv
import glob
import os
import sys
import warnings

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--table", default=None, help="CSV written beside the files (default: the one *.csv in DIR)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from ase.io import read as ase_read
    from pymatgen.core import Structure

    tables = [args.table] if args.table else glob.glob(os.path.join(args.dir, "*.csv"))
    rows = {}
    for t in tables:
        with open(os.path.join(args.dir, os.path.basename(t)) if not os.path.exists(t) else t) as f:
            for r in csv.DictReader(f):
                rows[r["name"]] = r
    files = sorted(glob.glob(os.path.join(args.dir, "*.cif")) + glob.glob(os.path.join(args.dir, "*.poscar")))
    failures, pymatgen_ok, ase_ok = 0, 0, 0
    for path in files:
        name = os.path.splitext(os.path.basename(path))[0]
        row = rows.get(name)
        try:
            s = Structure.from_file(path) if path.endswith(".cif") else Structure.from_str(open(path).read(), fmt="poscar")
            pymatgen_ok += 1
        except Exception as e:  # noqa: BLE001 - report whatever pymatgen raises
            print(f"FAIL pymatgen {path}: {e}")
            failures += 1
            continue
        try:
            a = ase_read(path, format="cif" if path.endswith(".cif") else "vasp")
            ase_ok += 1
        except Exception as e:  # noqa: BLE001
            print(f"FAIL ase {path}: {e}")
            failures += 1
            continue
        if row is not None:
            n = int(row["atoms"])
            if len(s) != n or len(a) != n:
                print(f"FAIL {path}: {len(s)} atoms (pymatgen), {len(a)} (ase), table {n}")
                failures += 1
            volume = float(row["volume"])
            if abs(s.volume - volume) > 1e-4 * volume or abs(a.get_volume() - volume) > 1e-4 * volume:
                print(f"FAIL {path}: volume {s.volume} (pymatgen), {a.get_volume()} (ase), table {volume}")
                failures += 1
            if n > 1:
                d = s.distance_matrix
                ours = float(row["min_distance"])
                theirs = float(np.min(d[~np.eye(n, dtype=bool)]))
                # Ours also counts an atom's own images (the shortest lattice vector); pymatgen's matrix does not.
                # pymatgen's CifParser snaps coordinates within 1e-4 of 1/3 and 2/3 to those values, which
                # moves an atom by up to ~1e-3 A in these cells: the tolerance.
                if ours > theirs + 1e-3:
                    print(f"FAIL {path}: minimum distance {ours} (elbo) > {theirs} (pymatgen)")
                    failures += 1
    print(f"{len(files)} files: {pymatgen_ok} read by pymatgen, {ase_ok} by ASE; {failures} failure(s)")
    sys.exit(1 if failures or not files else 0)


if __name__ == "__main__":
    main()
