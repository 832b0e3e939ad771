/**
 * From the unified profile to what one destination may receive: the configured fields, minus the
 * fields another system owns (field ownership), with consent resolved into opt-outs that always
 * propagate. Pure functions, so mappings are tested without any I/O.
 */
import type { ProfileView } from '../profile/reader.ts';
import type { ResolvedDestination, SyncConfig, SyncField } from './config.ts';
import type { SyncRecord } from './destination.ts';

const SCALAR_TRAITS = ['firstName', 'lastName', 'email', 'phone', 'company', 'locale'] as const;
const ADDRESS_PARTS = ['line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const;

/** Where the profile's current value of a field came from (connector id), when it has one. */
function sourceOf(view: ProfileView, field: SyncField): string | undefined {
  switch (field) {
    case 'address':
      return ADDRESS_PARTS.map((part) => view.traitSources[`address.${part}`]?.source).find(Boolean);
    case 'emailConsent':
      return view.consent.email.source;
    case 'smsConsent':
      return view.consent.sms.source;
    case 'orderCount':
    case 'totalRevenue':
    case 'lastOrderAt':
      return undefined; // derived by the hub from every system's orders
    default:
      return view.traitSources[field]?.source;
  }
}

/**
 * Whether `destination` may be sent `field`. A field with an owner flows only from its owner: the
 * owner itself is not sent it (its value is the truth), and the others only receive the owner's value.
 * A destination that lists the field in `overwrite` receives it regardless.
 */
export function mayReceive(
  view: ProfileView,
  field: SyncField,
  destination: ResolvedDestination,
  owners: SyncConfig['owners'],
): boolean {
  if (!destination.fields.has(field)) return false;
  const owner = owners[field];
  if (owner === undefined || destination.overwrite.has(field)) return true;
  if (owner === destination.id) return false;
  return sourceOf(view, field) === owner;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The record a destination is sent for a profile. */
export function buildSyncRecord(
  view: ProfileView,
  destination: ResolvedDestination,
  config: Pick<SyncConfig, 'owners' | 'reportingCurrency'>,
): SyncRecord {
  const allowed = (field: SyncField) => mayReceive(view, field, destination, config.owners);
  const fields: Record<string, unknown> = {};
  for (const name of SCALAR_TRAITS) {
    const value = text(view.traits[name]);
    if (value !== undefined && allowed(name)) fields[name] = value;
  }
  if (allowed('address')) {
    const address: Record<string, string> = {};
    for (const part of ADDRESS_PARTS) {
      const value = text(view.traits[`address.${part}`]);
      if (value !== undefined) address[part] = value;
    }
    if (Object.keys(address).length > 0) fields.address = address;
  }
  const { stats } = view;
  if (stats.orderCount > 0) {
    if (allowed('orderCount')) fields.orderCount = stats.orderCount;
    const revenue = stats.lifetimeValue[config.reportingCurrency];
    if (revenue !== undefined && allowed('totalRevenue'))
      fields.totalRevenue = { amount: revenue, currency: config.reportingCurrency };
    if (stats.lastOrderAt && allowed('lastOrderAt')) fields.lastOrderAt = stats.lastOrderAt;
  }
  if (view.consent.email.status !== 'unknown' && allowed('emailConsent'))
    fields.emailConsent = view.consent.email.status;
  if (view.consent.sms.status !== 'unknown' && allowed('smsConsent'))
    fields.smsConsent = view.consent.sms.status;

  const emailGroups = Object.entries(view.consent)
    .filter(([key, state]) => key.startsWith('email/group:') && state.status === 'unsubscribed')
    .map(([key]) => key.slice('email/group:'.length))
    .sort();
  const email =
    text(view.traits.email) ?? view.identities.find((identity) => identity.type === 'email')?.value;
  return {
    profileId: view.profileId,
    ...(email ? { email } : {}),
    fields: fields as SyncRecord['fields'],
    optOuts: {
      email: view.consent.email.status === 'unsubscribed',
      sms: view.consent.sms.status === 'unsubscribed',
      emailGroups,
    },
  };
}

/** The destination's own id for the person, from the profile's identities. */
export function externalIdOf(view: ProfileView, destinationId: string): string | undefined {
  const ids = view.identities
    .filter((identity) => identity.type === 'external' && identity.system === destinationId)
    .map((identity) => identity.value)
    .sort();
  return ids[0];
}

/**
 * The sync fields a `profile.updated` change key touches: `traits.firstName` -> firstName,
 * `traits.address.city` -> address, `stats` -> the order fields, `consent.*` -> the consent fields.
 * Identity-only changes touch no field.
 */
export function fieldsTouchedBy(changeKeys: readonly string[]): Set<SyncField> {
  const touched = new Set<SyncField>();
  for (const key of changeKeys) {
    if (key.startsWith('traits.address.')) touched.add('address');
    else if (key.startsWith('traits.')) {
      const name = key.slice('traits.'.length);
      if ((SCALAR_TRAITS as readonly string[]).includes(name)) touched.add(name as SyncField);
    } else if (key === 'stats') {
      touched.add('orderCount');
      touched.add('totalRevenue');
      touched.add('lastOrderAt');
    } else if (key === 'consent.email' || key.startsWith('consent.email/')) touched.add('emailConsent');
    else if (key === 'consent.sms' || key.startsWith('consent.sms/')) touched.add('smsConsent');
  }
  return touched;
}

/** Whether a change matters to a destination: a field it receives, or any consent change (opt-outs go everywhere). */
export function isRelevant(changeKeys: readonly string[], destination: ResolvedDestination): boolean {
  if (changeKeys.some((key) => key.startsWith('consent.'))) return true;
  for (const field of fieldsTouchedBy(changeKeys)) if (destination.fields.has(field)) return true;
  return false;
}
