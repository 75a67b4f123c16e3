/**
 * Decides whether a device-signed reading is accepted, and if not, why. In order, cheapest first:
 * well-formed (reading-codec.ts) → sane values → known, unretired device → attached to that batch at that
 * time (a projected leg) → its carrier not suspended → signed by the device → a sequence above every accepted
 * one of the device (an already stored sequence is a replay, a lower unseen one out of order).
 *
 * Who could abuse the ingest, and what stops them:
 * - a third party forging readings for someone's device: the signature must recover to the device;
 * - a carrier's own device reporting on goods it is not attached to, or outside its leg: the leg check;
 * - a replayer (an MQTT eavesdropper, a QoS 1 redelivery): the sequence check and the store's unique key;
 * - a malleated twin of a genuine signature taking its place: high-s and bad v are refused (reading-signature.ts);
 * - a suspended carrier's devices: they count for nothing;
 * - a flood of garbage: rejected before any lookup or curve arithmetic, payload size bounded by the transports.
 *
 * Projections are read through a short-lived cache (cacheTtlMs, cleared when the ingest sees the mirror advance),
 * so a detach or suspension takes that long to bite; readings stamped after a detach are refused as soon as the
 * mirror has it, whatever their arrival time.
 *
 * verifyAllOrWait: an unknown device or a missing leg may only mean the indexer is behind the chain, so a reading
 * correctly signed by its device is a MirrorWait (the ingest parks it) rather than a rejection. Its signature is
 * checked first: nobody can make a registered device's readings wait with forgeries.
 */
import type { TypedDataDomain } from "ethers";
import type { ColdChainDevice, ColdChainLeg, RejectionReason, SignedReading, StoredReading } from "../domain/cold-chain.ts";
import { NO_HUMIDITY, NO_POSITION } from "../domain/cold-chain.ts";
import type { Hex, Participant } from "../domain/model.ts";
import type { ColdChainReadings, ColdChainReads, ProjectionReads } from "../store/port.ts";
import { createReadingDigester, parseWireReading } from "./reading-codec.ts";
import { createReadingSignatureCheck } from "./reading-signature.ts";
import type { SignaturePool } from "./signature-pool.ts";

export type ReadingVerdict =
  | { accepted: true; reading: StoredReading }
  | { accepted: false; reason: RejectionReason; detail: string; device: Hex | null; sequence: number | null };

/**
 * Why a reading correctly signed by its device may still become valid: the mirror has not (yet) got the device's
 * registration or its attachment, or an earlier reading of the device waits for that (a device's readings are
 * admitted in order).
 */
export type MirrorWaitReason = "unknown-device" | "not-attached" | "earlier-readings";

/** A reading to wait with (the ingest parks it) instead of rejecting it now. */
export interface MirrorWait {
  accepted: false;
  waiting: MirrorWaitReason;
  detail: string;
  device: Hex;
  sequence: number;
}

export interface Arrival {
  /** A JSON-parsed wire reading (anything at all). */
  payload: unknown;
  /** Unix ms. */
  receivedAt: number;
  /** Its signature was already found good (a parked reading checked again): not checked twice. */
  signatureChecked?: boolean;
  /** No more waiting: a reading that would wait is rejected with its reason. */
  final?: boolean;
}

