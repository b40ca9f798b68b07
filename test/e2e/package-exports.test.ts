// The package's entry points as a user imports them: every package.json "exports" sub-path, from the
// built dist/, by its package name. Node resolves `didactic-engine/…` inside the package through the
// exports map (the package's self-reference), as it does in a project that installed the tarball,
// so a sub-path that is missing, points at a file the build does not write, or fails to load fails
// here. The runtime names of each entry point are pinned: a new export is a decision (with a line
// in CHANGELOG.md), not a side effect of an import added to lib/index.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; import: string }>;
};

/** The runtime names each entry point exports, sorted. */
const PINNED: Record<string, string[]> = {
  '.': [
    'AbortError',
    'AudioPipeline',
    'BEAT_THIS_MODELS',
    'BeatThisTracker',
    'BeatThisTrackerOptionsSchema',
    'CONFIG_BOUNDS',
    'CircuitOpenError',
    'ConfigError',
    'DEFAULT_BEATNET_VARIANT',
    'DEMUCS_DEFAULT_SOURCES',
    'DatasetWriteError',
    'DecodeError',
    'DecodeOptionsSchema',
    'DidacticError',
    'ExecutionProviderSchema',
    'FULL_MIX',
    'FeatureOptionsSchema',
    'InvalidArgumentError',
    'KNOWN_MODELS',
    'ModelCache',
    'ModelError',
    'NativeError',
    'OrtSession',
    'PipelineConfig',
    'ResampleEngineSchema',
    'ResampleOptionsSchema',
    'RetryExhaustedError',
    'RhythmDecodeOptionsSchema',
    'RhythmTracker',
    'RhythmTrackerOptionsSchema',
    'SeparateOptionsSchema',
    'Separator',
    'SeparatorOptionsSchema',
    'SessionOptionsSchema',
    'TimeoutError',
    'TranscribeOptionsSchema',
    'Transcriber',
    'TranscriberOptionsSchema',
    'WavSubtypeSchema',
    'WriteError',
    'WriteWavOptionsSchema',
    'analyze',
    'audioInfo',
    'beatTrack',
    'beatnetModelPath',
    'convertDemucs',
    'createPipelineBreakers',
    'createSeparator',
    'createSession',
    'createTranscriber',
    'decodeAudio',
    'ensureBasicPitchModel',
    'ensureModels',
    'ensureOrtRuntime',
    'features',
    'fetchModel',
    'installedBeatThisModel',
    'isSongComplete',
    'jsonLogger',
    'listModels',
    'loadPipelineConfigFile',
    'mixToMono',
    'modelsDir',
    'ortLibraryPath',
    'ortRuntimeInfo',
    'pipelineConfigJsonSchema',
    'planConcurrency',
    'planSongMemory',
    'probeAudio',
    'processBatch',
    'readDemucsPackage',
    'readTorchCheckpoint',
    'removeModel',
    'resample',
    'resampledLength',
    'resolveDemucsModel',
    'runAll',
    'runDoctor',
    'separate',
    'silentLogger',
    'songMemoryBudgetBytes',
    'tempo',
    'textLogger',
    'trackRhythm',
    'transcribe',
    'transcribeToMidi',
    'writeWav',
  ],
  './analysis': [
    'BEAT_THIS_FPS',
    'BEAT_THIS_SAMPLE_RATE',
    'BeatEnvelopeOptionsSchema',
    'BeatThisDecodeOptionsSchema',
    'FeatureOptionsSchema',
    'IstftOptionsSchema',
    'NoteOptionsSchema',
    'PadModeSchema',
    'StftOptionsSchema',
    'WindowSchema',
    'aggregateBarFeatures',
    'alignNotesToBeats',
    'analyze',
    'beatThisPostprocess',
    'beatThisSpectrogram',
    'beatTrack',
    'beatTrackFromEnvelope',
    'chroma',
    'computeStemBarFeatures',
    'decodeDownbeats',
    'features',
    'istft',
    'logSpectFeatures',
    'melSpectrogram',
    'melSpectrogramDb',
    'mfcc',
    'notesFromPosteriors',
    'notesToMidi',
    'onsetStrength',
    'powerToDb',
    'rms',
    'segmentBeatsIntoBars',
    'spectralBandwidth',
    'spectralCentroid',
    'spectralRolloff',
    'stats',
    'stft',
    'tempo',
    'tempoFromEnvelope',
    'writePosteriorsNpy',
    'zeroCrossingRate',
  ],
  './datasets': [
    'BARS_SCHEMA',
    'BAR_FEATURES_SCHEMA',
    'BAR_GRID_SCHEMA',
    'BEATS_SCHEMA',
    'DATASET_SCHEMAS',
    'EVENTS_SCHEMA',
    'checkParquetDataset',
    'readParquetInfo',
    'readParquetTable',
    'writeParquetDataset',
    'writeSongDatasets',
  ],
  './reports': [
    'buildReportData',
    'buildSongReport',
    'findChromium',
    'parseReportHtml',
    'readReportDatasets',
    'renderReportHtml',
    'renderReportPng',
    'waveformPeaks',
    'writeReportHtml',
  ],
  './testing': ['FLOAT', 'HTDEMUCS_SEGMENT', 'HTDEMUCS_SOURCES', 'INT64', 'buildDemucsStandIn', 'buildModel', 'parseModel'],
};

