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

/** Loads the native addon once (prebuilt first, then build/Release), with a helpful error. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
    cached = nodeGypBuild(packageRoot);
    return cached;
  } catch (err) {
    const hasVendor = existsSync(join(packageRoot, 'native', 'vendor', 'src'));
    const hint = hasVendor
      ? 'run `npm run build:native` to compile it'
      : 'run `npm run vendor && npm run build:native` (needs cmake, a C++17 compiler and apt-get)';
    throw new DidacticError(
      'DE_ADDON_LOAD_FAILED',
      `didactic-engine: the native addon could not be loaded for ${process.platform}-${process.arch} ` +
        `(Node ${process.version}): ${(err as Error).message}. No prebuilt binary matched; ${hint}.`,
      { cause: err },
    );
  }
}
