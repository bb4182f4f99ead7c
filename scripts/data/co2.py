#!/usr/bin/python3
"""Mauna Loa weekly CO2 (1958-2001) as a gap-free CSV for elbo's series models.

Source: co2.csv of the statsmodels data sets (Keeling & Whorf, SIO continuous
air samples at Mauna Loa, weekly averages; public domain), read as a plain
file from Debian's python3-statsmodels package -- statsmodels itself need not
be importable. Without installing the package:

    cd /tmp && apt-get download python3-statsmodels && dpkg -x python3-statsmodels_*.deb /tmp/statsmodels-deb

The raw file has 2284 consecutive weeks (Saturdays 1958-03-29 .. 2001-12-29,
every step exactly 7 days), 59 of them without a value. Each gap is filled by
linear interpolation in time between the nearest observed weeks before and
after it (no gap is at either end); the script prints how many weeks it filled.

Output: OUT/co2.csv with header "time,co2": time is a decimal year,
year + (day_of_year - 1) / days_in_year (1958-03-29 -> 1958.238356), co2 in
ppmv (observed values as in the source, filled ones to 4 decimals).

Usage: scripts/data/co2.py [--out data/co2] [--statsmodels-root DIR]
(DIR defaults to /usr/lib/python3/dist-packages, then
/tmp/statsmodels-deb/usr/lib/python3/dist-packages). Deterministic.
"""
import argparse, datetime, os, sys

ROOTS = ["/usr/lib/python3/dist-packages", "/tmp/statsmodels-deb/usr/lib/python3/dist-packages"]


def find(root, rel):
    for r in ([root] if root else ROOTS):
        p = os.path.join(r, "statsmodels", "datasets", rel)
        if os.path.exists(p):
            return p
    sys.exit(f"cannot find statsmodels/datasets/{rel} under {root or ROOTS}; see this script's docstring")


def decimal_year(d):
    days = (datetime.date(d.year + 1, 1, 1) - datetime.date(d.year, 1, 1)).days
    return d.year + (d.timetuple().tm_yday - 1) / days


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/co2")
    ap.add_argument("--statsmodels-root", default=None)
    a = ap.parse_args()
    src = find(a.statsmodels_root, "co2/co2.csv")
    lines = open(src).read().split()
    assert lines[0] == "date,co2", lines[0]
    t, y = [], []
    for ln in lines[1:]:
        d, v = ln.split(",")
        t.append(decimal_year(datetime.datetime.strptime(d, "%Y%m%d").date()))
        y.append(float(v) if v not in ("", "NA", "nan") else None)
    obs = [i for i, v in enumerate(y) if v is not None]
    assert obs[0] == 0 and obs[-1] == len(y) - 1, "a gap at an end cannot be interpolated"
    out, filled = [], 0
    for k in range(len(obs) - 1):
        i, j = obs[k], obs[k + 1]
        out.append("%.6f,%g" % (t[i], y[i]))
        for m in range(i + 1, j):  # a gap: linear in time between weeks i and j
            w = (t[m] - t[i]) / (t[j] - t[i])
            out.append("%.6f,%.10g" % (t[m], round((1 - w) * y[i] + w * y[j], 4)))
            filled += 1
    out.append("%.6f,%g" % (t[-1], y[-1]))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "co2.csv"), "w") as f:
        f.write("time,co2\n" + "\n".join(out) + "\n")
    print(f"co2: {src} -> {a.out}/co2.csv: {len(out)} weekly rows, {t[0]:.4f} .. {t[-1]:.4f}, "
          f"{filled} missing weeks filled by linear interpolation")


if __name__ == "__main__":
    main()
