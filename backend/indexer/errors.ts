/**
 * Indexer failures split the way they must be handled: retryable ones (the node or the store is briefly
 * unavailable, the chain moved under a read) are retried with backoff; non-retryable ones (the ABI does not
 * match the deployment, the events contradict the mirror, a bug) stop the indexer with a clear status,
 * because retrying cannot fix them and skipping would lose data.
 */
import { EventDecodeError } from "../chain/events.ts";
import { DeploymentMismatchError } from "../chain/deployment.ts";
import { ChainMismatchError } from "../chain/provider.ts";
import { ProjectionError } from "../projections/event-ref.ts";
import { DomainError } from "../domain/errors.ts";

export class IndexerError extends Error {
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IndexerError";
    this.retryable = retryable;
  }
}

/** Worth retrying after a pause: network trouble, timeouts, rate limits, a store hiccup, a chain that moved. */
export class RetryableIndexerError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = "RetryableIndexerError";
  }
}

/** Retrying cannot help; the indexer stops and reports it. */
export class NonRetryableIndexerError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
    this.name = "NonRetryableIndexerError";
  }
}

/** The node refused eth_getLogs over this many blocks (too many results, range limit, response size). */
export class BlockRangeTooLargeError extends RetryableIndexerError {
  readonly fromBlock: number;
  readonly toBlock: number;

  constructor(fromBlock: number, toBlock: number, options?: { cause?: unknown }) {
    super(`The node refused eth_getLogs for blocks ${fromBlock}-${toBlock} (${toBlock - fromBlock + 1} blocks)`, options);
    this.name = "BlockRangeTooLargeError";
    this.fromBlock = fromBlock;
    this.toBlock = toBlock;
  }
}

/** The chain changed while a range was being read (hashes of the same block differ between calls). */
export class ChainMovedError extends RetryableIndexerError {
  constructor(message: string) {
    super(message);
    this.name = "ChainMovedError";
  }
}

/** This instance no longer holds the indexing lease; another instance indexes now. */
export class LeaseLostError extends RetryableIndexerError {
  constructor(message: string) {
    super(message);
    this.name = "LeaseLostError";
  }
}

/** All messages of an error and its nested causes / JSON-RPC payloads, for pattern matching. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (value === null || value === undefined || depth > 5 || seen.has(value)) return;
    if (typeof value === "string") {
      parts.push(value);
      return;
    }
    if (typeof value !== "object") return;
    seen.add(value);
    const record = value as Record<string, unknown>;
    for (const key of ["message", "shortMessage", "code", "status", "body", "responseBody"]) {
      const field = record[key];
      if (typeof field === "string" || typeof field === "number") parts.push(String(field));
    }
    for (const key of ["error", "info", "cause", "data"]) visit(record[key], depth + 1);
  };
  visit(error, 0);
  return parts.join(" | ");
}

/** Messages nodes and hosted RPC services use to refuse a large eth_getLogs (geth, Erigon, Alchemy, Infura, QuickNode, Besu, Nethermind...). */
const RANGE_TOO_LARGE =
  /query returned more than|more than \d+ results|block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|exceed(s|ed)? (the )?(max|maximum|limit)|max(imum)? (block )?range|response size|response is too big|log response size|results? (is|are)? ?(too large|limited)|limited to .{0,20}(block )?range|-32005|-32602.*range/i;

export function isRangeTooLarge(error: unknown): boolean {
  return RANGE_TOO_LARGE.test(errorText(error));
}

/** Transport failures, whatever class the library threw them as (undici throws TypeError("fetch failed")). */
const NETWORK_FAILURE =
  /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|socket hang up|network error|NETWORK_ERROR|TIMEOUT/i;

/**
 * Wraps any error as an IndexerError. Known-permanent failures (decoding, projection, deployment or chain
 * mismatches, programming errors, a store refusing the data) are non-retryable; everything else — the
 * network, the node, the store being unreachable — is retried.
 */
export function classifyError(error: unknown): IndexerError {
  if (error instanceof IndexerError) return error;
  if (
    error instanceof EventDecodeError ||
    error instanceof ProjectionError ||
    error instanceof DeploymentMismatchError ||
    error instanceof ChainMismatchError
  ) {
    return new NonRetryableIndexerError(error.message, { cause: error });
  }
  if (NETWORK_FAILURE.test(errorText(error))) return new RetryableIndexerError(errorText(error), { cause: error });
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError) {
    return new NonRetryableIndexerError(`Internal error: ${error.message}`, { cause: error });
  }
  // A store that refuses the data (a conflicting key, invalid input) will refuse it again; only "unavailable" may pass.
  if (error instanceof DomainError) {
    if (error.kind === "unavailable") return new RetryableIndexerError(error.message, { cause: error });
    return new NonRetryableIndexerError(`The store rejected the data: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RetryableIndexerError(message, { cause: error });
}

/** What the indexer does after a failed step, read off the classified error. */
export type IndexerRecovery =
  /** Another instance writes now: follow it. */
  | { kind: "follow"; error: LeaseLostError }
  /** Retrying cannot help: stop and report. */
  | { kind: "stop"; error: NonRetryableIndexerError }
  /** The node refused a range of several blocks: retry at once with a smaller one. */
  | { kind: "shrink-range"; error: BlockRangeTooLargeError }
  /** Retry after a pause. */
  | { kind: "back-off"; error: IndexerError };

export function recoveryFor(raw: unknown): IndexerRecovery {
  const error = classifyError(raw);
  if (error instanceof LeaseLostError) return { kind: "follow", error };
  if (!error.retryable) return { kind: "stop", error: error as NonRetryableIndexerError };
  if (error instanceof BlockRangeTooLargeError && error.toBlock > error.fromBlock) return { kind: "shrink-range", error };
  return { kind: "back-off", error };
}
