/** Element-wise comparisons of our arrays with a reference's (the parity tests). */
import { expect } from 'vitest';

/** The largest magnitude in `a`. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** The largest |a[i] - b[i]|; the lengths must match. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** How many frames of `ours` are off the reference by more than `rel` × |reference| + `abs`; the lengths must match. */
export function framesOff(ours: ArrayLike<number>, reference: ArrayLike<number>, rel: number, abs: number): number {
  expect(ours.length).toBe(reference.length);
  let bad = 0;
  for (let i = 0; i < reference.length; i++) {
    if (Math.abs((ours[i] as number) - (reference[i] as number)) > rel * Math.abs(reference[i] as number) + abs) bad++;
  }
  return bad;
}
