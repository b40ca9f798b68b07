import { expect } from 'vitest';

/**
 * Starts `call` and records whether the event loop turned (a setImmediate callback ran) before its
 * promise settled: true when the work runs off the main thread, false when it blocks the loop until
 * done. An order of events, not a wall-clock bound (no timed tests; stall figures are in
 * bench/event-loop.mjs).
 */
export async function loopTurnsDuring<T>(call: () => Promise<T>): Promise<{ result: T; turnedWhilePending: boolean }> {
  let settled = false;
  let turnedWhilePending = false;
  const pending = call();
  expect(pending).toBeInstanceOf(Promise);
  setImmediate(() => {
    turnedWhilePending = !settled;
  });
  const result = await pending.finally(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return { result, turnedWhilePending };
}
