// Stand-in models for report tests: a separator that splits the input into two stems and a
// transcriber that writes one note per half second, so a short pipeline run has stems and notes
// without model files.
import type { StemSeparator, NoteTranscriber, TranscribedNote } from '../../lib/pipeline/services.js';
import type { ReportData } from '../../lib/reports/html/data.js';

export const twoStems: StemSeparator = {
  modelName: 'two-stems',
  async separate({ samples, sampleRate, channels }) {
    return [
      { name: 'bass', samples: samples.map((s) => s * 0.5), sampleRate, channels },
      { name: 'other', samples: samples.map((s) => s * 0.8), sampleRate, channels },
    ];
  },
};

export const halfSecondNotes: NoteTranscriber = {
  description: 'stand-in (a note every half second)',
  async transcribe({ samples, sampleRate, channels }) {
    const seconds = samples.length / (channels ?? 1) / sampleRate;
    const notes: TranscribedNote[] = [];
    for (let t = 0.25, i = 0; t + 0.3 < seconds; t += 0.5, i++) notes.push({ startS: t, endS: t + 0.3, pitch: 48 + ((i * 5) % 24), velocity: 60 + (i % 60) });
    return notes;
  },
};

/** Report data of a synthetic song of `seconds` at `bpm` in 4/4 with `stems` stems of dense notes (no pipeline run). */
export function syntheticReportData(seconds: number, bpm = 120, stems = ['bass', 'drums', 'other', 'vocals']): ReportData {
  const beat = 60 / bpm;
  const beats: number[] = [];
  for (let t = 0.1; t < seconds; t += beat) beats.push(Math.round(t * 1000) / 1000);
  const downbeats = beats.filter((_, i) => i % 4 === 0);
  const bars = {
    index: downbeats.map((_, i) => i),
    start: downbeats,
    end: downbeats.map((t, i) => downbeats[i + 1] ?? Math.round((t + 4 * beat) * 1000) / 1000),
  };
  const notes = stems.map((stem, s) => {
    const n = { stem, pitch: [] as number[], velocity: [] as number[], start: [] as number[], end: [] as number[] };
    for (let i = 0; i < beats.length; i++) {
      for (const sub of [0, 0.5]) {
        n.pitch.push(36 + s * 12 + ((i * 7) % 12));
        n.velocity.push(40 + ((i * 13) % 80));
        n.start.push(Math.round((beats[i]! + sub * beat) * 1000) / 1000);
        n.end.push(Math.round((beats[i]! + (sub + 0.4) * beat) * 1000) / 1000);
      }
    }
    return n;
  });
  const barFeatures = stems.map((stem, s) => ({
    stem,
    bar_index: bars.index,
    start: bars.start,
    end: bars.end,
    rms: bars.index.map((i) => 0.05 + 0.04 * Math.sin(i / 5 + s)),
    chroma: bars.index.map((i) => Array.from({ length: 12 }, (_, k) => Math.round(Math.abs(Math.sin(i * 0.3 + k + s)) * 1000) / 1000)),
  }));
  const points = 3000;
  const min: number[] = [];
  const max: number[] = [];
  for (let i = 0; i < points; i++) {
    const a = Math.round((0.3 + 0.6 * Math.abs(Math.sin(i / 37))) * 1000) / 1000;
    min.push(-a);
    max.push(a);
  }
  const notesPerStem = Object.fromEntries(notes.map((n) => [n.stem, n.pitch.length]));
  return {
    format: 1,
    song_id: `synthetic_${Math.round(seconds)}s`,
    duration_s: seconds,
    summary: {
      tempo_bpm: bpm,
      meter: '4/4',
      tracker: 'beatnet',
      confidence: 0.9,
      num_beats: beats.length,
      num_downbeats: downbeats.length,
      num_bars: bars.start.length,
      stems,
      notes_per_stem: notesPerStem,
      degraded: false,
      degraded_reasons: [],
    },
    beats,
    downbeats,
    bars,
    tempo_curve: { time: beats.slice(1), bpm: beats.slice(1).map((_, i) => bpm + Math.sin(i / 20)) },
    notes,
    bar_features: barFeatures,
    waveform: { duration_s: seconds, min, max },
    waveform_note: null,
    audio: null,
  };
}
