/**
 * Zod schemas of HubSpot webhooks-API events (the elements of the JSON array HubSpot posts).
 *
 * Lenient on purpose: unknown keys are accepted (and left out of the parsed value: `z.object`
 * strips them, which costs less than copying them) and only the fields we use are required, because
 * HubSpot adds fields (`sourceId`, `isSensitive`, `objectTypeId`, ...) without notice.
 */
import * as z from 'zod/mini';
import '../../core/zod-messages.ts';

/**
 * A HubSpot id (a 64-bit long in HubSpot's API), as a string. JSON numbers are the norm; ids too large
 * for a JS number reach us as digit strings (see `parseHubSpotBatch`), which are accepted as well.
 */
export const HubSpotId = z.pipe(
  z.union([
    z.number().check(z.int(), z.nonnegative()),
    z.string().check(z.regex(/^\d{1,20}$/, 'a numeric id')),
  ]),
  z.transform(String),
);

// zod schemas are immutable, so a leaf used by many fields is built once (each instance costs cold
// start) and shared.
const OptionalId = z.optional(HubSpotId);
const NonEmptyText = z.string().check(z.minLength(1));
const OptionalText = z.optional(z.string());
const OptionalNumber = z.optional(z.number());

/** Milliseconds since the epoch, bounded to what a JS `Date` can represent. */
export const EpochMillis = z.number().check(z.int(), z.nonnegative(), z.lte(8.64e15));

/**
 * What every event in a batch must carry for us to route and dedupe it. The topic is
 * `subscriptionType`, as HubSpot's field reference and real deliveries name it; HubSpot's documented
 * example payload names it `eventType`, which is read when `subscriptionType` is absent. The parsed
 * value always carries it as `subscriptionType`.
 */
export const EventEnvelope = z.pipe(
  z
    .object({
      eventId: HubSpotId,
      subscriptionId: HubSpotId,
      subscriptionType: z.optional(NonEmptyText),
      eventType: z.optional(NonEmptyText),
    })
    .check(
      z.refine((event) => event.subscriptionType !== undefined || event.eventType !== undefined, {
        message: 'subscriptionType is required (eventType is read in its place)',
        path: ['subscriptionType'],
      }),
    ),
  // The refinement above guarantees one of the two: the empty string is never produced.
  z.transform(({ eventId, subscriptionId, subscriptionType, eventType }) => ({
    eventId,
    subscriptionId,
    subscriptionType: subscriptionType ?? eventType ?? '',
  })),
);
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** Fields shared by every contact event (`contact.creation`, `contact.deletion`, ...). */
export const ContactEvent = z.object({
  eventId: HubSpotId,
  subscriptionId: HubSpotId,
  // The topic is read from the envelope (`EventEnvelope`), where `eventType` may stand in for it.
  subscriptionType: OptionalText,
  portalId: OptionalId,
  appId: OptionalId,
  occurredAt: EpochMillis,
  objectId: HubSpotId,
  attemptNumber: OptionalNumber,
  changeSource: OptionalText,
  changeFlag: OptionalText,
});
export type ContactEvent = z.infer<typeof ContactEvent>;

/**
 * `contact.propertyChange`: one property's new value. HubSpot sends values as strings; anything else
 * scalar is accepted and read as its string form. A missing or null value means the property was
 * cleared.
 */
export const ContactPropertyChange = z.extend(ContactEvent, {
  propertyName: NonEmptyText,
  propertyValue: z.pipe(
    z.nullish(z.union([z.string(), z.number(), z.boolean()])),
    z.transform((value) => (value === null || value === undefined ? undefined : String(value))),
  ),
});
export type ContactPropertyChange = z.infer<typeof ContactPropertyChange>;

/**
 * `contact.merge` (developers.hubspot.com changelog "New subscription types for webhooks"):
 * `primaryObjectId` is the record given priority, `mergedObjectIds` the secondary records, and
 * `newObjectId` the record the merge produced, which can differ from the primary.
 */
export const ContactMerge = z.extend(ContactEvent, {
  primaryObjectId: OptionalId,
  mergedObjectIds: z.optional(z.array(HubSpotId)),
  newObjectId: OptionalId,
  numberOfPropertiesMoved: OptionalNumber,
});
export type ContactMerge = z.infer<typeof ContactMerge>;