export interface ReadingVerifier {
  /** `payload`: a JSON-parsed wire reading (anything at all); `receivedAt` unix ms. */
  verify(payload: unknown, receivedAt: number): Promise<ReadingVerdict>;
  /**
   * Verdicts of readings in arrival order, as if verified one after another; the signatures are checked together
   * (on the signature pool when there is one).
   */
  verifyAll(arrivals: Arrival[]): Promise<ReadingVerdict[]>;
  /**
   * As verifyAll, but a reading correctly signed by its device that the mirror does not (yet) make valid — its
   * device unknown or not attached — is a MirrorWait rather than a rejection, and so is every later reading of a
   * device in `waitingDevices` or waiting earlier in this batch (unless `final`).
   */
  verifyAllOrWait(arrivals: Arrival[], waitingDevices: ReadonlySet<Hex>): Promise<(ReadingVerdict | MirrorWait)[]>;
  /** The store refused an accepted reading as a duplicate: it was not stored by this instance. */
  forgetAccepted(reading: StoredReading): void;
  /**
   * Accepted readings that could not be stored (the store kept failing): their devices' sequences are read from the
   * store again, so the device's redelivery of them is accepted, not refused as a replay.
   */
  forgetUnstored(readings: readonly StoredReading[]): void;
  /** The mirror advanced: devices, legs and carriers are read afresh. */
  mirrorAdvanced(): void;
}

export interface CreateReadingVerifierParameters {
  store: Pick<ColdChainReads, "getColdChainDevices" | "listColdChainLegs"> &
    Pick<ProjectionReads, "getParticipant"> &
    Pick<ColdChainReadings, "hasReading" | "lastReadingSequences">;
  domain: TypedDataDomain;
  /** How far past the receiver's clock a reading's timestamp may be (device clocks drift). */
  maxClockSkewSeconds?: number;
  cacheTtlMs?: number;
  now?: () => number;
  /** Worker threads that check signatures; absent: checked on the calling thread. */
  signaturePool?: SignaturePool;
}

export const TEMPERATURE_LIMIT = 10_000; // ±100 °C in hundredths
export const HUMIDITY_LIMIT = 10_000; // 100 %
const LATITUDE_LIMIT = 90_000_000;
const LONGITUDE_LIMIT = 180_000_000;
/** Sequences of a device accepted lately, to name a replay without asking the store. */
const RECENT_SEQUENCES = 64;

interface Cached<T> {
  value: T;
  until: number;
}

function valueProblem(reading: SignedReading, nowSeconds: number, skew: number): { reason: RejectionReason; detail: string } | null {
  if (reading.temperature < -TEMPERATURE_LIMIT || reading.temperature > TEMPERATURE_LIMIT) {
    return { reason: "temperature-out-of-range", detail: `temperature ${reading.temperature / 100} °C is outside −100..100 °C` };
  }
  if (reading.humidity !== NO_HUMIDITY && reading.humidity > HUMIDITY_LIMIT) {
    return { reason: "humidity-out-of-range", detail: `humidity ${reading.humidity / 100} % is outside 0..100 %` };
  }
  if (reading.latitude !== NO_POSITION && (Math.abs(reading.latitude) > LATITUDE_LIMIT || Math.abs(reading.longitude) > LONGITUDE_LIMIT)) {
    return { reason: "position-out-of-range", detail: "latitude or longitude is not on Earth" };
  }
  if (reading.timestamp > nowSeconds + skew) {
    return {
      reason: "future-timestamp",
      detail: `timestamp ${reading.timestamp} is ${reading.timestamp - nowSeconds} s ahead of the receiver`,
    };
  }
  return null;
}

