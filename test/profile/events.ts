/** Builders of canonical envelopes for profile tests. */
import type { EventData, EventType } from '../../core/events/catalog.ts';
import { deterministicEventId, type Envelope } from '../../core/events/envelope.ts';
import type { Identity } from '../../core/identity/identity.ts';

let sequence = 0;

export function canonical<T extends EventType>(
  type: T,
  options: { connector: string; at: string; identities: Identity[]; data: EventData<T>; id?: string },
): Envelope {
  const id = options.id ?? deterministicEventId('test', String(++sequence), type);
  return {
    id,
    type,
    source: `omnihub.${options.connector}`,
    time: options.at,
    occurredAt: options.at,
    receivedAt: options.at,
    schemaVersion: 1,
    dataschema: 'x',
    origin: { connector: options.connector, deliveryId: id },
    identities: options.identities,
    correlationId: id,
    data: options.data as Record<string, unknown>,
  };
}

export const email = (value: string): Identity => ({ type: 'email', value });
export const phone = (value: string): Identity => ({ type: 'phone', value });
export const external = (system: string, value: string): Identity => ({ type: 'external', system, value });

export function upsert(
  connector: string,
  at: string,
  identities: Identity[],
  traits: Record<string, unknown>,
  id?: string,
): Envelope {
  return canonical('customer.upserted', {
    connector,
    at,
    identities,
    id,
    data: { system: connector, externalId: 'x', traits },
  });
}
