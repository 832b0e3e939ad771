/**
 * Durability acceptance test: a webhook that got a 2xx is never lost, even when the hub is SIGKILLed
 * right after answering, and it is delivered exactly once after the restart.
 *
 * The hub runs as a child process through the same CLI as `npm start` (test/local/fixtures/launch-hub.ts
 * with the test topology), PORT=0, a temporary OMNIHUB_DATA_DIR, and the consumers paused for the first
 * run so the event can only be in the journal when the process dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { READY_LINE } from '../../local/cli.ts';
import type { HubHealth } from '../../local/hub.ts';
import { recordedDeliveries } from './support/recorder.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'omnihub-durability-data-'));
const recorderDir = mkdtempSync(join(tmpdir(), 'omnihub-durability-recorder-'));
const children = new Set<ChildProcess>();

interface HubProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_') || name.startsWith('OMNIHUB_') || name === 'HOST') delete env[name];
  }
  return {
    ...env,
    PORT: '0',
    OMNIHUB_DATA_DIR: dataDir,
    OMNIHUB_TEST_RECORDER_DIR: recorderDir,
    TESTSHOP_WEBHOOK_SECRET: 'local-secret',
    ...extra,
  };
}

/** Starts the hub CLI in a child process and resolves once it printed its ready line. */
function launchHub(extra: Record<string, string> = {}): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/local/fixtures/launch-hub.ts'], {
    cwd: REPOSITORY_ROOT,
    env: childEnvironment(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const ready = READY_LINE.exec(output);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolve({ url: ready[1], child, output: () => output, exited });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

async function health(hub: HubProcess): Promise<HubHealth> {
  return (await (await fetch(`${hub.url}/health`)).json()) as HubHealth;
}

/** Polls a condition (the hub runs in another process, so there is nothing to subscribe to). */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(recorderDir, { recursive: true, force: true });
});

describe('Local hub: durability', () => {
  it('delivers a webhook acknowledged just before a SIGKILL exactly once after the restart', {
    timeout: 60_000,
  }, async () => {
    // 1. Consumers paused: the event can only live in the queue journal when the process dies.
    const first = await launchHub({ OMNIHUB_LOCAL_CONSUMERS: 'paused' });
    const response = await fetch(`${first.url}/webhooks/testshop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: '9001', total: '99.00' }),
    });
    expect(response.status).toBe(200);
    first.child.kill('SIGKILL');
    await response.body?.cancel().catch(() => undefined);
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(recordedDeliveries(recorderDir, 'order-recorder')).toEqual([]);
    const journal = readFileSync(join(dataDir, 'queues', 'order-recorder.jsonl'), 'utf8');
    expect(journal).toContain('"op":"send"');

    // 2. Restart on the same data directory with the consumers running: the message is delivered.
    const second = await launchHub();
    const drained = await eventually(
      () => health(second),
      (status) =>
        recordedDeliveries(recorderDir, 'order-recorder').length > 0 &&
        status.consumers.every(
          (consumer) =>
            !consumer.invoking &&
            consumer.queue.visible + consumer.queue.inFlight + consumer.queue.delayed === 0,
        ),
    );
    expect(drained.consumers.find((consumer) => consumer.id === 'order-recorder')?.queue).toMatchObject({
      visible: 0,
      inFlight: 0,
    });
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.output()).toContain('Omnihub local hub stopped');

    // 3. Once more: nothing is redelivered, and the archive kept the event.
    const third = await launchHub();
    const status = await health(third);
    expect(status.consumers.map((consumer) => consumer.queue)).toMatchObject([
      { name: 'order-recorder', visible: 0, inFlight: 0, delayed: 0 },
      { name: 'refund-recorder', visible: 0, inFlight: 0, delayed: 0 },
    ]);
    const archive = (await (await fetch(`${third.url}/local/events?type=order.placed`)).json()) as {
      events: { event: { id: string } }[];
    };
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);

    const deliveries = recordedDeliveries(recorderDir, 'order-recorder');
    expect(deliveries).toHaveLength(1);
    const delivered = JSON.parse(deliveries[0]?.record.body ?? '{}') as {
      id: string;
      'detail-type': string;
      detail: { data: { orderId: string; total: string } };
    };
    expect(delivered).toMatchObject({
      'detail-type': 'order.placed',
      detail: { data: { orderId: '9001', total: '99.00' } },
    });
    expect(deliveries[0]?.record.attributes.ApproximateReceiveCount).toBe('1');
    expect(archive.events.map((archived) => archived.event.id)).toEqual([delivered.id]);
    expect(recordedDeliveries(recorderDir, 'refund-recorder')).toEqual([]);
  });
});
