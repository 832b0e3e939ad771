/**
 * Reading the demo's profiles back and showing them: through the hub's profile API when it serves
 * `/profiles`, else straight from the profile table with `ProfileReader` (the API's own read path).
 */
import { formatMoney, renderTable } from '../cli/format.ts';
import { HubApiError, HubClient } from '../cli/hub-client.ts';
import { DynamoDocumentClient } from '../core/aws/dynamodb.ts';
import { type Identity, identityKey } from '../core/identity/identity.ts';
import {
  ProfileReader,
  type ProfileView,
  type TimelineCursor,
  toProfileView,
} from '../core/profile/reader.ts';
import { ProfileStore, type TimelineEntry } from '../core/profile/store.ts';
import { profileTable } from '../core/tables.ts';
import type { PersonTruth } from './truth.ts';

export interface ProfileLookup {
  /** How profiles are read, for the output. */
  readonly via: string;
  find(identity: Identity): Promise<ProfileView | undefined>;
  /** The whole timeline of a profile, newest first, read page by page. */
  timeline(profileId: string, pageSize?: number): Promise<TimelineEntry[]>;
}

/** The query of `GET /profiles` for an identity. */
export function profileQuery(identity: Identity): Record<string, string> {
  if (identity.type === 'external') return { external: `${identity.system}:${identity.value}` };
  return { [identity.type]: identity.value };
}

/** Through `GET /profiles?email=|phone=|external=`. */
export function apiLookup(client: HubClient): ProfileLookup {
  return {
    via: `${client.baseUrl.origin}/profiles`,
    async find(identity) {
      try {
        return await client.request<ProfileView>('GET', '/profiles', profileQuery(identity));
      } catch (error) {
        if (error instanceof HubApiError && error.code === 'profile_not_found') return undefined;
        throw error;
      }
    },
    async timeline(profileId, pageSize = 10) {
      const entries: TimelineEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.request<{ events: TimelineEntry[]; nextCursor?: string }>(
          'GET',
          `/profiles/${encodeURIComponent(profileId)}/events`,
          { limit: String(pageSize), ...(cursor ? { cursor } : {}) },
        );
        entries.push(...page.events);
        cursor = page.nextCursor;
      } while (cursor);
      return entries;
    },
  };
}

/** Straight from the profile table (a local hub's dynalite). */
export function storeLookup(dynamoDbUrl: string, region = 'us-east-1'): ProfileLookup {
  const client = new DynamoDocumentClient({
    env: { AWS_REGION: region, AWS_ENDPOINT_URL_DYNAMODB: dynamoDbUrl },
    credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
  });
  const reader = new ProfileReader(new ProfileStore({ tableName: profileTable.id, client }));
  return {
    via: `the profile table at ${dynamoDbUrl}`,
    async find(identity) {
      const item = await reader.findByIdentity(identity);
      return item ? toProfileView(item) : undefined;
    },
    async timeline(profileId, pageSize = 10) {
      const profile = await reader.get(profileId);
      if (!profile) return [];
      const entries: TimelineEntry[] = [];
      let cursor: TimelineCursor | undefined;
      do {
        const page = await reader.timeline(profile, { limit: pageSize, ...(cursor ? { cursor } : {}) });
        entries.push(...page.entries);
        cursor = page.cursor;
      } while (cursor);
      return entries;
    },
  };
}

