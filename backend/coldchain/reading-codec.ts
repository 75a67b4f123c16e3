/**
 * Device readings: the EIP-712 typed data a device signs (IColdChain.Reading, domain "Provena ColdChain" version
 * "1" on the deployment's chain and cold-chain contract) and the JSON wire format devices publish.
 *
 * Wire format: one JSON object per reading (an HTTP body may also be an array of them), every field required
 * except humidity, latitude and longitude, in the contract's integer units:
 *
 *   {
 *     "device":      "0x…",    the device's address (20 bytes hex)
 *     "batchId":     "0x…",    the batch it is attached to (bytes32 hex)
 *     "sequence":    42,       the device's reading counter, +1 per reading over its whole life
 *     "timestamp":   1767225600, unix seconds when measured
 *     "temperature": 512,      hundredths of a degree Celsius (5.12 °C)
 *     "humidity":    6150,     hundredths of a percent (61.5 %), null or absent without a sensor
 *     "latitude":    52520008, millionths of a degree, null or absent without a GPS fix (both or neither)
 *     "longitude":   13404954,
 *     "signature":   "0x…"     65-byte EIP-712 signature of the Reading by the device's key
 *   }
 *
 * A missing humidity is signed as type(uint16).max and a missing position as type(int32).min for both
 * coordinates, exactly as the contract expects them. About 330 bytes a reading.
 */
