// Benchmark: Beat This!'s two postprocessors on the same logits — ours ('minimal' peak picking and
// 'dbn', native/src/beat/beat_this.cc) against beat_this 1.1.0's own dbn=True path (madmom's
// DBNDownBeatTrackingProcessor, bench/beat-this-dbn-madmom.py) — for agreement and time per minute.
// Random-weight networks cannot be scored for accuracy, so the logits are made two ways:
//   synthetic: annotated beat grids (steady, ramped, 2/3/4 beats per bar, 60-190 BPM), each beat a
//     Gaussian bump (sigma 1 frame) in the beat class and each downbeat in the downbeat class, plus
//     noise, some beats dropped and spurious bumps added (seeded); the ground truth is known.
//   beatnet: BeatNet's CRNN activations on the accuracy corpus's audio (real network output),
//     p_beat = beat + downbeat (Beat This!'s beat class includes downbeats), p_downbeat = downbeat.
// Agreement: beat and downbeat F-measure (+-70 ms) of ours against madmom's, identical beat lists,
// same meter; F against the truth for the synthetic ones. Times: CPU seconds per minute of logits.
// Run: npm run build:ts && node bench/beat-this-dbn.mjs --python <python with madmom 0.16.1>
//        [--corpus bench/accuracy/corpus] [--pieces 12]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { fMeasure } from './accuracy/metrics.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    python: { type: 'string', default: join(HERE, '..', '.venv-rhythm', 'bin', 'python') },
    corpus: { type: 'string', default: join(HERE, 'accuracy', 'corpus') },
    pieces: { type: 'string', default: '12' },
    json: { type: 'string' },
  },
});
const { beatThisPostprocess } = await import('../dist/entries/analysis.js');
const { RhythmTracker, decodeAudio } = await import('../dist/index.js');
const FPS = 50;

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const gauss = (r) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
const logit = (p) => Math.log(p / (1 - p));

/** Beat times of a grid from bpm0 to bpm1 (linear ramp) over `seconds`, starting at `start`. */
function grid(bpm0, bpm1, seconds, start) {
  const beats = [];
  for (let t = start; t < seconds - 0.1; ) {
    beats.push(t);
    t += 60 / (bpm0 + ((bpm1 - bpm0) * t) / seconds);
  }
  return beats;
}

function synthetic() {
  const cases = [];
  const specs = [
    [60, 60, 4],
    [72, 72, 3],
    [90, 90, 4],
    [100, 100, 2],
    [110, 110, 3],
    [120, 120, 4],
    [132, 132, 3],
    [140, 140, 4],
    [160, 160, 4],
    [176, 176, 3],
    [190, 190, 4],
    [90, 140, 4],
    [120, 85, 3],
  ];
  for (const [i, [b0, b1, meter]] of specs.entries()) {
    for (const noise of [0.05, 0.15]) {
      const r = rng(1000 + i * 7 + (noise > 0.1 ? 1 : 0));
      const seconds = 60;
      const frames = seconds * FPS;
      const beats = grid(b0, b1, seconds, 0.3 + r() * 0.5);
      const phase = Math.floor(r() * meter);
      const downbeats = beats.filter((_, k) => (k - phase) % meter === 0);
      const pb = new Float64Array(frames).fill(0.02);
      const pd = new Float64Array(frames).fill(0.02);
      const bump = (p, t, height) => {
        const c = t * FPS;
        for (let f = Math.max(0, Math.floor(c - 4)); f <= Math.min(frames - 1, Math.ceil(c + 4)); f++)
          p[f] = Math.max(p[f], height * Math.exp(-((f - c) ** 2) / 2));
      };
      for (const t of beats) if (r() > noise) bump(pb, t, 0.6 + 0.35 * r()); // some beats missed
      for (const t of downbeats) if (r() > noise) bump(pd, t, 0.5 + 0.4 * r());
      const spurious = Math.round(noise * beats.length);
      for (let k = 0; k < spurious; k++) bump(pb, r() * seconds, 0.3 + 0.4 * r());
      const beat = new Float32Array(frames);
      const downbeat = new Float32Array(frames);
      for (let f = 0; f < frames; f++) {
        beat[f] = logit(Math.min(0.999, Math.max(0.001, pb[f] + noise * 0.3 * gauss(r))));
        downbeat[f] = logit(Math.min(0.999, Math.max(0.001, Math.min(pd[f], pb[f] + 0.05) + noise * 0.2 * gauss(r))));
      }
      cases.push({ name: `syn_${b0}-${b1}_${meter}_n${noise}`, kind: 'synthetic', meter, beat, downbeat, truth: { beats, downbeats } });
    }
  }
  return cases;
}

async function fromBeatnet() {
  if (!existsSync(values.corpus)) return [];
  const files = readdirSync(values.corpus)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, Number(values.pieces));
  const tracker = await RhythmTracker.open({ intraOpThreads: 1, interOpThreads: 1 });
  const cases = [];
  for (const file of files) {
    const audio = await decodeAudio(join(values.corpus, file), { mono: true });
    const r = await tracker.track(audio.samples, audio.sampleRate, { returnActivations: true });
    const a = r.activations;
    const frames = a.length / 3;
    const beat = new Float32Array(frames);
    const downbeat = new Float32Array(frames);
    const clip = (p) => Math.min(1 - 1e-6, Math.max(1e-6, p));
    for (let f = 0; f < frames; f++) {
      beat[f] = logit(clip(a[3 * f] + a[3 * f + 1]));
      downbeat[f] = logit(clip(a[3 * f + 1]));
    }
    cases.push({ name: `bn_${file.replace(/\.wav$/, '')}`, kind: 'beatnet', beat, downbeat });
  }
  await tracker.close();
  return cases;
}

