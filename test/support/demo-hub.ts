/**
 * The demo journey (`demo/journey.ts`) posted through an in-memory local hub with fresh vendor keys,
 * signed as each vendor signs, and drained: the starting point of every test that needs the demo's
 * data.
 */
import { buildJourney, type Journey } from '../../demo/journey.ts';
import { type DeliveryResult, postJourney } from '../../demo/post.ts';
import { type JourneyTruth, truthOf } from '../../demo/truth.ts';
import { generateWebhookKeys, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';

/** Vendors sign the public URL, which need not be the address the hub listens on (a tunnel, say). */
export const DEMO_PUBLIC_URL = 'https://hooks.northwind.example';
/** A fixed "now", so the journey's times (days before it) are the same on every run. */
export const DEMO_NOW = new Date('2025-06-10T12:00:00Z');

export interface DemoRun {
  readonly hub: LocalHub;
  readonly keys: WebhookKeys;
  readonly journey: Journey;
  readonly truth: JourneyTruth;
  readonly results: DeliveryResult[];
}

/** Starts a hub, posts the whole journey phase by phase (draining in between) and returns it all. */
export async function runDemoOnLocalHub(): Promise<DemoRun> {
  const keys = generateWebhookKeys(DEMO_PUBLIC_URL);
  const hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: DEMO_PUBLIC_URL },
    log: () => {},
  });
  const journey = buildJourney(DEMO_NOW);
  const results = await postJourney({
    hubUrl: hub.url,
    keys,
    journey,
    settle: () => hub.drain({ timeoutMs: 30_000 }),
  });
  return { hub, keys, journey, truth: truthOf(journey), results };
}

/** The deliveries the hub did not acknowledge with 2xx, readably (expected: none). */
export function refusedDeliveries(results: readonly DeliveryResult[]): string[] {
  return results
    .filter((result) => result.status < 200 || result.status > 299)
    .map((result) => `${result.step.story}: ${result.status} ${result.body}`);
}
