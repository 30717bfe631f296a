/**
 * @bulwark/oilprice: an OilPriceAPI client that stays correct under faults.
 *
 * @module
 */

export { OilPriceClient } from './client.js';
export type {
  CallOptions,
  HistoryOptions,
  HistoryRange,
  OilPriceClientOptions,
  OilPriceEvent,
  OilPriceRequest,
  OilPriceResult,
} from './client.js';
export {
  CommoditiesResponse,
  CommodityRecord,
  CommodityResponse,
  FiniteNumber,
  HistoricalPricesResponse,
  LatestPriceResponse,
  PaginationMeta,
  PriceRecord,
  Timestamp,
} from './codecs.js';
export type { Commodity, Price, PricePage } from './codecs.js';
export {
  isOilPriceApiError,
  isOilPriceClosedError,
  isOilPriceNetworkError,
  isOilPriceResponseError,
  isQuotaExhausted,
  OilPriceApiError,
  OilPriceClosedError,
  OilPriceNetworkError,
  OilPriceResponseError,
} from './errors.js';
export type { OilPriceErrorDetails, OilPriceErrorKind, RateLimitInfo, ResponseProblem } from './errors.js';
export { defaultPipeline, PIPELINE_PARTS } from './pipeline.js';
export { isDependencyFailure, isRetryableFailure } from './predicates.js';
export type { DefaultPipelineOptions, OilPricePipeline, PartEnvironment, PartName, PipelinePart } from './pipeline.js';
export { DEFAULT_MAX_PRICE_CHANGE, knownPriceBounds, priceFamilyOf } from './quality.js';
export type { PriceFamily } from './quality.js';
