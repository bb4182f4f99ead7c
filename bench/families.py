#!/usr/bin/python3
"""Speed per model family: each example's model trained by elbo against its PyTorch eager twin
(bench/twins/*.py, the same architecture, likelihood, batch size, Adam learning rate and data) and
against the model's floor on this machine (its Linear / conv layers' forward + backward alone, timed by
the twin in the same run: bench/twins/common.py), in one markdown table.

For each round and family: `elbo train CONFIG --out WORKDIR/FAMILY --set train.epochs=E --set
train.log_every=10 --set ...` and the twin with the same number of training examples, epochs and seed
(the round's number); elbo first in odd rounds, the twin first in even ones.

Training examples/s of a run: the median over its windows of 10 steps (elbo: the "step" lines of
RUN/metrics.jsonl; the twin: the same windows timed by common.train), batch preparation included,
validation, checkpoints and evaluation excluded. The whole-epoch rate (examples / seconds of the
"epoch" lines, bench/commands.py's train_rate) is printed to stderr beside it: other sessions'
builds share this 2-core VM and a burst of theirs can halve one short run's whole-epoch rate, which
the median window mostly escapes. The table holds medians over the rounds; its ratios are medians
over the rounds of each round's ratio (elbo against the twin run next to it, and against the floor
the twin measured), every round's ratio printed too. The runs use a fraction of each example's data
(FAMILIES below) to keep a default run near 10 minutes; the evaluation is cut to K = 10 particles on
500 test examples (its test ELBO is a check that the twin is the same model, not a result).

    /usr/bin/python3 bench/families.py [--families conv,default,...] [--rounds 5] [--epochs E]
        [--scale 1.0] [--elbo build/elbo] [--workdir runs/bench-families] [--json FILE]

--epochs overrides every family's epochs; --scale multiplies every family's training examples.
Families: conv, default, gaussian, hierarchical, dna, lattice, multimodal, m2.
"""
import argparse, json, os, shutil, statistics, sys, time

from commands import ROOT, last_json, run, train_rate
TWINS = os.path.join(ROOT, "bench", "twins")
PY = "/usr/bin/python3"

# n: training examples (elbo: the data's first n + validation, split at random; the twin: n of them);
# sets: extra --set of elbo (sizes of the data) beside train.epochs and train.seed.
FAMILIES = {
    "conv": dict(config="examples/conv-fashion-mnist/config.toml", twin="conv_vae.py", n=8000, validation=1000,
                 epochs=1, target_twin=2.0, target_floor=0.6),
    "default": dict(config="examples/default/config.toml", twin="mlp_vae.py", n=55000, validation=5000, epochs=1,
                    target_twin=1.5, target_floor=0.85),
    "gaussian": dict(config="examples/wine-gaussian/config.toml", twin="gaussian_mlp.py", n=None, epochs=100,
                     target_twin=1.5, target_floor=0.6),
    "hierarchical": dict(config="examples/hierarchical/config.toml", twin="hierarchical.py", n=20000,
                         validation=1000, epochs=1, target_twin=1.5, target_floor=0.6),
    "dna": dict(config="examples/dna/dna.toml", twin="dna.py", n=8000, validation=2000, epochs=1,
                sets=["data.max_test=500"], target_twin=1.5, target_floor=0.6),
    "lattice": dict(config="examples/lattice-rg/gff-conv.toml", twin="lattice_conv.py", n=8000, validation=1000,
                    epochs=1, size_key="data.lattice_train", sets=["data.lattice_test=500"],
                    target_twin=1.5, target_floor=0.6),
    "multimodal": dict(config="examples/multimodal/fashion.toml", twin="multimodal.py", n=8000, validation=1000,
                       epochs=1, rows_per_example=4, target_twin=1.5, target_floor=0.6),
    "m2": dict(config="examples/m2-semi-supervised/config.toml", twin="m2.py", n=6000, validation=1000, epochs=1,
               target_twin=1.5, target_floor=0.6),
}
EVAL = ["eval.k=10", "eval.n=500"]
WINDOW = 10  # steps per timed window (elbo: train.log_every; the twins: common.train)


def window_rates(run_dir):
    """The examples/s of RUN/metrics.jsonl's "step" lines (one per train.log_every steps)."""
    return [r["examples_per_s"] for r in map(json.loads, open(os.path.join(run_dir, "metrics.jsonl")))
            if r.get("type") == "step" and r.get("examples_per_s")]


def run_elbo(a, name, f, epochs, n, seed):
    rd = os.path.join(a.workdir, name)
    shutil.rmtree(rd, ignore_errors=True)
    sets = [f"train.epochs={epochs}", f"train.seed={seed}", f"train.log_every={WINDOW}"] + EVAL + f.get("sets", [])
    if n is not None:
        sets += [f"{f.get('size_key', 'data.max_train')}={n + f['validation']}", f"data.validation={f['validation']}"]
    run([a.elbo, "train", os.path.join(ROOT, f["config"]), "--out", rd] + sum((["--set", s] for s in sets), []))
    ev = json.load(open(os.path.join(rd, "evaluation.json")))
    step = next((json.loads(ln).get("train_step") for ln in open(os.path.join(rd, "metrics.jsonl"))
                 if '"train_step"' in ln), None)
    # objective.subsets: elbo's metrics count each example's 1 + modalities bounds as rows.
    rows = f.get("rows_per_example", 1)
    return {"epochs": train_rate(rd) / rows, "train": statistics.median(window_rates(rd)) / rows, "test_elbo": ev.get("elbo"), "step": step}


