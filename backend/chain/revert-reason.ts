/**
 * Turns revert data from any Provena contract into a sentence a partner can act on:
 * `BatchNotCustodian(0xab…, 0xcd…)` becomes "0xcd… is not the custodian of batch 0xab…".
 * The custom errors come from the compiled ABIs (never pasted copies); the sentences below only add wording.
 */
import { type ErrorDescription, Interface, isHexString, type InterfaceAbi } from "ethers";
import { BATCH_STATUSES, INSPECTION_RESULTS, ORDER_STATES, isDefaultAdminRole, namedRoleOf, solidityMemberName } from "./vocabulary.ts";

export interface DecodedRevert {
  /** The custom error's name ("BatchNotCustodian"), "Error" for require strings, "Panic", or null when unknown. */
  name: string | null;
  /** Decoded arguments by name (bigints as decimal strings, role hashes as role names). */
  args: Record<string, string | boolean>;
  /** One readable sentence. */
  message: string;
  /** The raw revert data. */
  data: string;
}

/** Enum arguments read as Solidity spells the member ("InTransit"), the way a partner reads the contracts. */
const ENUM_ARGS: Record<string, readonly string[]> = {
  status: BATCH_STATUSES.map(solidityMemberName),
  state: ORDER_STATES.map(solidityMemberName),
  inspection: INSPECTION_RESULTS.map(solidityMemberName),
};

const PANIC_REASONS: Record<number, string> = {
  0x01: "an assertion failed",
  0x11: "an arithmetic operation overflowed",
  0x12: "division by zero",
  0x21: "an invalid enum value",
  0x32: "an array index out of bounds",
  0x41: "out of memory",
  0x51: "a call to an uninitialised function",
};

type Args = Record<string, string | boolean>;

