/**
 * Merge states several suites need: two people merged into one, and that merge caught in progress
 * (the redirect written, the survivor not there yet), then completed by the next write.
 */
import { identityKey } from '../../core/identity/identity.ts';
import type { ProfileStore } from '../../core/profile/store.ts';
import type { ProfileWriter } from '../../core/profile/writer.ts';
import { email, phone, upsert } from './events.ts';

/** The phone of the person who is merged away (the younger profile). */
const MERGED_PHONE = phone('+14155550111');

export interface MergedPair {
  readonly survivorId: string;
  readonly mergedId: string;
}

/** Two people, one (`a@x.io`) older than the other (`+14155550111`), merged by a third event naming both. */
export async function mergedPair(writer: ProfileWriter): Promise<MergedPair> {
  const first = await writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
  const second = await writer.apply(upsert('square', '2025-01-02T00:00:00.000Z', [MERGED_PHONE], {}));
  await writer.apply(upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('a@x.io'), MERGED_PHONE], {}));
  return { survivorId: String(first.profileId), mergedId: String(second.profileId) };
}

/**
 * The state a writer leaves for a moment (or until the event's redelivery, if it crashed) when the
 * survivor it chose was dropped by its creator: the redirect stands and the merged profile's pointers
 * still lead to it, but the survivor does not exist yet.
 */
export async function leaveMergeInProgress(store: ProfileStore, { survivorId, mergedId }: MergedPair) {
  await store.repointPointer(identityKey(MERGED_PHONE), survivorId, mergedId);
  if (!(await store.deleteProfile(survivorId))) throw new Error(`survivor ${survivorId} was not there`);
}

/** The next write for the merged person: it walks the redirect, creates the survivor again and completes the merge. */
export async function writeForMergedPerson(writer: ProfileWriter) {
  await writer.apply(upsert('square', '2025-01-04T00:00:00.000Z', [MERGED_PHONE], { firstName: 'A' }));
}
