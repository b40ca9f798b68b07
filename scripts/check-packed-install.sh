#!/usr/bin/env bash
# Installs the package as a user would and runs it: `npm pack` (prepack builds the linux-x64
# prebuild and ships it with ONNX Runtime's library), then `npm install <tarball>` into a fresh
# empty project with compilers, cmake and apt-get shadowed by failing stubs and no install
# variables set; prints its package count and node_modules size, then runs `didactic-engine
# doctor` and a short pipeline run there, checks that `serve` without the optional peers fails
# with DE_OPTIONAL_DEPENDENCY_MISSING and the install command, runs that command and starts the
# service. Exits non-zero on any failure, including an install slower than
# DIDACTIC_INSTALL_LIMIT_S (default 60 s) or an npm warning about engines.
# DIDACTIC_PACKED_TARBALL=<file.tgz> checks that tarball instead of packing (the prebuild takes
# minutes to build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
limit="${DIDACTIC_INSTALL_LIMIT_S:-60}"
work="$(mktemp -d "${TMPDIR:-/tmp}/didactic-packed-XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "check-packed-install: FAILED: $*" >&2; exit 1; }
say() { echo "check-packed-install: $*"; }

if [[ -n "${DIDACTIC_PACKED_TARBALL:-}" ]]; then
  tgz="$(cd "$(dirname "$DIDACTIC_PACKED_TARBALL")" && pwd)/$(basename "$DIDACTIC_PACKED_TARBALL")"
  : >"$work/pack.out"
  : >"$work/pack.log"
  say "checking $tgz (DIDACTIC_PACKED_TARBALL; not packed here)"
else
  say "packing (prepack builds the prebuild)"
  (cd "$root" && npm pack --pack-destination "$work" --silent >"$work/pack.out" 2>"$work/pack.log") ||
    { tail -n 40 "$work/pack.log" >&2; fail "npm pack (log above)"; }
  tgz="$work/$(tail -n 1 "$work/pack.out")"
fi
[[ -f "$tgz" ]] || fail "npm pack wrote no tarball"
tar -tzf "$tgz" >"$work/contents.txt"
for f in prebuilds/linux-x64/node.napi.glibc.node prebuilds/linux-x64/libonnxruntime.so.1 dist/index.js; do
  grep -qx "package/$f" "$work/contents.txt" || fail "the tarball has no $f"
done
grep -h 'needs GLIBC' "$work/pack.out" "$work/pack.log" | sed 's/^/check-packed-install: /' || true
say "tarball $(basename "$tgz"): $(du -h "$tgz" | cut -f1)"

# Anything that would compile or fetch sources fails loudly if the install reaches for it.
mkdir -p "$work/nobuild"
for tool in cc gcc g++ c++ clang clang++ cmake ninja make apt-get dpkg-source; do
  printf '#!/bin/sh\necho "forbidden during a prebuilt install: %s $*" >&2\nexit 97\n' "$tool" >"$work/nobuild/$tool"
  chmod +x "$work/nobuild/$tool"
done

app="$work/app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
say "installing the tarball into an empty project (no compiler, no install variables)"
start=$(date +%s.%N)
env -u ONNXRUNTIME_NODE_INSTALL -u DIDACTIC_FORCE_BUILD -u DIDACTIC_ORT_LIBRARY PATH="$work/nobuild:$PATH" \
  npm install "$tgz" --no-audit --no-fund --foreground-scripts >"$work/install.log" 2>&1 ||
  { tail -n 40 "$work/install.log" >&2; fail "npm install of the tarball (log above)"; }
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
grep '^didactic-engine:' "$work/install.log" | sed 's/^/check-packed-install:   /'
grep -q 'using the native addon prebuilds/linux-x64/' "$work/install.log" || fail "the install did not use the prebuilt addon"
grep -q 'forbidden during a prebuilt install' "$work/install.log" && fail "the install tried to compile or fetch sources"
[[ -e node_modules/didactic-engine/build ]] && fail "the install created a build/ folder"
[[ -e node_modules/onnxruntime-node ]] && fail "onnxruntime-node (and its CUDA download) was installed"
[[ -f node_modules/didactic-engine/weights/basic-pitch-1.0.1/model.json ]] || fail "the Basic Pitch weights were not fetched"
# One line per package (the project itself excluded).
count() { echo $(($(npm ls --all --parseable 2>/dev/null | wc -l) - 1)); }
say "install took ${secs} s (limit ${limit} s); $(count) packages, node_modules $(du -sh node_modules | cut -f1)"
awk -v s="$secs" -v l="$limit" 'BEGIN { exit !(s <= l) }' || fail "the install took ${secs} s, over ${limit} s"
grep -q EBADENGINE "$work/install.log" && { grep -A4 EBADENGINE "$work/install.log" >&2; fail "npm warned about engines (above)"; }
for peer in fastify bullmq ioredis puppeteer-core cmake-js; do
  [[ -e "node_modules/$peer" ]] && fail "$peer was installed: the library install must not carry it"
