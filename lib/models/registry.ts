/**
 * The models `didactic-engine models` knows: where their official checkpoints are, how they are
 * verified, what they are licensed under and what they install as. Sources: the demucs 4.0.1 sdist
 * (demucs/pretrained.py ROOT_URL, demucs/remote/files.txt and the model yamls; a file name's suffix
 * is the first 8 hex digits of its SHA-256) and the beat-this 1.1.0 wheel (inference.py CHECKPOINT_URL).
 */

/** One checkpoint file of a model, at its official URL. */
export interface ModelFile {
  /** File name (as published). */
  file: string;
  /** Official URL. */
  url: string;
  /** Path under a mirror base URL ($DIDACTIC_MODELS_MIRROR/<mirrorPath>). */
  mirrorPath: string;
  /** Full SHA-256 (hex) when published. */
  sha256?: string;
  /** Published prefix of the SHA-256 (Demucs: the 8 hex digits in the file name). */
  sha256Prefix?: string;
}

/** A model the registry knows. */
export interface KnownModel {
  name: string;
  /** What it does, in one line. */
  description: string;
  kind: 'demucs' | 'beat-this';
  /** Checkpoints, in member order for a bag. */
  files: ModelFile[];
  /** Licence of the code and of the weights, as published. */
  licence: string;
  /** Whether `fetch` converts it to what the engine runs (every known model does). */
  convertible: boolean;
  /** Approximate size of what is downloaded (bytes), as published or measured. */
  downloadBytes?: number;
  /** Weightless graph (models/graphs/<graph>.onnx) of the architecture; default the model's name. */
  graph?: string;
  /** A bag's [member][source] weights (the model yaml); the graph is composed from `graph` per member. */
  bagWeights?: number[][];
}

const DEMUCS_ROOT = 'https://dl.fbaipublicfiles.com/demucs/';
const BEAT_THIS_ROOT = 'https://cloud.cp.jku.at/public.php/dav/files/7ik4RrBKTS273gp/';

const DEMUCS_LICENCE = 'MIT (Demucs code and pretrained weights as published by Meta in facebookresearch/demucs; no separate weights licence is stated)';
const BEAT_THIS_LICENCE = 'MIT (beat-this 1.1.0 by CPJKU; the checkpoints are published with the package, no separate weights licence is stated)';

function demucsFile(file: string): ModelFile {
  const path = `hybrid_transformer/${file}`;
  return { file, url: DEMUCS_ROOT + path, mirrorPath: path, sha256Prefix: /-([0-9a-f]{8})\.th$/.exec(file)![1]! };
}

function beatThisFile(name: string): ModelFile {
  return { file: `${name}.ckpt`, url: `${BEAT_THIS_ROOT}${name}.ckpt`, mirrorPath: `beat_this/${name}.ckpt` };
}

/** Every known model, the default first. */
export const KNOWN_MODELS: readonly KnownModel[] = [
  {
    name: 'htdemucs',
    description: 'Demucs 4 hybrid transformer: drums, bass, other, vocals (the default stem separator)',
    kind: 'demucs',
    files: [demucsFile('955717e8-8726e21a.th')],
    licence: DEMUCS_LICENCE,
    convertible: true,
    downloadBytes: 84_000_000,
  },
  {
    name: 'htdemucs_6s',
    description: 'Demucs 4 hybrid transformer, six stems: adds guitar and piano (experimental in Demucs)',
    kind: 'demucs',
    files: [demucsFile('5c90dfd2-34c22ccb.th')],
    licence: DEMUCS_LICENCE,
    convertible: true,
    downloadBytes: 55_000_000,
  },
  {
    name: 'htdemucs_ft',
    description: 'Demucs 4 fine-tuned bag of four htdemucs (one per stem): best quality, 4x the compute',
    kind: 'demucs',
    files: ['f7e0c4bc-ba3fe64a.th', 'd12395a8-e57c48e6.th', '92cfc3b6-ef3bcb9c.th', '04573f0d-f3cf25b2.th'].map(demucsFile),
    graph: 'htdemucs',
    // htdemucs_ft.yaml: each member gives one source.
    bagWeights: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
    licence: DEMUCS_LICENCE,
    convertible: true,
    downloadBytes: 4 * 84_000_000,
  },
  {
    name: 'beat-this-small',
    description: 'Beat This! small0: beat and downbeat tracker, small (2.1M parameters; --beat-tracker beat-this uses it when beat-this is not installed)',
    kind: 'beat-this',
    files: [beatThisFile('small0')],
    licence: BEAT_THIS_LICENCE,
    convertible: true,
    downloadBytes: 8_100_000,
  },
  {
    name: 'beat-this',
    description: 'Beat This! final0: beat and downbeat tracker (20M parameters; the default tracker once installed)',
    kind: 'beat-this',
    files: [beatThisFile('final0')],
    licence: BEAT_THIS_LICENCE,
    convertible: true,
    downloadBytes: 78_000_000,
  },
];

/** A known model by name, or undefined. */
export function knownModel(name: string): KnownModel | undefined {
  return KNOWN_MODELS.find((m) => m.name === name);
}

/**
 * What to tell a user whose Demucs model is missing: the exact command for a known model name,
 * else how to point at a file.
 */
export function missingModelHint(name: string): string {
  const known = knownModel(name);
  return known
    ? `install it with \`npx didactic-engine models fetch ${name}\` (add --from <checkpoint> on a machine without internet), set DIDACTIC_MODELS_DIR, or pass a path`
    : `install a known model with \`npx didactic-engine models fetch htdemucs\` (see \`didactic-engine models list\`), set DIDACTIC_MODELS_DIR, or pass a path to an .onnx file`;
}
