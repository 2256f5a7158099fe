#!/usr/bin/env bash
# Set up llmspell in ./.venv from nothing but Python 3.11 and pip.
#   bash scripts/setup.sh          the library, the CLI and the embedded local model
#   bash scripts/setup.sh --dev    the same plus the test tools
# The first run builds llama-cpp-python from source (about 6 minutes on 2 cores);
# later runs take it from pip's cache and finish in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="local"
[ "${1:-}" = "--dev" ] && extras="local,dev"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.llmspell-setup-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
  touch "$stamp"
fi
