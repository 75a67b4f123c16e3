/**
 * Names of the Solidity enums the contracts log, in declaration order (the ABI only carries their uint8 values).
 * Names are the mirror's vocabulary (types.ts): snake_case, and EPCIS CBV names for business steps.
 */
import { keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import type { Hex } from "../domain/model.ts";

export const ENUM_VALUE_NAMES: Readonly<Record<string, readonly string[]>> = {
  // IProvenanceRegistry.BatchStatus
  BatchStatus: ["none", "registered", "in_transit", "delivered", "split", "recalled"],
  // IProvenanceRegistry.InspectionResult
  InspectionResult: ["none", "passed", "failed"],
  // IProvenanceRegistry.BusinessStep: urn:epcglobal:cbv:bizstep:<name>
  BusinessStep: [
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
  ],
  // ITradeEscrow.OrderState
  OrderState: ["none", "funded", "delivered", "disputed", "released", "refunded", "resolved", "cancelled"],
  // ITradeEscrow.RefundReason
  RefundReason: ["deadline_passed", "batch_recalled", "inspection_failed"],
};

/** The enum's simple name from an ABI internalType such as "enum IProvenanceRegistry.BusinessStep". */
export function enumNameOf(internalType: string | undefined): string | null {
  const match = /^enum\s+(?:[\w$]+\.)*([\w$]+)$/.exec(internalType ?? "");
  return match ? match[1]! : null;
}

export const roleHash = (roleName: string): Hex => keccak256(toUtf8Bytes(roleName)) as Hex;

/** Participant roles of ProvenanceRegistry and the escrow's arbiter role, by hash. */
const NAMED_ROLES: ReadonlyMap<Hex, string> = new Map(
  ["MANUFACTURER", "CARRIER", "INSPECTOR", "RETAILER", "REGULATOR", "ARBITER"].map((name) => [roleHash(`${name}_ROLE`), name]),
);

/**
 * The mirror's name for an AccessControl role granted by `contract`: "MANUFACTURER", …, "ARBITER";
 * DEFAULT_ADMIN_ROLE is "ADMIN" on the registry (the consortium admin) and "ESCROW_ADMIN" on the escrow, so
 * revoking one never hides the other. Unknown roles keep their hash.
 */
export function roleName(role: string, contract: string): string {
  if (role.toLowerCase() === ZeroHash) return contract === "TradeEscrow" ? "ESCROW_ADMIN" : "ADMIN";
  return NAMED_ROLES.get(role.toLowerCase() as Hex) ?? role.toLowerCase();
}
