# Shared by scripts/ci-sanitizers.sh and scripts/fuzz.sh: configures and builds the clang
# ASan/UBSan tree (C++ unit tests, libFuzzer targets, seed corpus) in $SAN_BUILD.
SAN_BUILD=${SANITIZER_BUILD_DIR:-build-sanitizers}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

san_build() {
  command -v clang++ >/dev/null || { echo "sanitizers: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; return 1; }
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  CC=clang CXX=clang++ cmake -S . -B "$SAN_BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDIDACTIC_ADDON=OFF -DDIDACTIC_FUZZ=ON -DDIDACTIC_NATIVE_TESTS=ON >/dev/null
  cmake --build "$SAN_BUILD" -j"${JOBS:-2}"
}

# run_fuzzer <target> <seconds> [extra libFuzzer flags...]: grows $SAN_BUILD/fuzz-corpus/<target>
# from the generated seeds and the committed regression inputs; non-zero on any finding.
run_fuzzer() {
  local target=$1 seconds=$2
  shift 2
  local bin="$SAN_BUILD/native/test/fuzz/fuzz_$target"
  local corpus="$SAN_BUILD/fuzz-corpus/$target" artifacts="$SAN_BUILD/fuzz-artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  # every committed regression input first, once each
  local regressions=(native/test/fuzz/regressions/"$target"/*)
  if [[ -e ${regressions[0]} ]]; then
    "$bin" -runs=0 -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 "${regressions[@]}" 2>&1 | tail -3
  fi
  local dirs=("$corpus" "$SAN_BUILD/fuzz-seeds/$target")
  [[ -d native/test/fuzz/regressions/$target ]] && dirs+=(native/test/fuzz/regressions/"$target")
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$@" "${dirs[@]}"
}
