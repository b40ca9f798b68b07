/**
 * The compiled text of a page's own browser script. The scripts are TypeScript under
 * lib/**\/browser/ (tsconfig.browser.json: DOM types, no Node types); scripts/build-browser.mjs
 * (part of `npm run build:ts` and `prepare`) compiles each into an inline classic script at the same
 * path under dist/, next to the compiled module that inlines it, so the packed install carries it.
 */
import { readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DidacticError } from '../errors.js';

const texts = new Map<string, string>();

/** Running from the TypeScript sources (the tests): the build's output lies under dist/, not lib/. */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * The script at `url`, read once per process: pass `new URL('./browser/<name>.js', import.meta.url)`
 * from the module that inlines lib/…/browser/<name>.ts. From the sources, the same path under dist/
 * is read (the tests' global setup builds it).
 */
export function browserScript(url: URL): string {
  let path = fileURLToPath(url);
  if (fromSource) {
    const at = path.lastIndexOf(`${sep}lib${sep}`);
    if (at >= 0) path = `${path.slice(0, at)}${sep}dist${sep}${path.slice(at + 5)}`;
  }
  const cached = texts.get(path);
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DidacticError('DE_INTERNAL', `the page script ${path} was not built: run \`npm run build:ts\` (scripts/build-browser.mjs)`, {
      op: 'browserScript',
      cause: err,
    });
  }
  texts.set(path, text);
  return text;
}
