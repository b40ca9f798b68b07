/**
 * Whole-signal JS passes (a 20-minute song is tens of millions of samples) run in chunks with an
 * event-loop turn between them, so a server stays responsive while a song is processed.
 */

/** About 1 M samples: a few milliseconds of a simple loop. */
export const SAMPLE_CHUNK = 1 << 20;

/** Calls `body(start, end)` over [0, n) in chunks of `chunk` items, yielding between chunks. */
export async function forEachChunk(n: number, body: (start: number, end: number) => void, chunk = SAMPLE_CHUNK): Promise<void> {
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    body(start, end);
    if (end < n) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
