#!/usr/bin/env bash
# Builds .venv-rhythm (git-ignored): the Python reference for the learned rhythm tracker
# (BeatNet weights and source, madmom 0.16.1 for LOG_SPECT features and the bar-pointer DBN,
# mir_eval, pretty_midi, mido, onnxruntime). Development-time only; nothing here ships.
#
#   bash scripts/reference/setup-rhythm-env.sh        # idempotent: re-running skips what is done
#
# Torch comes from Debian (python3-torch, CPU, ~150 MB) through --system-site-packages: the PyPI
# torch wheel pulls gigabytes of CUDA packages. madmom 0.16.1 does not install from PyPI on
# Python 3.11 (its shipped .c files include longintrepr.h), so it is built from its sdist with
# the shipped Cython output removed and one import fixed. Needs root for apt (or the packages
# already installed) and access to PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RHYTHM_VENV:-$ROOT/.venv-rhythm}"
REQ="$ROOT/scripts/reference/requirements-rhythm.txt"
PY=/usr/bin/python3 # Debian's interpreter: python3-torch is built for it (a pyenv python3 may be first on PATH)

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "Debian packages (python3-torch, python3-venv, python3-dev)"
need=()
for p in python3-torch python3-venv python3-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then fail "missing Debian packages ${need[*]} (run as root or apt-get install them)"; fi
  apt-get update -qq || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
    || fail "apt-get install ${need[*]}"
else
  echo "already installed"
fi

step "virtual environment $VENV (Debian python3, --system-site-packages)"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PY" -m venv --system-site-packages "$VENV" || fail "venv creation"
fi
VPY="$VENV/bin/python"
"$VPY" -c 'import torch' 2>/dev/null || fail "torch (python3-torch) is not importable from $VENV"

step "PyPI packages (pinned in requirements-rhythm.txt)"
# numpy 1.23.x: madmom 0.16.1 uses np.float / np.int (removed in numpy 1.24); Cython < 3 for its .pyx.
"$VPY" -m pip install -q --disable-pip-version-check -r "$REQ" || fail "pip install -r $REQ"

step "BeatNet 1.1.3 (wheel, --no-deps: only its weights and source are used)"
if ! "$VPY" -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("BeatNet") else 1)'; then
  "$VPY" -m pip install -q --disable-pip-version-check --no-deps "BeatNet==1.1.3" || fail "pip install BeatNet==1.1.3"
fi
"$VPY" - <<'EOF' || fail "BeatNet weights not found in the installed wheel"
import importlib.util, pathlib
d = pathlib.Path(importlib.util.find_spec("BeatNet").origin).parent / "models"
for n in (1, 2, 3):
    assert (d / f"model_{n}_weights.pt").is_file(), d
print("weights in", d)
EOF

step "madmom 0.16.1 (built from its sdist)"
if "$VPY" -c 'import madmom, madmom.features.downbeats' 2>/dev/null; then
  echo "already built: $("$VPY" -c 'import madmom; print(madmom.__version__)')"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$VPY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$work" "madmom==0.16.1" \
    || fail "downloading the madmom 0.16.1 sdist"
  tar -xzf "$work"/madmom-0.16.1.tar.gz -C "$work" || fail "unpacking the madmom sdist"
  src="$work/madmom-0.16.1"
  # The shipped Cython output predates Python 3.11 (longintrepr.h): let Cython regenerate it.
  rm -f "$src/madmom/audio/comb_filters.c" "$src/madmom/features/beats_crf.c" \
        "$src/madmom/ml/hmm.c" "$src/madmom/ml/nn/layers.c"
  # collections.MutableSequence was removed in Python 3.10.
  sed -i 's/^from collections import MutableSequence/from collections.abc import MutableSequence/' \
    "$src/madmom/processors.py"
  grep -q 'from collections.abc import MutableSequence' "$src/madmom/processors.py" \
    || fail "could not patch madmom/processors.py (collections.abc import)"
  "$VPY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps "$src" \
    || fail "building madmom 0.16.1 (see the compiler output above)"
  "$VPY" -c 'import madmom, madmom.features.downbeats' || fail "madmom built but does not import"
fi

step "check"
"$VPY" - <<'EOF' || fail "final import check"
import sys, types
import numpy, torch, madmom, mir_eval, pretty_midi, mido, onnxruntime, scipy
# BeatNet.common imports librosa only for helpers LOG_SPECT.process_audio never calls; librosa
# (and its numba) is not installed here, so an empty module stands in for the import.
sys.modules.setdefault("librosa", types.ModuleType("librosa"))
from BeatNet.log_spect import LOG_SPECT
from BeatNet.model import BDA
print("numpy", numpy.__version__, "| torch", torch.__version__, "| madmom", madmom.__version__,
      "| mir_eval", mir_eval.__version__, "| onnxruntime", onnxruntime.__version__, "| scipy", scipy.__version__)
EOF
echo "OK: $VENV"
