/**
 * PipelineConfig: every field of the Python original's `PipelineConfig`, with its defaults, its
 * validation rules (same order, same messages) and its derived output folders.
 *
 * TypeScript callers use camelCase keys; JSON config files may use the original's snake_case keys
 * (either spelling is accepted everywhere, but not both for the same field). Unknown keys are an
 * error naming the key. Deliberate differences from the original (type checks, a null timeout
 * meaning "no timeout", song_id path safety) are listed in docs/compatibility.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

import { z } from 'zod';

import { MAX_HOP, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../audio/limits.js';
import { ConfigError } from '../errors.js';
import { MAX_BEATS_PER_BAR } from '../models/limits.js';

import {
  BASIC_PITCH_BACKENDS,
  type BasicPitchBackend,
  BEAT_THIS_POSTPROCESS_MODES,
  type BeatThisPostprocessMode,
  BEAT_TRACKERS,
  type BeatTracker,
} from './configChoices.js';

export { BASIC_PITCH_BACKENDS, BEAT_THIS_POSTPROCESS_MODES, BEAT_TRACKERS };
export type { BasicPitchBackend, BeatThisPostprocessMode, BeatTracker };

/** Allowed `time_signature_den` values (the original's rule 5). */
export const TIME_SIGNATURE_DENOMINATORS = [1, 2, 4, 8, 16, 32] as const;

/** Longest finite model timeout in seconds: Node's timer ceiling (2^31 − 1 ms); a longer timer fires at once. */
export const MAX_TIMEOUT_S = 2_147_483.647;

/**
 * The engine's bounds on config values, beyond the original's rules: what the native code, the
 * resampler, ONNX Runtime and the rhythm tracker refuse or cannot do (lib/audio/limits.ts,
 * lib/models/limits.ts, both held equal to the native side by test/unit/limits.test.ts). Checked when
 * a config is made, so a run never starts with a value that would fail or degrade it later.
 */
export const CONFIG_BOUNDS = {
  /** Hz. */
  analysisSr: { min: MIN_SAMPLE_RATE, max: MAX_SAMPLE_RATE },
  /** Hz. */
  preprocessTargetSr: { min: MIN_SAMPLE_RATE, max: MAX_SAMPLE_RATE },
  /** Samples. */
  hopLength: { min: 1, max: MAX_HOP },
  /** Seconds (null or Infinity: no timeout). */
  demucsTimeoutS: { min: 0, max: MAX_TIMEOUT_S },
  /** Seconds (null or Infinity: no timeout). */
  basicPitchTimeoutS: { min: 0, max: MAX_TIMEOUT_S },
  /** Beats per bar of the configured meter as the beatnet tracker counts it (trackerBeatsPerBar). */
  trackerBeatsPerBar: { min: 1, max: MAX_BEATS_PER_BAR },
} as const;

/** `demucs_device` values separation can run on: cpu, cuda, cuda:N. */
const DEMUCS_DEVICE = /^(cpu|cuda|cuda:\d{1,3})$/i;

/**
 * Beats per bar at the tracker's beat level for a configured time signature: the numerator, except
 * compound meters (6/8, 9/8, 12/8), whose beat is the dotted quarter (6/8 → 2).
 */
export function trackerBeatsPerBar(num: number, den: number): number {
  return den >= 8 && num > 3 && num % 3 === 0 ? num / 3 : num;
}

/** What callers pass: the three required fields plus any overrides, camelCase. */
export type PipelineConfigInput = Pick<PipelineConfigFields, 'songId' | 'inputWav' | 'outDir'> &
  Partial<Omit<PipelineConfigFields, 'songId' | 'inputWav' | 'outDir'>>;

export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Renders a value the way the original's messages show it (Python str() of the value). */
export function pythonValueText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (value === Infinity) return 'inf';
    if (value === -Infinity) return '-inf';
    return String(value);
  }
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function typeMessage(camel: string, expected: string) {
  const snake = camelToSnake(camel);
  return (issue: { input?: unknown }) =>
    `${snake} must be ${expected}, got ${typeof issue.input === 'string' ? `'${issue.input}'` : pythonValueText(issue.input)}`;
}

