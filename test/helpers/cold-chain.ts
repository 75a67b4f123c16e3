/**
 * Device-signed readings for the ColdChain tests: the EIP-712 `Reading` type, signing, and runs of readings.
 */
import { Signature, type Wallet } from "ethers";
import { READING_TYPES } from "../../backend/coldchain/reading-codec.ts";

export { READING_TYPES };

/** No humidity sensor (`type(uint16).max`). */
export const NO_HUMIDITY = 0xffff;
/** No GPS fix (`type(int32).min`). */
export const NO_POSITION = -(2 ** 31);

export interface Reading {
  device: string;
  batchId: string;
  sequence: bigint;
  timestamp: bigint;
  temperature: number;
  humidity: number;
  latitude: number;
  longitude: number;
}

export interface Conditions {
  minTemperature: number;
  maxTemperature: number;
  minHumidity: number;
  maxHumidity: number;
  allowedExcursionSeconds: bigint;
}

/** 2 to 8 °C, humidity unconstrained, 30 minutes of excursion allowed. */
export const CHILLED: Conditions = {
  minTemperature: 200,
  maxTemperature: 800,
  minHumidity: 0,
  maxHumidity: 10_000,
  allowedExcursionSeconds: 1_800n,
};

export function readingDomain(chainId: bigint, coldChain: string) {
  return { name: "Provena ColdChain", version: "1", chainId, verifyingContract: coldChain };
}

/** `device`'s EIP-712 signature of `reading`. */
export async function signReading(device: Wallet, domain: ReturnType<typeof readingDomain>, reading: Reading): Promise<string> {
  return device.signTypedData(domain, READING_TYPES, reading);
}

/** The same signature with s' = n - s and v flipped: valid for ecrecover, refused as malleable by OpenZeppelin's ECDSA. */
export function malleate(signature: string): string {
  const parsed = Signature.from(signature);
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const highS = n - BigInt(parsed.s);
  const v = parsed.v === 27 ? 28 : 27;
  return parsed.r + highS.toString(16).padStart(64, "0") + v.toString(16);
}

export interface RunOptions {
  firstSequence: bigint;
  count: number;
  fromTime: bigint;
  /** Seconds between readings (default 60). */
  step?: bigint;
  /** Centi-degrees (default 1,200: 12 °C, too warm for CHILLED). */
  temperature?: number;
  humidity?: number;
}

/** `count` consecutive readings of `device` on `batchId`, `step` seconds apart. */
export function readingRun(device: string, batchId: string, options: RunOptions): Reading[] {
  const step = options.step ?? 60n;
  return Array.from({ length: options.count }, (_, index) => ({
    device,
    batchId,
    sequence: options.firstSequence + BigInt(index),
    timestamp: options.fromTime + step * BigInt(index),
    temperature: options.temperature ?? 1_200,
    humidity: options.humidity ?? NO_HUMIDITY,
    latitude: 52_370_216,
    longitude: 4_895_168,
  }));
}
