import { ingestHandler } from '../../core/ingest/handler.ts';
import connector from './index.ts';
export const handler = ingestHandler(connector);
