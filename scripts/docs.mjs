// API reference from the TSDoc comments of the public entry points (lib/index.ts, lib/entries/*.ts,
// lib/service/index.ts, lib/testing.ts: one per package.json "exports" entry), with TypeDoc (settings
// in typedoc.json).
//   npm run docs         writes the HTML reference to docs/api/ (git-ignored: generated, never committed)
//   npm run docs:check   writes nothing; fails, naming each one, when a public export has no doc comment
// TypeDoc needs TypeScript's JS API, which the project's TypeScript 7 (the native compiler) does not
// have: tools/typedoc/package.json installs TypeDoc with its own TypeScript 6.0 beside it (a
// `file:` dev dependency, so `npm ci` installs it from the one lockfile), and `npx tsc` stays 7.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const cli = join(root, 'tools', 'typedoc', 'node_modules', 'typedoc', 'bin', 'typedoc');
if (!existsSync(cli)) {
  console.error('docs: TypeDoc is not installed (tools/typedoc/node_modules); run `npm ci` (or `npm install`) with dev dependencies');
  process.exit(1);
}

const args = check ? ['--emit', 'none', '--treatValidationWarningsAsErrors'] : [];
const started = Date.now();
const r = spawnSync(process.execPath, [cli, '--options', join(root, 'typedoc.json'), ...args], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
});
const output = `${r.stdout}${r.stderr}`;
const secs = ((Date.now() - started) / 1000).toFixed(1);

// "[warning] index.Foo (Function), defined in didactic-engine/lib/x.ts, does not have any documentation"
const undocumented = [...output.matchAll(/\] (?:\w+\.)?(\S+) \((\w+)\), defined in (?:[\w-]+\/)?(\S+), does not have any documentation/g)];
if (undocumented.length) {
  console.error(`docs:check: ${undocumented.length} public export${undocumented.length === 1 ? ' has' : 's have'} no TSDoc comment:`);
  for (const [, name, kind, file] of undocumented) console.error(`  ${file}: ${name} (${kind})`);
  console.error(
    'Give each a /** ... */ comment where it is declared: one or two lines saying what it is, with units (seconds, Hz, samples) and `@throws DidacticError DE_...` for the errors it raises.',
  );
}
const rest = output
  .split('\n')
  .filter((l) => l.trim() && !/does not have any documentation/.test(l))
  .join('\n');
if (r.status !== 0) {
  if (rest) console.error(rest);
  console.error(`docs${check ? ':check' : ''}: FAILED (${secs} s)`);
  process.exit(1);
}
if (rest) console.log(rest);
console.log(check ? `docs:check: every public export is documented (${secs} s)` : `docs: API reference written to docs/api/index.html (${secs} s)`);
