#!/usr/bin/python3
"""CDVAE's generation metrics (Xie et al. 2022, "Crystal Diffusion Variational Autoencoder for Periodic
Material Generation", ICLR) for crystal runs of elbo, with pymatgen (Debian's python3-pymatgen: run with
/usr/bin/python3). Prints one table, a column per run.

usage: /usr/bin/python3 bench/crystal_metrics.py RUN [RUN ...] [--elbo build/elbo] [--samples DIR_NAME]
                                                [--check-oxi N]
       /usr/bin/python3 bench/crystal_metrics.py RUN --designs DIR [DIR ...]   (elbo design's designs)

Each RUN needs (examples/crystals/README.md has the commands):
  RUN/samples/                elbo sample RUN --n 1000             (prior samples, sample*.cif)
  RUN/reconstructions/        elbo reconstruct RUN --n 1000        (reconstruction<i>.cif)
  RUN/structures-train/       elbo export RUN --format cif --split train   (the training set as the run built it)
  RUN/structures-validation/  elbo export RUN --format cif --split validation   (substitutions held out of training)
  RUN/structures-test/        elbo export RUN --format cif --split test    (test<i>: the input of reconstruction<i>)
The structures-* directories are written with --elbo when missing.

What is measured, and where it departs from CDVAE (whose code uses SMACT and matminer, which Debian lacks):

- Structural validity (CDVAE's rule, as elbo's samples.csv): every minimum-image interatomic distance > 0.5 A
  and volume > 0.1 A^3; recomputed here from pymatgen's distance matrix.
- Composition validity: charge neutrality. The composition reduced by the gcd of its counts is valid when
  (a) it has one element, or (b) every element is a metal (pymatgen's Element.is_metal: alkali, alkaline
  earth, transition, post-transition metals, lanthanoids, actinoids; CDVAE's include_alloys = True, with
  smact.metals), or (c) pymatgen's Composition.oxi_state_guesses() (common oxidation states, the ICSD ones
  where pymatgen has them; sites of one element may take different states, e.g. Fe3O4 as Fe 2.67+) finds at
  least one assignment with total charge 0. CDVAE instead asks SMACT for one oxidation state per element
  from its full list plus the Pauling electronegativity test (cations less electronegative than anions);
  pymatgen's common states are fewer (stricter) but mixed valence is allowed (more lenient). Whether a
  guess exists is decided by dynamic programming over the reachable charge sums (charge_balanced), which
  answers what oxi_state_guesses() would without its enumeration (minutes for a 15-element composition);
  --check-oxi N compares the two on N compositions.
- Reconstruction: pymatgen StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3) between reconstruction<i>
  and its input test<i>, as CDVAE: match rate over all inputs (and over the structurally and compositionally
  valid reconstructions only, as CDVAE counts: an invalid one is a miss), and the mean of get_rms_dist's
  RMS displacement over the matches (normalized by (V/N)^(1/3), as CDVAE reports it). Misses are
  characterized in this order: atom count wrong (N differs), composition wrong (same N, other elements or
  counts), geometry off (same N and composition, no match); and how many misses would match with species
  ignored (StructureMatcher with FrameworkComparator: the structure type right, the chemistry wrong).
- Coverage (COV-R, COV-P) against the training set (CDVAE measures against its test set; the held-out
  prototypes are given too). A sample is within reach of a reference structure when both fingerprint
  distances are within their thresholds. COV-R: the fraction of reference structures within reach of a
  valid sample; COV-P: the fraction of all samples that are valid and within reach of some reference
  structure (CDVAE divides by all generated structures too). For reference, the same with the run's
  validation structures (substitutions never trained on, 200) in place of the samples. The fingerprints,
  substitutes for matminer's:
    composition: a Magpie-like vector, the min, max, range, fraction-weighted mean, mean absolute deviation
      and mode (the property of the most abundant element) of 7 element properties (Z, row, group,
      Mendeleev number, atomic mass, Pauling electronegativity, atomic radius): 42 numbers, each
      standardized with the training set's mean and sd (CDVAE's CompScaler). CDVAE's threshold 10 is for
      132 standardized Magpie numbers; ours keeps its per-number RMS: 10 sqrt(42/132) = 5.64.
    structure: the distribution of coordination numbers over the sites (CN 1..24; a neighbour of site i is
      an atom within 1.1 d_i, d_i the distance to its nearest neighbour, all periodic images; 1.1 so that
      bcc's 8 + 6 shells at 1 : 1.155 count 8), 24 numbers summing to 1. That is the coordination part
      of CDVAE's CrystalNN fingerprint (its "wt CN_k", also a distribution over CN per site) with a distance rule instead of CrystalNN's solid-angle weights and
      without its order parameters (CrystalNN takes ~25 ms per site here); CDVAE's threshold 0.4 is kept.
- Novelty: a valid sample is novel when no training structure of the same reduced formula matches it
  (StructureMatcher as above); "new composition": its reduced formula is not in the training set.
"""
import argparse
import glob
import math
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np

