// close() / Symbol.asyncDispose of the four model objects (one native handle type,
// native/src/napi/handle.h): close waits for calls in flight, later calls fail with DE_CLOSED,
// closing twice is fine. The RSS bound of many open → run → close cycles is in
// test/leak/model-handles.leak.mjs (run by test/native/leak.test.ts).
import { describe, expect, it } from 'vitest';

import { ModelError } from '../../lib/errors.js';
import { createTranscriber } from '../../lib/models/basicPitch/index.js';
import { buildDemucsStandIn, createSeparator } from '../../lib/models/demucs/index.js';
import { beatnetModelPath, RhythmTracker } from '../../lib/models/rhythm.js';
import { createSession } from '../../lib/models/session.js';
import { ensureOrtRuntime } from '../../lib/models/runtime.js';
import { loadBinding } from '../../lib/native/load.js';
import { linearExpected, linearModel } from '../helpers/linearModel.js';

function tone(frames: number, channels: number): Float32Array {
  const x = new Float32Array(frames * channels);
  for (let i = 0; i < x.length; i++) x[i] = 0.4 * Math.sin((i / channels) * 0.06) * (1 + (i % channels));
  return x;
}

/** Records the order in which promises settle. */
function track<T>(order: string[], name: string, p: Promise<T>): Promise<T> {
  return p.then(
    (v) => {
      order.push(name);
      return v;
    },
    (e: unknown) => {
      order.push(name);
      throw e;
    },
  );
}

/**
 * Starts `call`, then close(): close must settle after the call (it waits for it), and a call after
 * it must reject with DE_CLOSED from `op`. Returns the call's result.
 */
async function closeWaitsFor<T>(name: string, op: string, call: () => Promise<T>, close: () => Promise<void>): Promise<T> {
  const order: string[] = [];
  const running = track(order, name, call());
  const closed = track(order, 'close', close());
  const result = await running;
  await closed;
  expect(order).toEqual([name, 'close']);
  const err = await call().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelError);
  expect(err).toMatchObject({ code: 'DE_CLOSED', op });
  return result;
}

