/**
 * One runner for every connector fixture: `connectors/<id>/fixtures/*.json` holds a request in the
 * vendor's real format (raw body, real signature headers) and the canonical events it must become,
 * or the deliveries it must quarantine (with a fragment of the reason).
 */
import { describe, expect, it } from 'vitest';
import type { ConnectorDefinition } from '../../core/connector.ts';
import { comparable, fixtureRequest, loadFixtureCases, pipelineHarness } from '../support/ingest.ts';

const cases = loadFixtureCases();

describe('Connector fixtures', () => {
  it('finds fixtures for connectors', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  describe.each(cases)('$connector: $file', ({ connector: id, fixture }) => {
    it(fixture.description, async () => {
      const module = (await import(`../../connectors/${id}/index.ts`)) as { default: ConnectorDefinition };
      const connector = module.default;
      const harness = pipelineHarness(connector, {
        secrets: fixture.secrets,
        now: () => new Date(fixture.now),
      });
      const response = await harness.send(fixtureRequest(fixture));

      if (fixture.expect.error !== undefined) {
        expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: fixture.expect.error });
      }
      expect(response.statusCode, response.body).toBe(fixture.expect.status);
      if (fixture.expect.body !== undefined) expect(response.body).toBe(fixture.expect.body);
      expect(harness.publisher.events.map(comparable)).toEqual(fixture.expect.events ?? []);
      const quarantined = [...harness.quarantine.records.values()].map(({ deliveryId, topic, reason }) => ({
        deliveryId,
        topic,
        reason,
      }));
      expect(quarantined).toEqual(
        (fixture.expect.quarantined ?? []).map((item) => ({
          ...item,
          reason: expect.stringContaining(item.reason),
        })),
      );
    });
  });
});
