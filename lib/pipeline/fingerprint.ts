import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { PipelineConfig } from './config.js';

/**
 * A fingerprint of what produced a song's outputs: the input file's identity (path, size, mtime)
 * and every config field that shapes the outputs. `--resume` redoes a song whenever it changes.
 */
export async function runFingerprint(config: PipelineConfig): Promise<string> {
  const info = await stat(config.inputWav);
  // The memory budget only decides whether a song runs, never what it writes.
  const fields = { ...config.toSnakeCase(), out_dir: undefined, enable_progress: undefined, memory_budget_mb: undefined };
  const payload = JSON.stringify({ input: resolve(config.inputWav), size: info.size, mtimeMs: info.mtimeMs, fields });
  return createHash('sha256').update(payload).digest('hex');
}
