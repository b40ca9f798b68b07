/**
 * Optional features (lib/util/optional.ts): the service and PNG rendering are optional peer
 * dependencies. The table matches package.json, and a missing package, simulated through the
 * injected resolver (nothing is removed from node_modules), is DE_OPTIONAL_DEPENDENCY_MISSING
 * naming the install command, before anything of the feature is loaded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { DidacticError, ERROR_TABLE } from '../../lib/errors.js';
import {
  installCommand,
  isPackageInstalled,
  loadFeature,
  missingPackages,
  OPTIONAL_FEATURES,
  requireFeature,
  type OptionalFeature,
} from '../../lib/util/optional.js';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

const features = Object.keys(OPTIONAL_FEATURES) as OptionalFeature[];
const featurePackages = (f: OptionalFeature): Record<string, string> => OPTIONAL_FEATURES[f].packages;

describe('optional features', () => {
  it('are package.json optional peers (and dev dependencies for the tests), never plain dependencies', () => {
    const table = Object.assign({}, ...features.map(featurePackages)) as Record<string, string>;
    // Not imported by a feature: the GPU runtime, and a range for fastify's own light-my-request.
    const peers = Object.fromEntries(Object.entries(pkg.peerDependencies).filter(([name]) => name !== 'onnxruntime-node' && name !== 'light-my-request'));
    expect(table).toEqual(peers);
    for (const [name, range] of Object.entries(table)) {
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.dependencies[name], name).toBeUndefined();
      // The pinned dev version is the range's floor, so the tests run what the range promises.
      expect(`^${pkg.devDependencies[name]}`, name).toBe(range);
    }
  });

  it('a missing package is DE_OPTIONAL_DEPENDENCY_MISSING with the install command, and nothing is loaded', async () => {
    const absent = new Set(['fastify', 'ioredis']);
    let loaded = false;
    const err = await loadFeature(
      'service',
      async () => {
        loaded = true;
        return {};
      },
      (name) => !absent.has(name),
    ).catch((e: unknown) => e);
    expect(loaded).toBe(false);
    expect(err).toBeInstanceOf(DidacticError);
    const e = err as DidacticError;
    expect(e.code).toBe('DE_OPTIONAL_DEPENDENCY_MISSING');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('npm install fastify@5 ioredis@6');
    expect(e.details).toEqual({ feature: 'service', missing: ['fastify', 'ioredis'], command: 'npm install fastify@5 ioredis@6' });

    const png = (() => {
      try {
        requireFeature('png', () => false);
      } catch (thrown) {
        return thrown as DidacticError;
      }
    })();
    expect(png?.code).toBe('DE_OPTIONAL_DEPENDENCY_MISSING');
    expect(png?.message).toMatch(/PNG rendering.*puppeteer-core.*npm install puppeteer-core@24$/);
  });

  it('with every package present the feature loads (the repository installs them as dev dependencies)', async () => {
    for (const f of features) expect(missingPackages(f), f).toEqual([]);
    const { launch } = await loadFeature('png', () => import('puppeteer-core'));
    expect(typeof launch).toBe('function');
    expect(isPackageInstalled('didactic-engine-no-such-package')).toBe(false);
  });

  it('holds fastify to a light-my-request whose cookie supports Node 20 (no EBADENGINE warning on install)', () => {
    expect(pkg.peerDependenciesMeta['light-my-request']?.optional).toBe(true);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const engines = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.engines?.node && /^>=\s*2[1-9]/.test(p.engines.node))
      .map(([path, p]) => `${path} ${p.engines?.node}`);
    // Every locked package installs on the lowest Node of package.json "engines" (20.17).
    expect(engines).toEqual([]);
  });

  it('installCommand names every package of a feature at its major version', () => {
    expect(installCommand('service')).toBe('npm install fastify@5 @fastify/multipart@10 @fastify/swagger@9 fastify-type-provider-zod@7 bullmq@6 ioredis@6');
    expect(installCommand('png')).toBe('npm install puppeteer-core@24');
    // The docs give the same commands.
    const doc = (path: string) => readFileSync(join(root, path), 'utf8');
    for (const path of ['README.md', 'docs/service.md', 'CHANGELOG.md']) expect(doc(path), path).toContain(installCommand('service'));
    expect(doc('README.md')).toContain(installCommand('png'));
    expect(ERROR_TABLE.DE_OPTIONAL_DEPENDENCY_MISSING.class).toBe(DidacticError);
  });
});
