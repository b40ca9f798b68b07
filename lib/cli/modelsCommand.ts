/**
 * `didactic-engine models list|fetch|remove`: the official pretrained models, downloaded, verified,
 * converted in Node and installed into the models folder (lib/models/fetch.ts).
 */
import type { Command } from 'commander';

import type { FetchProgress } from '../models/fetch.js';
import { modelsDir } from '../models/paths.js';

// Loaded on use: the registry, the converter (onnx-proto) and the progress bar cost start-up time
// every other command would pay (test/e2e/cli-startup.test.ts).
const fetchModule = () => import('../models/fetch.js');

interface CommonFlags {
  modelsDir?: string;
  json?: boolean;
}

interface FetchFlags extends CommonFlags {
  from?: string;
  unverified?: boolean;
  acceptNewHash?: boolean;
  mirror?: string;
}

function megabytes(n: number | null): string {
  return n === null ? '-' : `${(n / 1e6).toFixed(1)} MB`;
}

/** A bar per file on a terminal, a line per 10 % otherwise (cli-progress prints raw templates off a TTY). */
async function progressDisplay(): Promise<{ onProgress: (p: FetchProgress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) {
    let lastDecile = -1;
    let lastKey = '';
    return {
      onProgress: (p) => {
        const key = `${p.stage}:${p.file}`;
        if (key !== lastKey) {
          lastKey = key;
          lastDecile = -1;
          if (p.stage !== 'download') process.stderr.write(`${p.stage} ${p.file}\n`);
        }
        if (p.stage === 'download' && p.total) {
          const decile = Math.floor((10 * p.received) / p.total);
          if (decile !== lastDecile) {
            lastDecile = decile;
            process.stderr.write(`download ${p.file}: ${megabytes(p.received)} of ${megabytes(p.total)}\n`);
          }
        }
      },
      stop: () => {},
    };
  }
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{stage} {file} |{bar}| {percentage}% {done}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let file = '';
  return {
    onProgress: (p) => {
      if (!started || p.file !== file) {
        if (started) bar.stop();
        bar.start(p.total ?? 1, 0, { stage: p.stage, file: p.file, done: '' });
        started = true;
        file = p.file;
      }
      if (p.total) bar.setTotal(p.total);
      bar.update(p.total ? p.received : 0, { stage: p.stage, done: p.total ? megabytes(p.received) : '' });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** Registers `models` and its subcommands on the program. */
export function addModelsCommand(program: Command): void {
  const models = program.command('models').description('list, fetch (download, verify, convert, install) and remove the pretrained models (Demucs, Beat This)');
  models
    .command('list')
    .description('every known model: what it does, whether it is installed, its size, source URL and licence')
    .option('--models-dir <dir>', 'models folder (default: $DIDACTIC_MODELS_DIR, else ~/.cache/didactic-engine/models)')
    .option('--json', 'print JSON on stdout')
    .action(async (flags: CommonFlags) => {
      const rows = await (await fetchModule()).listModels({ ...(flags.modelsDir ? { modelsDir: flags.modelsDir } : {}) });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ modelsDir: flags.modelsDir ?? modelsDir(), models: rows }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`models folder: ${flags.modelsDir ?? modelsDir()}\n`);
      for (const r of rows) {
        process.stdout.write(
          `${r.name.padEnd(16)} ${r.installed ? `installed ${megabytes(r.bytes)}` : 'not installed'}\n` +
            `  ${r.description}\n  source: ${r.urls.join(', ')}\n  licence: ${r.licence}\n`,
        );
      }
    });
  models
    .command('fetch')
    .description('download, verify, convert and install models (default htdemucs)')
    .argument('[names...]', 'model names (see `models list`)', ['htdemucs'])
    .option('--models-dir <dir>', 'models folder (default: $DIDACTIC_MODELS_DIR, else ~/.cache/didactic-engine/models)')
    .option('--from <file|folder>', 'install from a checkpoint file or a folder of the official files instead of downloading (hash still checked)')
    .option('--unverified', 'accept a checkpoint that is not an official file (fine-tuned, test); its structure is still checked')
    .option('--accept-new-hash', 'accept a SHA-256 that differs from the one an earlier fetch recorded (models without a published hash)')
    .option('--mirror <url>', 'base URL of a mirror of the official files (default: $DIDACTIC_MODELS_MIRROR)')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (names: string[], flags: FetchFlags) => {
      const results = [];
      for (const name of names) {
        const display = await progressDisplay();
        try {
          const r = await (await fetchModule()).fetchModel(name, {
            ...(flags.modelsDir ? { modelsDir: flags.modelsDir } : {}),
            ...(flags.from ? { from: flags.from } : {}),
            ...(flags.mirror ? { mirror: flags.mirror } : {}),
            unverified: Boolean(flags.unverified),
            acceptNewHash: Boolean(flags.acceptNewHash),
            onProgress: display.onProgress,
          });
          results.push(r);
          display.stop();
          if (!flags.json) {
            process.stderr.write(
              `installed ${r.name}: ${r.path}\n` +
                r.files.map((f) => `  ${f.file} sha256 ${f.sha256} (${f.verified})\n`).join('') +
                `  licence: ${r.licence}\n`,
            );
          }
        } finally {
          display.stop();
        }
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    });
  models
    .command('remove')
    .description('remove an installed model')
    .argument('<name>', 'model name')
    .option('--models-dir <dir>', 'models folder (default: $DIDACTIC_MODELS_DIR, else ~/.cache/didactic-engine/models)')
    .action(async (name: string, flags: CommonFlags) => {
      const removed = await (await fetchModule()).removeModel(name, { ...(flags.modelsDir ? { modelsDir: flags.modelsDir } : {}) });
      process.stderr.write(removed ? `removed ${name}\n` : `${name} was not installed\n`);
    });
}
