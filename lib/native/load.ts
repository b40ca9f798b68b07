import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeBinding } from '../../binding.js';
import { DidacticError } from '../errors.js';

const require = createRequire(import.meta.url);

/** The package root: two levels above lib/native (sources) or dist/native (compiled). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: NativeBinding | undefined;

export interface AddonOrigin {
  path: string;
  prebuilt: boolean;
}

/** Where node-gyp-build found the addon: a prebuild under prebuilds/ or the local build. */
export function addonOrigin(): AddonOrigin {
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  const path = nodeGypBuild.resolve(packageRoot);
  return { path, prebuilt: path.split(/[\\/]/).includes('prebuilds') };
}

/**
 * Why the addon did not load, in words a user can act on. A prebuild linked against a newer C
 * library than this system's fails in dlopen with "version `GLIBC_2.xx' not found": say which
 * version it needs and how to build from source instead of passing the raw loader error on.
 */
export function explainAddonLoadError(message: string, hasVendor: boolean, glibcRuntime?: string): string {
  const build = hasVendor
    ? 'run `npm run build:native` to compile it'
    : 'rebuild it from source with `DIDACTIC_FORCE_BUILD=1 npm rebuild didactic-engine` (needs cmake, a C++17 compiler and apt-get)';
  const where = `${process.platform}-${process.arch}, Node ${process.version}`;
  const glibc = /version `(GLIBC(?:XX)?)_([\d.]+)' not found/.exec(message);
  if (glibc) {
    const need = glibc[1] === 'GLIBC' ? `glibc ${glibc[2]}` : `libstdc++ with GLIBCXX_${glibc[2]}`;
    return (
      `didactic-engine: the prebuilt native addon needs ${need} or newer, but this system has glibc ${glibcRuntime ?? 'unknown'} ` + `(${where}); ${build}.`
    );
  }
  if (/No native build was found/.test(message)) {
    return `didactic-engine: no prebuilt native addon matches ${where} and none was built; ${build}.`;
  }
  return `didactic-engine: the native addon could not be loaded (${where}): ${message}. ${build[0]!.toUpperCase()}${build.slice(1)}.`;
}

/** Loads the native addon once (prebuilt first, then build/Release), with a helpful error. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
    cached = nodeGypBuild(packageRoot);
    return cached;
  } catch (err) {
    const hasVendor = existsSync(join(packageRoot, 'native', 'vendor', 'src'));
    const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
    throw new DidacticError('DE_ADDON_LOAD_FAILED', explainAddonLoadError((err as Error).message, hasVendor, glibc), { cause: err });
  }
}
