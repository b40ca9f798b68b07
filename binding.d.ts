/**
 * Types of the raw native addon (native/src). One entry per export; every option is required
 * because defaults are resolved in TypeScript before the call. Not part of the public API.
 */

export declare class NativeCancelToken {
  abort(): void;
}

export interface NativeDecodeOptions {
  mono: boolean;
  planar: boolean;
}

export interface NativeDecoded {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  sourceChannels: number;
  frames: number;
  container: string;
  sampleFormat: string;
}

export type NativeWavSubtype = 'PCM_16' | 'PCM_24' | 'FLOAT';

export interface NativeWriteWavOptions {
  channels: number;
  sampleRate: number;
  subtype: NativeWavSubtype;
}

export interface NativeWriteWavResult {
  frames: number;
  clippedSamples: number;
  bytes: number;
}

export type NativeResampleEngine =
  | 'soxr_hq'
  | 'soxr_vhq'
  | 'soxr_mq'
  | 'soxr_lq'
  | 'sinc_best'
  | 'sinc_medium'
  | 'sinc_fastest';

export interface NativeResampleOptions {
  channels: number;
  inRate: number;
  outRate: number;
  engine: NativeResampleEngine;
}

export interface NativeRuntimeInfo {
  libraryPath: string;
  version: string;
  apiVersion: number;
  availableProviders: string[];
}

export interface NativeTensorSpec {
  name: string;
  shape: number[];
  type: string;
}

export interface NativeTensor {
  data: Float32Array;
  dims: number[];
}

export interface NativeSessionOptions {
  intraOpThreads: number;
  interOpThreads: number;
  providers: string[];
}

export declare class NativeOrtSession {
  readonly inputs: NativeTensorSpec[];
  readonly outputs: NativeTensorSpec[];
  readonly providers: string[];
  readonly warnings: string[];
  run(
    feeds: Record<string, NativeTensor>,
    outputNames?: string[],
    cancel?: NativeCancelToken,
  ): Promise<Record<string, NativeTensor>>;
}

export interface NativeLibraryVersions {
  sndfile: string;
  soxr: string;
  samplerate: string;
}

export interface NativeBinding {
  readonly napiVersion: number;
  readonly CancelToken: new () => NativeCancelToken;
  decodeFile(path: string, options: NativeDecodeOptions, cancel?: NativeCancelToken): Promise<NativeDecoded>;
  decodeBuffer(bytes: Uint8Array, options: NativeDecodeOptions, cancel?: NativeCancelToken): Promise<NativeDecoded>;
  writeWav(path: string, samples: Float32Array, options: NativeWriteWavOptions): Promise<NativeWriteWavResult>;
  resample(samples: Float32Array, options: NativeResampleOptions, cancel?: NativeCancelToken): Promise<Float32Array>;
  libraryVersions(): NativeLibraryVersions;
  ortLoad(libraryPath: string): Promise<NativeRuntimeInfo>;
  ortInfo(): NativeRuntimeInfo | null;
  createSession(model: string | Uint8Array, options: NativeSessionOptions): Promise<NativeOrtSession>;
}
