/**
 * The profile API, for apps and support staff (API Gateway HTTP API payload 2.0, IAM-authorized in
 * AWS; the local hub serves the same routes):
 *
 * - `GET /profiles/{profileId}`: the profile, following merge redirects (answers with the survivor).
 * - `GET /profiles?email=` | `?phone=` | `?external=system:id`: the profile that owns the identity.
 * - `GET /profiles/{profileId}/events?limit=&cursor=`: the timeline, newest first, cursor-paginated.
 * - `DELETE /profiles/{profileId}`: erasure (profile, merged profiles, identities, timeline);
 *   emits `profile.erased`.
 *
 * Errors are `{ "error", "message" }`: 400 for a malformed id, query or cursor, 404
 * `profile_not_found`, 405 for a route this function does not serve.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ClientError, NotFoundError, ValidationError } from '../errors.ts';
import { errorResponse, type JsonResponse, json } from '../http.ts';
import { type Identity, normalizeEmail, normalizePhone } from '../identity/identity.ts';
import { type ProfileReader, type TimelineCursor, toProfileView } from './reader.ts';
import type { ProfileWriter } from './writer.ts';

/**
 * Which of the API's two deployments serves a route: `read` has read-only access to the profiles, so
 * a reader can never erase; `erasure` may write and publish `profile.erased`.
 */
export type ProfileApiFunction = 'read' | 'erasure';

/** A route of the profile API, in API Gateway route-key parts (`{name}` path parameters). */
export interface ProfileRoute {
  readonly method: 'GET' | 'DELETE';
  readonly path: string;
  readonly servedBy: ProfileApiFunction;
}

/**
 * The profile API's routes, declared once: the topology deploys them (`lib/topology.ts`, one function
 * per {@link ProfileApiFunction}) and the handler dispatches on them.
 *
 * @example
 * Object.values(PROFILE_API).filter((route) => route.servedBy === 'read'); // the GET routes
 */
export const PROFILE_API = {
  find: { method: 'GET', path: '/profiles', servedBy: 'read' },
  get: { method: 'GET', path: '/profiles/{profileId}', servedBy: 'read' },
  events: { method: 'GET', path: '/profiles/{profileId}/events', servedBy: 'read' },
  erase: { method: 'DELETE', path: '/profiles/{profileId}', servedBy: 'erasure' },
} as const satisfies Readonly<Record<string, ProfileRoute>>;

/** `METHOD /path`, as API Gateway puts it in `event.routeKey`. */
export function routeKeyOf(route: { readonly method: string; readonly path: string }): string {
  return `${route.method} ${route.path}`;
}

/** The route keys of {@link PROFILE_API} (`PROFILE_ROUTES.get` is `'GET /profiles/{profileId}'`). */
export const PROFILE_ROUTES = Object.fromEntries(
  Object.entries(PROFILE_API).map(([name, route]) => [name, routeKeyOf(route)]),
) as { readonly [Name in keyof typeof PROFILE_API]: string };

export const DEFAULT_EVENTS_LIMIT = 20;
export const MAX_EVENTS_LIMIT = 100;

const PROFILE_ID = /^p_[0-9a-f]{26}$/;
const SYSTEM = /^[a-z][a-z0-9-]{0,31}$/;

export interface ProfileApiDependencies {
  readonly reader: ProfileReader;
  /** Needed for erasure only; the read-only function is built without it. */
  readonly writer?: ProfileWriter;
}

function profileIdOf(event: APIGatewayProxyEventV2): string {
  const id = event.pathParameters?.profileId ?? '';
  if (!PROFILE_ID.test(id)) {
    throw new ValidationError(
      `${JSON.stringify(id.slice(0, 64))} is not a profile id (p_ + 26 hex digits)`,
      'invalid_profile_id',
    );
  }
  return id;
}

function queryOf(event: APIGatewayProxyEventV2, allowed: readonly string[]): Record<string, string> {
  const query = event.queryStringParameters ?? {};
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) {
      throw new ValidationError(
        `unknown query parameter ${JSON.stringify(name)}; use ${allowed.join(', ')}`,
        'invalid_query',
      );
    }
  }
  return query as Record<string, string>;
}