const integerField = (camel: string) => z.number({ error: typeMessage(camel, 'an integer') }).int({ error: typeMessage(camel, 'an integer') });
const finiteNumberField = (camel: string) =>
  z.number({ error: typeMessage(camel, 'a finite number') }).refine(Number.isFinite, { error: typeMessage(camel, 'a finite number') });
const boolField = (camel: string) => z.boolean({ error: typeMessage(camel, 'a boolean (true or false)') });
const stringField = (camel: string) => z.string({ error: typeMessage(camel, 'a string') });
/** A timeout in seconds: a number (+Infinity allowed) or null meaning "no timeout". */
const timeoutField = (camel: string) =>
  z
    .number({ error: typeMessage(camel, 'a number of seconds or null (no timeout)') })
    .refine((v) => !Number.isNaN(v), { error: typeMessage(camel, 'a number of seconds or null (no timeout)') })
    .nullable();

/** Base shape: types and defaults. The original's value rules run afterwards, in order. */
const PipelineConfigShape = z.strictObject({
  songId: stringField('songId'),
  inputWav: stringField('inputWav').min(1, { error: 'input_wav must be a non-empty path' }),
  outDir: stringField('outDir').min(1, { error: 'out_dir must be a non-empty path' }),
  demucsModel: stringField('demucsModel').default('htdemucs'),
  demucsDevice: stringField('demucsDevice').default('cpu'),
  analysisSr: integerField('analysisSr').default(22050),
  hopLength: integerField('hopLength').default(512),
  timeSignatureNum: integerField('timeSignatureNum').default(4),
  timeSignatureDen: integerField('timeSignatureDen').default(4),
  usePydubPreprocess: boolField('usePydubPreprocess').default(true),
  preprocessTargetSr: integerField('preprocessTargetSr').default(44100),
  preprocessMono: boolField('preprocessMono').default(true),
  preprocessNormalize: boolField('preprocessNormalize').default(true),
  preprocessTrimSilence: boolField('preprocessTrimSilence').default(true),
  preprocessSilenceThreshDbfs: finiteNumberField('preprocessSilenceThreshDbfs').default(-40.0),
  preprocessKeepSilenceMs: integerField('preprocessKeepSilenceMs').default(80),
  useEssentiaFeatures: boolField('useEssentiaFeatures').default(false),
  writeBarChunks: boolField('writeBarChunks').default(true),
  writeBarChunkWavs: boolField('writeBarChunkWavs').default(true),
  preserveChunkAudio: boolField('preserveChunkAudio').default(false),
  enableProgress: boolField('enableProgress').nullable().default(null),
  // The enum check is rule 10 below (its message must win in order), so only the type is checked here.
  basicPitchBackend: stringField('basicPitchBackend').default('tf'),
  basicPitchKeepRuns: integerField('basicPitchKeepRuns').nullable().default(5),
  useDemucsSeparation: boolField('useDemucsSeparation').default(true),
  useBasicPitchTranscription: boolField('useBasicPitchTranscription').default(true),
  demucsTimeoutS: timeoutField('demucsTimeoutS').default(3600.0),
  basicPitchTimeoutS: timeoutField('basicPitchTimeoutS').default(1800.0),
  barFeaturePrecompute: boolField('barFeaturePrecompute').default(true),
  // Ours: the rhythm tracker ('auto': Beat This! when its model is installed, else BeatNet;
  // 'beatnet' / 'beat-this': learned beats and downbeats, bars on downbeats; 'librosa': the
  // original's beat_track, bars counted from the first beat) and meter detection.
  beatTracker: stringField('beatTracker').default('auto'),
  detectMeter: boolField('detectMeter').default(true),
  // Ours: how Beat This!'s activations become beats ('auto': the bar-pointer DBN when detect_meter
  // is on — meter and consistent bars, as BeatNet's —, its minimal peak picking otherwise).
  beatThisPostprocess: stringField('beatThisPostprocess').default('auto'),
  // Ours: reports/<song_id>/report.html, a self-contained page drawing the song's outputs.
  htmlReport: boolField('htmlReport').default(true),
  // Ours: the most memory one song may plan to use (MiB); null: half the machine's (or the cgroup's)
  // memory divided by the songs run at once. A longer input is refused before step 1 (lib/pipeline/memory.ts).
  memoryBudgetMb: integerField('memoryBudgetMb').nullable().default(null),
});

