/**
 * The checks a partner's forward request passes before the relayer stores it, one function each, every refusal a
 * DomainError with a code the partner can act on. They run in the order relay-service.ts gives them: the cheap,
 * local ones first, the chain calls last.
 */
import { getAddress, type TypedDataDomain } from "ethers";
import { DomainError, type DomainErrorKind } from "../domain/errors.ts";
import type { Hex, RelayRequest } from "../domain/model.ts";
import type { MirrorStore } from "../store/port.ts";
import { forwardedCalldata, forwarderDomain, recoverForwardRequestSigner, type ForwardRequestMessage } from "./forward-request.ts";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import type { ProvenaContracts } from "../chain/contracts.ts";

import { ROLE_HASHES } from "../chain/vocabulary.ts";
import { relayRequirement, type RelayTarget } from "./relay-policy.ts";
import { pendingCallsTo } from "./queued-request.ts";
import { extractRevertData } from "../chain/revert-reason.ts";
import { describeOrderInspectorRefusal, orderInspectorRefusal } from "../chain/order-inspector.ts";

export type { RelayTarget };

/** The trusted targets of a deployment: each contract's address (lower case) and what it is. */
export function relayTargets(chain: Pick<ChainAccess, "addresses">): Map<string, RelayTarget> {
  const targets = new Map<string, RelayTarget>([
    [chain.addresses.registry.toLowerCase(), "registry"],
    [chain.addresses.escrow.toLowerCase(), "escrow"],
  ]);
  if (chain.addresses.designRegistry !== undefined) targets.set(chain.addresses.designRegistry.toLowerCase(), "designRegistry");
  if (chain.addresses.productData !== undefined) targets.set(chain.addresses.productData.toLowerCase(), "productData");
  if (chain.addresses.coldChain !== undefined) targets.set(chain.addresses.coldChain.toLowerCase(), "coldChain");
  if (chain.addresses.unitOwnership !== undefined) targets.set(chain.addresses.unitOwnership.toLowerCase(), "unitOwnership");
  if (chain.addresses.logisticUnits !== undefined) targets.set(chain.addresses.logisticUnits.toLowerCase(), "logisticUnits");
  if (chain.addresses.transformations !== undefined) targets.set(chain.addresses.transformations.toLowerCase(), "transformations");
  return targets;
}

/** The interface and (read-only) contract of a trusted target. */
function targetOf(contracts: ProvenaContracts, target: RelayTarget) {
  if (target === "registry") return { iface: contracts.interfaces.registry, contract: contracts.registry };
  if (target === "escrow") return { iface: contracts.interfaces.escrow, contract: contracts.escrow };
  if (target === "designRegistry") {
    if (contracts.designRegistry === undefined) throw new Error("this deployment has no design registry");
    return { iface: contracts.interfaces.designRegistry, contract: contracts.designRegistry };
  }
  if (target === "productData") {
    if (contracts.productData === undefined) throw new Error("this deployment has no product-data anchors");
    return { iface: contracts.interfaces.productData, contract: contracts.productData };
  }
  if (target === "unitOwnership") {
    if (contracts.unitOwnership === undefined) throw new Error("this deployment has no unit ownership tokens");
    return { iface: contracts.interfaces.unitOwnership, contract: contracts.unitOwnership };
  }
  if (target === "logisticUnits") {
    if (contracts.logisticUnits === undefined) throw new Error("this deployment has no logistic units");
    return { iface: contracts.interfaces.logisticUnits, contract: contracts.logisticUnits };
  }
  if (target === "transformations") {
    if (contracts.transformations === undefined) throw new Error("this deployment has no transformations");
    return { iface: contracts.interfaces.transformations, contract: contracts.transformations };
  }
  const { coldChain } = contracts;
  const iface = contracts.interfaces.coldChain;
  if (coldChain === undefined || iface === undefined) throw new Error("this deployment has no cold chain");
  return { iface, contract: coldChain };
}

