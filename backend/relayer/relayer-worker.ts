/**
 * The relayer: submits the queued relay requests from its own account and sees each one through to an outcome.
 *
 * Durability rule: a transaction is signed, its hash and nonce are written to the store, and only then is it
 * broadcast. After a crash at any point the store therefore knows every transaction that may be on the network,
 * and the restarted worker re-checks them by hash: mined ones are recorded, dropped ones are sent again with the
 * same nonce, so an accepted request lands exactly once and nothing accepted is lost.
 *
 * One active worker across instances (store lease "relayer"). Nonces come from the chain's pending count when
 * the worker takes the lease, and are persisted per request. A transaction pending longer than `stuckAfterMs` is
 * replaced with the same nonce and a fee at least `feeBumpPercent` higher.
 *
 * The stages live beside it: settle-submitted.ts, submit-queued.ts, relay-transaction.ts, broadcast.ts, fees.ts.
 */
import type { Logger } from "pino";
import { createLeaseLoop } from "../coordination/lease-loop.ts";
import type { Hex } from "../domain/model.ts";
import type { Leases, RelayQueue } from "../store/port.ts";
import type { ChainAccess } from "../chain/chain-access.ts";
import { provenaContracts } from "../chain/contracts.ts";
import { loadNextNonce, type RelayerContext, type RelayerSigner } from "./relayer-context.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { settleSubmitted } from "./settle-submitted.ts";
import { submitQueued } from "./submit-queued.ts";

export interface RelayerWorkerOptions {
  store: RelayQueue & Leases;
  chain: ChainAccess;
  signer: RelayerSigner;
  logger: Logger;
  /** Lease holder id of this process. */
  holder: string;
  leaseTtlMs?: number;
  /** Pause between rounds (default 1,000 ms). */
  pollMs?: number;
  /** A transaction pending longer than this is replaced with a higher fee (default 30,000 ms). */
  stuckAfterMs?: number;
  /** Fee increase per replacement, in percent; nodes require at least 10 (default 15). */
  feeBumpPercent?: number;
  /** Blocks a receipt must have under it before the request counts as mined (default 1: the block itself). */
  confirmations?: number;
  /** Most transactions in flight at once (default 16). */
  maxInFlight?: number;
  now?: () => number;
}

export interface RelayerWorker {
  readonly address: Hex;
  start(): void;
  /** Stops after the current round and gives up the lease. */
  stop(): Promise<void>;
  /** One round: take/renew the lease, settle submitted transactions, submit queued requests. */
  tick(): Promise<void>;
  /** Wakes the worker for a round now (e.g. right after a request was accepted). */
  poke(): void;
}

export const RELAYER_LEASE = "relayer";

export function createRelayerWorker(options: RelayerWorkerOptions): RelayerWorker {
  const { store, chain, signer } = options;
  const pollMs = options.pollMs ?? 1_000;
  const log = options.logger.child({ component: "relayer" });
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let stopped = true;
  /** Set by stop(): a round in progress finishes its current request and submits nothing more. */
  let stopRequested = false;
  let current: Promise<void> | null = null;
  let wakeRequested = false;

  const lease = createLeaseLoop({
    store,
    name: RELAYER_LEASE,
    holder: options.holder,
    ttlMs: options.leaseTtlMs ?? 15_000,
    logger: log,
    onLost() {
      log.warn("relayer lease lost to another instance");
      context.nonce.next = null;
    },
  });
  const context: RelayerContext = {
    store,
    chain,
    provider: chain.provider,
    contracts: provenaContracts(chain),
    signer,
    address: signer.address.toLowerCase() as Hex,
    log,
    now: options.now ?? Date.now,
    settings: {
      stuckAfterMs: options.stuckAfterMs ?? 30_000,
      feeBumpPercent: BigInt(options.feeBumpPercent ?? 15),
      confirmations: Math.max(1, options.confirmations ?? 1),
      maxInFlight: options.maxInFlight ?? 16,
    },
    sentHashes: new Map(),
    nonce: { next: null },
    maySubmit: async () => !stopRequested && (await lease.confirm()),
  };

  async function tick(): Promise<void> {
    const held = await lease.acquire();
    if (held === "refused") {
      context.nonce.next = null;
      return;
    }
    if (held === "taken" || context.nonce.next === null) await loadNextNonce(context);
    const inFlight = await settleSubmitted(context);
    await submitQueued(context, inFlight);
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(runLoop, delay);
  }

  function runLoop(): void {
    timer = null;
    if (stopped || running) return;
    running = true;
    wakeRequested = false;
    current = tick()
      .catch((error) => {
        // A failing RPC node or store must not kill the worker: log, and try again next round.
        log.error({ error: shortMessage(error) }, "relayer round failed");
        context.nonce.next = null;
      })
      .finally(() => {
        running = false;
        current = null;
        schedule(wakeRequested ? 0 : pollMs);
      });
  }

  return {
    address: context.address,
    start() {
      if (!stopped) return;
      stopped = false;
      stopRequested = false;
      lease.start();
      schedule(0);
    },
    async stop() {
      stopped = true;
      stopRequested = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
      await lease.stop();
    },
    tick,
    poke() {
      if (stopped) return;
      if (running) {
        wakeRequested = true;
        return;
      }
      if (timer) clearTimeout(timer);
      schedule(0);
    },
  };
}
