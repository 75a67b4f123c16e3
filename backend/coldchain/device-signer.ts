/**
 * A device's side of the protocol: signs readings with its own key (tests, the simulator and the benchmark play
 * devices with it). The sequence counter lives here, one per device, as on a real sensor.
 */
import { SigningKey, Wallet, type TypedDataDomain } from "ethers";
import { NO_HUMIDITY, NO_POSITION, type SignedReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import { readingDigest, readingStruct } from "./reading-codec.ts";

export interface Measurement {
  batchId: Hex;
  timestamp: number;
  temperature: number;
  humidity?: number | null;
  latitude?: number | null;
  longitude?: number | null;
}

export interface DeviceSigner {
  readonly address: Hex;
  /** The sequence the next reading gets. */
  readonly nextSequence: number;
  /** Signs the next reading (sequence + 1) of `measurement`. */
  sign(measurement: Measurement): SignedReading;
  /** Signs a reading with an explicit sequence, the counter untouched (tests forge replays and gaps with it). */
  signWithSequence(measurement: Measurement, sequence: number): SignedReading;
}

export function createDeviceSigner(privateKey: string, domain: TypedDataDomain, firstSequence = 1): DeviceSigner {
  const key = new SigningKey(privateKey);
  const address = new Wallet(privateKey).address.toLowerCase() as Hex;
  let next = firstSequence;
  const signWithSequence = (measurement: Measurement, sequence: number): SignedReading => {
    const reading = {
      device: address,
      batchId: measurement.batchId.toLowerCase() as Hex,
      sequence,
      timestamp: measurement.timestamp,
      temperature: measurement.temperature,
      humidity: measurement.humidity ?? NO_HUMIDITY,
      latitude: measurement.latitude ?? NO_POSITION,
      longitude: measurement.longitude ?? NO_POSITION,
    };
    // Synchronous signing of the digest: the same signature Wallet.signTypedData gives, without a promise per reading.
    const signature = key.sign(readingDigest(domain, reading)).serialized as Hex;
    return { ...readingStruct(reading), signature };
  };
  return {
    address,
    get nextSequence() {
      return next;
    },
    sign(measurement) {
      return signWithSequence(measurement, next++);
    },
    signWithSequence,
  };
}
