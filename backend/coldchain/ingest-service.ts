/**
 * The ingest: readings from MQTT and HTTP go into one queue; a single flush loop verifies them in arrival order
 * (reading-verifier.ts) and writes each batch of verdicts with one store call, accepted and rejected together.
 * One loop means one device's readings are checked in order, whichever transport brought them.
 *
 * Nothing is dropped silently: a reading that fails is stored with its reason and counted (metrics and the
 * store's rejection counts); a reading that arrives while the queue is full is rejected as "overloaded" and
 * stored as such; if the store itself fails, the batch is retried, and only then are the waiting callers told.
 */
import { Counter, Histogram, type Metric, type Registry } from "prom-client";
import type { RejectedReading, RejectionReason, StoredReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import type { ColdChainReadings } from "../store/port.ts";
import { MAX_READING_BYTES } from "./reading-codec.ts";
import type { ReadingVerdict, ReadingVerifier } from "./reading-verifier.ts";

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
}

interface Pending {
  message: unknown;
  source: ReadingSource;
  topicDevice: Hex | undefined;
  receivedAt: number;
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: unknown) => void;
}

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
  batchSize = 500,
  maxDelayMs = 5,
  maxQueued = 50_000,
  now = Date.now,
  onError = () => {},
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

  const queue: Pending[] = [];
  const overloaded: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const schedule = () => {
    if (flushing !== null) return; // the running flush picks the queue up when it ends
    if (queue.length + overloaded.length >= batchSize) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      flushing = runFlushes();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        if (flushing === null) flushing = runFlushes();
      }, maxDelayMs);
    }
  };

  const runFlushes = async () => {
    try {
      while (queue.length + overloaded.length > 0) {
        const taken = queue.splice(0, batchSize);
        const shed = overloaded.splice(0, overloaded.length);
        await flush(taken, shed);
      }
    } finally {
      flushing = null;
    }
  };

  const rejectedOf = (entry: Pending, verdict: Extract<ReadingVerdict, { accepted: false }>): RejectedReading => ({
    reason: verdict.reason,
    detail: verdict.detail,
    device: verdict.device,
    sequence: verdict.sequence,
    source: entry.source,
    receivedAt: entry.receivedAt,
    payload: payloadText(entry.message),
  });

  async function flush(taken: Pending[], shed: Pending[]): Promise<void> {
    const outcomes: IngestOutcome[] = [];
    const accepted: StoredReading[] = [];
    const rejected: RejectedReading[] = [];
    const acceptedIndex = new Map<StoredReading, number>();
    // Transport-level checks first; the rest is verified as one batch, in arrival order.
    const verdicts: (ReadingVerdict | null)[] = [];
    const arrivals: { payload: unknown; receivedAt: number }[] = [];
    const arrivalOf: number[] = [];
    taken.forEach((entry, index) => {
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
      arrivalOf.push(index);
      arrivals.push({ payload: decoded.value, receivedAt: entry.receivedAt });
    });
    let verified: ReadingVerdict[];
    try {
      verified = await verifier.verifyAll(arrivals);
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
      if (verdict.accepted) {
        acceptedIndex.set(verdict.reading, outcomes.length);
        accepted.push(verdict.reading);
        outcomes.push({ accepted: true, device: verdict.reading.device, sequence: verdict.reading.sequence, legId: verdict.reading.legId });
      } else {
        rejected.push(rejectedOf(entry, verdict));
        outcomes.push({ accepted: false, reason: verdict.reason, detail: verdict.detail });
      }
    });
    for (const entry of shed) {
      rejected.push(
        rejectedOf(entry, { accepted: false, reason: "overloaded", detail: "the ingest queue was full", device: null, sequence: null }),
      );
    }

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
          for (const entry of [...taken, ...shed]) entry.reject(error);
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
    metrics: [readings, latency],
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
      while (queue.length + overloaded.length > 0 || flushing !== null || timer !== null) {
        if (flushing === null) {
          if (timer !== null) clearTimeout(timer);
          timer = null;
          flushing = runFlushes();
        }
        await flushing;
      }
    },
    async close() {
      await this.drain();
      closed = true;
    },
    get queued() {
      return queue.length;
    },
  };
}
