/**
 * What the HTTP app needs to know about the indexer, for /readyz and the indexer gauges of /metrics.
 * The indexer (backend/indexer, team 5) owns the full status type; this is the structural subset the app
 * reads, so any richer status object can be passed as is. Numbers are null until the indexer has seen them.
 */
export interface IndexerStatusView {
  chainId: number;
  /** Latest block the RPC node reported. */
  headBlock: number | null;
  /** Highest block whose events and projections are stored (the checkpoint). */
  indexedBlock: number | null;
  /** headBlock - indexedBlock: how far the mirror trails the chain. */
  lagBlocks: number | null;
  /** Events stored in the mirror. */
  eventsIndexed: number;
  /** True when this instance holds the indexing lease; the others only serve reads. */
  isLeader: boolean;
}

/** Called on every readiness probe and metrics scrape: must be cheap and never block. */
export type IndexerStatusSource = () => IndexerStatusView;
