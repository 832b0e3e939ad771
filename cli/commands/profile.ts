/**
 * `omnihub profile get --email x | --phone x | --external system:id | --id x [--json]` and
 * `omnihub profile events <profileId> [--limit n] [--all] [--json]`: the unified profile as support
 * staff read it, from the local hub or the deployed API (see cli/hub-client.ts).
 */
import { parseArgs } from 'node:util';
import type { ProfileView } from '../../core/profile/reader.ts';
import type { TimelineEntry } from '../../core/profile/store.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { formatMoney, indent, renderTable } from '../format.ts';
import { API_HELP, API_OPTIONS, apiUrl, HubApiError, HubClient } from '../hub-client.ts';

const USAGE = `Usage:
  omnihub profile get (--email <email> | --phone <phone> | --external <system:id> | --id <profileId>) [--json]
  omnihub profile events <profileId> [--limit <n>] [--all] [--json]
  omnihub profile erase <profileId> --yes [--json]

Options:
  --api <url>   ${API_HELP};
                anything but a loopback address is called with SigV4 (IAM) using your AWS credentials
  --json        print the API's JSON instead of tables
  --limit <n>   events per page (1-100, default 20)
  --all         follow the cursor to the end of the timeline
  --yes         confirm an erasure (the profile, the profiles merged into it, their identities and
                timeline are deleted; profile.erased is announced to the sync destinations)

Examples:
  npx omnihub profile get --email ada@example.com
  npx omnihub profile get --external shopify:706405506930370084 --json
  npx omnihub profile events p_0123456789abcdef0123456789 --all`;

interface EventsPage {
  readonly profileId: string;
  readonly events: readonly TimelineEntry[];
  readonly nextCursor?: string;
}

function clientFor(values: { readonly api?: string; readonly hub?: string }, io: CliIo): HubClient {
  return new HubClient({ baseUrl: apiUrl(values, io) });
}

export function describeProfile(profile: ProfileView): string {
  const sections: string[] = [];
  sections.push(
    `Profile ${profile.profileId}  (created ${profile.createdAt}, updated ${profile.updatedAt})` +
      (profile.mergedFrom.length > 0 ? `\n  merged from ${profile.mergedFrom.join(', ')}` : ''),
  );
  sections.push(
    `Identities\n${indent(
      renderTable(
        profile.identities.map((identity) => [
          identity.type === 'external' ? identity.system : identity.type,
          identity.value,
        ]),
      ),
    )}`,
  );
  const traits = Object.entries(profile.traits);
  if (traits.length > 0) {
    sections.push(
      `Traits\n${indent(
        renderTable(
          traits.map(([name, value]) => [
            name,
            typeof value === 'string' ? value : JSON.stringify(value),
            profile.traitSources[name]?.source ?? '',
            profile.traitSources[name]?.at ?? '',
          ]),
          ['trait', 'value', 'source', 'as of'],
        ),
      )}`,
    );
  }
  sections.push(
    `Consent\n${indent(
      renderTable(
        Object.entries(profile.consent).map(([channel, consent]) => [
          channel,
          consent.status,
          consent.reason ?? '',
          consent.source ?? '',
          consent.at ?? '',
        ]),
        ['channel', 'status', 'reason', 'source', 'as of'],
      ),
    )}`,
  );
  const { stats } = profile;
  const value = Object.entries(stats.lifetimeValue)
    .map(([currency, amount]) => formatMoney(amount, currency))
    .join(', ');
  sections.push(
    `Stats\n${indent(
      renderTable([
        ['orders', String(stats.orderCount)],
        ['lifetime value', value || '-'],
        ['first order', stats.firstOrderAt ?? '-'],
        ['last order', stats.lastOrderAt ?? '-'],
        ['channels', stats.channels.join(', ') || '-'],
        ...(profile.loyalty
          ? [['loyalty', `${profile.loyalty.balance} points (account ${profile.loyalty.accountId})`]]
          : []),
      ]),
    )}`,
  );
  if (profile.mergeHistory.length > 0) {
    sections.push(
      `Merges\n${indent(
        renderTable(
          profile.mergeHistory.map((merge) => [merge.merged, merge.identity, merge.eventId, merge.at]),
          ['merged profile', 'linked by', 'event', 'at'],
        ),
      )}`,
    );
  }
  return sections.join('\n\n');
}

function describeEvents(entries: readonly TimelineEntry[]): string {
  if (entries.length === 0) return '(no events)';
  return renderTable(
    entries.map((entry) => [entry.occurredAt, entry.type, entry.connector, entry.eventId]),
    ['occurred at', 'type', 'connector', 'event id'],
  );
}

async function get(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      email: { type: 'string' },
      phone: { type: 'string' },
      external: { type: 'string' },
      id: { type: 'string' },
      ...API_OPTIONS,
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const selectors = (['email', 'phone', 'external', 'id'] as const).filter(
    (name) => values[name] !== undefined,
  );
  if (selectors.length !== 1) throw new UsageError('give exactly one of --email, --phone, --external, --id');
  const selector = selectors[0] as 'email' | 'phone' | 'external' | 'id';
  const client = clientFor(values, io);
  const profile =
    selector === 'id'
      ? await client.request<ProfileView>('GET', `/profiles/${encodeURIComponent(values.id ?? '')}`)
      : await client.request<ProfileView>('GET', '/profiles', { [selector]: values[selector] ?? '' });
  io.out(values.json ? JSON.stringify(profile, null, 2) : describeProfile(profile));
  return 0;
}

async function events(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...API_OPTIONS,
      limit: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('give one profile id');
  const client = clientFor(values, io);
  const path = `/profiles/${encodeURIComponent(positionals[0] ?? '')}/events`;
  const collected: TimelineEntry[] = [];
  let page: EventsPage | undefined;
  do {
    const query: Record<string, string> = {};
    if (values.limit !== undefined) query.limit = values.limit;
    if (page?.nextCursor) query.cursor = page.nextCursor;
    page = await client.request<EventsPage>('GET', path, query);
    collected.push(...page.events);
  } while (values.all && page.nextCursor);
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          profileId: page.profileId,
          events: collected,
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`Timeline of ${page.profileId}, newest first\n${describeEvents(collected)}`);
    if (page.nextCursor) io.out(`(more: add --all, or --limit up to 100)`);
  }
  return 0;
}

async function erase(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...API_OPTIONS,
      yes: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('give one profile id');
  if (!values.yes) throw new UsageError('erasure cannot be undone: add --yes to confirm');
  const client = clientFor(values, io);
  const result = await client.request<{
    profileId: string;
    erased: { identities: number; timelineEntries: number };
  }>('DELETE', `/profiles/${encodeURIComponent(positionals[0] ?? '')}`);
  io.out(
    values.json
      ? JSON.stringify(result, null, 2)
      : `Erased ${result.profileId}: ${result.erased.identities} identities, ${result.erased.timelineEntries} timeline entries.`,
  );
  return 0;
}

export const profileCommand: CliCommand = {
  name: 'profile',
  summary: 'Show a unified profile (by email, phone, external id or id), its timeline, or erase it',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    try {
      if (sub === 'get') return await get(rest, io);
      if (sub === 'events') return await events(rest, io);
      if (sub === 'erase') return await erase(rest, io);
    } catch (error) {
      if (error instanceof HubApiError && error.status < 500) {
        io.err(`omnihub profile: ${error.code}: ${error.message}`);
        return 1;
      }
      throw asUsageError(error);
    }
    throw new UsageError(
      sub === undefined ? 'give a subcommand: get, events or erase' : `unknown subcommand ${sub}`,
    );
  },
};
