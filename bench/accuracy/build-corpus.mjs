// Builds the annotated rhythm corpus for bench/accuracy into bench/accuracy/corpus/ (git-ignored):
// WAV files (22,050 Hz mono, 16-bit) and manifest.json with each piece's beats, beat positions,
// downbeats, meter, source package and licence.
//
//   node bench/accuracy/build-corpus.mjs [--out DIR] [--force]
//
// Three kinds of material, all reproducible (fixed seeds, Debian packages by name):
//  - synthetic click tracks and drum patterns made here (2/4, 3/4, 4/4, 6/8, 7/8; constant tempo,
//    ramps, steps, pickups; clicks accent the downbeat, drum pieces mark it only by the pattern);
//  - synthetic General-MIDI arrangements written here as MIDI and rendered with fluidsynth;
//  - MIDI files and ABC tunes from Debian packages (`apt-get download` + `dpkg-deb -x`, nothing
//    installed), ABC through abc2midi, rendered with fluidsynth and the FluidR3 GM soundfont;
//    beats and downbeats from the MIDI's tempo map and time signatures;
//  - produced music: the LMMS demo projects of Debian's `lmms-common`, rendered headless with
//    `lmms -r` (needs `lmms`, `sox`), beats from the project's tempo and time signature, each grid
//    checked against the audio's onsets (a number per window in the manifest) and dropped when it
//    does not align; likewise Hydrogen's demo songs (`h2cli`), the ProTracker modules of
//    `freedroid-data` (`openmpt123`; beats from the pattern data's row clock) and dense rock/metal
//    MIDI written here, rendered through two soundfonts with sox distortion and bus compression.
//    `--produced N` takes the first N of each of these four sources.
// Needs `fluidsynth`, `fluid-soundfont-gm` and `abcmidi` (apt) for the rendered pieces; without
// them those pieces are skipped with a message and the synthetic audio pieces are still built.
// Nothing here is tuned to a tracker: the pieces were chosen for variety before any run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { seededRandom } from '../../scripts/example-song.mjs';

export const SR = 22050;
const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_CORPUS = join(HERE, 'corpus');
const SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2';
const CORPUS_VERSION = 5; // bump when the piece list or the synthesis changes

// ------------------------------------------------------------------ small utilities

function gaussian(rng) {
  return Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
}

export function writeWav16(path, samples, sampleRate = SR) {
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const gain = peak > 0 ? 0.89 / peak : 0;
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(Math.round(samples[i] * gain * 32767), 44 + 2 * i);
  writeFileSync(path, buf);
}

/** 16-bit PCM WAV (any channel count) -> mono Float32Array. */
export function readWav16(path) {
  const b = readFileSync(path);
  let off = 12;
  let channels = 1;
  let rate = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
      if (b.readUInt16LE(off + 22) !== 16) throw new Error(`${path}: not 16-bit PCM`);
    } else if (id === 'data') {
      const n = Math.floor(Math.min(size, b.length - off - 8) / (2 * channels));
      const out = new Float32Array(n);
      const pcm = new Int16Array(b.buffer.slice(b.byteOffset + off + 8, b.byteOffset + off + 8 + n * channels * 2));
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < channels; c++) s += pcm[i * channels + c];
        out[i] = s / channels / 32768;
      }
      return { samples: out, sampleRate: rate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

// ------------------------------------------------------------------ synthetic pulse grids

/**
 * The pulse grid of a synthetic piece. A bar has `pulses` pulses (eighths in 6/8 and 7/8,
 * otherwise beats); `beatPulses` lists which pulses start a beat. `bpm(t)` is the beat tempo at
 * time t (for 6/8 the dotted quarter, for 7/8 the eighth). A pickup starts `pickup` pulses
 * before the first downbeat, at time `start`.
 */
function pulseGrid({ meter, bpm, seconds, pickup = 0, start = 0.0 }) {
  const { pulses, beatPulses, pulsesPerBeat } = meter;
  const out = [];
  let t = start;
  let k = (pulses - pickup) % pulses; // position of the first pulse in its bar
  while (t < seconds - 0.1) {
    out.push({ t, pulse: k, beat: beatPulses.indexOf(k), downbeat: k === 0 });
    t += 60 / bpm(t) / pulsesPerBeat;
    k = (k + 1) % pulses;
  }
  return out;
}

const METERS = {
  '2/4': { label: '2/4', beatsPerBar: 2, pulses: 2, beatPulses: [0, 1], pulsesPerBeat: 1 },
  '3/4': { label: '3/4', beatsPerBar: 3, pulses: 3, beatPulses: [0, 1, 2], pulsesPerBeat: 1 },
  '4/4': { label: '4/4', beatsPerBar: 4, pulses: 4, beatPulses: [0, 1, 2, 3], pulsesPerBeat: 1 },
  // compound: the beat is the dotted quarter, three eighth pulses each
  '6/8': { label: '6/8', beatsPerBar: 2, pulses: 6, beatPulses: [0, 3], pulsesPerBeat: 3 },
  // 7/8 counted in eighths (the beat), grouped 2+2+3 by the accents and the pattern
  '7/8': { label: '7/8', beatsPerBar: 7, pulses: 7, beatPulses: [0, 1, 2, 3, 4, 5, 6], pulsesPerBeat: 1, groups: [0, 2, 4] },
};

function annotate(grid) {
  const beats = grid.filter((p) => p.beat >= 0);
  return {
    beats: beats.map((p) => round6(p.t)),
    positions: beats.map((p) => p.beat + 1),
    downbeats: beats.filter((p) => p.downbeat).map((p) => round6(p.t)),
  };
}

const round6 = (x) => Math.round(x * 1e6) / 1e6;
const round3 = (x) => Math.round(x * 1e3) / 1e3;
const constant = (b) => () => b;
const ramp = (b0, b1, seconds) => (t) => b0 + (b1 - b0) * Math.min(1, t / seconds);
const step = (b0, b1, at) => (t) => (t < at ? b0 : b1);

// ------------------------------------------------------------------ synthetic audio

function burst(freq, dur, decay, amp) {
  const n = Math.round(dur * SR);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / SR) * Math.exp(-i / SR / decay);
  return out;
}

function drumKit(rng) {
  const n = Math.round(0.3 * SR);
  const kick = new Float32Array(n);
  const snare = new Float32Array(n);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SR;
    ph += (2 * Math.PI * (48 + 110 * Math.exp(-t / 0.03))) / SR;
    kick[i] = Math.sin(ph) * Math.exp(-t / 0.13);
    snare[i] = gaussian(rng) * 0.5 * Math.exp(-t / 0.06) + Math.sin((2 * Math.PI * 185 * i) / SR) * 0.45 * Math.exp(-t / 0.05);
  }
  const m = Math.round(0.06 * SR);
  const hat = new Float32Array(m);
  let prev = 0;
  for (let i = 0; i < m; i++) {
    const w = gaussian(rng);
    hat[i] = (w - prev) * 0.2 * Math.exp(-i / SR / 0.012);
    prev = w;
  }
  return { kick, snare, hat };
}

function mix(out, sig, t, gain) {
  const n0 = Math.round(t * SR);
  for (let i = 0; i < sig.length && n0 + i < out.length; i++) if (n0 + i >= 0) out[n0 + i] += sig[i] * gain;
}

/** Click track: downbeat high and loud, other beats mid, off-beat pulses (6/8, 7/8) soft ticks. */
function renderClicks(grid, seconds, meter) {
  const out = new Float32Array(Math.round(seconds * SR));
  const down = burst(1600, 0.04, 0.008, 1.0);
  const beat = burst(1000, 0.04, 0.008, 0.55);
  const group = burst(1250, 0.04, 0.008, 0.7);
  const tick = burst(800, 0.03, 0.005, 0.25);
  for (const p of grid) {
    if (p.downbeat) mix(out, down, p.t, 1);
    else if (meter.groups?.includes(p.pulse)) mix(out, group, p.t, 1);
    else if (p.beat >= 0 && !meter.groups) mix(out, beat, p.t, 1);
    else mix(out, tick, p.t, 1);
  }
  return out;
}

