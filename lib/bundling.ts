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

/** Function entries are paths relative to the repository root, which is one level above `lib/`. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

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
  /** Entry module, relative to the repository root; exports `handler`. */
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
 * Every Omnihub Lambda: Node.js 24 on arm64, bundled with {@link lambdaBundling} from the repository's
 * lockfile, source maps shipped (and read only with `sourceMaps`), Powertools named. The hub's and the analytics' functions are built here.
 *
 * @example
 * omnihubFunction(scope, { entry: 'functions/profile-api.ts', description, memorySize: 256, timeout, role, logGroup, serviceName: 'profile-api' });
 */
export function omnihubFunction(scope: Construct, props: OmnihubFunctionProps): NodejsFunction {
  const entry = path.resolve(REPO_ROOT, props.entry);
  if (!existsSync(entry)) {
    throw new Error(`${scope.node.path}: entry '${props.entry}' does not exist under ${REPO_ROOT}.`);
  }
  const lockFile = path.join(REPO_ROOT, 'package-lock.json');
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
    projectRoot: REPO_ROOT,
    depsLockFilePath: existsSync(lockFile) ? lockFile : undefined,
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
