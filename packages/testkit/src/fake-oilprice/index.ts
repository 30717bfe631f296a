/**
 * @bulwark/testkit/fake-oilprice: a fake OilPriceAPI on loopback, for testing code that calls the real one.
 *
 * @module
 */

export { fakeCatalogue, fakeCommodity, formatPrice } from './catalogue.js';
export type { FakeCommodity } from './catalogue.js';
export { defaultFaultProfile, FaultPlanner, sampleLatency, seededRandom } from './faults.js';
export type {
  Burst,
  Decision,
  ErrorBodyStyle,
  Fault,
  FaultKind,
  FaultProfile,
  LatencyDistribution,
  Outage,
  QuotaWindow,
} from './faults.js';
export { fakePriceAt, RAW_STEP_MS } from './series.js';
export type { FakeInterval } from './series.js';
export { FAKE_OILPRICE_API_KEY, startFakeOilPrice } from './server.js';
export type { FakeOilPrice, FakeOilPriceOptions, FakeRequestRecord } from './server.js';
