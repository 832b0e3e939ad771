import { describe, expect, it } from 'vitest';
import { parseSyncConfig, resolveDestination, SyncConfigError } from '../../core/sync/config.ts';

const SQUARE = {
  capabilities: ['firstName', 'lastName', 'email', 'phone', 'address'] as const,
  rateLimit: { requests: 10, perSeconds: 1 },
};

describe('Sync configuration', () => {
  it('fills every default from an empty override', () => {
    expect(parseSyncConfig('{}', 'test')).toEqual({
      destinations: {},
      owners: { company: 'hubspot' },
      reportingCurrency: 'USD',
      delivery: {
        maxAttempts: 5,
        baseDelayMs: 250,
        maxDelayMs: 8_000,
        maxInProcessWaitMs: 10_000,
        timeoutMs: 10_000,
        retryFor: '24h',
        redeliveryDelay: { first: '30s', max: '15m' },
      },
    });
  });

  it('takes a longer retryFor with a redelivery ceiling that fits the redrive limit', () => {
    const config = parseSyncConfig('{"delivery":{"retryFor":"7d","redeliveryDelay":{"max":"1h"}}}', 'test');
    expect(config.delivery).toMatchObject({ retryFor: '7d', redeliveryDelay: { first: '30s', max: '1h' } });
    // The resolved configuration, as the stack hands it to the functions, parses to itself.
    expect(parseSyncConfig(JSON.stringify(config), 'OMNIHUB_SYNC_CONFIG')).toEqual(config);
  });

  it("keeps a destination's partial override and fills the rest when resolved", () => {
    const config = parseSyncConfig('{"destinations":{"square":{"fields":["email"]}}}', 'test');
    expect(config.destinations.square).toMatchObject({ fields: ['email'] });
    const square = resolveDestination(config, 'square', SQUARE);
    expect(square).toMatchObject({ enabled: true, events: ['profile.updated', 'profile.merged'] });
    expect([...square.fields]).toEqual(['email']);
  });

  it.each([
    [
      '{"destinations":{"square":{"enabled":"no"}}}',
      'OMNIHUB_SYNC_CONFIG: destinations.square.enabled: Invalid input: expected boolean, received string',
    ],
    [
      '{"destinations":{"square":{"feilds":[]}}}',
      'OMNIHUB_SYNC_CONFIG: destinations.square: Unrecognized key: "feilds"',
    ],
    [
      '{"owners":{"email":"shopify","colour":"x"}}',
      'OMNIHUB_SYNC_CONFIG: owners: Unrecognized key: "colour"',
    ],
    [
      '{"reportingCurrency":"EURO"}',
      'OMNIHUB_SYNC_CONFIG: reportingCurrency: Too big: expected string to have exactly 3 characters',
    ],
    ['[]', 'OMNIHUB_SYNC_CONFIG: (root): Invalid input: expected object, received array'],
    [
      '{"delivery":{"maxAttempts":0}}',
      'OMNIHUB_SYNC_CONFIG: delivery.maxAttempts: Too small: expected number to be >0',
    ],
    [
      '{"delivery":{"retryFor":"1 day"}}',
      'OMNIHUB_SYNC_CONFIG: delivery.retryFor: expected a duration such as "30s", "15m", "24h" or "7d"',
    ],
    ['{"delivery":{"retryFor":"8d"}}', 'OMNIHUB_SYNC_CONFIG: delivery.retryFor: must be at most 7d'],
    ['{"delivery":{"retryfor":"1h"}}', 'OMNIHUB_SYNC_CONFIG: delivery: Unrecognized key: "retryfor"'],
    [
      '{"delivery":{"redeliveryDelay":{"first":"0s"}}}',
      'OMNIHUB_SYNC_CONFIG: delivery.redeliveryDelay.first: must be at least 1s',
    ],
    [
      '{"delivery":{"redeliveryDelay":{"first":"2m","max":"1m"}}}',
      'OMNIHUB_SYNC_CONFIG: delivery.redeliveryDelay.max: must be at least redeliveryDelay.first (2m)',
    ],
    [
      '{"delivery":{"redeliveryDelay":{"max":"13h"}}}',
      'OMNIHUB_SYNC_CONFIG: delivery.redeliveryDelay.max: must be at most 12h (the longest SQS visibility timeout)',
    ],
    [
      '{"delivery":{"retryFor":"7d"}}',
      'OMNIHUB_SYNC_CONFIG: delivery.redeliveryDelay.max: 15m is too short for retryFor 7d: a change could be received 1354 times, and SQS redrives after 1000 at most; raise it or shorten retryFor',
    ],
  ])('says in English what is wrong with %s', (text, message) => {
    expect(() => parseSyncConfig(text, 'OMNIHUB_SYNC_CONFIG')).toThrow(SyncConfigError);
    expect(() => parseSyncConfig(text, 'OMNIHUB_SYNC_CONFIG')).toThrow(message);
  });
});
