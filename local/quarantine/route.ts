/**
 * `GET /local/quarantine[?connector=<id>]`: the quarantined deliveries (`core/ingest/quarantine.ts`)
 * as a JSON array of `{connector, deliveryId, topic, reason, receivedAt}`, oldest first, read from the
 * quarantine table in dynalite. `npx omnihub quarantine list` prints the same.
 */
import type { ServerResponse } from 'node:http';
import { itemOf, type QuarantineReader } from '../../core/ingest/quarantine.ts';
import type { LocalRead } from '../http-server.ts';

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Lists what `reader` holds, optionally for one connector. */
export function quarantineRead(reader: QuarantineReader): LocalRead {
  return async (rawQueryString, response) => {
    const parameters = new URLSearchParams(rawQueryString);
    const unknown = [...parameters.keys()].find((name) => name !== 'connector');
    const connector = parameters.get('connector') ?? undefined;
    if (unknown !== undefined || (connector !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(connector))) {
      answer(response, 400, {
        error: 'bad_request',
        message: 'The only parameter is connector, a connector id: /local/quarantine?connector=sendgrid.',
      });
      return;
    }
    const records = await reader.list(connector === undefined ? {} : { connector });
    answer(response, 200, records.map(itemOf));
  };
}
