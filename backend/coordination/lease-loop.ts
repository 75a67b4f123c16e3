/**
 * The single-writer lease that the indexer and the relayer each hold while they write: taken through the store's
 * compare-and-set (`acquireLease`), renewed on a schedule while the holder runs, given up when the holder stops.
 * A renewal that finds another holder reports the loss at once (`onLost`), so the work stops before its next write.
 */
import type { Logger } from "pino";
import type { Leases } from "../store/port.ts";

/** What one attempt to take or renew the lease found. */
export type LeaseAcquisition = "taken" | "renewed" | "refused";

export interface CreateLeaseLoopParameters {
  store: Leases;
  /** Lease name, one per kind of writer (e.g. `indexer:<chainId>`, `relayer`). */
  name: string;
  /** This instance's id. */
  holder: string;
  ttlMs: number;
  logger: Logger;
  /** Called once each time a held lease turns out to be held by another instance. */
  onLost?: (reason: string) => void;
  now?: () => number;
}

export interface LeaseLoop {
  readonly name: string;
  /** Takes the lease, or renews it when this instance holds it already. */
  acquire(): Promise<LeaseAcquisition>;
  /** True while this instance holds the lease by its own clock (a renewal that did not come back in time counts as lost). */
  isHeld(): boolean;
  /** Before a write: true when the lease is still held, renewing it first unless it was renewed in the last third of its TTL. */
  confirm(): Promise<boolean>;
  /** Renews the lease every third of its TTL while it is held, until stop(); idempotent. */
  start(): void;
  /** Stops renewing and gives the lease up, so another instance takes over without waiting for it to expire. */
  stop(): Promise<void>;
}

/** Renewals happen at most this often, however short the TTL. */
const MIN_RENEW_INTERVAL_MS = 100;

export function createLeaseLoop({ store, name, holder, ttlMs, logger, onLost, now = Date.now }: CreateLeaseLoopParameters): LeaseLoop {
  let held = false;
  let expiresAt = 0;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let renewal: Promise<unknown> | null = null;
  let running = false;

  async function acquire(): Promise<LeaseAcquisition> {
    const startedAt = now();
    const taken = await store.acquireLease(name, holder, ttlMs);
    if (taken) {
      const wasHeld = held;
      held = true;
      expiresAt = startedAt + ttlMs;
      return wasHeld ? "renewed" : "taken";
    }
    if (held) {
      held = false;
      onLost?.("another instance holds the lease");
    }
    return "refused";
  }

  function renewOnSchedule() {
    if (!running || !held || renewal !== null) return;
    renewal = acquire()
      .catch((error: unknown) => logger.warn({ err: error, lease: name }, "could not renew the lease; will retry"))
      .finally(() => {
        renewal = null;
      });
  }

  return {
    name,
    acquire,

    isHeld() {
      return held && now() < expiresAt;
    },

    async confirm() {
      if (!held) return false;
      if (expiresAt - now() > (ttlMs * 2) / 3) return true;
      return (await acquire()) !== "refused";
    },

    start() {
      if (running) return;
      running = true;
      renewTimer = setInterval(renewOnSchedule, Math.max(MIN_RENEW_INTERVAL_MS, Math.floor(ttlMs / 3)));
      renewTimer.unref?.();
    },

    async stop() {
      running = false;
      clearInterval(renewTimer);
      renewTimer = undefined;
      // A renewal still in flight would take the lease back after the release.
      await renewal;
      if (!held) return;
      held = false;
      await store
        .releaseLease(name, holder)
        .catch((error: unknown) => logger.warn({ err: error, lease: name }, "could not release the lease"));
    },
  };
}
