/**
 * Who the relayer pays gas for. The chain decides what is allowed (the simulation proves it); this policy adds
 * early, readable refusals and keeps the relayer from sponsoring strangers: a relayed call must come from an
 * onboarded, non-suspended participant holding the role the function needs, or from an admin for admin functions.
 * The one exception is a unit ownership token's owner (a shopper, not a participant): the relayer pays for moving
 * that owner's own token, and for nothing else the owner might ask.
 */
import { ROLE_HASHES, type ParticipantRole } from "../chain/vocabulary.ts";

/** The Provena contracts a partner may call through the relayer (the optional ones where the deployment has them). */
export type RelayTarget =
  "registry" | "escrow" | "designRegistry" | "productData" | "coldChain" | "unitOwnership" | "logisticUnits" | "transformations";

export type RelayRequirement =
  /** Any onboarded, non-suspended participant (custody moves: the contract checks the custodian/receiver). */
  | { kind: "participant" }
  /** An active participant holding one of these roles. */
  | { kind: "role"; anyOf: ParticipantRole[] }
  /** The contract's DEFAULT_ADMIN_ROLE (admin functions; admins need not be participants). */
  | { kind: "admin" }
  /** A role checked with the target contract's own AccessControl (e.g. the escrow's ARBITER_ROLE). */
  | { kind: "contractRole"; role: string; roleHash: string }
  /** The current owner of the UnitOwnership token the call moves, moving it from its own account. */
  | { kind: "tokenOwner" }
  /**
   * Any account, for a call that only helps everyone and that the contract allows once per subject (e.g. flagging a
   * recalled batch): refused while the same call is already queued, so fresh keys cannot make the relayer pay twice.
   */
  | { kind: "anyone" };

const ADMIN_FUNCTIONS = new Set([
  "onboardParticipant",
  "updateParticipant",
  "suspendParticipant",
  "reinstateParticipant",
  "setCustodyObserver",
  "grantCompanyPrefix",
  "revokeCompanyPrefix",
  "grantRole",
  "revokeRole",
  "setPlatformFee",
  "setOrderLimits",
  "setTokenAllowed",
  "setColdChain",
  "setPlatformFeeRecipient",
  "setArbitrationPeriod",
  "pause",
  "unpause",
]);

const REGISTRY_ROLE_FUNCTIONS: Record<string, ParticipantRole[]> = {
  registerBatch: ["MANUFACTURER"],
  attestQuality: ["INSPECTOR"],
  recallBatch: ["MANUFACTURER", "REGULATOR"],
};

/** Cold-chain functions and the participant role each needs (the contract checks the device's carrier, the
 * batch's custodian or manufacturer); submitExcursion is anyone's: the evidence proves itself. */
const COLD_CHAIN_ROLE_FUNCTIONS: Record<string, ParticipantRole[]> = {
  registerDevice: ["CARRIER"],
  retireDevice: ["CARRIER"],
  attachDevice: ["CARRIER"],
  detachDevice: ["CARRIER"],
  anchorReadings: ["CARRIER"],
  setProductConditions: ["MANUFACTURER"],
  setBatchConditions: ["MANUFACTURER"],
};

/** The product-data anchors: only manufacturers publish, or anchor a product model's documents (the contract checks the prefix or the batch). */
const PRODUCT_DATA_ROLE_FUNCTIONS: Record<string, ParticipantRole[]> = {
  publishProductData: ["MANUFACTURER"],
  publishBatchData: ["MANUFACTURER"],
  anchorProductDocument: ["MANUFACTURER"],
};
/** Product-data functions any active participant may have relayed (a document anchor: custodians, inspectors…). */
const PRODUCT_DATA_PARTICIPANT_FUNCTIONS = new Set(["anchorBatchDocument"]);

/**
 * UnitOwnership: a manufacturer commits its batch's claim root, an owner transfers its token, the admin sets the base
 * URI. Claims go through the claim relay (POST /api/v1/ownership/claims), which checks the claim key and proofs before
 * the relayer pays; approvals are not sponsored (they move nothing, and any account could ask for them).
 */