/** The validated, frozen configuration fields (camelCase), derived from the shape above. */
export type PipelineConfigFields = Omit<z.output<typeof PipelineConfigShape>, 'basicPitchBackend' | 'beatTracker' | 'beatThisPostprocess'> & {
  basicPitchBackend: BasicPitchBackend;
  beatTracker: BeatTracker;
  beatThisPostprocess: BeatThisPostprocessMode;
};
type ShapeOutput = z.output<typeof PipelineConfigShape>;
type FieldName = keyof PipelineConfigFields;

/** Field names in the original's declaration order (the shape's order), camelCase and snake_case. */
const FIELD_NAMES = Object.keys(PipelineConfigShape.shape) as FieldName[];
export const CONFIG_FIELD_NAMES = FIELD_NAMES.map(camelToSnake);
export type ConfigFieldSnakeName = string;
const CAMEL_BY_SNAKE = new Map<string, FieldName>(FIELD_NAMES.map((camel) => [camelToSnake(camel), camel]));
const SNAKE_BY_CAMEL = new Map<string, string>(FIELD_NAMES.map((camel) => [camel, camelToSnake(camel)]));

/**
 * Every field that names a file or folder of the machine that runs the song (`model`: a model name
 * in the models folder, or a path): what the service never takes from a client as a path.
 * test/unit/config-paths.test.ts holds every string field of the shape classified.
 */
export const CONFIG_PATH_FIELDS = {
  inputWav: 'file',
  outDir: 'folder',
  demucsModel: 'model',
} as const satisfies Partial<Record<FieldName, 'file' | 'folder' | 'model'>>;