/** Drum pattern without dynamic accents: the bar is marked only by where kick and snare fall. */
function renderDrums(grid, seconds, meter, rng, { bass = false } = {}) {
  const out = new Float32Array(Math.round(seconds * SR));
  const kit = drumKit(rng);
  const pat = {
    '2/4': { kick: [0], snare: [1] },
    '3/4': { kick: [0], snare: [] },
    '4/4': { kick: [0, 2], snare: [1, 3] },
    '6/8': { kick: [0], snare: [3] },
    '7/8': { kick: [0], snare: [2, 4] },
  }[meter.label];
  const roots = [0, 5, 7, 3, 8, 10];
  let bar = -1;
  let root = 0;
  for (let i = 0; i < grid.length; i++) {
    const p = grid[i];
    const next = grid[i + 1]?.t ?? p.t + 0.3;
    if (p.downbeat) {
      bar++;
      root = roots[Math.floor(rng() * roots.length)];
    }
    if (pat.kick.includes(p.pulse)) mix(out, kit.kick, p.t, 0.9);
    if (pat.snare.includes(p.pulse)) mix(out, kit.snare, p.t, 0.6);
    if (meter.label === '3/4' && p.pulse > 0) mix(out, kit.snare, p.t, 0.25);
    mix(out, kit.hat, p.t, 0.5);
    if (meter.pulsesPerBeat === 1 && meter.label !== '7/8') mix(out, kit.hat, (p.t + next) / 2, 0.3);
    if (bass && bar >= 0 && p.beat >= 0) {
      // a bass note on each beat; the root changes only at the downbeat (harmonic rhythm)
      const f = 55 * 2 ** (root / 12);
      mix(out, burst(f, Math.min(0.45, next - p.t), 0.25, 0.5), p.t, 1);
    }
  }
  return out;
}

// ------------------------------------------------------------------ MIDI reading and writing

function readVarLen(b, o) {
  let v = 0;
  let n = 0;
  for (;;) {
    const c = b[o.i++];
    v = (v << 7) | (c & 0x7f);
    if (!(c & 0x80) || ++n > 4) return v;
  }
}

/** Standard MIDI file -> { division, tempos: [{tick, uspq}], timeSigs: [{tick, num, den}], noteOns: [tick] }. */
export function parseMidi(buf) {
  if (buf.toString('ascii', 0, 4) !== 'MThd') throw new Error('not a MIDI file');
  const ntrks = buf.readUInt16BE(10);
  const division = buf.readUInt16BE(12);
  if (division & 0x8000) throw new Error('SMPTE time division not supported');
  const tempos = [];
  const timeSigs = [];
  const noteOns = [];
  const events = []; // channel and tempo events with absolute ticks, for re-writing
  let off = 8 + buf.readUInt32BE(4);
  for (let tr = 0; tr < ntrks && off < buf.length; tr++) {
    if (buf.toString('ascii', off, off + 4) !== 'MTrk') throw new Error('bad track chunk');
    const len = buf.readUInt32BE(off + 4);
    const end = off + 8 + len;
    const o = { i: off + 8 };
    let tick = 0;
    let status = 0;
    while (o.i < end) {
      tick += readVarLen(buf, o);
      let s = buf[o.i];
      if (s & 0x80) o.i++;
      else s = status; // running status
      if (s === 0xff) {
        const type = buf[o.i++];
        const l = readVarLen(buf, o);
        if (type === 0x51) {
          tempos.push({ tick, uspq: (buf[o.i] << 16) | (buf[o.i + 1] << 8) | buf[o.i + 2] });
          events.push({ tick, bytes: [0xff, 0x51, 3, buf[o.i], buf[o.i + 1], buf[o.i + 2]], order: -2 });
        }
        if (type === 0x58) timeSigs.push({ tick, num: buf[o.i], den: 2 ** buf[o.i + 1] });
        o.i += l;
      } else if (s === 0xf0 || s === 0xf7) {
        o.i += readVarLen(buf, o);
      } else {
        status = s;
        const hi = s & 0xf0;
        const d1 = buf[o.i++];
        if (hi !== 0xc0 && hi !== 0xd0) {
          const d2 = buf[o.i++];
          if (hi === 0x90 && d2 > 0) noteOns.push(tick);
          const off = hi === 0x80 || (hi === 0x90 && d2 === 0);
          events.push({ tick, bytes: [s, d1, d2], order: off ? 0 : 1 });
        } else events.push({ tick, bytes: [s, d1], order: -1 });
      }
    }
    off = end;
  }
  tempos.sort((a, b) => a.tick - b.tick);
  timeSigs.sort((a, b) => a.tick - b.tick);
  noteOns.sort((a, b) => a - b);
  return { division, tempos, timeSigs, noteOns, events };
}