/** What the checks read, passed in as one object. */
export interface AcceptanceContext {
  store: MirrorStore;
  chain: ChainAccess;
  contracts: ProvenaContracts;
  /** The relayer's account: simulations run from it, as the real transaction will. */
  relayerAddress: Hex;
  forwarderAddress: Hex;
  /** The contract each trusted target address (lower case) is. */
  targets: Map<string, RelayTarget>;
  /** Most gas a partner may ask the relayer to forward to the target. */
  maxForwardedGas: bigint;
  now: () => number;
}

export type SignedForwardRequest = ForwardRequestMessage & { signature: Hex };

export function refused(kind: DomainErrorKind, code: string, detail: string, extra: Record<string, unknown> = {}): DomainError {
  return new DomainError(kind, detail, { code, ...extra });
}

/** The forwarder's own EIP-712 domain (ERC-5267), checked against the name and version partners are told to sign. */
export async function readForwarderDomain({ chain, contracts, forwarderAddress }: AcceptanceContext): Promise<TypedDataDomain> {
  const [, name, version, chainId, verifyingContract] = await contracts.forwarder.eip712Domain();
  const expected = forwarderDomain(chain.chainId, forwarderAddress);
  if (name !== expected.name || version !== expected.version || BigInt(chainId) !== BigInt(chain.chainId)) {
    throw new Error(
      `forwarder at ${forwarderAddress} has EIP-712 domain ${name} v${version} on chain ${chainId}, ` +
        `expected ${expected.name} v${expected.version} on chain ${chain.chainId}`,
    );
  }
  return { ...expected, verifyingContract: getAddress(verifyingContract) };
}

/** The request calls a Provena contract, pays nothing, asks for at most the gas the relayer forwards, and has not expired. */
export async function checkTerms(context: AcceptanceContext, message: ForwardRequestMessage): Promise<RelayTarget> {
  const { chain, targets, maxForwardedGas, now } = context;
  const target = targets.get(message.to);
  if (!target) {
    const designs = chain.addresses.designRegistry ? `, design registry ${chain.addresses.designRegistry.toLowerCase()}` : "";
    const productData = chain.addresses.productData ? `, product data ${chain.addresses.productData.toLowerCase()}` : "";
    const coldChain = chain.addresses.coldChain === undefined ? "" : `, cold chain ${chain.addresses.coldChain.toLowerCase()}`;
    const unitOwnership =
      chain.addresses.unitOwnership === undefined ? "" : `, unit ownership ${chain.addresses.unitOwnership.toLowerCase()}`;
    const logisticUnits =
      chain.addresses.logisticUnits === undefined ? "" : `, logistic units ${chain.addresses.logisticUnits.toLowerCase()}`;
    const transformations =
      chain.addresses.transformations === undefined ? "" : `, transformations ${chain.addresses.transformations.toLowerCase()}`;
    const provena = `registry ${chain.addresses.registry.toLowerCase()}, escrow ${chain.addresses.escrow.toLowerCase()}${designs}${productData}${coldChain}${unitOwnership}${logisticUnits}${transformations}`;
    throw refused("rejected", "UNTRUSTED_TARGET", `target ${message.to} is not a Provena contract (${provena})`);
  }
  if (message.value !== 0n) {
    throw refused(
      "rejected",
      "VALUE_NOT_RELAYED",
      "the relayer pays gas, not payments: relayed requests must have value 0 (fund ETH orders from your own account, or pay in a token)",
    );
  }
  if (message.gas > maxForwardedGas) {
    throw refused("rejected", "GAS_TOO_HIGH", `the request forwards ${message.gas} gas; the relayer forwards at most ${maxForwardedGas}`);
  }
  const latest = await chain.provider.getBlock("latest");
  const nextTimestamp = Math.max((latest?.timestamp ?? 0) + 1, Math.floor(now() / 1000));
  if (message.deadline < nextTimestamp) {
    const expiredAt = new Date(message.deadline * 1000).toISOString();
    throw refused("rejected", "REQUEST_EXPIRED", `the request expired at ${expiredAt}; sign a new one with a later deadline`);
  }
  return target;
}

