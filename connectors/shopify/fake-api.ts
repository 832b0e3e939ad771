/**
 * Fake Shopify Admin GraphQL API (`POST /admin/api/<version>/graphql.json`): the `customerSet` upsert
 * (by id, email or phone) and the two marketing-consent mutations, `X-Shopify-Access-Token` auth,
 * `userErrors` for invalid input, and the cost extension (`throttleStatus`) on every answer.
 *
 * For tests only (this folder's `outbound.test.ts`, test/sync, test/replay): no module the hub runs
 * imports it.
 */
import { type FakeResponse, FakeVendor, type RecordedRequest } from '../../test/support/fake-vendor.ts';

export interface ShopifyCustomer {
  id: string;
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  locale?: string;
  emailMarketingState?: string;
  smsMarketingState?: string;
}

const GID = 'gid://shopify/Customer/';
const COST = {
  requestedQueryCost: 10,
  actualQueryCost: 10,
  throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
};

export class FakeShopify extends FakeVendor {
  readonly customers = new Map<string, ShopifyCustomer>();
  #next = 7_000_000_001;

  constructor(
    readonly token: string,
    readonly apiVersion = '2025-10',
  ) {
    super();
  }

  /** The SHOPIFY_API_URL to give the hub. */
  get apiUrl(): string {
    return `${this.url}/admin/api/${this.apiVersion}`;
  }

  protected authenticate(request: RecordedRequest): FakeResponse | undefined {
    if (request.headers['x-shopify-access-token'] === this.token) return undefined;
    return {
      status: 401,
      body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
    };
  }

  protected handle(request: RecordedRequest): FakeResponse {
    if (request.method !== 'POST' || request.path !== `/admin/api/${this.apiVersion}/graphql.json`)
      return { status: 404, body: { errors: 'Not Found' } };
    const { query, variables } = (request.body ?? {}) as {
      query?: string;
      variables?: Record<string, unknown>;
    };
    const mutation = /mutation\s+\w+\([^)]*\)\s*{\s*(\w+)\(/.exec(query ?? '')?.[1];
    const vars = variables ?? {};
    const ok = (field: string, customer: ShopifyCustomer | undefined, userErrors: unknown[] = []) => ({
      status: 200,
      body: {
        data: { [field]: { customer: customer ? { id: `${GID}${customer.id}` } : null, userErrors } },
        extensions: { cost: COST },
      },
    });
    switch (mutation) {
      case 'customerSet': {
        const identifier = vars.identifier as { id?: string; email?: string; phone?: string } | undefined;
        const input = (vars.input ?? {}) as Record<string, unknown>;
        if (typeof input.email === 'string' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email))
          return ok('customerSet', undefined, [
            { code: 'INVALID', field: ['input', 'email'], message: 'Email is invalid' },
          ]);
        let customer: ShopifyCustomer | undefined;
        if (identifier?.id) {
          customer = this.customers.get(identifier.id.replace(GID, ''));
          if (!customer)
            return ok('customerSet', undefined, [
              { code: 'NOT_FOUND', field: ['identifier', 'id'], message: 'Customer does not exist' },
            ]);
        } else if (identifier?.email) {
          customer = [...this.customers.values()].find((c) => c.email === identifier.email);
        } else if (identifier?.phone) {
          customer = [...this.customers.values()].find((c) => c.phone === identifier.phone);
        }
        customer ??= { id: String(this.#next++) };
        for (const field of ['email', 'phone', 'firstName', 'lastName', 'locale'] as const)
          if (typeof input[field] === 'string') customer[field] = input[field] as string;
        this.customers.set(customer.id, customer);
        return ok('customerSet', customer);
      }
      case 'customerEmailMarketingConsentUpdate':
      case 'customerSmsMarketingConsentUpdate': {
        const input = (vars.input ?? {}) as {
          customerId?: string;
          emailMarketingConsent?: { marketingState?: string };
          smsMarketingConsent?: { marketingState?: string };
        };
        const customer = this.customers.get(String(input.customerId).replace(GID, ''));
        if (!customer)
          return ok(mutation, undefined, [
            { code: 'INVALID', field: ['customerId'], message: 'Customer not found' },
          ]);
        if (mutation === 'customerEmailMarketingConsentUpdate')
          customer.emailMarketingState = input.emailMarketingConsent?.marketingState;
        else {
          if (!customer.phone)
            return ok(mutation, undefined, [
              { code: 'MISSING_PHONE', field: ['customerId'], message: 'Customer has no phone' },
            ]);
          customer.smsMarketingState = input.smsMarketingConsent?.marketingState;
        }
        return ok(mutation, customer);
      }
      default:
        return {
          status: 200,
          body: {
            errors: [
              {
                message: `Field '${mutation ?? '?'}' doesn't exist on type 'Mutation'`,
                extensions: { code: 'undefinedField' },
              },
            ],
          },
        };
    }
  }
}
