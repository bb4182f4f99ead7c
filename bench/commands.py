"""What several bench/ scripts share: running a command (elbo, a peer, a twin) and reading what an
elbo run wrote."""
import json, os, shlex, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd=ROOT, echo=True):
    """The command's stdout; a failure ends the script with its exit status, command line and last
    20 lines of stderr. echo: print the command line to stderr first."""
    if echo:
        print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if p.returncode != 0:
        sys.exit(f"exit status {p.returncode}: {shlex.join(cmd)}\n" + "\n".join(p.stderr.splitlines()[-20:]))
    return p.stdout


def last_json(stdout):
    """The last line of stdout that is a JSON object, parsed ({} if none)."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def train_rate(run_dir):
    """Examples / seconds summed over the "epoch" lines of RUN/metrics.jsonl."""
    ex = sec = 0.0
    for ln in open(os.path.join(run_dir, "metrics.jsonl")):
        r = json.loads(ln)
        if r.get("type") == "epoch" and r.get("seconds"):
            ex += r["examples_per_s"] * r["seconds"]
            sec += r["seconds"]
    return ex / sec if sec else None
