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
      },
    });
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
  ])('says in English what is wrong with %s', (text, message) => {
    expect(() => parseSyncConfig(text, 'OMNIHUB_SYNC_CONFIG')).toThrow(SyncConfigError);
    expect(() => parseSyncConfig(text, 'OMNIHUB_SYNC_CONFIG')).toThrow(message);
  });
});
