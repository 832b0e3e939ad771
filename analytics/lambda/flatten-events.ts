/**
 * Firehose transformation (AWS): each canonical event the bus rule sends to the analytics stream
 * becomes one `events` row as a JSON line, by the same `flattenEvent` the local export uses. A record
 * that is not a canonical envelope is marked `ProcessingFailed`, so Firehose keeps it under the
 * bucket's `errors/` prefix instead of dropping it.
 */
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { logger } from '../../core/observability.ts';
import { type BusEvent, flattenEvent, toJsonLine, UnreadableEventError } from '../flatten.ts';

export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  let failed = 0;
  const records = event.records.map((record) => {
    try {
      const busEvent = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as BusEvent;
      const row = flattenEvent(busEvent, record.approximateArrivalTimestamp);
      return {
        recordId: record.recordId,
        result: 'Ok' as const,
        data: Buffer.from(toJsonLine(row), 'utf8').toString('base64'),
      };
    } catch (error) {
      if (!(error instanceof UnreadableEventError || error instanceof SyntaxError)) throw error;
      failed++;
      // An envelope error names the event id and type only; a JSON error would quote the content.
      const reason = error instanceof UnreadableEventError ? error.message : 'not JSON';
      logger.warn('record is not a canonical event', { recordId: record.recordId, reason });
      return { recordId: record.recordId, result: 'ProcessingFailed' as const, data: record.data };
    }
  });
  if (failed > 0) logger.warn('records left for the error prefix', { failed, total: records.length });
  return { records };
};