/** The tick at `seconds` under the MIDI's tempo map. */
function secondsToTick(midi, seconds) {
  const toSec = tickToSeconds(midi);
  let lo = 0;
  let hi = midi.division;
  while (toSec(hi) < seconds) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (toSec(mid) < seconds) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The MIDI's channel and tempo events up to `maxTick`, written as a format-0 file with all notes
 * released at the cut (fluidsynth renders a file to its end; some of these run for half an hour).
 */
function truncateMidi(midi, maxTick, path) {
  const kept = midi.events.filter((e) => e.tick <= maxTick).map((e) => ({ ...e, bytes: [...e.bytes] }));
  for (let ch = 0; ch < 16; ch++) kept.push({ tick: maxTick, order: 3, bytes: [0xb0 | ch, 123, 0] }); // all notes off
  writeMidi(path, kept, midi.division);
}

export function tickToSeconds(midi) {
  const tempos = midi.tempos.length && midi.tempos[0].tick === 0 ? midi.tempos : [{ tick: 0, uspq: 500000 }, ...midi.tempos];
  return (tick) => {
    if (tick < 0) return (tick * tempos[0].uspq) / 1e6 / midi.division;
    let s = 0;
    for (let i = 0; i < tempos.length; i++) {
      const t0 = tempos[i].tick;
      const t1 = i + 1 < tempos.length ? tempos[i + 1].tick : Infinity;
      if (tick <= t0) break;
      s += ((Math.min(tick, t1) - t0) * tempos[i].uspq) / 1e6 / midi.division;
    }
    return s;
  };
}

/**
 * Where the file's metrical grid sits: some sequencers start every note a few ticks after the
 * notated position (planetblupi's music004-009: +20 of 192 ticks, ~50 ms). The most common onset
 * phase modulo a sixteenth note, folded into [-1/32, +1/32) of a whole note, in ticks.
 */
export function gridShiftTicks(midi) {
  const sixteenth = midi.division / 4;
  const counts = new Map();
  for (const t of midi.noteOns) {
    const ph = Math.round(t % sixteenth);
    counts.set(ph, (counts.get(ph) ?? 0) + 1);
  }
  let best = 0;
  let bestCount = -1;
  for (const [ph, c] of counts) if (c > bestCount || (c === bestCount && ph < best)) [best, bestCount] = [ph, c];
  return best >= sixteenth / 2 ? best - sixteenth : best;
}

/** Beat grid from time signatures: bars start at `pickupTicks` (the first downbeat); compound x/8 meters count dotted quarters. */
export function midiBeats(midi, { pickupTicks = 0, untilTick }) {
  const sigs = midi.timeSigs.length ? midi.timeSigs : [{ tick: 0, num: 4, den: 4 }];
  const toSec = tickToSeconds(midi);
  const beats = [];
  const positions = [];
  const q = midi.division;
  const beatOf = (sig) => {
    const compound = sig.den === 8 && sig.num % 3 === 0 && sig.num > 3;
    return compound ? { n: sig.num / 3, len: (q * 3) / 2 } : { n: sig.num, len: (q * 4) / sig.den };
  };
  // pickup beats, counted back from the first downbeat in the first meter
  const first = beatOf(sigs[0]);
  for (let k = Math.floor(Math.max(0, pickupTicks) / first.len); k >= 1; k--) {
    const tick = pickupTicks - k * first.len;
    if (tick >= 0) {
      beats.push(toSec(tick));
      positions.push(first.n - k + 1);
    }
  }
  let tick = pickupTicks;
  let si = 0;
  while (tick < untilTick) {
    while (si + 1 < sigs.length && sigs[si + 1].tick <= tick) si++;
    const { n, len } = beatOf(sigs[si]);
    for (let b = 0; b < n; b++) {
      beats.push(toSec(tick + b * len));
      positions.push(b + 1);
    }
    tick += n * len;
  }
  const meters = [...new Set(sigs.map((s) => `${s.num}/${s.den}`))];
  return { beats, positions, meters, beatsPerBar: beatOf(sigs[0]).n };
}

function varLen(v) {
  const bytes = [v & 0x7f];
  while ((v >>= 7)) bytes.unshift((v & 0x7f) | 0x80);
  return bytes;
}

/** Writes a format-0 MIDI file from events [{tick, bytes}] (ticks per quarter 480). */
export function writeMidi(path, events, division = 480) {
  events.sort((a, b) => a.tick - b.tick || (a.order ?? 0) - (b.order ?? 0));
  const data = [];
  let last = 0;
  for (const e of events) {
    data.push(...varLen(e.tick - last), ...e.bytes);
    last = e.tick;
  }
  data.push(0, 0xff, 0x2f, 0);
  const head = Buffer.from([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, division >> 8, division & 0xff]);
  const trk = Buffer.alloc(8);
  trk.write('MTrk', 0);
  trk.writeUInt32BE(data.length, 4);
  writeFileSync(path, Buffer.concat([head, trk, Buffer.from(data)]));
}

/**
 * A General-MIDI arrangement on a synthetic pulse grid: one tempo event per pulse (so the grid's
 * times are the MIDI's), bass on the downbeat, chords on the other beats or arpeggios, a melody
 * from a seeded random walk, optional GM drums. Returns the MIDI path.
 */
function gmArrangement(path, grid, meter, rng, { program, bassProgram = 32, drums = false, arpeggio = false }) {
  const TPP = 480; // ticks per pulse
  const ev = [];
  const on = (tick, ch, key, vel, dur) => {
    ev.push({ tick, order: 1, bytes: [0x90 | ch, key, vel] });
    ev.push({ tick: tick + dur, order: 0, bytes: [0x80 | ch, key, 0] });
  };
  ev.push({ tick: 0, order: -1, bytes: [0xc0, program] }, { tick: 0, order: -1, bytes: [0xc1, bassProgram] }, { tick: 0, order: -1, bytes: [0xc2, program] });
  const progressions = [
    [0, 5, 7, 0],
    [0, 9, 5, 7],
    [0, 7, 9, 5],
    [2, 7, 0, 0],
  ];
  const prog = progressions[Math.floor(rng() * progressions.length)];
  const major = [0, 2, 4, 5, 7, 9, 11];
  let bar = -1;
  let melody = 4;
  for (let i = 0; i < grid.length; i++) {
    const p = grid[i];
    const dt = (grid[i + 1]?.t ?? p.t + 0.3) - p.t;
    ev.push({ tick: i * TPP, order: -2, bytes: [0xff, 0x51, 3, ...[16, 8, 0].map((s) => (Math.round(dt * 1e6) >> s) & 0xff)] });
    if (p.downbeat) bar++;
    const root = 48 + prog[Math.max(0, bar) % prog.length];
    const chord = [root + 12, root + 16, root + 19];
    if (p.downbeat) on(i * TPP, 1, root - 12, 100, TPP * Math.min(3, meter.pulses) - 20);
    if (arpeggio) on(i * TPP, 0, chord[p.pulse % 3] + (p.pulse >= 3 ? 12 : 0), p.beat === 0 ? 90 : 70, TPP - 10);
    else if (p.beat > 0 || (p.beat === 0 && !p.downbeat)) for (const k of chord) on(i * TPP, 0, k, 62, TPP - 40);
    if (p.beat >= 0 && rng() < 0.8) {
      melody = Math.max(0, Math.min(13, melody + Math.round(gaussian(rng) * 1.5)));
      const key = 72 + 12 * Math.floor(melody / 7) + major[melody % 7];
      on(i * TPP, 2, key, p.downbeat ? 96 : 76, TPP * meter.pulsesPerBeat - 30);
    }
    if (drums) {
      if (p.downbeat) on(i * TPP, 9, 36, 110, 60);
      else if (p.beat >= 0 && p.pulse % 2 === 1) on(i * TPP, 9, 38, 85, 60);
      on(i * TPP, 9, 42, 60, 30);
    }
  }
  writeMidi(path, ev);
  return path;
}

// ------------------------------------------------------------------ external tools

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function renderMidi(midiPath, wavPath, soundfont = SOUNDFONT) {
  execFileSync('fluidsynth', ['-ni', '-q', '-g', '0.6', '-r', String(SR), '-O', 's16', '-T', 'wav', '-F', wavPath, soundfont, midiPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return readWav16(wavPath);
}

/** `apt-get download` a Debian package into dir and unpack it there; returns { root, version }. */
function debPackage(name, dir) {
  const dest = join(dir, name);
  if (!existsSync(join(dest, '.done'))) {
    mkdirSync(dest, { recursive: true });
    execFileSync('apt-get', ['download', '-q', name], { cwd: dest, stdio: ['ignore', 'ignore', 'pipe'] });
    const deb = readdirSync(dest).find((f) => f.endsWith('.deb'));
    execFileSync('dpkg-deb', ['-x', join(dest, deb), join(dest, 'root')]);
    writeFileSync(join(dest, '.done'), deb);
  }
  const deb = readFileSync(join(dest, '.done'), 'utf8');
  return { root: join(dest, 'root'), version: deb.split('_')[1] };
}

// ------------------------------------------------------------------ the piece list

const SYNTHETIC = [
  // name, meter, tempo, seconds, pickup (pulses), start (s), style, options
  {
    name: 'click_120_4-4',
    meter: '4/4',
    bpm: constant(120),
    seconds: 32,
    style: 'click',
    tempo: 120,
    note: 'the 120 BPM click from 0 s (tempo and offset targets)',
  },
  { name: 'click_90_3-4', meter: '3/4', bpm: constant(90), seconds: 36, style: 'click', tempo: 90 },
  { name: 'click_140_2-4', meter: '2/4', bpm: constant(140), seconds: 30, style: 'click', tempo: 140 },
  { name: 'click_72_6-8', meter: '6/8', bpm: constant(72), seconds: 36, style: 'click', tempo: 72 },
  { name: 'click_176_7-8', meter: '7/8', bpm: constant(176), seconds: 34, style: 'click', tempo: 176, note: 'eighth = 176, accents 2+2+3' },
  { name: 'click_ramp_90-140_4-4', meter: '4/4', bpm: ramp(90, 140, 40), seconds: 44, style: 'click', note: 'linear ramp 90 -> 140 BPM over 40 s' },
  { name: 'click_step_100-130_3-4', meter: '3/4', bpm: step(100, 130, 20), seconds: 40, style: 'click', note: 'step 100 -> 130 BPM at 20 s' },
  {
    name: 'click_pickup_110_4-4',
    meter: '4/4',
    bpm: constant(110),
    seconds: 32,
    pickup: 2,
    start: 0.5,
    style: 'click',
    tempo: 110,
    note: 'two-beat pickup from 0.5 s',
  },
  { name: 'click_pickup_84_3-4', meter: '3/4', bpm: constant(84), seconds: 34, pickup: 1, start: 0.3, style: 'click', tempo: 84, note: 'one-beat pickup' },
  { name: 'drums_96_4-4', meter: '4/4', bpm: constant(96), seconds: 36, style: 'drums', tempo: 96 },
  { name: 'drums_128_4-4_bass', meter: '4/4', bpm: constant(128), seconds: 34, style: 'drums', bass: true, tempo: 128 },
  { name: 'drums_104_2-4', meter: '2/4', bpm: constant(104), seconds: 32, style: 'drums', tempo: 104 },
  {
    name: 'drums_150_3-4_bass',
    meter: '3/4',
    bpm: constant(150),
    seconds: 34,
    style: 'drums',
    bass: true,
    tempo: 150,
    note: 'waltz: kick on 1, snare on 2 and 3',
  },
  { name: 'drums_66_6-8', meter: '6/8', bpm: constant(66), seconds: 40, style: 'drums', tempo: 66 },
  {
    name: 'drums_200_7-8_bass',
    meter: '7/8',
    bpm: constant(200),
    seconds: 34,
    style: 'drums',
    bass: true,
    tempo: 200,
    note: 'eighth = 200, kick 1, snare 3 and 5',
  },
  { name: 'drums_ramp_120-85_4-4', meter: '4/4', bpm: ramp(120, 85, 38), seconds: 40, style: 'drums', note: 'ramp 120 -> 85 BPM' },
  { name: 'drums_step_60-78_6-8', meter: '6/8', bpm: step(60, 78, 22), seconds: 44, style: 'drums', note: 'step 60 -> 78 (dotted quarter) at 22 s' },
  {
    name: 'drums_pickup_100_4-4_bass',
    meter: '4/4',
    bpm: constant(100),
    seconds: 34,
    pickup: 3,
    start: 0.2,
    style: 'drums',
    bass: true,
    tempo: 100,
    note: 'three-beat pickup',
  },
  { name: 'gm_waltz_piano_132_3-4', meter: '3/4', bpm: constant(132), seconds: 40, style: 'gm', gm: { program: 0 }, tempo: 132 },
  {
    name: 'gm_strings_ramp_70-96_4-4',
    meter: '4/4',
    bpm: ramp(70, 96, 44),
    seconds: 48,
    style: 'gm',
    gm: { program: 48, bassProgram: 42 },
    note: 'strings, ramp 70 -> 96',
  },
  {
    name: 'gm_guitar_jig_100_6-8',
    meter: '6/8',
    bpm: constant(100),
    seconds: 36,
    pickup: 1,
    start: 0.1,
    style: 'gm',
    gm: { program: 24, arpeggio: true },
    tempo: 100,
    note: 'nylon guitar arpeggios, one-eighth pickup',
  },
  { name: 'gm_band_112_4-4', meter: '4/4', bpm: constant(112), seconds: 36, style: 'gm', gm: { program: 4, drums: true }, tempo: 112 },
  {
    name: 'gm_organ_step_90-120_2-4',
    meter: '2/4',
    bpm: step(90, 120, 18),
    seconds: 36,
    style: 'gm',
    gm: { program: 19, drums: true },
    note: 'organ with drums, step 90 -> 120',
  },
];

// MIDI files from planetblupi-music-midi (GPL-3+, © 1997 Daniel Roux, EPSITEC SA & Denis Dumoulin;
// 2017-2018 Mathieu Schroeter). All 4/4 at a constant tempo; bars start at tick 0.
const BLUPI = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ file: `music00${n}.mid` }));

