// Beat / downbeat / meter / tempo accuracy of both trackers on the annotated corpus
// (bench/accuracy/build-corpus.mjs), metrics the mir_eval way (bench/accuracy/metrics.mjs).
//
//   npm run build:ts && npm run bench:accuracy -- [options]
//     --model PATH        BeatNet ONNX file for the "beatnet" tracker (repeat to compare variants;
//                         default: the package's default variant)
//     --meters 2,3,4      candidate beats per bar (meter detection on)
//     --no-detect-meter   decode every piece with its annotated beats per bar instead
//     --trackers L        librosa,beatnet (default both)
//     --recurrent-precision float16|float32   the built-in CRNN's LSTM weights (default float16)
//     --only TEXT         pieces whose name contains TEXT
//     --results FILE      also score precomputed results (repeatable), e.g. BeatNet's own Python
//                         pipeline from reference-beatnet.py: {name, pieces: {piece: {beats, downbeats, beatsPerBar, tempoBpm}}}
//     --json FILE         write every number as JSON
//     --rebuild           rebuild the corpus first
//
// Tracker "librosa": today's code path (beatTrack at analysis_sr 22,050 Hz; downbeats = every
// 4th beat from the first, as the bar grid does with the default 4/4). Tracker "beatnet":
// RhythmTracker / trackRhythm from dist/index.js.
import { cpus } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildCorpus, DEFAULT_CORPUS } from './build-corpus.mjs';
import { evaluatePiece, trimBeats, beatOffsets } from './metrics.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGETS = { beatF: 0.85, downbeatF: 0.6, downbeatFStretch: 0.75, meterAcc: 0.8, clickTempo: [119.5, 120.5], clickOffsetMs: 10 };
const ANALYSIS_SR = 22050; // PipelineConfig analysis_sr default
// Reported separately: made here (clicks, drum patterns), rendered from MIDI/ABC through a
// soundfont, and produced music (LMMS demo projects and Hydrogen songs rendered with their own
// instruments and mix, tracker modules, rock MIDI through two soundfonts with amp distortion and bus
// compression); the kinds table below splits the produced group by source.
const GROUPS = ['synthetic', 'rendered', 'produced'];
const PRODUCED_KINDS = new Set(['lmms', 'hydrogen', 'tracker', 'rock']);
const groupOf = (kind) => (kind === 'click' || kind === 'drums' ? 'synthetic' : PRODUCED_KINDS.has(kind) ? 'produced' : 'rendered');
// --percussive: which parts of the percussive-onset evidence the learned tracker uses (ablation):
// off, obs (fused into the DBN observation), grid (off-beat / half-tempo check), both (the two).
// bb: the backbeat template alone; all: observation, template and grid check (default).
// --no-section-repair: without the one-phase, one-tempo-level repair of the decoded sections.
const PERCUSSIVE = {
  off: { percussiveObservation: false, percussiveGrid: false, percussiveBackbeat: false },
  obs: { percussiveObservation: true, percussiveGrid: false, percussiveBackbeat: false },
  grid: { percussiveObservation: false, percussiveGrid: true, percussiveBackbeat: false },
  both: { percussiveObservation: true, percussiveGrid: true, percussiveBackbeat: false },
  bb: { percussiveObservation: false, percussiveGrid: false, percussiveBackbeat: true },
  obsbb: { percussiveObservation: true, percussiveGrid: false, percussiveBackbeat: true },
  all: { percussiveObservation: true, percussiveGrid: true, percussiveBackbeat: true },
};

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    meters: { type: 'string', default: '2,3,4' },
    'no-detect-meter': { type: 'boolean', default: false },
    trackers: { type: 'string', default: 'librosa,beatnet' },
    only: { type: 'string' },
    json: { type: 'string' },
    results: { type: 'string', multiple: true },
    corpus: { type: 'string' },
    rebuild: { type: 'boolean', default: false },
    produced: { type: 'string' },
    percussive: { type: 'string', default: 'all' },
    'no-section-repair': { type: 'boolean', default: false },
    'recurrent-precision': { type: 'string' },
  },
});

if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  console.error('bench:accuracy: dist/ is missing; run `npm run build:ts` (and the native build) first');
  process.exit(1);
}
const lib = await import(join(ROOT, 'dist', 'index.js'));