/** Sentences for the errors partners meet most; any other custom error is shown as `Name(arg=value, …)`. */
const SENTENCES: Record<string, (a: Args) => string> = {
  ParticipantAlreadyOnboarded: (a) => `${a.account} is already an onboarded participant`,
  ParticipantUnknown: (a) => `${a.account} is not an onboarded participant`,
  ParticipantIsSuspended: (a) => `participant ${a.account} is suspended and can do nothing until reinstated`,
  ParticipantNotSuspended: (a) => `participant ${a.account} is not suspended`,
  ParticipantUnauthorized: (a) => `${a.account} is not an active participant with the ${a.role} role`,
  ParticipantInvalidGln: (a) => `GLN ${a.gln} is not a valid 13-digit Global Location Number`,
  ParticipantInvalidRole: (a) => `${a.role} is not a participant role`,
  ParticipantZeroAddress: () => "the zero address cannot be a participant",
  CompanyPrefixInvalid: (a) =>
    `company prefix ${a.prefix} of ${a.length} digits is not valid (a GS1 company prefix has 4 to 12 digits, leading zeros counted)`,
  CompanyPrefixAlreadyGranted: (a) =>
    `company prefix ${companyPrefix(a)} is already granted to ${a.holder}; revoke it first to hand it to another manufacturer`,
  CompanyPrefixNotGranted: (a) => `company prefix ${companyPrefix(a)} is not granted to anyone`,
  CompanyPrefixWithinAnother: (a) =>
    `company prefix ${companyPrefix(a)} lies within a shorter company prefix of ${a.holder}; GS1 prefixes never nest (revoke that one first)`,
  BatchAlreadyRegistered: (a) => `a batch with this GTIN and lot is already registered (batch ${a.batchId})`,
  BatchUnknown: (a) => `no batch ${a.batchId} is registered`,
  BatchInvalidGtin: (a) => `GTIN ${a.gtin} is not valid (at most 14 digits with a correct check digit)`,
  BatchInvalidLot: (a) => `lot "${a.lot}" is not valid (1-20 characters of GS1 character set 82)`,
  BatchInvalidProductionDate: (a) => `production date ${isoTime(a.productionDate)} is not valid (must be set and not in the future)`,
  BatchInvalidQuantity: (a) => `quantity ${a.quantity} is not valid (must be at least 1)`,
  BatchInvalidSerialRoot: () => "the unit serial Merkle root must not be zero",
  BatchGtinNotLicensed: (a) =>
    a.holder === ZERO_ADDRESS
      ? `${a.manufacturer} may not register GTIN ${a.gtin}: no manufacturer holds its GS1 company prefix (the consortium admin grants prefixes)`
      : `${a.manufacturer} may not register GTIN ${a.gtin}: its GS1 company prefix belongs to ${a.holder}`,
  BatchLotReservedForSplits: (a) => `lot "${a.lot}" contains "/", which only the lots of split batches may contain (<parent lot>/<suffix>)`,
  SplitLotNotDerived: (a) =>
    `child lot "${a.lot}" is not derived from the lot of batch ${a.parentId}: a child's lot is <parent lot>/<suffix>, with no "/" in the suffix`,
  SplitSerialRootMismatch: (a) =>
    `a child of batch ${a.parentId} names serial root ${a.childRoot}, not its parent's ${a.parentRoot}: a split cannot add unit serials`,
  ProductDataZeroHash: () => "the content hash of product data or of a document must not be zero",
  ProductDataInvalidGtin: (a) => `GTIN ${a.gtin} is not valid (at most 14 digits with a correct check digit)`,
  ProductDataNotPrefixHolder: (a) =>
    a.holder === ZERO_ADDRESS
      ? `${a.account} may not publish product data of GTIN ${a.gtin}: no manufacturer holds its GS1 company prefix`
      : `${a.account} may not publish product data of GTIN ${a.gtin}: its GS1 company prefix belongs to ${a.holder}`,
  ProductDataBatchUnknown: (a) => `no batch ${a.batchId} is registered, so no data or document can be anchored for it`,
  ProductDataAnchorerInactive: (a) =>
    `${a.account} is not an active participant (not onboarded, or suspended), so it may not anchor documents`,
  ProductDataNotBatchManufacturer: (a) => `${a.account} may not publish data of batch ${a.batchId}: only its manufacturer may`,
  ProductDataPublisherInactive: (a) =>
    `${a.account} is not an active manufacturer (not onboarded, suspended, or without the MANUFACTURER role)`,
  BatchNotCustodian: (a) => `${a.account} is not the custodian of batch ${a.batchId}`,
  BatchInvalidStatus: (a) => `batch ${a.batchId} is ${a.status}, which does not allow this action`,
  HandoffNotReceiver: (a) => `${a.account} is not the receiver of the pending handoff of batch ${a.batchId}`,
  HandoffToSelf: (a) => `batch ${a.batchId} cannot be handed off to its current custodian`,
  RecallUnauthorized: (a) => `${a.account} may not recall batch ${a.batchId} (only its manufacturer or a regulator may)`,
  SplitInvalid: (a) =>
    `split of batch ${a.batchId} is invalid: ${a.childCount} children with ${a.childrenQuantity} units for a parent of ${a.parentQuantity} (need at least 2 children adding up to the parent)`,
  SplitBatchWatched: (a) => `batch ${a.batchId} has an open escrow order and cannot be split until the order settles`,
  SplitLineageTooDeep: (a) => `batch ${a.batchId} is already ${a.maxDepth} splits from its registration; it cannot be split further`,
  CustodyObserverBusy: (a) =>
    `the custody observer ${a.observer} still watches ${a.watchedBatches} batches under open orders; it can be changed once none is watched`,
  EscrowOrderExists: (a) => `order ${a.orderId} already exists`,
  EscrowUnknownOrder: (a) => `no order ${a.orderId} exists`,
  EscrowInvalidState: (a) => `order ${a.orderId} is ${a.state}, which does not allow this action`,
  EscrowUnauthorized: (a) => `${a.account} may not do this on order ${a.orderId}`,
  EscrowInvalidSplit: (a) => `the payment split adds up to ${a.totalBps} basis points instead of 10000`,
  EscrowInvalidPlatformFee: (a) => `platform fee ${a.platformBps} bps does not match the fee in force (${a.required} bps)`,
  EscrowInvalidAmount: (a) => `expected a payment of ${a.expected} but received ${a.received}`,
  EscrowInvalidDeadline: (a) => `delivery deadline ${a.deadline} is not in the future`,
  EscrowBatchBusy: (a) => `batch ${a.batchId} already has an open order (${a.openOrderId})`,
  EscrowBatchNotAvailable: (a) => `batch ${a.batchId} cannot be sold now (unknown, in transit, split or recalled)`,
  EscrowNotDeliverable: (a) => `order ${a.orderId} is not deliverable`,
  EscrowTooEarly: (a) => `too early for order ${a.orderId}: possible from ${isoTime(a.availableAt)}`,
  EscrowTooLate: (a) => `too late for order ${a.orderId}: closed at ${isoTime(a.closedAt)}`,
  EscrowInvalidParty: (a) =>
    `${a.party} cannot take this part in the order (not the zero address or the escrow itself, a seller other than the buyer, and an inspector that is none of the buyer, seller and carrier)`,
  EscrowInvalidInspector: (a) =>
    `${a.inspector} is not an active inspector (onboarded with the INSPECTOR role and not suspended), so an order cannot name it`,
  EscrowZeroAmount: () => "the order amount must be more than zero",
  EscrowSellerNotCustodian: (a) => `the seller ${a.seller} is not the custodian of batch ${a.batchId} (${a.custodian} is)`,
  EscrowBuyerNotParticipant: (a) => `the buyer ${a.buyer} is not an active participant (not onboarded, or suspended)`,
  EscrowInspectionNotPassed: (a) =>
    `order ${a.orderId} requires a passing inspection by its named inspector; the escrow has recorded ${a.inspection} from it`,
  EscrowAlreadyShipped: (a) =>
    `order ${a.orderId}: the batch has left the seller or a handoff of it is pending (a refund waits until the buyer accepts or rejects a handoff offered to it)`,
  EscrowCancellationAlreadyApproved: (a) => `${a.party} has already approved cancelling order ${a.orderId}`,
  EscrowPlatformFeeTooHigh: (a) => `a platform fee of ${a.feeBps} bps is above the maximum of ${a.maxFeeBps} bps`,
  EscrowInvalidSellerConsent: (a) =>
    `the seller ${a.seller} has not signed its consent to exactly order ${a.orderId} on this escrow and chain (ask the seller for an EIP-712 consent to these terms)`,
  EscrowTokenNotAllowed: (a) => `${a.token === ZERO_ADDRESS ? "ETH" : `token ${a.token}`} is not on the escrow's allowlist`,
  EscrowDeadlineTooFar: (a) => `delivery deadline ${isoTime(a.deadline)} is later than the latest allowed, ${isoTime(a.latest)}`,
  EscrowDisputeWindowTooLong: (a) => `a dispute window of ${a.disputeWindow} s is longer than the allowed ${a.maxDisputeWindow} s`,
  EscrowInvalidOrderLimits: (a) =>
    `order limits of ${a.maxDeliveryWindow} s delivery and ${a.maxDisputeWindow} s dispute are out of range (delivery at least 1 s, each at most one year)`,
  EscrowNothingToWithdraw: (a) => `${a.account} has nothing to withdraw in ${a.token === ZERO_ADDRESS ? "ETH" : a.token}`,
  DesignInvalidRoot: () => "the design Merkle root must not be zero",
  DesignAlreadyRegistered: (a) =>
    `${a.registrant} already registered design root ${a.root} at ${isoTime(a.registeredAt)}; that first registration stands`,
  DesignNotRegistered: (a) => `${a.registrant} has not registered design root ${a.root}`,
  DesignParticipantInactive: (a) =>
    `${a.account} is not an active participant (not onboarded, or suspended), so it cannot register or link designs`,
  DesignMetadataTooLong: (a) => `a design title or licence of ${a.length} bytes is longer than the allowed ${a.maxLength} bytes`,
  DesignInvalidGtin: (a) => `GTIN ${a.gtin} is not valid (at most 14 digits with a correct check digit)`,
  DesignGtinNotLicensed: (a) =>
    a.holder === ZERO_ADDRESS
      ? `${a.account} may not link designs to GTIN ${a.gtin}: no manufacturer holds its GS1 company prefix`
      : `${a.account} may not link designs to GTIN ${a.gtin}: its GS1 company prefix belongs to ${a.holder}`,
  DesignAlreadyLinked: (a) => `design root ${a.root} of ${a.registrant} is already linked to GTIN ${a.gtin}`,
  DesignNotLinked: (a) => `design root ${a.root} of ${a.registrant} is not linked to GTIN ${a.gtin}`,
  EscrowColdChainNotSet: () => "the order requires verified conditions (breach terms), but the escrow has no cold chain yet",
  EscrowColdChainAlreadySet: (a) => `the escrow's cold chain is already set (${a.coldChain}); it is set once`,
  DeviceZeroAddress: () => "the zero address cannot be a device",
  DeviceAlreadyRegistered: (a) => `device ${a.device} is already registered, to carrier ${a.carrier}`,
  DeviceUnknown: (a) => `device ${a.device} is not registered`,
  DeviceRetiredAlready: (a) => `device ${a.device} is retired and can never be used again`,
  DeviceUnauthorized: (a) =>
    `${a.account} may not act for device ${a.device} (only its carrier, the admin, or anyone once the carrier no longer holds the batch for a detach)`,
  DeviceCarrierInactive: (a) =>
    `the carrier ${a.carrier} of device ${a.device} is not an active carrier (not onboarded as one, or suspended): its devices count for nothing`,
  DeviceAlreadyAttached: (a) => `device ${a.device} is already attached on leg ${a.legId}; detach it first`,
  DeviceNotAttached: (a) => `device ${a.device} is not attached to any batch`,
  DeviceNotCustodian: (a) =>
    `carrier ${a.carrier} does not hold batch ${a.batchId}: a device is attached only while its carrier is the custodian`,
  ConditionsInvalid: () =>
    "the conditions are not valid (the minimum temperature must be below the maximum, and 0 <= minimum humidity <= maximum humidity <= 10000)",
  ConditionsUnauthorized: (a) => `${a.account} may not set the conditions of batch ${a.batchId} (only its manufacturer, while active)`,
  ProductConditionsUnauthorized: (a) =>
    `${a.account} may not set the conditions of GTIN ${a.gtin} (only the active manufacturer holding its company prefix)`,
  ConditionsFrozen: (a) => `the conditions of batch ${a.batchId} are frozen: its first leg has started`,
  LegUnknown: (a) => `no leg ${a.legId} exists`,
  AnchorUnauthorized: (a) => `${a.account} may not anchor readings of leg ${a.legId} (only its carrier or an anchorer)`,
  AnchorInvalid: (a) =>
    `the anchor of leg ${a.legId} is not sane (a non-zero root of 1 to last - first + 1 readings, within the leg's time, after the previous anchor in sequence and time)`,
  EvidenceEmpty: () => "the evidence holds no readings",
  EvidenceLengthMismatch: (a) =>
    `the evidence has ${a.readings} readings but ${a.signatures} signatures; each reading needs its device's signature`,
  EvidenceTooShort: () => "a run of evidence needs at least two consecutive readings (one reading spans no time)",
  EvidenceNotOneLeg: (a) => `reading ${a.index} is not of leg ${a.legId}'s device and batch`,
  EvidenceNotConsecutive: (a) =>
    `reading ${a.index} does not follow the one before it (its sequence must be the next one, its time no earlier)`,
  EvidenceOutsideLeg: (a) => `reading ${a.index} was taken outside leg ${a.legId}'s time (before it was attached or after it was detached)`,
  EvidenceInRange: (a) => `reading ${a.index} is within the batch's conditions: it is no evidence of an excursion`,
  EvidenceBadSignature: (a) => `reading ${a.index} is not signed by its device (EIP-712 "Provena ColdChain" v1, 65-byte low-s signature)`,
  EvidenceAlreadyCounted: (a) => `the interval after reading ${a.sequence} of leg ${a.legId} was already counted`,
  NoConditions: (a) => `batch ${a.batchId} has no conditions, so nothing is out of range`,
  ClaimRootZero: () => "the claim root must not be zero",
  ClaimRootAlreadyCommitted: (a) => `batch ${a.batchId} already has a claim root; it is committed once and never changes`,
  ClaimRootMissing: (a) =>
    `batch ${a.batchId} has no claim root: its manufacturer has not committed claim keys for it (a split-off batch's units are claimed on the batch its manufacturer registered)`,
  BatchNotRegisteredLot: (a) =>
    `batch ${a.batchId} is unknown or split off another batch: claim roots are committed on the batch its manufacturer registered`,
  NotBatchManufacturer: (a) => `${a.account} is not the manufacturer of batch ${a.batchId}`,
  ClaimRootCommitterSuspended: (a) => `the manufacturer ${a.account} is suspended and cannot commit claim roots until reinstated`,
  UnitNotRegistered: (a) => `unit "${a.serial}" is not one of the units registered for batch ${a.batchId} (or its serial proof is wrong)`,
  ClaimKeyNotCommitted: (a) =>
    `claim key ${a.claimKey} is not the one committed for unit "${a.serial}" of batch ${a.batchId} (or its claim proof is wrong)`,
  ClaimSignatureInvalid: (a) =>
    `the claim is not signed by the unit's claim key ${a.claimKey} for this token, recipient, chain and contract`,
  UnitAlreadyClaimed: (a) => `unit token ${a.tokenId} has already been claimed`,
  RecipientZero: () => "the token's recipient must not be the zero address",
  ERC721InsufficientApproval: (a) => `${a.operator} may not transfer unit token ${a.tokenId} (neither its owner nor approved)`,
  ERC721NonexistentToken: (a) => `unit token ${a.tokenId} does not exist (the unit has not been claimed)`,
  ERC721IncorrectOwner: (a) => `${a.sender} does not own unit token ${a.tokenId} (${a.owner} does)`,
  ERC721InvalidReceiver: (a) => `${a.receiver} cannot receive a unit token (the zero address, or a contract that refuses ERC-721 tokens)`,
  ERC721InvalidSender: (a) => `${a.sender} cannot send this unit token`,
  ERC721InvalidOwner: (a) => `${a.owner} cannot own unit tokens (the zero address)`,
  ERC721InvalidApprover: (a) => `${a.approver} may not approve others for this unit token`,
  ERC721InvalidOperator: (a) => `${a.operator} cannot be an operator (the zero address)`,
  ERC2771ForwarderInvalidSigner: (a) => `the request was signed by ${a.signer}, not by ${a.from} (or for another nonce)`,
  ERC2771ForwarderExpiredRequest: (a) => `the request expired at ${isoTime(a.deadline)}`,
  ERC2771ForwarderMismatchedValue: (a) => `the request asks for ${a.requestedValue} wei but ${a.msgValue} was sent`,
  ERC2771UntrustfulTarget: (a) => `${a.target} does not trust the forwarder ${a.forwarder}`,
  AccessControlUnauthorizedAccount: (a) => `${a.account} lacks the ${a.neededRole} role`,
  InsufficientBalance: (a) => `the contract holds ${a.balance} wei, less than the ${a.needed} wei this needs`,
  FailedCall: () => "the forwarded call reverted",
  ReentrancyGuardReentrantCall: () => "re-entrant call refused",
  SafeERC20FailedOperation: (a) => `the token ${a.token} refused the transfer`,
};

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** A company prefix as GS1 writes it: `length` digits, leading zeros kept. */
function companyPrefix(a: Args): string {
  return String(a.prefix).padStart(Number(a.length), "0");
}

