#!/usr/bin/env bash
# A longer fuzzing campaign: scripts/fuzz.sh [seconds per target, default 600] [target...]
# (targets: decode, audio). The corpus grows in build-sanitizers/fuzz-corpus/<target> across runs;
# crashing inputs land in build-sanitizers/fuzz-artifacts/<target>/. Once a finding is fixed, copy
# its input into native/test/fuzz/regressions/<target>/ so CI replays it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/fuzz-common.sh
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(decode audio)
san_build
for target in "${targets[@]}"; do
  echo "fuzz: fuzz_$target for ${seconds} s"
  run_fuzzer "$target" "$seconds"
done
