#!/usr/bin/env bash
# cmake --install the built library, then configure, build and run a
# downstream project that uses find_package(elbo), and compile the README example.
set -euo pipefail
BUILD="$1"
SOURCE="$(cd "$(dirname "$0")" && pwd)/consumer"
WORK="$BUILD/install-test"   # a fixed path keeps ccache effective across runs
rm -rf "$WORK/prefix" "$WORK/build"
mkdir -p "$WORK"
# The C++ example shown in the README, verbatim.
sed -n '/^```cpp$/,/^```$/p' "$SOURCE/../../../README.md" | sed '1d;$d' > "$WORK/readme_example.cpp"
[ -s "$WORK/readme_example.cpp" ] || { echo "no C++ example found in README.md"; exit 1; }
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK.log" 2>&1 || { cat "$WORK.log"; exit 1; }
# The command-line tool's bash completion and man page are installed with it (when the build made them).
if [ -f "$BUILD/elbo.bash" ] && [ ! -s "$WORK/prefix/share/bash-completion/completions/elbo" ]; then
  echo "FAIL: cmake --install did not install the bash completion"; exit 1; fi
if [ -f "$BUILD/elbo.1" ] && [ ! -s "$WORK/prefix/share/man/man1/elbo.1" ]; then
  echo "FAIL: cmake --install did not install the man page"; exit 1; fi
launcher=""; command -v ccache > /dev/null && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S "$SOURCE" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DREADME_EXAMPLE="$WORK/readme_example.cpp" $launcher >> "$WORK.log" 2>&1 \
  || { cat "$WORK.log"; exit 1; }
cmake --build "$WORK/build" >> "$WORK.log" 2>&1 || { cat "$WORK.log"; exit 1; }
"$WORK/build/consumer"
