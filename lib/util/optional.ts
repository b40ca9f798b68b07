/**
 * Optional features: the HTTP service and PNG rendering of reports need npm packages that a
 * library-only install does not carry (a web server, a Redis client, a browser driver). They are
 * optional peer dependencies (package.json `peerDependencies` + `peerDependenciesMeta`), checked
 * and loaded on first use; a missing one is DE_OPTIONAL_DEPENDENCY_MISSING with the exact
 * `npm install` command in its message.
 */
import { createRequire } from 'node:module';

import { DidacticError } from '../errors.js';

/** An optional feature: what it is, for messages, and its npm packages with their peer ranges. */
export interface OptionalFeatureInfo {
  /** What the feature is, for messages and `doctor`. */
  readonly description: string;
  /** Each package the feature imports, with its range in package.json `peerDependencies`. */
  readonly packages: Readonly<Record<string, string>>;
}

/**
 * The optional features and their packages. The ranges are package.json's `peerDependencies`
 * (test/unit/optional.test.ts holds the two equal); the other peers are onnxruntime-node (a GPU
 * runtime, docs/models.md) and light-my-request, fastify's own dependency, held below 6.8 whose
 * cookie 2 needs Node 22.
 */
export const OPTIONAL_FEATURES = {
  service: {
    description: 'the HTTP service (`didactic-engine serve` and `worker`, `didactic-engine/service`)',
    packages: {
      fastify: '^5.12.8',
      '@fastify/multipart': '^10.1.9',
      '@fastify/swagger': '^9.9.3',
      'fastify-type-provider-zod': '^7.0.0',
      bullmq: '^6.7.0',
      ioredis: '^6.0.0',
    },
  },
  png: {
    description: 'PNG rendering of reports (`report --png`, `renderReportPng`)',
    packages: { 'puppeteer-core': '^24.43.1' },
  },
} as const satisfies Record<string, OptionalFeatureInfo>;

/** The name of an optional feature: `service` or `png`. */
export type OptionalFeature = keyof typeof OPTIONAL_FEATURES;

/** Answers whether an npm package can be loaded from this package; injected by tests. */
export type PackageResolver = (name: string) => boolean;

const require = createRequire(import.meta.url);

/** Whether `name` resolves from this package's location, the way its imports will. */
export const isPackageInstalled: PackageResolver = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch (err) {
    // Present, but without a CommonJS entry (an ESM-only "exports" map): import() finds it.
    return (err as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  }
};

/** The packages of `feature` that are not installed, in package.json order. */
export function missingPackages(feature: OptionalFeature, resolve: PackageResolver = isPackageInstalled): string[] {
  return Object.keys(OPTIONAL_FEATURES[feature].packages).filter((name) => !resolve(name));
}

/** The command that installs `names` (default: every package of `feature`) at their peer ranges' major versions. */
export function installCommand(feature: OptionalFeature, names: readonly string[] = Object.keys(OPTIONAL_FEATURES[feature].packages)): string {
  const ranges: Readonly<Record<string, string>> = OPTIONAL_FEATURES[feature].packages;
  // The major version alone: `^` needs quoting in some shells (cmd.exe, zsh with extendedglob).
  return `npm install ${names.map((name) => `${name}@${/\d+/.exec(ranges[name] ?? '')?.[0] ?? 'latest'}`).join(' ')}`;
}

/**
 * Throws unless every package of `feature` is installed.
 * @throws DidacticError DE_OPTIONAL_DEPENDENCY_MISSING, naming the missing packages and the `npm install` command.
 */
export function requireFeature(feature: OptionalFeature, resolve: PackageResolver = isPackageInstalled): void {
  const missing = missingPackages(feature, resolve);
  if (missing.length === 0) return;
  const info = OPTIONAL_FEATURES[feature];
  throw new DidacticError(
    'DE_OPTIONAL_DEPENDENCY_MISSING',
    `${info.description} needs ${missing.join(', ')} (optional peer dependencies of didactic-engine, not installed); install with: ${installCommand(feature, missing)}`,
    { op: feature, details: { feature, missing, command: installCommand(feature, missing) } },
  );
}

/**
 * Loads a feature's modules on first use: checks its packages, then runs `load` (a dynamic
 * `import()`), so a missing package is a coded error instead of Node's ERR_MODULE_NOT_FOUND.
 * @throws DidacticError DE_OPTIONAL_DEPENDENCY_MISSING when a package of `feature` is not installed.
 */
export async function loadFeature<T>(feature: OptionalFeature, load: () => Promise<T>, resolve: PackageResolver = isPackageInstalled): Promise<T> {
  requireFeature(feature, resolve);
  return load();
}
