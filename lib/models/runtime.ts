import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type { NativeRuntimeInfo } from '../../binding.js';
import { fromNative, NativeError } from '../errors.js';
import { loadBinding, packageRoot } from '../native/load.js';

const require = createRequire(import.meta.url);

/** Which ONNX Runtime library is loaded: its path, version and C API version. */
export type RuntimeInfo = NativeRuntimeInfo;

const LIBRARY_NAMES: Record<string, string> = {
  linux: 'libonnxruntime.so.1',
  darwin: 'libonnxruntime.1.dylib',
  win32: 'onnxruntime.dll',
};

/**
 * Where the ONNX Runtime shared library is: $DIDACTIC_ORT_LIBRARY; else the onnxruntime-node
 * package when one is installed (a user who wants CUDA installs it: its install script fetches the
 * CUDA provider libraries beside the runtime); else the copy the npm tarball ships in
 * prebuilds/<platform>-<arch>/ (taken from onnxruntime-node at pack time, so consumers never run
 * that package's downloading install script).
 */
export function ortLibraryPath(): string {
  const override = process.env.DIDACTIC_ORT_LIBRARY;
  if (override) return override;
  const name = LIBRARY_NAMES[process.platform];
  if (!name) throw new NativeError('DE_NATIVE_RUNTIME_MISSING', `onnxruntime: unsupported platform ${process.platform}`);
  const bundled = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, name);
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
  } catch (err) {
    if (existsSync(bundled)) return bundled;
    throw new NativeError(
      'DE_NATIVE_RUNTIME_MISSING',
      `onnxruntime: no runtime library: neither ${bundled} (prebuilt package) nor the onnxruntime-node package; install onnxruntime-node or set DIDACTIC_ORT_LIBRARY`,
      { cause: err },
    );
  }
  return join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch, name);
}

let loading: Promise<RuntimeInfo> | undefined;

/** Loads the ONNX Runtime once per process (off the event loop) and reports its version. */
export function ensureOrtRuntime(): Promise<RuntimeInfo> {
  if (!loading) {
    const context = new Error();
    loading = (async () => {
      const path = ortLibraryPath();
      if (!existsSync(path)) {
        throw new NativeError(
          'DE_NATIVE_RUNTIME_MISSING',
          `onnxruntime: runtime library not found at ${path}; reinstall onnxruntime-node or set DIDACTIC_ORT_LIBRARY`,
        );
      }
      try {
        return await loadBinding().ortLoad(path);
      } catch (err) {
        throw fromNative(err, context, 'ortLoad');
      }
    })();
    // A failed load may be fixed (e.g. env var set) and retried.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** The loaded runtime's info, or null when it has not been loaded in this process. */
export function ortRuntimeInfo(): RuntimeInfo | null {
  return loadBinding().ortInfo();
}
