/**
 * Fake Square Customers API: `POST /v2/customers` (CreateCustomer, idempotency keys honoured: the
 * same key returns the same customer) and `PUT /v2/customers/{id}` (sparse UpdateCustomer), Bearer
 * auth and the `Square-Version` header, Square's `{"errors":[{category, code, detail, field}]}` bodies.
 *
 * For tests only (this folder's `outbound.test.ts`, test/sync, test/replay): no module the hub runs
 * imports it.
 */
import {
  bearer,
  type FakeResponse,
  FakeVendor,
  type RecordedRequest,
} from '../../test/support/fake-vendor.ts';

export interface SquareCustomer {
  id: string;
  version: number;
  [field: string]: unknown;
}

const NAME_FIELDS = ['given_name', 'family_name', 'company_name', 'email_address', 'phone_number'];
const WRITABLE = new Set([...NAME_FIELDS, 'address', 'reference_id', 'note', 'nickname', 'birthday']);

function error(status: number, category: string, code: string, detail: string, field?: string): FakeResponse {
  return { status, body: { errors: [{ category, code, detail, ...(field ? { field } : {}) }] } };
}

export class FakeSquare extends FakeVendor {
  readonly customers = new Map<string, SquareCustomer>();
  readonly #idempotency = new Map<string, string>();
  #next = 1;

  constructor(readonly token: string) {
    super();
  }

  protected authenticate(request: RecordedRequest): FakeResponse | undefined {
    if (bearer(request) === this.token) return undefined;
    return error(401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED', 'This request could not be authorized.');
  }

  protected handle(request: RecordedRequest): FakeResponse {
    if (!request.headers['square-version'])
      return error(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_VALUE',
        'Square-Version header is required by this fake',
      );
    const body = (request.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(body).filter(
      (key) => !WRITABLE.has(key) && key !== 'idempotency_key' && key !== 'version',
    );
    if (unknown.length > 0)
      return error(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `Unknown field ${unknown[0]}`, unknown[0]);
    const invalid = this.#validate(body);
    if (invalid) return invalid;
    if (request.method === 'POST' && request.path === '/v2/customers') {
      if (!NAME_FIELDS.some((field) => typeof body[field] === 'string'))
        return error(
          400,
          'INVALID_REQUEST_ERROR',
          'MISSING_REQUIRED_PARAMETER',
          'At least one of given_name, family_name, company_name, email_address, or phone_number is required',
        );
      const key = typeof body.idempotency_key === 'string' ? body.idempotency_key : undefined;
      const earlier = key ? this.#idempotency.get(key) : undefined;
      if (earlier) return { status: 200, body: { customer: this.customers.get(earlier) } };
      const { idempotency_key: _key, ...fields } = body;
      const customer: SquareCustomer = {
        id: `SQ${String(this.#next++).padStart(10, '0')}`,
        version: 0,
        ...fields,
      };
      this.customers.set(customer.id, customer);
      if (key) this.#idempotency.set(key, customer.id);
      return { status: 200, body: { customer } };
    }
    const update = /^\/v2\/customers\/([^/?]+)$/.exec(request.path);
    if (request.method === 'PUT' && update) {
      const customer = this.customers.get(decodeURIComponent(update[1] ?? ''));
      if (!customer) return error(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', 'Customer not found.');
      for (const [field, value] of Object.entries(body)) {
        if (value === null) delete customer[field];
        else customer[field] = value;
      }
      customer.version++;
      return { status: 200, body: { customer } };
    }
    return error(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `No route ${request.method} ${request.path}`);
  }

  #validate(body: Record<string, unknown>): FakeResponse | undefined {
    if (typeof body.phone_number === 'string' && !/^\+?\d{9,16}$/.test(body.phone_number))
      return error(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_PHONE_NUMBER',
        'Expected phone_number to be a valid phone number',
        'phone_number',
      );
    const country = (body.address as { country?: unknown } | undefined)?.country;
    if (country !== undefined && !(typeof country === 'string' && /^[A-Z]{2}$/.test(country)))
      return error(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_ENUM_VALUE',
        'Expected address.country to be a Country',
        'address.country',
      );
    return undefined;
  }
}
