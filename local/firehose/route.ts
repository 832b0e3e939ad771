/**
 * `GET /local/raw?from=<iso>&to=<iso>[&connector=<id>]`: the raw archive's records (newline-delimited
 * JSON, `core/ingest/raw-archive.ts`) of the hour partitions from `from`'s hour to the hour after
 * `to`'s, for `omnihub retranslate`; the reader keeps the deliveries received in [from, to).
 */
import type { ServerResponse } from 'node:http';
import type { LocalRead } from '../http-server.ts';
import type { LocalRawStore } from './raw-store.ts';

const PARAMETERS = ['connector', 'from', 'to'];

function refuse(response: ServerResponse, message: string): void {
  const text = JSON.stringify({ error: 'bad_request', message });
  response.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function instant(text: string | null): number | undefined {
  if (text === null || !/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

export function rawRead(store: LocalRawStore): LocalRead {
  return async (rawQueryString, response) => {
    const parameters = new URLSearchParams(rawQueryString);
    const unknown = [...parameters.keys()].find((name) => !PARAMETERS.includes(name));
    if (unknown !== undefined)
      return refuse(response, `Unknown parameter ${unknown}; use from, to, connector.`);
    const from = instant(parameters.get('from'));
    const to = instant(parameters.get('to'));
    if (from === undefined || to === undefined || from >= to) {
      return refuse(
        response,
        'from and to are ISO 8601 date-times, from before to: ?from=2025-06-01T00:00:00Z&to=...',
      );
    }
    const connector = parameters.get('connector') ?? undefined;
    if (connector !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(connector)) {
      return refuse(response, 'connector is a connector id, e.g. shopify.');
    }
    const chunks = store.read({ from, to, ...(connector === undefined ? {} : { connector }) });
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': length });
    for (const chunk of chunks) response.write(chunk);
    response.end();
  };
}