/** combined.json's `config` object: these fields, in this (the original's) order. */
const SUMMARY_FIELDS = [
  'analysisSr',
  'hopLength',
  'timeSignatureNum',
  'timeSignatureDen',
  'usePydubPreprocess',
  'useEssentiaFeatures',
  'writeBarChunks',
  'writeBarChunkWavs',
  'preserveChunkAudio',
  'barFeaturePrecompute',
  'useDemucsSeparation',
  'demucsModel',
  'demucsDevice',
  'demucsTimeoutS',
  'useBasicPitchTranscription',
  'basicPitchBackend',
  'basicPitchTimeoutS',
] as const satisfies readonly FieldName[];
export type SummaryConfig = { [K in (typeof SUMMARY_FIELDS)[number] as CamelToSnake<K>]: PipelineConfigFields[K] };
type CamelToSnake<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Uppercase<H> ? (H extends Lowercase<H> ? H : `_${Lowercase<H>}`) : H}${CamelToSnake<T>}`
  : S;

interface ValueRule {
  path: keyof PipelineConfigFields;
  fails: (c: ShapeOutput) => boolean;
  message: (c: ShapeOutput) => string;
  /** A bound of this engine (CONFIG_BOUNDS), not one of the original's rules. */
  bound?: true;
}

const within = (v: number, b: { min: number; max: number }) => v >= b.min && v <= b.max;
const timeoutWithin = (v: number | null, b: { min: number; max: number }) => v === null || v === Infinity || within(v, b);

/** The original's validation rules 1–10, in its order (first failure wins), then ours. */
const VALUE_RULES: readonly ValueRule[] = [
  { path: 'analysisSr', fails: (c) => c.analysisSr <= 0, message: (c) => `analysis_sr must be positive, got ${pythonValueText(c.analysisSr)}` },
  {
    path: 'preprocessTargetSr',
    fails: (c) => c.preprocessTargetSr <= 0,
    message: (c) => `preprocess_target_sr must be positive, got ${pythonValueText(c.preprocessTargetSr)}`,
  },
  { path: 'hopLength', fails: (c) => c.hopLength <= 0, message: (c) => `hop_length must be positive, got ${pythonValueText(c.hopLength)}` },
  {
    path: 'timeSignatureNum',
    fails: (c) => c.timeSignatureNum <= 0,
    message: (c) => `time_signature_num must be positive, got ${pythonValueText(c.timeSignatureNum)}`,
  },
  {
    path: 'timeSignatureDen',
    fails: (c) => !(TIME_SIGNATURE_DENOMINATORS as readonly number[]).includes(c.timeSignatureDen),
    message: (c) => `time_signature_den must be a power of 2 (1, 2, 4, 8, 16, 32), got ${pythonValueText(c.timeSignatureDen)}`,
  },
  {
    path: 'demucsTimeoutS',
    fails: (c) => c.demucsTimeoutS !== null && c.demucsTimeoutS < 0,
    message: (c) => `demucs_timeout_s cannot be negative, got ${pythonValueText(c.demucsTimeoutS)}`,
  },
  {
    path: 'basicPitchTimeoutS',
    fails: (c) => c.basicPitchTimeoutS !== null && c.basicPitchTimeoutS < 0,
    message: (c) => `basic_pitch_timeout_s cannot be negative, got ${pythonValueText(c.basicPitchTimeoutS)}`,
  },
  {
    // 0 is accepted, as in the original, although the message says "negative".
    path: 'preprocessSilenceThreshDbfs',
    fails: (c) => c.preprocessSilenceThreshDbfs > 0,
    message: (c) => `preprocess_silence_thresh_dbfs must be negative (dBFS), got ${pythonValueText(c.preprocessSilenceThreshDbfs)}`,
  },
  {
    path: 'preprocessKeepSilenceMs',
    fails: (c) => c.preprocessKeepSilenceMs < 0,
    message: (c) => `preprocess_keep_silence_ms cannot be negative, got ${pythonValueText(c.preprocessKeepSilenceMs)}`,
  },
  {
    path: 'basicPitchBackend',
    fails: (c) => !(BASIC_PITCH_BACKENDS as readonly string[]).includes(c.basicPitchBackend),
    message: (c) => `basic_pitch_backend must be one of 'tf', 'onnx', 'tflite', 'coreml', got '${c.basicPitchBackend}'`,
  },
  {
    path: 'beatTracker',
    fails: (c) => !(BEAT_TRACKERS as readonly string[]).includes(c.beatTracker),
    message: (c) => `beat_tracker must be one of 'auto', 'beatnet', 'beat-this', 'librosa', got '${c.beatTracker}'`,
  },
  {
    path: 'beatThisPostprocess',
    fails: (c) => !(BEAT_THIS_POSTPROCESS_MODES as readonly string[]).includes(c.beatThisPostprocess),
    message: (c) => `beat_this_postprocess must be one of 'auto', 'minimal', 'dbn', got '${c.beatThisPostprocess}'`,
  },
  {
    path: 'memoryBudgetMb',
    fails: (c) => c.memoryBudgetMb !== null && c.memoryBudgetMb <= 0,
    message: (c) => `memory_budget_mb must be a positive number of MiB or null (the default), got ${pythonValueText(c.memoryBudgetMb)}`,
  },
  // Ours: song_id becomes a folder name under every output kind; it must not escape out_dir.
  {
    path: 'songId',
    fails: (c) => !isSafeSongId(c.songId),
    message: (c) => `song_id must be a single folder name (not empty, not '.' or '..', no '/', '\\' or NUL), got '${c.songId}'`,
  },
  // Ours: the engine's bounds, so that a run never starts with a value that fails or degrades it later.
  {
    path: 'analysisSr',
    bound: true,
    fails: (c) => !within(c.analysisSr, CONFIG_BOUNDS.analysisSr),
    message: (c) => `analysis_sr must be within ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz, got ${pythonValueText(c.analysisSr)}`,
  },
  {
    path: 'preprocessTargetSr',
    bound: true,
    fails: (c) => !within(c.preprocessTargetSr, CONFIG_BOUNDS.preprocessTargetSr),
    message: (c) => `preprocess_target_sr must be within ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz, got ${pythonValueText(c.preprocessTargetSr)}`,
  },
  {
    path: 'hopLength',
    bound: true,
    fails: (c) => !within(c.hopLength, CONFIG_BOUNDS.hopLength),
    message: (c) => `hop_length must be at most ${MAX_HOP} samples, got ${pythonValueText(c.hopLength)}`,
  },
  {
    path: 'timeSignatureNum',
    bound: true,
    fails: (c) =>
      (c.beatTracker === 'beatnet' || c.beatTracker === 'auto' || (c.beatTracker === 'beat-this' && c.beatThisPostprocess === 'dbn')) &&
      !within(trackerBeatsPerBar(c.timeSignatureNum, c.timeSignatureDen), CONFIG_BOUNDS.trackerBeatsPerBar),
    message: (c) =>
      `time_signature_num must give at most ${MAX_BEATS_PER_BAR} beats per bar with beat_tracker ${c.beatTracker === 'beat-this' ? "'beat-this' and beat_this_postprocess 'dbn'" : "'beatnet' or 'auto'"} (compound meters over 8 or more count num / 3), got ${pythonValueText(c.timeSignatureNum)}/${pythonValueText(c.timeSignatureDen)}`,
  },
  {
    path: 'demucsTimeoutS',
    bound: true,
    fails: (c) => !timeoutWithin(c.demucsTimeoutS, CONFIG_BOUNDS.demucsTimeoutS),
    message: (c) => `demucs_timeout_s must be at most ${MAX_TIMEOUT_S} seconds (or null for no timeout), got ${pythonValueText(c.demucsTimeoutS)}`,
  },
  {
    path: 'basicPitchTimeoutS',
    bound: true,
    fails: (c) => !timeoutWithin(c.basicPitchTimeoutS, CONFIG_BOUNDS.basicPitchTimeoutS),
    message: (c) => `basic_pitch_timeout_s must be at most ${MAX_TIMEOUT_S} seconds (or null for no timeout), got ${pythonValueText(c.basicPitchTimeoutS)}`,
  },
  {
    path: 'demucsDevice',
    bound: true,
    fails: (c) => !DEMUCS_DEVICE.test(c.demucsDevice),
    message: (c) => `demucs_device must be 'cpu', 'cuda' or 'cuda:N', got '${c.demucsDevice}'`,
  },
];

/** True when `songId` used as one path component cannot leave the folder it is joined to. */
export function isSafeSongId(songId: string): boolean {
  if (songId.length === 0 || songId === '.' || songId === '..') return false;
  if (/[/\\\0]/.test(songId)) return false;
  // Windows drive-relative names such as "C:x" would also escape on that platform.
  if (/^[A-Za-z]:/.test(songId) || isAbsolute(songId)) return false;
  return true;
}

const PipelineConfigSchema = PipelineConfigShape.superRefine((config, ctx) => {
  for (const rule of VALUE_RULES) {
    if (rule.fails(config)) {
      ctx.addIssue({
        code: 'custom',
        path: [rule.path],
        message: rule.message(config),
        input: config[rule.path],
        ...(rule.bound ? { params: { bound: true } } : {}),
      });
      return; // first failure wins, as in the original
    }
  }
});

/** Maps snake_case or camelCase keys onto camelCase; unknown or doubled keys are errors. */
function normaliseKeys(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    const camel = CAMEL_BY_SNAKE.get(key) ?? (SNAKE_BY_CAMEL.has(key) ? key : undefined);
    if (camel === undefined) {
      unknown.push(key);
      continue;
    }
    const previous = spelledAs.get(camel);
    if (previous !== undefined) {
      throw new ConfigError(`Config key '${key}' given twice (also as '${previous}')`, [
        { code: 'duplicate_key', path: [camel], message: `given as both '${previous}' and '${key}'` },
      ]);
    }
    spelledAs.set(camel, key);
    // An explicit undefined means "use the default", as an omitted key does.
    if (value !== undefined) out[camel] = value;
  }
  if (unknown.length > 0) {
    const list = unknown.map((k) => `'${k}'`).join(', ');
    throw new ConfigError(
      `Unknown config key${unknown.length > 1 ? 's' : ''} ${list}: PipelineConfig has no such field`,
      unknown.map((k) => ({ code: 'unrecognized_keys', keys: [k], path: [], message: `Unknown config key '${k}'` })),
    );
  }
  return out;
}

export interface ConfigParseOptions {
  /**
   * Receives the original's "input not found" warning (rule 11, a warning, not an error).
   * Default: process.emitWarning with code DE_INPUT_NOT_FOUND. Pass `null` to silence it.
   */
  warn?: ((message: string) => void) | null;
}

function defaultWarn(message: string): void {
  process.emitWarning(message, { type: 'UserWarning', code: 'DE_INPUT_NOT_FOUND' });
}

/**
 * Validates a plain object (camelCase or snake_case keys) into frozen fields. Throws ConfigError
 * (code DE_INVALID_CONFIG) whose message is the first failing rule's message.
 */
export function parsePipelineConfigFields(input: unknown, options: ConfigParseOptions = {}): PipelineConfigFields {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(`PipelineConfig expects an object of fields, got ${pythonValueText(input)}`);
  }
  const normalised = normaliseKeys(input as Record<string, unknown>);
  const result = PipelineConfigSchema.safeParse(normalised);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0];
    const message =
      first?.path.length === 1 && first.code === 'invalid_type' && normalised[first.path[0] as string] === undefined
        ? `${SNAKE_BY_CAMEL.get(String(first.path[0])) ?? String(first.path[0])} is required`
        : (first?.message ?? 'Invalid PipelineConfig');
    throw new ConfigError(message, issues);
  }
  const fields = result.data as PipelineConfigFields;
  const warn = options.warn === undefined ? defaultWarn : options.warn;
  if (warn && !existsSync(fields.inputWav)) {
    warn(`Input WAV file not found at initialization: ${fields.inputWav}. Ensure it exists before running the pipeline.`);
  }
  return fields;
}

/**
 * True when `err` is a ConfigError for a value outside the engine's bounds (CONFIG_BOUNDS, the
 * demucs_device form) rather than one of the original's rules, a wrong type or an unknown key.
 */
export function isConfigBoundError(err: unknown): boolean {
  if (!(err instanceof ConfigError)) return false;
  const first = err.issues[0] as { params?: { bound?: boolean } } | undefined;
  return first?.params?.bound === true;
}

/**
 * Validates config fields without the three a run's owner sets (a config file's contents, a
 * client's overrides): types, unknown keys and every value rule, as a PipelineConfig would.
 * @throws ConfigError DE_INVALID_CONFIG naming the first failing field.
 */
export function checkConfigFields(input: Record<string, unknown>): void {
  const placeholders = { songId: 'song', inputWav: 'input', outDir: 'out' };
  parsePipelineConfigFields({ ...placeholders, ...normaliseKeys(input) }, { warn: null });
}

/** The eight derived output folders, in the order `createDirectories` makes them. */
export const OUTPUT_DIRECTORY_KINDS = [
  ['stemsDir', 'stems'],
  ['preprocessDir', 'preprocessed'],
  ['chunksDir', 'chunks'],
  ['midiDir', 'midi'],
  ['analysisDir', 'analysis'],
  ['reportsDir', 'reports'],
  ['datasetsDir', 'datasets'],
  ['inputDir', 'input'],
] as const;

/**
 * Immutable pipeline configuration (the original is a frozen dataclass). Build a modified copy
 * with `with({...})`, which re-runs validation.
 */
// The fields are declared once, by the shape; the class gets them through declaration merging.
export interface PipelineConfig extends Readonly<PipelineConfigFields> {}
/**
 * Immutable, validated pipeline configuration (the original's frozen dataclass); `with({...})` makes a checked copy.
 * @throws ConfigError DE_INVALID_CONFIG from the constructor when a field is invalid.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every field of the merged interface (Object.assign of the parsed fields)
export class PipelineConfig {
  /** Accepts camelCase (PipelineConfigInput) or the original's snake_case keys. */
  constructor(input: PipelineConfigInput | Record<string, unknown>, options: ConfigParseOptions = {}) {
    Object.assign(this, parsePipelineConfigFields(input, options));
    Object.freeze(this);
  }

  /** A validated copy with some fields replaced (the original's dataclasses.replace). */
  with(overrides: Partial<PipelineConfigFields> | Record<string, unknown>, options: ConfigParseOptions = {}): PipelineConfig {
    return new PipelineConfig({ ...this.toFields(), ...normaliseKeys(overrides as Record<string, unknown>) } as PipelineConfigInput, {
      warn: null,
      ...options,
    });
  }

  /** beats per bar = num × 4 / den (a float: 7/8 → 3.5), as the original computes it. */
  get beatsPerBar(): number {
    return (this.timeSignatureNum * 4) / this.timeSignatureDen;
  }

  get stemsDir(): string {
    return join(this.outDir, 'stems', this.songId);
  }
  get preprocessDir(): string {
    return join(this.outDir, 'preprocessed', this.songId);
  }
  get chunksDir(): string {
    return join(this.outDir, 'chunks', this.songId);
  }
  get midiDir(): string {
    return join(this.outDir, 'midi', this.songId);
  }
  get analysisDir(): string {
    return join(this.outDir, 'analysis', this.songId);
  }
  get reportsDir(): string {
    return join(this.outDir, 'reports', this.songId);
  }
  get datasetsDir(): string {
    return join(this.outDir, 'datasets', this.songId);
  }
  get inputDir(): string {
    return join(this.outDir, 'input', this.songId);
  }

  /** Creates all eight output folders (recursively, existing OK) in the original's order. */
  async createDirectories(): Promise<void> {
    for (const [property] of OUTPUT_DIRECTORY_KINDS) {
      await mkdir(this[property], { recursive: true });
    }
  }

  /** Plain camelCase fields (no derived paths). */
  toFields(): PipelineConfigFields {
    const out: Record<string, unknown> = {};
    for (const camel of FIELD_NAMES) out[camel] = this[camel];
    return out as unknown as PipelineConfigFields;
  }

  /** All fields with the original's snake_case keys, in declaration order (for JSON config files). */
  toSnakeCase(): Record<ConfigFieldSnakeName, unknown> {
    const out: Record<string, unknown> = {};
    for (const camel of FIELD_NAMES) out[camelToSnake(camel)] = this[camel];
    return out as Record<ConfigFieldSnakeName, unknown>;
  }

  /** The subset serialised into combined.json's `config`, in the original's key order. */
  toSummaryConfig(): SummaryConfig {
    return Object.fromEntries(SUMMARY_FIELDS.map((camel) => [camelToSnake(camel), this[camel]])) as SummaryConfig;
  }

  /** The config with the original's snake_case keys (what JSON.stringify writes). */
  toJSON(): Record<ConfigFieldSnakeName, unknown> {
    return this.toSnakeCase();
  }
}

/** Reads a JSON config file (snake_case or camelCase keys) into camelCase fields, unvalidated. */
export async function readPipelineConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Could not read config file ${path}: ${(err as Error).message}`, [], { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(err as Error).message}`, [], { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${path} must hold a JSON object of PipelineConfig fields`);
  }
  return normaliseKeys(parsed as Record<string, unknown>);
}