describe('OrtSession lifecycle', () => {
  it('close() waits for runs in flight, which finish with the right numbers', async () => {
    const session = await createSession(linearModel());
    const order: string[] = [];
    const inputs = Array.from({ length: 12 }, (_, i) => [i, -i / 2, 1 + i / 3]);
    expect(inputs.length).toBeGreaterThan(0);
    const runs = inputs.map((x, i) => track(order, `run${i}`, session.run({ x: { data: new Float32Array(x), dims: [1, 3] } })));
    const closed = track(order, 'close', session.close());
    expect(session.closed).toBe(true);
    const results = await Promise.all(runs);
    await closed;
    results.forEach((r, i) => {
      const want = linearExpected(inputs[i]!);
      expect(r.y!.data[0]).toBeCloseTo(want[0]!, 5);
      expect(r.y!.data[1]).toBeCloseTo(want[1]!, 5);
    });
    expect(order).toHaveLength(inputs.length + 1);
    expect(order.at(-1)).toBe('close');
  });

  it('a run after close() rejects with DE_CLOSED, also while the close is still pending', async () => {
    const session = await createSession(linearModel());
    const inFlight = session.run({ x: { data: new Float32Array([1, 2, 3]), dims: [1, 3] } });
    const closing = session.close();
    const during = await session.run({ x: { data: new Float32Array([1, 2, 3]), dims: [1, 3] } }).catch((e: unknown) => e);
    expect(during).toBeInstanceOf(ModelError);
    expect(during).toMatchObject({ code: 'DE_CLOSED', op: 'run' });
    await inFlight;
    await closing;
    const after = await session.run({ x: { data: new Float32Array([1, 2, 3]), dims: [1, 3] } }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(ModelError);
    expect(after).toMatchObject({ code: 'DE_CLOSED' });
    // The metadata stays readable.
    expect(session.inputs).toEqual([{ name: 'x', shape: [-1, 3], type: 'float32' }]);
  });

  it('closing twice (and through Symbol.asyncDispose) is fine', async () => {
    const session = await createSession(linearModel());
    const a = session.close();
    const b = session.close();
    expect(b).toBe(a);
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined]);
    await expect(session[Symbol.asyncDispose]()).resolves.toBeUndefined();
    await expect(session.close()).resolves.toBeUndefined();

    const disposed = await createSession(linearModel());
    await disposed[Symbol.asyncDispose]();
    await expect(disposed.run({ x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toMatchObject({ code: 'DE_CLOSED' });
  });

  it('closing the raw handle twice natively resolves both, and a handle of one kind is refused by another', async () => {
    await ensureOrtRuntime();
    const binding = loadBinding();
    const opened = await binding.createSession(linearModel(), { intraOpThreads: 1, interOpThreads: 1, providers: ['cpu'] });
    const wrongKind = (): unknown =>
      binding.demucsSeparate(opened.handle as never, { path: 'x.wav' }, { overlap: 0.25, transitionPower: 1, shifts: 0, seed: 0, batch: 1, segmentSeconds: 0 });
    expect(wrongKind).toThrow(expect.objectContaining({ code: 'DE_INVALID_ARGUMENT' }));
    expect(() => binding.modelClose({} as never)).toThrow(expect.objectContaining({ code: 'DE_INVALID_ARGUMENT' }));
    await Promise.all([binding.modelClose(opened.handle), binding.modelClose(opened.handle)]);
    await binding.modelClose(opened.handle);
    expect(() => binding.sessionRun(opened.handle, { x: { data: new Float32Array(3), dims: [1, 3] } })).toThrow(
      expect.objectContaining({ code: 'DE_CLOSED', op: 'run' }),
    );
  });
});

describe('Separator lifecycle', () => {
  it('close() waits for a separation in flight; later separations reject with DE_CLOSED', async () => {
    const separator = await createSeparator(buildDemucsStandIn());
    const x = tone(44100, 2);
    const result = await closeWaitsFor(
      'separate',
      'separate',
      () => separator.separate({ samples: x, sampleRate: 44100, channels: 2 }),
      () => separator.close(),
    );
    expect(result.stems).toHaveLength(4);
    expect(result.frames).toBe(44100);
    await expect(separator.close()).resolves.toBeUndefined();
  });
});

describe('Separator lifecycle, failed calls', () => {
  it('a separation that fails (aborted) still releases the handle, so close() resolves', async () => {
    const separator = await createSeparator(buildDemucsStandIn());
    const controller = new AbortController();
    const x = tone(44100 * 20, 2);
    const order: string[] = [];
    const running = track(
      order,
      'separate',
      separator.separate(
        { samples: x, sampleRate: 44100, channels: 2 },
        {
          signal: controller.signal,
          onProgress: () => controller.abort(),
        },
      ),
    );
    const closed = track(order, 'close', separator.close());
    const err = await running.catch((e: unknown) => e);
    await closed;
    expect(err).toMatchObject({ code: 'DE_ABORTED' });
    expect(order).toEqual(['separate', 'close']);
  });
});

describe('Transcriber lifecycle', () => {
  it('close() waits for a transcription in flight; later transcriptions reject with DE_CLOSED', async () => {
    const transcriber = await createTranscriber();
    const x = tone(22050 * 2, 1);
    const result = await closeWaitsFor(
      'transcribe',
      'transcribe',
      () => transcriber.transcribe({ samples: x, sampleRate: 22050, channels: 1 }),
      () => transcriber.close(),
    );
    expect(result.frames).toBeGreaterThan(0);
    await transcriber[Symbol.asyncDispose]();
  });
});

describe('RhythmTracker lifecycle (the shared model handle)', () => {
  // Clicks at 120 BPM, 6 s at 22,050 Hz: enough for the tracker to find beats.
  function clicks(): Float32Array {
    const sr = 22050;
    const x = new Float32Array(sr * 6);
    for (let beat = 0; beat < 12; beat++) {
      const start = Math.round(beat * 0.5 * sr);
      for (let i = 0; i < 200; i++) x[start + i] = 0.8 * Math.sin(i * 0.5) * Math.exp(-i / 40);
    }
    return x;
  }

  it('close() waits for a track in flight; later calls reject with DE_CLOSED', async () => {
    const tracker = await RhythmTracker.open();
    const result = await closeWaitsFor(
      'track',
      'trackRhythm',
      () => tracker.track(clicks(), 22050),
      () => {
        const closing = tracker.close();
        expect(tracker.closed).toBe(true);
        return closing;
      },
    );
    expect(result.beats.length).toBeGreaterThan(4);
    await expect(tracker.close()).resolves.toBeUndefined();
    await expect(tracker[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });

  it('the raw handle is a model handle: modelClose frees it, trackRhythm after it throws DE_CLOSED, other kinds are refused', async () => {
    await ensureOrtRuntime();
    const binding = loadBinding();
    const opened = await binding.rhythmOpen(beatnetModelPath(), { intraOpThreads: 1, interOpThreads: 1, providers: ['cpu'] });
    const options = {
      meters: [3, 4],
      minBpm: 55,
      maxBpm: 215,
      numTempi: 60,
      transitionLambda: 100,
      observationLambda: 16,
      threshold: 0.05,
      correct: true,
      fps: 50,
      refine: true,
      keepActivations: false,
      barCues: true,
      normalizeLevel: true,
      percussiveObservation: true,
      percussiveGrid: true,
      compoundMeters: true,
      oddMeters: true,
      percussiveBackbeat: true,
      sectionRepair: true,
    };
    // A rhythm handle is not a session handle, and a session call refuses it.
    expect(() => binding.sessionRun(opened.handle as never, {})).toThrow(expect.objectContaining({ code: 'DE_INVALID_ARGUMENT' }));
    await binding.modelClose(opened.handle);
    await binding.modelClose(opened.handle);
    expect(() => binding.trackRhythm(opened.handle, clicks(), options)).toThrow(expect.objectContaining({ code: 'DE_CLOSED', op: 'trackRhythm' }));
  });

  it('opening checks the session options natively (no unchecked casts to int)', async () => {
    await ensureOrtRuntime();
    const binding = loadBinding();
    for (const intraOpThreads of [Number.NaN, 1e12, 1.5, 0]) {
      expect(() => binding.rhythmOpen(beatnetModelPath(), { intraOpThreads, interOpThreads: 1, providers: ['cpu'] })).toThrow(
        expect.objectContaining({ code: 'DE_INVALID_ARGUMENT', op: 'rhythmOpen' }),
      );
    }
  });
});
