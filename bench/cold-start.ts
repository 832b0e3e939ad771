/**
 * Cold start: every Lambda bundle built with the CDK's own options
 * (`lib/bundling.ts`), its minified size, what is in it (esbuild metafile, summarised in
 * docs/bundles.md), and the median over fresh `node` processes of
 * - **init**: `import()` of the bundle until `handler` is in hand (Lambda's INIT phase), and
 * - **first call**: init plus one invocation that needs no network (an unsigned webhook answered
 *   401, an empty SQS batch, an unknown API route), which also builds the SDK or JSON clients,
 * both measured with `process.hrtime` inside the child, as deployed (no NODE_OPTIONS), and the init
 * again with `--enable-source-maps` (what `sourceMaps: true` sets). Runs interleave the bundles round
 * by round.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { lambdaBundling } from '../lib/bundling.ts';
import { topology } from '../lib/topology.ts';
import { median } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out', 'bundles');
const CHILD = join(ROOT, 'bench', 'support', 'cold-start-child.mjs');
/** The esbuild target of the deployed runtime (lib/integration-hub.ts: NODEJS_24_X). */
const TARGET = 'node24';

export type BundleKind = 'ingest' | 'consumer' | 'api' | 'reference';

export interface BundleRow {
  readonly name: string;
  readonly entry: string;
  readonly kind: BundleKind;
  readonly bytes: number;
  /** Bytes by package (or repository folder), largest first. */
  readonly inputs: ReadonlyArray<readonly [string, number]>;
  readonly initMs: number;
  /** Init with `--enable-source-maps` (`sourceMaps: true`); NaN for the reference. */
  readonly initWithSourceMapsMs: number;
  readonly firstCallMs: number;
  readonly outcome: string;
}

/** Every Lambda entry of the topology plus any other `functions/*.ts`, and the naive reference. */
export function lambdaEntries(): Array<{ name: string; entry: string; kind: BundleKind }> {
  const entries = new Map<string, { name: string; entry: string; kind: BundleKind }>();
  for (const route of topology.ingest) {
    entries.set(route.entry, { name: `ingest-${route.connector.id}`, entry: route.entry, kind: 'ingest' });
  }
  for (const consumer of topology.consumers) {
    if (!entries.has(consumer.entry))
      entries.set(consumer.entry, { name: consumer.id, entry: consumer.entry, kind: 'consumer' });
  }
  for (const file of readdirSync(join(ROOT, 'functions')).sort()) {
    const entry = `functions/${file}`;
    if (!file.endsWith('.ts') || file.endsWith('.test.ts') || entries.has(entry)) continue;
    entries.set(entry, { name: file.replace(/\.ts$/, ''), entry, kind: 'api' });
  }
  return [
    ...entries.values(),
    {
      name: 'reference: naive EventBridge handler',
      entry: 'bench/reference/eventbridge-handler.ts',
      kind: 'reference',
    },
  ];
}

/** esbuild options equivalent to what `NodejsFunction` runs for these bundling options. */
function esbuildOptions(entry: string, outfile: string, naive: boolean): esbuild.BuildOptions {
  const bundling = lambdaBundling(TARGET);
  return {
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: bundling.target ?? TARGET,
    format: 'esm',
    minify: bundling.minify ?? false,
    sourcemap: naive ? false : (bundling.sourceMap ?? false),
    sourcesContent: bundling.sourcesContent ?? true,
    mainFields: bundling.mainFields ?? [],
    banner: { js: bundling.banner ?? '' },
    external: naive ? [] : [...(bundling.externalModules ?? [])],
    metafile: true,
    logLevel: 'silent',
  };
}

/** Phone metadata is data that libphonenumber-js reads: a part of its own, apart from our code. */
export const PHONE_METADATA_PART = 'libphonenumber-js metadata (core/identity/phone-metadata.json)';

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1] as string;
  if (input.endsWith('core/identity/phone-metadata.json')) return PHONE_METADATA_PART;
  const parts = input.split('/');
  return parts.length > 2 ? `${parts.slice(0, 2).join('/')}/` : (parts[0] ?? input);
}

/**
 * The libraries the hub's requirements name for what a bundle does: libphonenumber-js and its
 * metadata (E.164), zod (validation), Powertools (idempotency, logger and metrics).
 */
export function isRequiredLibrary(part: string): boolean {
  return (
    part === 'libphonenumber-js' ||
    part === PHONE_METADATA_PART ||
    part === 'zod' ||
    part.startsWith('@aws-lambda-powertools/')
  );
}

/** Bytes of a bundle that the required libraries contribute. */
export function requiredLibraryBytes(row: Pick<BundleRow, 'inputs'>): number {
  return row.inputs.reduce((sum, [part, bytes]) => sum + (isRequiredLibrary(part) ? bytes : 0), 0);
}

