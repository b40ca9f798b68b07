import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const binary = join(import.meta.dirname, '..', '..', 'build', 'native_tests');

describe('C++ unit tests of the pure cores (native/test)', () => {
  it.skipIf(!existsSync(binary))(
    'all pass (built with the addon when native/test is present)',
    () => {
      const r = spawnSync(binary, [], { encoding: 'utf8' });
      if (r.status !== 0) console.error(r.stdout, r.stderr);
      expect(r.status).toBe(0);
    },
    120_000,
  );
});