/** The signature is a valid ECDSA signature of this request by its `from` account. */
export function checkSignature(
  { chain, forwarderAddress }: AcceptanceContext,
  eip712: TypedDataDomain,
  request: SignedForwardRequest,
): void {
  const signer = recoverForwardRequestSigner(eip712, request, request.signature);
  if (signer === null) {
    throw refused("rejected", "INVALID_SIGNATURE", "the signature is not a valid (low-s) ECDSA signature of this request");
  }
  if (signer !== request.from) {
    const domain = `${eip712.name} v${eip712.version}, chain ${chain.chainId}, forwarder ${forwarderAddress}`;
    const detail =
      `the request was signed by ${signer}, not by its from address ${request.from} ` + `(check the domain: ${domain}, and the nonce)`;
    throw refused("rejected", "WRONG_SIGNER", detail, { signer });
  }
}

export interface DescribedCall {
  name: string;
  readOnly: boolean;
  signature: string;
}

/** The function `data` calls on the trusted target at `to`; null for another address or data that is no such call. */
export function describeCallData(
  { targets, contracts }: Pick<AcceptanceContext, "targets" | "contracts">,
  to: string,
  data: string,
): DescribedCall | null {
  const target = targets.get(to.toLowerCase());
  if (!target) return null;
  const { iface } = targetOf(contracts, target);
  try {
    const parsed = iface.parseTransaction({ data });
    if (!parsed) return null;
    const mutability = parsed.fragment.stateMutability;
    return { name: parsed.name, signature: parsed.signature, readOnly: mutability === "view" || mutability === "pure" };
  } catch {
    return null;
  }
}

/** The request calls a function of its target that writes; returns the function's name. */
export function checkCall(context: AcceptanceContext, message: ForwardRequestMessage, target: RelayTarget): string {
  const call = describeCallData(context, message.to, message.data);
  if (!call) {
    throw refused("rejected", "UNKNOWN_FUNCTION", `data does not call a function of the ${target} (selector ${message.data.slice(0, 10)})`);
  }
  if (call.readOnly) {
    throw refused("rejected", "FUNCTION_NOT_RELAYABLE", `${call.name} only reads; call it directly instead of relaying it`);
  }
  return call.name;
}

/** The signer may call `functionName`: an admin, or an active, unsuspended participant holding the role it needs. */
export async function checkSigner(
  context: AcceptanceContext,
  message: ForwardRequestMessage,
  target: RelayTarget,
  functionName: string,
): Promise<void> {
  const { contracts } = context;
  const requirement = relayRequirement(target, functionName);
  if (requirement.kind === "refused") throw refused("rejected", "FUNCTION_NOT_RELAYABLE", requirement.reason);
  if (requirement.kind === "tokenOwner") return checkTokenOwner(contracts, message, functionName);
  if (requirement.kind === "anyone") return checkNoSameCallPending(context, message, functionName);
  // The design registry and the product-data anchors have no roles (no admin): nothing there needs one, so it never answers yes.
  const targetContract = targetOf(contracts, target).contract;
  const hasRole = (role: string, account: string): Promise<boolean> =>
    "hasRole" in targetContract ? targetContract.hasRole(role, account) : Promise.resolve(false);
  if (requirement.kind === "admin") {
    const isAdmin = await hasRole("0x" + "00".repeat(32), message.from);
    if (!isAdmin)
      throw refused("forbidden", "NOT_ADMIN", `${functionName} is an admin function and ${message.from} is not an admin of the ${target}`);
    return;
  }
  const [participantId, , suspended] = await contracts.registry.participant(message.from);
  if (BigInt(participantId) === 0n) {
    throw refused(
      "forbidden",
      "NOT_A_PARTICIPANT",
      `${message.from} is not an onboarded participant; the relayer only submits participants' requests`,
    );
  }
  if (suspended) {
    throw refused("forbidden", "PARTICIPANT_SUSPENDED", `participant ${message.from} is suspended and can do nothing until reinstated`);
  }
  if (requirement.kind === "role") {
    for (const role of requirement.anyOf) {
      if (await contracts.registry.isActiveParticipant(message.from, ROLE_HASHES[role])) return;
    }
    throw refused(
      "forbidden",
      "MISSING_ROLE",
      `${functionName} needs the ${requirement.anyOf.join(" or ")} role, which ${message.from} does not hold`,
    );
  }
  if (requirement.kind === "contractRole") {
    if (!(await hasRole(requirement.roleHash, message.from))) {
      throw refused("forbidden", "MISSING_ROLE", `${functionName} needs the ${requirement.role} role, which ${message.from} does not hold`);
    }
  }
}

