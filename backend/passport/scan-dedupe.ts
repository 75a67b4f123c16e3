/**
 * Which scans count towards clone detection: one per client per unit per window. A client is a keyed hash of its
 * address (the app's "trust proxy" setting decides which address that is). The hash covers the window, so nothing
 * kept links a scan to an IP, and an earlier window's entries cannot be matched.
 *
 * Attacker: one client reloading a genuine unit's page, or rotating its User-Agent, Accept-Language or country
 * headers, to make the passport say "This code may have been copied". It now counts once per window, whatever
 * headers it sends. Real clones are scanned by many people from many addresses and still add up.
 *
 * With API_WORKERS > 1 the set is cluster-wide, so a client spreading its requests over the workers still counts
 * once: the primary (backend/api-workers.ts) draws the key, hands it to every worker in its setup message and keeps
 * the one bounded set of scan keys; a worker hashes the scan itself and asks the primary whether the hash is new
 * (createClusterScanDeduper). The primary only ever sees hashes, never an address. A worker whose question is not
 * answered within a short timeout, whose channel to the primary is gone, or which already has too many questions
 * outstanding, answers from a set of its own instead (logged once per reason at warn): the passport is served, and
 * the client may count once more on that worker.
 *
 * Kept in memory and bounded (oldest forgotten first): a restart of the API, or a primary that cannot answer, lets a
 * client count once more per window (at most once per worker), never less than a real scanner would.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import type { Logger } from "pino";
import type { Hex } from "../domain/model.ts";
import { createBoundedMemo } from "./view-cache.ts";

export interface ScanDeduper {
  /** True the first time `client` scans this unit (or batch, serial null) in the current window; false for repeats. */
  firstInWindow(batchId: Hex, serial: string | null, client: string): Promise<boolean>;
}

export const DEFAULT_SCAN_DEDUPE_ENTRIES = 100_000;

/**
 * The keyed hash naming one (window, client, unit) in a set of scan keys: 43 base64url characters. Pass the secret
 * as a KeyObject made once (createSecretKey): from raw bytes, Node builds a key object on every call (~35 µs).
 */
export function scanKeyOf(secret: Uint8Array | KeyObject, window: number, batchId: Hex, serial: string | null, client: string): string {
  return createHmac("sha256", secret)
    .update(`${window}\0${client}\0${batchId.toLowerCase()}\0${serial ?? ""}`)
    .digest("base64url");
}

/** A well-formed scan key as scanKeyOf makes it (the primary accepts nothing else from a worker). */
export function isScanKey(key: unknown): key is string {
  return typeof key === "string" && /^[A-Za-z0-9_-]{43}$/.test(key);
}

/** The scan keys seen so far, at most `maxEntries`, the oldest forgotten first. */
export interface SeenScanKeys {
  /** True when `key` was not in the set (it is now); false when it was. */
  firstTime(key: string): boolean;
}

export function createSeenScanKeys(maxEntries = DEFAULT_SCAN_DEDUPE_ENTRIES): SeenScanKeys {
  if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const seen = new Set<string>();
  return {
    firstTime(key) {
      if (seen.has(key)) return false;
      seen.add(key);
      // A Set iterates in insertion order: the first entry is the oldest.
      if (seen.size > maxEntries) seen.delete(seen.values().next().value!);
      return true;
    },
  };
}

export interface ScanDeduperOptions {
  /** A client counts at most once per unit per window (the clone thresholds' recent window). */
  windowMs: number;
  /** Most (client, unit, window) entries remembered at once. */
  maxEntries?: number;
  /** The hash key (default: random for this deduper). */
  secret?: Uint8Array;
  now?: () => number;
}

/** The in-process deduper (one API process, or a worker's fallback): answers at once. */
export function createScanDeduper({ windowMs, maxEntries, secret = randomBytes(32), now = Date.now }: ScanDeduperOptions): ScanDeduper {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const seen = createSeenScanKeys(maxEntries);
  const key = createSecretKey(secret);
  return {
    firstInWindow: async (batchId, serial, client) => seen.firstTime(scanKeyOf(key, Math.floor(now() / windowMs), batchId, serial, client)),
  };
}

/** A worker's question to the primary, and the primary's answer, as they travel over the IPC channel. */
export interface ScanKeyQuestion {
  id: number;
  key: string;
}
export interface ScanKeyAnswer {
  id: number;
  first: boolean;
}

