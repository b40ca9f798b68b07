import { describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { PipelineConfig } from '../../lib/pipeline/config.js';
import { assertSongFits, availableMemoryBytes, MEMORY_MODEL, maxDurationWithin, planSongMemory, songMemoryBudgetBytes } from '../../lib/pipeline/memory.js';

const MiB = 1024 * 1024;
const cfg = (over: Record<string, unknown> = {}) => new PipelineConfig({ songId: 's', inputWav: 'x.wav', outDir: 'o', ...over }, { warn: null });
const stereo = (seconds: number, rate = 44100) => ({ frames: Math.round(seconds * rate), sampleRate: rate, channels: 2 });
const step = (plan: ReturnType<typeof planSongMemory>, n: number) => plan.steps.find((s) => s.step === n)!.bytes;

describe('planSongMemory', () => {
  const noModels = cfg({ useDemucsSeparation: false, useBasicPitchTranscription: false, beatTracker: 'librosa' });

  it('steps 2 and 3 are the buffers they allocate: mono decode, analysis audio, normalised copy, the 44.1 kHz preprocessed file', () => {
    const plan = planSongMemory(stereo(60), noModels);
    const F = 60 * 44100; // input frames, decoded to mono (no separation, no native chunks)
    const Fa = 60 * 22050; // analysis frames
    expect(step(plan, 2) - MEMORY_MODEL.baseBytes).toBe(4 * F + 4 * Fa);
    expect(step(plan, 3) - MEMORY_MODEL.baseBytes).toBe(4 * F + 4 * Fa + 4 * Fa + 4 * F);
    // No preprocessing: step 3 adds nothing.
    const raw = planSongMemory(stereo(60), cfg({ useDemucsSeparation: false, useBasicPitchTranscription: false, usePydubPreprocess: false }));
    expect(step(raw, 3)).toBe(step(raw, 2));
  });

  it('separation keeps every channel in step 2 and peaks in step 5 with four 44.1 kHz stereo stems', () => {
    const plan = planSongMemory(stereo(600), cfg());
    const F = 600 * 44100;
    expect(step(plan, 2) - MEMORY_MODEL.baseBytes).toBe(4 * 2 * F + 4 * F + 4 * (F / 2));
    expect(plan.peakStep.step).toBe(5);
    // The stems alone are 4 × 2 channels × 4 bytes per frame.
    expect(step(plan, 5)).toBeGreaterThan(32 * F + MEMORY_MODEL.demucsFixedBytes);
    // Turning separation off removes step 5 and lowers the peak.
    const off = planSongMemory(stereo(600), cfg({ useDemucsSeparation: false }));
    expect(off.steps.some((s) => s.step === 5)).toBe(false);
    expect(off.peakBytes).toBeLessThan(plan.peakBytes);
  });

  it('grows linearly with the input length (and a higher input rate costs more)', () => {
    for (const c of [noModels, cfg(), cfg({ useDemucsSeparation: false })]) {
      const p1 = planSongMemory(stereo(600), c).peakBytes;
      const p2 = planSongMemory(stereo(1200), c).peakBytes;
      const p3 = planSongMemory(stereo(1800), c).peakBytes;
      expect(p2).toBeGreaterThan(p1);
      expect(Math.abs(p3 - p2 - (p2 - p1))).toBeLessThan(0.02 * (p2 - p1));
    }
    expect(planSongMemory(stereo(600, 96000), noModels).peakBytes).toBeGreaterThan(planSongMemory(stereo(600, 44100), noModels).peakBytes);
  });

  it("the issue's 6-hour 44.1 kHz stereo WAV plans past 14 GiB in step 4 with the learned tracker (as measured), librosa's less", () => {
    const sixHours = stereo(6 * 3600);
    const beatnet = planSongMemory(sixHours, cfg({ useDemucsSeparation: false, useBasicPitchTranscription: false }));
    expect(step(beatnet, 4)).toBeGreaterThan(14 * 1024 * MiB);
    const librosa = planSongMemory(sixHours, noModels);
    expect(step(librosa, 4)).toBeLessThan(step(beatnet, 4));
  });

  it('step 7 counts the stems run at once', () => {
    const one = planSongMemory(stereo(600), cfg(), 1);
    const four = planSongMemory(stereo(600), cfg(), 4);
    expect(step(four, 7)).toBeGreaterThan(step(one, 7));
    // A single full_mix stem cannot run more than once at a time.
    const c = cfg({ useDemucsSeparation: false });
    expect(step(planSongMemory(stereo(600), c, 4), 7)).toBe(step(planSongMemory(stereo(600), c, 1), 7));
  });
});

describe('the budget', () => {
  it('memory_budget_mb is MiB; the default is half the available memory divided by the songs at once', () => {
    expect(songMemoryBudgetBytes(512)).toBe(512 * MiB);
    expect(songMemoryBudgetBytes(null)).toBe(Math.floor(availableMemoryBytes() / 2));
    expect(songMemoryBudgetBytes(null, 4)).toBe(Math.floor(availableMemoryBytes() / 8));
  });

  it('the config field: null by default, a positive integer, not part of combined.json', () => {
    expect(cfg().memoryBudgetMb).toBeNull();
    expect(cfg({ memory_budget_mb: 2048 }).memoryBudgetMb).toBe(2048);
    expect(() => cfg({ memoryBudgetMb: 0 })).toThrow(/memory_budget_mb must be a positive number of MiB/);
    expect(() => cfg({ memoryBudgetMb: 1.5 })).toThrow(/memory_budget_mb must be an integer/);
    expect(Object.keys(cfg({ memoryBudgetMb: 64 }).toSummaryConfig())).not.toContain('memory_budget_mb');
  });

  it('assertSongFits refuses with DE_RESOURCE_LIMIT naming the duration, the planned bytes, the budget and the setting', () => {
    const c = cfg({ useDemucsSeparation: false });
    const shape = stereo(3600);
    const plan = planSongMemory(shape, c);
    const budget = plan.peakBytes - 1;
    let caught: unknown;
    try {
      assertSongFits('song.wav', shape, c, budget);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DidacticError);
    const e = caught as DidacticError;
    expect(e.code).toBe('DE_RESOURCE_LIMIT');
    expect(e.message).toContain('song.wav: 1 h 0 min of audio (44100 Hz, 2 ch)');
    expect(e.message).toContain(`about ${Math.ceil(plan.peakBytes / MiB)} MiB`);
    expect(e.message).toContain(`budget of ${Math.ceil(budget / MiB)} MiB`);
    expect(e.message).toContain('memory_budget_mb (CLI --memory-budget)');
    expect(e.details).toMatchObject({ planned_bytes: plan.peakBytes, budget_bytes: budget, peak_step: plan.peakStep.step });
    // Within the budget it returns the plan.
    expect(assertSongFits('song.wav', shape, c, plan.peakBytes).peakBytes).toBe(plan.peakBytes);
  });

  it('maxDurationWithin is the longest input that fits', () => {
    const c = cfg();
    const budget = 4096 * MiB;
    const s = maxDurationWithin({ sampleRate: 44100, channels: 2 }, c, budget);
    expect(s).toBeGreaterThan(60);
    expect(planSongMemory(stereo(s), c).peakBytes).toBeLessThanOrEqual(budget);
    expect(planSongMemory(stereo(s + 1), c).peakBytes).toBeGreaterThan(budget);
    expect(maxDurationWithin({ sampleRate: 44100, channels: 2 }, c, MEMORY_MODEL.baseBytes)).toBe(0);
  });
});