/**
 * A relayed UnitOwnership transfer moves the signer's own token out of the signer's account: the relayer sponsors
 * owners (shoppers hold no ETH), never an approved operator or a stranger, so a request that names someone else's token
 * is refused before any simulation.
 */
async function checkTokenOwner(contracts: ProvenaContracts, message: ForwardRequestMessage, functionName: string): Promise<void> {
  const { unitOwnership } = contracts;
  if (unitOwnership === undefined) throw new Error("this deployment has no unit ownership tokens");
  const call = contracts.interfaces.unitOwnership.parseTransaction({ data: message.data });
  if (call === null) throw refused("rejected", "UNKNOWN_FUNCTION", `data does not call ${functionName}`);
  const [from, , tokenId] = call.args as unknown as [string, string, bigint];
  let owner: string;
  try {
    owner = (await unitOwnership.ownerOf(tokenId)).toLowerCase();
  } catch (error) {
    const decoded = contracts.decoder.decode(extractRevertData(error));
    if (decoded?.name !== "ERC721NonexistentToken") throw error;
    throw refused("forbidden", "NOT_TOKEN_OWNER", `token ${tokenId} has not been claimed yet, so nobody can transfer it`);
  }
  if (owner !== message.from) {
    throw refused(
      "forbidden",
      "NOT_TOKEN_OWNER",
      `token ${tokenId} is owned by ${owner}, not by ${message.from}; only its owner may transfer it through the relayer`,
    );
  }
  if (from.toLowerCase() !== message.from) {
    throw refused(
      "rejected",
      "NOT_TOKEN_OWNER",
      `${functionName} names ${from.toLowerCase()} as the token's holder, but ${message.from} owns it and signed`,
    );
  }
}

/**
 * An order opened through the relayer names no inspector the escrow would refuse (a party, or not an active
 * INSPECTOR). Checked even when the request waits behind queued ones and is not simulated yet, with the sentence the
 * escrow's revert would give.
 */
export async function checkOrderInspector(
  { chain, contracts }: AcceptanceContext,
  message: ForwardRequestMessage,
  functionName: string,
): Promise<void> {
  if (functionName !== "openOrder" || message.to !== chain.addresses.escrow.toLowerCase()) return;
  const call = contracts.interfaces.escrow.parseTransaction({ data: message.data });
  if (call === null) return;
  const order = call.args[0] as { buyer: string; seller: string; carrier: string; inspector: string };
  const refusal = await orderInspectorRefusal(order, chain.addresses.escrow, contracts.registry);
  if (refusal === null) return;
  const sentence = describeOrderInspectorRefusal(refusal, contracts.interfaces.escrow, contracts.decoder);
  throw refused("rejected", "INVALID_INSPECTOR", `the call would revert: ${sentence}`, { error: refusal.error });
}

const PENDING_STATUSES = ["queued", "submitted"] as const;

/**
 * A call anyone may have relayed is not queued twice (by anyone, or by a backend job such as the recall flagger's):
 * the contract takes it once, so a second one would only burn the relayer's gas on a revert.
 */
async function checkNoSameCallPending(
  { store }: Pick<AcceptanceContext, "store">,
  message: ForwardRequestMessage,
  functionName: string,
): Promise<void> {
  const twin = (await pendingCallsTo(store, message.to)).get(message.data.toLowerCase());
  if (twin) {
    const detail = `the same ${functionName} call is already ${twin.status} as relay request ${twin.id}; it runs once`;
    throw refused("conflict", "CALL_ALREADY_PENDING", detail, { requestId: twin.id });
  }
}