// ABC tunes from abcmidi's examples (GPL-2+ package; the tunes are traditional). `pickup` is the
// anacrusis before the first bar line, read from the score, in quarter notes.
const ABC = [
  { file: 'boys.abc', title: 'The Boys of Carrigallen (jig)', pickup: 0.5 },
  { file: 'coleraine.abc', title: 'Coleraine (jig)', pickup: 0.5 },
  { file: 'baym_rebin.abc', title: "Baym Rebin's Sude (2/4)", pickup: 0.5 },
  { file: 'araber.abc', title: 'Araber tants (4/4)', pickup: 1 },
  { file: 'demo.abc', tune: 1, title: 'Horses Branle (4/4)', pickup: 0 },
  { file: 'demo.abc', tune: 2, title: 'Trumpet Hornpipe (4/4)', pickup: 0 },
  { file: 'demo.abc', tune: 3, title: 'Smash the Windows (jig, 6/8)', pickup: 0.5 },
];

const MAX_SECONDS = 45;

// ------------------------------------------------------------------ produced music (LMMS demos)

const LMMS_DEMOS = '/usr/share/lmms/projects/demos';
const PRODUCED_SECONDS = 45;

function lmmsProject(path) {
  const buf = readFileSync(path);
  // .mmpz: a 4-byte big-endian length, then zlib
  const xml = path.endsWith('.mmpz') ? inflateSync(buf.subarray(4)).toString('utf8') : buf.toString('utf8');
  const head = /<head\b([^>]*?)(\/?)>/.exec(xml);
  if (!head) return null;
  const attr = (k) => Number((new RegExp(`\\b${k}="([0-9.]+)"`).exec(head[1]) ?? [])[1]);
  // An automated tempo is stored as a <bpm id=…> child of <head>: no constant grid.
  const automated = head[2] !== '/' && /<head\b[^>]*>\s*<bpm\b[^>]*\bid=/.test(xml.slice(head.index, head.index + 2000));
  return { bpm: attr('bpm'), num: attr('timesig_numerator') || 4, den: attr('timesig_denominator') || 4, automated };
}