def run_twin(f, epochs, n, seed):
    cmd = [PY, os.path.join(TWINS, f["twin"]), "--epochs", str(epochs), "--seed", str(seed), "--eval-n", "500"]
    if n is not None:
        cmd += ["--n", str(n)]
    j = last_json(run(cmd, cwd=TWINS))
    return {"epochs": j["train_examples_per_s"], "train": j["train_examples_per_s_window_median"], "floor": j["floor_examples_per_s"], "test_elbo": j["test_elbo"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, help="override every family's epochs")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every family's training examples")
    ap.add_argument("--elbo", default="build/elbo")
    ap.add_argument("--workdir", default="runs/bench-families")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.elbo = os.path.abspath(a.elbo) if os.path.exists(a.elbo) else os.path.join(ROOT, a.elbo)
    a.workdir = os.path.abspath(a.workdir)
    names = [s for s in a.families.split(",") if s]
    for s in names:
        if s not in FAMILIES:
            sys.exit(f"families: unknown family '{s}' (one of {', '.join(FAMILIES)})")
    os.makedirs(a.workdir, exist_ok=True)
    results = {s: {"elbo": [], "twin": []} for s in names}
    t0 = time.time()
    for r in range(1, a.rounds + 1):
        for s in names:
            f = FAMILIES[s]
            epochs = a.epochs or f["epochs"]
            n = None if f["n"] is None else max(f["validation"] + 1, int(f["n"] * a.scale))
            order = ["elbo", "twin"] if r % 2 else ["twin", "elbo"]
            for who in order:
                res = run_elbo(a, s, f, epochs, n, r) if who == "elbo" else run_twin(f, epochs, n, r)
                results[s][who].append(res)
            e, t = results[s]["elbo"][-1], results[s]["twin"][-1]
            print(f"round {r} {s}: elbo {e['train']:.0f} ex/s, twin {t['train']:.0f} ex/s "
                  f"({e['train'] / t['train']:.2f}x), floor {t['floor']:.0f} ex/s "
                  f"(elbo/floor {e['train'] / t['floor']:.2f}); test ELBO elbo {e['test_elbo']:.2f}, "
                  f"twin {t['test_elbo']:.2f}; whole epochs: elbo {e['epochs']:.0f}, twin {t['epochs']:.0f} ex/s"
                  f"  [{time.time() - t0:.0f} s]", file=sys.stderr, flush=True)
    med = lambda xs: statistics.median(xs)
    rows = {}
    print(f"\n{a.rounds} round(s), elbo and twin alternated; ex/s: medians over the rounds of each run's median "
          f"{WINDOW}-step window; ratios: medians over the rounds of each round's ratio\n")
    print("| family | elbo ex/s | twin ex/s | elbo/twin | floor ex/s | elbo/floor | test ELBO elbo / twin | "
          "target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in names:
        f, R = FAMILIES[s], results[s]
        e, t = med([x["train"] for x in R["elbo"]]), med([x["train"] for x in R["twin"]])
        fl = med([x["floor"] for x in R["twin"]])
        # Ratios: the median over the rounds of each round's ratio (elbo against the twin run beside it).
        r_twin = med([x["train"] / y["train"] for x, y in zip(R["elbo"], R["twin"])])
        r_floor = med([x["train"] / y["floor"] for x, y in zip(R["elbo"], R["twin"])])
        te, tt = med([x["test_elbo"] for x in R["elbo"]]), med([x["test_elbo"] for x in R["twin"]])
        ok_twin, ok_floor = r_twin >= f["target_twin"], r_floor >= f["target_floor"]
        met = "yes" if ok_twin and ok_floor else "no (" + ", ".join(
            w for w, ok in (("twin", ok_twin), ("floor", ok_floor)) if not ok) + ")"
        print(f"| {s} | {e:.0f} | {t:.0f} | {r_twin:.2f}x | {fl:.0f} | {r_floor:.2f} | {te:.1f} / {tt:.1f} | "
              f">= {f['target_twin']}x twin, >= {f['target_floor']} floor | {met} |")
        rows[s] = {"elbo": e, "twin": t, "floor": fl, "elbo_over_twin": r_twin, "elbo_over_floor": r_floor,
                   "rounds": R, "train_step": R["elbo"][0]["step"]}
    for s in names:
        print(f"\n{s}: elbo's step: {rows[s]['train_step']}; per round elbo/twin "
              + " / ".join(f"{x['train'] / y['train']:.2f}x" for x, y in zip(results[s]["elbo"], results[s]["twin"])),
              end="")
    print(f"\n\nwall {time.time() - t0:.0f} s")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"rounds": a.rounds, "families": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
