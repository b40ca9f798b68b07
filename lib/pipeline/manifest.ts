/**
 * The song manifest: every output file of a song with its size and SHA-256, written as the last
 * act of a successful run (after the outputs are committed). `--resume` trusts a song's outputs
 * only when its manifest verifies, so a deleted chunk, a truncated or replaced Parquet file, or a
 * run killed while committing is redone.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

import { writeFileAtomic } from '../util/atomic.js';
import type { PipelineConfig } from './config.js';
import { OUTPUT_DIRECTORY_KINDS } from './config.js';

export const MANIFEST_NAME = 'manifest.json';
const MANIFEST_VERSION = 1;

export interface ManifestEntry {
  /** Relative to the output root, '/'-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface SongManifest {
  version: number;
  song_id: string;
  run_fingerprint: string;
  degraded: boolean;
  files: ManifestEntry[];
}

export function manifestPath(config: PipelineConfig): string {
  return join(config.analysisDir, MANIFEST_NAME);
}

/** Size and SHA-256 of one output file. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** The digest of a file as it is now (read in the thread pool, hashed chunk by chunk). */
export async function fileDigest(path: string): Promise<FileDigest> {
  const bytes = (await stat(path)).size;
  return { bytes, sha256: await sha256Of(path) };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Hashes every committed output file of the song and writes the manifest atomically. `digests`
 * (final path -> digest) are files hashed while the run went on (SongStaging.prehash): a file of
 * the same size takes its digest from there instead of being read again.
 */
export async function writeSongManifest(
  config: PipelineConfig,
  fingerprint: string,
  degraded: boolean,
  digests?: ReadonlyMap<string, Promise<FileDigest | null>>,
): Promise<string> {
  const files: ManifestEntry[] = [];
  for (const [property] of OUTPUT_DIRECTORY_KINDS) {
    for (const path of (await listFiles(config[property])).sort()) {
      if (path === manifestPath(config)) continue;
      const info = await stat(path);
      const early = await digests?.get(path);
      const sha256 = early && early.bytes === info.size ? early.sha256 : await sha256Of(path);
      files.push({ path: relative(config.outDir, path).split(sep).join('/'), bytes: info.size, sha256 });
    }
  }
  const manifest: SongManifest = { version: MANIFEST_VERSION, song_id: config.songId, run_fingerprint: fingerprint, degraded, files };
  const path = manifestPath(config);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, { op: 'writeManifest' });
  return path;
}

/** Why a song's previous outputs cannot be reused, or null when its manifest verifies. */
export async function manifestProblem(config: PipelineConfig, fingerprint: string): Promise<string | null> {
  let manifest: SongManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath(config), 'utf8')) as SongManifest;
  } catch {
    return 'no readable manifest';
  }
  if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.files)) return 'manifest of another version';
  if (manifest.run_fingerprint !== fingerprint) return 'made from another input or config';
  if (manifest.degraded) return 'the previous run was degraded';
  for (const entry of manifest.files) {
    const path = join(config.outDir, ...entry.path.split('/'));
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return `${entry.path} is missing`;
    }
    if (size !== entry.bytes) return `${entry.path} has ${size} bytes, ${entry.bytes} expected`;
    if ((await sha256Of(path)) !== entry.sha256) return `${entry.path} has changed`;
  }
  return null;
}

/**
 * After an output of a committed song was rewritten in place (the `report` command rebuilding
 * report.html), updates or adds that file's entry so the manifest still verifies. No manifest: nothing to do.
 */
export async function refreshManifestEntry(outDir: string, songId: string, filePath: string): Promise<boolean> {
  const path = join(outDir, 'analysis', songId, MANIFEST_NAME);
  let manifest: SongManifest;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8')) as SongManifest;
  } catch {
    return false;
  }
  if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.files)) return false;
  const rel = relative(outDir, filePath).split(sep).join('/');
  const entry: ManifestEntry = { path: rel, bytes: (await stat(filePath)).size, sha256: await sha256Of(filePath) };
  const i = manifest.files.findIndex((f) => f.path === rel);
  if (i >= 0) manifest.files[i] = entry;
  else manifest.files.push(entry);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, { op: 'writeManifest' });
  return true;
}