export function createReadingVerifier({
  store,
  domain,
  maxClockSkewSeconds = 120,
  cacheTtlMs = 1_000,
  now = Date.now,
  signaturePool,
}: CreateReadingVerifierParameters): ReadingVerifier {
  const digestOf = createReadingDigester(domain);
  const signatures = createReadingSignatureCheck();
  const devices = new Map<Hex, Cached<ColdChainDevice | null>>();
  const legs = new Map<string, Cached<ColdChainLeg[]>>();
  const carriers = new Map<Hex, Cached<Participant | null>>();
  const lastSequence = new Map<Hex, number | null>();
  const recent = new Map<Hex, number[]>();

  /** A hit is returned as is, not as a promise: most readings are verified without leaving the loop. */
  const cached = <K, T>(cache: Map<K, Cached<T>>, key: K, load: () => Promise<T>): T | Promise<T> => {
    const hit = cache.get(key);
    const at = now();
    if (hit !== undefined && hit.until > at) return hit.value;
    return load().then((value) => {
      if (cache.size > 10_000) cache.clear();
      cache.set(key, { value, until: at + cacheTtlMs });
      return value;
    });
  };
  const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => value instanceof Promise;

  const reject = (reason: RejectionReason, detail: string, reading: Pick<SignedReading, "device" | "sequence">): ReadingVerdict => ({
    accepted: false,
    reason,
    detail,
    device: reading.device,
    sequence: reading.sequence,
  });

  type Candidate = {
    reading: SignedReading;
    leg: ColdChainLeg;
    receivedAt: number;
    signatureChecked: boolean;
  };
  /** Signed, well-formed, sane, but the mirror has no device or no leg for it (yet). */
  type WaitCandidate = {
    reading: SignedReading;
    waiting: "unknown-device" | "not-attached";
    detail: string;
    signatureChecked: boolean;
  };
  type Prechecked = ReadingVerdict | Candidate | WaitCandidate;

  /** Everything before the signature: a verdict, or a candidate whose signature is to be checked. */
  const precheck = async (
    { payload, receivedAt, signatureChecked = false, final = false }: Arrival,
    mayWait: boolean,
  ): Promise<Prechecked> => {
    const parsed = parseWireReading(payload);
    if (!parsed.ok) {
      const claimed = (payload as { device?: unknown } | null)?.device;
      const device = typeof claimed === "string" && /^0x[0-9a-fA-F]{40}$/.test(claimed) ? (claimed.toLowerCase() as Hex) : null;
      return { accepted: false, reason: "malformed", detail: parsed.error, device, sequence: null };
    }
    const reading = parsed.reading;
    const problem = valueProblem(reading, Math.floor(now() / 1000), maxClockSkewSeconds);
    if (problem !== null) return reject(problem.reason, problem.detail, reading);

    const waitOr = (waiting: "unknown-device" | "not-attached", detail: string): Prechecked =>
      mayWait && !final ? { reading, waiting, detail, signatureChecked } : reject(waiting, detail, reading);

    const deviceOrLoad = cached(devices, reading.device, async () => (await store.getColdChainDevices([reading.device]))[0] ?? null);
    const device = isPromise(deviceOrLoad) ? await deviceOrLoad : deviceOrLoad;
    if (device === null) return waitOr("unknown-device", `device ${reading.device} is not registered on chain`);
    if (device.retired) return reject("device-retired", `device ${reading.device} is retired`, reading);

    const legsOrLoad = cached(legs, `${reading.device}:${reading.batchId}`, () =>
      store.listColdChainLegs({ device: reading.device, batchId: reading.batchId }),
    );
    const batchLegs = isPromise(legsOrLoad) ? await legsOrLoad : legsOrLoad;
    const leg = batchLegs.find(
      (candidate) =>
        candidate.attachedAt <= reading.timestamp && (candidate.detachedAt === null || reading.timestamp <= candidate.detachedAt),
    );
    if (leg === undefined) {
      return waitOr("not-attached", `device ${reading.device} is not attached to batch ${reading.batchId} at ${reading.timestamp}`);
    }
    const carrierOrLoad = cached(carriers, leg.carrier, () => store.getParticipant(leg.carrier));
    const carrier = isPromise(carrierOrLoad) ? await carrierOrLoad : carrierOrLoad;
    if (carrier?.suspended === true) return reject("carrier-suspended", `carrier ${leg.carrier} is suspended`, reading);
    return { reading, leg, receivedAt, signatureChecked };
  };

  /** The sequence check, in arrival order, once the signature is known good. */
  const admit = async ({ reading, leg, receivedAt }: Candidate): Promise<ReadingVerdict> => {
    if (!lastSequence.has(reading.device)) {
      const stored = await store.lastReadingSequences([reading.device]);
      if (!lastSequence.has(reading.device)) lastSequence.set(reading.device, stored.get(reading.device) ?? null);
    }
    const last = lastSequence.get(reading.device) ?? null;
    if (last !== null && reading.sequence <= last) {
      const replay =
        (recent.get(reading.device) ?? []).includes(reading.sequence) || (await store.hasReading(reading.device, reading.sequence));
      return replay
        ? reject("replay", `sequence ${reading.sequence} of device ${reading.device} was already accepted`, reading)
        : reject("out-of-order", `sequence ${reading.sequence} arrived after ${last}`, reading);
    }
    lastSequence.set(reading.device, reading.sequence);
    const window = recent.get(reading.device) ?? [];
    window.push(reading.sequence);
    if (window.length > RECENT_SEQUENCES) window.shift();
    recent.set(reading.device, window);
    return { accepted: true, reading: { ...reading, legId: leg.legId, receivedAt } };
  };

  type Signed = Candidate | WaitCandidate;
  // On the pool the digests are computed there too.
  const checkSignatures =
    signaturePool !== undefined
      ? (items: Signed[]) =>
          signaturePool.checkReadings(
            domain,
            items.map(({ reading }) => reading),
          )
      : async (items: Signed[]) => items.map(({ reading }) => signatures.signedBy(digestOf(reading), reading.signature, reading.device));

  const verifyBatch = async (arrivals: Arrival[], waitingDevices: ReadonlySet<Hex> | null): Promise<(ReadingVerdict | MirrorWait)[]> => {
    const prechecked: Prechecked[] = [];
    for (const arrival of arrivals) prechecked.push(await precheck(arrival, waitingDevices !== null));
    const unchecked = prechecked.filter((item): item is Signed => !("accepted" in item) && !item.signatureChecked);
    const signed = unchecked.length > 0 ? await checkSignatures(unchecked) : [];
    const badSignature = new Set<Signed>();
    signed.forEach((good, index) => good || badSignature.add(unchecked[index]!));
    const waiting = new Set(waitingDevices ?? []);
    const verdicts: (ReadingVerdict | MirrorWait)[] = [];
    for (let index = 0; index < prechecked.length; index++) {
      const item = prechecked[index]!;
      if ("accepted" in item) {
        verdicts.push(item);
        continue;
      }
      const { reading } = item;
      if (badSignature.has(item)) {
        verdicts.push(reject("bad-signature", `the signature does not recover to device ${reading.device}`, reading));
      } else if ("waiting" in item) {
        waiting.add(reading.device);
        verdicts.push({ accepted: false, waiting: item.waiting, detail: item.detail, device: reading.device, sequence: reading.sequence });
      } else if (waiting.has(reading.device) && arrivals[index]!.final !== true) {
        verdicts.push({
          accepted: false,
          waiting: "earlier-readings",
          detail: `earlier readings of device ${reading.device} wait for the mirror`,
          device: reading.device,
          sequence: reading.sequence,
        });
      } else verdicts.push(await admit(item));
    }
    return verdicts;
  };

  const verifyAll = (arrivals: Arrival[]) => verifyBatch(arrivals, null) as Promise<ReadingVerdict[]>;

  return {
    async verify(payload, receivedAt) {
      return (await verifyAll([{ payload, receivedAt }]))[0]!;
    },

    verifyAll,

    verifyAllOrWait: verifyBatch,

    mirrorAdvanced() {
      devices.clear();
      legs.clear();
      carriers.clear();
    },

    forgetUnstored(readings) {
      for (const { device } of readings) {
        lastSequence.delete(device);
        recent.delete(device);
      }
    },

    forgetAccepted(reading) {
      // Another instance stored this sequence first: it stays the last accepted one, but not by us.
      const window = recent.get(reading.device);
      if (window !== undefined && !window.includes(reading.sequence)) window.push(reading.sequence);
    },
  };
}
