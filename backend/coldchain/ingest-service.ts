/**
 * The ingest: readings from MQTT and HTTP go into one queue; a single flush loop verifies them in arrival order
 * (reading-verifier.ts) and writes each batch of verdicts with one store call, accepted and rejected together.
 * One loop means one device's readings are checked in order, whichever transport brought them.
 *
 * Nothing is dropped silently: a reading that fails is stored with its reason and counted (metrics and the
 * store's rejection counts); a reading that arrives while the queue is full is rejected as "overloaded" and
 * stored as such; if the store itself fails, the batch is retried, and only then are the waiting callers told.
 *
 * Parking (with `parking`): a reading correctly signed by its device that the mirror does not make valid yet — the
 * device's registration or attachment is on chain but not yet mirrored, as when a device starts at once — waits
 * instead of being rejected, and so do the device's later readings (a device's readings are admitted in order).
 * Whenever the mirror advances (its checkpoint changes) the parked readings are verified again, as of their
 * arrival; one still waiting after `timeoutMs` is verified a last time and stored as a rejection with its reason.
 * Anyone can invent device keys, so parking is bounded per device and in total: past a bound the oldest parked
 * reading of an unknown device goes first (then the oldest of a known one), checked a last time and stored as a
 * rejection, and counted. A parked reading's caller (its MQTT PUBACK, its HTTP response) waits for its verdict.
 */
import { Counter, Gauge, Histogram, type Metric, type Registry } from "prom-client";
import { createPollingLoop } from "../coordination/polling-loop.ts";
import type { RejectedReading, RejectionReason, StoredReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import type { ColdChainReadings } from "../store/port.ts";
import { MAX_READING_BYTES } from "./reading-codec.ts";
import type { Arrival, MirrorWait, MirrorWaitReason, ReadingVerdict, ReadingVerifier } from "./reading-verifier.ts";

export type ReadingSource = "mqtt" | "http";

export type IngestOutcome =
  { accepted: true; device: Hex; sequence: number; legId: Hex } | { accepted: false; reason: RejectionReason; detail: string };

export interface ReadingIngest {
  /**
   * Queues one reading, as JSON text or bytes (MQTT) or an already parsed value (HTTP); resolves once stored.
   * `topicDevice`: the device an MQTT topic names; a reading of another device on it is malformed.
   */
  submit(message: unknown, source: ReadingSource, topicDevice?: Hex): Promise<IngestOutcome>;
  /** The ingest's Prometheus metrics, for an app to register in its registry. */
  readonly metrics: readonly Metric[];
  /** Resolves when everything queued so far is stored. */
  drain(): Promise<void>;
  /** Drains, then refuses new readings. */
  close(): Promise<void>;
  /** Readings waiting to be verified. */
  readonly queued: number;
  /** Readings parked until the mirror makes them valid (or they time out), and of how many devices. */
  readonly parked: { readings: number; devices: number };
}

export interface ParkingParameters {
  /**
   * Something that changes whenever the mirror advances (the indexer's checkpoint): parked readings are verified
   * again when it does.
   */
  mirrorHead: () => Promise<unknown>;
  /** How long a reading may stay parked (from its arrival), ms. */
  timeoutMs?: number;
  maxPerDevice?: number;
  maxTotal?: number;
  /** How often the mirror head and the timeouts are looked at, ms. */
  intervalMs?: number;
}

export interface CreateReadingIngestParameters {
  store: Pick<ColdChainReadings, "storeReadings">;
  verifier: ReadingVerifier;
  /** Metrics go here when given (prometheus: provena_coldchain_readings_total, ..._ingest_seconds). */
  registry?: Registry;
  batchSize?: number;
  /** Longest a reading waits for its batch to fill. */
  maxDelayMs?: number;
  maxQueued?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
  /** Park readings the mirror does not make valid yet; absent: they are rejected at once. */
  parking?: ParkingParameters;
}

interface Pending {
  message: unknown;
  source: ReadingSource;
  topicDevice: Hex | undefined;
  receivedAt: number;
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: unknown) => void;
  /** Set once parked: the decoded reading, and that its signature is good. */
  decoded?: unknown;
  /** The mirror epoch it was last verified in. */
  epoch?: number;
  waiting?: MirrorWaitReason;
  /** No more parking: the next verdict is the last (timed out, evicted, closing); `note` says why. */
  final?: boolean;
  note?: string;
}

