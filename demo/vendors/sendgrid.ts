/** The demo's SendGrid Event Webhook posts: a batch of events, possibly about several people. */
import type { Person } from '../people.ts';
import { digest, email, hexId, iso, type JourneyStep } from './step.ts';

export interface SendGridEvent {
  readonly person: Person;
  readonly event: 'delivered' | 'open' | 'unsubscribe';
  readonly campaign: string;
  readonly at: Date;
}

const SENDGRID_EVENT = {
  delivered: 'message.delivered',
  open: 'message.opened',
  unsubscribe: 'consent.changed',
} as const;

export function sendgridBatch(phase: number, story: string, events: readonly SendGridEvent[]): JourneyStep {
  const body = events.map(({ person, event, campaign, at }) => {
    const messageId = `${hexId(`sendgrid:${campaign}:${person.id}`, 22)}.filterdrecv-5bd4f5c9c6-x2k7n-1-${hexId(`sg:${campaign}`, 8).toUpperCase()}-4.0`;
    const common = {
      email: person.email,
      timestamp: Math.floor(at.getTime() / 1000),
      event,
      sg_event_id: digest(`sendgrid:${campaign}:${person.id}:${event}`).subarray(0, 16).toString('base64url'),
      sg_message_id: messageId,
      category: [campaign],
    };
    if (event === 'delivered') {
      return { ...common, 'smtp-id': `<${hexId(messageId, 16)}@ismtpd-101>`, response: '250 2.0.0 OK' };
    }
    return {
      ...common,
      useragent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)',
      ip: '203.0.113.24',
    };
  });
  return {
    phase,
    story,
    connector: 'sendgrid',
    topic: [...new Set(events.map((event) => event.event))].join(', '),
    webhook: {
      connector: 'sendgrid',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' },
    },
    expected: events.map(({ person, event, at }) => ({
      person: person.id,
      type: SENDGRID_EVENT[event],
      connector: 'sendgrid' as const,
      at: iso(at),
      identities: [email(person.email)],
      ...(event === 'unsubscribe'
        ? { consent: { channel: 'email' as const, status: 'unsubscribed' as const, reason: 'unsubscribe' } }
        : {}),
    })),
  };
}
