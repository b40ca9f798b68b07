/**
 * Progress display: bars on a terminal (cli-progress on stderr), plain lines otherwise (cli-progress
 * prints raw templates when stderr is not a TTY, so it is never used there).
 */
import { createRequire } from 'node:module';

import type CliProgress from 'cli-progress';

import type { ProgressEvent } from '../pipeline/context.js';
import type { Logger } from '../util/logger.js';

export interface ProgressDisplay {
  onProgress: (event: ProgressEvent) => void;
  onSongDone: (outcome: { songId: string; ok: boolean; skipped: boolean }) => void;
  stop: () => void;
}

/** cli-progress (CommonJS, ~25 modules), loaded only when bars are drawn. */
function cliProgressModule(): typeof CliProgress {
  return createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
}

export function createProgress(totalSongs: number, log: Logger): ProgressDisplay {
  if (!process.stderr.isTTY) {
    let done = 0;
    return {
      onProgress: (event) => {
        if (event.kind === 'step') log.info(`[${event.songId}] ${event.step} (${event.index}/${event.total})`);
      },
      onSongDone: (o) => {
        done++;
        log.info(`Progress: ${done}/${totalSongs} songs (${o.songId} ${o.skipped ? 'skipped' : o.ok ? 'done' : 'failed'})`);
      },
      stop: () => {},
    };
  }
  const cliProgress = cliProgressModule();
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      clearOnComplete: false,
      hideCursor: true,
      format: '{label} |{bar}| {value}/{total} {detail}',
    },
    cliProgress.Presets.shades_classic,
  );
  const songs = multi.create(totalSongs, 0, { label: 'Processing audio files'.padEnd(28), detail: '' });
  const perSong = new Map<string, CliProgress.SingleBar>();
  return {
    onProgress: (event) => {
      let bar = perSong.get(event.songId);
      if (!bar) {
        bar = multi.create(11, 0, { label: event.songId.slice(0, 28).padEnd(28), detail: '' });
        perSong.set(event.songId, bar);
      }
      if (event.kind === 'step') bar.update(event.index - 1, { detail: event.step });
      else bar.update({ detail: `bars (${event.stem}) ${event.done}/${event.total}` });
    },
    onSongDone: (o) => {
      const bar = perSong.get(o.songId);
      if (bar) {
        bar.update(11, { detail: o.skipped ? 'skipped' : o.ok ? 'done' : 'failed' });
        bar.stop();
        multi.remove(bar);
        perSong.delete(o.songId);
      }
      songs.increment();
    },
    stop: () => multi.stop(),
  };
}
