/** Consumer: keeps square in step with the unified profile (see core/sync/consumer.ts). */
import { squareOutbound } from '../connectors/square/outbound.ts';
import { syncHandler } from '../core/sync/consumer.ts';

export const handler = syncHandler('square', squareOutbound);
