/**
 * The Lambda entry of SendGrid's sync consumer (`sync-sendgrid`, see core/sync/consumer.ts): keeps SendGrid
 * in step with the unified profile. It imports the outbound part alone, not the definition in
 * `index.ts`, so the inbound schemas and translators stay out of this bundle.
 */
import { syncHandler } from '../../core/sync/consumer.ts';
import { sendgridOutbound } from './outbound.ts';

export const handler = syncHandler('sendgrid', sendgridOutbound);
