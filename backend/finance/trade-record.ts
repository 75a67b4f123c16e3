/**
 * Verifiable trade records: what a seller hands a financier (a bank, a factoring company) to finance an escrow order.
 *
 * A record names the order by its full terms (so anyone recomputes the order id), the escrow's state as of one block,
 * and references (transaction hash and log index, nothing more) to every chain event the seller relies on: the
 * order's escrow events, and the custody, inspection, split and recall events of its goods (the batch and every lot
 * it was split from). The seller signs it as EIP-712 typed data under TRADE_RECORD_DOMAIN_NAME, so any wallet shows
 * what is signed and any EIP-712 library checks it.
 *
 * Nothing in it is taken on trust: trade-record-verifier.ts re-reads every referenced log from a node the financier
 * chooses, asks the escrow for the order's state at the record's block and now, and searches the chain for events of
 * the order and its goods the record leaves out (a failed inspection, a recall), so a seller cannot hand over a
 * flattering subset. The record is also the seller's consent: whoever holds it may follow the order until it settles.
 */
import { AbiCoder, keccak256, type Interface, type ParamType, type TypedDataDomain, type TypedDataField } from "ethers";
import { z } from "zod";
import type { Hex, OrderState } from "../domain/model.ts";

export const TRADE_RECORD_FORMAT = "provena-trade-record/1";
export const TRADE_RECORD_DOMAIN_NAME = "Provena Trade Record";
export const TRADE_RECORD_DOMAIN_VERSION = "1";
/** More references than any real order's story needs; it bounds what a verifier is asked to fetch. */
export const MAX_TRADE_RECORD_EVENTS = 2_000;

/** One chain event, by where it is: its transaction and its log index in that block. */
export interface TradeRecordEventRef {
  transactionHash: Hex;
  logIndex: number;
}

/** The escrow's Order struct as JSON: integers as decimal strings, addresses and hashes as lower-case hex. */
export type OrderTermsJson = Record<string, string | number>;

/** What the seller claims, all of it signed. */
export interface TradeRecordClaims {
  format: typeof TRADE_RECORD_FORMAT;
  chainId: number;
  escrow: Hex;
  registry: Hex;
  orderId: Hex;
  /** The order's terms, field for field as the escrow's Order struct (its keccak256 ABI encoding is the order id). */
  order: OrderTermsJson;
  /** The block the claims are made at; the escrow state below is the one at this block. */
  asOf: { blockNumber: number; blockHash: Hex };
  escrowState: OrderState;
  /** The order's escrow events and its goods' registry events up to `asOf`, in chain order. */
  events: TradeRecordEventRef[];
  /** Unix seconds the seller issued the record. */
  issuedAt: number;
}

export interface TradeRecord extends TradeRecordClaims {
  /** The seller's EIP-712 signature over the claims (see tradeRecordTypedData). */
  signature: Hex;
}

export const TRADE_RECORD_TYPES: Record<string, TypedDataField[]> = {
  TradeRecord: [
    { name: "orderId", type: "bytes32" },
    { name: "escrow", type: "address" },
    { name: "registry", type: "address" },
    { name: "escrowState", type: "string" },
    { name: "asOfBlock", type: "uint64" },
    { name: "asOfBlockHash", type: "bytes32" },
    { name: "events", type: "EventRef[]" },
    { name: "issuedAt", type: "uint64" },
  ],
  EventRef: [
    { name: "transactionHash", type: "bytes32" },
    { name: "logIndex", type: "uint32" },
  ],
};

/**
 * The typed data the seller signs. The order's terms are bound through its id (a hash of all of them), the chain
 * through the domain; the escrow is the verifying contract so a record for one deployment never passes for another.
 */
export function tradeRecordTypedData(claims: TradeRecordClaims): {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: "TradeRecord";
  message: Record<string, unknown>;
} {
  return {
    domain: {
      name: TRADE_RECORD_DOMAIN_NAME,
      version: TRADE_RECORD_DOMAIN_VERSION,
      chainId: claims.chainId,
      verifyingContract: claims.escrow,
    },
    types: TRADE_RECORD_TYPES,
    primaryType: "TradeRecord",
    message: {
      orderId: claims.orderId,
      escrow: claims.escrow,
      registry: claims.registry,
      escrowState: claims.escrowState,
      asOfBlock: claims.asOf.blockNumber,
      asOfBlockHash: claims.asOf.blockHash,
      events: claims.events.map((ref) => ({ transactionHash: ref.transactionHash, logIndex: ref.logIndex })),
      issuedAt: claims.issuedAt,
    },
  };
}

/** The escrow's Order tuple type, from its ABI (the input of `orderIdOf`), so the record follows the deployed struct. */
export function orderTupleType(escrowInterface: Interface): ParamType {
  const fragment = escrowInterface.getFunction("orderIdOf");
  const tuple = fragment?.inputs[0];
  if (tuple === undefined || tuple.baseType !== "tuple") throw new Error("the escrow ABI has no orderIdOf(Order)");
  return tuple;
}

/** The order id the escrow computes: keccak256 of the ABI-encoded Order. Throws when the terms do not fit the struct. */
export function orderIdOfTerms(escrowInterface: Interface, order: OrderTermsJson): Hex {
  const tuple = orderTupleType(escrowInterface);
  const names = (tuple.components ?? []).map((component) => component.name);
  const extra = Object.keys(order).filter((key) => !names.includes(key));
  if (extra.length > 0) throw new Error(`the order has fields the escrow's Order struct does not: ${extra.join(", ")}`);
  const missing = names.filter((name) => !(name in order));
  if (missing.length > 0) throw new Error(`the order lacks fields of the escrow's Order struct: ${missing.join(", ")}`);
  return keccak256(AbiCoder.defaultAbiCoder().encode([tuple], [order])) as Hex;
}

/** The Order struct as JSON terms (bigints as decimal strings, hex lower-cased). */
export function orderTermsJson(struct: Record<string, unknown>): OrderTermsJson {
  const terms: OrderTermsJson = {};
  for (const [key, value] of Object.entries(struct)) {
    if (typeof value === "bigint") terms[key] = value.toString();
    else if (typeof value === "number") terms[key] = value;
    else if (typeof value === "string") terms[key] = value.toLowerCase();
    else throw new Error(`order field ${key} is not a scalar`);
  }
  return terms;
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex string");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const lower = <T extends string>(value: T) => value.toLowerCase() as Hex;

/** A trade record as received: the shape is checked here, every claim by the verifier. */
export const tradeRecordSchema = z.strictObject({
  format: z.literal(TRADE_RECORD_FORMAT, { error: `must be "${TRADE_RECORD_FORMAT}"` }),
  chainId: z.int().positive(),
  escrow: address.transform(lower),
  registry: address.transform(lower),
  orderId: hex32.transform(lower),
  order: z
    .record(z.string().max(64), z.union([z.string().max(80), z.int()]))
    .refine((order) => Object.keys(order).length <= 32, "has too many fields"),
  asOf: z.strictObject({ blockNumber: z.int().nonnegative(), blockHash: hex32.transform(lower) }),
  escrowState: z.enum(["funded", "delivered", "disputed", "released", "refunded", "resolved", "cancelled"]),
  events: z
    .array(z.strictObject({ transactionHash: hex32.transform(lower), logIndex: z.int().nonnegative().max(0xffff_ffff) }))
    .max(MAX_TRADE_RECORD_EVENTS, `must list at most ${MAX_TRADE_RECORD_EVENTS} events`),
  issuedAt: z.int().nonnegative(),
  signature: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})+$/, "must be 0x-prefixed hex bytes")
    .max(4_098)
    .transform(lower),
});
