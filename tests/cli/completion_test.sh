#!/usr/bin/env bash
# The bash completion and the man page the build made (cmake/cli_docs.cmake): completions of
# subcommands, options, --set keys and their values, as bash asks for them; every config key and
# subcommand is there; the man page (when help2man was found) documents every subcommand.
# Usage: completion_test.sh ELBO_BINARY BUILD_DIR [HELP2MAN]
set -u
ELBO="$1" BUILD="$2" HELP2MAN="${3:-}"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
SCRIPT="$BUILD/elbo.bash"
[ -s "$SCRIPT" ] || { echo "FAIL: no $SCRIPT (the elbo_docs target makes it)"; exit 1; }
cmp -s "$SCRIPT" <("$ELBO" completion) || fail "$SCRIPT differs from 'elbo completion' (stale build?)"

# complete LINE: the completions bash would offer with the cursor at the end of LINE, sorted, space-separated.
complete_line() {
  bash -c 'source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; _elbo; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
    _ "$SCRIPT" "$1" | sed 's/ $//'
}
expect() {  # expect LINE COMPLETIONS
  local got; got=$(complete_line "$1")
  if [ "$got" = "$2" ]; then echo "ok   '$1' -> '$got'"; else fail "'$1': expected '$2', got '$got'"; fi
}
expect "elbo tr" "train"
expect "elbo rep" "report"
expect "elbo re" "reconstruct refine report"
expect "elbo train --se" "--set"
expect "elbo --v" "--version"
expect "elbo report --" "--help --help-all --k --n"
expect "elbo train --set train.ep" "train.epochs= train.eps="
expect "elbo train --set model.likelihood=ga" "gaussian"
expect "elbo train --set train.fused=" "false true"
expect "elbo sweep --key objective.be" "objective.beta"
expect "elbo train --out runs/x --set data.modalities[0].na" "data.modalities[0].name="

# Every subcommand of --help and every config key is offered.
subcommands=$("$ELBO" --help | awk '/^Subcommands:/ { on = 1; next } on && NF { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$subcommands" ] && [ "$(complete_line "elbo ")" = "$subcommands" ] \
  || fail "subcommands: completion '$(complete_line "elbo ")' vs --help '$subcommands'"
keys=$("$ELBO" config --keys | sed 's/\[\]/[0]/' | sed 's/$/=/' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$(echo "$keys" | wc -w)" -gt 100 ] && [ "$(complete_line "elbo train --set ")" = "$keys" ] \
  || fail "config keys: completion differs from elbo config --keys"

if [ -n "$HELP2MAN" ]; then
  PAGE="$BUILD/elbo.1"
  if [ ! -s "$PAGE" ]; then fail "no man page $PAGE although help2man ($HELP2MAN) was found"; else
    grep -q '^\.TH ELBO "1"' "$PAGE" || fail "$PAGE: no .TH header"
    for sub in $subcommands; do grep -q "^$sub\$" "$PAGE" || fail "$PAGE: no subcommand $sub"; done
    grep -q -- '\\-\\-gaps' "$PAGE" && grep -q -- '\\-\\-set' "$PAGE" || fail "$PAGE: subcommand options missing"
    echo "ok   man page $PAGE"
  fi
else
  echo "note: help2man was not found at configure time: no man page to check"
fi
echo "completion: $failures failure(s)"
[ "$failures" -eq 0 ]
