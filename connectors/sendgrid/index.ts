/**
 * SendGrid (email): the signed Event Webhook. Delivery and engagement events become `message.*`
 * events; unsubscribes, group (un)subscribes and spam reports become `consent.changed`.
 */
import { defineConnector } from '../../core/connector.ts';
import { parseEvents, topics } from './inbound.ts';
import { sendgridOutbound } from './outbound.ts';
import { verifySendGridSignature } from './verify.ts';

/**
 * Largest accepted body: 2 MiB. SendGrid posts a batch "within approximately 30 seconds or when the
 * batch size reaches 768 kilobytes"; 2 MiB holds that with room to spare, and a 500-event batch at up
 * to 4 KiB per event (long URLs, many categories and custom args).
 */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export default defineConnector({
  id: 'sendgrid',
  name: 'SendGrid',
  category: 'email',
  secrets: {
    SENDGRID_WEBHOOK_PUBLIC_KEY:
      'The Event Webhook verification key (base64 DER public key): SendGrid > Settings > Mail Settings > Event Webhooks > your webhook > Security features > Signed Event Webhook; or GET /v3/user/webhooks/event/settings/signed/{id}. Public, but configuration: a wrong value rejects every delivery.',
  },
  inbound: {
    contentTypes: ['application/json'],
    maxBodyBytes: MAX_BODY_BYTES,
    verify: (request, secrets, now) =>
      verifySendGridSignature(request, secrets.SENDGRID_WEBHOOK_PUBLIC_KEY, now),
    parse: parseEvents,
    topics,
  },
  outbound: sendgridOutbound,
});
