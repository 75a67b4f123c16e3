export { createIndexer } from "./indexer.ts";
export { createRangeSize, type RangeSize } from "./range-size.ts";
export { indexRange, planRange, type IndexRangeResult, type RangePlan } from "./index-range.ts";
export { discardUncommittedWrites, findForkPoint, rollBackToForkPoint } from "./roll-back.ts";
export type { IndexerDependencies } from "./dependencies.ts";
export type { IndexerRecovery } from "./errors.ts";
export type { CreateIndexerParameters, Indexer, IndexerConfig, IndexerMetrics, IndexerPhase, IndexerStatus } from "./indexer.ts";
export {
  BlockRangeTooLargeError,
  ChainMovedError,
  IndexerError,
  LeaseLostError,
  NonRetryableIndexerError,
  RetryableIndexerError,
  classifyError,
  isRangeTooLarge,
  recoveryFor,
} from "./errors.ts";
export { fetchRange, fetchHeader } from "./fetch-range.ts";
export type { FetchRangeResult } from "./fetch-range.ts";
export type { ChainReader } from "../chain/chain-access.ts";
