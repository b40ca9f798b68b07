/**
 * `didactic-engine transcribe` and `didactic-engine separate`: one model step alone, on one file,
 * with the same engines and defaults the pipeline uses.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

import { type Command, Option } from './commander.js';

import { WAV_SUBTYPES } from '../audio/wavSubtypes.js';
import { DidacticError } from '../errors.js';
import { toWriteError } from '../util/atomic.js';
import { floatArg, intArg } from './args.js';

/** Ctrl-C cancels the native work (nothing half-written is left) instead of killing the process mid-write. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  return controller.signal;
}

interface TranscribeFlags {
  output: string;
  model?: string;
  device: 'cpu' | 'cuda';
  threads?: number;
  midiTempo: number;
  onsetThreshold: number;
  frameThreshold: number;
  minimumNoteLength: number;
  minimumFrequency?: number;
  maximumFrequency?: number;
  melodiaTrick: boolean;
  multiplePitchBends?: boolean;
  savePosteriors?: string;
  json?: boolean;
}

interface SeparateFlags {
  output: string;
  model: string;
  modelsDir?: string;
  device: 'cpu' | 'cuda';
  threads?: number;
  shifts: number;
  seed: number;
  overlap: number;
  subtype: 'PCM_16' | 'PCM_24' | 'FLOAT';
  json?: boolean;
}

export function addModelCommands(program: Command): void {
  program
    .command('transcribe')
    .description('transcribe an audio file to MIDI with Basic Pitch (ONNX Runtime, in-process)')
    .argument('<audio>', 'audio file')
    .requiredOption('-o, --output <file.mid>', 'MIDI file to write')
    .option('--model <nmp.onnx>', 'Basic Pitch ONNX model (default: converted from @spotify/basic-pitch and cached)')
    .addOption(new Option('--device <device>', 'execution provider').choices(['cpu', 'cuda']).default('cpu'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', intArg)
    .option('--midi-tempo <bpm>', 'tempo written to the MIDI file (basic-pitch default)', floatArg, 120)
    .option('--onset-threshold <p>', 'onset threshold', floatArg, 0.5)
    .option('--frame-threshold <p>', 'frame threshold', floatArg, 0.3)
    .option('--minimum-note-length <ms>', 'minimum note length in milliseconds', floatArg, 127.7)
    .option('--minimum-frequency <hz>', 'lowest note frequency kept', floatArg)
    .option('--maximum-frequency <hz>', 'highest note frequency kept', floatArg)
    .option('--no-melodia-trick', 'turn off the melodia trick')
    .option('--multiple-pitch-bends', 'keep pitch bends of overlapping notes (one track per pitch in basic-pitch)')
    .option('--save-posteriors <dir>', 'also write the raw note/onset/contour posteriors as .npy files')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (audio: string, flags: TranscribeFlags) => {
      // Loaded when the command runs, not on every start of the CLI.
      const { createTranscriber, notesToMidiNotes, writePosteriorsNpy } = await import('../models/basicPitch/index.js');
      const { writeStemMidi } = await import('../music/midi.js');
      const transcriber = await createTranscriber({
        ...(flags.model ? { model: flags.model } : {}),
        device: flags.device,
        intraOpThreads: flags.threads ?? availableParallelism(),
      });
      const result = await transcriber.transcribe(audio, {
        onsetThreshold: flags.onsetThreshold,
        frameThreshold: flags.frameThreshold,
        minimumNoteLengthMs: flags.minimumNoteLength,
        minimumFrequency: flags.minimumFrequency ?? null,
        maximumFrequency: flags.maximumFrequency ?? null,
        melodiaTrick: flags.melodiaTrick,
        posteriors: flags.savePosteriors !== undefined,
        signal: interruptSignal(),
      });
      const output = resolve(flags.output);
      await ensureFolder(dirname(output));
      await writeStemMidi(notesToMidiNotes(result.notes, flags.multiplePitchBends), flags.midiTempo, output, {
        trackName: basename(audio),
      });
      const extra = result.posteriors && flags.savePosteriors ? await writePosteriorsNpy(result.posteriors, resolve(flags.savePosteriors)) : [];
      const summary = {
        input: audio,
        output,
        notes: result.notes.length,
        frames: result.frames,
        model: transcriber.modelPath,
        providers: transcriber.providers,
        timing_ms: result.timing,
        ...(extra.length ? { posteriors: extra } : {}),
      };
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `${result.notes.length} notes → ${output}${extra.length ? ` (posteriors: ${extra.join(', ')})` : ''}\n`,
      );
    });

  program
    .command('separate')
    .description('separate an audio file into stems with Demucs (htdemucs ONNX, in-process)')
    .argument('<audio>', 'audio file')
    .requiredOption('-o, --output <dir>', 'folder for <stem>.wav files (44.1 kHz stereo)')
    .option('--model <name|path>', 'model name (<name>.onnx in the models folder) or path', 'htdemucs')
    .option('--models-dir <dir>', 'models folder (default: $DIDACTIC_MODELS_DIR or ~/.cache/didactic-engine/models)')
    .addOption(new Option('--device <device>', 'execution provider').choices(['cpu', 'cuda']).default('cpu'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', intArg)
    .option('--shifts <n>', 'random time shifts averaged (Demucs --shifts)', intArg, 0)
    .option('--seed <n>', 'seed of the shifts', intArg, 0)
    .option('--overlap <fraction>', 'segment overlap (Demucs --overlap)', floatArg, 0.25)
    .addOption(new Option('--subtype <subtype>', 'WAV sample format').choices([...WAV_SUBTYPES]).default('PCM_16'))
    .option('--json', 'print a JSON summary on stdout')
    .action(async (audio: string, flags: SeparateFlags) => {
      const { createSeparator } = await import('../models/demucs/index.js');
      const separator = await createSeparator(flags.model, {
        ...(flags.modelsDir ? { modelsDir: flags.modelsDir } : {}),
        device: flags.device,
        intraOpThreads: flags.threads ?? availableParallelism(),
      });
      const progress = process.stderr.isTTY && !flags.json;
      const result = await separator.separate(audio, {
        shifts: flags.shifts,
        seed: flags.seed,
        overlap: flags.overlap,
        signal: interruptSignal(),
        ...(progress ? { onProgress: (done: number, total: number) => process.stderr.write(`\rsegments ${done}/${total}`) } : {}),
      });
      if (progress) process.stderr.write('\n');
      // All stems are written into a hidden folder first and renamed into place only when all of
      // them succeeded, so a failure never leaves a partial set beside older stems.
      const output = resolve(flags.output);
      await ensureFolder(output);
      const staging = join(output, `.separate-${process.pid}`);
      await mkdir(staging, { recursive: true });
      const files: string[] = [];
      let clipped = 0;
      try {
        const { writeWav } = await import('../audio/write.js');
        for (const stem of result.stems) {
          const w = await writeWav(join(staging, `${stem.name}.wav`), stem.samples, { sampleRate: result.sampleRate, channels: 2, subtype: flags.subtype });
          clipped += w.clippedSamples;
        }
        for (const stem of result.stems) {
          await rename(join(staging, `${stem.name}.wav`), join(output, `${stem.name}.wav`));
          files.push(join(output, `${stem.name}.wav`));
        }
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
      const summary = {
        input: audio,
        model: separator.info.modelPath ?? flags.model,
        providers: separator.info.providers,
        stems: files,
        frames: result.frames,
        sample_rate: result.sampleRate,
        clipped_samples: clipped,
      };
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${files.length} stems → ${output}\n  ${files.join('\n  ')}\n`);
    });
}

/**
 * Creates an output folder when its parent exists (like `mkdir`, not `mkdir -p`): a mistyped
 * path fails clearly instead of silently creating a tree of folders.
 */
async function ensureFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') {
      throw new DidacticError('DE_FILE_NOT_FOUND', `Output folder ${dir} cannot be created: its parent ${dirname(dir)} does not exist`);
    }
    throw toWriteError(err, dir, 'mkdir');
  }
}
