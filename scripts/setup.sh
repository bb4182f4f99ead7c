#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root), checks OpenBLAS, and builds
# elbo into build/: the targets named as arguments (scripts/run.sh: only the
# command-line tool and its library), or everything (scripts/test.sh). Incremental: a second run installs nothing and rebuilds
# only what changed (ccache keeps object files outside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make ccache git libtorch-dev libgloo-dev libopenblas0-pthread libtomlplusplus-dev libcli11-dev libstb-dev nlohmann-json3-dev
          zlib1g-dev libdeflate-dev libgtest-dev libgmock-dev libbenchmark-dev dataset-fashion-mnist python3-sklearn jq help2man
          ${ELBO_EXTRA_PACKAGES:-})  # e.g. "clang libclang-rt-14-dev" for scripts/ci_extra.sh
# help2man: the man page made from `elbo --help-all` (optional for the build; installed with the CLI).
# libdeflate-dev: gzip data sets decompressed about 2.5x as fast as with zlib (src/data/idx.cpp).
# libgloo-dev: the Gloo headers that LibTorch's c10d ProcessGroupGloo.hpp includes (data-parallel
# training, src/train/distributed.cpp); libtorch-dev does not depend on it.
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

# The Python module (README "From Python"): optional; without these the build skips it and the rest works.
PYTHON_PACKAGES=(pybind11-dev python3-dev python3-torch)
missing=()
for p in "${PYTHON_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (for import elbo)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; } ||
    echo "setup: warning: could not install ${missing[*]}; building without the Python module" >&2
fi

# LibTorch links libblas.so.3; Debian's reference BLAS there makes training ~14x slower.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: error: libblas.so.3 resolves to '$blas', not OpenBLAS." >&2
     echo "       Fix: update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" >&2
     exit 1 ;;
esac

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"   # outside the clone: rebuilds of a fresh clone hit it
ccache --max-size=5G > /dev/null 2>&1 || true
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${ELBO_CMAKE_ARGS:-} > build.log 2>&1 || { cat build.log; exit 1; }
targets=(); for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "setup: built ${*:-everything} in build/ (log: build.log)"
