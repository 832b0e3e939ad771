/**
 * How long what ingest keeps of a verified delivery lives: the raw archive, the quarantine, and the
 * ledger's record of what each delivery published (so `omnihub retranslate` can tell an unchanged
 * translation without publishing it). One setting, `rawRetentionDays`, read from the environment the
 * construct (prop `rawRetentionDays`) or the local hub (`OMNIHUB_RAW_RETENTION_DAYS`) sets.
 */

export const RAW_RETENTION_ENV = 'OMNIHUB_RAW_RETENTION_DAYS';

/** Days a verified delivery is kept, raw and (when quarantined) in the quarantine. */
export const DEFAULT_RAW_RETENTION_DAYS = 30;

/**
 * `OMNIHUB_RAW_RETENTION_DAYS`, else the default. A value that is not a whole number of days, 1 or
 * more, is an error: the construct checks it at synth time, so only a hand-set variable gets here.
 *
 * @example
 * rawRetentionDays({ OMNIHUB_RAW_RETENTION_DAYS: '7' }); // 7
 */
export function rawRetentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[RAW_RETENTION_ENV];
  if (text === undefined || text === '') return DEFAULT_RAW_RETENTION_DAYS;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(`${RAW_RETENTION_ENV} must be a whole number of days, 1 or more, got '${text}'`);
  }
  return days;
}