function isoTime(seconds: string | boolean): string {
  const n = Number(seconds);
  return Number.isFinite(n) && n > 0 && n < 1e11 ? new Date(n * 1000).toISOString() : String(seconds);
}

export interface RevertDecoder {
  /** Decodes revert data; null when `data` is empty (a revert without reason, e.g. out of gas). */
  decode(data: string | null | undefined): DecodedRevert | null;
  /** The best readable sentence for any error thrown by an ethers call or transaction. */
  describe(error: unknown): string;
}

export function createRevertDecoder(abis: (InterfaceAbi | Interface)[]): RevertDecoder {
  const interfaces = abis.map((abi) => (abi instanceof Interface ? abi : new Interface(abi)));

  function decode(data: string | null | undefined): DecodedRevert | null {
    if (!data || data === "0x") return null;
    for (const iface of interfaces) {
      let description: ErrorDescription | null;
      try {
        description = iface.parseError(data);
      } catch {
        description = null;
      }
      if (description) return describeError(description, data);
    }
    // Error(string) and Panic(uint256) are built into every Interface; parseError above handles them too,
    // so reaching here means an error no Provena ABI declares.
    return { name: null, args: {}, message: `reverted with unknown error data ${data.slice(0, 10)}`, data };
  }

  function describe(error: unknown): string {
    const data = extractRevertData(error);
    const decoded = decode(data);
    if (decoded) return decoded.message;
    return shortMessage(error);
  }

  return { decode, describe };
}

