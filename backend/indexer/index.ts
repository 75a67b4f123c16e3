export { createIndexer } from "./indexer.ts";
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
} from "./errors.ts";
export { fetchRange, fetchHeader } from "./fetch-range.ts";
export type { ChainReader, FetchRangeResult } from "./fetch-range.ts";