const corpusDir = values.corpus ?? DEFAULT_CORPUS;
const manifest = await buildCorpus({ out: corpusDir, force: values.rebuild, ...(values.produced ? { produced: Number(values.produced) } : {}) });
const pieces = manifest.pieces.filter((p) => !values.only || p.name.includes(values.only));
if (!pieces.length) {
  console.error('bench:accuracy: no pieces');
  process.exit(1);
}
const meters = values.meters.split(',').map(Number);
const detectMeter = !values['no-detect-meter'];

// ------------------------------------------------------------------ trackers

function librosaTracker() {
  return {
    name: 'librosa',
    async run(samples, sampleRate) {
      const y = sampleRate === ANALYSIS_SR ? samples : await lib.resample(samples, { inRate: sampleRate, outRate: ANALYSIS_SR });
      const r = await lib.beatTrack(y, ANALYSIS_SR);
      const beats = Array.from(r.beatTimes);
      return { beats, downbeats: beats.filter((_, i) => i % 4 === 0), beatsPerBar: 4, tempoBpm: r.tempo };
    },
  };
}

// ADAPTER (beatnet): the one place that knows the learned tracker's API (lib/models/rhythm.ts).
async function beatnetTracker(model, percussive = 'all', labelled = false) {
  if (typeof lib.RhythmTracker?.open !== 'function' && typeof lib.trackRhythm !== 'function') {
    console.error('bench:accuracy: trackRhythm is not exported by dist/index.js; running librosa only');
    return null;
  }
  // --recurrent-precision float32|float16: the built-in CRNN's LSTM weights (default float16)
  const precision = values['recurrent-precision'] ? { recurrentPrecision: values['recurrent-precision'] } : {};
  const tracker = lib.RhythmTracker ? await lib.RhythmTracker.open({ ...(model ? { model } : {}), ...precision }) : null;
  const base = model ? `beatnet:${basename(model, '.onnx')}` : `beatnet:${basename(lib.beatnetModelPath?.() ?? 'default', '.onnx')}`;
  const label = labelled ? `${base}+${percussive}` : base;
  return {
    name: label,
    async run(samples, sampleRate, piece) {
      const opts = {
        ...(detectMeter ? { meters, detectMeter: true } : { detectMeter: false, beatsPerBar: piece.beatsPerBar ?? 4 }),
        ...PERCUSSIVE[percussive],
        ...(values['no-section-repair'] ? { sectionRepair: false } : {}),
        // DIDACTIC_BENCH_METERS=off: without the compound and 5/7 checks (the before of issue 24's item 4)
        ...(process.env.DIDACTIC_BENCH_METERS === 'off' ? { compoundMeters: false, oddMeters: false } : {}),
      };
      const r = tracker ? await tracker.track(samples, sampleRate, opts) : await lib.trackRhythm(samples, sampleRate, { ...opts, ...(model ? { model } : {}) });
      return {
        beats: Array.from(r.beats),
        downbeats: Array.from(r.downbeats),
        beatsPerBar: r.beatsPerBar,
        ...(r.meter ? { meter: `${r.meter.numerator}/${r.meter.denominator}` } : {}),
        tempoBpm: r.tempoBpm,
        confidence: r.confidence,
      };
    },
    close() {
      tracker?.close();
    },
  };
}

const trackers = [];
const wanted = values.trackers.split(',');
if (wanted.includes('librosa')) trackers.push(librosaTracker());
if (wanted.includes('beatnet')) {
  const variants = values.percussive.split(',');
  for (const v of variants) {
    if (!PERCUSSIVE[v]) {
      console.error(`bench:accuracy: --percussive takes ${Object.keys(PERCUSSIVE).join(', ')} (comma-separated), not ${v}`);
      process.exit(1);
    }
  }
  for (const m of values.model ?? [undefined]) {
    for (const v of variants) {
      const t = await beatnetTracker(m, v, variants.length > 1);
      if (t) trackers.push(t);
    }
  }
}

for (const file of values.results ?? []) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  if (r.corpusVersion !== undefined && r.corpusVersion !== manifest.version) {
    console.error(`bench:accuracy: ${file} was made on corpus v${r.corpusVersion}, the corpus is v${manifest.version}`);
  }
  trackers.push({
    name: r.name ?? basename(file, '.json'),
    precomputed: true,
    async run(_samples, _rate, piece) {
      const e = r.pieces[piece.name];
      if (!e) throw new Error(`${file}: no result for ${piece.name}`);
      return e;
    },
  });
}

// ------------------------------------------------------------------ run

const fmt = (x, d = 2) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

