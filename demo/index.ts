/**
 * The demo as a library: the journey (people and signed vendor webhooks), its known truth, the code
 * that posts it to a hub, and the readers/renderers of the resulting profiles. `scripts/demo.ts`
 * (`npm run demo`) drives it; tests and analytics checks import it.
 *
 * @example
 * import { buildJourney, truthOf } from './demo/index.ts';
 * const truth = truthOf(buildJourney(new Date('2025-06-10T12:00:00Z')));
 */
export { buildJourney, type Journey } from './journey.ts';
export { business, type Person, type PersonId, people } from './people.ts';
export { type DeliveryResult, type PostJourneyOptions, postJourney, settleByHealth } from './post.ts';
export {
  apiLookup,
  chooseLookup,
  differences,
  type ProfileLookup,
  profileDetails,
  storeLookup,
  summaryTable,
} from './profiles.ts';
export { type JourneyTruth, type PersonTruth, truthOf } from './truth.ts';
export type { ExpectedEvent, JourneyStep } from './vendors/step.ts';