done

export DIDACTIC_MODELS_DIR="$work/models"
say "npx didactic-engine doctor"
PATH="$work/nobuild:$PATH" npx --no-install didactic-engine doctor >"$work/doctor.log" 2>&1 ||
  { cat "$work/doctor.log" >&2; fail "doctor"; }
sed 's/^/check-packed-install:   /' "$work/doctor.log"

# The library's entry points as a user imports them (`/service` loads the HTTP server's packages and
# `/testing` is for tests: both are left to test/e2e/package-exports.test.ts).
say "import didactic-engine, /analysis, /datasets, /reports"
node --input-type=module -e '
  for (const spec of ["didactic-engine", "didactic-engine/analysis", "didactic-engine/datasets", "didactic-engine/reports"]) {
    const names = Object.keys(await import(spec));
    if (names.length === 0) throw new Error(`${spec} exports nothing`);
    console.log(`check-packed-install:   ${spec}: ${names.length} exports`);
  }' || fail "importing the package's entry points"

say "short pipeline run (3 s generated WAV, --no-demucs)"
node -e '
  const sr = 22050, n = sr * 3, b = Buffer.alloc(44 + n * 2);
  b.write("RIFF", 0); b.writeUInt32LE(36 + n * 2, 4); b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24); b.writeUInt32LE(sr * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write("data", 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / sr, beat = t % 0.5;             // 120 bpm clicks over a two-note melody
    const f = t % 1 < 0.5 ? 440 : 660;
    const v = 0.3 * Math.sin(2 * Math.PI * f * t) + (beat < 0.01 ? 0.6 * Math.sin(2 * Math.PI * 2000 * t) : 0);
    b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v)) * 32767), 44 + i * 2);
  }
  require("fs").writeFileSync("song.wav", b);'
PATH="$work/nobuild:$PATH" npx --no-install didactic-engine --wav song.wav --song-id packed --out out --no-demucs --no-progress \
  >"$work/run.log" 2>&1 || { tail -n 40 "$work/run.log" >&2; fail "pipeline run"; }
ls out/datasets/packed/*.parquet >/dev/null 2>&1 || fail "the pipeline wrote no Parquet dataset"
ls out/midi/packed/*.mid >/dev/null 2>&1 || fail "the pipeline wrote no MIDI (Basic Pitch)"
say "pipeline ok: $(find out -type f | wc -l) files under out/"

say "npx didactic-engine serve, without the optional peers"
if npx --no-install didactic-engine serve --port 0 --data-dir data >"$work/serve.log" 2>&1; then
  cat "$work/serve.log" >&2
  fail "serve without the optional peers exited 0"
fi
sed 's/^/check-packed-install:   /' "$work/serve.log"
grep -q '\[DE_OPTIONAL_DEPENDENCY_MISSING\]' "$work/serve.log" || fail "serve without the peers did not fail with DE_OPTIONAL_DEPENDENCY_MISSING"
peers_cmd="$(grep -o 'install with: npm install [^[]*' "$work/serve.log" | sed 's/^install with: //; s/ *$//')"
[[ "$peers_cmd" == "npm install fastify@"* ]] || fail "serve's error names no npm install command"

say "$peers_cmd (the command serve named)"
$peers_cmd --no-audit --no-fund >"$work/peers.log" 2>&1 || { tail -n 40 "$work/peers.log" >&2; fail "$peers_cmd"; }
grep -q EBADENGINE "$work/peers.log" && { grep -A4 EBADENGINE "$work/peers.log" >&2; fail "npm warned about engines installing the service's peers (above)"; }
say "with the service: $(count) packages, node_modules $(du -sh node_modules | cut -f1)"

say "npx didactic-engine serve, with the peers"
# The bin itself, not npx, so that the pid is the server's and SIGTERM reaches it.
node_modules/.bin/didactic-engine serve --port 0 --data-dir data >"$work/serve.log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 60); do
  url="$(grep -o 'listening on http://[^ ]*' "$work/serve.log" | sed 's/^listening on //' || true)"
  [[ -n "$url" ]] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.5
done
[[ -n "$url" ]] || { kill "$serve_pid" 2>/dev/null || true; cat "$work/serve.log" >&2; fail "serve did not start"; }
health="$(node -e 'fetch(process.argv[1] + "/healthz").then((r) => r.text()).then((t) => console.log(t), (e) => { console.error(e.message); process.exit(1); })' "$url")" ||
  { kill "$serve_pid"; fail "GET /healthz failed"; }
kill "$serve_pid"
wait "$serve_pid" || true
[[ "$health" == *'"ok":true'* ]] || fail "GET /healthz answered $health"
say "serve ok: $url/healthz answered $health"
say "passed"
