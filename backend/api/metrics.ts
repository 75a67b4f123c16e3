/**
 * Prometheus metrics of one backend instance, in a registry of its own (never prom-client's global one,
 * so several apps in one process, as in tests, do not collide). Other modules may register their own
 * metrics in `registry`; /metrics serves all of it.
 *
 * Indexer gauges are read from the indexer's status at scrape time rather than pushed by the indexer:
 * the numbers are always current, and the indexer does not need to know about Prometheus.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { IndexerStatusSource, IndexerStatusView } from "./indexer-status.ts";

export interface ApiMetrics {
  readonly registry: Registry;
  /** HTTP request latency by method, route template (e.g. /api/v1/batches/:batchId) and status code. */
  readonly httpRequestDuration: Histogram<"method" | "route" | "status_code">;
  /** Feeds the indexer gauges from `source` at every scrape (replaces any earlier source). */
  trackIndexer(source: IndexerStatusSource): void;
}

export interface CreateMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}

/** Latency buckets in seconds, from a cache-hot read (1 ms) to a slow page (5 s). */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(options: CreateMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const httpRequestDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route template and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });

  let indexerSource: IndexerStatusSource | null = null;
  const readIndexerStatus = (): IndexerStatusView | null => {
    try {
      return indexerSource ? indexerSource() : null;
    } catch {
      return null; // a failing status source must not break the whole scrape: the indexer gauges just go absent
    }
  };

  const indexerGauge = (name: string, help: string, pick: (status: IndexerStatusView) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["chain_id"] as const,
      registers: [registry],
      collect() {
        this.reset();
        const status = readIndexerStatus();
        const value = status ? pick(status) : null;
        if (status && value !== null && Number.isFinite(value)) this.set({ chain_id: String(status.chainId) }, value);
      },
    });

  indexerGauge("provena_indexer_head_block", "Latest block number reported by the chain's RPC node.", (s) => s.headBlock);
  indexerGauge(
    "provena_indexer_indexed_block",
    "Highest block whose events and projections are stored in the mirror.",
    (s) => s.indexedBlock,
  );
  indexerGauge("provena_indexer_lag_blocks", "Blocks between the chain head and the mirror's checkpoint.", (s) => s.lagBlocks);
  // A gauge, not a counter: a chain reorganisation rolls events back and the number can go down.
  indexerGauge("provena_indexer_events_indexed", "Contract events stored in the mirror.", (s) => s.eventsIndexed);
  indexerGauge("provena_indexer_is_leader", "1 when this instance holds the indexing lease, else 0.", (s) => (s.isLeader ? 1 : 0));

  return {
    registry,
    httpRequestDuration,
    trackIndexer(source) {
      indexerSource = source;
    },
  };
}
