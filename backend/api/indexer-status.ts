/**
 * What the HTTP app reads of the indexer's status, for /readyz and the indexer gauges of /metrics: the subset
 * of the indexer's own IndexerStatus (backend/indexer) that it needs, so the indexer's status object is passed
 * as is and a renamed field fails to compile here. Numbers are null until the indexer has seen them.
 */
import type { IndexerStatus } from "../indexer/indexer.ts";

export type IndexerStatusView = Pick<IndexerStatus, "chainId" | "headBlock" | "indexedBlock" | "lagBlocks" | "eventsIndexed" | "isLeader"> &
  Partial<Pick<IndexerStatus, "phase">>;

/** Called on every readiness probe and metrics scrape: must be cheap and never block. */
export type IndexerStatusSource = () => IndexerStatusView;