STRUCT_CUTOFF = 0.4  # CDVAE's COV threshold on the CrystalNN fingerprint (MP-20)
MAGPIE_CUTOFF = 10.0  # CDVAE's COV threshold on the standardized Magpie vector (132 numbers, MP-20)
N_COMP = 42
COMP_CUTOFF = MAGPIE_CUTOFF * math.sqrt(N_COMP / 132)
MAX_CN = 24
CN_TOLERANCE = 1.1


def numbered(path):
    m = re.search(r"(\d+)\.cif$", path)
    return int(m.group(1)) if m else 0


def read_dir(d, prefix):
    """The CIF files DIR/PREFIX<i>.cif in the order of i."""
    from pymatgen.core import Structure

    files = sorted(glob.glob(os.path.join(d, prefix + "*.cif")), key=numbered)
    return [Structure.from_file(f) for f in files], [os.path.basename(f)[:-4] for f in files]


def structurally_valid(s):
    """Every distance between two atoms (minimum image) and from an atom to its own images > 0.5 A."""
    if s.volume <= 0.1:
        return False
    d = np.array(s.distance_matrix, dtype=float)
    np.fill_diagonal(d, np.inf)
    return bool(d.min() > 0.5) and s.get_neighbor_list(0.5)[0].size == 0


def oxidation_states(el):
    """The states Composition.oxi_state_guesses() tries by default: the ICSD ones, else all pymatgen knows."""
    return el.icsd_oxidation_states or el.oxidation_states


def charge_balanced(reduced):
    """Whether Composition.oxi_state_guesses() (default arguments) would find a guess for `reduced`: it
    enumerates, per element of n sites, every multiset of n states and sums it, then looks for one sum per
    element adding to 0. The same existence question by dynamic programming over the reachable sums
    (exponential in the number of elements in pymatgen's enumeration; minutes for 15 elements)."""
    total = {0}
    for el, amount in reduced.get_el_amt_dict().items():
        from pymatgen.core import Element

        states = oxidation_states(Element(el))
        sums = {0}
        for _ in range(int(amount)):
            sums = {x + o for x in sums for o in states}
        total = {t + x for t in total for x in sums}
    return 0 in total


