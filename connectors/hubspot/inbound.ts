/**
 * HubSpot webhooks-API batches -> canonical events.
 *
 * HubSpot posts a JSON array; every element is its own delivery (dedupe key
 * `subscriptionId:eventId`, as HubSpot advises) with its `subscriptionType` as the topic.
 */

import type { CanonicalEventDraft, Delivery, WebhookRequest } from '../../core/connector.ts';
import { draft, topic } from '../../core/connector.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Address, EventData, Traits } from '../../core/events/catalog.ts';
import { identitiesOf, normalizeEmail, normalizePhone } from '../../core/identity/identity.ts';
import { parseJsonKeepingLargeIntegers } from '../../core/ingest/body.ts';
import { describeIssues, unreadableElement } from '../../core/ingest/quarantine.ts';
import { ContactEvent, ContactMerge, ContactPropertyChange, EventEnvelope } from './schema.ts';

/** The external-id system of HubSpot contacts: one portal per hub (multi-portal is out of scope). */
export const SYSTEM = 'hubspot';

type TraitValues = Traits;
type AddressValues = Address;
type Consent = NonNullable<EventData<'customer.upserted'>['consent']>;

// ---------------------------------------------------------------------------------------------------
// Parsing the batch

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Splits a verified HubSpot body into one delivery per event. Throws a 400 {@link ValidationError}
 * when the body is not a JSON array (HubSpot does not retry a 400, so this is for bodies that can
 * never succeed). An element without a valid `eventId`, `subscriptionId` or `subscriptionType` is an
 * unreadable delivery (quarantined), keyed by its own ids where those are valid.
 */
export function parseHubSpotBatch(request: WebhookRequest): Delivery[] {
  // Ids beyond 2^53 keep their exact digits (as strings).
  const body = parseJsonKeepingLargeIntegers(request.body);
  if (!Array.isArray(body)) {
    throw new ValidationError(
      `a HubSpot webhook body is a JSON array of events, got ${describeJson(body)}`,
      'malformed_body',
    );
  }
  return body.map((element: unknown, index) => {
    const envelope = EventEnvelope.safeParse(element);
    if (!envelope.success) {
      const invalid = new Set(envelope.error.issues.map((issue) => String(issue.path[0])));
      const fields: Record<string, unknown> =
        typeof element === 'object' && element !== null && !Array.isArray(element)
          ? (element as Record<string, unknown>)
          : {};
      const readable = (name: string) => fields[name] !== undefined && !invalid.has(name);
      return unreadableElement(
        request,
        index,
        element,
        `element ${index} is not a HubSpot event: ${describeIssues(envelope.error.issues)}`,
        {
          ...(readable('eventId') && readable('subscriptionId')
            ? { deliveryId: `${String(fields.subscriptionId)}:${String(fields.eventId)}` }
            : {}),
          ...(readable('subscriptionType') ? { topic: String(fields.subscriptionType) } : {}),
        },
      );
    }
    const { subscriptionId, eventId, subscriptionType } = envelope.data;
    return { deliveryId: `${subscriptionId}:${eventId}`, topic: subscriptionType, payload: element };
  });
}

// ---------------------------------------------------------------------------------------------------
// Property mapping (data): HubSpot contact property -> canonical trait

type ScalarTrait = Exclude<keyof TraitValues, 'address' | 'tags'>;

/** A row of the property table: where the value goes and how it is normalised (default: trimmed). */
export type PropertyRow = (
  | { readonly trait: ScalarTrait; readonly address?: never }
  | { readonly address: keyof AddressValues; readonly trait?: never }
) & {
  /** Returns undefined when the value is unusable (then nothing is published). */
  readonly normalize?: (value: string) => string | undefined;
};

/**
 * HubSpot's internal contact property names and the trait each one fills. Email and phone are
 * normalised like every connector's (and become identities too); other text is only trimmed.
 * HubSpot's `country` is free text ("United States"), passed through as is.
 */
export const PROPERTY_TRAITS: Readonly<Record<string, PropertyRow>> = {
  email: { trait: 'email', normalize: normalizeEmail },
  firstname: { trait: 'firstName' },
  lastname: { trait: 'lastName' },
  phone: { trait: 'phone', normalize: (value) => normalizePhone(value) },
  mobilephone: { trait: 'phone', normalize: (value) => normalizePhone(value) },
  company: { trait: 'company' },
  address: { address: 'line1' },
  city: { address: 'city' },
  state: { address: 'region' },
  zip: { address: 'postalCode' },
  country: { address: 'country' },
  hs_language: { trait: 'locale' },
};

/**
 * Consent rules by property. `hs_email_optout` ("Unsubscribed from all email") set to `true` is an
 * unsubscription. `false` is NOT read as a subscription: it only says the person has not opted out
 * of everything, which is no evidence of opt-in (HubSpot tracks opt-in per subscription type), so it
 * publishes nothing.
 */