const results = []; // { piece, tracker, metrics, seconds, est }
console.log(
  `bench:accuracy: ${pieces.length} pieces, trackers ${trackers.map((t) => t.name).join(', ')}, meters ${detectMeter ? `[${meters}]` : 'fixed to the annotation'}`,
);
const header = ['piece', 'meter', ...trackers.flatMap((t) => [`${t.name} F`, 'dbF', 'AMLt', 'off ms', 'BPM', 'bpb'])];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const piece of pieces) {
  const decoded = await lib.decodeAudio(join(corpusDir, piece.file), { mono: true });
  const row = [piece.name, piece.meter];
  for (const t of trackers) {
    const t0 = performance.now();
    const est = await t.run(decoded.samples, decoded.sampleRate, piece);
    const seconds = (performance.now() - t0) / 1000;
    const m = evaluatePiece(piece, est);
    results.push({ piece: piece.name, kind: piece.kind, tracker: t.name, metrics: m, seconds: t.precomputed ? null : seconds, duration: piece.duration, est });
    row.push(fmt(m.beatF), fmt(m.downbeatF), fmt(m.amlt), fmt(m.medianOffsetMs, 1), fmt(est.tempoBpm, 1), String(est.meter ?? est.beatsPerBar ?? '–'));
  }
  console.log(`| ${row.join(' | ')} |`);
}
for (const t of trackers) t.close?.();
// The meter as written (6/8, 7/8, …) against the annotation, where the tracker spells one.
for (const t of trackers) {
  const spelled = results.filter((r) => r.tracker === t.name && r.est.meter);
  if (spelled.length === 0) continue;
  const right = spelled.filter((r) => r.est.meter === pieces.find((p) => p.name === r.piece)?.meter);
  const wrong = spelled.filter((r) => !right.includes(r)).map((r) => `${r.piece} ${r.est.meter}`);
  console.log(`\n${t.name}: meter spelled right on ${right.length} of ${spelled.length} pieces${wrong.length ? ` (wrong: ${wrong.join(', ')})` : ''}`);
}

// ------------------------------------------------------------------ summary

const summary = {};
for (const t of trackers) {
  const rs = results.filter((r) => r.tracker === t.name);
  const known = rs.filter((r) => r.metrics.meterRight !== null);
  const clicks = rs.filter((r) => r.kind === 'click');
  const click120 = rs.find((r) => r.piece === 'click_120_4-4');
  const clickOffsets = clicks.flatMap((r) => beatOffsets(trimBeats(pieces.find((p) => p.name === r.piece).beats), trimBeats(r.est.beats)));
  const byKind = {};
  for (const kind of [...new Set(rs.map((r) => r.kind))]) {
    const k = rs.filter((r) => r.kind === kind);
    byKind[kind] = { n: k.length, beatF: mean(k.map((r) => r.metrics.beatF)), downbeatF: mean(k.map((r) => r.metrics.downbeatF)) };
  }
  const byGroup = {};
  for (const group of GROUPS) {
    const g = rs.filter((r) => groupOf(r.kind) === group);
    if (!g.length) continue;
    const m = (f) => mean(g.map((r) => r.metrics[f]));
    byGroup[group] = { n: g.length, beatF: m('beatF'), downbeatF: m('downbeatF'), cmlt: m('cmlt'), amlt: m('amlt') };
  }
  summary[t.name] = {
    pieces: rs.length,
    byGroup,
    beatF: mean(rs.map((r) => r.metrics.beatF)),
    downbeatF: mean(rs.map((r) => r.metrics.downbeatF)),
    cmlt: mean(rs.map((r) => r.metrics.cmlt)),
    amlt: mean(rs.map((r) => r.metrics.amlt)),
    meterAcc: known.length ? known.filter((r) => r.metrics.meterRight).length / known.length : null,
    tempoAcc1: mean(rs.map((r) => (r.metrics.tempoAcc1 ? 1 : 0))),
    tempoAcc2: mean(rs.map((r) => (r.metrics.tempoAcc2 ? 1 : 0))),
    click120Tempo: click120?.est.tempoBpm ?? null,
    clickMedianAbsOffsetMs: clickOffsets.length ? median(clickOffsets.map(Math.abs)) * 1000 : null,
    clickMedianOffsetMs: clickOffsets.length ? median(clickOffsets) * 1000 : null,
    medianOffsetMs: median(rs.map((r) => r.metrics.medianOffsetMs).filter((x) => x != null)),
    secondsPerMinuteOfAudio: t.precomputed ? null : (60 * rs.reduce((a, r) => a + r.seconds, 0)) / rs.reduce((a, r) => a + r.duration, 0),
    byKind,
  };
}

