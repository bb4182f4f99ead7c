#!/usr/bin/env bash
# The crystal data of the crystals issue, from Debian packages without installing them (or Python):
#   data/crystals/aflow_prototypes.json  288 AFLOW prototype structures (pymatgen Structure dicts,
#                                        Mehl et al. 2017; Debian python3-pymatgen, pymatgen/analysis/)
#   data/crystals/dcdft.json             71 elemental crystals of the Delta-DFT benchmark (ASE database
#                                        JSON; Debian python3-ase, ase/collections/)
# The training set is made from the prototypes by element substitution in the library
# (elbo/data/crystal_substitution.h): plausible structures, not relaxed by DFT.
# apt-get download fetches each .deb, dpkg -x unpacks it into a temporary directory.
# usage: scripts/data/crystals.sh [OUT=data/crystals]
set -euo pipefail
out=${1:-data/crystals}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package, path of the file inside it (under dist-packages/)
  local package=$1 inside=$2 name
  name=$(basename "$inside")
  [ -s "$out/$name" ] && return 0
  (cd "$tmp" && apt-get download "$package" > /dev/null 2>&1) || {
    apt-get update -qq > /dev/null && (cd "$tmp" && apt-get download "$package" > /dev/null); }
  dpkg -x "$tmp"/"$package"_*.deb "$tmp/$package"
  local found
  found=$(find "$tmp/$package" -path "*/$inside" | head -1)
  [ -n "$found" ] || { echo "crystals.sh: $inside not found in $package" >&2; exit 1; }
  cp "$found" "$out/$name"
  echo "crystals.sh: $out/$name from $package"
}
fetch python3-pymatgen pymatgen/analysis/aflow_prototypes.json
fetch python3-ase ase/collections/dcdft.json