export const PROPERTY_CONSENT: Readonly<Record<string, (value: string) => Consent | undefined>> = {
  hs_email_optout: (value) =>
    value.trim().toLowerCase() === 'true'
      ? { email: { status: 'unsubscribed', reason: 'hs_email_optout' } }
      : undefined,
};

function trimmed(value: string): string | undefined {
  const text = value.trim();
  return text === '' ? undefined : text;
}

/** The traits one property value sets, or undefined when the property is not mapped or the value unusable. */
export function traitsOfProperty(name: string, value: string): TraitValues | undefined {
  const row = Object.hasOwn(PROPERTY_TRAITS, name) ? PROPERTY_TRAITS[name] : undefined;
  if (!row) return undefined;
  const normalized = (row.normalize ?? trimmed)(value);
  if (normalized === undefined) return undefined;
  if (row.address !== undefined) {
    const address: AddressValues = {};
    address[row.address] = normalized;
    return { address };
  }
  const traits: TraitValues = {};
  traits[row.trait] = normalized;
  return traits;
}

/** The consent one property value states, or undefined. */
export function consentOfProperty(name: string, value: string): Consent | undefined {
  const rule = Object.hasOwn(PROPERTY_CONSENT, name) ? PROPERTY_CONSENT[name] : undefined;
  return rule?.(value);
}

// ---------------------------------------------------------------------------------------------------
// Translators

function occurredAt(event: ContactEvent): string {
  return new Date(event.occurredAt).toISOString();
}

function externalIdentities(ids: readonly string[]) {
  return identitiesOf({ external: ids.map((id) => [SYSTEM, id] as const) });
}

/** `contact.creation` / `contact.restore`: the record exists; HubSpot sends no properties with it. */
export function toCustomerCreated(event: ContactEvent): CanonicalEventDraft[] {
  return [
    draft('customer.upserted', {
      occurredAt: occurredAt(event),
      identities: externalIdentities([event.objectId]),
      data: { system: SYSTEM, externalId: event.objectId, traits: {} },
    }),
  ];
}

/**
 * `contact.propertyChange`: the one changed property, through {@link PROPERTY_TRAITS} and
 * {@link PROPERTY_CONSENT}. Unmapped properties, cleared values (the catalog cannot express "unset")
 * and values that do not normalise publish nothing.
 */
export function toCustomerChanged(event: ContactPropertyChange): CanonicalEventDraft[] {
  if (event.propertyValue === undefined) return [];
  const traits = traitsOfProperty(event.propertyName, event.propertyValue);
  const consent = consentOfProperty(event.propertyName, event.propertyValue);
  if (!traits && !consent) return [];
  return [
    draft('customer.upserted', {
      occurredAt: occurredAt(event),
      identities: identitiesOf({
        email: traits?.email,
        phone: traits?.phone,
        external: [[SYSTEM, event.objectId]],
      }),
      data: {
        system: SYSTEM,
        externalId: event.objectId,
        traits: traits ?? {},
        ...(consent ? { consent } : {}),
      },
    }),
  ];
}

/** `contact.deletion` / `contact.privacyDeletion`: HubSpot's record is gone. */
export function toCustomerDeleted(event: ContactEvent): CanonicalEventDraft[] {
  return [
    draft('customer.deleted', {
      occurredAt: occurredAt(event),
      identities: externalIdentities([event.objectId]),
      data: { system: SYSTEM, externalId: event.objectId },
    }),
  ];
}

/**
 * `contact.merge`. The survivor is `newObjectId` when HubSpot created a new record, else
 * `primaryObjectId` (else `objectId`); every other id involved (primary, `mergedObjectIds`,
 * `objectId`) was merged into it, listed in HubSpot's order. Identities: the survivor first (it
 * becomes the subject), then the merged records.
 */
export function toCustomersMerged(event: ContactMerge): CanonicalEventDraft[] {
  const survivorId = event.newObjectId ?? event.primaryObjectId ?? event.objectId;
  const involved = [...(event.mergedObjectIds ?? []), event.primaryObjectId, event.objectId];
  const mergedIds = [
    ...new Set(involved.filter((id): id is string => id !== undefined && id !== survivorId)),
  ];
  if (mergedIds.length === 0) return [];
  return [
    draft('customer.merged', {
      occurredAt: occurredAt(event),
      identities: externalIdentities([survivorId, ...mergedIds]),
      data: { system: SYSTEM, survivorId, mergedIds },
    }),
  ];
}

/** HubSpot subscription types we translate; every other type is acknowledged and counted. */
export const topics = {
  'contact.creation': topic(ContactEvent, toCustomerCreated),
  'contact.restore': topic(ContactEvent, toCustomerCreated),
  'contact.propertyChange': topic(ContactPropertyChange, toCustomerChanged),
  'contact.deletion': topic(ContactEvent, toCustomerDeleted),
  'contact.privacyDeletion': topic(ContactEvent, toCustomerDeleted),
  'contact.merge': topic(ContactMerge, toCustomersMerged),
};