async function build(entry: { name: string; entry: string; kind: BundleKind }) {
  const dir = join(OUT, entry.name.replace(/[^a-z0-9-]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.mjs');
  const result = await esbuild.build(esbuildOptions(entry.entry, outfile, entry.kind === 'reference'));
  const outputs = result.metafile?.outputs ?? {};
  const output =
    outputs[relative(process.cwd(), outfile)] ?? Object.values(outputs).find((o) => o.entryPoint);
  if (!output) throw new Error(`no output for ${entry.entry}`);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  return {
    outfile,
    bytes: statSync(outfile).size,
    inputs: [...byPackage].sort((a, b) => b[1] - a[1]),
  };
}

/** The event of a first call that touches no network. */
function firstEvent(kind: BundleKind): string {
  if (kind === 'ingest') {
    return JSON.stringify({
      version: '2.0',
      routeKey: 'POST /webhooks/x',
      rawPath: '/webhooks/x',
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      requestContext: {
        http: { method: 'POST', path: '/webhooks/x' },
        requestId: 'r',
        domainName: 'hooks.example.com',
      },
      body: '{}',
      isBase64Encoded: false,
    });
  }
  if (kind === 'consumer') return JSON.stringify({ Records: [] });
  if (kind === 'api') {
    return JSON.stringify({
      version: '2.0',
      routeKey: 'GET /bench',
      rawPath: '/bench',
      rawQueryString: '',
      headers: {},
      requestContext: { http: { method: 'GET', path: '/bench' }, requestId: 'r' },
      isBase64Encoded: false,
    });
  }
  return 'none';
}

/** The environment a deployed function has (resource names, region, credentials, secrets). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench-token',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  OMNIHUB_BUS_NAME: 'omnihub',
  OMNIHUB_IDEMPOTENCY_TABLE: 'idempotency',
  OMNIHUB_PROFILE_TABLE: 'profiles',
  OMNIHUB_SYNC_STATE_TABLE: 'sync-state',
  OMNIHUB_PUBLIC_URL: 'https://hooks.example.com',
  // Set so the first call reaches the signature check (401) instead of 503 not-configured.
  SHOPIFY_WEBHOOK_SECRET: 'x',
  HUBSPOT_CLIENT_SECRET: 'x',
  SQUARE_SIGNATURE_KEY: 'x',
  // A valid P-256 public key (any will do: the first call is unsigned); the previous one was not a point
  // on the curve, so SendGrid's first call stopped at 503 misconfigured instead of the signature check.
  SENDGRID_WEBHOOK_PUBLIC_KEY:
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEn0Z480zAvL3h22fmftHWC/Ij8PnVNBZIQRXVZvmgjw+ggxYTyQEayKLTt3XpQV6bnNuTq0xrrA0gMctBbEwiQ==',
  TWILIO_AUTH_TOKEN: 'x',
  // The sync destinations' credentials, so their first (empty) batch takes the delivering path.
  HUBSPOT_ACCESS_TOKEN: 'x',
  SENDGRID_API_KEY: 'x',
  SHOPIFY_ADMIN_TOKEN: 'x',
  SHOPIFY_SHOP_DOMAIN: 'bench.myshopify.com',
  SQUARE_ACCESS_TOKEN: 'x',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

function runChild(
  bundle: string,
  event: string,
  sourceMaps = false,
): Promise<{ initMs: number; firstCallMs: number; outcome: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CHILD, bundle, event], {
      env: {
        PATH: process.env.PATH ?? '',
        TZ: 'UTC',
        ...LAMBDA_ENV,
        // What `sourceMaps: true` (lib/bundling.ts) sets; off by default.
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stderr.split('\n').find((text) => text.startsWith('@@cold-start '));
      if (!line)
        return reject(new Error(`cold-start child for ${bundle} exited ${code}: ${stderr.slice(0, 500)}`));
      resolvePromise(JSON.parse(line.slice('@@cold-start '.length)));
    });
  });
}

export async function runColdStart(options: { quick: boolean }): Promise<BundleRow[]> {
  const entries = lambdaEntries();
  const built = await Promise.all(entries.map(async (entry) => ({ entry, ...(await build(entry)) })));
  const runs = options.quick ? 5 : 20;
  const samples = built.map(() => [] as Array<{ initMs: number; firstCallMs: number; outcome: string }>);
  const withMaps = built.map(() => [] as number[]);
  // One warm-up pass (file cache), then rounds over all bundles in rotating order, each bundle as
  // deployed and, right after, with `--enable-source-maps` (the `sourceMaps: true` option).
  for (const bundle of built) await runChild(bundle.outfile, firstEvent(bundle.entry.kind));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < built.length; k++) {
      const index = (round + k) % built.length;
      const bundle = built[index] as (typeof built)[number];
      const event = firstEvent(bundle.entry.kind);
      const pair = round % 2 === 0 ? [false, true] : [true, false];
      for (const sourceMaps of pair) {
        if (sourceMaps && bundle.entry.kind === 'reference') continue;
        const run = await runChild(bundle.outfile, event, sourceMaps);
        if (sourceMaps) withMaps[index]?.push(run.initMs);
        else samples[index]?.push(run);
      }
    }
  }
  return built.map((bundle, index) => {
    const runsOf = samples[index] ?? [];
    return {
      name: bundle.entry.name,
      entry: bundle.entry.entry,
      kind: bundle.entry.kind,
      bytes: bundle.bytes,
      inputs: bundle.inputs,
      initMs: median(runsOf.map((run) => run.initMs)),
      initWithSourceMapsMs: bundle.entry.kind === 'reference' ? Number.NaN : median(withMaps[index] ?? []),
      firstCallMs:
        bundle.entry.kind === 'reference' ? Number.NaN : median(runsOf.map((run) => run.firstCallMs)),
      outcome: runsOf[0]?.outcome ?? 'n/a',
    };
  });
}
