/**
 * Acknowledge latency under load: the local hub in its own process (durable data
 * directory: every PutEvents is fsynced before it answers), an open-loop paced client in this one
 * sending freshly signed webhooks of all five connectors in turn (small payloads, unique vendor
 * ids), with keep-alive. Latency is from writing the request to the last byte of the answer.
 *
 * The hub's consumers are paused for the measured runs: on AWS the profile writer and the syncs run
 * in their own Lambdas and never delay an acknowledgement, while in the hub they share the Lambda
 * runtime thread (and dynalite) with the ingest handlers. Events wait in the SQS queues meanwhile.
 * One short run at 200/s with the consumers running, as `npm start` runs, is reported for the record.
 *
 * Every run also reports the hub process's CPU time per accepted webhook, from an idle hub to an
 * idle hub again: a figure that, unlike latency, barely moves with the machine's other load.
 *
 * Every accepted webhook is then checked on the bus: the bus archive (`<dataDir>/archive/events.jsonl`,
 * appended before PutEvents answers) must hold exactly one canonical event per accepted delivery,
 * none missing, none twice. Finally rates are stepped up until p99 exceeds 100 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { generateWebhookKeys, signWebhook, type WebhookKeys } from '../demo/vendor-webhooks.ts';
import { percentile } from './support/stats.ts';
import { CONNECTORS, type VendorId, webhookOf } from './support/webhooks.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PUBLIC_URL = 'https://hooks.example.com';

export interface LoadResult {
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly accepted: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Achieved request rate (the generator's own pacing). */
  readonly achievedRate: number;
  /** Answers by HTTP status (`network <code>` for connection errors, e.g. `network ECONNRESET`). */
  readonly statuses: Readonly<Record<string, number>>;
  /**
   * The hub process's CPU time (user + system) per accepted webhook: from an idle hub before the
   * first request until it is idle again after the last answer, so it counts everything the webhooks
   * caused there (ingest, dynalite, bus, journals, and the consumers when they run). Unlike latency,
   * it hardly depends on what else the machine is doing.
   */
  readonly hubCpuMsPerWebhook: number;
}

export interface LoadReport {
  /** 200/s with the consumers paused, as on AWS (where they run in other Lambdas). */
  readonly steady: LoadResult;
  /** 200/s with the consumers running in the hub's process (`npm start`), shorter; for the record. */
  readonly withConsumers: LoadResult;
  /** Canonical events in the archive for the steady run's accepted deliveries. */
  readonly published: number;
  readonly expected: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly steps: readonly LoadResult[];
  /** Highest stepped rate with p99 <= 100 ms and no errors. */
  readonly maxRate: number;
}

