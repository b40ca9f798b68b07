#!/usr/bin/env node
import { Command } from 'commander';

import { audioInfo } from '../audio/info.js';
import { DidacticError } from '../errors.js';

const program = new Command();
program.name('didactic-engine').description('Turn music into learning datasets (native-accelerated).').showHelpAfterError();

program
  .command('info')
  .description('print the decoded metadata of an audio file')
  .argument('<file>', 'audio file (WAV, AIFF, FLAC, Ogg Vorbis, Opus, ...)')
  .option('--json', 'print JSON')
  .action(async (file: string, opts: { json?: boolean }) => {
    const info = await audioInfo(file);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    const lines = [
      `file:          ${info.path}`,
      `container:     ${info.container}`,
      `sample format: ${info.sampleFormat}`,
      `sample rate:   ${info.sampleRate} Hz`,
      `channels:      ${info.channels}`,
      `frames:        ${info.frames}`,
      `duration:      ${info.duration.toFixed(3)} s`,
      `peak:          ${info.peak.toFixed(4)} (${(20 * Math.log10(info.peak || 1e-12)).toFixed(1)} dBFS)`,
      `rms:           ${info.rms.toFixed(4)} (${(20 * Math.log10(info.rms || 1e-12)).toFixed(1)} dBFS)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof DidacticError) {
    process.stderr.write(`didactic-engine: ${err.message} [${err.code}]\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
