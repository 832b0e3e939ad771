/**
 * The demo's Twilio webhooks: form-encoded status callbacks and incoming messages. Twilio sends no
 * event time, so the hub stamps these on receipt.
 */
import type { Person } from '../people.ts';
import { hexId, type JourneyStep, phone } from './step.ts';

const TWILIO_ACCOUNT = `AC${hexId('twilio:account', 32)}`;
const TWILIO_SERVICE = `MG${hexId('twilio:service', 32)}`;

function twilioWebhook(fields: Record<string, string>) {
  return {
    connector: 'twilio' as const,
    body: new URLSearchParams(fields).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'x-home-region': 'us1',
    },
  };
}

const STATUS_EVENT = { sent: 'message.sent', delivered: 'message.delivered' } as const;

/** A status callback of a message the business sent (the person is `To`). */
export function twilioStatus(
  phase: number,
  story: string,
  options: { person: Person; message: string; status: 'sent' | 'delivered'; from: string },
): JourneyStep {
  const { person, status } = options;
  const sid = `SM${hexId(`twilio:${options.message}`, 32)}`;
  return {
    phase,
    story,
    connector: 'twilio',
    topic: `status ${status}`,
    webhook: twilioWebhook({
      SmsSid: sid,
      SmsStatus: status,
      MessageStatus: status,
      To: person.phone,
      MessagingServiceSid: TWILIO_SERVICE,
      MessageSid: sid,
      AccountSid: TWILIO_ACCOUNT,
      From: options.from,
      ApiVersion: '2010-04-01',
    }),
    expected: [
      {
        person: person.id,
        type: STATUS_EVENT[status],
        connector: 'twilio',
        identities: [phone(person.phone)],
      },
    ],
  };
}

/** An incoming SMS from the person; `STOP` is an opt-out (Advanced Opt-Out sends OptOutType). */
export function twilioIncoming(
  phase: number,
  story: string,
  options: { person: Person; message: string; body: string; to: string },
): JourneyStep {
  const { person } = options;
  const sid = `SM${hexId(`twilio:${options.message}`, 32)}`;
  const stop = options.body.trim().toUpperCase() === 'STOP';
  return {
    phase,
    story,
    connector: 'twilio',
    topic: stop ? 'incoming STOP' : 'incoming message',
    webhook: twilioWebhook({
      ToCountry: options.to.startsWith('+1416') ? 'CA' : 'US',
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: options.body,
      To: options.to,
      MessagingServiceSid: TWILIO_SERVICE,
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: TWILIO_ACCOUNT,
      From: person.phone,
      ApiVersion: '2010-04-01',
      ...(stop ? { OptOutType: 'STOP' } : {}),
    }),
    expected: [
      stop
        ? {
            person: person.id,
            type: 'consent.changed',
            connector: 'twilio',
            identities: [phone(person.phone)],
            consent: { channel: 'sms', status: 'unsubscribed', reason: 'STOP' },
          }
        : {
            person: person.id,
            type: 'message.received',
            connector: 'twilio',
            identities: [phone(person.phone)],
          },
    ],
  };
}
