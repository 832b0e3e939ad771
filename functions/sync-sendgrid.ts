/** Consumer: keeps sendgrid in step with the unified profile (see core/sync/consumer.ts). */
import { sendgridOutbound } from '../connectors/sendgrid/outbound.ts';
import { syncHandler } from '../core/sync/consumer.ts';

export const handler = syncHandler('sendgrid', sendgridOutbound);