const UNIT_OWNERSHIP_TRANSFERS = new Set(["transferFrom", "safeTransferFrom"]);

function unitOwnershipRequirement(functionName: string): RelayRequirement | { kind: "refused"; reason: string } {
  if (functionName === "commitClaimRoot") return { kind: "role", anyOf: ["MANUFACTURER"] };
  if (UNIT_OWNERSHIP_TRANSFERS.has(functionName)) return { kind: "tokenOwner" };
  if (functionName === "setBaseURI") return { kind: "admin" };
  if (functionName === "claim") {
    return { kind: "refused", reason: "claims are relayed by POST /api/v1/ownership/claims, not through the forwarder" };
  }
  return { kind: "refused", reason: `${functionName} cannot be relayed` };
}

/**
 * LogisticUnits: custodians create, pack, hand off, accept and unpack containers (the contract checks who holds
 * what); flagging a packed recalled batch is anyone's (the contract counts it only once, only when it is true).
 */
const LOGISTIC_UNITS_PARTICIPANT_FUNCTIONS = new Set([
  "createContainer",
  "packBatches",
  "packContainer",
  "unpackBatches",
  "unpackContainer",
  "proposeContainerHandoff",
  "acceptContainerHandoff",
  "rejectContainerHandoff",
  "cancelContainerHandoff",
  "renewBatchRelease",
]);

function logisticUnitsRequirement(functionName: string): RelayRequirement | { kind: "refused"; reason: string } {
  if (functionName === "flagRecalledBatch") return { kind: "anyone" };
  if (LOGISTIC_UNITS_PARTICIPANT_FUNCTIONS.has(functionName)) return { kind: "participant" };
  return { kind: "refused", reason: `${functionName} cannot be relayed` };
}

/**
 * Transformations: a processor records its merge (the contract checks that it holds every input, offered to the
 * contract, and registered every output itself); flagging an output of a recalled input is anyone's, like the
 * container flag.
 */
function transformationsRequirement(functionName: string): RelayRequirement | { kind: "refused"; reason: string } {
  if (functionName === "flagRecalledInput") return { kind: "anyone" };
  if (functionName === "transform") return { kind: "participant" };
  return { kind: "refused", reason: `${functionName} cannot be relayed` };
}

/** Functions nobody should relay: reads, and hooks only other contracts call. */
const NOT_RELAYABLE = new Set(["setBatchWatched", "watchBatch", "onCustodyAccepted", "onQualityAttested", "renounceRole"]);

export function relayRequirement(target: RelayTarget, functionName: string): RelayRequirement | { kind: "refused"; reason: string } {
  if (NOT_RELAYABLE.has(functionName)) return { kind: "refused", reason: `${functionName} cannot be relayed` };
  if (target === "unitOwnership") return unitOwnershipRequirement(functionName);
  if (target === "logisticUnits") return logisticUnitsRequirement(functionName);
  if (target === "transformations") return transformationsRequirement(functionName);
  if (ADMIN_FUNCTIONS.has(functionName)) return { kind: "admin" };
  if (target === "coldChain") {
    const roles = COLD_CHAIN_ROLE_FUNCTIONS[functionName];
    return roles ? { kind: "role", anyOf: roles } : { kind: "participant" };
  }
  if (target === "productData") {
    const roles = PRODUCT_DATA_ROLE_FUNCTIONS[functionName];
    if (roles) return { kind: "role", anyOf: roles };
    if (PRODUCT_DATA_PARTICIPANT_FUNCTIONS.has(functionName)) return { kind: "participant" };
    return { kind: "refused", reason: `${functionName} cannot be relayed` };
  }
  if (target === "registry") {
    const roles = REGISTRY_ROLE_FUNCTIONS[functionName];
    return roles ? { kind: "role", anyOf: roles } : { kind: "participant" };
  }
  if (functionName === "resolveDispute") return { kind: "contractRole", role: "ARBITER", roleHash: ROLE_HASHES.ARBITER };
  return { kind: "participant" };
}
