#!/usr/bin/env bash
# What the browser test of report.html needs (tests/browser/report_test.sh): Debian's chromium and
# Node.js + npm (apt, as root or through sudo, only when missing), and puppeteer-core + axe-core from
# this folder's package-lock.json, installed into BUILD/browser (never into the source tree;
# puppeteer's own browser download is off). Usage: install.sh BUILD_DIR. Incremental: with the
# packages there and the lock file unchanged it does nothing.
set -euo pipefail
BUILD="${1:?usage: install.sh BUILD_DIR}"
HERE="$(cd "$(dirname "$0")" && pwd)"
missing=()
command -v chromium > /dev/null || missing+=(chromium)
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)   # a NodeSource nodejs brings its own npm
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser test: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
DEST="$BUILD/browser"
mkdir -p "$DEST"
# BUILD/browser/installed.lock, a copy of the lock file written after npm ci succeeded, marks a
# complete install (report_test.sh compares it with this folder's).
if ! cmp -s "$HERE/package-lock.json" "$DEST/installed.lock"; then
  rm -f "$DEST/installed.lock"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
  echo "browser test: npm ci in $DEST"
  (cd "$DEST" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error > npm.log 2>&1) \
    || { cat "$DEST/npm.log"; exit 1; }
  cp "$HERE/package-lock.json" "$DEST/installed.lock"
fi