const names = trackers.map((t) => t.name);
console.log(`\n| group (n) | ${names.map((n) => `${n} beat F / downbeat F / CMLt / AMLt`).join(' | ')} |\n|---|${names.map(() => '---').join('|')}|`);
for (const g of GROUPS) {
  const n = summary[names[0]].byGroup[g]?.n;
  if (!n) continue;
  console.log(
    `| ${g} (${n}) | ${names
      .map((t) => {
        const x = summary[t].byGroup[g];
        return `${fmt(x.beatF, 3)} / ${fmt(x.downbeatF, 3)} / ${fmt(x.cmlt, 3)} / ${fmt(x.amlt, 3)}`;
      })
      .join(' | ')} |`,
  );
}
const pass = (ok) => (ok == null ? '' : ok ? ' ✓' : ' ✗');
const lines = [
  ['mean beat F (70 ms, first 5 s ignored)', `≥ ${TARGETS.beatF}`, (s) => `${fmt(s.beatF, 3)}${pass(s.beatF >= TARGETS.beatF)}`],
  ['mean downbeat F', `≥ ${TARGETS.downbeatF} (stretch ${TARGETS.downbeatFStretch})`, (s) => `${fmt(s.downbeatF, 3)}${pass(s.downbeatF >= TARGETS.downbeatF)}`],
  ['mean CMLt / AMLt', '', (s) => `${fmt(s.cmlt, 3)} / ${fmt(s.amlt, 3)}`],
  ['beats per bar right (known meter)', `≥ ${TARGETS.meterAcc * 100} %`, (s) => `${fmt(s.meterAcc * 100, 0)} %${pass(s.meterAcc >= TARGETS.meterAcc)}`],
  ['tempo within 4 % (×1 / ×2, ×½, ×3, ×⅓)', '', (s) => `${fmt(s.tempoAcc1 * 100, 0)} % / ${fmt(s.tempoAcc2 * 100, 0)} %`],
  [
    '120 BPM click reported as',
    '120.0 ± 0.5',
    (s) => `${fmt(s.click120Tempo, 2)}${pass(s.click120Tempo == null ? null : Math.abs(s.click120Tempo - 120) <= 0.5)}`,
  ],
  [
    'median |beat offset| on clicks',
    `≤ ${TARGETS.clickOffsetMs} ms`,
    (s) => `${fmt(s.clickMedianAbsOffsetMs, 1)} ms${pass(s.clickMedianAbsOffsetMs == null ? null : s.clickMedianAbsOffsetMs <= TARGETS.clickOffsetMs)}`,
  ],
  ['median signed offset: clicks / all pieces', '', (s) => `${fmt(s.clickMedianOffsetMs, 1)} / ${fmt(s.medianOffsetMs, 1)} ms`],
  ['time per minute of audio', '', (s) => `${fmt(s.secondsPerMinuteOfAudio, 3)} s`],
];
console.log(`\n| metric | target | ${names.join(' | ')} |\n|---|---|${names.map(() => '---').join('|')}|`);
for (const [label, target, f] of lines) console.log(`| ${label} | ${target} | ${names.map((n) => f(summary[n])).join(' | ')} |`);
const kinds = [...new Set(results.map((r) => r.kind))];
console.log(`\n| kind (n) | ${names.map((n) => `${n} beat F / downbeat F`).join(' | ')} |\n|---|${names.map(() => '---').join('|')}|`);
for (const k of kinds) {
  const n = summary[names[0]].byKind[k].n;
  console.log(`| ${k} (${n}) | ${names.map((t) => `${fmt(summary[t].byKind[k].beatF, 3)} / ${fmt(summary[t].byKind[k].downbeatF, 3)}`).join(' | ')} |`);
}
console.log(`\nCPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores); corpus v${manifest.version}, ${pieces.length} pieces`);

if (values.json) {
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        cpu: cpus()[0]?.model,
        corpusVersion: manifest.version,
        options: { meters, detectMeter, models: values.model ?? null },
        targets: TARGETS,
        summary,
        pieces: results.map(({ est, ...r }) => ({
          ...r,
          est: {
            beatsPerBar: est.beatsPerBar,
            tempoBpm: est.tempoBpm,
            beats: est.beats.length,
            ...(est.confidence !== undefined ? { confidence: est.confidence } : {}),
          },
        })),
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote ${values.json}`);
}
