/**
 * English messages for zod issues, set once for the process.
 *
 * Schemas use `zod/mini` (classic zod binds every method onto every schema instance, which
 * cost ~25 ms of each Lambda's cold start and 96 KB of its bundle). `zod/mini` loads no locale, so
 * without this every issue would read "Invalid input", and the 4xx answers and configuration errors
 * quote issue messages. Only the English locale is imported (about 3 KB minified): `z.locales.en`
 * would pull every locale into the bundle.
 *
 * Every module that declares schemas imports this file for its effect, so a schema never parses
 * before the messages are in place, whichever module a bundle or a test loads first.
 *
 * @example
 * import * as z from 'zod/mini';
 * import '../zod-messages.ts';
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());

/**
 * Gives a schema a description for the generated JSON Schemas and docs (`npm run schemas`), in place.
 * `.check(z.describe(...))` records the same metadata but clones the schema to do it (one more schema
 * instance per described field at cold start) and keeps a no-op check that runs on every parse.
 *
 * @example
 * const Order = z.object({ orderId: described(z.string(), "The vendor's order id") });
 */
export function described<S extends z.core.$ZodType>(schema: S, description: string): S {
  z.globalRegistry.add(schema, { description });
  return schema;
}