const cases = [...synthetic(), ...(await fromBeatnet())];
const dir = mkdtempSync(join(tmpdir(), 'beat-this-dbn-'));
try {
  for (const c of cases) {
    writeFileSync(join(dir, `${c.name}.beat.f32`), Buffer.from(c.beat.buffer));
    writeFileSync(join(dir, `${c.name}.downbeat.f32`), Buffer.from(c.downbeat.buffer));
  }
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => ({ name: c.name, meters: [3, 4] }))));
  execFileSync(values.python, [join(HERE, 'beat-this-dbn-madmom.py'), dir], { stdio: 'inherit' });
  const ref = JSON.parse(readFileSync(join(dir, 'madmom.json'), 'utf8'));
  const rows = [];
  const totals = { minimal: 0, dbn: 0, madmom: 0, minutes: 0 };
  for (const c of cases) {
    const run = async (postprocess) => {
      const u0 = process.cpuUsage();
      const r = await beatThisPostprocess(c.beat, c.downbeat, { postprocess, meters: [3, 4] });
      const u = process.cpuUsage(u0);
      return { r, cpu: (u.user + u.system) / 1e6 };
    };
    const dbn = await run('dbn');
    const min = await run('minimal');
    const m = ref[c.name];
    const minutes = c.beat.length / FPS / 60;
    totals.minutes += minutes;
    totals.dbn += dbn.cpu;
    totals.minimal += min.cpu;
    totals.madmom += m.cpuSeconds;
    const ours = Array.from(dbn.r.beats);
    const same = ours.length === m.beats.length && ours.every((t, i) => Math.abs(t - m.beats[i]) < 1e-6);
    const row = {
      name: c.name,
      kind: c.kind,
      beatF: fMeasure(m.beats, ours),
      downbeatF: fMeasure(m.downbeats, Array.from(dbn.r.downbeats)),
      identical: same,
      meterOurs: dbn.r.beatsPerBar,
      meterMadmom: m.beatsPerBar,
    };
    if (c.truth) {
      // Each postprocessor's beats (or downbeats) against the annotated grid.
      const vsTruth = (key) => ({
        dbn: fMeasure(c.truth[key], Array.from(dbn.r[key])),
        madmom: fMeasure(c.truth[key], m[key]),
        minimal: fMeasure(c.truth[key], Array.from(min.r[key])),
      });
      row.truthBeatF = vsTruth('beats');
      row.truthDownbeatF = vsTruth('downbeats');
      row.truthMeter = c.meter;
      row.meterMinimal = min.r.beatsPerBar;
    }
    rows.push(row);
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    `CPU: ${cpus()[0]?.model ?? '?'} (${cpus().length} logical), load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`${cases.length} cases, ${totals.minutes.toFixed(1)} min of logits`);
  for (const kind of ['synthetic', 'beatnet']) {
    const rs = rows.filter((r) => r.kind === kind);
    if (!rs.length) continue;
    console.log(
      `${kind.padEnd(9)} n=${rs.length}: ours-vs-madmom beat F ${mean(rs.map((r) => r.beatF)).toFixed(4)} (min ${Math.min(...rs.map((r) => r.beatF)).toFixed(3)}), ` +
        `downbeat F ${mean(rs.map((r) => r.downbeatF)).toFixed(4)}, identical beat lists ${rs.filter((r) => r.identical).length}/${rs.length}, ` +
        `same meter ${rs.filter((r) => r.meterOurs === r.meterMadmom).length}/${rs.length}`,
    );
    if (kind === 'synthetic') {
      for (const k of ['dbn', 'madmom', 'minimal'])
        console.log(
          `  vs truth ${k.padEnd(7)} beat F ${mean(rs.map((r) => r.truthBeatF[k])).toFixed(4)}  downbeat F ${mean(rs.map((r) => r.truthDownbeatF[k])).toFixed(4)}`,
        );
      console.log(
        `  meter right: dbn ${rs.filter((r) => r.meterOurs === r.truthMeter).length}/${rs.length} (2/4 is not a candidate: ${rs.filter((r) => r.truthMeter === 2).length} cases), minimal ${rs.filter((r) => r.meterMinimal === r.truthMeter).length}/${rs.length}`,
      );
    }
  }
  const per = (s) => (s / totals.minutes).toFixed(4);
  console.log(`CPU s per minute of audio: minimal ${per(totals.minimal)}, dbn (ours) ${per(totals.dbn)}, madmom dbn (Python) ${per(totals.madmom)}`);
  for (const r of rows.filter((x) => !x.identical))
    console.log(`  differs: ${r.name} beat F ${r.beatF.toFixed(3)} downbeat F ${r.downbeatF.toFixed(3)} meter ${r.meterOurs} vs ${r.meterMadmom}`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ totals, rows }, null, 1));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