/** Helpers of the package's own modules that no entry point may export. */
const INTERNAL = [
  'at',
  'row',
  'computeDelay',
  'retryWithBackoff',
  'withTimeout',
  'ServiceBreaker',
  'StreamingParquetWriter',
  'checkConfigFields',
  'addonOrigin',
];

const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
const specifier = (sub: string) => (sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`);
const target = (sub: string) => pkg.exports[sub] as { types: string; import: string };

interface Loaded {
  names: Record<string, string[]>;
  /** Names that two entry points export as different values (each pair once). */
  conflicts: string[];
}

describe('the package entry points, imported by name from dist/', () => {
  let loaded: Loaded;
  beforeAll(() => {
    // One Node process imports every sub-path by its package name from the package root.
    const script = `
      const subs = ${JSON.stringify(subpaths.map((s) => [s, specifier(s)]))};
      const mods = {};
      for (const [sub, spec] of subs) mods[sub] = await import(spec);
      const names = Object.fromEntries(Object.entries(mods).map(([sub, m]) => [sub, Object.keys(m).sort()]));
      const conflicts = [];
      for (const [a, ma] of Object.entries(mods))
        for (const [b, mb] of Object.entries(mods))
          if (a < b) for (const n of Object.keys(ma)) if (n in mb && ma[n] !== mb[n]) conflicts.push(a + ' and ' + b + ': ' + n);
      process.stdout.write(JSON.stringify({ names, conflicts }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`importing the entry points failed (build dist/ first: npm run build:ts):\n${r.stderr}`);
    loaded = JSON.parse(r.stdout) as Loaded;
  });

  it('maps the main entry and the five sub-paths, each to a built module and its types', () => {
    expect([...subpaths].sort()).toEqual(['.', './analysis', './datasets', './reports', './service', './testing']);
    for (const sub of subpaths) {
      expect(existsSync(join(root, target(sub).import)), `${sub} → ${target(sub).import}`).toBe(true);
      expect(existsSync(join(root, target(sub).types)), `${sub} → ${target(sub).types}`).toBe(true);
    }
  });

  it('exports the pinned runtime names from each entry point', () => {
    for (const [sub, names] of Object.entries(PINNED)) expect(loaded.names[sub], sub).toEqual(names);
    // The service is pinned by its own tests; here it only has to load as a library.
    expect(loaded.names['./service']).toEqual(expect.arrayContaining(['startService', 'buildApi', 'EmbeddedQueue', 'RedisQueue']));
  });

  it('exports no internal helper from any entry point', () => {
    const leaked = Object.entries(loaded.names).flatMap(([sub, names]) => names.filter((n) => INTERNAL.includes(n)).map((n) => `${sub}: ${n}`));
    expect(leaked).toEqual([]);
  });

  it('gives a name exported by two entry points the same value in both', () => {
    // e.g. `analyze` from `didactic-engine` and from `didactic-engine/analysis`.
    expect(loaded.names['.']).toEqual(expect.arrayContaining(['analyze', 'features', 'beatTrack', 'tempo']));
    expect(loaded.names['./analysis']).toEqual(expect.arrayContaining(['analyze', 'features', 'beatTrack', 'tempo']));
    expect(loaded.conflicts).toEqual([]);
  });

  it('exports every name under the name it has where it is declared (no `as` on the way out)', () => {
    // The entry points' sources: dist/x.js is compiled from lib/x.ts.
    const renamed = subpaths.flatMap((sub) => {
      const source = join(
        root,
        target(sub)
          .import.replace(/^\.\/dist\//, 'lib/')
          .replace(/\.js$/, '.ts'),
      );
      const text = readFileSync(source, 'utf8');
      return [...text.matchAll(/export\s+(?:type\s+)?\{[^}]*\}/g)]
        .flatMap((m) => [...m[0].matchAll(/(\w+)\s+as\s+(\w+)/g)].map((a) => `${sub}: ${a[1]} as ${a[2]}`))
        .concat(/export\s+\*\s+as\s+/.test(text) ? [`${sub}: export * as`] : []);
    });
    expect(renamed).toEqual([]);
  });
});