import { TypedDataEncoder, keccak256, toUtf8Bytes, type TypedDataDomain, type TypedDataField } from "ethers";
import { z } from "zod";
import { NO_HUMIDITY, NO_POSITION, type SignedReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";

export const READING_DOMAIN_NAME = "Provena ColdChain";
export const READING_DOMAIN_VERSION = "1";

/** IColdChain's EIP-712 `Reading` type (ColdChain.READING_TYPEHASH), as ethers takes typed data. */
export const READING_TYPES: Record<string, TypedDataField[]> = {
  Reading: [
    { name: "device", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "sequence", type: "uint64" },
    { name: "timestamp", type: "uint40" },
    { name: "temperature", type: "int16" },
    { name: "humidity", type: "uint16" },
    { name: "latitude", type: "int32" },
    { name: "longitude", type: "int32" },
  ],
};

/** The EIP-712 domain of the cold-chain contract at `coldChain` on `chainId`. */
export function readingDomain(chainId: number, coldChain: Hex): TypedDataDomain {
  return { name: READING_DOMAIN_NAME, version: READING_DOMAIN_VERSION, chainId, verifyingContract: coldChain };
}

/** The Reading struct as EIP-712 values (what is signed: the signature left out). */
export function readingStruct(reading: Omit<SignedReading, "signature">) {
  return {
    device: reading.device,
    batchId: reading.batchId,
    sequence: reading.sequence,
    timestamp: reading.timestamp,
    temperature: reading.temperature,
    humidity: reading.humidity,
    latitude: reading.latitude,
    longitude: reading.longitude,
  };
}

const READING_TYPEHASH = keccak256(
  toUtf8Bytes(
    "Reading(address device,bytes32 batchId,uint64 sequence,uint40 timestamp,int16 temperature,uint16 humidity,int32 latitude,int32 longitude)",
  ),
).slice(2);

/** Writes one ABI word of a (signed) safe integer at `offset`: two's complement over 256 bits, as abi.encode does. */
function writeWord(buffer: Buffer, offset: number, value: number): void {
  buffer.fill(value < 0 ? 0xff : 0, offset, offset + 24);
  buffer.writeBigInt64BE(BigInt(value), offset + 24);
}

/** abi.encode(READING_TYPEHASH, the reading's fields): nine 32-byte words. */
function encodeReading(reading: Omit<SignedReading, "signature">): Buffer {
  const encoded = Buffer.alloc(9 * 32);
  encoded.write(READING_TYPEHASH, 0, "hex");
  encoded.write(reading.device.slice(2), 32 + 12, "hex");
  encoded.write(reading.batchId.slice(2), 64, "hex");
  writeWord(encoded, 96, reading.sequence);
  writeWord(encoded, 128, reading.timestamp);
  writeWord(encoded, 160, reading.temperature);
  writeWord(encoded, 192, reading.humidity);
  writeWord(encoded, 224, reading.latitude);
  writeWord(encoded, 256, reading.longitude);
  return encoded;
}

/**
 * The struct hash (`hashReading`): the leaf anchored in a leg's Merkle root. Encoded by hand (the fields are
 * fixed-size words), several times faster than a generic EIP-712 encoder; the tests compare it with ethers'.
 */
export function readingHash(reading: Omit<SignedReading, "signature">): Hex {
  return keccak256(encodeReading(reading)) as Hex;
}

/** The digests a device signs (`readingDigest`) in one domain, its separator computed once. */
export function createReadingDigester(domain: TypedDataDomain): (reading: Omit<SignedReading, "signature">) => Hex {
  const prefix = Buffer.from(`1901${TypedDataEncoder.hashDomain(domain).slice(2)}`, "hex");
  return (reading) => {
    const message = Buffer.alloc(66);
    prefix.copy(message, 0);
    message.write(readingHash(reading).slice(2), 34, "hex");
    return keccak256(message) as Hex;
  };
}

/** The digest the device signs (`readingDigest`). */
export function readingDigest(domain: TypedDataDomain, reading: Omit<SignedReading, "signature">): Hex {
  return createReadingDigester(domain)(reading);
}

/** Largest wire reading the ingest reads (bytes); a bigger message is malformed without being parsed. */
export const MAX_READING_BYTES = 1_024;

const hex = (bytes: number) => new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
const integer = (min: number, max: number) => z.number().int().min(min).max(max);

const wireReadingSchema = z
  .object({
    device: z.string().regex(hex(20), "must be a 20-byte 0x address"),
    batchId: z.string().regex(hex(32), "must be a 32-byte 0x hex"),
    sequence: integer(0, Number.MAX_SAFE_INTEGER),
    timestamp: integer(0, 2 ** 40 - 1),
    temperature: integer(-32_768, 32_767),
    humidity: integer(0, 65_535).nullable().optional(),
    latitude: integer(-2_147_483_648, 2_147_483_647).nullable().optional(),
    longitude: integer(-2_147_483_648, 2_147_483_647).nullable().optional(),
    signature: z.string().regex(hex(65), "must be a 65-byte 0x signature"),
  })
  .strict()
  .refine((value) => (value.latitude ?? null) === null || (value.longitude ?? null) !== null, {
    message: "latitude and longitude come together",
    path: ["longitude"],
  })
  .refine((value) => (value.longitude ?? null) === null || (value.latitude ?? null) !== null, {
    message: "latitude and longitude come together",
    path: ["latitude"],
  });

export type ParsedReading = { ok: true; reading: SignedReading } | { ok: false; error: string };

/** A wire reading (already JSON-parsed) as a SignedReading with lower-case hex, or why it is malformed. */
export function parseWireReading(value: unknown): ParsedReading {
  const result = wireReadingSchema.safeParse(value);
  if (!result.success) {
    return { ok: false, error: result.error.issues.map((issue) => `${issue.path.join(".") || "(reading)"} ${issue.message}`).join("; ") };
  }
  const wire = result.data;
  return {
    ok: true,
    reading: {
      device: wire.device.toLowerCase() as Hex,
      batchId: wire.batchId.toLowerCase() as Hex,
      sequence: wire.sequence,
      timestamp: wire.timestamp,
      temperature: wire.temperature,
      humidity: wire.humidity ?? NO_HUMIDITY,
      latitude: wire.latitude ?? NO_POSITION,
      longitude: wire.longitude ?? NO_POSITION,
      signature: wire.signature.toLowerCase() as Hex,
    },
  };
}

/** The wire form of a reading (absent humidity and position as null). */
export function toWireReading(reading: SignedReading) {
  return {
    device: reading.device,
    batchId: reading.batchId,
    sequence: reading.sequence,
    timestamp: reading.timestamp,
    temperature: reading.temperature,
    humidity: reading.humidity === NO_HUMIDITY ? null : reading.humidity,
    latitude: reading.latitude === NO_POSITION ? null : reading.latitude,
    longitude: reading.longitude === NO_POSITION ? null : reading.longitude,
    signature: reading.signature,
  };
}
