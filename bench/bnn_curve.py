#!/usr/bin/python3
"""The Blundell et al. 2015 regression curve: elbo's BNN trained on x in [0, 0.5],
its predictive distribution on x in [-0.5, 1.2], drawn as an SVG (data, median,
50% and 90% bands) and summarized by the mean width of the 90% band inside and
outside the data's range.

    /usr/bin/python3 scripts/data/blundell_curve.py
    bench/bnn_curve.py [--elbo build/elbo] [--config examples/bayesian-nn/curve.toml] [--out runs/bnn-curve]
"""
import argparse, csv, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def svg(grid, pred, train, path, w=640, h=360):
    xs = grid["x"]
    lo_y = min(pred["q05"] + train["y"]); hi_y = max(pred["q95"] + train["y"])
    px = lambda x: 40 + (x - xs[0]) / (xs[-1] - xs[0]) * (w - 60)
    py = lambda y: h - 30 - (y - lo_y) / (hi_y - lo_y) * (h - 50)
    band = lambda lo, hi, c: ('<polygon fill="%s" fill-opacity="0.3" points="%s"/>' % (
        c, " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in list(zip(xs, pred[lo])) + list(zip(xs, pred[hi]))[::-1])))
    line = '<polyline fill="none" stroke="#0072B2" stroke-width="2" points="%s"/>' % " ".join(
        "%.1f,%.1f" % (px(x), py(y)) for x, y in zip(xs, pred["q50"]))
    dots = "".join('<circle cx="%.1f" cy="%.1f" r="2" fill="#D55E00"/>' % (px(x), py(y)) for x, y in zip(train["x"], train["y"]))
    axis = '<line x1="40" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (h - 30, w - 20, h - 30)
    ticks = "".join('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%g</text>' % (px(t), h - 12, t)
                    for t in (-0.5, 0, 0.5, 1.0))
    title = '<text x="%d" y="16" font-size="13" text-anchor="middle">BNN predictive: median, 50%% and 90%% bands; training data (dots)</text>' % (w // 2)
    with open(path, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (w, h)
                + '<rect width="100%" height="100%" fill="white"/>' + band("q05", "q95", "#56B4E9")
                + band("q25", "q75", "#0072B2") + line + dots + axis + ticks + title + "</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elbo", default="build/elbo"); ap.add_argument("--config", default="examples/bayesian-nn/curve.toml")
    ap.add_argument("--out", default="runs/bnn-curve"); ap.add_argument("--draws", type=int, default=200)
    a = ap.parse_args()
    run = lambda *cmd: subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    run(a.elbo, "train", a.config, "--out", a.out)
    test = run(a.elbo, "predict", a.out, "--draws", str(a.draws), "--out", os.path.join(a.out, "test.csv"))
    run(a.elbo, "predict", a.out, "--data", os.path.join(ROOT, "data/blundell/grid.csv"), "--draws", str(a.draws),
        "--out", os.path.join(a.out, "grid.csv"))
    grid, pred = read(os.path.join(ROOT, "data/blundell/grid.csv")), read(os.path.join(ROOT, a.out, "grid.csv"))
    train = read(os.path.join(ROOT, "data/blundell/train.csv"))
    svg(grid, pred, train, os.path.join(ROOT, a.out, "curve.svg"))
    width = [hi - lo for lo, hi in zip(pred["q05"], pred["q95"])]
    inside = [wd for x, wd in zip(grid["x"], width) if 0 <= x <= 0.5]
    beyond = [wd for x, wd in zip(grid["x"], width) if x > 0.8 or x < -0.3]
    print("test set (x in [0, 0.5]):", test.strip().splitlines()[-1])
    print("mean width of the 90%% band: %.3f inside the data (x in [0, 0.5]), %.3f far outside (x < -0.3 or x > 0.8)"
          % (sum(inside) / len(inside), sum(beyond) / len(beyond)))
    print("picture:", os.path.join(a.out, "curve.svg"))


if __name__ == "__main__":
    main()
