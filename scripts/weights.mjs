// The Basic Pitch TF.js weights the install script fetches (scripts/install.mjs) and where they
// go; lib/models/basicPitch/index.ts reads the same folder (keep BASIC_PITCH.dir in step).
import { join } from 'node:path';

export const BASIC_PITCH = {
  spec: '@spotify/basic-pitch@1.0.1',
  dir: join('weights', 'basic-pitch-1.0.1'),
  // SHA-256 of package/model/* in that tarball (Apache-2.0, Spotify AB).
  files: {
    'model.json': '1ed1aaee3409ec1dc098c8b01f430c0911f6fe9412e7af8086750f9e8f302f68',
    'group1-shard1of1.bin': 'b142a95737a52e1e412d5f92e73d8bb80dfe8d04941acc0702f11f4524fb377c',
  },
};

export const weightsDir = (root) => join(root, BASIC_PITCH.dir);
