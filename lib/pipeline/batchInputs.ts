/**
 * A batch's inputs and their song ids, checked before anything runs. A module of its own, light
 * (no pipeline steps, no native addon), so the CLI can refuse a bad batch before loading the pipeline.
 */
import { basename, extname } from 'node:path';

import { InvalidArgumentError } from '../errors.js';

/** The song id a batch gives an input: its file name without the extension. */
export function songIdOf(inputPath: string): string {
  return basename(inputPath, extname(inputPath));
}

/**
 * The song id of each input, in order: `songIds` when given, else each file's name (songIdOf).
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT for an empty input list, song ids that do not
 * match it in number, or two inputs that would write the same song folder.
 */
export function batchSongIds(inputFiles: readonly string[], songIds?: readonly string[]): string[] {
  if (inputFiles.length === 0) throw new InvalidArgumentError('input_files list cannot be empty');
  const ids = songIds ? [...songIds] : inputFiles.map(songIdOf);
  if (ids.length !== inputFiles.length) {
    throw new InvalidArgumentError(`Number of song_ids (${ids.length}) must match number of input_files (${inputFiles.length})`);
  }
  const firstFileOf = new Map<string, string>();
  ids.forEach((id, i) => {
    const other = firstFileOf.get(id);
    if (other !== undefined) {
      throw new InvalidArgumentError(`'${other}' and '${inputFiles[i]}' would both write song '${id}'; rename one of them (song ids come from file names)`, {
        details: { songId: id, inputs: [other, inputFiles[i]] },
      });
    }
    firstFileOf.set(id, inputFiles[i]!);
  });
  return ids;
}
