#!/usr/bin/python3
"""Prints a shared library's dependency closure in the order that keeps the dynamic
loader's symbol lookups short, as a CMake list (paths separated by ';').

Why: every symbol relocation walks the process's global scope (the executable, then
the libraries in breadth-first load order) until a library defines the symbol.
Debian's LibTorch pulls in ~290 libraries (OpenCV -> GDAL -> ...), and the deep ones
mostly look up their own symbols, so an `elbo` start spends ~0.3 s in the loader's
do_lookup_x (perf) walking ~100 libraries per lookup. Linked in the order printed here
(after the executable's own libraries), a lookup walks ~43 on average (library visits
summed over all lookups: 14.1M before, 6.0M after; 2.8M without the rule below).

The order: the C/C++ runtime first (libstdc++, libm, libgcc_s, libc, as the compiler
driver links them), then the rest by how many lookups land in each (counted with
LD_DEBUG=bindings on `ldd -r`), most first. A library never moves ahead of an earlier
one (in the default order) that defines one of its symbols, unless both definitions
are weak: every symbol binds where it did before, except those that only weak copies
define (C++ inline functions and templates, the same code in every copy).

    link_order.py /usr/lib/x86_64-linux-gnu/libtorch_cpu.so
Prints nothing (and exits 0) when a tool it needs (ldd, readelf) is missing.
"""
import collections, concurrent.futures, glob, os, re, shutil, subprocess, sys, tempfile

RUNTIME = ("libstdc++.so", "libm.so", "libgcc_s.so", "libc.so")


def closure(lib):
    """The dependency closure of lib, in the loader's breadth-first order (real paths)."""
    out = subprocess.run(["ldd", lib], capture_output=True, text=True, check=True).stdout
    paths = re.findall(r"=> (/\S+)", out)
    return [os.path.realpath(p) for p in paths if "ld-linux" not in p]


def lookup_counts(lib):
    """How many symbol lookups bind to each library when lib is loaded and relocated."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=os.path.join(tmp, "b"))
        subprocess.run(["ldd", "-r", lib], env=env, capture_output=True)
        counts = collections.Counter()
        for name in glob.glob(os.path.join(tmp, "b.*")):
            with open(name, errors="replace") as f:
                for m in re.finditer(r"binding file \S+ \[\d+\] to (\S+) \[\d+\]", f.read()):
                    counts[os.path.realpath(m.group(1))] += 1
    return counts


def defined_symbols(lib):
    """The dynamic symbols lib defines: name -> whether its binding is global (not weak or unique)."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", lib], capture_output=True, text=True).stdout
    names = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[4] in ("GLOBAL", "WEAK", "UNIQUE") and f[6] != "UND":
            name = f[7].split("@")[0]
            names[name] = names.get(name, False) or f[4] == "GLOBAL"
    return names


def main():
    if len(sys.argv) != 2 or not shutil.which("ldd") or not shutil.which("readelf"):
        return
    default = closure(sys.argv[1])
    counts = lookup_counts(sys.argv[1])
    runtime = [p for r in RUNTIME for p in default if os.path.basename(p).startswith(r + ".")]
    rest = [p for p in default if p not in runtime]
    # before[p]: the libraries that must stay ahead of p: the first to define one of p's
    # symbols, where either definition is global.
    before = {p: set() for p in rest}
    first = {}  # symbol -> (first library defining it, whether that definition is global)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        defined = list(pool.map(defined_symbols, rest))
    for p, symbols in zip(rest, defined):
        for name, is_global in symbols.items():
            if name not in first:
                first[name] = (p, is_global)
            elif is_global or first[name][1]:
                before[p].add(first[name][0])
    placed, order = set(), []
    rank = {p: i for i, p in enumerate(rest)}
    while len(order) < len(rest):
        ready = [p for p in rest if p not in placed and before[p] <= placed]
        nxt = min(ready, key=lambda p: (-counts[p], rank[p]))
        placed.add(nxt)
        order.append(nxt)
    print(";".join(runtime + order), end="")


if __name__ == "__main__":
    main()
