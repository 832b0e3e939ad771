/**
 * Square (POS): customers, completed payments and refunds, and loyalty balances, from Square's
 * webhook subscriptions. See README.md for registration, topics and limits.
 */
import { defineConnector } from '../../core/connector.ts';
import { parseSquareEvent, SQUARE, squareTopics } from './inbound.ts';
import { squareOutbound } from './outbound.ts';
import { SIGNATURE_KEY, verifySquareRequest } from './verify.ts';

export default defineConnector({
  id: SQUARE,
  name: 'Square',
  category: 'pos',
  secrets: {
    [SIGNATURE_KEY]:
      "The webhook subscription's signature key: Square Developer Console > your application > Webhooks > Subscriptions > the subscription > Signature key",
  },
  inbound: {
    contentTypes: ['application/json'],
    verify: verifySquareRequest,
    parse: parseSquareEvent,
    topics: squareTopics,
  },
  outbound: squareOutbound,
});
