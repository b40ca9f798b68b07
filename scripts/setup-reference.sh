#!/usr/bin/env bash
# `npm run setup:reference`: the Python reference environment (.venv) that `npm run test:reference`
# compares against (librosa, soxr, pyarrow ... pinned in scripts/reference/requirements.txt).
# Development only: the package itself never needs Python.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import librosa, numpy, pyarrow, pandas, soxr, music21' 2>/dev/null; then
  echo "setup:reference: .venv is ready"
else
  python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "setup:reference: python3 with venv is required (Debian: apt-get install python3-venv)" >&2; exit 1; }
  python3 -m venv .venv
  .venv/bin/pip install -q -r scripts/reference/requirements.txt
  echo "setup:reference: .venv ready; run \`npm run test:reference\`"
fi
# .venv-torch: the PyTorch references of the converter parity tests (Debian's torch 1.13 in a
# --system-site-packages venv: PyPI's torch wheel would pull ~3 GB of CUDA packages; beat-this 1.1.0,
# demucs 4.0.1). Optional: without it those tests skip and say why; DIDACTIC_SETUP_TORCH=0 skips it.
if [[ "${DIDACTIC_SETUP_TORCH:-1}" != 0 ]]; then
  bash scripts/reference/setup-torch-env.sh ||
    echo "setup:reference: WARNING: .venv-torch could not be built; the converter parity tests will skip" >&2
fi
