// Bounded, seeded mutation fuzzing of the checkpoint reader (the TypeScript counterpart of the
// libFuzzer targets in native/test/fuzz): every input returns or throws a DidacticError, never
// anything else, and quickly. Seeds are fixed, so a failure names an input that reproduces.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { readTorchCheckpoint } from '../../lib/models/convert/checkpoint.js';
import { readZipEntries } from '../../lib/models/convert/zip.js';
import { seededRandom } from '../helpers/signals.js';
import { torchZip } from '../helpers/torchZip.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'checkpoints');
const seeds = ['state_dict.pt', 'views.pt', 'nan.pt'].map((f) => readFileSync(join(dir, f)));
/** Per-input hang limit, generous so a loaded machine never trips it: the largest seed parses in ~1 ms. */
const LIMIT_MS = 2000;

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 5);
  const at = Math.floor(rnd() * b.length);
  if (kind === 0) for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
  else if (kind === 1) return b.subarray(0, at);
  else if (kind === 2) return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 16)))]);
  else if (kind === 3) {
    // Interesting integers over a 4-byte field (sizes, offsets, counts).
    const v = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff][Math.floor(rnd() * 8)]!;
    if (at + 4 <= b.length) b.writeUInt32LE(v, at);
  } else b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
  return b;
}

/** The pickle of a seed, mutated and re-wrapped in a valid zip, so the pickle machine sees it. */
function mutatePickle(src: Buffer, rnd: () => number): Buffer {
  const entries = readZipEntries(src);
  const pkl = [...entries.values()].find((e) => e.name.endsWith('/data.pkl'))!;
  const storages: Record<string, Buffer> = {};
  for (const e of entries.values()) {
    const m = /\/data\/(.+)$/.exec(e.name);
    if (m) storages[m[1]!] = src.subarray(e.offset, e.offset + e.size);
  }
  // torchZip adds its own PROTO and STOP around the body.
  const body = mutate(src.subarray(pkl.offset + 2, pkl.offset + pkl.size - 1), rnd);
  return torchZip(body, storages);
}

/** A random opcode stream from the pickle alphabet with random short arguments. */
function randomPickle(rnd: () => number): Buffer {
  const ops = '()]}NK\x88\x89MJGX\x8c\x8atsud\x85\x86\x87ae\x71hrj\x94\x93RQb012cl.\x81io';
  const parts: number[] = [];
  for (let i = 0, n = 1 + Math.floor(rnd() * 40); i < n; i++) {
    parts.push(ops.charCodeAt(Math.floor(rnd() * ops.length)));
    for (let k = Math.floor(rnd() * 5); k > 0; k--) parts.push(Math.floor(rnd() * 256));
  }
  return torchZip(Buffer.from(parts));
}

function check(input: Buffer, label: string): void {
  const t0 = performance.now();
  try {
    readTorchCheckpoint(input);
  } catch (e) {
    if (!(e instanceof DidacticError)) throw new Error(`${label}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    expect(e.code, label).toBe('DE_MODEL_INVALID');
  }
  const ms = performance.now() - t0;
  if (ms > LIMIT_MS) throw new Error(`${label}: took ${ms.toFixed(0)} ms`);
}

describe('checkpoint reader fuzz (seeded)', () => {
  it('byte mutations of real checkpoints: 1500 inputs', () => {
    const rnd = seededRandom(0x5eed1);
    for (let i = 0; i < 1500; i++) check(mutate(seeds[i % seeds.length]!, rnd), `mutate seed 0x5eed1 #${i}`);
  });

  it('pickle mutations inside valid zips: 1500 inputs', () => {
    const rnd = seededRandom(0x5eed2);
    for (let i = 0; i < 1500; i++) check(mutatePickle(seeds[i % seeds.length]!, rnd), `pickle seed 0x5eed2 #${i}`);
  });

  it('random opcode streams: 1500 inputs', () => {
    const rnd = seededRandom(0x5eed3);
    for (let i = 0; i < 1500; i++) check(randomPickle(rnd), `random seed 0x5eed3 #${i}`);
  });
});
