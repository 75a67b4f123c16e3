/**
 * The indexer: follows one chain through an ethers provider and mirrors every Provena event into the store.
 *
 * - Backfills from the deployment block in block ranges, adapting the range to what the node accepts
 *   (halves on refusal, doubles back on success), then tails new blocks by polling, CONFIRMATIONS behind the head.
 * - Each range is committed as one unit (events, headers, projections, checkpoint last). Writes are idempotent
 *   and projections skip events they already reflect, so a crash anywhere followed by a restart converges on
 *   the data of an uninterrupted run.
 * - Before building on the checkpoint it checks the checkpoint block is still canonical; when not, it finds the
 *   fork point by walking back the stored headers, rolls the mirror back to it and re-indexes.
 * - Exactly one instance writes at a time: the holder of the store lease `indexer:<chainId>`. The others keep
 *   reporting status from the store and take over when the holder stops renewing.
 */
import type { Logger } from "pino";
import { loadProvenaAbis, type ProvenaAbis } from "../chain/artifacts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { createEventDecoder } from "../chain/events.ts";
import { loadCurrentFromStore, project } from "../projections/project.ts";
import { planRollback } from "../projections/rollback.ts";
import type { MirrorStore } from "../store/port.ts";
import type { Checkpoint, Hex } from "../domain/model.ts";
import {
  BlockRangeTooLargeError,
  LeaseLostError,
  NonRetryableIndexerError,
  classifyError,
  type IndexerError,
} from "./errors.ts";
import { fetchHeader, fetchRange, type ChainReader } from "./fetch-range.ts";
import { resolveOrderTags } from "./resolve-order-tags.ts";

export type IndexerPhase = "starting" | "backfill" | "live" | "following" | "stopped" | "failed";

/** What /readyz and /metrics read (a superset of backend/api/indexer-status.ts IndexerStatusView). */
export interface IndexerStatus {
  chainId: number;
  instanceId: string;
  /** True when this instance holds the indexing lease and writes; the others only serve reads. */
  isLeader: boolean;
  phase: IndexerPhase;
  /** Latest block the RPC node reported. */
  headBlock: number | null;
  /** Highest block whose events and projections are stored (the checkpoint). */
  indexedBlock: number | null;
  /** headBlock - indexedBlock. */
  lagBlocks: number | null;
  /** Events stored in the mirror for this chain. */
  eventsIndexed: number;
  /** Current eth_getLogs range, in blocks. */
  blockRange: number;
  reorgs: number;
  /** Last error, cleared by the next successful step. */
  lastError: string | null;
  lastErrorRetryable: boolean | null;
  /** Unix ms of the last committed range or rollback. */
  lastCommitAt: number | null;
}

/** Optional hooks for metrics; the indexer calls them after the fact and never awaits them. */
export interface IndexerMetrics {
  rangeIndexed?(range: { fromBlock: number; toBlock: number; events: number; durationMs: number }): void;
  reorgHandled?(reorg: { forkBlock: number; depth: number; removedEvents: number }): void;
  errorOccurred?(error: IndexerError): void;
}

export interface IndexerConfig {
  confirmations: number;
  indexerBlockRange: number;
  indexerPollMs: number;
  leaseTtlMs: number;
  instanceId: string;
}

export interface CreateIndexerParameters {
  /** An ethers provider; use one without response caching (backend/chain/provider.ts rpcProviderOptions). */
  provider: ChainReader;
  deployment: Deployment;
  store: MirrorStore;
  config: IndexerConfig;
  logger: Logger;
  metrics?: IndexerMetrics;
  /** Defaults to the compiled artifacts. */
  abis?: ProvenaAbis;
  /** Called once when a non-retryable error stops the indexer. */
  onFatal?: (error: NonRetryableIndexerError) => void;
}

export interface Indexer {
  /** Starts the loop in the background; idempotent. */
  start(): void;
  /** Stops after the step in flight, then gives up the lease so another instance takes over at once. */
  stop(): Promise<void>;
  /** Cheap snapshot for probes and metrics. */
  status(): IndexerStatus;
  /** Resolves once the mirror holds every block up to `blockNumber` (as seen by this instance). */
  waitForBlock(blockNumber: number, options?: { timeoutMs?: number }): Promise<void>;
}

/** Ranges at most this long are read header by header and checked to link up (the live tail). */
const LIVE_RANGE_BLOCKS = 64;
const MAX_BACKOFF_MS = 30_000;
/** Successful ranges after which a refused range size is tried again. */
const RANGE_CEILING_RESET = 50;

