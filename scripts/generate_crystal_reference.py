#!/usr/bin/env python3
"""Writes tests/data/crystal_reference.json (@generated), the values
tests/data/crystal_reference_test.cpp compares the project's crystal readers and writers with.

  inputs:  every structure pymatgen reads from the fixtures in tests/data/crystals/ (CIF through
           CifParser, symmetry applied; aflow_subset.json through Structure.from_dict; ASE's
           dcdft_subset.json through ase.db): site count, cell parameters, volume, sites
           [Z, x, y, z], the sorted minimum-image distances between distinct sites and the mass
           density in g/cm^3 (Structure.density).
  atomic_masses: Element.from_Z(Z).atomic_mass in u for Z = 1..98 (the element table's masses).
  written: every file under tests/data/crystals/written/ (the project's P1 CIF and POSCAR output)
           read by pymatgen (CifParser, Poscar) and by ASE (ase.io.read): cell parameters, volume, sites.

Needs python3-pymatgen and python3-ase (Debian). usage: /usr/bin/python3 scripts/generate_crystal_reference.py
"""
import glob
import json
import os
import warnings

import ase.db
import ase.io
from pymatgen.core import Element, Structure
from pymatgen.io.cif import CifParser
from pymatgen.io.vasp import Poscar

warnings.filterwarnings("ignore")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DIR = os.path.join(ROOT, "tests", "data", "crystals")
INPUTS = ["nacl_fm3m.cif", "zno_wurtzite.cif", "sio2_triclinic_p-1.cif", "hgs_cinnabar_p1.cif",
          "hgs_cinnabar_p3121.cif", "aflow_subset.json", "dcdft_subset.json"]


def record(structure, distances=True):
    lattice = structure.lattice
    out = {
        "nsites": len(structure),
        "parameters": [lattice.a, lattice.b, lattice.c, lattice.alpha, lattice.beta, lattice.gamma],
        "volume": lattice.volume,
        "density": float(structure.density),
        "sites": [[site.specie.Z] + [float(x) for x in site.frac_coords] for site in structure],
    }
    if distances:
        d = structure.distance_matrix
        out["distances"] = sorted(float(d[i][j]) for i in range(len(structure)) for j in range(i + 1, len(structure)))
    return out


def ase_record(atoms):
    cell = atoms.cell.cellpar()
    return {
        "nsites": len(atoms),
        "parameters": [float(x) for x in cell],
        "volume": float(atoms.get_volume()),
        "sites": [[int(z)] + [float(x) for x in f] for z, f in zip(atoms.numbers, atoms.get_scaled_positions(wrap=False))],
    }


def input_structures(name):
    path = os.path.join(DIR, name)
    if name.endswith(".cif"):
        return CifParser(path).get_structures(primitive=False)
    if name.startswith("aflow"):
        return [Structure.from_dict(entry["snl"]) for entry in json.load(open(path))]
    from pymatgen.io.ase import AseAtomsAdaptor
    return [AseAtomsAdaptor.get_structure(row.toatoms()) for row in ase.db.connect(path).select()]


def main():
    inputs = {}
    for name in INPUTS:
        for i, s in enumerate(input_structures(name)):
            inputs[f"{name}#{i}"] = record(s)
    written = {}
    for path in sorted(glob.glob(os.path.join(DIR, "written", "*"))):
        name = os.path.basename(path)
        if name.endswith(".cif"):
            pm = CifParser(path).get_structures(primitive=False)[0]
            atoms = ase.io.read(path, format="cif")
        else:
            pm = Poscar.from_file(path).structure
            atoms = ase.io.read(path, format="vasp")
        written[name] = {"pymatgen": record(pm, distances=False), "ase": ase_record(atoms)}
    masses = {str(z): float(Element.from_Z(z).atomic_mass) for z in range(1, 99)}
    out = {"@generated": "scripts/generate_crystal_reference.py", "inputs": inputs, "written": written,
           "atomic_masses": masses}
    with open(os.path.join(ROOT, "tests", "data", "crystal_reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"crystal_reference.json: {len(inputs)} input structures, {len(written)} written files")


if __name__ == "__main__":
    main()
