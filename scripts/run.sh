#!/usr/bin/env bash
# Quick start, command 1: install, build, and train the default model
# (MLP VAE on Fashion-MNIST) into runs/default, with its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/elbo train "$@"
