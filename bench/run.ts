/**
 * `npm run bench`: the hub's benchmarks, one summary table against the targets, then the
 * detail of each. `--quick` for development (about a minute); `--only=cold,inbound,units,scale,load`
 * to run some sections (cost is computed from whatever ran). Results go to `bench/out/results.json`;
 * a full run also rewrites `docs/bundles.md` from the esbuild metafiles.
 *
 * Diagnostics for the load section's hub process (environment): `BENCH_HUB_CPU_PROFILE=<dir>` writes a
 * CPU profile per thread, `BENCH_HUB_NODE_FLAGS="--trace-gc ..."` adds Node flags, and
 * `BENCH_HUB_STDOUT=<file>` keeps its stdout lines (handlers' output, flag traces).
 *
 * The figures in BENCHMARKS.md come from a full run on a quiet machine; see there for how to read them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { type BundleRow, requiredLibraryBytes, runColdStart } from './cold-start.ts';
import { costPerMillion, PRICES } from './cost.ts';
import { runDynamoUnits, type UnitsRow } from './dynamo-units.ts';
import { type InboundRow, leastOfSteps, runInbound } from './inbound.ts';
import { type LoadReport, runLoad } from './load.ts';
import { runScale, type ScaleRow } from './scale.ts';
import { formatBytes, formatMs, span, table } from './support/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (section: string) => !only || only.includes(section);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_DEV = '';

const started = Date.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);

let bundles: BundleRow[] = [];
let inbound: InboundRow[] = [];
let units: UnitsRow[] = [];
let scale: ScaleRow[] = [];
let load: LoadReport | undefined;

if (wanted('cold')) {
  log('cold start: building every Lambda bundle and timing fresh processes');
  bundles = await runColdStart({ quick });
}
if (wanted('inbound')) {
  log('inbound: ours vs floor vs hand-written peer, side by side');
  inbound = await runInbound({ quick });
}
if (wanted('units')) {
  log('DynamoDB units per event (dynalite, ReturnConsumedCapacity)');
  units = await runDynamoUnits({ quick });
}
if (wanted('scale')) {
  log('scale: identity resolution at growing store sizes (stores are built once, then reused)');
  scale = await runScale({ quick });
}
if (wanted('load')) {
  log('load: local hub, paced client, all five connectors');
  load = await runLoad({ quick });
}
const cost = costPerMillion({ inbound, units });

// ---------------------------------------------------------------------------------------------- report
const ratio = (a: number, b: number) => a / b;
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not run' : ok ? 'met' : 'MISSED');
const summary: Array<[string, string, string, string]> = [];
if (inbound.length > 0) {
  const overheads = inbound.map((row) => ratio(row.ours, row.floor));
  const worst = inbound[overheads.indexOf(Math.max(...overheads))] as InboundRow;
  const least = inbound.map((row) => ratio(leastOfSteps(row), row.floor));
  const unreachable = least.filter((value) => value > 1.5).length;
  const speedups = inbound.map((row) => ratio(row.peer, row.ours));
  const slowest = inbound[speedups.indexOf(Math.min(...speedups))] as InboundRow;
  summary.push([
    'Inbound overhead (full path / verify+parse)',
    '≤ 1.5×',
    `${Math.min(...overheads).toFixed(1)}× to ${Math.max(...overheads).toFixed(1)}× (worst: ${worst.connector} ${worst.size}); floor + validation + translation + PutEvents alone: ${Math.min(...least).toFixed(1)}× to ${Math.max(...least).toFixed(1)}×, over 1.5× in ${unreachable} of ${inbound.length}`,
    verdict(Math.max(...overheads) <= 1.5),
  ]);
  summary.push([
    'Speed against a hand-written SDK peer',
    '≥ 1× (goal 2×)',
    `${Math.min(...speedups).toFixed(2)}× to ${Math.max(...speedups).toFixed(1)}× faster (least: ${slowest.connector} ${slowest.size})`,
    Math.min(...speedups) >= 2 ? 'met' : Math.min(...speedups) >= 1 ? 'met ≥1×, 2× MISSED' : 'MISSED',
  ]);
}
if (bundles.length > 0) {
  const lambdas = bundles.filter((row) => row.kind !== 'reference');
  const ingest = lambdas.filter((row) => row.kind === 'ingest');
  const reference = bundles.find((row) => row.kind === 'reference');
  const largest = Math.max(...lambdas.map((row) => row.bytes));
  const slowest = Math.max(...lambdas.map((row) => row.initMs));
  summary.push([
    'Bundle size (minified)',
    '≤ 150 KB',
    `ingest ${span(
      ingest.map((r) => r.bytes),
      formatBytes,
    )}; all ≤ ${formatBytes(largest)}; in ingest, the required libraries alone: ${span(ingest.map(requiredLibraryBytes), formatBytes)}`,
    verdict(largest <= 150 * 1024),
  ]);
  summary.push([
    'Cold start, init (median of fresh processes)',
    '≤ 45 ms',
    `ingest ${span(
      ingest.map((r) => r.initMs),
      formatMs,
    )}; all ≤ ${formatMs(slowest)}; naive reference ${formatMs(reference?.initMs ?? Number.NaN)}`,
    verdict(slowest <= 45),
  ]);
}
if (load) {
  summary.push([
    'Acknowledge latency at 200/s (local hub)',
    'p99 ≤ 25 ms, 0 errors',
    `p50 ${formatMs(load.steady.p50)}, p99 ${formatMs(load.steady.p99)}, ${load.steady.errors} errors of ${load.steady.sent}; hub CPU ${formatMs(load.steady.hubCpuMsPerWebhook)} per webhook`,
    verdict(load.steady.p99 <= 25 && load.steady.errors === 0),
  ]);
  summary.push([
    'Accepted webhooks published',
    'published == accepted',
    `${load.published} of ${load.expected} deliveries on the bus, ${load.missing} missing, ${load.duplicated} twice`,
    verdict(load.missing === 0 && load.duplicated === 0),
  ]);
  summary.push([
    'Highest rate with p99 ≤ 100 ms',
    '≥ 500/s',
    `${load.maxRate}/s`,
    verdict(load.maxRate >= 500),
  ]);
}
const known = units.find((row) => row.scenario.startsWith('profile writer: known identity (customer'));
if (known) {
  summary.push([
    'DynamoDB units per known-identity event',
    '≤ 2 WCU, ≤ 1 RCU',
    `${known.wcu} WCU, ${known.rcu} RCU`,
    verdict(known.wcu <= 2 && known.rcu <= 1),
  ]);
}
if (scale.length >= 2) {
  const first = scale[0] as ScaleRow;
  const last = scale[scale.length - 1] as ScaleRow;
  summary.push([
    `Identity resolution, ${last.profiles.toLocaleString('en')} vs ${first.profiles.toLocaleString('en')} profiles (p50)`,
    '≤ 1.1×',
    `${formatMs(last.p50)} vs ${formatMs(first.p50)} (${ratio(last.p50, first.p50).toFixed(2)}×)`,
    verdict(ratio(last.p50, first.p50) <= 1.1),
  ]);
}
summary.push([
  `Cost per million webhooks (${PRICES.region})`,
  '≤ $5',
  `$${cost.total.toFixed(2)} (of which $${cost.fixed.toFixed(2)} fixed by the design)`,
  verdict(cost.total <= 5),
]);

const sections: string[] = [];
sections.push(
  `## Summary${quick ? ' (--quick: fewer samples, smaller stores, shorter load)' : ''}\n\n${table(['measure', 'target', 'measured', 'verdict'], summary)}`,
);
if (inbound.length > 0) {
  sections.push(
    `## Inbound, per request (median, in-process)\n\n${table(
      [
        'connector',
        'payload',
        'bytes',
        'events',
        'ours',
        'floor',
        'peer',
        'ours/floor',
        'peer/ours',
        'validation',
        'translation',
        'bus',
        'least/floor',
      ],
      inbound.map((row) => [
        row.connector,
        row.payload,
        row.bytes,
        row.events,
        formatMs(row.ours),
        formatMs(row.floor),
        formatMs(row.peer),
        `${ratio(row.ours, row.floor).toFixed(1)}×`,
        `${ratio(row.peer, row.ours).toFixed(2)}×`,
        formatMs(row.validation),
        formatMs(row.translation),
        formatMs(row.bus),
        `${ratio(leastOfSteps(row), row.floor).toFixed(1)}×`,
      ]),
    )}\n\nSteps of ours measured alone: validation, the connector's zod schemas on the body's deliveries; translation, its translators on the validated payloads (E.164 phones included); bus, ours' PutEvents requests serialised and signed. least = floor + validation + translation + bus, what an ingest doing these steps could cost at the least, without the catalog check, event ids, ledger, log line or metrics.`,
  );
}
if (bundles.length > 0) {
  sections.push(
    `## Cold start (median of ${quick ? 5 : 20} fresh processes, as deployed; init again with --enable-source-maps)\n\n${table(
      [
        'bundle',
        'entry',
        'minified',
        'init',
        'init, sourceMaps: true',
        'first call',
        'first answer',
        'largest parts',
      ],
      bundles.map((row) => [
        row.name,
        row.entry,
        formatBytes(row.bytes),
        formatMs(row.initMs),
        Number.isNaN(row.initWithSourceMapsMs) ? 'n/a' : formatMs(row.initWithSourceMapsMs),
        formatMs(row.firstCallMs),
        row.outcome,
        row.inputs
          .slice(0, 3)
          .map(([name, bytes]) => `${name} ${formatBytes(bytes)}`)
          .join(', '),
      ]),
    )}`,
  );
}
if (units.length > 0) {
  sections.push(
    `## DynamoDB units per canonical event (dynalite, ReturnConsumedCapacity: TOTAL)\n\n${table(
      ['scenario', 'RCU', 'WCU', 'calls', 'events published'],
      units.map((row) => [
        row.scenario,
        row.rcu,
        row.wcu,
        Object.entries(row.calls)
          .map(([operation, count]) => `${operation} ${count}`)
          .join(', '),
        row.announced ?? '',
      ]),
    )}`,
  );
}
if (scale.length > 0) {
  sections.push(
    `## Identity resolution (BatchGetItem pointers + GetItem profile, dynalite over HTTP)\n\n${table(
      ['profiles', 'p50', 'p99', 'lookups', 'store built this run'],
      scale.map((row) => [
        row.profiles.toLocaleString('en'),
        formatMs(row.p50),
        formatMs(row.p99),
        row.lookups,
        row.buildSeconds > 0 ? `${row.buildSeconds.toFixed(0)} s` : 'reused',
      ]),
    )}`,
  );
}
if (load) {
  sections.push(
    `## Load (local hub in its own process, open-loop paced client, small payloads of all five connectors)\n\n${table(
      ['rate', 'seconds', 'sent', '2xx', 'errors', 'p50', 'p99', 'max', 'hub CPU/webhook', 'answers'],
      [load.steady, ...load.steps, load.withConsumers].map((row) => [
        `${row.rate}/s (achieved ${row.achievedRate.toFixed(0)}/s)${row === load.withConsumers ? ', consumers running' : ''}`,
        row.seconds,
        row.sent,
        row.accepted,
        row.errors,
        formatMs(row.p50),
        formatMs(row.p99),
        formatMs(row.max),
        formatMs(row.hubCpuMsPerWebhook),
        JSON.stringify(row.statuses),
      ]),
    )}`,
  );
}
sections.push(
  `## Cost per million webhooks (${PRICES.region}, prices ${PRICES.asOf})\n\nIngest ${cost.ingestMs} ms and profile writer ${cost.writerMs} ms per event, billed (model in bench/cost.ts). Rows marked * are fixed by the design whatever the code does; they sum to $${cost.fixed.toFixed(2)}.\n\n${table(
    ['path', 'item', 'quantity', 'USD'],
    [
      ...cost.rows.map((row) => [
        row.path,
        `${row.item}${row.fixed ? ' *' : ''}`,
        row.quantity,
        row.dollars.toFixed(3),
      ]),
      ['', '**total**', '', `**${cost.total.toFixed(2)}**`],
    ],
  )}`,
);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = `# npm run bench${quick ? ' --quick' : ''}: ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpu} (${arch()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${((Date.now() - started) / 1000).toFixed(0)} s`;
process.stdout.write(`${header}\n\n${sections.join('\n\n')}\n`);

const out = join(ROOT, 'bench', 'out');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, quick ? 'results-quick.json' : 'results.json'),
  JSON.stringify({ header, quick, bundles, inbound, units, scale, load, cost }, null, 2),
);
if (!quick && bundles.length > 0) {
  const { bundleReport } = await import('./bundle-report.ts');
  writeFileSync(join(ROOT, 'docs', 'bundles.md'), bundleReport(bundles, header));
  log('wrote docs/bundles.md');
}
