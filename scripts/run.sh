#!/usr/bin/env bash
# Quick start, command 1: install, build, and train the default model
# (MLP VAE on Fashion-MNIST) into runs/default, with its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh elbo_cli   # the test suite is built by scripts/test.sh
# A child process, not exec: elbo's seconds_to_first_step counts from its own start, not the build's.
build/elbo train "$@"
