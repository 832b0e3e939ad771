/**
 * Fake SendGrid v3 API: `PUT /v3/marketing/contacts` (202 with a job id), `POST
 * /v3/asm/suppressions/global` and `POST /v3/asm/groups/{id}/suppressions` (201), Bearer auth,
 * `{"errors":[{field, message}]}` bodies and `X-RateLimit-*` headers on every answer.
 *
 * For tests only (this folder's `outbound.test.ts`, test/sync, test/replay): no module the hub runs
 * imports it.
 */
import { randomUUID } from 'node:crypto';
import {
  bearer,
  type FakeResponse,
  FakeVendor,
  type RecordedRequest,
} from '../../test/support/fake-vendor.ts';

const CONTACT_FIELDS = new Set([
  'email',
  'first_name',
  'last_name',
  'phone_number',
  'address_line_1',
  'address_line_2',
  'city',
  'state_province_region',
  'postal_code',
  'country',
  'custom_fields',
]);

function errors(status: number, message: string, field: string | null = null): FakeResponse {
  return { status, body: { errors: [{ field, message }] } };
}

export class FakeSendGrid extends FakeVendor {
  readonly contacts = new Map<string, Record<string, unknown>>();
  readonly globalSuppressions = new Set<string>();
  readonly groupSuppressions = new Map<string, Set<string>>();

  constructor(readonly apiKey: string) {
    super();
  }

  protected authenticate(request: RecordedRequest): FakeResponse | undefined {
    return bearer(request) === this.apiKey ? undefined : errors(401, 'authorization required');
  }

  protected handle(request: RecordedRequest): FakeResponse {
    const limits = {
      'x-ratelimit-limit': '600',
      'x-ratelimit-remaining': '599',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60),
    };
    const answer = this.#route(request);
    return { ...answer, headers: { ...limits, ...answer.headers } };
  }

  #route(request: RecordedRequest): FakeResponse {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (request.method === 'PUT' && request.path === '/v3/marketing/contacts') {
      const contacts = body.contacts;
      if (!Array.isArray(contacts) || contacts.length === 0)
        return errors(400, 'contacts is required', 'contacts');
      for (const contact of contacts as Record<string, unknown>[]) {
        if (typeof contact.email !== 'string') return errors(400, 'email is required', 'contacts[0].email');
        const unknown = Object.keys(contact).find((key) => !CONTACT_FIELDS.has(key));
        if (unknown) return errors(400, `unknown field ${unknown}`, `contacts[0].${unknown}`);
      }
      for (const contact of contacts as Record<string, unknown>[])
        this.contacts.set(String(contact.email), { ...this.contacts.get(String(contact.email)), ...contact });
      return { status: 202, body: { job_id: randomUUID() } };
    }
    const recipients = body.recipient_emails;
    const valid =
      Array.isArray(recipients) && recipients.length > 0 && recipients.every((e) => typeof e === 'string');
    if (request.method === 'POST' && request.path === '/v3/asm/suppressions/global') {
      if (!valid) return errors(400, 'recipient_emails is required', 'recipient_emails');
      for (const email of recipients as string[]) this.globalSuppressions.add(email);
      return { status: 201, body: { recipient_emails: recipients } };
    }
    const group = /^\/v3\/asm\/groups\/(\d+)\/suppressions$/.exec(request.path);
    if (request.method === 'POST' && group) {
      if (!valid) return errors(400, 'recipient_emails is required', 'recipient_emails');
      const set = this.groupSuppressions.get(group[1] ?? '') ?? new Set<string>();
      for (const email of recipients as string[]) set.add(email);
      this.groupSuppressions.set(group[1] ?? '', set);
      return { status: 201, body: { recipient_emails: recipients } };
    }
    return errors(404, `no route ${request.method} ${request.path}`);
  }
}
