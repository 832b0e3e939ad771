/**
 * Posts a journey to a hub, signed as each vendor signs it, phase by phase, waiting for the profile
 * writer between phases (so the merges happen in the order the story tells, whatever the runtime's
 * concurrency).
 *
 * @example
 * const keys = generateWebhookKeys(hub.url);
 * const results = await postJourney({ hubUrl: hub.url, keys, journey: buildJourney(), settle: () => hub.drain() });
 */

import type { Journey, JourneyStep } from './journey.ts';
import { signWebhook, type WebhookKeys } from './vendor-webhooks.ts';
import type { VendorId } from './vendors/step.ts';

export interface DeliveryResult {
  readonly step: JourneyStep;
  readonly status: number;
  /** The first 300 characters of the answer (error bodies are `{"error","message"}`). */
  readonly body: string;
}

export interface PostJourneyOptions {
  /** Where to post (the hub's own URL; the signatures use `keys.publicUrl`). */
  readonly hubUrl: string;
  readonly keys: WebhookKeys;
  readonly journey: Journey;
  /** Resolves once the profile writer has processed everything posted so far. */
  readonly settle: () => Promise<void>;
  /** Connectors whose steps are left out (SendGrid when the demo has no private key to sign with). */
  readonly skip?: ReadonlySet<VendorId>;
  readonly onDelivery?: (result: DeliveryResult) => void;
  readonly fetch?: typeof fetch;
}

export async function postJourney(options: PostJourneyOptions): Promise<DeliveryResult[]> {
  const send = options.fetch ?? fetch;
  const results: DeliveryResult[] = [];
  const steps = options.journey.steps.filter((step) => !options.skip?.has(step.connector));
  const phases = [...new Set(steps.map((step) => step.phase))].sort((a, b) => a - b);
  for (const phase of phases) {
    for (const step of steps.filter((candidate) => candidate.phase === phase)) {
      // Signed just before sending: HubSpot and SendGrid sign a timestamp that must be fresh.
      const request = signWebhook(step.webhook, options.keys);
      let result: DeliveryResult;
      try {
        const response = await send(`${options.hubUrl.replace(/\/$/, '')}${request.path}`, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
        });
        result = { step, status: response.status, body: (await response.text()).slice(0, 300) };
      } catch (error) {
        result = { step, status: 0, body: error instanceof Error ? error.message : String(error) };
      }
      results.push(result);
      options.onDelivery?.(result);
    }
    await options.settle();
  }
  return results;
}

interface HealthConsumers {
  readonly consumers?: ReadonlyArray<{
    readonly id: string;
    readonly invoking: boolean;
    readonly queue: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  }>;
}

/**
 * For a hub in another process: polls `GET /health` until every consumer queue is empty and no
 * consumer is running. Rejects after `timeoutMs` with what is still queued.
 */
export async function settleByHealth(
  hubUrl: string,
  options: { readonly timeoutMs?: number; readonly fetch?: typeof fetch } = {},
): Promise<void> {
  const send = options.fetch ?? fetch;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // The queues can look empty before the bus has routed the last event: require two quiet polls.
  let quiet = 0;
  for (;;) {
    const health = (await (await send(`${hubUrl.replace(/\/$/, '')}/health`)).json()) as HealthConsumers;
    const busy = (health.consumers ?? []).filter(
      (consumer) =>
        consumer.invoking || consumer.queue.visible + consumer.queue.inFlight + consumer.queue.delayed > 0,
    );
    quiet = busy.length === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the profile writer has not caught up: ${busy.map((consumer) => `${consumer.id} ${JSON.stringify(consumer.queue)}`).join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