/**
 * Reads a JSON config file (snake_case or camelCase keys) and validates it, with `overrides`
 * (e.g. from CLI flags) taking precedence over the file's values.
 * @throws ConfigError DE_INVALID_CONFIG for an unreadable file, invalid JSON or an invalid field.
 */
export async function loadPipelineConfigFile(path: string, overrides: Record<string, unknown> = {}, options: ConfigParseOptions = {}): Promise<PipelineConfig> {
  const fromFile = await readPipelineConfigFile(path);
  // The file on its own first: an override must not hide a wrongly typed value in it.
  checkConfigFields(fromFile);
  const merged = { ...fromFile, ...normaliseKeys(overrides) };
  return new PipelineConfig(merged as PipelineConfigInput, options);
}

/** The fields a caller may set per run; the owner of a run (CLI, batch, service) sets the three paths. */
const RUN_OWNED_FIELDS = new Set<string>(['songId', 'inputWav', 'outDir']);

/**
 * The config overrides of one run as the original's snake_case keys, all optional, types checked
 * (the value rules still run when a PipelineConfig is made): the service's request schema.
 */
export const PipelineOverridesSchema = z.strictObject(
  Object.fromEntries(
    FIELD_NAMES.filter((name) => !RUN_OWNED_FIELDS.has(name)).map((name) => {
      const field = PipelineConfigShape.shape[name] as z.ZodType;
      const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
      return [camelToSnake(name), inner.optional()];
    }),
  ),
);

/** JSON Schema (draft 2020-12) of the camelCase input, for editors and docs. */
export function pipelineConfigJsonSchema(): unknown {
  return z.toJSONSchema(PipelineConfigShape, { io: 'input', unrepresentable: 'any' });
}