export function createIndexer({ provider, deployment, store, config, logger, metrics, abis, onFatal }: CreateIndexerParameters): Indexer {
  const chainId = deployment.chainId;
  const decoder = createEventDecoder({ deployment, abis: abis ?? loadProvenaAbis() });
  const leaseName = `indexer:${chainId}`;
  const log = logger.child({ component: "indexer", chainId, instanceId: config.instanceId });
  const maxRange = config.indexerBlockRange;

  const status: IndexerStatus = {
    chainId,
    instanceId: config.instanceId,
    isLeader: false,
    phase: "starting",
    headBlock: null,
    indexedBlock: null,
    lagBlocks: null,
    eventsIndexed: 0,
    blockRange: maxRange,
    reorgs: 0,
    lastError: null,
    lastErrorRetryable: null,
    lastCommitAt: null,
  };

  let range = maxRange;
  /** Largest range the node has not refused lately; ranges grow back up to it, and it resets after a while. */
  let rangeCeiling = maxRange;
  let rangesSinceRefusal = 0;
  let checkpoint: Checkpoint | null = null;
  let leaseExpiresAt = 0;
  let followedCheckpointAt: number | null = null;
  let reloadCheckpoint = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  const progressListeners = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  const setIndexed = (blockNumber: number | null) => {
    status.indexedBlock = blockNumber;
    status.lagBlocks = status.headBlock === null || blockNumber === null ? null : Math.max(0, status.headBlock - blockNumber);
    for (const listener of progressListeners) listener();
  };
  const setHead = (head: number) => {
    status.headBlock = head;
    status.lagBlocks = status.indexedBlock === null ? null : Math.max(0, head - status.indexedBlock);
  };

  // --- lease ---

  async function takeLease(): Promise<boolean> {
    const startedAt = Date.now();
    const held = await store.acquireLease(leaseName, config.instanceId, config.leaseTtlMs);
    if (held) leaseExpiresAt = startedAt + config.leaseTtlMs;
    return held;
  }

  function loseLeadership(reason: string) {
    if (!status.isLeader) return;
    status.isLeader = false;
    status.phase = "following";
    clearInterval(renewTimer);
    renewTimer = undefined;
    log.warn({ reason }, "indexer lease lost; following the instance that holds it");
  }

  async function becomeLeader() {
    status.isLeader = true;
    // The previous writer may have died mid-commit: step() checks for its leftovers before indexing on.
    reloadCheckpoint = true;
    checkpoint = await store.getCheckpoint(chainId);
    status.eventsIndexed = await store.countEvents(chainId);
    setIndexed(checkpoint?.blockNumber ?? null);
    log.info({ resumeFrom: checkpoint === null ? deployment.deployBlock : checkpoint.blockNumber + 1 }, "indexer lease acquired; indexing");
    renewTimer = setInterval(() => {
      takeLease()
        .then((held) => {
          if (!held) loseLeadership("another instance holds the lease");
        })
        .catch((error: unknown) => log.warn({ err: error }, "could not renew the indexer lease; will retry"));
    }, Math.max(100, Math.floor(config.leaseTtlMs / 3)));
    renewTimer.unref();
  }

  /** Renews the lease unless it was renewed recently; throws LeaseLostError when another instance holds it. */
  async function assertLeader() {
    if (!status.isLeader) throw new LeaseLostError("this instance is not the indexer");
    if (leaseExpiresAt - Date.now() > (config.leaseTtlMs * 2) / 3) return;
    if (!(await takeLease())) {
      loseLeadership("another instance holds the lease");
      throw new LeaseLostError("the indexer lease passed to another instance before the write");
    }
  }

  // --- one step of the leader ---

  async function step(): Promise<"progress" | "idle"> {
    // After a failed write the store may or may not hold it (a lost acknowledgement, a half-applied rollback that
    // the store finishes itself): trust the store's checkpoint, not the one in memory.
    if (reloadCheckpoint) {
      checkpoint = await store.getCheckpoint(chainId);
      await discardUncommittedWrites();
      reloadCheckpoint = false;
      setIndexed(checkpoint?.blockNumber ?? null);
    }
    const head = await provider.getBlockNumber();
    setHead(head);
    const target = head - config.confirmations;

    if (checkpoint?.blockHash) {
      const current = await provider.getBlock(checkpoint.blockNumber);
      if (current === null || current.hash?.toLowerCase() !== checkpoint.blockHash) {
        await rollBackReorg(`stored block ${checkpoint.blockNumber} ${checkpoint.blockHash} is now ${current?.hash ?? "missing"}`);
        return "progress";
      }
    }

    const fromBlock = checkpoint === null ? deployment.deployBlock : checkpoint.blockNumber + 1;
    if (fromBlock > target) {
      status.phase = "live";
      return "idle";
    }
    const toBlock = Math.min(fromBlock + range - 1, target);
    status.phase = target - toBlock > LIVE_RANGE_BLOCKS ? "backfill" : "live";
    const startedAt = Date.now();

    const fetched = await fetchRange({
      provider,
      decoder,
      fromBlock,
      toBlock,
      parent: checkpoint?.blockHash ? { number: checkpoint.blockNumber, hash: checkpoint.blockHash } : null,
      allHeaders: toBlock - fromBlock + 1 <= LIVE_RANGE_BLOCKS,
    });
    if (fetched.kind === "reorg") {
      await rollBackReorg(`block ${fromBlock} builds on ${fetched.actual}, not on the stored ${fetched.expected}`);
      return "progress";
    }

    const events = await resolveOrderTags(fetched.events, store);
    const documents = await project(events, loadCurrentFromStore(store));
    const next: Checkpoint = { chainId, blockNumber: toBlock, blockHash: fetched.last.hash, updatedAt: Date.now() };
    await assertLeader();
    await store.commitRange({ chainId, events, blocks: fetched.blocks, ...documents, checkpoint: next });
    checkpoint = next;
    status.lastCommitAt = Date.now();
    status.lastError = null;
    status.lastErrorRetryable = null;
    if (fetched.events.length > 0) status.eventsIndexed = await store.countEvents(chainId);
    setIndexed(toBlock);

    const durationMs = Date.now() - startedAt;
    metrics?.rangeIndexed?.({ fromBlock, toBlock, events: fetched.events.length, durationMs });
    log.debug({ fromBlock, toBlock, events: fetched.events.length, durationMs, range }, "range indexed");
    // Node limits often count results, not blocks, so a refused size may pass later: forget refusals after a while.
    if (++rangesSinceRefusal >= RANGE_CEILING_RESET) rangeCeiling = maxRange;
    if (range < rangeCeiling) {
      range = Math.min(rangeCeiling, range * 2);
      status.blockRange = range;
    }
    return toBlock >= target ? "idle" : "progress";
  }

  /**
   * A commit cut short (a crash, or a connection lost mid-commit on MongoDB, whose commitRange is not atomic) can
   * leave events and projections above the checkpoint. Replaying the range converges on them only if the chain
   * did not change meanwhile; if those blocks were reorganised away, the replay would keep the stale events (same
   * ids) and skip events their projections seem to reflect. So roll back to the checkpoint before indexing on.
   */
  async function discardUncommittedWrites() {
    const from = checkpoint === null ? deployment.deployBlock : checkpoint.blockNumber + 1;
    const leftover = await store.listEvents({ chainId, fromBlock: from }, { limit: 1 });
    if (leftover.items.length === 0) return;
    const below = from - 1;
    const keep: Checkpoint = checkpoint ?? {
      chainId,
      blockNumber: below,
      blockHash: below >= 0 ? (await fetchHeader(provider, chainId, below)).hash : null,
      updatedAt: Date.now(),
    };
    const plan = await planRollback({ store, chainId, forkBlock: below, checkpoint: { ...keep, updatedAt: Date.now() } });
    await assertLeader();
    await store.rollback(plan.commit);
    checkpoint = plan.commit.checkpoint;
    status.lastCommitAt = Date.now();
    status.eventsIndexed = await store.countEvents(chainId);
    log.warn({ checkpoint: below, removedEvents: plan.removedEvents }, "removed the writes of an interrupted commit above the checkpoint");
  }

  /** Finds the highest stored block still on the canonical chain, rolls the mirror back to it. */
  async function rollBackReorg(reason: string) {
    const stale = checkpoint!;
    log.warn({ reason, checkpoint: stale.blockNumber }, "reorg detected; finding the fork point");
    const fork = await findForkPoint(stale.blockNumber);
    const rollbackCheckpoint: Checkpoint = { chainId, blockNumber: fork.number, blockHash: fork.hash, updatedAt: Date.now() };
    const plan = await planRollback({ store, chainId, forkBlock: fork.number, checkpoint: rollbackCheckpoint });
    await assertLeader();
    await store.rollback(plan.commit);
    checkpoint = rollbackCheckpoint;
    status.reorgs += 1;
    status.lastCommitAt = Date.now();
    status.eventsIndexed = await store.countEvents(chainId);
    setIndexed(fork.number);
    const depth = stale.blockNumber - fork.number;
    metrics?.reorgHandled?.({ forkBlock: fork.number, depth, removedEvents: plan.removedEvents });
    log.warn({ forkBlock: fork.number, depth, removedEvents: plan.removedEvents }, "rolled back to the fork point; re-indexing");
  }

  /** Walks the stored headers down from `fromBlock`; the first whose hash the chain still has is the fork point. */
  async function findForkPoint(fromBlock: number): Promise<{ number: number; hash: Hex | null }> {
    const window = 512;
    for (let high = fromBlock; high >= deployment.deployBlock; high -= window) {
      const low = Math.max(deployment.deployBlock, high - window + 1);
      const stored = (await store.getBlocks(chainId, low, high)).reverse();
      for (let start = 0; start < stored.length; start += 32) {
        const chunk = stored.slice(start, start + 32);
        const canonical = await Promise.all(chunk.map((block) => provider.getBlock(block.number)));
        const match = chunk.findIndex((block, index) => canonical[index]?.hash?.toLowerCase() === block.hash);
        if (match !== -1) return { number: chunk[match]!.number, hash: chunk[match]!.hash };
      }
    }
    // Nothing stored survived: start over from the deployment block.
    const below = deployment.deployBlock - 1;
    return { number: below, hash: below >= 0 ? (await fetchHeader(provider, chainId, below)).hash : null };
  }

  // --- followers ---

  async function followStoreProgress() {
    try {
      const [stored, head] = await Promise.all([store.getCheckpoint(chainId), provider.getBlockNumber()]);
      setHead(head);
      // Counting can be costly on a large collection: only when the leader moved the checkpoint.
      if (status.eventsIndexed === 0 || (stored?.updatedAt ?? null) !== followedCheckpointAt) {
        status.eventsIndexed = await store.countEvents(chainId);
        followedCheckpointAt = stored?.updatedAt ?? null;
      }
      setIndexed(stored?.blockNumber ?? null);
    } catch (error) {
      log.debug({ err: error }, "follower could not refresh the indexer status");
    }
  }

  // --- the loop ---

  async function run() {
    let failures = 0;
    while (!stopping) {
      try {
        if (!status.isLeader) {
          if (await takeLease()) {
            await becomeLeader();
          } else {
            status.phase = "following";
            await followStoreProgress();
            await sleep(Math.min(config.indexerPollMs, Math.max(100, Math.floor(config.leaseTtlMs / 3))));
            continue;
          }
        }
        const outcome = await step();
        failures = 0;
        status.lastError = null;
        status.lastErrorRetryable = null;
        if (outcome === "idle") await sleep(config.indexerPollMs);
      } catch (raw) {
        if (stopping) break;
        const error = classifyError(raw);
        reloadCheckpoint = true;
        status.lastError = error.message;
        status.lastErrorRetryable = error.retryable;
        metrics?.errorOccurred?.(error);
        if (error instanceof LeaseLostError) {
          loseLeadership(error.message);
          continue;
        }
        if (!error.retryable) {
          status.phase = "failed";
          log.fatal({ err: error }, "indexer stopped: this error needs an operator");
          onFatal?.(error as NonRetryableIndexerError);
          break;
        }
        if (error instanceof BlockRangeTooLargeError && error.toBlock > error.fromBlock) {
          const refused = error.toBlock - error.fromBlock + 1;
          rangeCeiling = refused - 1;
          rangesSinceRefusal = 0;
          range = Math.max(1, Math.floor(refused / 2));
          status.blockRange = range;
          log.info({ fromBlock: error.fromBlock, toBlock: error.toBlock, range }, "node refused the block range; halving it");
          continue;
        }
        failures += 1;
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 9));
        log.warn({ err: error, attempt: failures, retryInMs: delay }, "indexer step failed; retrying");
        await sleep(delay);
      }
    }
  }

  return {
    start() {
      if (loop !== null) return;
      stopping = false;
      log.info({ deployBlock: deployment.deployBlock, confirmations: config.confirmations, blockRange: maxRange }, "indexer starting");
      loop = run().catch((error: unknown) => {
        status.phase = "failed";
        log.fatal({ err: error }, "indexer loop crashed");
      });
    },

    async stop() {
      stopping = true;
      wake?.();
      await loop;
      loop = null;
      clearInterval(renewTimer);
      renewTimer = undefined;
      if (status.isLeader) {
        status.isLeader = false;
        await store.releaseLease(leaseName, config.instanceId).catch((error: unknown) => log.warn({ err: error }, "could not release the indexer lease"));
      }
      if (status.phase !== "failed") status.phase = "stopped";
      for (const listener of progressListeners) listener();
      log.info("indexer stopped");
    },

    status() {
      // A leader that could not renew in time (the store unreachable) may have been replaced already.
      return { ...status, isLeader: status.isLeader && Date.now() < leaseExpiresAt };
    },

    waitForBlock(blockNumber, { timeoutMs = 30_000 } = {}) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (status.indexedBlock !== null && status.indexedBlock >= blockNumber) finish();
          else if (status.phase === "failed" || status.phase === "stopped") finish(new Error(`indexer ${status.phase} before block ${blockNumber}: ${status.lastError ?? "stopped"}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`indexer did not reach block ${blockNumber} within ${timeoutMs} ms (at ${status.indexedBlock ?? "none"})`)),
          timeoutMs,
        );
        function finish(error?: Error) {
          clearTimeout(timer);
          progressListeners.delete(check);
          if (error) reject(error);
          else resolve();
        }
        progressListeners.add(check);
        check();
      });
    },
  };
}
