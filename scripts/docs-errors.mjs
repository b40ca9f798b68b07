// Writes docs/errors.md from the error table in lib/errors.ts (through dist/: run `npm run build:ts`
// first; `npm run docs:errors` does both). test/unit/error-codes.test.ts fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderErrorTableMarkdown } from '../dist/errors.js';

const out = join(import.meta.dirname, '..', 'docs', 'errors.md');
writeFileSync(out, renderErrorTableMarkdown());
console.log(`docs:errors: wrote ${out}`);