function packageVersion(name) {
  try {
    // dpkg-query's own format placeholder, not a template literal
    const format = ['$', '{Version}'].join('');
    return execFileSync('dpkg-query', ['-W', '-f', format, name], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Onset alignment of a beat grid: per 8 s window, the mean onset strength (positive log-energy
 * change of the broadband and the < 200 Hz signal, 10 ms frames, max from 10 ms before to 20 ms
 * after) at the grid's
 * beats divided by its mean at the same grid shifted by 1/8 … 7/8 of a beat. ≈ 1: the grid says
 * nothing about where the onsets are; a right grid sits on the attacks (> 1.2 here).
 * Also the lag (−40 … 40 ms) that maximises the beats' onset strength.
 */
export function gridAlignment(samples, sr, beats, { windowS = 8 } = {}) {
  const hop = Math.round(0.01 * sr);
  const frames = Math.floor(samples.length / hop);
  const onset = new Float64Array(frames);
  let lp = 0;
  const alpha = 1 - Math.exp((-2 * Math.PI * 200) / sr);
  let prevB = 0;
  let prevL = 0;
  for (let f = 0; f < frames; f++) {
    let eb = 1e-9;
    let el = 1e-9;
    for (let i = f * hop; i < (f + 1) * hop; i++) {
      const x = samples[i];
      lp += alpha * (x - lp);
      eb += x * x;
      el += lp * lp;
    }
    const b = Math.log(eb);
    const l = Math.log(el);
    onset[f] = f ? Math.max(0, b - prevB) + Math.max(0, l - prevL) : 0;
    prevB = b;
    prevL = l;
  }
  const fps = sr / hop;
  const at = (t) => {
    const c = Math.round(t * fps);
    let m = 0;
    for (let k = c - 1; k <= c + 2; k++) if (k >= 0 && k < frames) m = Math.max(m, onset[k]);
    return m;
  };
  const windows = [];
  const end = samples.length / sr;
  for (let w0 = 0; w0 + windowS / 2 <= end; w0 += windowS) {
    const idx = beats.map((_t, i) => i).filter((i) => beats[i] >= w0 && beats[i] < w0 + windowS && i + 1 < beats.length);
    if (idx.length < 4) continue;
    let on = 0;
    let off = 0;
    for (const i of idx) {
      const ibi = beats[i + 1] - beats[i];
      on += at(beats[i]);
      for (let s = 1; s < 8; s++) off += at(beats[i] + (s * ibi) / 8) / 7;
    }
    windows.push(Math.round((on / Math.max(off, 1e-9)) * 100) / 100);
  }
  let bestLag = 0;
  let bestSum = -1;
  for (let lag = -0.04; lag <= 0.0401; lag += 0.01) {
    let sum = 0;
    for (const t of beats) {
      const k = Math.round((t + lag) * fps);
      if (k >= 0 && k < frames) sum += onset[k];
    }
    if (sum > bestSum) {
      bestSum = sum;
      bestLag = Math.round(lag * 1000);
    }
  }
  const sorted = windows.slice().sort((a, b) => a - b);
  const median = sorted.length ? sorted[sorted.length >> 1] : 0;
  return { windows, median, lagMs: bestLag };
}

function producedPieces(out, pieces, skipped, log, limit) {
  if (!existsSync(LMMS_DEMOS) || !have('lmms') || !have('sox')) {
    skipped.push('produced music: lmms, lmms-common or sox missing (apt-get install lmms lmms-common sox)');
    return;
  }
  const cache = join(out, '.produced');
  mkdirSync(cache, { recursive: true });
  const version = packageVersion('lmms-common');
  const files = readdirSync(LMMS_DEMOS, { recursive: true })
    .map(String)
    .filter((f) => /\.mmpz?$/.test(f))
    .sort()
    .slice(0, limit);
  if (files.length < readdirSync(LMMS_DEMOS, { recursive: true }).filter((f) => /\.mmpz?$/.test(String(f))).length) {
    skipped.push(`produced music: only the first ${files.length} LMMS demo projects (--produced ${limit})`);
  }
  for (const file of files) {
    const name = `lmms_${basename(file)
      .replace(/\.mmpz?$/, '')
      .replace(/[^A-Za-z0-9]+/g, '_')}`;
    const project = lmmsProject(join(LMMS_DEMOS, file));
    if (!project || !(project.bpm > 0)) {
      skipped.push(`${name}: no tempo in the project`);
      continue;
    }
    if (project.automated) {
      skipped.push(`${name}: automated tempo (no constant grid)`);
      continue;
    }
    const full = join(cache, `${name}.full.wav`);
    if (!existsSync(full)) {
      log(`corpus: rendering ${file} with lmms`);
      try {
        // Rendered under a temporary name: an interrupted render is never taken for a cached one.
        execFileSync('lmms', ['--allowroot', '-r', join(LMMS_DEMOS, file), '-f', 'wav', '-o', `${full}.part.wav`], { stdio: 'ignore', timeout: 600_000 });
        renameSync(`${full}.part.wav`, full);
      } catch (e) {
        skipped.push(`${name}: lmms render failed (${e.message.split('\n')[0]})`);
        continue;
      }
    }
    // LMMS's tempo counts quarter notes. The beat is the quarter for x/4 and for the rarer x/2 and
    // x/1 (a 1/1 project is four quarters a bar); x/8 counts eighths, and 6/8 and 12/8 dotted
    // quarters (the corpus's conventions).
    const compound = project.den === 8 && project.num % 3 === 0 && project.num > 3;
    const beatsPerBar = compound ? project.num / 3 : project.den <= 4 ? (project.num * 4) / project.den : project.num;
    const beatS = (60 / project.bpm) * (project.den <= 4 ? 1 : 4 / project.den) * (compound ? 3 : 1);
    const barS = beatsPerBar * beatS;
    const fullS = Number(execFileSync('soxi', ['-D', full], { encoding: 'utf8' }).trim());
    // 45 s from the bar nearest 20 % of the way in (past most intros).
    const startBar = fullS > PRODUCED_SECONDS + 10 ? Math.round((0.2 * fullS) / barS) : 0;
    const start = startBar * barS;
    const duration = Math.min(PRODUCED_SECONDS, fullS - start);
    const wav = join(out, `${name}.wav`);
    execFileSync('sox', [full, '-r', String(SR), '-c', '1', '-b', '16', wav, 'trim', String(start), String(duration)], { stdio: 'ignore' });
    const audio = readWav16(wav).samples;
    const beats = [];
    const positions = [];
    for (let k = 0; k * beatS < audio.length / SR - 1e-9; k++) {
      beats.push(round6(k * beatS));
      positions.push((k % beatsPerBar) + 1);
    }
    const alignment = gridAlignment(audio, SR, beats);
    const aligned = alignment.median >= 1.2 && Math.abs(alignment.lagMs) <= 10;
    if (!aligned) {
      rmSync(wav, { force: true });
      skipped.push(`${name}: grid does not align with the audio (median onset ratio ${alignment.median}, lag ${alignment.lagMs} ms)`);
      continue;
    }
    pieces.push({
      name,
      file: `${name}.wav`,
      kind: 'lmms',
      duration: round6(audio.length / SR),
      meter: `${project.num}/${project.den}`,
      beatsPerBar,
      tempo: round3((60 / beatS) * 1),
      beats,
      positions,
      downbeats: beats.filter((_, i) => positions[i] === 1),
      alignment,
      source: `Debian lmms-common ${version}: usr/share/lmms/projects/demos/${file}, rendered with lmms -r, ${round3(start)} s to ${round3(start + duration)} s`,
      licence: 'lmms-common demo projects: see /usr/share/doc/lmms-common/copyright (GPL-2+ and the authors’ terms)',
      note: `tempo ${project.bpm} BPM and ${project.num}/${project.den} from the project file; onset alignment per 8 s window ${alignment.windows.join(', ')}`,
    });
  }
}

// ------------------------------------------------------------------ produced music: Hydrogen, tracker modules, rock MIDI

/**
 * Cuts a cached full render to at most 45 s from the first downbeat at or after 20 % of the way in
 * (from 0 s when the song is short), writes it at the corpus rate, checks the grid against the
 * audio and adds the piece, or records why it was dropped. `grid` is the full song's beats
 * ({ t, position }, position 1 = downbeat) on the render's timeline.
 */
function addProducedPiece(out, pieces, skipped, { name, kind, full, grid, meter, beatsPerBar, tempo, source, licence, note }) {
  const fullS = Number(execFileSync('soxi', ['-D', full], { encoding: 'utf8' }).trim());
  const downs = grid.filter((b) => b.position === 1 && b.t < fullS - 20);
  const late = fullS > PRODUCED_SECONDS + 10 ? downs.find((b) => b.t >= 0.2 * fullS) : undefined;
  const start = late ? late.t : 0;
  const duration = Math.min(PRODUCED_SECONDS, fullS - start);
  if (duration < 20) {
    skipped.push(`${name}: too short (${fullS.toFixed(1)} s)`);
    return;
  }
  const wav = join(out, `${name}.wav`);
  execFileSync('sox', [full, '-r', String(SR), '-c', '1', '-b', '16', wav, 'trim', String(start), String(duration)], { stdio: 'ignore' });
  const audio = readWav16(wav).samples;
  const end = audio.length / SR;
  const kept = grid.filter((b) => b.t >= start - 1e-9 && b.t - start < end - 1e-9);
  const beats = kept.map((b) => round6(b.t - start));
  const positions = kept.map((b) => b.position);
  const alignment = gridAlignment(audio, SR, beats);
  if (!(alignment.median >= 1.2 && Math.abs(alignment.lagMs) <= 10)) {
    rmSync(wav, { force: true });
    skipped.push(`${name}: grid does not align with the audio (median onset ratio ${alignment.median}, lag ${alignment.lagMs} ms)`);
    return;
  }
  pieces.push({
    name,
    file: `${name}.wav`,
    kind,
    duration: round6(end),
    meter,
    beatsPerBar,
    tempo,
    beats,
    positions,
    downbeats: beats.filter((_, i) => positions[i] === 1),
    alignment,
    source: `${source}, ${round3(start)} s to ${round3(start + duration)} s`,
    licence,
    note: `${note}; onset alignment per 8 s window ${alignment.windows.join(', ')}`,
  });
}

const HYDROGEN_DEMOS = '/usr/share/hydrogen/data/demo_songs';

/**
 * A Hydrogen song's beat grid: the song is its <patternSequence> of groups played one after the
 * other, each as long as its longest pattern (<size> in ticks, 48 a quarter note at Hydrogen's
 * fixed resolution); a beat every quarter, the downbeat at each group's start. Constant tempo
 * only (an active BPM timeline is refused).
 */
export function hydrogenGrid(xml) {
  const bpm = Number((/<bpm>([0-9.]+)<\/bpm>/.exec(xml) ?? [])[1]);
  const timeline = /<isTimelineActivated>true</.test(xml) && /<BPMTimeLine>\s*<newBPM>/.test(xml);
  const sizes = new Map();
  for (const m of xml.matchAll(/<pattern>\s*<name>([^<]*)<\/name>[\s\S]*?<size>(\d+)<\/size>/g)) sizes.set(m[1], Number(m[2]));
  const seq = /<patternSequence>([\s\S]*?)<\/patternSequence>/.exec(xml)?.[1] ?? '';
  const groups = [...seq.matchAll(/<group>([\s\S]*?)<\/group>|<group\s*\/>/g)].map((g) =>
    [...(g[1] ?? '').matchAll(/<patternID>([^<]*)<\/patternID>/g)].map((p) => sizes.get(p[1]) ?? 0),
  );
  const tickS = 60 / bpm / 48;
  const grid = [];
  let tick = 0;
  const lengths = new Set();
  for (const g of groups) {
    const len = Math.max(0, ...g) || 192; // an empty column plays as one 4/4 bar of silence
    lengths.add(len);
    for (let k = 0; k * 48 < len; k++) grid.push({ t: (tick + k * 48) * tickS, position: k + 1 });
    tick += len;
  }
  return { bpm, timeline, grid, barTicks: [...lengths], seconds: tick * tickS };
}

function hydrogenPieces(out, pieces, skipped, log, limit) {
  if (!existsSync(HYDROGEN_DEMOS) || !have('h2cli') || !have('sox')) {
    skipped.push('Hydrogen songs: hydrogen, hydrogen-data or sox missing (apt-get install hydrogen hydrogen-data sox)');
    return;
  }
  const cache = join(out, '.produced');
  mkdirSync(cache, { recursive: true });
  const version = packageVersion('hydrogen-data');
  const files = readdirSync(HYDROGEN_DEMOS)
    .filter((f) => f.endsWith('.h2song'))
    .sort()
    .slice(0, limit);
  for (const file of files) {
    const name = `h2_${file.replace(/\.h2song$/, '').replace(/[^A-Za-z0-9]+/g, '_')}`;
    const song = hydrogenGrid(readFileSync(join(HYDROGEN_DEMOS, file), 'utf8'));
    if (!(song.bpm > 0) || song.timeline) {
      skipped.push(`${name}: ${song.timeline ? 'tempo timeline (no constant grid)' : 'no tempo'}`);
      continue;
    }
    if (song.barTicks.some((t) => t % 48)) {
      skipped.push(`${name}: a pattern is not a whole number of quarter notes`);
      continue;
    }
    const full = join(cache, `${name}.full.wav`);
    if (!existsSync(full)) {
      log(`corpus: rendering ${file} with h2cli`);
      try {
        // h2cli exports about in real time; rendered under a temporary name (see the LMMS renders)
        execFileSync('h2cli', ['-s', join(HYDROGEN_DEMOS, file), '-o', `${full}.part.wav`, '-r', '44100', '-b', '16'], { stdio: 'ignore', timeout: 900_000 });
        renameSync(`${full}.part.wav`, full);
      } catch (e) {
        skipped.push(`${name}: h2cli render failed (${e.message.split('\n')[0]})`);
        continue;
      }
    }
    const bars = song.barTicks.map((t) => `${t / 48}/4`);
    addProducedPiece(out, pieces, skipped, {
      name,
      kind: 'hydrogen',
      full,
      grid: song.grid,
      meter: bars.length === 1 ? bars[0] : bars.join(','),
      beatsPerBar: bars.length === 1 ? song.barTicks[0] / 48 : null,
      tempo: song.bpm,
      source: `Debian hydrogen-data ${version}: usr/share/hydrogen/data/demo_songs/${file}, rendered with h2cli`,
      licence: 'hydrogen-data: GPL-2+ (demo songs and the GMRockKit/TR808 drumkits of the Hydrogen project)',
      note: `tempo ${song.bpm} BPM from the song file; a bar per pattern-sequence column (${bars.join(', ')}); the song's own humanize and swing left as they are`,
    });
  }
}

/**
 * A ProTracker-family module's row clock, played from order 0 as a tracker does: speed (ticks per
 * row) and tempo from Fxx (< 0x20 speed, else tempo; row = speed × 2.5 / tempo s), Dxx pattern
 * breaks and Bxx position jumps followed, the song ending where an order repeats. Rows per beat
 * are 4 (the trackers' convention, a row a sixteenth; 8 where 4 would be over 200 BPM) and a bar
 * 4 beats from a pattern's start. Refused: pattern loops (E6x) and delays (EEx), speed or tempo
 * changes, and breaks into a row off the beat grid (no single exact grid from the file alone).
 */
export function modGrid(bytes) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 1084) return { error: 'not a 31-sample MOD (too short)' };
  const sig = buf.toString('latin1', 1080, 1084);
  const channels =
    sig === 'M.K.' || sig === 'M!K!' || sig === 'FLT4' || sig === '4CHN'
      ? 4
      : /^\dCHN$/.test(sig)
        ? Number(sig[0])
        : /^\d\dCH$/.test(sig)
          ? Number(sig.slice(0, 2))
          : 0;
  if (!channels) return { error: `not a 31-sample MOD (signature ${JSON.stringify(sig)})` };
  const songLength = buf[950];
  const orders = [...buf.subarray(952, 952 + songLength)];
  const cell = (pat, row, ch) => {
    const o = 1084 + ((pat * 64 + row) * channels + ch) * 4;
    return { fx: buf[o + 2] & 0x0f, param: buf[o + 3] };
  };
  let speed = 6;
  let tempo = 125;
  let t = 0;
  const rows = [];
  const speeds = new Set();
  const seen = new Set();
  let order = 0;
  let row = 0;
  const breaks = [];
  while (order < songLength) {
    const key = `${order}:${row}`;
    if (seen.has(key)) break; // the song loops here
    seen.add(key);
    const pat = orders[order];
    let next = null;
    for (; row < 64; row++) {
      let brk = null;
      let jump = null;
      for (let ch = 0; ch < channels; ch++) {
        const { fx, param } = cell(pat, row, ch);
        if (fx === 0xf && param) {
          if (param < 0x20) speed = param;
          else tempo = param;
        } else if (fx === 0xf && !param) return { error: 'F00 (stop) in the song' };
        else if (fx === 0xd) brk = (param >> 4) * 10 + (param & 0x0f);
        else if (fx === 0xb) jump = param;
        else if (fx === 0xe && (param >> 4 === 0x6 || param >> 4 === 0xe) && param & 0x0f) return { error: 'pattern loop or delay (E6x/EEx)' };
      }
      speeds.add(`${speed}/${tempo}`);
      rows.push({ t, row });
      t += (speed * 2.5) / tempo;
      if (brk !== null || jump !== null) {
        next = { order: jump ?? order + 1, row: brk !== null && brk < 64 ? brk : 0 };
        break;
      }
    }
    if (next) {
      order = next.order; // a jump back to a row already played ends the song (the seen check)
      row = next.row;
    } else {
      order++;
      row = 0;
    }
    breaks.push(row);
  }
  if (speeds.size !== 1) return { error: `speed/tempo changes in the song (${[...speeds].join(', ')}): no single row clock` };
  // 4 rows a beat unless that is faster than 200 BPM (fast speeds write eighths as 4 rows)
  const [speed0, tempo0] = [...speeds][0].split('/').map(Number);
  const rowS = (speed0 * 2.5) / tempo0;
  let rowsPerBeat = 4;
  while (60 / (rowsPerBeat * rowS) > 200) rowsPerBeat *= 2;
  if (breaks.some((r) => r % rowsPerBeat)) return { error: 'a pattern break off the beat grid' };
  const grid = rows.filter((r) => r.row % rowsPerBeat === 0).map((r) => ({ t: r.t, position: Math.floor((r.row % (4 * rowsPerBeat)) / rowsPerBeat) + 1 }));
  return { grid, seconds: t, speeds: [...speeds], channels, rowsPerBeat, bpm: 60 / (rowsPerBeat * rowS) };
}

const MODULES = {
  pkg: 'freedroid-data',
  dir: 'usr/share/games/freedroid/sound',
  licence: 'freedroid-data: GPL-2+ (Debian copyright; the modules are credited to their authors in the file names)',
};

function trackerPieces(out, pieces, skipped, log, limit) {
  if (!have('openmpt123') || !have('sox')) {
    skipped.push('tracker modules: openmpt123 or sox missing (apt-get install openmpt123 sox)');
    return;
  }
  let pkg;
  try {
    pkg = debPackage(MODULES.pkg, join(out, '.src'));
  } catch (e) {
    skipped.push(`tracker modules: ${e.message.split('\n')[0]}`);
    return;
  }
  const cache = join(out, '.produced');
  mkdirSync(cache, { recursive: true });
  const dir = join(pkg.root, MODULES.dir);
  const files = readdirSync(dir)
    .filter((f) => /\.mod$/i.test(f))
    .sort()
    .slice(0, limit);
  for (const file of files) {
    const name = `mod_${file.replace(/\.mod$/i, '').replace(/[^A-Za-z0-9]+/g, '_')}`;
    const song = modGrid(readFileSync(join(dir, file)));
    if (song.error) {
      skipped.push(`${name}: ${song.error}`);
      continue;
    }
    const full = join(cache, `${name}.full.wav`);
    if (!existsSync(full)) {
      log(`corpus: rendering ${file} with openmpt123`);
      try {
        // once through (no repeat), 16-bit stereo WAV
        execFileSync(
          'openmpt123',
          [
            '--quiet',
            '--batch',
            '--no-float',
            '--samplerate',
            '44100',
            '--channels',
            '2',
            '--repeat',
            '0',
            '--force',
            '-o',
            `${full}.part.wav`,
            join(dir, file),
          ],
          { stdio: 'ignore', timeout: 300_000 },
        );
        renameSync(`${full}.part.wav`, full);
      } catch (e) {
        skipped.push(`${name}: openmpt123 render failed (${e.message.split('\n')[0]})`);
        continue;
      }
    }
    addProducedPiece(out, pieces, skipped, {
      name,
      kind: 'tracker',
      full,
      grid: song.grid,
      meter: '4/4',
      beatsPerBar: 4,
      tempo: round3(song.bpm),
      source: `Debian ${MODULES.pkg} ${pkg.version}: ${MODULES.dir}/${file}, rendered with openmpt123`,
      licence: MODULES.licence,
      note: `${song.channels}-channel MOD; row clock from the pattern data (speed/tempo ${song.speeds.join(', ')}), ${song.rowsPerBeat} rows a beat, 4 beats a bar from each pattern's start`,
    });
  }
}

/**
 * Dense rock and metal written here as General MIDI: two guitar tracks (distortion 30, overdrive
 * 29) in power chords, picked bass, drums with crashes on phrase downbeats and fills at phrase
 * ends. Each style is a bar pattern on a sixteenth grid; the `push` styles anticipate the next
 * bar by an eighth (the chord lands before the downbeat, as rock arrangements do).
 */
const ROCK = [
  { name: 'rock_punk_184', bpm: 184, style: 'punk', seed: 1 },
  { name: 'rock_drive_138', bpm: 138, style: 'drive', seed: 2 },
  { name: 'rock_push_124', bpm: 124, style: 'push', seed: 3 },
  { name: 'rock_gallop_152', bpm: 152, style: 'gallop', seed: 4 },
  { name: 'rock_offbeat_140', bpm: 140, style: 'offbeat', seed: 5 },
  { name: 'rock_doublekick_96', bpm: 96, style: 'doublekick', seed: 6 },
];

const ROCK_SOUNDFONTS = [
  { id: 'fluid', path: '/usr/share/sounds/sf2/FluidR3_GM.sf2', pkg: 'fluid-soundfont-gm', licence: 'FluidR3_GM: MIT' },
  { id: 'tim', path: '/usr/share/sounds/sf2/TimGM6mb.sf2', pkg: 'timgm6mb-soundfont', licence: 'TimGM6mb: GPL-2' },
];

// sixteenth-grid bar patterns (16 steps); k kick, s snare, h closed hat, o open hat, g guitar hit
const ROCK_STYLES = {
  punk: { k: [0, 4, 8, 12], s: [4, 12], h: [0, 2, 4, 6, 8, 10, 12, 14], g: [0, 2, 4, 6, 8, 10, 12, 14], b: [0, 2, 4, 6, 8, 10, 12, 14] },
  drive: { k: [0, 6, 8, 10], s: [4, 12], h: [0, 2, 4, 6, 8, 10, 12, 14], g: [0, 2, 4, 6, 8, 10, 12, 14], b: [0, 2, 4, 6, 8, 10, 12, 14], g2: [0, 3, 6, 10] },
  push: { k: [0, 3, 8, 11], s: [4, 12], h: [0, 2, 4, 6, 8, 10, 12, 14], g: [0, 3, 6, 8, 11, 14], b: [0, 3, 6, 8, 11, 14], push: true },
  gallop: {
    k: [0, 3, 4, 7, 8, 11, 12, 15],
    s: [4, 12],
    h: [0, 4, 8, 12],
    g: [0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15],
    b: [0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15],
  },
  offbeat: { k: [0, 8], s: [4, 12], h: [2, 6, 10, 14], o: [2, 6, 10, 14], g: [2, 6, 10, 14], b: [0, 3, 8, 11], push: true },
  doublekick: {
    k: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    s: [4, 12],
    h: [0, 2, 4, 6, 8, 10, 12, 14],
    g: [0, 1, 2, 3, 6, 8, 9, 10, 11, 14],
    b: [0, 2, 4, 6, 8, 10, 12, 14],
  },
};

/** Writes the guitars and the rhythm section (bass, drums) of a rock piece as two MIDI files; returns the grid. */
function rockArrangement(spec, seconds, guitarPath, rhythmPath) {
  const rng = seededRandom(7000 + spec.seed);
  const pat = ROCK_STYLES[spec.style];
  const Q = 480;
  const S = Q / 4;
  const bars = Math.ceil((seconds * spec.bpm) / 60 / 4) + 1;
  const uspq = Math.round(60e6 / spec.bpm);
  const tempoEv = { tick: 0, order: -2, bytes: [0xff, 0x51, 3, (uspq >> 16) & 0xff, (uspq >> 8) & 0xff, uspq & 0xff] };
  const gtr = [tempoEv, { tick: 0, order: -1, bytes: [0xc0, 30] }, { tick: 0, order: -1, bytes: [0xc1, 29] }];
  const rhy = [tempoEv, { tick: 0, order: -1, bytes: [0xc2, 34] }];
  const note = (ev, tick, ch, key, vel, dur) => {
    ev.push({ tick, order: 1, bytes: [0x90 | ch, key, vel] });
    ev.push({ tick: tick + dur, order: 0, bytes: [0x80 | ch, key, 0] });
  };
  const roots = [40, 43, 45, 38, 41, 36]; // E2 G2 A2 D2 F2 C2
  const chords = [];
  for (let p = 0; p < Math.ceil(bars / 4); p++) {
    const prog = [0, 1, 2, 3].map(() => roots[Math.floor(rng() * roots.length)]);
    chords.push(...prog);
  }
  const grid = [];
  for (let bar = 0; bar < bars; bar++) {
    const t0 = bar * 4 * Q;
    for (let b = 0; b < 4; b++) grid.push({ t: ((t0 + b * Q) * uspq) / 1e6 / Q, position: b + 1 });
    const phraseEnd = bar % 4 === 3;
    const phraseStart = bar % 4 === 0;
    const root = chords[bar];
    const nextRoot = chords[bar + 1] ?? root;
    const fill = phraseEnd && bar % 8 === 7;
    for (let s = 0; s < 16; s++) {
      const tick = t0 + s * S;
      const vel = 90 + Math.floor(rng() * 25);
      // anticipation: the last eighth of a bar already plays the next bar's chord
      const r = pat.push && s >= 14 ? nextRoot : root;
      if (fill && s >= 8) {
        // a sixteenth-note fill down the toms and snare over the last half bar
        note(rhy, tick, 9, [38, 48, 47, 45, 43, 41][Math.floor((s - 8) / 1.5)] ?? 41, 100 + Math.floor(rng() * 20), S);
        if (s % 4 === 0) note(rhy, tick, 9, 36, 110, S);
      } else {
        if (pat.k.includes(s)) note(rhy, tick, 9, 36, 105 + Math.floor(rng() * 15), S);
        if (pat.s.includes(s)) note(rhy, tick, 9, 38, 110 + Math.floor(rng() * 15), S);
        if (pat.o?.includes(s)) note(rhy, tick, 9, 46, 70 + Math.floor(rng() * 20), S);
        else if (pat.h.includes(s)) note(rhy, tick, 9, 42, 60 + Math.floor(rng() * 30), S);
      }
      if (s === 0 && phraseStart) note(rhy, tick, 9, 49, 120, Q);
      if (pat.g.includes(s)) {
        const next = pat.g.find((x) => x > s) ?? 16;
        const dur = Math.max(S, (next - s) * S - 20);
        for (const iv of [0, 7, 12]) note(gtr, tick, 0, r + 12 + iv, vel, dur);
      }
      if (pat.g2?.includes(s)) for (const iv of [0, 7]) note(gtr, tick, 1, r + 24 + iv, vel - 10, 2 * S);
      else if (!pat.g2 && s % 8 === 0) for (const iv of [0, 7]) note(gtr, tick, 1, r + 24 + iv, vel - 20, 8 * S - 30);
      if (pat.b.includes(s)) {
        const next = pat.b.find((x) => x > s) ?? 16;
        note(rhy, tick, 2, r, vel, Math.max(S, (next - s) * S - 20));
      }
    }
  }
  const end = bars * 4 * Q;
  for (const ev of [gtr, rhy]) for (let ch = 0; ch < 16; ch++) ev.push({ tick: end, order: 3, bytes: [0xb0 | ch, 123, 0] });
  writeMidi(guitarPath, gtr, Q);
  writeMidi(rhythmPath, rhy, Q);
  return grid.filter((b) => b.t < seconds);
}

/**
 * Renders each rock piece through each soundfont: guitars and rhythm section as separate stems
 * (fluidsynth), the guitars through sox `overdrive` (the amp), then mixed and put through a bus
 * compressor and a soft saturation (`compand`, `overdrive`) as a loud rock mix is.
 */
function rockPieces(out, pieces, skipped, log, limit) {
  if (!have('fluidsynth') || !have('sox')) {
    skipped.push('rock MIDI: fluidsynth or sox missing (apt-get install fluidsynth sox)');
    return;
  }
  const fonts = ROCK_SOUNDFONTS.filter((f) => existsSync(f.path));
  for (const f of ROCK_SOUNDFONTS) if (!existsSync(f.path)) skipped.push(`rock MIDI through ${f.id}: ${f.path} missing (apt-get install ${f.pkg})`);
  const cache = join(out, '.produced');
  mkdirSync(cache, { recursive: true });
  const seconds = PRODUCED_SECONDS + 2;
  for (const spec of ROCK.slice(0, limit)) {
    const gmid = join(cache, `${spec.name}.guitars.mid`);
    const rmid = join(cache, `${spec.name}.rhythm.mid`);
    const grid = rockArrangement(spec, seconds, gmid, rmid);
    for (const font of fonts) {
      const name = `${spec.name}_${font.id}`;
      const full = join(cache, `${name}.full.wav`);
      if (!existsSync(full)) {
        log(`corpus: rendering ${name} with fluidsynth and sox`);
        const g = join(cache, `${name}.g.wav`);
        const r = join(cache, `${name}.r.wav`);
        const gd = join(cache, `${name}.gd.wav`);
        try {
          renderMidi(gmid, g, font.path);
          renderMidi(rmid, r, font.path);
          execFileSync('sox', [g, gd, 'overdrive', '28', '10', 'lowpass', '5500', 'gain', '-n', '-6'], { stdio: 'ignore' });
          execFileSync(
            'sox',
            [
              '-m',
              gd,
              r,
              `${full}.part.wav`,
              'compand',
              '0.003,0.15',
              '6:-70,-60,-30,-14,-10,-8,0,-5',
              '-4',
              '-30',
              '0.005',
              'overdrive',
              '4',
              '0',
              'gain',
              '-n',
              '-0.3',
            ],
            { stdio: 'ignore' },
          );
          renameSync(`${full}.part.wav`, full);
        } catch (e) {
          skipped.push(`${name}: render failed (${e.message.split('\n')[0]})`);
          continue;
        } finally {
          for (const f of [g, r, gd]) rmSync(f, { force: true });
        }
      }
      addProducedPiece(out, pieces, skipped, {
        name,
        kind: 'rock',
        full,
        grid,
        meter: '4/4',
        beatsPerBar: 4,
        tempo: spec.bpm,
        source: `MIDI written by build-corpus.mjs (${spec.style}, ${spec.bpm} BPM), rendered with fluidsynth + ${font.path.split('/').pop()} (Debian ${font.pkg} ${packageVersion(font.pkg)}), guitars through sox overdrive, bus compand + overdrive`,
        licence: `generated here; ${font.licence}`,
        note: 'distortion (GM 30) and overdrive (GM 29) guitars, picked bass, GM drums; crash on each 4-bar phrase, a fill every 8 bars',
      });
    }
  }
}

// ------------------------------------------------------------------ build

export async function buildCorpus({ out = DEFAULT_CORPUS, force = false, log = console.log, produced = Infinity } = {}) {
  const manifestPath = join(out, 'manifest.json');
  if (!force && existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (m.version === CORPUS_VERSION) return m;
  }
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const pieces = [];
  const skipped = [];
  const canRender = have('fluidsynth') && existsSync(SOUNDFONT);
  const work = mkdtempSync(join(tmpdir(), 'rhythm-corpus-'));
  try {
    for (const [i, spec] of SYNTHETIC.entries()) {
      const meter = METERS[spec.meter];
      const rng = seededRandom(1000 + i);
      const grid = pulseGrid({ meter, bpm: spec.bpm, seconds: spec.seconds, pickup: spec.pickup ?? 0, start: spec.start ?? 0 });
      let audio;
      if (spec.style === 'click') audio = renderClicks(grid, spec.seconds, meter);
      else if (spec.style === 'drums') audio = renderDrums(grid, spec.seconds, meter, rng, { bass: spec.bass });
      else {
        if (!canRender) {
          skipped.push(`${spec.name}: fluidsynth or ${SOUNDFONT} missing (apt-get install fluidsynth fluid-soundfont-gm)`);
          continue;
        }
        const mid = gmArrangement(join(work, `${spec.name}.mid`), grid, meter, rng, spec.gm);
        audio = renderMidi(mid, join(work, `${spec.name}.wav`)).samples.subarray(0, Math.round(spec.seconds * SR));
      }
      const file = `${spec.name}.wav`;
      writeWav16(join(out, file), audio);
      pieces.push({
        name: spec.name,
        file,
        kind: spec.style,
        duration: round6(audio.length / SR),
        meter: meter.label,
        beatsPerBar: meter.beatsPerBar,
        tempo: spec.tempo ?? null,
        ...annotate(grid),
        source:
          spec.style === 'gm'
            ? 'synthetic MIDI made by build-corpus.mjs, rendered with fluidsynth + FluidR3_GM (fluid-soundfont-gm)'
            : 'synthetic audio made by build-corpus.mjs',
        licence: spec.style === 'gm' ? 'generated here; FluidR3_GM soundfont: MIT' : 'generated here, no third-party material',
        note: spec.note ?? '',
      });
    }

    // Debian MIDI files and ABC tunes
    const src = join(out, '.src');
    const midiPieces = [];
    if (!canRender) skipped.push('Debian MIDI/ABC pieces: fluidsynth or the GM soundfont missing');
    else {
      try {
        const blupi = debPackage('planetblupi-music-midi', src);
        for (const { file } of BLUPI) {
          midiPieces.push({
            name: `blupi_${file.replace('.mid', '')}`,
            midi: join(blupi.root, 'usr/share/planetblupi/music', file),
            pickup: 0,
            source: `Debian planetblupi-music-midi ${blupi.version}: usr/share/planetblupi/music/${file}`,
            licence: 'GPL-3+ (© 1997 Daniel Roux, EPSITEC SA & Denis Dumoulin; 2017-2018 Mathieu Schroeter)',
          });
        }
      } catch (e) {
        skipped.push(`planetblupi-music-midi: ${e.message.split('\n')[0]}`);
      }
      if (!have('abc2midi')) skipped.push('ABC tunes: abc2midi missing (apt-get install abcmidi)');
      else {
        try {
          const abc = debPackage('abcmidi', src);
          for (const t of ABC) {
            const name = `abc_${t.file.replace('.abc', '')}${t.tune ? `_${t.tune}` : ''}`;
            const mid = join(work, `${name}.mid`);
            const args = [join(abc.root, 'usr/share/doc/abcmidi/examples', t.file)];
            if (t.tune) args.push(String(t.tune));
            execFileSync('abc2midi', [...args, '-o', mid, '-silent'], { stdio: 'ignore' });
            midiPieces.push({
              name,
              midi: mid,
              pickup: t.pickup,
              source: `Debian abcmidi ${abc.version}: usr/share/doc/abcmidi/examples/${t.file}${t.tune ? ` X:${t.tune}` : ''} (${t.title}) via abc2midi`,
              licence: 'traditional tune; abcmidi package GPL-2+',
            });
          }
        } catch (e) {
          skipped.push(`abcmidi examples: ${e.message.split('\n')[0]}`);
        }
      }
    }
    for (const p of midiPieces) {
      const raw = readFileSync(p.midi);
      const midi = parseMidi(raw);
      const cutMidi = join(work, `${p.name}.cut.mid`);
      truncateMidi(midi, secondsToTick(midi, MAX_SECONDS + 1), cutMidi);
      const wav = renderMidi(cutMidi, join(work, `${p.name}.wav`));
      const toSec = tickToSeconds(midi);
      const lastNote = midi.noteOns.length ? toSec(midi.noteOns[midi.noteOns.length - 1]) : 0;
      // a short tune ends 2 s after its last note (no silent tail for a tracker to fill with beats)
      const audio = wav.samples.subarray(0, Math.round(Math.min(wav.samples.length / SR, MAX_SECONDS, lastNote + 2) * SR));
      const duration = audio.length / SR;
      const untilTick = midi.noteOns.length ? midi.noteOns[midi.noteOns.length - 1] + 1 : 0;
      const shift = gridShiftTicks(midi);
      const grid = midiBeats(midi, { pickupTicks: Math.round(p.pickup * midi.division) + shift, untilTick });
      const shiftMs = (shift * (midi.tempos[0]?.uspq ?? 500000)) / 1e3 / midi.division;
      const firstNote = midi.noteOns.length ? toSec(midi.noteOns[0]) : 0;
      const keep = grid.beats.map((_t, i) => i).filter((i) => grid.beats[i] < Math.min(duration, lastNote + 0.05) && grid.beats[i] >= firstNote - 0.05);
      const beats = keep.map((i) => round6(grid.beats[i]));
      const positions = keep.map((i) => grid.positions[i]);
      const tempos = new Set(midi.tempos.map((t) => t.uspq));
      const meter = grid.meters.length === 1 ? grid.meters[0] : grid.meters.join(',');
      const file = `${p.name}.wav`;
      writeWav16(join(out, file), audio);
      pieces.push({
        name: p.name,
        file,
        kind: p.name.startsWith('abc') ? 'abc' : 'midi',
        duration: round6(duration),
        meter,
        beatsPerBar: grid.meters.length === 1 ? grid.beatsPerBar : null,
        tempo: tempos.size === 1 ? round3((60e6 / [...tempos][0]) * (grid.beatsPerBar === 2 && meter === '6/8' ? 2 / 3 : 1)) : null,
        beats,
        positions,
        downbeats: beats.filter((_, i) => positions[i] === 1),
        source: p.source,
        licence: p.licence,
        note: [
          p.pickup ? `pickup of ${p.pickup} quarter note(s) read from the score` : '',
          shift ? `grid shifted by ${shift} ticks (${shiftMs.toFixed(1)} ms) to where the notes sit` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    producedPieces(out, pieces, skipped, log, produced);
    hydrogenPieces(out, pieces, skipped, log, produced);
    trackerPieces(out, pieces, skipped, log, produced);
    rockPieces(out, pieces, skipped, log, produced);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const manifest = {
    version: CORPUS_VERSION,
    generator: 'bench/accuracy/build-corpus.mjs',
    sampleRate: SR,
    conventions:
      'beats in seconds; positions 1 = downbeat; 6/8 counts dotted quarters (2 beats per bar); 7/8 counts eighths (7 per bar); ' +
      'tempo = the beat tempo in BPM when constant, else null; for MIDI pieces only beats between the first and last note are kept',
    seconds: round6((performance.now() - t0) / 1000),
    skipped,
    pieces,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  for (const s of skipped) log(`corpus: skipped ${s}`);
  log(`corpus: ${pieces.length} pieces in ${out} (${manifest.seconds.toFixed(1)} s)`);
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, force: { type: 'boolean', default: false }, produced: { type: 'string' } },
  });
  // --produced N: only the first N of each produced source (an LMMS render takes a minute or more here).
  await buildCorpus({ out: values.out ?? DEFAULT_CORPUS, force: values.force, produced: values.produced ? Number(values.produced) : Infinity });
}
