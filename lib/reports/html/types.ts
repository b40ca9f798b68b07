/**
 * The shape of the data a report page embeds (`ReportData`): plain interfaces with no imports, so
 * that the page's own script (browser/report.ts, compiled without Node's types) reads the same
 * declarations the server writes.
 */

/** One stem's notes, column-major (seconds on the input's timeline). */
export interface ReportNotes {
  stem: string;
  pitch: number[];
  velocity: number[];
  start: number[];
  end: number[];
}

/** One stem's per-bar features: RMS and the 12 chroma bins of each processed bar. */
export interface ReportBarFeatures {
  stem: string;
  bar_index: number[];
  start: number[];
  end: number[];
  rms: number[];
  /** chroma[i] is bar i's 12 bins (C, C#, ... B). */
  chroma: number[][];
}

/** What a report draws, as embedded in its `report-data` script (times in seconds on the input's timeline). */
export interface ReportData {
  format: number;
  song_id: string;
  /** Seconds of the x axis every view shares. */
  duration_s: number;
  summary: {
    tempo_bpm: number;
    meter: string | null;
    tracker: string | null;
    confidence: number | null;
    /** Set (learned tracker only) when the rhythm confidence is low: the page shows a note. */
    low_confidence?: boolean;
    /** False when `confidence` is not calibrated (Beat This!'s mean beat probability): the page names it so. */
    confidence_calibrated?: boolean;
    num_beats: number;
    num_downbeats: number;
    num_bars: number;
    stems: string[];
    notes_per_stem: Record<string, number>;
    degraded: boolean;
    degraded_reasons: string[];
  };
  beats: number[];
  downbeats: number[];
  /** The bar grid (bar_grid.parquet): bar i spans start[i]..end[i]. */
  bars: { index: number[]; start: number[]; end: number[] };
  /** Per-beat tempo (BPM at each beat from the second on). */
  tempo_curve: { time: number[]; bpm: number[] };
  notes: ReportNotes[];
  bar_features: ReportBarFeatures[];
  /** Min/max peaks of the audio; null when no audio was at hand (`waveform_note` says why). */
  waveform: { duration_s: number; min: number[]; max: number[] } | null;
  waveform_note: string | null;
  /** The audio for playback, relative to the report's folder; null when none is reachable. */
  audio: { src: string } | null;
}
