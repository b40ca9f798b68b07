#!/usr/bin/env bash
# `npm run setup:reference`: the Python reference environment (.venv) that `npm run test:reference`
# compares against (librosa, soxr, pyarrow ... pinned in scripts/reference/requirements.txt).
# Development only: the package itself never needs Python.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# .venv-torch (Demucs parity: test/parity/demucs*.test.ts, bench/models-convert.mjs): demucs 4.0.1
# over Debian's torch 1.13 (python3-torch, python3-torchaudio) in a --system-site-packages venv;
# PyPI's torch wheel would pull ~3 GB of CUDA packages. Skipped (those tests skip) when Debian's
# torch is not installed, or with DIDACTIC_SETUP_TORCH=0.
setup_torch() {
  [[ "${DIDACTIC_SETUP_TORCH:-1}" != 0 ]] || return 0
  if [[ -x .venv-torch/bin/python ]] && .venv-torch/bin/python -c 'import torch, demucs.apply, demucs.states, onnx, onnxruntime' 2>/dev/null; then
    echo "setup:reference: .venv-torch is ready"
    return 0
  fi
  if ! /usr/bin/python3 -c 'import torch, torchaudio' 2>/dev/null; then
    echo "setup:reference: Debian's python3-torch and python3-torchaudio are not installed: no .venv-torch, the Demucs parity tests skip (apt-get install python3-torch python3-torchaudio python3-venv)" >&2
    return 0
  fi
  rm -rf .venv-torch
  /usr/bin/python3 -m venv --system-site-packages .venv-torch
  .venv-torch/bin/pip install -q --no-deps -r scripts/reference/requirements-torch-debian.txt
  .venv-torch/bin/python -c 'import torch, demucs.apply, demucs.states, onnx, onnxruntime'
  echo "setup:reference: .venv-torch ready (torch $(.venv-torch/bin/python -c 'import torch; print(torch.__version__)'), demucs 4.0.1)"
}

if [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import librosa, numpy, pyarrow, pandas, soxr, music21' 2>/dev/null; then
  echo "setup:reference: .venv is ready"
else
  python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "setup:reference: python3 with venv is required (Debian: apt-get install python3-venv)" >&2; exit 1; }
  python3 -m venv .venv
  .venv/bin/pip install -q -r scripts/reference/requirements.txt
  echo "setup:reference: .venv ready; run \`npm run test:reference\`"
fi
setup_torch
