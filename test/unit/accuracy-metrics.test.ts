// bench/accuracy/metrics.mjs against Python mir_eval 0.8.2: the expected numbers were generated
// once by bench/accuracy/make-metric-expected.py (committed JSON), so this runs without Python.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { beatOffsets, continuity, evaluatePiece, fMeasure, matchEvents, trimBeats } from '../../bench/accuracy/metrics.mjs';

interface Case {
  name: string;
  reference: number[];
  estimate: number[];
  f_measure: number;
  cmlc: number;
  cmlt: number;
  amlc: number;
  amlt: number;
}
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/rhythm/mir_eval_metrics.json'), 'utf8')) as {
  mir_eval: string;
  cases: Case[];
};

describe('accuracy metrics = mir_eval', () => {
  it('has the reference cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(15);
    // the cases must exercise the metrics: some perfect, some partial, some zero
    expect(fixture.cases.some((c) => c.f_measure > 0 && c.f_measure < 1)).toBe(true);
    expect(fixture.cases.some((c) => c.amlt > c.cmlt)).toBe(true);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: F-measure and continuity`, () => {
      const ref = trimBeats(c.reference);
      const est = trimBeats(c.estimate);
      expect(fMeasure(ref, est)).toBeCloseTo(c.f_measure, 12);
      const k = continuity(ref, est);
      expect(k.cmlc).toBeCloseTo(c.cmlc, 12);
      expect(k.cmlt).toBeCloseTo(c.cmlt, 12);
      expect(k.amlc).toBeCloseTo(c.amlc, 12);
      expect(k.amlt).toBeCloseTo(c.amlt, 12);
    });
  }

  it('matching is maximal, not greedy', () => {
    // greedy nearest-first would pair est 1.05 with ref 1.0 and leave ref 1.1 unmatched
    expect(matchEvents([1.0, 1.1], [0.98, 1.05], 0.07)).toHaveLength(2);
  });

  it('offsets are est - ref of matched beats; evaluatePiece trims the first 5 s', () => {
    const ref = Array.from({ length: 40 }, (_, i) => i * 0.5);
    const est = ref.map((t) => t + 0.012);
    const off = beatOffsets(trimBeats(ref), trimBeats(est));
    expect(off.length).toBe(30);
    for (const o of off) expect(o).toBeCloseTo(0.012, 9);
    const m = evaluatePiece(
      { beats: ref, downbeats: ref.filter((_, i) => i % 4 === 0), beatsPerBar: 4, tempo: 120 },
      { beats: est, downbeats: est.filter((_, i) => i % 4 === 1), beatsPerBar: 3, tempoBpm: 60 },
    );
    expect(m.beatF).toBe(1);
    expect(m.downbeatF).toBe(0);
    expect(m.medianOffsetMs).toBeCloseTo(12, 6);
    expect(m.meterRight).toBe(false);
    expect(m.tempoAcc1).toBe(false);
    expect(m.tempoAcc2).toBe(true);
    expect(m.tempoErrPct).toBeCloseTo(-50, 9);
  });
});
