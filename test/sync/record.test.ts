/**
 * The record a destination is sent (core/sync/record.ts): field ownership and the configured field
 * set decide which profile fields reach which destination. Each connector's requests are asserted in
 * its own `connectors/<id>/outbound.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { hubspotOutbound } from '../../connectors/hubspot/outbound.ts';
import { squareOutbound } from '../../connectors/square/outbound.ts';
import type { ProfileItem } from '../../core/profile/store.ts';
import { profileItem, recordFor, stamped } from '../support/sync.ts';

describe('Field ownership', () => {
  const item = profileItem();
  const withCompany = (source: string): ProfileItem => ({
    ...item,
    traits: { ...item.traits, company: stamped('Analytical Engines Ltd', source) },
  });

  it('the owner (HubSpot, by default for company) is never sent the field', () => {
    expect(recordFor('hubspot', hubspotOutbound, withCompany('hubspot')).fields.company).toBeUndefined();
  });

  it('others receive the owner value, not another system value', () => {
    expect(recordFor('square', squareOutbound, withCompany('hubspot')).fields.company).toBe(
      'Analytical Engines Ltd',
    );
    expect(recordFor('square', squareOutbound, withCompany('shopify')).fields.company).toBeUndefined();
  });

  it('overwrite in the configuration lets a destination receive it anyway', () => {
    const record = recordFor('square', squareOutbound, withCompany('shopify'), {
      destinations: { square: { overwrite: ['company'] } },
    });
    expect(record.fields.company).toBe('Analytical Engines Ltd');
  });

  it('fields left out of the configuration are not sent', () => {
    const record = recordFor('square', squareOutbound, item, {
      destinations: { square: { fields: ['email'] } },
    });
    expect(record.fields).toEqual({ email: 'ada@example.com' });
  });
});
