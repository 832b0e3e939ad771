/**
 * How every Lambda is built and bundled: the one definition shared by the CDK constructs
 * (`lib/integration-hub.ts`, `lib/analytics.ts`) and the cold-start benchmark (`bench/cold-start.ts`),
 * so the bundles measured are the bundles deployed. What each option costs or saves: docs/bundles.md.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * Where the code runs from: the TypeScript sources (the repository, through tsx or vitest), or the
 * compiled package (`dist/`, installed from npm into someone else's CDK app).
 */
const COMPILED = !import.meta.url.endsWith('.ts');

/**
 * The directory topology entries are relative to: the repository root when running from the sources,
 * the package's `dist/` when compiled (one level above `lib/` either way).
 */
export const CODE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The lock files NodejsFunction knows, by package manager. */
const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'];

/**
 * The file of a function entry. Relative entries are the topology's (`functions/profile-writer.ts`,
 * `connectors/<id>/handler.ts`, `analytics/lambda/*.ts`): the TypeScript source from the sources, the
 * compiled `.js` beside it in `dist/` from the installed package. Absolute entries (functions of your
 * own in a topology you pass) are taken as they are.
 *
 * @example
 * entryFile('functions/profile-api.ts'); // <repo>/functions/profile-api.ts, or <package>/dist/functions/profile-api.js
 */
export function entryFile(entry: string): string {
  if (path.isAbsolute(entry)) return entry;
  const file = path.resolve(CODE_ROOT, entry);
  return COMPILED ? file.replace(/\.ts$/, '.js') : file;
}

/**
 * The project NodejsFunction bundles in: the directory esbuild runs in and every entry must be under,
 * and the lock file that says which package manager runs esbuild.
 *
 * From the sources, the repository and its lock file (bundles stay byte-stable across synths). From the
 * installed package, the nearest directory at or above the package with a lock file: the app that
 * installed it (or its workspace root), whose `node_modules` esbuild resolves the functions' imports
 * from, with no Docker.
 *
 * @throws Error when the installed package has no lock file at or above it.
 */
export function bundlingProject(): { projectRoot: string; depsLockFilePath: string | undefined } {
  if (!COMPILED) {
    const lockFile = path.join(CODE_ROOT, 'package-lock.json');
    return { projectRoot: CODE_ROOT, depsLockFilePath: existsSync(lockFile) ? lockFile : undefined };
  }
  const packageRoot = path.dirname(CODE_ROOT);
  for (let dir = packageRoot; ; dir = path.dirname(dir)) {
    const lockFile = LOCK_FILES.map((name) => path.join(dir, name)).find((file) => existsSync(file));
    if (lockFile) return { projectRoot: dir, depsLockFilePath: lockFile };
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(
    `Omnihub bundles its functions in the app that installed it, found by its lock file (${LOCK_FILES.join(', ')}); ` +
      `there is none in ${packageRoot} or above. Install your dependencies with a package manager that writes one.`,
  );
}

/**
 * The newest Node.js runtime this aws-cdk-lib knows. esbuild's target is derived from it so the two
 * never drift apart.
 */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ESBUILD_TARGET = RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

/**
 * ESM bundles have no `require`; CommonJS dependencies that esbuild inlines still call it for Node
 * built-ins, so give them one.
 */
export const REQUIRE_SHIM =
  "import { createRequire as __omnihubCreateRequire } from 'node:module'; const require = __omnihubCreateRequire(import.meta.url);";

/**
 * The bundling options of every function, for the esbuild target of its runtime (`node24`, ...).
 *
 * @example
 * new NodejsFunction(this, 'Fn', { entry, runtime, bundling: lambdaBundling('node24') });
 */
export function lambdaBundling(target: string): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target,
    minify: true,
    // The map ships beside the bundle (index.mjs.map); Node reads it only with `--enable-source-maps`,
    // which `sourceMaps: true` below turns on (5–15 ms of cold start, see BENCHMARKS.md).
    sourceMap: true,
    // Stack traces map to file:line without the sources inside the map, which would make it 3.5× larger.
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: REQUIRE_SHIM,
    // Ship the SDK versions pinned in package-lock.json, not whatever the runtime carries today
    // (consumers use SDK clients; the ingest path needs none, see core/aws/json-client.ts).
    bundleAwsSDK: true,
  };
}

export interface OmnihubFunctionProps {
  /** Entry module (see {@link entryFile}): relative to the repository root, or absolute; exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** The function's own role: no AWS managed policy, only what its caller grants. */
  readonly role: iam.IRole;
  /** Its own (encrypted) log group. */
  readonly logGroup: logs.ILogGroup;
  /** `POWERTOOLS_SERVICE_NAME`. */
  readonly serviceName: string;
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Map stack traces to the TypeScript sources (`NODE_OPTIONS=--enable-source-maps`), at 5–15 ms
   * of cold start. Without it, traces name minified frames of `index.mjs`, which the shipped
   * `index.mjs.map` maps back.
   * @default false
   */
  readonly sourceMaps?: boolean;
}

/**
 * Every Omnihub Lambda: Node.js 24 on arm64, bundled locally with esbuild and {@link lambdaBundling} in
 * the {@link bundlingProject}, source maps shipped (and read only with `sourceMaps`), Powertools named.
 * The hub's and the analytics' functions are built here.
 *
 * @example
 * omnihubFunction(scope, { entry: 'functions/profile-api.ts', description, memorySize: 256, timeout, role, logGroup, serviceName: 'profile-api' });
 */
export function omnihubFunction(scope: Construct, props: OmnihubFunctionProps): NodejsFunction {
  const entry = entryFile(props.entry);
  if (!existsSync(entry)) {
    throw new Error(`${scope.node.path}: entry '${props.entry}' does not exist (${entry}).`);
  }
  const { projectRoot, depsLockFilePath } = bundlingProject();
  return new NodejsFunction(scope, 'Function', {
    entry,
    handler: 'handler',
    description: props.description.slice(0, 256),
    runtime: RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role: props.role,
    logGroup: props.logGroup,
    projectRoot,
    depsLockFilePath,
    environment: {
      ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: 'Omnihub',
      ...props.environment,
    },
    // Shared with the cold-start benchmark, so what is measured is what is deployed.
    bundling: lambdaBundling(ESBUILD_TARGET),
  });
}
