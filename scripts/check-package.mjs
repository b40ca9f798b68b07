// `npm run check:package`: what `npm publish` would ship, checked before it ships.
//  1. `npm pack --dry-run --json --ignore-scripts` lists the tarball. Every file must match an
//     allowlisted pattern below (a new kind of file fails until it is added here on purpose),
//     every required file must be there, and the size must stay within budget.
//     --ignore-scripts: `prepack` would build the prebuild (minutes); the listing takes what is
//     in prebuilds/ now. When prebuilds/<platform>-<arch>/ holds an addon, its files are
//     required and budgeted; when it is empty (a plain checkout), that is said, not failed
//     (scripts/check-packed-install.sh packs and installs the real prebuild).
//  2. `npm audit --omit=dev`: no high or critical advisory in the runtime dependencies, unless
//     scripts/audit-allowlist.json names it with a reason. When the audit endpoint cannot be
//     reached, that is said clearly and the check does not fail.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const platform = `${process.platform}-${process.arch}`;
const say = (msg) => console.log(`check:package: ${msg}`);
const problems = [];

// What may be in the tarball. A file matching none of these fails the check: add a pattern here
// (and to package.json "files") when a new kind of file is meant to ship.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICEN[CS]E(\.md|\.txt)?$/,
  /^CHANGELOG\.md$/,
  /^binding\.d\.ts$/,
  /^CMakeLists\.txt$/,
  /^dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)$/,
  /^native\/src\/.+\.(cc|h)$/,
  /^native\/vendor\.lock$/,
  /^native\/patches\/[\w.-]+\.(patch|cmake)$/,
  /^scripts\/(vendor-fetch\.sh|install\.mjs|addon-probe\.mjs|weights\.mjs)$/,
  /^models\/beatnet\/(LICENSE|README\.md|beatnet_[0-9]+\.onnx)$/,
  /^models\/graphs\/(LICENSE-demucs|LICENSE-beat-this|README\.md|htdemucs(_6s|_ft)?\.onnx|beat-this(-small)?\.onnx)$/,
  /^docs\/third-party\.md$/,
  /^prebuilds\/README\.md$/,
  /^prebuilds\/[a-z0-9]+-[a-z0-9]+\/(node\.napi\.[a-z]+\.node|libonnxruntime\.so\.1|libonnxruntime\.NOTICE\.txt)$/,
];

// What must be in it: the entry points, the types, the CLI, the install path, the licences.
const REQUIRED = [
  'package.json',
  'README.md',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/testing.js',
  'dist/testing.d.ts',
  'dist/cli/main.js',
  // The pages' inline scripts (scripts/build-browser.mjs): without them no report or service page renders.
  'dist/reports/html/browser/report.js',
  'dist/service/browser/page.js',
  'binding.d.ts',
  'scripts/install.mjs',
  'scripts/addon-probe.mjs',
  'scripts/weights.mjs',
  'scripts/vendor-fetch.sh',
  'native/vendor.lock',
  'native/patches/apply.cmake',
  'CMakeLists.txt',
  // Third-party notices: the statically linked libraries (LGPL ones included), ONNX Runtime, models.
  'docs/third-party.md',
  // CC BY 4.0 attribution of the committed BeatNet weights.
  'models/beatnet/LICENSE',
  // MIT notice of the weightless Demucs graphs `models fetch` fills.
  'models/graphs/LICENSE-demucs',
  // MIT notice of the weightless Beat This! graphs.
  'models/graphs/LICENSE-beat-this',
];
// Every file package.json "exports" points at (each sub-path's module and its types): a sub-path
// whose file is not packed would fail only in a user's import.
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const target of Object.values(manifest.exports)) {
  for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
    const path = file.replace(/^\.\//, '');
    if (!REQUIRED.includes(path)) REQUIRED.push(path);
  }
}
// The package's own licence file: required as soon as the repository has one.
const licence = ['LICENSE', 'LICENSE.md', 'LICENCE', 'LICENSE.txt'].find((f) => existsSync(join(root, f)));
if (licence) REQUIRED.push(licence);

// Size budgets in bytes, set from the tarball of 2026-12-06 (without prebuild: 4.87 MB packed,
// 6.43 MB unpacked, 424 files; the linux-x64 prebuild adds ONNX Runtime's 45.8 MB library and the
// addon) with about 35 % headroom. Raise them on purpose, with the reason in the commit.
const BUDGET = {
  packedWithoutPrebuilds: 6.5e6,
  // +2.2 MB (2026-12-07): the weightless Beat This! graphs models/graphs/beat-this*.onnx (1.08 MB each).
  unpackedWithoutPrebuilds: 11.0e6,
  unpackedPrebuilds: 70e6,
  // 626 files (2026-12-07): the sub-path entry points (lib/entries/), the compiled browser scripts,
  // the Beat This! tracker and converter, native/patches, the fetch lock and the shared helpers.
  files: 700,
};

