#!/usr/bin/env bash
# The DNA data of examples/dna, from Debian packages without installing them (or R):
#   data/dna/dm3_upstream2000.fa.gz  26,454 Drosophila melanogaster upstream regions of 2,000 bases
#                                    (UCSC dm3; Debian package r-bioc-biostrings, extdata/)
#   data/dna/lambda_virus.fa.gz      the 48,502-base genome of phage lambda (Debian package bowtie2-examples)
# apt-get download fetches each .deb, dpkg -x unpacks it into a temporary directory.
# usage: scripts/data/dna.sh [OUT=data/dna]
set -euo pipefail
out=${1:-data/dna}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package, file name inside it
  local package=$1 name=$2
  [ -s "$out/$name" ] && return 0
  (cd "$tmp" && apt-get download "$package" > /dev/null 2>&1) || {
    apt-get update -qq > /dev/null && (cd "$tmp" && apt-get download "$package" > /dev/null); }
  dpkg -x "$tmp"/"$package"_*.deb "$tmp/$package"
  local found
  found=$(find "$tmp/$package" -name "$name" -o -name "${name%.gz}" | head -1)
  [ -n "$found" ] || { echo "dna.sh: $name not found in $package" >&2; exit 1; }
  case "$found" in
    *.gz) cp "$found" "$out/$name" ;;
    *) gzip -c "$found" > "$out/$name" ;;
  esac
  echo "dna.sh: $out/$name from $package"
}
fetch r-bioc-biostrings dm3_upstream2000.fa.gz
fetch bowtie2-examples lambda_virus.fa.gz