/** A device's parked readings, oldest first. */
interface ParkedDevice {
  entries: Pending[];
  /** The mirror has the device (its readings wait for an attachment), or not (anyone may have made the key up). */
  known: boolean;
}

export const PARKING_DEFAULTS = { timeoutMs: 60_000, maxPerDevice: 256, maxTotal: 10_000, intervalMs: 500 };

/**
 * Readings verified and stored together at most: one store transaction each. A commit waits for the disk (SQLite
 * syncs it), so the more readings share one, the more a second the ingest stores.
 */
export const INGEST_BATCH_SIZE = 2_000;

/**
 * Batches handed to the store at once, at most: the next batch is verified and handed over while the last is being
 * written (off the event loop with the SQLite writer thread, which writes the batches waiting behind a commit in
 * one transaction).
 */
const STORES_IN_FLIGHT = 2;

/** Rejected payloads are kept for inspection, cut to this many characters. */
const MAX_KEPT_PAYLOAD = 2_048;
const STORE_ATTEMPTS = 3;

/** The message as a value to verify: bytes and text are JSON-parsed (bounded in size); anything else as is. */
function decodeMessage(message: unknown): { ok: true; value: unknown } | { ok: false; detail: string } {
  if (typeof message !== "string" && !(message instanceof Uint8Array)) return { ok: true, value: message };
  const size = typeof message === "string" ? Buffer.byteLength(message) : message.byteLength;
  if (size > MAX_READING_BYTES) return { ok: false, detail: `a reading is at most ${MAX_READING_BYTES} bytes, this message has ${size}` };
  try {
    return { ok: true, value: JSON.parse(typeof message === "string" ? message : Buffer.from(message).toString("utf8")) };
  } catch {
    return { ok: false, detail: "not JSON" };
  }
}

function payloadText(message: unknown): string {
  let text: string;
  if (typeof message === "string") text = message.slice(0, MAX_KEPT_PAYLOAD);
  else if (message instanceof Uint8Array) text = Buffer.from(message.subarray(0, MAX_KEPT_PAYLOAD)).toString("utf8");
  else {
    try {
      text = JSON.stringify(message) ?? String(message);
    } catch {
      text = String(message);
    }
  }
  return text.slice(0, MAX_KEPT_PAYLOAD);
}

