/**
 * Every connector of the registry has a signer in its folder (`connectors/<id>/signer.ts`), and a
 * request it signs as the vendor does is accepted by that connector's own `inbound.verify`, while
 * the same request with one byte changed, or signed with another hub's keys, is refused. The signers
 * are written from the vendors' documentation independently of the verifiers, so each checks the
 * other without sharing code.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { connectors } from '../../connectors/index.ts';
import type { ConnectorDefinition, WebhookRequest } from '../../core/connector.ts';
import { SignatureError } from '../../core/errors.ts';
import { toWebhookRequest } from '../../core/ingest/request.ts';
import {
  generateWebhookKeys,
  type SignedWebhook,
  signerOf,
  signWebhook,
  type WebhookKeys,
} from '../../demo/vendor-webhooks.ts';

const PUBLIC_URL = 'https://hooks.northwind.example';
const NOW = new Date('2025-06-10T12:00:00Z');
/** A percent-encoded `:` in the query: HubSpot's v3 scheme decodes it before signing, the others do not. */
const QUERY = 'source=demo%3Aone';

/** A body of the connector's first content type, with bytes beyond ASCII. */
function bodyFor(connector: ConnectorDefinition): string {
  return connector.inbound.contentTypes[0] === 'application/x-www-form-urlencoded'
    ? 'To=%2B13125550100&Body=Hello+%C3%A9t%C3%A9&From=%2B13125550142&MessageSid=SM1'
    : '[{"id":"42","note":"h\u00e9llo"}]';
}

/** The request the connector sees for a signed webhook, built as API Gateway and the ingest handler build it. */
function received(signed: SignedWebhook, body = signed.body): WebhookRequest {
  const [rawPath = '', rawQueryString = ''] = signed.path.split('?');
  const event = {
    rawPath,
    rawQueryString,
    headers: signed.headers,
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' } },
  } as unknown as APIGatewayProxyEventV2;
  return toWebhookRequest(event, { env: { OMNIHUB_PUBLIC_URL: PUBLIC_URL }, now: NOW });
}

function sign(connector: ConnectorDefinition, keys: WebhookKeys): SignedWebhook {
  return signWebhook({ connector: connector.id, body: bodyFor(connector), query: QUERY }, keys, NOW);
}

describe('Vendor webhooks: the connectors of the registry sign as they verify', () => {
  it('knows every connector of the registry, and no other', () => {
    expect(Object.keys(connectors).length).toBeGreaterThan(0);
    expect(() => signerOf('not-a-connector')).toThrow(/not a connector of connectors\/index\.ts/);
  });

  describe.each(Object.values(connectors).map((connector) => [connector.id, connector] as const))(
    '%s',
    (id, connector) => {
      it('has a signer whose test keys are exactly the secrets the connector declares', () => {
        const signer = signerOf(id);
        expect(Object.keys(signer.generateTestKeys().secrets).sort()).toEqual(
          Object.keys(connector.secrets).sort(),
        );
      });

      it("signs a request its own inbound.verify accepts, with the connector's content type", () => {
        const keys = generateWebhookKeys(PUBLIC_URL);
        const signed = sign(connector, keys);
        expect(signed.path).toBe(`/webhooks/${id}?${QUERY}`);
        expect(signed.headers['content-type']).toBe(connector.inbound.contentTypes[0]);
        expect(() => connector.inbound.verify(received(signed), keys.secrets, NOW)).not.toThrow();
      });

      it('is refused when a byte of the body changes, or when another hub’s keys signed it', () => {
        const keys = generateWebhookKeys(PUBLIC_URL);
        const signed = sign(connector, keys);
        const altered = signed.body.replace('42', '43').replace('SM1', 'SM2');
        expect(altered).not.toBe(signed.body);
        expect(() => connector.inbound.verify(received(signed, altered), keys.secrets, NOW)).toThrow(
          SignatureError,
        );
        const otherHub = generateWebhookKeys(PUBLIC_URL);
        expect(() => connector.inbound.verify(received(signed), otherHub.secrets, NOW)).toThrow(
          SignatureError,
        );
      });
    },
  );
});
