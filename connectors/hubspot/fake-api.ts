/**
 * Fake HubSpot CRM API: `POST /crm/v3/objects/contacts/batch/upsert` as documented (Bearer auth,
 * upsert by `email` or `hs_object_id`, 100 inputs at most, unknown properties refused with HubSpot's
 * VALIDATION_ERROR body, 100 requests per 10 s with the TEN_SECONDLY_ROLLING 429), plus the webhook
 * HubSpot sends back when a contact property changes (signed v3, as HubSpot signs it).
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
import { signRequest } from './signer.ts';

/** Contact properties every portal has. */
export const DEFAULT_CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'mobilephone',
  'company',
  'address',
  'city',
  'state',
  'zip',
  'country',
  'hs_language',
];

/** The custom properties Omnihub's README asks you to create. */
export const OMNIHUB_CONTACT_PROPERTIES = [
  'omnihub_order_count',
  'omnihub_total_revenue',
  'omnihub_last_order_at',
  'omnihub_email_consent',
  'omnihub_sms_consent',
];

export interface HubSpotContact {
  readonly id: string;
  readonly properties: Record<string, string>;
}

interface UpsertInput {
  id?: unknown;
  idProperty?: unknown;
  properties?: unknown;
}

export class FakeHubSpot extends FakeVendor {
  readonly contacts = new Map<string, HubSpotContact>();
  readonly properties: Set<string>;
  #nextId = 1001;
  #window: number[] = [];
  portalId = 62515;
  #eventId = 1;

  constructor(
    readonly token: string,
    options: { properties?: readonly string[]; limitPer10s?: number } = {},
  ) {
    super();
    this.properties = new Set(
      options.properties ?? [...DEFAULT_CONTACT_PROPERTIES, ...OMNIHUB_CONTACT_PROPERTIES],
    );
    this.limitPer10s = options.limitPer10s ?? 100;
  }

  readonly limitPer10s: number;

  protected authenticate(request: RecordedRequest): FakeResponse | undefined {
    if (bearer(request) === this.token) return undefined;
    return {
      status: 401,
      body: {
        status: 'error',
        message: 'Authentication credentials not found.',
        category: 'INVALID_AUTHENTICATION',
        correlationId: 'fake-correlation',
      },
    };
  }

  protected handle(request: RecordedRequest): FakeResponse {
    const now = Date.now();
    this.#window = this.#window.filter((at) => at > now - 10_000);
    if (this.#window.length >= this.limitPer10s) {
      return {
        status: 429,
        headers: {
          'x-hubspot-ratelimit-max': String(this.limitPer10s),
          'x-hubspot-ratelimit-remaining': '0',
        },
        body: {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          policyName: 'TEN_SECONDLY_ROLLING',
        },
      };
    }
    this.#window.push(now);
    if (request.method === 'POST' && request.path === '/crm/v3/objects/contacts/batch/upsert')
      return this.#upsert(request);
    return {
      status: 404,
      body: {
        status: 'error',
        message: `Unable to route ${request.method} ${request.path}`,
        category: 'OBJECT_NOT_FOUND',
      },
    };
  }

  #validation(message: string): FakeResponse {
    return {
      status: 400,
      body: { status: 'error', message, category: 'VALIDATION_ERROR', correlationId: 'fake-correlation' },
    };
  }

  #upsert(request: RecordedRequest): FakeResponse {
    const inputs = (request.body as { inputs?: unknown } | undefined)?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0)
      return this.#validation('inputs must be a non-empty array');
    if (inputs.length > 100) return this.#validation('Batch size must be at most 100');
    for (const input of inputs as UpsertInput[]) {
      if (
        typeof input.id !== 'string' ||
        (input.idProperty !== 'email' && input.idProperty !== 'hs_object_id')
      )
        return this.#validation('each input needs an id and a unique idProperty');
      const properties = (input.properties ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(properties)) {
        if (!this.properties.has(name)) return this.#validation(`Property "${name}" does not exist`);
        if (typeof value !== 'string') return this.#validation(`Property "${name}" must be a string`);
      }
      if (input.idProperty === 'hs_object_id' && !this.contacts.has(input.id))
        return {
          status: 404,
          body: { status: 'error', message: `resource not found: ${input.id}`, category: 'OBJECT_NOT_FOUND' },
        };
    }
    const at = new Date().toISOString();
    const results = (inputs as UpsertInput[]).map((input) => {
      const properties = input.properties as Record<string, string>;
      const existing =
        input.idProperty === 'hs_object_id'
          ? this.contacts.get(String(input.id))
          : [...this.contacts.values()].find((contact) => contact.properties.email === input.id);
      const contact: HubSpotContact = existing ?? {
        id: String(this.#nextId++),
        properties: input.idProperty === 'email' ? { email: String(input.id) } : {},
      };
      Object.assign(contact.properties, properties);
      this.contacts.set(contact.id, contact);
      return {
        id: contact.id,
        new: !existing,
        archived: false,
        createdAt: at,
        updatedAt: at,
        properties: contact.properties,
      };
    });
    return { status: 200, body: { status: 'COMPLETE', results, startedAt: at, completedAt: at } };
  }

  /**
   * Posts the webhook HubSpot sends when a contact property changed (subscription
   * `contact.propertyChange`), signed v3 with the app's client secret, to the hub.
   */
  async postPropertyChange(
    hubUrl: string,
    keys: { readonly publicUrl: string; readonly secrets: Readonly<Record<string, string>> },
    change: { objectId: string; propertyName: string; propertyValue: string; changeSource?: string },
  ): Promise<Response> {
    const eventId = this.#eventId++;
    const body = JSON.stringify([
      {
        eventId,
        subscriptionId: 4242,
        portalId: this.portalId,
        appId: 54321,
        occurredAt: Date.now(),
        subscriptionType: 'contact.propertyChange',
        attemptNumber: 0,
        objectId: Number(change.objectId),
        propertyName: change.propertyName,
        propertyValue: change.propertyValue,
        changeSource: change.changeSource ?? 'INTEGRATION',
        sourceId: '54321',
      },
    ]);
    const headers = signRequest(
      { url: `${keys.publicUrl.replace(/\/$/, '')}/webhooks/hubspot`, body },
      keys,
      new Date(),
    );
    return fetch(`${hubUrl}/webhooks/hubspot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }
}
