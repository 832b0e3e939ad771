/**
 * The Lambda entry of Square's sync consumer (`sync-square`, see core/sync/consumer.ts): keeps Square
 * in step with the unified profile. It imports the outbound part alone, not the definition in
 * `index.ts`, so the inbound schemas and translators stay out of this bundle.
 */
import { syncHandler } from '../../core/sync/consumer.ts';
import { squareOutbound } from './outbound.ts';

export const handler = syncHandler('square', squareOutbound);
