/**
 * Where `omnihub retranslate` reads archived deliveries: the local hub's `GET /local/raw`, or the
 * deployment's raw archive bucket (the GZIPped objects Firehose wrote under
 * `raw/<connector>/yyyy/MM/dd/HH/`), with the SDK's S3 client. Both read the hours from `from`'s to
 * the one after `to`'s (Firehose partitions by arrival, which may be just after the hour turned) and
 * keep the deliveries received in [from, to).
 */
import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type RawDelivery, readRawDeliveries } from '../core/ingest/raw-archive.ts';
import { UsageError } from './command.ts';
import type { ProgressBar } from './format.ts';

const HOUR_MS = 3_600_000;

export interface RawWindow {
  readonly from: Date;
  readonly to: Date;
  /** All connectors when absent. */
  readonly connectors: readonly string[];
}

/** The archived deliveries in the window, from the local hub. */
export async function localRawDeliveries(api: string, window: RawWindow): Promise<RawDelivery[]> {
  const url = new URL('/local/raw', api);
  url.searchParams.set('from', window.from.toISOString());
  url.searchParams.set('to', window.to.toISOString());
  if (window.connectors.length === 1) url.searchParams.set('connector', window.connectors[0] ?? '');
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname} answered ${response.status}: ${await response.text()}`);
  return readRawDeliveries((await response.text()).split('\n'), {
    from: window.from,
    to: window.to,
    onUnreadable: () => undefined,
  }).filter((delivery) => window.connectors.includes(delivery.connector));
}

/** `yyyy/MM/dd/HH/` of an instant, in UTC, as the streams' S3 prefix writes it. */
function hourPrefix(at: number): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
}

/** The raw archive bucket of stack `Omnihub-<stage>` (CloudFormation lower-cases the stack name in it). */
export async function awsRawBucket(s3: S3Client, stage: string): Promise<string> {
  const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
  const pattern = new RegExp(`^omnihub-${stage.toLowerCase()}-\\w*rawarchivebucket`);
  const found = buckets.map((bucket) => bucket.Name ?? '').filter((name) => pattern.test(name));
  if (found.length !== 1) {
    throw new UsageError(
      `${found.length === 0 ? 'no' : 'more than one'} raw archive bucket of stack Omnihub-${stage}; name it with --bucket (stack output RawArchiveBucketName)`,
    );
  }
  return found[0] as string;
}

/** The archived deliveries in the window, from the deployment's bucket. */
export async function awsRawDeliveries(
  s3: S3Client,
  bucket: string,
  window: RawWindow,
  progress: ProgressBar,
): Promise<RawDelivery[]> {
  const first = window.from.getTime() - (window.from.getTime() % HOUR_MS);
  const last = window.to.getTime() - (window.to.getTime() % HOUR_MS) + HOUR_MS;
  const prefixes = window.connectors.flatMap((connector) => {
    const hours: string[] = [];
    for (let hour = first; hour <= last; hour += HOUR_MS) hours.push(`raw/${connector}/${hourPrefix(hour)}`);
    return hours;
  });
  const lines: string[] = [];
  let done = 0;
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))).Body;
        if (!body) continue;
        const bytes = Buffer.from(await body.transformToByteArray());
        lines.push(...gunzipSync(bytes).toString('utf8').split('\n'));
      }
      token = page.NextContinuationToken;
    } while (token);
    done += 1;
    progress.update('reading the raw archive', { done, total: prefixes.length, detail: prefix });
  }
  progress.clear();
  return readRawDeliveries(lines, { from: window.from, to: window.to, onUnreadable: () => undefined });
}