// --- 1. the tarball --------------------------------------------------------------------------
const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
if (pack.status !== 0) {
  console.error(pack.stderr);
  console.error('check:package: FAILED: npm pack --dry-run did not run');
  process.exit(1);
}
const info = JSON.parse(pack.stdout)[0];
const files = info.files.map((f) => ({ path: f.path, size: f.size }));

const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f.path)));
for (const f of unexpected) problems.push(`unexpected file in the tarball: ${f.path} (not allowlisted in scripts/check-package.mjs)`);

const have = new Set(files.map((f) => f.path));
for (const f of REQUIRED) if (!have.has(f)) problems.push(`required file missing from the tarball: ${f}`);
if (!licence) say(`NOTE: the repository has no LICENSE file (package.json says "${manifest.license}"); add one with the copyright holder`);

// The prebuild for this platform, when prebuilds/ holds one.
const preDir = join(root, 'prebuilds', platform);
const addons = existsSync(preDir) ? readdirSync(preDir).filter((f) => f.endsWith('.node')) : [];
if (addons.length) {
  for (const f of [
    ...addons.map((a) => `prebuilds/${platform}/${a}`),
    `prebuilds/${platform}/libonnxruntime.so.1`,
    `prebuilds/${platform}/libonnxruntime.NOTICE.txt`,
  ]) {
    if (!have.has(f)) problems.push(`required prebuild file missing from the tarball: ${f}`);
  }
} else {
  say(
    `NOTE: prebuilds/${platform}/ is empty here, so the tarball is checked without a prebuild (\`npm run prebuild\` makes one; scripts/check-packed-install.sh checks the packed prebuild)`,
  );
}

const isPrebuild = (p) => /^prebuilds\/[^/]+\//.test(p);
const unpackedPre = files.filter((f) => isPrebuild(f.path)).reduce((s, f) => s + f.size, 0);
const unpackedRest = files.filter((f) => !isPrebuild(f.path)).reduce((s, f) => s + f.size, 0);
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
// `size` is the packed tarball; without prebuild files it is the packed size of the rest.
say(`tarball: ${files.length} files, ${mb(info.size)} packed, ${mb(info.unpackedSize)} unpacked (prebuilds: ${mb(unpackedPre)} unpacked)`);
if (files.length > BUDGET.files) problems.push(`${files.length} files, over the budget of ${BUDGET.files}`);
if (unpackedRest > BUDGET.unpackedWithoutPrebuilds) {
  problems.push(`${mb(unpackedRest)} unpacked without prebuilds, over the budget of ${mb(BUDGET.unpackedWithoutPrebuilds)}`);
}
if (unpackedPre === 0 && info.size > BUDGET.packedWithoutPrebuilds) {
  problems.push(`${mb(info.size)} packed, over the budget of ${mb(BUDGET.packedWithoutPrebuilds)}`);
}
if (unpackedPre > BUDGET.unpackedPrebuilds) problems.push(`prebuilds ${mb(unpackedPre)} unpacked, over the budget of ${mb(BUDGET.unpackedPrebuilds)}`);

// --- 2. npm audit of the runtime dependencies -----------------------------------------------
const allowPath = join(root, 'scripts', 'audit-allowlist.json');
const allowed = existsSync(allowPath) ? JSON.parse(readFileSync(allowPath, 'utf8')).advisories : [];
for (const a of allowed) if (!a.reason) problems.push(`scripts/audit-allowlist.json: ${a.id ?? a.package} has no reason`);
const audit = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
let report = null;
try {
  report = JSON.parse(audit.stdout);
} catch {}
if (!report?.metadata?.vulnerabilities) {
  const why = report?.message ?? (audit.stderr || '').trim().split('\n').slice(-1)[0] ?? 'no answer';
  say(`WARNING: npm audit could not be run (the audit endpoint is unreachable from here: ${why}); runtime dependencies NOT audited`);
} else {
  const serious = Object.values(report.vulnerabilities ?? {}).filter((v) => v.severity === 'high' || v.severity === 'critical');
  const counts = report.metadata.vulnerabilities;
  say(`npm audit --omit=dev: ${counts.critical} critical, ${counts.high} high, ${counts.moderate} moderate, ${counts.low} low`);
  for (const v of serious) {
    // An advisory is allowlisted by its GHSA id / URL (any of the package's advisories) or by package name.
    const ids = (v.via ?? []).filter((x) => typeof x === 'object').map((x) => x.url ?? String(x.source));
    const ok = allowed.find((a) => a.package === v.name || ids.some((id) => a.id && id.includes(a.id)));
    if (ok) say(`allowlisted: ${v.severity} ${v.name} (${ok.reason})`);
    else
      problems.push(
        `npm audit: ${v.severity} advisory in ${v.name} (${ids.join(', ') || 'via ' + (v.via ?? []).join(', ')}); fix it or allowlist it with a reason in scripts/audit-allowlist.json`,
      );
  }
}

if (problems.length) {
  for (const p of problems) console.error(`check:package: ${p}`);
  console.error(`check:package: FAILED (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  process.exit(1);
}
say('OK');
