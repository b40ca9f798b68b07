/**
 * Health check: what this installation can actually do, established by doing it (loading the
 * addon, decoding and resampling a generated signal, creating an ONNX session per execution
 * provider, writing into the output folder), not by looking for files alone.
 */
import { constants, existsSync, statSync } from 'node:fs';
import { access, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { decodeAudio } from './audio/decode.js';
import { resample } from './audio/resample.js';
import { writeWav } from './audio/write.js';
import { buildModel } from './models/onnxBuilder.js';
import { ensureOrtRuntime } from './models/runtime.js';
import { createSession } from './models/session.js';
import { addonOrigin, loadBinding } from './native/load.js';
import { createTranscriber, defaultModelPath, tfjsModelPath } from './models/basicPitch/index.js';
import { createSeparator } from './models/demucs/index.js';
import { missingModelHint } from './models/registry.js';
import { resolveModelFile } from './pipeline/models.js';
import { findChromium } from './reports/html/png.js';
import { installCommand, missingPackages, OPTIONAL_FEATURES, type OptionalFeature } from './util/optional.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Whether the core pipeline needs this check to pass (doctor exits non-zero only for these). */
  required: boolean;
  details: string;
  data?: Record<string, unknown>;
}

/** The install check's result: `ok` when every required check passed, and each check with its details. */
export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

async function check(
  name: string,
  required: boolean,
  body: () => Promise<{ ok?: boolean; details: string; data?: Record<string, unknown> }>,
): Promise<CheckResult> {
  try {
    const r = await body();
    return { name, required, ok: r.ok ?? true, details: r.details, ...(r.data ? { data: r.data } : {}) };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { name, required, ok: false, details: `${e.message}${e.code ? ` [${e.code}]` : ''}` };
  }
}

/** A one-node model (y = x + 1) used to prove that a provider can build and run a session. */
function probeModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', shape: [4] }],
    outputs: [{ name: 'y', shape: [4] }],
    initializers: [{ name: 'one', dims: [1], data: new Float32Array([1]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
  });
}

