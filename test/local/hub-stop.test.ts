/**
 * What the hub opens it closes: after `startLocalHub` and `stop()` no handle the hub opened keeps the
 * process alive (its listener, dynalite's thread, the Lambda runtime thread, sockets, timers), so a
 * script that stops its hub exits by itself. Compared with what was active before the hub started,
 * which is what the test runner itself holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalHub } from '../../local/hub.ts';
import { clearAwsAndOmnihubEnvironment } from './support/environment.ts';
import { recordedDeliveries } from './support/recorder.ts';
import { testTopology } from './support/test-topology.ts';

/** The active resources by type, as `process.getActiveResourcesInfo()` names them. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** What `after` holds beyond `before` (a multiset difference); empty when nothing was left behind. */
function leftBehind(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [type, count] of after) {
    const more = count - (before.get(type) ?? 0);
    if (more > 0) extra[type] = more;
  }
  return extra;
}

describe('Local hub: stop', () => {
  it('leaves no active handle behind once it has served webhooks and run its consumers', async () => {
    clearAwsAndOmnihubEnvironment();
    const recorderDir = mkdtempSync(join(tmpdir(), 'omnihub-stop-recorder-'));
    try {
      const before = activeResources();
      const hub = await startLocalHub({
        topology: testTopology(),
        port: 0,
        dataDir: ':memory:',
        env: { OMNIHUB_TEST_RECORDER_DIR: recorderDir, TESTSHOP_WEBHOOK_SECRET: 'local-secret' },
        log: () => {},
      });
      const response = await fetch(`${hub.url}/webhooks/testshop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: '4242', total: '12.00' }),
      });
      expect(response.status).toBe(200);
      await response.text();
      await hub.drain({ timeoutMs: 15_000 });
      // The ingest handler and a consumer ran: the runtime thread, dynalite and the bus were all used.
      expect(recordedDeliveries(recorderDir, 'order-recorder')).toHaveLength(1);
      const during = leftBehind(before, activeResources());
      expect(Object.keys(during).length).toBeGreaterThan(0);

      await hub.stop();
      // A closed socket or an ended thread leaves the list a moment after the promise that ended it.
      let remaining = leftBehind(before, activeResources());
      for (let waited = 0; Object.keys(remaining).length > 0 && waited < 5_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        remaining = leftBehind(before, activeResources());
      }
      expect(remaining).toEqual({});
    } finally {
      rmSync(recorderDir, { recursive: true, force: true });
    }
  });
});
