// Records every module a process loads, for the start-up test and benchmark:
//   DIDACTIC_RECORD_MODULES=<file> node --import ./scripts/record-modules.mjs <entry> ...
// appends one JSON line per module: { thread, kind: 'esm' | 'cjs', url, parent }. `thread` is the
// threadId of the thread that loaded it (0 = the main thread; worker threads preload this file too).
// ESM imports are seen by a resolve hook (which runs on a hooks thread of its own, one per thread it
// serves, hence the thread passed in `data`); CommonJS requires by wrapping Module._load.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { threadId } from 'node:worker_threads';

let out = process.env.DIDACTIC_RECORD_MODULES;
let servedThread = threadId;

function record(kind, url, parent) {
  appendFileSync(out, `${JSON.stringify({ thread: servedThread, kind, url, parent: parent ?? null })}\n`);
}

/** Hooks-thread entry: which file to append to and which thread's imports these are. */
export function initialize(data) {
  out = data.file;
  servedThread = data.thread;
}

/** Hooks-thread resolve hook: records the resolved URL of each import. */
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  record('esm', resolved.url, context.parentURL);
  return resolved;
}

// Loaded as a hooks module (the `?hooks` URL below), this file only provides the hooks.
if (out && new URL(import.meta.url).search !== '?hooks') {
  register(`${import.meta.url.split('?')[0]}?hooks`, { data: { file: out, thread: threadId } });
  const load = Module._load;
  Module._load = function recordLoad(request, parent, ...rest) {
    let url = request;
    try {
      url = Module._resolveFilename(request, parent, ...rest.slice(0, 1));
    } catch {
      // Left to the real loader, which throws its own error.
    }
    record('cjs', url, parent?.filename);
    return load.call(this, request, parent, ...rest);
  };
}
