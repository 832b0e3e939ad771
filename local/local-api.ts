/**
 * The hub's own `/local/*` routes, for developers (loopback listener only): the bus archive
 * (`GET /local/events`) and what sync destinations without credentials would have sent
 * (`GET /local/outbox/<destination>`).
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { EventArchive } from './eventbridge/archive.ts';
import { writeError, writeJson } from './json-response.ts';

const EVENTS_DEFAULT_LIMIT = 100;
const EVENTS_MAX_LIMIT = 1000;

/** What a sync destination without credentials would have sent, oldest first. */
export async function serveOutbox(
  outboxDir: string | undefined,
  destination: string,
  response: ServerResponse,
): Promise<void> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(destination)) {
    writeError(
      response,
      400,
      'bad_request',
      'The destination is a connector id, e.g. /local/outbox/hubspot.',
    );
    return;
  }
  let text = '';
  try {
    if (outboxDir) text = await readFile(join(outboxDir, `${destination}.jsonl`), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const requests = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
  writeJson(response, 200, { destination, count: requests.length, requests });
}

/** The archived events, filtered by `type`, `since` and `limit`. */
export function serveEventsQuery(
  archive: EventArchive,
  rawQueryString: string,
  response: ServerResponse,
): void {
  const parameters = new URLSearchParams(rawQueryString);
  const unknown = [...parameters.keys()].filter((name) => !['type', 'since', 'limit'].includes(name));
  if (unknown.length > 0) {
    writeError(response, 400, 'bad_request', `Unknown parameter ${unknown[0]}; use type, since, limit.`);
    return;
  }
  const type = parameters.get('type') ?? undefined;
  const sinceText = parameters.get('since');
  const since = sinceText === null ? undefined : Date.parse(sinceText);
  if (since !== undefined && (Number.isNaN(since) || !/^\d{4}-\d{2}-\d{2}T/.test(sinceText ?? ''))) {
    writeError(
      response,
      400,
      'bad_request',
      'since must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z.',
    );
    return;
  }
  const limitText = parameters.get('limit');
  const limit = limitText === null ? EVENTS_DEFAULT_LIMIT : Number(limitText);
  if (
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > EVENTS_MAX_LIMIT ||
    !/^\d+$/.test(limitText ?? '100')
  ) {
    writeError(response, 400, 'bad_request', `limit must be an integer from 1 to ${EVENTS_MAX_LIMIT}.`);
    return;
  }
  const { events, truncated } = archive.query({ detailType: type, since, limit });
  writeJson(response, 200, { events, count: events.length, truncated });
}