export function createReadingIngest({
  store,
  verifier,
  registry,
  batchSize = INGEST_BATCH_SIZE,
  maxDelayMs = 5,
  maxQueued = 50_000,
  now = Date.now,
  onError = () => {},
  parking,
}: CreateReadingIngestParameters): ReadingIngest {
  const readings = new Counter({
    name: "provena_coldchain_readings_total",
    help: "Device readings ingested, by outcome: accepted, or the reason they were rejected.",
    labelNames: ["outcome"] as const,
    registers: registry ? [registry] : [],
  });
  const latency = new Histogram({
    name: "provena_coldchain_ingest_seconds",
    help: "Time from a reading's arrival to its verdict being stored.",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: registry ? [registry] : [],
  });

  const parkingEvents = new Counter({
    name: "provena_coldchain_parking_total",
    help:
      "Readings parked until the mirror has their device's registration or attachment, and how parked readings left " +
      "other than by being verified valid: timed-out, evicted-device-full, evicted-total-full (each then stored as a rejection).",
    labelNames: ["event"] as const,
    registers: registry ? [registry] : [],
  });

  const queue: Pending[] = [];
  const overloaded: Pending[] = [];
  /** Parked readings due to be verified again, ahead of the queue. */
  const retry: Pending[] = [];
  const unknownParked = new Map<Hex, ParkedDevice>();
  const knownParked = new Map<Hex, ParkedDevice>();
  let parkedTotal = 0;
  /** Bumped whenever the mirror head changes; a reading parked in an older epoch is verified again. */
  let epoch = 0;
  let lastHead: unknown = undefined;
  let retryDue = false;
  const parkingLimits = { ...PARKING_DEFAULTS, ...parking };
  const parkedGauge = new Gauge({
    name: "provena_coldchain_parked_readings",
    help: "Readings parked until the mirror makes them valid or they time out.",
    registers: registry ? [registry] : [],
    collect() {
      this.set(parkedTotal);
    },
  });

  const parkedOf = (device: Hex) => knownParked.get(device) ?? unknownParked.get(device);

  /** Takes a parked reading out to be verified a last time. */
  const evict = (record: ParkedDevice, device: Hex, cause: "evicted-device-full" | "evicted-total-full") => {
    const entry = record.entries.shift()!;
    parkedTotal--;
    if (record.entries.length === 0) (record.known ? knownParked : unknownParked).delete(device);
    entry.final = true;
    entry.note =
      cause === "evicted-device-full"
        ? `parked, then dropped: ${parkingLimits.maxPerDevice} readings of the device were parked`
        : `parked, then dropped: ${parkingLimits.maxTotal} readings were parked`;
    parkingEvents.inc({ event: cause });
    retry.push(entry);
  };

  const park = (entry: Pending, decoded: unknown, wait: MirrorWait, flushEpoch: number) => {
    entry.decoded = decoded;
    entry.epoch = flushEpoch;
    entry.waiting = wait.waiting;
    const known = wait.waiting !== "unknown-device";
    const own = parkedOf(wait.device);
    if (own !== undefined && own.entries.length >= parkingLimits.maxPerDevice) evict(own, wait.device, "evicted-device-full");
    if (parkedTotal >= parkingLimits.maxTotal) {
      // Records in the maps are never empty: the oldest made-up device's first, else the oldest known one's.
      const [device, oldest] = (unknownParked.entries().next().value ?? knownParked.entries().next().value)!;
      evict(oldest, device, "evicted-total-full");
    }
    // An eviction above may have dropped this device's record.
    let record = parkedOf(wait.device);
    if (record === undefined) {
      record = { entries: [], known };
      (known ? knownParked : unknownParked).set(wait.device, record);
    } else if (known && !record.known) {
      unknownParked.delete(wait.device);
      record.known = true;
      knownParked.set(wait.device, record);
    }
    record.entries.push(entry);
    parkedTotal++;
    parkingEvents.inc({ event: "parked" });
    loop?.start();
  };

  /**
   * Moves to the retry queue every device whose oldest parked reading was verified before the mirror last advanced,
   * or has timed out (those marked final). Runs between flushes only, so a device's readings keep their order.
   */
  const releaseDue = () => {
    retryDue = false;
    const at = now();
    for (const records of [knownParked, unknownParked]) {
      for (const [device, record] of records) {
        const oldest = record.entries[0]!;
        if (oldest.epoch! >= epoch && oldest.receivedAt + parkingLimits.timeoutMs > at) continue;
        records.delete(device);
        parkedTotal -= record.entries.length;
        for (const entry of record.entries) {
          if (entry.receivedAt + parkingLimits.timeoutMs <= at) {
            entry.final = true;
            entry.note = `parked ${Math.round((at - entry.receivedAt) / 1000)} s waiting for the mirror`;
            parkingEvents.inc({ event: "timed-out" });
          }
          retry.push(entry);
        }
      }
    }
  };

  /** Every parked reading, verified a last time (closing). */
  const releaseAll = () => {
    for (const records of [knownParked, unknownParked]) {
      for (const record of records.values()) {
        for (const entry of record.entries) {
          entry.final = true;
          entry.note = "parked while the ingest closed";
          retry.push(entry);
        }
      }
      records.clear();
    }
    parkedTotal = 0;
  };

  const loop =
    parking === undefined
      ? null
      : createPollingLoop(
          async () => {
            if (parkedTotal === 0) return;
            const head = await parking.mirrorHead();
            if (head !== lastHead) {
              lastHead = head;
              epoch++;
              verifier.mirrorAdvanced();
            }
            retryDue = true;
            schedule();
          },
          { intervalMs: parkingLimits.intervalMs, onError },
        );
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const pendingCount = () => queue.length + overloaded.length + retry.length;

  const schedule = () => {
    if (flushing !== null) return; // the running flush picks the queue up when it ends
    if (pendingCount() >= batchSize || retryDue) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      flushing = startFlushes();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        if (flushing === null) flushing = startFlushes();
      }, maxDelayMs);
    }
  };

  // Started a tick later, so that `flushing` is set before a run that has nothing to await can clear it.
  const startFlushes = () => Promise.resolve().then(runFlushes);

  /** The next batch's verdicts under way, or null when nothing waits. */
  const judgeNextBatch = () => {
    if (retryDue) releaseDue();
    // Parked readings first: a device's later readings were queued after them.
    const taken = retry.splice(0, batchSize);
    if (taken.length < batchSize) taken.push(...queue.splice(0, batchSize - taken.length));
    const shed = overloaded.splice(0, overloaded.length);
    return taken.length + shed.length > 0 ? judge(taken, shed) : null;
  };

  const runFlushes = async () => {
    const storing: Promise<void>[] = [];
    try {
      let judging = judgeNextBatch();
      for (;;) {
        judging ??= judgeNextBatch();
        if (judging === null) {
          if (storing.length === 0) break;
          await storing.shift();
          continue;
        }
        const storeVerdicts = await judging;
        // The next batch is verified (its signatures checked on the pool) while this one is written. Its
        // sequences are admitted after this batch's, so the order holds.
        judging = judgeNextBatch();
        if (judging !== null) await new Promise((resolve) => setImmediate(resolve));
        // storeVerdicts settles every caller itself, and reports store failures to onError.
        storing.push(storeVerdicts().catch(onError));
        // A batch may be handed to the store while the last is still being written: the SQLite writer thread
        // writes the batches that wait behind a commit in one transaction (one disk sync for them all).
        if (storing.length >= STORES_IN_FLIGHT) await storing.shift();
      }
    } finally {
      flushing = null;
    }
  };

  const rejectedOf = (entry: Pending, verdict: Extract<ReadingVerdict, { accepted: false }>): RejectedReading => ({
    reason: verdict.reason,
    detail: entry.note === undefined ? verdict.detail : `${verdict.detail} (${entry.note})`,
    device: verdict.device,
    sequence: verdict.sequence,
    source: entry.source,
    receivedAt: entry.receivedAt,
    payload: payloadText(entry.message),
  });

  /** Verifies a batch (parking what waits for the mirror); resolves to the writing of its verdicts. */
  async function judge(taken: Pending[], shed: Pending[]): Promise<() => Promise<void>> {
    const outcomes: IngestOutcome[] = [];
    const accepted: StoredReading[] = [];
    const rejected: RejectedReading[] = [];
    const acceptedIndex = new Map<StoredReading, number>();
    // Transport-level checks first; the rest is verified as one batch, in arrival order.
    const verdicts: (ReadingVerdict | MirrorWait | null)[] = [];
    const arrivals: Arrival[] = [];
    const arrivalOf: number[] = [];
    const flushEpoch = epoch;
    const decodedValues: unknown[] = [];
    const parkedNow = new Set<Pending>();
    taken.forEach((entry, index) => {
      if (entry.decoded !== undefined) {
        // Parked before: decoded and its signature found good then.
        decodedValues[index] = entry.decoded;
        verdicts.push(null);
        arrivalOf.push(index);
        arrivals.push({ payload: entry.decoded, receivedAt: entry.receivedAt, signatureChecked: true, final: entry.final });
        return;
      }
      const decoded = decodeMessage(entry.message);
      if (!decoded.ok) {
        verdicts.push({ accepted: false, reason: "malformed", detail: decoded.detail, device: entry.topicDevice ?? null, sequence: null });
        return;
      }
      const claimed = (decoded.value as { device?: unknown } | null)?.device;
      if (entry.topicDevice !== undefined && (typeof claimed !== "string" || claimed.toLowerCase() !== entry.topicDevice)) {
        verdicts.push({
          accepted: false,
          reason: "malformed",
          detail: `the topic names device ${entry.topicDevice}, the reading another`,
          device: entry.topicDevice,
          sequence: null,
        });
        return;
      }
      verdicts.push(null);
      decodedValues[index] = decoded.value;
      arrivalOf.push(index);
      arrivals.push({ payload: decoded.value, receivedAt: entry.receivedAt });
    });
    let verified: (ReadingVerdict | MirrorWait)[];
    try {
      verified =
        loop === null
          ? await verifier.verifyAll(arrivals)
          : await verifier.verifyAllOrWait(arrivals, new Set([...knownParked.keys(), ...unknownParked.keys()]));
    } catch (error) {
      // A store read failing inside the verifier: none of these readings is judged; their callers hear of it.
      onError(error);
      verified = [];
      for (const index of arrivalOf) taken[index]!.reject(error);
    }
    verified.forEach((verdict, position) => (verdicts[arrivalOf[position]!] = verdict));

    taken.forEach((entry, index) => {
      const verdict = verdicts[index] ?? null;
      if (verdict === null) {
        outcomes.push(null as unknown as IngestOutcome); // rejected above: a verifier failure
        return;
      }
      if ("waiting" in verdict) {
        park(entry, decodedValues[index], verdict, flushEpoch);
        parkedNow.add(entry);
        outcomes.push(null as unknown as IngestOutcome); // decided later
        return;
      }
      if (verdict.accepted) {
        acceptedIndex.set(verdict.reading, outcomes.length);
        accepted.push(verdict.reading);
        outcomes.push({ accepted: true, device: verdict.reading.device, sequence: verdict.reading.sequence, legId: verdict.reading.legId });
      } else {
        const kept = rejectedOf(entry, verdict);
        rejected.push(kept);
        outcomes.push({ accepted: false, reason: verdict.reason, detail: kept.detail });
      }
    });
    for (const entry of shed) {
      rejected.push(
        rejectedOf(entry, { accepted: false, reason: "overloaded", detail: "the ingest queue was full", device: null, sequence: null }),
      );
    }

    return () => storeVerdicts(taken, shed, outcomes, accepted, rejected, acceptedIndex, parkedNow);
  }

  async function storeVerdicts(
    taken: Pending[],
    shed: Pending[],
    outcomes: IngestOutcome[],
    accepted: StoredReading[],
    rejected: RejectedReading[],
    acceptedIndex: Map<StoredReading, number>,
    parkedNow: Set<Pending>,
  ): Promise<void> {
    let stored = false;
    for (let attempt = 1; attempt <= STORE_ATTEMPTS && !stored; attempt++) {
      try {
        const { duplicates } = await store.storeReadings(accepted, rejected);
        if (duplicates.length > 0) {
          // Another instance stored these first: they are replays here.
          const replays = duplicates.map((reading) => {
            verifier.forgetAccepted(reading);
            const index = acceptedIndex.get(reading)!;
            outcomes[index] = {
              accepted: false,
              reason: "replay",
              detail: `sequence ${reading.sequence} of device ${reading.device} was already stored`,
            };
            return {
              reason: "replay" as const,
              detail: "already stored by another instance",
              device: reading.device,
              sequence: reading.sequence,
              source: taken[index]!.source,
              receivedAt: reading.receivedAt,
              payload: payloadText(taken[index]!.message),
            };
          });
          await store.storeReadings([], replays);
        }
        stored = true;
      } catch (error) {
        onError(error);
        if (attempt === STORE_ATTEMPTS) {
          // Not stored: a device's redelivery (MQTT without PUBACK, an HTTP retry) must be accepted, not a "replay".
          verifier.forgetUnstored(accepted);
          for (const entry of [...taken, ...shed]) if (!parkedNow.has(entry)) entry.reject(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }

    const at = now();
    taken.forEach((entry, index) => {
      const outcome = outcomes[index];
      if (outcome === null) return;
      readings.inc({ outcome: outcome.accepted ? "accepted" : outcome.reason });
      latency.observe((at - entry.receivedAt) / 1000);
      entry.resolve(outcome);
    });
    for (const entry of shed) {
      readings.inc({ outcome: "overloaded" });
      entry.resolve({ accepted: false, reason: "overloaded", detail: "the ingest queue was full" });
    }
  }

  return {
    metrics: [readings, latency, parkedGauge, parkingEvents],
    submit(message, source, topicDevice) {
      if (closed) return Promise.reject(new Error("The reading ingest is closed"));
      return new Promise<IngestOutcome>((resolve, reject) => {
        const entry: Pending = { message, source, topicDevice, receivedAt: now(), resolve, reject };
        if (queue.length < maxQueued) queue.push(entry);
        else if (overloaded.length < maxQueued) overloaded.push(entry);
        else {
          // Past twice the queue: not even stored, only counted, so a flood cannot grow memory without bound.
          readings.inc({ outcome: "overloaded" });
          resolve({ accepted: false, reason: "overloaded", detail: "the ingest queue was full" });
          return;
        }
        schedule();
      });
    },
    async drain() {
      while (pendingCount() > 0 || flushing !== null || timer !== null) {
        if (flushing === null) {
          if (timer !== null) clearTimeout(timer);
          timer = null;
          flushing = startFlushes();
        }
        await flushing;
      }
    },
    async close() {
      await loop?.stop();
      await this.drain();
      releaseAll();
      await this.drain();
      closed = true;
    },
    get queued() {
      return queue.length;
    },
    get parked() {
      return { readings: parkedTotal, devices: knownParked.size + unknownParked.size };
    },
  };
}