function describeError(description: ErrorDescription, data: string): DecodedRevert {
  const args: Args = {};
  description.fragment.inputs.forEach((input, index) => {
    args[input.name || `arg${index}`] = formatArg(input.name, input.type, description.args[index]);
  });
  if (description.name === "Error") {
    const reason = String(description.args[0]);
    return { name: "Error", args: { reason }, message: reason, data };
  }
  if (description.name === "Panic") {
    const code = Number(description.args[0]);
    return { name: "Panic", args: { code: String(code) }, message: `panic: ${PANIC_REASONS[code] ?? `code 0x${code.toString(16)}`}`, data };
  }
  const sentence = SENTENCES[description.name];
  const message = sentence
    ? `${description.name}: ${sentence(args)}`
    : `${description.name}(${Object.entries(args)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")})`;
  return { name: description.name, args, message, data };
}

function formatArg(name: string, type: string, value: unknown): string | boolean {
  if (typeof value === "boolean") return value;
  if (type === "bytes32" && /role/i.test(name)) return roleLabel(String(value));
  if (type === "uint8" && ENUM_ARGS[name] !== undefined) return ENUM_ARGS[name][Number(value)] ?? String(value);
  if (typeof value === "string") return isHexString(value, 20) ? value.toLowerCase() : value;
  return String(value);
}

function roleLabel(hash: string): string {
  return isDefaultAdminRole(hash) ? "ADMIN" : (namedRoleOf(hash) ?? hash);
}

/** Finds the revert data in the many shapes ethers and JSON-RPC providers give it. */
export function extractRevertData(error: unknown): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const record = current as Record<string, unknown>;
    const data = record.data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]*$/.test(data) && data.length >= 10) return data;
    for (const key of ["data", "error", "info", "cause", "revert", "payload"]) {
      if (record[key] && typeof record[key] === "object") queue.push(record[key]);
    }
  }
  return null;
}

/** ethers' shortMessage when there is one, else the message's first line. */
export function shortMessage(error: unknown): string {
  if (error && typeof error === "object") {
    const record = error as Record<string, unknown>;
    if (typeof record.shortMessage === "string") return record.shortMessage;
    if (typeof record.message === "string") return record.message.split("\n")[0];
  }
  return String(error);
}