/** The identity a `GET /profiles?...` names: exactly one of email, phone, external. */
export function identityOfQuery(query: Readonly<Record<string, string>>): Identity {
  const given = (['email', 'phone', 'external'] as const).filter((name) => query[name] !== undefined);
  if (given.length !== 1) {
    throw new ValidationError('give exactly one of email, phone or external (system:id)', 'invalid_query');
  }
  const name = given[0] as 'email' | 'phone' | 'external';
  const raw = query[name] ?? '';
  if (name === 'email') {
    const value = normalizeEmail(raw);
    if (!value) throw new ValidationError('email is not an email address', 'invalid_query');
    return { type: 'email', value };
  }
  if (name === 'phone') {
    const value = normalizePhone(raw);
    if (!value) {
      throw new ValidationError(
        'phone is not a valid phone number (use E.164, e.g. +14155550123, or a number of OMNIHUB_DEFAULT_REGION)',
        'invalid_query',
      );
    }
    return { type: 'phone', value };
  }
  const separator = raw.indexOf(':');
  const system = separator > 0 ? raw.slice(0, separator) : '';
  const value = raw.slice(separator + 1).trim();
  if (!SYSTEM.test(system) || value === '' || separator === -1) {
    throw new ValidationError('external must be system:id, e.g. shopify:706405506930370084', 'invalid_query');
  }
  return { type: 'external', system, value };
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_EVENTS_LIMIT;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_EVENTS_LIMIT)) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_EVENTS_LIMIT}`, 'invalid_query');
  }
  return limit;
}

export function encodeCursor(cursor: TimelineCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): TimelineCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.entries(parsed).every(
      ([key, value]) => PROFILE_ID.test(key) && typeof value === 'string' && value.length <= 512,
    );
  if (!valid) throw new ValidationError('cursor is not one this API returned', 'invalid_cursor');
  return parsed as TimelineCursor;
}

function notFound(what: string): NotFoundError {
  return new NotFoundError('profile_not_found', `no profile ${what}`);
}

async function route(event: APIGatewayProxyEventV2, deps: ProfileApiDependencies): Promise<JsonResponse> {
  switch (event.routeKey) {
    case PROFILE_ROUTES.find: {
      const identity = identityOfQuery(queryOf(event, ['email', 'phone', 'external']));
      const profile = await deps.reader.findByIdentity(identity);
      if (!profile) throw notFound(`has this ${identity.type}`);
      return json(200, toProfileView(profile));
    }
    case PROFILE_ROUTES.get: {
      const id = profileIdOf(event);
      queryOf(event, []);
      const profile = await deps.reader.get(id);
      if (!profile) throw notFound(`with id ${id}`);
      return json(200, toProfileView(profile));
    }
    case PROFILE_ROUTES.events: {
      const id = profileIdOf(event);
      const query = queryOf(event, ['limit', 'cursor']);
      const limit = limitOf(query.limit);
      const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const profile = await deps.reader.get(id);
      if (!profile) throw notFound(`with id ${id}`);
      const page = await deps.reader.timeline(profile, { limit, ...(cursor ? { cursor } : {}) });
      return json(200, {
        profileId: profile.profileId,
        events: page.entries,
        ...(page.cursor ? { nextCursor: encodeCursor(page.cursor) } : {}),
      });
    }
    case PROFILE_ROUTES.erase: {
      const id = profileIdOf(event);
      queryOf(event, []);
      if (!deps.writer)
        throw new ClientError(405, 'method_not_allowed', 'this function does not erase profiles');
      const erased = await deps.writer.erase(id, { correlationId: event.requestContext.requestId });
      if (!erased) throw notFound(`with id ${id}`);
      return json(200, {
        profileId: erased.profileId,
        erased: { identities: erased.identities, timelineEntries: erased.timeline },
      });
    }
    default:
      throw new ClientError(404, 'not_found', `no route ${event.routeKey}`);
  }
}

/** Answers one API request; never throws. */
export async function handleProfileRequest(
  event: APIGatewayProxyEventV2,
  deps: ProfileApiDependencies,
): Promise<JsonResponse> {
  try {
    return await route(event, deps);
  } catch (error) {
    return errorResponse(error);
  }
}
