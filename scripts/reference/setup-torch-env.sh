#!/usr/bin/env bash
# Builds .venv-torch (git-ignored): the PyTorch references of the model converters' parity tests
# (demucs 4.0.1 for test/parity/demucs-convert.test.ts, beat-this 1.1.0 for test/parity/beat-this.test.ts)
# and the scripts that make the weightless graphs (scripts/models/*_graph.py). Development only.
#
#   bash scripts/reference/setup-torch-env.sh        # idempotent
#
# Torch is Debian's python3-torch 1.13 (+ python3-torchaudio 0.13), CPU only, through
# --system-site-packages: PyPI's torch 2.x wheel pulls ~3 GB of nvidia-* CUDA packages. beat-this
# declares torch >= 2 but on inference calls only one torch 2 function,
# F.scaled_dot_product_attention, which scripts/reference/torch2_polyfill.py provides; so it is
# installed --no-deps with its other dependencies pinned here. Debian's numpy 1.24 stays (torch 1.13
# is built against numpy 1.x): hence ml_dtypes 0.5.1 for onnx and a newer typing_extensions than
# Debian's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${TORCH_VENV:-$ROOT/.venv-torch}"
PY=/usr/bin/python3 # Debian's interpreter: python3-torch is built for it

fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

need=()
for p in python3-torch python3-torchaudio python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing Debian packages ${need[*]} (run as root or apt-get install them)"
  apt-get update -qq || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" || fail "apt-get install ${need[*]}"
fi
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv --system-site-packages "$VENV" || fail "venv creation"
VPY="$VENV/bin/python"
pip() { "$VPY" -m pip install -q --disable-pip-version-check "$@"; }
# --no-deps throughout: pip must not replace Debian's torch, torchaudio or numpy.
pip --no-deps beat-this==1.1.0 rotary-embedding-torch==0.9.1 einops==0.8.2 soxr==1.1.0 \
  onnx==1.23.2 onnxruntime==1.32.0 protobuf==7.36.2 ml_dtypes==0.5.1 flatbuffers==25.12.19 || fail "pip install (beat-this)"
pip --no-deps --ignore-installed typing_extensions==4.16.0 || fail "pip install typing_extensions"
pip --no-deps demucs==4.0.1 dora_search==0.1.13 julius==0.2.8 lameenc==1.9.0 openunmix==1.3.0 omegaconf==2.4.0 \
  antlr4-python3-runtime==4.9.3 retrying==1.4.2 submitit==1.5.4 treetable==0.2.6 cloudpickle==3.1.3 PyYAML==6.0.4 tqdm==4.70.1 \
  || echo "setup-torch-env: demucs 4.0.1 could not be installed (the Demucs converter parity test will skip)" >&2
ROOT="$ROOT" "$VPY" - <<'PYEOF' || fail "import check"
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "scripts", "reference"))
import torch2_polyfill  # noqa: F401
import torch, torchaudio, onnx, onnxruntime, soxr
from beat_this.inference import load_model
m = load_model(None)
print("torch", torch.__version__, "| torchaudio", torchaudio.__version__, "| onnx", onnx.__version__,
      "| onnxruntime", onnxruntime.__version__, "| beat-this ok")
PYEOF
echo "OK: $VENV"
