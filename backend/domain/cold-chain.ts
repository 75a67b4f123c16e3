/**
 * The cold chain's documents (IColdChain, contracts/interfaces/IColdChain.sol): devices, their legs on batches,
 * the conditions goods must be kept in, anchored reading roots, established breaches, and the device-signed
 * readings the backend ingests. Units are the contract's: temperatures in hundredths of a degree Celsius,
 * humidity in hundredths of a percent (NO_HUMIDITY without a sensor), positions in millionths of a degree
 * (NO_POSITION for both without a GPS fix).
 */
import type { EventRef, Hex } from "./model.ts";

/** `type(uint16).max`: the device has no humidity sensor. */
export const NO_HUMIDITY = 65_535;
/** `type(int32).min`: the device had no GPS fix (latitude and longitude both). */
export const NO_POSITION = -2_147_483_648;

export interface ColdChainConditions {
  minTemperature: number; // centi-degrees Celsius
  maxTemperature: number;
  minHumidity: number; // centi-percent
  maxHumidity: number;
  allowedExcursionSeconds: number;
}

export interface ColdChainDevice {
  address: Hex;
  carrier: Hex;
  retired: boolean;
  /** The open leg, null while detached. */
  currentLegId: Hex | null;
  registered: EventRef;
  lastEvent: EventRef;
}

/** One attachment of a device to a batch: readings between attachedAt and detachedAt belong to it. */
export interface ColdChainLeg {
  legId: Hex;
  device: Hex;
  batchId: Hex;
  carrier: Hex;
  attachedAt: number; // unix seconds
  detachedAt: number | null;
  /** Cumulative excursion the contract has accepted evidence for. */
  excursionSeconds: number;
  breached: boolean;
  attached: EventRef;
  lastEvent: EventRef;
}

/** The conditions of one batch: its own (until frozen), and those frozen in force when its first leg started. */
export interface BatchColdChainConditions {
  batchId: Hex;
  own: ColdChainConditions | null;
  ownSetBy: Hex | null;
  frozen: ColdChainConditions | null;
  lastEvent: EventRef;
}

/** Conditions for every batch of a GTIN that has none of its own. */
export interface ProductColdChainConditions {
  gtin: string; // 14 digits
  conditions: ColdChainConditions;
  setBy: Hex;
  lastEvent: EventRef;
}

/** A Merkle root committing the readings of a leg between two sequences (ReadingsAnchored). */
export interface ReadingsAnchor {
  legId: Hex;
  root: Hex;
  anchoredBy: Hex;
  count: number;
  firstSequence: number;
  lastSequence: number;
  fromTime: number;
  toTime: number;
  at: EventRef;
}

/**
 * A root the backend's anchorer built from its own stored readings of a leg (backend/coldchain/anchor-worker.ts):
 * its leaves are the leg's readings with a sequence in [firstSequence, lastSequence] and a timestamp in
 * [fromTime, toTime] (anchor-tree.ts), so the tree can be rebuilt from the store. Which roots are on chain is the
 * mirror's ReadingsAnchor; a plan only says which of them the backend can prove readings against.
 */
export interface ReadingsAnchorPlan {
  legId: Hex;
  root: Hex;
  count: number;
  firstSequence: number;
  lastSequence: number;
  fromTime: number;
  toTime: number;
  /** The relayer job that sends it. */
  jobId: string;
  plannedAt: number; // unix ms
}

/** A breach established on chain (BreachEstablished): the leg's cumulative excursion exceeded the allowance. */
export interface ColdChainBreach {
  batchId: Hex;
  legId: Hex;
  carrier: Hex;
  breachedAt: number;
  cumulativeSeconds: number;
  at: EventRef;
}

/** What one indexed range changes in the cold chain: new versions of mutable documents, new facts. */
export interface ColdChainChanges {
  devices: ColdChainDevice[];
  legs: ColdChainLeg[];
  batchConditions: BatchColdChainConditions[];
  productConditions: ProductColdChainConditions[];
  anchors: ReadingsAnchor[];
  breaches: ColdChainBreach[];
}

export const emptyColdChainChanges = (): ColdChainChanges => ({
  devices: [],
  legs: [],
  batchConditions: [],
  productConditions: [],
  anchors: [],
  breaches: [],
});

/** One device-signed reading (IColdChain.Reading) with its signature. */
export interface SignedReading {
  device: Hex;
  batchId: Hex;
  sequence: number;
  timestamp: number; // unix seconds
  temperature: number; // centi-degrees Celsius
  humidity: number; // centi-percent, NO_HUMIDITY without a sensor
  latitude: number; // micro-degrees, NO_POSITION without a fix
  longitude: number;
  signature: Hex;
}

/** An accepted reading as stored: the leg it belongs to and when the backend received it. */
export interface StoredReading extends SignedReading {
  legId: Hex;
  receivedAt: number; // unix ms
}

export const REJECTION_REASONS = [
  "malformed",
  "unknown-device",
  "device-retired",
  "not-attached",
  "carrier-suspended",
  "bad-signature",
  "replay",
  "out-of-order",
  "temperature-out-of-range",
  "humidity-out-of-range",
  "position-out-of-range",
  "future-timestamp",
  /** The ingest queue was full: the reading was not checked (the device should send it again). */
  "overloaded",
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** A reading the backend refused, kept with the reason. `payload` is what arrived (cut to a bounded size). */
export interface RejectedReading {
  reason: RejectionReason;
  detail: string;
  device: Hex | null;
  sequence: number | null;
  source: "mqtt" | "http";
  receivedAt: number; // unix ms
  payload: string;
}
