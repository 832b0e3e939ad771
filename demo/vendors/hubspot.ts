/** The demo's HubSpot webhooks: a batch of contact events, one subscription per subscribed property. */
import { business, type Person } from '../people.ts';
import { email, external, iso, type JourneyStep } from './step.ts';

export type HubSpotElement =
  | { readonly kind: 'creation'; readonly at: Date }
  | {
      readonly kind: 'property';
      readonly name: 'email' | 'firstname' | 'lastname' | 'city' | 'company';
      readonly value: string;
      readonly at: Date;
    };

const HUBSPOT_SUBSCRIPTIONS = {
  creation: 4400101,
  email: 4400102,
  firstname: 4400103,
  lastname: 4400104,
  city: 4400105,
  company: 4400106,
} as const;

const HUBSPOT_TRAIT = {
  email: 'email',
  firstname: 'firstName',
  lastname: 'lastName',
  city: 'address.city',
  company: 'company',
} as const;

export function hubspotBatch(
  phase: number,
  story: string,
  options: { person: Person; elements: readonly HubSpotElement[] },
): JourneyStep {
  const { person } = options;
  const contactId = person.hubspotContactId ?? 0;
  const body = options.elements.map((element, index) => {
    const common = {
      eventId: 1_928_374_650 + contactId + index,
      subscriptionId: HUBSPOT_SUBSCRIPTIONS[element.kind === 'creation' ? 'creation' : element.name],
      portalId: business.hubspotPortalId,
      appId: business.hubspotAppId,
      occurredAt: element.at.getTime(),
      attemptNumber: 0,
      objectId: contactId,
    };
    return element.kind === 'creation'
      ? { ...common, subscriptionType: 'contact.creation', changeFlag: 'NEW', changeSource: 'FORM' }
      : {
          ...common,
          subscriptionType: 'contact.propertyChange',
          propertyName: element.name,
          propertyValue: element.value,
          changeSource: 'FORM',
          sourceId: 'forms:spring-newsletter',
        };
  });
  return {
    phase,
    story,
    connector: 'hubspot',
    topic: [...new Set(body.map((element) => element.subscriptionType))].join(', '),
    webhook: {
      connector: 'hubspot',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - (namespace: webhooks-nio-http-client)',
        'x-hubspot-timeout-millis': '10000',
      },
    },
    expected: options.elements.map((element) => ({
      person: person.id,
      type: 'customer.upserted' as const,
      connector: 'hubspot' as const,
      at: iso(element.at),
      identities: [
        ...(element.kind === 'property' && element.name === 'email' ? [email(element.value)] : []),
        external('hubspot', contactId),
      ],
      traits:
        element.kind === 'creation'
          ? {}
          : {
              [HUBSPOT_TRAIT[element.name]]:
                element.name === 'email' ? email(element.value).value : element.value.trim(),
            },
    })),
  };
}