/** Checks the install (addon, ONNX Runtime, models, output folder) and reports each finding; never throws for a failed check. */
export async function runDoctor(options: { outDir?: string; demucsModel?: string } = {}): Promise<DoctorReport> {
  const checks: CheckResult[] = [];

  checks.push(
    await check('addon', true, async () => {
      const binding = loadBinding();
      const origin = addonOrigin();
      const versions = binding.libraryVersions();
      return {
        details: `${origin.prebuilt ? 'prebuilt' : 'local build'} ${origin.path} (N-API ${binding.napiVersion}); ${versions.sndfile}, ${versions.soxr}, ${versions.samplerate.split(' ')[0]}, kissfft 131.1.0`,
        data: { ...origin, napiVersion: binding.napiVersion, libraries: versions },
      };
    }),
  );

  checks.push(
    await check('audio', true, async () => {
      // A private temp folder: the doctor changes nothing in the output folder.
      const dir = await mkdtemp(join(tmpdir(), 'didactic-doctor-'));
      try {
        const tone = new Float32Array(44100);
        for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 44100);
        const path = join(dir, 'tone.wav');
        await writeWav(path, tone, { sampleRate: 44100 });
        const decoded = await decodeAudio(path);
        const y = await resample(decoded.samples, { inRate: 44100, outRate: 22050 });
        const ok = decoded.frames === 44100 && y.length === 22050;
        return { ok, details: ok ? 'write WAV → decode → soxr resample round trip works' : 'round trip returned wrong lengths' };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
  );

  const runtime = await check('onnxruntime', true, async () => {
    const info = await ensureOrtRuntime();
    return {
      details: `onnxruntime ${info.version} (C API ${info.apiVersion}) from ${info.libraryPath}`,
      data: { ...info },
    };
  });
  checks.push(runtime);

  if (runtime.ok) {
    for (const provider of ['cpu', 'cuda'] as const) {
      checks.push(
        await check(`provider:${provider}`, provider === 'cpu', async () => {
          const session = await createSession(probeModel(), { providers: [provider] });
          try {
            const usable = session.providers.includes(provider);
            if (!usable) return { ok: false, details: `not usable: ${session.warnings.join('; ') || 'fell back to CPU'}` };
            const out = await session.run({ x: { data: new Float32Array([1, 2, 3, 4]), dims: [4] } });
            const ok = Array.from(out.y!.data).join(',') === '2,3,4,5';
            return { ok, details: ok ? 'session created and ran a probe model' : 'probe model returned wrong numbers' };
          } finally {
            await session.close();
          }
        }),
      );
    }
  }

  checks.push(
    await check('model:basic-pitch', false, async () => {
      // The model the pipeline would use: $DIDACTIC_BASIC_PITCH_MODEL, else the converted cache.
      const override = process.env.DIDACTIC_BASIC_PITCH_MODEL;
      const path = override || defaultModelPath();
      if (existsSync(path)) {
        if (!runtime.ok) return { ok: false, details: `${path} present, but ONNX Runtime is not usable` };
        const t = await createTranscriber({ model: path });
        const providers = t.providers.join('+');
        await t.close();
        return { details: `${override ? 'model from $DIDACTIC_BASIC_PITCH_MODEL' : 'converted model cached'} at ${path}; opened (${providers})` };
      }
      if (override) return { ok: false, details: `$DIDACTIC_BASIC_PITCH_MODEL names a missing file (${path})` };
      let tfjs = false;
      try {
        tfjs = existsSync(tfjsModelPath());
      } catch {
        tfjs = false;
      }
      return tfjs
        ? { details: `not converted yet; the first transcription converts the installed @spotify/basic-pitch weights to ${path}` }
        : { ok: false, details: `no model at ${path} and the @spotify/basic-pitch weights are not installed; transcription is skipped` };
    }),
  );

  checks.push(
    await check('model:demucs', false, async () => {
      const name = options.demucsModel ?? 'htdemucs';
      const { path, searched } = resolveModelFile(name);
      if (!path) {
        return { ok: false, details: `${name} not found (looked for ${searched.join(', ')}); separation falls back to full_mix; ${missingModelHint(name)}` };
      }
      if (!runtime.ok) return { ok: false, details: `${name} found at ${path}, but ONNX Runtime is not usable` };
      const separator = await createSeparator(path);
      try {
        return { details: `${name} found at ${path}; opened, sources ${separator.info.sources.join(', ')} at ${separator.info.sampleRate} Hz` };
      } finally {
        await separator.close();
      }
    }),
  );

  checks.push(
    await check('output', true, async () => {
      // Checked, never created: the folder itself when it exists, else its nearest existing parent
      // (where a run would create it).
      const dir = resolve(options.outDir ?? '.');
      const existing = nearestExisting(dir);
      if (!statSync(existing).isDirectory()) return { ok: false, details: `${dir} cannot be created: ${existing} is not a folder` };
      await access(existing, constants.W_OK);
      const fs = await statfs(existing);
      const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
      const where = existing === dir ? `${dir} is writable` : `${dir} does not exist yet; ${existing} is writable, so a run can create it`;
      return {
        ok: freeGiB > 0.5,
        details: `${where}; ${freeGiB.toFixed(1)} GiB free`,
        data: { dir, checked: existing, freeBytes: fs.bavail * fs.bsize },
      };
    }),
  );

  // Optional features (optional peer dependencies): available or the command that installs them.
  for (const feature of Object.keys(OPTIONAL_FEATURES) as OptionalFeature[]) {
    checks.push(
      await check(`feature:${feature}`, false, async () => {
        const info = OPTIONAL_FEATURES[feature];
        const missing = missingPackages(feature);
        const names = Object.keys(info.packages);
        if (missing.length > 0) {
          return { ok: false, details: `${info.description}: not installed (${installCommand(feature, missing)})`, data: { available: false, missing } };
        }
        if (feature === 'png') {
          const chromium = findChromium();
          if (!chromium)
            return {
              ok: false,
              details: `${info.description}: ${names.join(', ')} installed, but no Chromium (apt-get install chromium, or DIDACTIC_CHROMIUM)`,
              data: { available: false, missing: [] },
            };
          return { details: `${info.description}: available (${names.join(', ')}; Chromium ${chromium})`, data: { available: true } };
        }
        return { details: `${info.description}: available (${names.join(', ')})`, data: { available: true } };
      }),
    );
  }

  return { ok: checks.every((c) => c.ok || !c.required), checks };
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current)) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

export function formatDoctorReport(report: DoctorReport): string {
  const lines = ['didactic-engine doctor', ''];
  for (const c of report.checks) {
    lines.push(`${c.ok ? '✓' : c.required ? '✗' : '-'} ${c.name.padEnd(18)} ${c.details}`);
  }
  lines.push('', report.ok ? 'core: OK' : 'core: NOT WORKING (see ✗ above)');
  return lines.join('\n');
}
