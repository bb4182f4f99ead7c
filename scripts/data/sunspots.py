#!/usr/bin/python3
"""Yearly sunspot numbers (1700-2008) as a CSV for elbo's series models.

Source: sunspots.csv of the statsmodels data sets (yearly mean sunspot
activity, SIDC/NOAA; public domain), read as a plain file from Debian's
python3-statsmodels package -- statsmodels itself need not be importable.
Without installing the package:

    cd /tmp && apt-get download python3-statsmodels && dpkg -x python3-statsmodels_*.deb /tmp/statsmodels-deb

The source has no gaps (checked). Output: OUT/sunspots.csv with header
"time,sunspots": time is the year (an integer), sunspots the yearly value.

Usage: scripts/data/sunspots.py [--out data/sunspots] [--statsmodels-root DIR]
(DIR defaults to /usr/lib/python3/dist-packages, then
/tmp/statsmodels-deb/usr/lib/python3/dist-packages). Deterministic.
"""
import argparse, os, sys

ROOTS = ["/usr/lib/python3/dist-packages", "/tmp/statsmodels-deb/usr/lib/python3/dist-packages"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/sunspots")
    ap.add_argument("--statsmodels-root", default=None)
    a = ap.parse_args()
    cands = [os.path.join(r, "statsmodels/datasets/sunspots/sunspots.csv")
             for r in ([a.statsmodels_root] if a.statsmodels_root else ROOTS)]
    src = next((p for p in cands if os.path.exists(p)), None) or sys.exit(f"cannot find any of {cands}")
    lines = open(src).read().split()
    assert lines[0].replace('"', "") == "YEAR,SUNACTIVITY", lines[0]
    rows = [ln.split(",") for ln in lines[1:]]
    years = [int(float(y)) for y, _ in rows]
    vals = [float(v) for _, v in rows]  # raises on a missing value
    assert all(b - a == 1 for a, b in zip(years, years[1:])), "years not consecutive"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "sunspots.csv"), "w") as f:
        f.write("time,sunspots\n" + "".join("%d,%g\n" % r for r in zip(years, vals)))
    print(f"sunspots: {src} -> {a.out}/sunspots.csv: {len(years)} yearly rows, {years[0]} .. {years[-1]}, "
          f"values {min(vals):g} .. {max(vals):g}")


if __name__ == "__main__":
    main()