/** The API when the hub serves `/profiles` (a 404 `not_found` means no such route), else the table. */
export async function chooseLookup(hubUrl: string, dynamoDbUrl: string | undefined): Promise<ProfileLookup> {
  const client = new HubClient({ baseUrl: hubUrl });
  try {
    await client.request('GET', '/profiles', { email: 'nobody@example.invalid' });
    return apiLookup(client);
  } catch (error) {
    const routeMissing = error instanceof HubApiError && error.status === 404 && error.code === 'not_found';
    if (error instanceof HubApiError && !routeMissing) return apiLookup(client);
    if (dynamoDbUrl) return storeLookup(dynamoDbUrl);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparing with the truth

/** What differs between a profile and the person's truth (empty when they agree). */
export function differences(view: ProfileView | undefined, truth: PersonTruth): string[] {
  if (!view) return [`no profile for ${identityKey(truth.lookup)}`];
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const keys = (identities: readonly Identity[]) => identities.map(identityKey).sort();
  if (!same(keys(view.identities), keys(truth.identities)))
    out.push(`identities ${keys(view.identities).join(', ')} ≠ ${keys(truth.identities).join(', ')}`);
  for (const channel of ['email', 'sms'] as const) {
    const got = view.consent[channel];
    const want = truth.consent[channel];
    if (got.status !== want.status || (want.source && got.source !== want.source))
      out.push(`consent.${channel} ${got.status} (${got.source}) ≠ ${want.status} (${want.source})`);
  }
  const sortedValue = (value: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
  if (view.stats.orderCount !== truth.stats.orderCount)
    out.push(`orderCount ${view.stats.orderCount} ≠ ${truth.stats.orderCount}`);
  if (!same(sortedValue(view.stats.lifetimeValue), sortedValue(truth.stats.lifetimeValue)))
    out.push(
      `lifetimeValue ${formatValue(view.stats.lifetimeValue)} ≠ ${formatValue(truth.stats.lifetimeValue)}`,
    );
  if (!same([...view.stats.channels].sort(), [...truth.stats.channels].sort()))
    out.push(`channels ${view.stats.channels.join(', ')} ≠ ${truth.stats.channels.join(', ')}`);
  if (view.mergedFrom.length !== truth.merges.length)
    out.push(`${view.mergedFrom.length} merged profiles ≠ ${truth.merges.length}`);
  for (const [name, value] of Object.entries(truth.traits)) {
    if (!same(view.traits[name], value))
      out.push(`${name} ${JSON.stringify(view.traits[name])} ≠ ${JSON.stringify(value)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Rendering

export function formatValue(value: Readonly<Record<string, number>>): string {
  const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0
    ? '—'
    : entries.map(([currency, amount]) => formatMoney(amount, currency)).join(' + ');
}

/** `2025-06-07 22:41 UTC`. */
function formatTime(at: string | undefined): string {
  return at ? `${at.slice(0, 10)} ${at.slice(11, 16)} UTC` : '';
}

function formatIdentity(identity: Identity): string {
  return identity.type === 'external'
    ? `${identity.system} ${identity.value}`
    : `${identity.type} ${identity.value}`;
}

/** One row per person: the overview. */
export function summaryTable(
  entries: ReadonlyArray<{ name: string; view: ProfileView | undefined }>,
): string {
  return renderTable(
    [
      ...entries.map(({ name, view }) =>
        view
          ? [
              name,
              view.profileId,
              String(view.identities.length),
              String(view.stats.orderCount),
              formatValue(view.stats.lifetimeValue),
              view.consent.email.status,
              view.consent.sms.status,
              String(view.mergedFrom.length),
              view.stats.channels.join(' '),
            ]
          : [name, '(not found)', '', '', '', '', '', '', ''],
      ),
    ],
    ['person', 'profile', 'ids', 'orders', 'lifetime value', 'email', 'sms', 'merged', 'channels'],
  );
}

/** A person's profile in detail. */
export function profileDetails(name: string, view: ProfileView): string {
  const consent = (channel: 'email' | 'sms') => {
    const entry = view.consent[channel];
    const detail = [entry.source, entry.reason, formatTime(entry.at)].filter(Boolean).join(', ');
    return `${entry.status}${detail ? ` (${detail})` : ''}`;
  };
  const traits = Object.entries(view.traits)
    .filter(
      ([name, value]) =>
        name !== 'email' && name !== 'phone' && !(Array.isArray(value) && value.length === 0),
    )
    .map(
      ([trait, value]) =>
        `${trait}=${Array.isArray(value) ? value.join('|') : String(value)} (${view.traitSources[trait]?.source})`,
    );
  const rows: [string, string][] = [
    ['identities', view.identities.map(formatIdentity).join(' · ')],
    ['traits', traits.join(' · ')],
    ['email consent', consent('email')],
    ['sms consent', consent('sms')],
    [
      'orders',
      `${view.stats.orderCount}, lifetime value ${formatValue(view.stats.lifetimeValue)}` +
        (view.stats.firstOrderAt
          ? `, first ${formatTime(view.stats.firstOrderAt)}, last ${formatTime(view.stats.lastOrderAt)}`
          : ''),
    ],
    ['channels', view.stats.channels.join(', ')],
    ...(view.loyalty
      ? [
          ['loyalty', `${view.loyalty.balance} points (account ${view.loyalty.accountId})`] as [
            string,
            string,
          ],
        ]
      : []),
    ...view.mergeHistory.map((merge): [string, string] => [
      'merged',
      `${merge.merged} ← linked by ${merge.identity} (${formatTime(merge.at)})`,
    ]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `${name} — ${view.profileId}`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ].join('\n');
}