/** The partner requests of `from` still queued or in flight, by forwarder nonce. */
export async function pendingNoncesOf({ store }: Pick<AcceptanceContext, "store">, from: Hex): Promise<Map<bigint, RelayRequest>> {
  const pending = await store.listRelays([...PENDING_STATUSES], 10_000);
  return new Map(pending.filter((r) => r.kind === "partner" && r.from === from).map((r) => [BigInt(r.nonce), r]));
}

/** The first nonce from `current` on that no pending request holds. */
export function firstFreeNonce(current: bigint, pending: Map<bigint, unknown>): bigint {
  let n = current;
  while (pending.has(n)) n++;
  return n;
}

/** The nonce is the forwarder's next one for `from`, or follows requests already queued without a gap. */
export async function checkNonce(context: AcceptanceContext, message: ForwardRequestMessage): Promise<{ current: bigint }> {
  const current = BigInt(await context.contracts.forwarder.nonces(message.from));
  const { nonce, from } = message;
  if (nonce < current) {
    const detail = `nonce ${nonce} of ${from} was already used on the forwarder; its next nonce is ${current}`;
    throw refused("conflict", "NONCE_USED", detail, { expectedNonce: current.toString() });
  }
  const pending = await pendingNoncesOf(context, from);
  const holder = pending.get(nonce);
  if (holder) {
    const detail = `nonce ${nonce} of ${from} is already taken by relay request ${holder.id}, which is ${holder.status}`;
    throw refused("conflict", "NONCE_PENDING", detail, { requestId: holder.id });
  }
  for (let n = current; n < nonce; n++) {
    if (!pending.has(n)) {
      const free = firstFreeNonce(current, pending);
      const detail = `nonce ${nonce} of ${from} cannot run yet: nothing is queued for nonce ${n}; sign with nonce ${free}`;
      throw refused("conflict", "NONCE_GAP", detail, { expectedNonce: free.toString() });
    }
  }
  return { current };
}

/** Runs forwarder.execute as the relayer would; on failure, replays the inner call to say why it reverts. */
export async function simulateForwardRequest(context: AcceptanceContext, request: SignedForwardRequest): Promise<void> {
  const { chain, contracts, relayerAddress, forwarderAddress } = context;
  const { from, to, value, gas, deadline, data, signature } = request;
  const executeData = contracts.interfaces.forwarder.encodeFunctionData("execute", [{ from, to, value, gas, deadline, data, signature }]);
  try {
    await chain.provider.call({ from: relayerAddress, to: forwarderAddress, data: executeData, value, blockTag: NEXT_BLOCK });
    return;
  } catch (error) {
    const decoded = contracts.decoder.decode(extractRevertData(error));
    if (decoded && decoded.name !== "FailedCall") {
      throw refused("rejected", "SIMULATION_REVERTED", `the forwarder would refuse this request: ${decoded.message}`, {
        error: decoded.name,
      });
    }
  }
  // The forwarder hides the inner revert (FailedCall); call the target exactly as the forwarder would.
  const inner = { from: forwarderAddress, to, data: forwardedCalldata(data, from), value, blockTag: NEXT_BLOCK };
  try {
    await chain.provider.call(inner);
  } catch (error) {
    const decoded = contracts.decoder.decode(extractRevertData(error));
    const reason = decoded ? decoded.message : "without a reason";
    throw refused("rejected", "SIMULATION_REVERTED", `the call would revert: ${reason}`, { error: decoded?.name ?? null });
  }
  // The inner call succeeds on its own, so the forwarded gas is what is missing.
  let needed: bigint | null;
  try {
    needed = await chain.provider.estimateGas(inner);
  } catch {
    needed = null;
  }
  const detail = `the call needs about ${needed ?? "more than"} gas but the request forwards only ${gas}`;
  throw refused("rejected", "GAS_TOO_LOW", detail, { neededGas: needed?.toString() ?? null });
}
