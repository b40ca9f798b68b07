import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { file, requires } from '../helpers/requires.js';

const binary = join(import.meta.dirname, '..', '..', 'build', 'native_tests');

describe('C++ unit tests of the pure cores (native/test)', () => {
  it('all pass (built with the addon when native/test is present)', {
    ...requires(file(binary, 'the C++ unit tests are not built (build/native_tests) — run `npm run build:native` in a checkout')),
    timeout: 120_000,
  }, () => {
    const r = spawnSync(binary, [], { encoding: 'utf8' });
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    expect(r.status).toBe(0);
  });
});
