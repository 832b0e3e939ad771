/**
 * Twilio Programmable Messaging: incoming SMS (messages and STOP/START keywords) and outbound message
 * status callbacks. See README.md for registration and the topic table.
 */
import { defineConnector } from '../../core/connector.ts';
import { acknowledgeWithEmptyTwiml, parseTwilioRequest, topics } from './inbound.ts';
import { verifyTwilioRequest } from './verify.ts';

export default defineConnector({
  id: 'twilio',
  name: 'Twilio Programmable Messaging',
  category: 'sms',
  secrets: {
    TWILIO_AUTH_TOKEN:
      'Auth Token of the Twilio account (or subaccount) that owns the numbers or Messaging Service: Console > Account ' +
      'Dashboard > Account Info > Auth Token. Twilio signs webhooks with the primary token; API key secrets do not work.',
  },
  inbound: {
    // Twilio posts forms; the JSON variant is signed with a bodySHA256 query parameter.
    contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
    // A 1,600-character body percent-encoded as 4-byte UTF-8 is ~19 KB; 64 KiB leaves room for MMS media params.
    maxBodyBytes: 64 * 1024,
    verify: verifyTwilioRequest,
    parse: parseTwilioRequest,
    topics,
    acknowledge: acknowledgeWithEmptyTwiml,
  },
});
