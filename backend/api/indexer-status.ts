/**
 * What the HTTP app reads of the indexer's status, for /readyz, /healthz and the indexer gauges of /metrics: the
 * subset of the indexer's own IndexerStatus (backend/indexer) that it needs, so the indexer's status object is
 * passed as is and a renamed field fails to compile here. Numbers are null until the indexer has seen them.
 * The optional fields are those only a running indexer knows (a test or a read-only server may leave them out);
 * the app derives the state and its sentence from them with describeIndexer, at each request.
 */
import type { IndexerStatus } from "../indexer/indexer.ts";

export type IndexerStatusView = Pick<IndexerStatus, "chainId" | "headBlock" | "indexedBlock" | "lagBlocks" | "eventsIndexed" | "isLeader"> &
  Partial<Pick<IndexerStatus, "phase" | "instanceId" | "deployBlock" | "confirmations" | "lastError" | "lease">>;

/** Called on every readiness probe and metrics scrape: must be cheap and never block. */
export type IndexerStatusSource = () => IndexerStatusView;
