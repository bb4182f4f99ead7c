#!/usr/bin/env bash
# The README's "From Python" example, exactly as written there, run with Debian's Python and the
# module just built. usage: readme_example_test.sh README PYTHON MODULE_DIR
set -u
README="$1" PYTHON="$2" MODULE_DIR="$3"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The first ```python block after the "## From Python" heading.
awk '/^## From Python/ { section = 1 } section && /^```python/ { inside = 1; next } inside && /^```/ { exit } inside' \
  "$README" > "$WORK/example.py"
[ -s "$WORK/example.py" ] || { echo "FAIL: no \`\`\`python block under '## From Python' in $README"; exit 1; }
cd "$WORK"
if PYTHONPATH="$MODULE_DIR" "$PYTHON" example.py > out 2> err; then
  cat out; echo "ok   README example ($(wc -l < example.py) lines)"
else
  echo "FAIL README example (exit $?):"; cat example.py out err; exit 1
fi
