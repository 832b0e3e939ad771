/**
 * How every Lambda bundle is built: the one definition shared by the CDK construct
 * (`lib/integration-hub.ts`) and the cold-start benchmark (`bench/cold-start.ts`), so the bundles
 * measured are the bundles deployed. What each option costs or saves: docs/bundles.md.
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

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
    sourceMap: true,
    // Stack traces map to file:line without the sources inside the map; with them the map is 3.5×
    // larger and `--enable-source-maps` parses it at init (about 15 ms more cold start, see
    // BENCHMARKS.md).
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: REQUIRE_SHIM,
    // Ship the SDK versions pinned in package-lock.json, not whatever the runtime carries today
    // (consumers use SDK clients; the ingest path needs none, see core/ingest/aws.ts).
    bundleAwsSDK: true,
  };
}
