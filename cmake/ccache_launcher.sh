#!/bin/sh
# Compiler launcher: runs `ccache COMPILER ARGS...` and, when the output is a precompiled header
# (-o X.gch for GCC, X.pch for Clang), writes its checksum to X.gch.sum. With pch_external_checksum
# (CCACHE_PCH_EXTSUM=1) ccache hashes that file instead of the 440 MB header for every source that
# includes it, which made each cache hit cost ~1.3 s.
out=""
prev=""
for arg in "$@"; do
  [ "$prev" = "-o" ] && out="$arg"
  prev="$arg"
done
case "$out" in
  *.gch|*.pch)
    rm -f "$out.sum"  # never a stale checksum beside a header that failed to build
    "$@" || exit $?
    md5sum < "$out" > "$out.sum.tmp" && mv -f "$out.sum.tmp" "$out.sum" ;;
  *) exec "$@" ;;
esac
