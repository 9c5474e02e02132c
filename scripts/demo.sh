#!/usr/bin/env bash
# The main job of `make run`, on an embedded default with generated sample data.
set -euo pipefail
CAIRN=${1:-.build/release/cairn}
"$CAIRN" --version