/** The hub child process (bench/support/hub-child.ts). */
export class Hub {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  constructor(child: ChildProcess) {
    this.#child = child;
    if (!child.stdout) throw new Error('hub child has no stdout');
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  static async start(
    dataDir: string,
    keys: WebhookKeys,
    consumers: 'running' | 'paused' = 'running',
  ): Promise<{ hub: Hub; url: string }> {
    const profile = process.env.BENCH_HUB_CPU_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_HUB_CPU_PROFILE}`]
      : [];
    // Diagnostics: extra Node flags for the hub (e.g. --trace-gc), and a file for its stdout lines.
    const flags = process.env.BENCH_HUB_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(
      process.execPath,
      [
        ...profile,
        ...flags,
        '--import',
        'tsx',
        join(ROOT, 'bench', 'support', 'hub-child.ts'),
        dataDir,
        consumers,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          BENCH_HUB_ENV: JSON.stringify({
            ...keys.secrets,
            OMNIHUB_PUBLIC_URL: PUBLIC_URL,
            POWERTOOLS_LOG_LEVEL: 'WARN',
          }),
        },
        // The hub's own stderr (Powertools notices) is not part of the report.
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
    const hub = new Hub(child);
    const ready = JSON.parse(await hub.#lineStarting('{"url":')) as { url: string };
    return { hub, url: ready.url };
  }
  async #next(): Promise<string> {
    const line = await this.#lines.next();
    if (line.done) throw new Error('the hub process ended');
    if (process.env.BENCH_HUB_STDOUT) appendFileSync(process.env.BENCH_HUB_STDOUT, `${line.value}\n`);
    return line.value;
  }
  /** Sends a command; returns the answer line starting with `prefix`. */
  async #ask(command: string, prefix: string): Promise<string> {
    this.#child.stdin?.write(`${command}\n`);
    return this.#lineStarting(prefix);
  }
  /** The next line starting with `prefix`, skipping the others. */
  async #lineStarting(prefix: string): Promise<string> {
    for (;;) {
      // Other lines are the handlers' own stdout (Powertools metrics and logs) and flag traces.
      const line = await this.#next();
      if (line.startsWith(prefix)) return line;
    }
  }
  /** The hub process's CPU time so far (user + system), in milliseconds. */
  async cpuMs(): Promise<number> {
    const line = await this.#ask('cpu', '{"cpuUsage":');
    const { cpuUsage } = JSON.parse(line) as { cpuUsage: { user: number; system: number } };
    return (cpuUsage.user + cpuUsage.system) / 1000;
  }
  /** Pauses the hub's consumers (their messages wait in the queues). */
  async pauseConsumers(): Promise<void> {
    await this.#ask('pause', '{"paused":');
  }
  /**
   * Resolves once the hub has used under 5% of a core for 300 ms (its consumers done with what the
   * last run queued), or after `timeoutMs`; returns its CPU time then.
   */
  async idleCpuMs(timeoutMs = 60_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let before = await this.cpuMs();
    for (;;) {
      await new Promise((done) => setTimeout(done, 300));
      const now = await this.cpuMs();
      if (now - before < 0.05 * 300 || performance.now() > deadline) return now;
      before = now;
    }
  }
  async stop(): Promise<void> {
    const exited = new Promise((done) => this.#child.once('exit', done));
    this.#child.stdin?.write('stop\n');
    await exited;
  }
}

interface Sent {
  readonly connector: VendorId;
  /** The vendor's delivery ids in the request, as the hub's `origin.deliveryId`. */
  readonly deliveryIds: readonly string[];
}

/** The delivery id the connector derives from webhook `seq` (see bench/support/webhooks.ts). */
function deliveryIdsOf(connector: VendorId, seq: number, body: string): string[] {
  switch (connector) {
    case 'shopify':
      return [`orders/create:bench-event-${seq}`];
    case 'sendgrid':
      return (JSON.parse(body) as Array<{ sg_event_id: string }>).map((event) => event.sg_event_id);
    case 'hubspot':
      return (JSON.parse(body) as Array<{ subscriptionId: number; eventId: number }>).map(
        (event) => `${event.subscriptionId}:${event.eventId}`,
      );
    case 'square':
      return [`bench-${seq}`];
    case 'twilio':
      return [`SM${seq.toString(16).padStart(32, '0')}:delivered`];
  }
}

/** Sends at `rate` per second for `seconds`, open loop; returns per-request outcomes. */
export async function paced(
  hub: Hub,
  url: string,
  keys: WebhookKeys,
  rate: number,
  seconds: number,
  firstSeq: number,
) {
  const cpuBefore = await hub.idleCpuMs();
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const latencies: number[] = [];
  const accepted: Sent[] = [];
  let errors = 0;
  let sent = 0;
  const statuses: Record<string, number> = {};
  const total = Math.round(rate * seconds);
  const inflight: Promise<void>[] = [];
  const started = performance.now();
  await new Promise<void>((done) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const seq = firstSeq + sent;
        const connector = CONNECTORS[sent % CONNECTORS.length] as VendorId;
        sent++;
        const webhook = signWebhook(webhookOf(connector, 'small', seq), keys);
        const body = Buffer.from(webhook.body, 'utf8');
        const t0 = performance.now();
        inflight.push(
          new Promise<void>((settle) => {
            const req = httpRequest(
              `${url}${webhook.path}`,
              {
                method: 'POST',
                agent,
                headers: { ...webhook.headers, 'content-length': String(body.length) },
              },
              (res) => {
                res.resume();
                res.on('end', () => {
                  latencies.push(performance.now() - t0);
                  statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
                  if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) {
                    accepted.push({ connector, deliveryIds: deliveryIdsOf(connector, seq, webhook.body) });
                  } else errors++;
                  settle();
                });
              },
            );
            req.on('error', (error: NodeJS.ErrnoException) => {
              errors++;
              // The error's code (ECONNRESET, ...) names what went wrong; the message is the fallback.
              const kind = `network ${error.code ?? error.message}`;
              statuses[kind] = (statuses[kind] ?? 0) + 1;
              latencies.push(performance.now() - t0);
              settle();
            });
            req.end(body);
          }),
        );
      }
      if (sent >= total) done();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(inflight);
  agent.destroy();
  const cpuAfter = await hub.idleCpuMs();
  const result: LoadResult = {
    rate,
    seconds,
    sent,
    accepted: accepted.length,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    achievedRate: sent / sendSeconds,
    statuses,
    hubCpuMsPerWebhook: (cpuAfter - cpuBefore) / Math.max(1, accepted.length),
  };
  return { result, accepted };
}

export async function runLoad(options: { quick: boolean }): Promise<LoadReport> {
  const keys = generateWebhookKeys(PUBLIC_URL);
  const dataDir = join(ROOT, 'bench', 'out', 'hub-data');
  rmSync(dataDir, { recursive: true, force: true });
  const { hub, url } = await Hub.start(dataDir, keys, 'running');
  try {
    // Warm-up: containers (handler modules) load, connections open, hot code is compiled.
    await paced(hub, url, keys, 100, options.quick ? 2 : 5, 1);
    // For the record, as `npm start` runs: the consumers share the process (not what AWS does).
    const { result: withConsumers } = await paced(hub, url, keys, 200, options.quick ? 3 : 10, 500_000);
    await hub.pauseConsumers();
    const steadySeconds = options.quick ? 5 : 60;
    const { result: steady, accepted } = await paced(hub, url, keys, 200, steadySeconds, 1_000_000);

    const expected = new Map<string, number>();
    for (const sent of accepted)
      for (const id of sent.deliveryIds) expected.set(`${sent.connector}:${id}`, 0);
    for (const line of readFileSync(join(dataDir, 'archive', 'events.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const { event } = JSON.parse(line) as {
        event: { detail?: { origin?: { connector?: string; deliveryId?: string } } };
      };
      const origin = event.detail?.origin;
      const key = `${origin?.connector}:${origin?.deliveryId}`;
      const count = expected.get(key);
      if (count !== undefined) expected.set(key, count + 1);
    }
    const counts = [...expected.values()];

    const steps: LoadResult[] = [];
    let maxRate = 0;
    let seq = 2_000_000;
    const rates = options.quick ? [50, 100, 200] : [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000];
    for (const rate of rates) {
      const { result } = await paced(hub, url, keys, rate, options.quick ? 3 : 10, seq);
      seq += 100_000;
      steps.push(result);
      if (result.p99 > 100 || result.errors > 0) break;
      maxRate = rate;
    }
    return {
      steady,
      withConsumers,
      published: counts.filter((count) => count > 0).length,
      expected: counts.length,
      missing: counts.filter((count) => count === 0).length,
      duplicated: counts.filter((count) => count > 1).length,
      steps,
      maxRate,
    };
  } finally {
    await hub.stop();
  }
}
