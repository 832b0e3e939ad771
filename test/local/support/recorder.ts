/** Reads what the recorder consumer fixture wrote. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';

export interface RecordedDelivery {
  readonly record: SQSRecord;
  readonly remainingMs: number;
}

/** The records a consumer (by function name, i.e. consumer id) received so far, in order. */
export function recordedDeliveries(directory: string, consumerId: string): RecordedDelivery[] {
  const file = join(directory, `${consumerId}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedDelivery);
}
