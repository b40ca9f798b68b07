#!/usr/bin/env bash
# CI: builds the pure C++ cores with clang under ASan + UBSan (the vendored codecs under ASan),
# runs the C++ unit tests (native/test/*.cc), then both libFuzzer targets for a bounded total
# (FUZZ_SECONDS, default 90). Any crash, leak, sanitizer report or test failure fails it.
# Needs clang and libclang-rt (.ci/run installs them). ~6-8 minutes on 2 cores from scratch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/fuzz-common.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-90}

start=$SECONDS
san_build
echo "sanitizers: built in $((SECONDS - start)) s"
"$SAN_BUILD/native_tests"
per=$((FUZZ_SECONDS / 2))
# A fixed seed and a cap on the runs (about what 45 s gives here: 72,815 decode and 5,726 audio
# runs were measured): CI repeats the same mutations instead of drawing new ones on every run (the
# random campaigns are scripts/fuzz.sh's job), so a red CI is reproducible.
declare -A runs=([decode]=60000 [audio]=5000)
for target in decode audio; do
  echo "sanitizers: fuzz_$target for at most ${per} s and ${runs[$target]} runs"
  run_fuzzer "$target" "$per" -seed=1 -runs="${runs[$target]}"
done
echo "sanitizers: passed in $((SECONDS - start)) s"