class CompositionValidity:
    """Charge neutrality as the module's docstring says; cached per reduced formula."""

    def __init__(self):
        self.cache = {}

    def __call__(self, composition):
        from pymatgen.core import Composition

        counts = {el: int(round(n)) for el, n in composition.items()}
        g = 0
        for n in counts.values():
            g = math.gcd(g, n)
        reduced = Composition({el: n // g for el, n in counts.items()})
        key = reduced.formula
        if key not in self.cache:
            elements = list(reduced.elements)
            self.cache[key] = len(elements) == 1 or all(el.is_metal for el in elements) or charge_balanced(reduced)
        return self.cache[key]


PROPERTIES = ("Z", "row", "group", "mendeleev_no", "atomic_mass", "X", "atomic_radius")
_element_cache = {}


def element_properties(el):
    if el.symbol not in _element_cache:
        values = []
        for p in PROPERTIES:
            try:
                v = float(getattr(el, p))
            except (TypeError, ValueError):
                v = float("nan")
            values.append(v)
        _element_cache[el.symbol] = np.array(values)
    return _element_cache[el.symbol]


def composition_fingerprint(composition):
    """min, max, range, mean, mean absolute deviation, mode of each property (NaN where unknown: a
    noble gas's electronegativity; filled with the training mean when standardized)."""
    els = list(composition.elements)
    frac = np.array([composition.get_atomic_fraction(e) for e in els])
    p = np.array([element_properties(e) for e in els])  # [elements, properties]
    mean = frac @ np.nan_to_num(p, nan=0.0)
    known = ~np.isnan(p)
    with np.errstate(invalid="ignore"):
        lo = np.where(known, p, np.inf).min(0)
        hi = np.where(known, p, -np.inf).max(0)
        w = (frac[:, None] * known).sum(0)
        mean = np.where(w > 0, mean / np.where(w > 0, w, 1), np.nan)
        dev = (frac[:, None] * np.abs(np.nan_to_num(p - mean, nan=0.0))).sum(0) / np.where(w > 0, w, 1)
    mode = p[int(np.argmax(frac))]
    out = np.concatenate([lo, hi, hi - lo, mean, dev, mode])
    out[~np.isfinite(out)] = np.nan
    return out


def structure_fingerprint(s):
    """Coordination-number distribution over the sites (CN 1..24)."""
    n = len(s)
    reach = 2.5 * (s.volume / n) ** (1 / 3)
    while True:
        centers, points, _, distances = s.get_neighbor_list(reach)
        keep = distances > 1e-8
        centers, distances = centers[keep], distances[keep]
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, centers, distances)
        if np.all(np.isfinite(nearest)) and np.all(CN_TOLERANCE * nearest <= reach):
            break
        reach *= 1.5
    fp = np.zeros(MAX_CN)
    for i in range(n):
        cn = int(np.sum(distances[centers == i] <= CN_TOLERANCE * nearest[i] + 1e-8))
        fp[min(max(cn, 1), MAX_CN) - 1] += 1.0 / n
    return fp


def pairwise(a, b):
    """Euclidean distances between the rows of a and of b."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0))


def coverage(sample_fp, sample_ok, ref_fp):
    """COV-R, COV-P: sample_fp and ref_fp are (structure [n, 24], composition [n, 42] standardized)."""
    ss, sc = sample_fp
    rs, rc = ref_fp
    ss, sc = ss[sample_ok], sc[sample_ok]
    if len(ss) == 0:
        return 0.0, 0.0
    d_struct = pairwise(ss, rs)  # [valid samples, references]
    d_comp = pairwise(sc, rc)
    close = (d_struct <= STRUCT_CUTOFF) & (d_comp <= COMP_CUTOFF)
    return float(close.any(0).mean()), float(close.any(1).sum() / len(sample_ok))


def fingerprints(structures, scaler):
    s = np.array([structure_fingerprint(x) for x in structures])
    c = np.array([composition_fingerprint(x.composition) for x in structures])
    mean, sd = scaler
    c = np.where(np.isnan(c), mean, c)
    return s, (c - mean) / sd


def export(run, split, elbo):
    d = os.path.join(run, "structures-" + split)
    if not glob.glob(os.path.join(d, split + "*.cif")):
        cmd = [elbo, "export", run, "--format", "cif", "--split", split]
        print("running:", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return d


def measure_run(run, args, comp_valid):
    from pymatgen.analysis.structure_matcher import FrameworkComparator, StructureMatcher

    t0 = time.time()
    matcher = StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)
    framework = StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3, comparator=FrameworkComparator())
    train, _ = read_dir(export(run, "train", args.elbo), "train")
    test, _ = read_dir(export(run, "test", args.elbo), "test")
    validation, _ = read_dir(export(run, "validation", args.elbo), "validation")
    samples, _ = read_dir(os.path.join(run, args.samples), "sample")
    recs, _ = read_dir(os.path.join(run, "reconstructions"), "reconstruction")
    if not samples or not recs:
        sys.exit(f"{run}: no sample*.cif in {args.samples}/ or no reconstruction*.cif in reconstructions/ "
                 "(examples/crystals/README.md: elbo sample RUN --n 1000, elbo reconstruct RUN --n 1000)")
    if len(recs) != len(test):
        sys.exit(f"{run}: {len(recs)} reconstructions against {len(test)} test structures: run "
                 "elbo reconstruct RUN --n 1000 so that every test structure has its reconstruction")
    r = {"run": os.path.basename(os.path.normpath(run)), "samples": len(samples), "train": len(train),
         "test": len(test)}

    # Validity of the samples (and of the training set and prototypes, for reference).
    s_struct = np.array([structurally_valid(s) for s in samples])
    s_comp = np.array([comp_valid(s.composition) for s in samples])
    r["struct_valid"] = s_struct.mean()
    r["comp_valid"] = s_comp.mean()
    r["valid"] = (s_struct & s_comp).mean()
    r["train_comp_valid"] = np.mean([comp_valid(s.composition) for s in train])
    r["test_comp_valid"] = np.mean([comp_valid(s.composition) for s in test])

    # Reconstruction of the held-out prototypes.
    matched, valid_matched, rms, count_wrong, comp_wrong, geometry_off, framework_ok = 0, 0, [], 0, 0, 0, 0
    for rec, inp in zip(recs, test):
        try:
            d = matcher.get_rms_dist(rec, inp)
        except Exception:  # noqa: BLE001 - pymatgen may fail on a degenerate reconstruction: a miss
            d = None
        if d is not None:
            matched += 1
            rms.append(d[0])
            valid_matched += structurally_valid(rec) and comp_valid(rec.composition)
            continue
        if len(rec) != len(inp):
            count_wrong += 1
        elif rec.composition != inp.composition:
            comp_wrong += 1
        else:
            geometry_off += 1
        try:
            framework_ok += framework.fit(rec, inp)
        except Exception:  # noqa: BLE001
            pass
    r.update(match=matched / len(test), match_valid=valid_matched / len(test),
             rms=float(np.mean(rms)) if rms else float("nan"), miss_count=count_wrong, miss_comp=comp_wrong,
             miss_geometry=geometry_off, miss_framework=framework_ok, misses=len(test) - matched)

    # Coverage against the training set (and the held-out prototypes).
    train_comp = np.array([composition_fingerprint(s.composition) for s in train])
    mean = np.nanmean(train_comp, 0)
    sd = np.nanstd(train_comp, 0)
    sd[~(sd > 0)] = 1.0
    scaler = (mean, sd)
    fp_train = fingerprints(train, scaler)
    fp_test = fingerprints(test, scaler)
    fp_samples = fingerprints(samples, scaler)
    ok = s_struct & s_comp
    r["cov_r"], r["cov_p"] = coverage(fp_samples, ok, fp_train)
    r["cov_r_test"], r["cov_p_test"] = coverage(fp_samples, ok, fp_test)
    # Reference: the validation structures (substitutions held out of training) taken as samples.
    v_ok = np.array([structurally_valid(s) and comp_valid(s.composition) for s in validation])
    r["validation"] = len(validation)
    r["cov_r_validation"], r["cov_p_validation"] = coverage(fingerprints(validation, scaler), v_ok, fp_train)

    r["novel"], r["new_comp"] = novelty(samples, ok, train, matcher)
    r["seconds"] = time.time() - t0
    return r


def novelty(structures, ok, train, matcher):
    """Of the valid structures (ok): the fraction no training structure of the same reduced formula
    matches, and the fraction whose reduced formula is not in the training set."""
    by_formula = {}
    for s in train:
        by_formula.setdefault(s.composition.reduced_formula, []).append(s)
    novel, new_comp, valid_n = 0, 0, 0
    for s, v in zip(structures, ok):
        if not v:
            continue
        valid_n += 1
        same = by_formula.get(s.composition.reduced_formula, [])
        new_comp += not same
        novel += not any(matcher.fit(s, t) for t in same)
    return (novel / valid_n, new_comp / valid_n) if valid_n else (float("nan"), float("nan"))


def measure_designs(run, dirs, args, comp_valid):
    """elbo design's designs (DIR/design<i>.cif) against the run's training set: validity and novelty."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)
    train, _ = read_dir(export(run, "train", args.elbo), "train")
    print("| designs | structures | structurally valid | composition valid | both | novel (of both) | new composition (of both) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for d in dirs:
        designs, _ = read_dir(d, "design")
        if not designs:
            sys.exit(f"{d}: no design*.cif (elbo design RUN ... --out DIR writes DIR/designs/)")
        struct = np.array([structurally_valid(s) for s in designs])
        comp = np.array([comp_valid(s.composition) for s in designs])
        novel, new_comp = novelty(designs, struct & comp, train, matcher)
        print(f"| {d} | {len(designs)} | {struct.sum()} | {comp.sum()} | {(struct & comp).sum()} | {pct(novel)} | "
              f"{pct(new_comp)} |")


ROWS = [
    ("prior samples", lambda r: f"{r['samples']}"),
    ("structural validity (distances > 0.5 A, volume > 0.1 A^3)", lambda r: pct(r["struct_valid"])),
    ("composition validity (charge neutral, pymatgen oxidation states)", lambda r: pct(r["comp_valid"])),
    ("both (CDVAE's 'valid')", lambda r: pct(r["valid"])),
    ("  reference: composition validity of the training set", lambda r: f"{pct(r['train_comp_valid'])} of {r['train']}"),
    ("  reference: composition validity of the held-out prototypes", lambda r: f"{pct(r['test_comp_valid'])} of {r['test']}"),
    ("reconstruction match rate (StructureMatcher stol 0.5, angle_tol 10, ltol 0.3)",
     lambda r: f"{pct(r['match'])} ({round(r['match'] * r['test'])} of {r['test']})"),
    ("  matched and valid (CDVAE's count)", lambda r: pct(r["match_valid"])),
    ("  mean RMS displacement of the matches (/ (V/N)^(1/3))", lambda r: f"{r['rms']:.4f}"),
    ("  misses: atom count wrong", lambda r: f"{r['miss_count']}"),
    ("  misses: same count, composition wrong", lambda r: f"{r['miss_comp']}"),
    ("  misses: same composition, geometry off", lambda r: f"{r['miss_geometry']}"),
    ("  misses that match with species ignored (framework)", lambda r: f"{r['miss_framework']} of {r['misses']}"),
    ("COV-R vs training set", lambda r: pct(r["cov_r"])),
    ("COV-P vs training set", lambda r: pct(r["cov_p"])),
    ("  reference: COV-R / COV-P of the validation structures taken as samples",
     lambda r: f"{pct(r['cov_r_validation'])} / {pct(r['cov_p_validation'])} ({r['validation']})"),
    ("COV-R / COV-P vs held-out prototypes", lambda r: f"{pct(r['cov_r_test'])} / {pct(r['cov_p_test'])}"),
    ("novel (valid samples no training structure matches)", lambda r: pct(r["novel"])),
    ("  valid samples whose reduced formula is not in the training set", lambda r: pct(r["new_comp"])),
]


def pct(x):
    return "nan" if x != x else f"{100 * x:.1f}%"


def check_oxi(run, samples_dir, n):
    """charge_balanced against pymatgen's own enumeration on the first n sample compositions (of <= 8 elements)."""
    from pymatgen.core import Composition

    structures, _ = read_dir(os.path.join(run, samples_dir), "sample")
    checked = 0
    for s in structures[:n]:
        reduced = Composition(s.composition.reduced_formula)
        if len(reduced.elements) > 8:
            continue
        fast, slow = charge_balanced(reduced), len(reduced.oxi_state_guesses()) > 0
        if fast != slow:
            sys.exit(f"charge_balanced({reduced.formula}) = {fast}, oxi_state_guesses: {slow}")
        checked += 1
    print(f"charge_balanced agrees with Composition.oxi_state_guesses() on {checked} compositions")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="crystal run directories")
    ap.add_argument("--elbo", default="build/elbo", help="the elbo binary that exports missing training/test structures")
    ap.add_argument("--samples", default="samples", help="directory of sample*.cif inside each run (default: samples)")
    ap.add_argument("--check-oxi", type=int, default=0,
                    help="first compare charge_balanced with Composition.oxi_state_guesses() on the first N samples' "
                         "compositions of at most 8 elements (any disagreement stops the script)")
    ap.add_argument("--designs", nargs="+", default=[],
                    help="instead: validity and novelty of elbo design's designs in these directories (design*.cif) "
                         "against the training set of the one RUN")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    comp_valid = CompositionValidity()
    if args.designs:
        if len(args.runs) != 1:
            sys.exit("--designs compares with the training set of one RUN")
        measure_designs(args.runs[0], args.designs, args, comp_valid)
        return
    if args.check_oxi:
        check_oxi(args.runs[0], args.samples, args.check_oxi)
    results = [measure_run(run, args, comp_valid) for run in args.runs]
    print(f"composition fingerprint threshold {COMP_CUTOFF:.2f} (42 standardized numbers), structure fingerprint "
          f"threshold {STRUCT_CUTOFF} (CN distribution)")
    print()
    print("| metric | " + " | ".join(r["run"] for r in results) + " |")
    print("| --- |" + " --- |" * len(results))
    for name, cell in ROWS:
        print(f"| {name} | " + " | ".join(cell(r) for r in results) + " |")
    print()
    print("seconds: " + ", ".join(f"{r['run']} {r['seconds']:.0f}" for r in results))


if __name__ == "__main__":
    main()