export const DEFAULT_SCAN_ANSWER_TIMEOUT_MS = 500;
export const DEFAULT_SCAN_QUESTIONS_PENDING = 1_000;

export interface ClusterScanDeduperOptions {
  windowMs: number;
  /** The key the primary shares with every worker, so equal scans hash equally on all of them. */
  secret: Uint8Array;
  /**
   * Sends a question to the primary; false when it cannot (the channel is gone or backed up). `undelivered` is
   * called when sending fails later.
   */
  ask: (question: ScanKeyQuestion, undelivered: () => void) => boolean;
  logger: Pick<Logger, "warn">;
  /** How long a question waits for the primary before the worker's own set answers it (default 500 ms). */
  timeoutMs?: number;
  /** Questions outstanding at once; more are answered by the worker's own set (default 1000). */
  maxPending?: number;
  /** Entries of the worker's own set. */
  maxEntries?: number;
  now?: () => number;
}

export interface ClusterScanDeduper extends ScanDeduper {
  /** The primary's answer to a question (a late or unknown one is ignored). */
  answer(answer: ScanKeyAnswer): void;
  /** The channel to the primary is gone: outstanding and later questions are answered by the worker's own set. */
  disconnected(): void;
}

type FallbackReason = "timeout" | "unreachable" | "overloaded";

const FALLBACK_WARNINGS: Record<FallbackReason, string> = {
  timeout: "the primary did not answer a scan de-duplication question in time; this worker's own set answered it",
  unreachable: "the primary cannot be asked about scan de-duplication; this worker's own set answers",
  overloaded: "too many scan de-duplication questions outstanding; this worker's own set answered the excess",
};

/** A worker's deduper: asks the primary's cluster-wide set, falls back to its own (see the header comment). */
export function createClusterScanDeduper(options: ClusterScanDeduperOptions): ClusterScanDeduper {
  const { windowMs, secret, ask, logger, now = Date.now } = options;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SCAN_ANSWER_TIMEOUT_MS;
  const maxPending = options.maxPending ?? DEFAULT_SCAN_QUESTIONS_PENDING;
  const local = createSeenScanKeys(options.maxEntries);
  const secretKey = createSecretKey(secret);
  // Keys the primary has answered for: it holds them now, so it would say "not the first" again. A repeat scan is
  // answered here, without a round trip through the primary (which also indexes) on every reload of a page.
  const answeredByPrimary = createBoundedMemo<string, true>(options.maxEntries ?? DEFAULT_SCAN_DEDUPE_ENTRIES);
  const pending = new Map<number, { key: string; resolve: (first: boolean) => void; timer: NodeJS.Timeout }>();
  const warned = new Set<FallbackReason>();
  let nextId = 0;
  let connected = true;

  function answerLocally(key: string, reason: FallbackReason): boolean {
    if (!warned.has(reason)) {
      warned.add(reason);
      logger.warn({ reason }, FALLBACK_WARNINGS[reason]);
    }
    return local.firstTime(key);
  }

  function settleLocally(id: number, reason: FallbackReason): void {
    const question = pending.get(id);
    if (!question) return;
    pending.delete(id);
    clearTimeout(question.timer);
    question.resolve(answerLocally(question.key, reason));
  }

  return {
    async firstInWindow(batchId, serial, client) {
      const key = scanKeyOf(secretKey, Math.floor(now() / windowMs), batchId, serial, client);
      if (answeredByPrimary.get(key)) return false;
      if (!connected) return answerLocally(key, "unreachable");
      if (pending.size >= maxPending) return answerLocally(key, "overloaded");
      const id = nextId++;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => settleLocally(id, "timeout"), timeoutMs);
        timer.unref();
        pending.set(id, { key, resolve, timer });
        let sent: boolean;
        try {
          sent = ask({ id, key }, () => settleLocally(id, "unreachable"));
        } catch {
          sent = false;
        }
        if (!sent) settleLocally(id, "unreachable");
      });
    },
    answer({ id, first }) {
      const question = pending.get(id);
      if (!question) return;
      pending.delete(id);
      clearTimeout(question.timer);
      answeredByPrimary.set(question.key, true);
      question.resolve(first === true);
    },
    disconnected() {
      connected = false;
      for (const id of [...pending.keys()]) settleLocally(id, "unreachable");
    },
  };
}
