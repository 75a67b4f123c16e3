/**
 * The chain's vocabulary, declared once: AccessControl role names and hashes, the names of the Solidity enums the
 * contracts take and log (the ABI carries only their uint8 values), and the EPCIS CBV business steps.
 * Names are the mirror's (backend/domain/model.ts): snake_case values in declaration order, so a value's index is
 * its on-chain number.
 */
import { ZeroHash, id as keccakText } from "ethers";
import type { BatchStatus, Hex, InspectionResult, OrderState } from "../domain/model.ts";

// --- roles ---------------------------------------------------------------------------------------------------

/** ProvenanceRegistry's participant roles (`<NAME>_ROLE`). */
export const PARTICIPANT_ROLES = ["MANUFACTURER", "CARRIER", "INSPECTOR", "RETAILER", "REGULATOR"] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

/** Every named role: the participant roles and TradeEscrow's ARBITER_ROLE. */
export const NAMED_ROLES = [...PARTICIPANT_ROLES, "ARBITER"] as const;
export type NamedRole = (typeof NAMED_ROLES)[number];

/**
 * The mirror's role names: the named roles, and DEFAULT_ADMIN_ROLE as "ADMIN" on the registry (the consortium
 * admin) and "ESCROW_ADMIN" on the escrow, so revoking one never hides the other. Other roles keep their hash.
 */
export const MIRROR_ROLE_NAMES = [...NAMED_ROLES, "ADMIN", "ESCROW_ADMIN"] as const;

/** keccak256 of a role's Solidity constant name, e.g. roleHash("CARRIER_ROLE"). */
export const roleHash = (roleConstantName: string): Hex => keccakText(roleConstantName) as Hex;

/** The bytes32 hash of each named role. */
export const ROLE_HASHES: Readonly<Record<NamedRole, Hex>> = Object.fromEntries(
  NAMED_ROLES.map((name) => [name, roleHash(`${name}_ROLE`)]),
) as Record<NamedRole, Hex>;

const ROLE_BY_HASH: ReadonlyMap<string, NamedRole> = new Map(NAMED_ROLES.map((name) => [ROLE_HASHES[name], name]));

/** The named role a hash stands for, or null (DEFAULT_ADMIN_ROLE is not named here: see `roleName`). */
export function namedRoleOf(hash: string): NamedRole | null {
  return ROLE_BY_HASH.get(hash.toLowerCase()) ?? null;
}

/** True for the zero hash, AccessControl's DEFAULT_ADMIN_ROLE. */
export function isDefaultAdminRole(hash: string): boolean {
  return hash.toLowerCase() === ZeroHash;
}

/** The mirror's name for a role granted by `contract` (see MIRROR_ROLE_NAMES); unknown roles keep their hash, lower-case. */
export function roleName(role: string, contract: string): string {
  if (isDefaultAdminRole(role)) return contract === "TradeEscrow" ? "ESCROW_ADMIN" : "ADMIN";
  return namedRoleOf(role) ?? role.toLowerCase();
}

// --- enums -----------------------------------------------------------------------------------------------------

/** IProvenanceRegistry.BatchStatus */
export const BATCH_STATUSES = ["none", "registered", "in_transit", "delivered", "split", "recalled"] as const satisfies readonly (
  "none" | BatchStatus
)[];

/** IProvenanceRegistry.InspectionResult */
export const INSPECTION_RESULTS = ["none", "passed", "failed"] as const satisfies readonly InspectionResult[];

/** IProvenanceRegistry.BusinessStep: urn:epcglobal:cbv:bizstep:<name> */
export const BUSINESS_STEPS = [
  "shipping",
  "receiving",
  "departing",
  "arriving",
  "storing",
  "loading",
  "unloading",
  "transporting",
  "inspecting",
  "accepting",
  "entering_exiting",
  "retail",
] as const;
export type BusinessStep = (typeof BUSINESS_STEPS)[number];

/** The uint8 the contracts take for a business step. */
export function businessStepValue(step: BusinessStep): number {
  return BUSINESS_STEPS.indexOf(step);
}

/** ITradeEscrow.OrderState */
export const ORDER_STATES = [
  "none",
  "funded",
  "delivered",
  "disputed",
  "released",
  "refunded",
  "resolved",
  "cancelled",
] as const satisfies readonly ("none" | OrderState)[];
export type ChainOrderState = (typeof ORDER_STATES)[number];

/** ITradeEscrow.RefundReason */
export const REFUND_REASONS = ["deadline_passed", "batch_recalled", "inspection_failed", "conditions_breached"] as const;

/** ITradeEscrow.BreachTerms: what a cold-chain breach of the carrier does to an order. */
export const BREACH_TERMS = ["none", "refund_freight", "reject_goods", "dispute"] as const;
export type BreachTermsName = (typeof BREACH_TERMS)[number];

/** Every enum the contracts log, by its Solidity name. */
export const ENUM_VALUE_NAMES: Readonly<Record<string, readonly string[]>> = {
  BatchStatus: BATCH_STATUSES,
  InspectionResult: INSPECTION_RESULTS,
  BusinessStep: BUSINESS_STEPS,
  OrderState: ORDER_STATES,
  RefundReason: REFUND_REASONS,
  BreachTerms: BREACH_TERMS,
};

/** The enum's simple name from an ABI internalType such as "enum IProvenanceRegistry.BusinessStep". */
export function enumNameOf(internalType: string | undefined): string | null {
  const match = /^enum\s+(?:[\w$]+\.)*([\w$]+)$/.exec(internalType ?? "");
  return match ? match[1]! : null;
}

/** A value's name as Solidity spells the member: "in_transit" is "InTransit". */
export function solidityMemberName(name: string): string {
  return name.replace(/(?:^|_)([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
