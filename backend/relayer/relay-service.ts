/**
 * Accepting partners' signed forward requests. Every check runs BEFORE the request is stored, so whatever is
 * accepted can be submitted: the target is a Provena contract, the request has not expired, the signature is
 * the `from` account's, the nonce is the forwarder's next one for `from` (or follows requests already queued),
 * the signer is an active participant with the role the function needs, and a simulation of the call succeeds.
 * Then the request is stored durably (id = its EIP-712 digest) and only then answered.
 */
import { ZeroAddress, getAddress, type TypedDataDomain } from "ethers";
import { DomainError, invalidInput, notFound, type DomainErrorKind } from "../domain/errors.ts";
import type { MirrorStore } from "../store/port.ts";
import type { RelayRequest } from "../domain/model.ts";
import type { Hex } from "../domain/model.ts";
import {
  FORWARD_REQUEST_TYPES,
  forwardedCalldata,
  forwardRequestDigest,
  forwarderDomain,
  recoverForwardRequestSigner,
  type ForwardRequestMessage,
} from "./forward-request.ts";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import { provenaContracts, type ProvenaContracts } from "../chain/contracts.ts";
import { queuedRelayRequest } from "./queued-request.ts";
import { ROLE_HASHES } from "../chain/vocabulary.ts";
import { relayRequirement } from "./relay-policy.ts";
import { extractRevertData } from "../chain/revert-reason.ts";

/** A forward request as partners post it (numbers as decimal strings or safe integers). */
export interface ForwardRequestInput {
  from: string;
  to: string;
  value: string | number;
  gas: string | number;
  nonce: string | number;
  deadline: string | number;
  data: string;
  signature: string;
}

export interface RelayServiceOptions {
  store: MirrorStore;
  chain: ChainAccess;
  /** The relayer's account: simulations run from it, as the real transaction will. */
  relayerAddress: Hex;
  /** Most gas a partner may ask the relayer to forward to the target (default 3,000,000). */
  maxForwardedGas?: bigint;
  now?: () => number;
}

export interface RelayService {
  accept(input: ForwardRequestInput): Promise<{ request: RelayRequest; created: boolean }>;
  get(id: string): Promise<RelayRequest>;
  /** What a partner needs to build and sign a request. */
  signingInfo(): Promise<{
    domain: { name: string; version: string; chainId: number; verifyingContract: Hex };
    types: typeof FORWARD_REQUEST_TYPES;
    primaryType: "ForwardRequest";
    relayer: Hex;
    targets: { registry: Hex; escrow: Hex };
    maxForwardedGas: string;
  }>;
  /** The forwarder's current nonce for `address`, and the next one to sign given the requests already queued. */
  nonces(address: string): Promise<{ address: Hex; nonce: string; next: string; pending: number }>;
  /** Describes the function a request calls, for status responses. */
  describeCall(request: Pick<RelayRequest, "to" | "data">): string | null;
}

const PENDING_STATUSES = ["queued", "submitted"] as const;

function refused(kind: DomainErrorKind, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return new DomainError(kind, detail, { code, ...extra });
}

export function createRelayService(options: RelayServiceOptions): RelayService {
  const { store, chain } = options;
  const contracts: ProvenaContracts = provenaContracts(chain);
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const maxForwardedGas = options.maxForwardedGas ?? 3_000_000n;
  const now = options.now ?? Date.now;
  const forwarderAddress = chain.addresses.forwarder.toLowerCase() as Hex;
  const targets = new Map<string, "registry" | "escrow">([
    [chain.addresses.registry.toLowerCase(), "registry"],
    [chain.addresses.escrow.toLowerCase(), "escrow"],
  ]);
  let domainPromise: Promise<TypedDataDomain> | null = null;

  /** The forwarder's own EIP-712 domain (ERC-5267), checked against the name and version partners are told to sign. */
  function domain(): Promise<TypedDataDomain> {
    domainPromise ??= (async () => {
      const [, name, version, chainId, verifyingContract] = await contracts.forwarder.eip712Domain();
      const expected = forwarderDomain(chain.chainId, forwarderAddress);
      if (name !== expected.name || version !== expected.version || BigInt(chainId) !== BigInt(chain.chainId)) {
        throw new Error(`forwarder at ${forwarderAddress} has EIP-712 domain ${name} v${version} on chain ${chainId}, expected ${expected.name} v${expected.version} on chain ${chain.chainId}`);
      }
      return { ...expected, verifyingContract: getAddress(verifyingContract) };
    })().catch((error) => {
      domainPromise = null;
      throw error;
    });
    return domainPromise;
  }

  function parseInput(input: ForwardRequestInput): ForwardRequestMessage & { signature: Hex } {
    // The route validated shapes; this normalises case and turns numbers into bigints.
    return {
      from: input.from.toLowerCase() as Hex,
      to: input.to.toLowerCase() as Hex,
      value: BigInt(input.value),
      gas: BigInt(input.gas),
      nonce: BigInt(input.nonce),
      deadline: Number(input.deadline),
      data: input.data.toLowerCase() as Hex,
      signature: input.signature.toLowerCase() as Hex,
    };
  }

  async function pendingNoncesOf(from: Hex): Promise<Map<bigint, RelayRequest>> {
    const pending = await store.listRelays([...PENDING_STATUSES], 10_000);
    return new Map(pending.filter((r) => r.kind === "partner" && r.from === from).map((r) => [BigInt(r.nonce), r]));
  }

  async function checkNonce(message: ForwardRequestMessage): Promise<{ current: bigint }> {
    const current = BigInt(await contracts.forwarder.nonces(message.from));
    if (message.nonce < current) {
      throw refused("conflict", "NONCE_USED", `nonce ${message.nonce} of ${message.from} was already used on the forwarder; its next nonce is ${current}`, { expectedNonce: current.toString() });
    }
    const pending = await pendingNoncesOf(message.from);
    const holder = pending.get(message.nonce);
    if (holder) {
      throw refused("conflict", "NONCE_PENDING", `nonce ${message.nonce} of ${message.from} is already taken by relay request ${holder.id}, which is ${holder.status}`, { requestId: holder.id });
    }
    for (let n = current; n < message.nonce; n++) {
      if (!pending.has(n)) {
        throw refused("conflict", "NONCE_GAP", `nonce ${message.nonce} of ${message.from} cannot run yet: nothing is queued for nonce ${n}; sign with nonce ${firstFree(current, pending)}`, { expectedNonce: firstFree(current, pending).toString() });
      }
    }
    return { current };
  }

  async function checkSigner(message: ForwardRequestMessage, target: "registry" | "escrow", functionName: string): Promise<void> {
    const requirement = relayRequirement(target, functionName);
    if (requirement.kind === "refused") throw refused("rejected", "FUNCTION_NOT_RELAYABLE", requirement.reason);
    const targetContract = target === "registry" ? contracts.registry : contracts.escrow;
    if (requirement.kind === "admin") {
      const isAdmin: boolean = await targetContract.hasRole("0x" + "00".repeat(32), message.from);
      if (!isAdmin) throw refused("forbidden", "NOT_ADMIN", `${functionName} is an admin function and ${message.from} is not an admin of the ${target}`);
      return;
    }
    const [participantId, , suspended] = await contracts.registry.participant(message.from);
    if (BigInt(participantId) === 0n) {
      throw refused("forbidden", "NOT_A_PARTICIPANT", `${message.from} is not an onboarded participant; the relayer only submits participants' requests`);
    }
    if (suspended) {
      throw refused("forbidden", "PARTICIPANT_SUSPENDED", `participant ${message.from} is suspended and can do nothing until reinstated`);
    }
    if (requirement.kind === "role") {
      for (const role of requirement.anyOf) {
        if (await contracts.registry.isActiveParticipant(message.from, ROLE_HASHES[role])) return;
      }
      throw refused("forbidden", "MISSING_ROLE", `${functionName} needs the ${requirement.anyOf.join(" or ")} role, which ${message.from} does not hold`);
    }
    if (requirement.kind === "contractRole") {
      if (!(await targetContract.hasRole(requirement.roleHash, message.from))) {
        throw refused("forbidden", "MISSING_ROLE", `${functionName} needs the ${requirement.role} role, which ${message.from} does not hold`);
      }
    }
  }

  /** Runs forwarder.execute as the relayer would; on failure, replays the inner call to say why it reverts. */
  async function simulate(message: ForwardRequestMessage, signature: Hex): Promise<void> {
    const requestData = { from: message.from, to: message.to, value: message.value, gas: message.gas, deadline: message.deadline, data: message.data, signature };
    const executeData = contracts.interfaces.forwarder.encodeFunctionData("execute", [requestData]);
    try {
      await chain.provider.call({ from: relayerAddress, to: forwarderAddress, data: executeData, value: message.value, blockTag: NEXT_BLOCK });
      return;
    } catch (error) {
      const decoded = contracts.decoder.decode(extractRevertData(error));
      if (decoded && decoded.name !== "FailedCall") {
        throw refused("rejected", "SIMULATION_REVERTED", `the forwarder would refuse this request: ${decoded.message}`, { error: decoded.name });
      }
    }
    // The forwarder hides the inner revert (FailedCall); call the target exactly as the forwarder would.
    const inner = { from: forwarderAddress, to: message.to, data: forwardedCalldata(message.data, message.from), value: message.value, blockTag: NEXT_BLOCK };
    try {
      await chain.provider.call(inner);
    } catch (error) {
      const decoded = contracts.decoder.decode(extractRevertData(error));
      throw refused("rejected", "SIMULATION_REVERTED", `the call would revert: ${decoded ? decoded.message : "without a reason"}`, { error: decoded?.name ?? null });
    }
    // The inner call succeeds on its own, so the forwarded gas is what is missing.
    let needed: bigint | null = null;
    try {
      needed = await chain.provider.estimateGas(inner);
    } catch {
      needed = null;
    }
    throw refused("rejected", "GAS_TOO_LOW", `the call needs about ${needed ?? "more than"} gas but the request forwards only ${message.gas}`, { neededGas: needed?.toString() ?? null });
  }

  /** One acceptance at a time per signer in this process, so two requests racing for one nonce cannot both pass. */
  const acceptingBySigner = new Map<string, Promise<unknown>>();

  function accept(input: ForwardRequestInput): Promise<{ request: RelayRequest; created: boolean }> {
    const from = input.from.toLowerCase();
    const previous = acceptingBySigner.get(from) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => acceptNow(input));
    acceptingBySigner.set(from, next);
    void next.catch(() => undefined).finally(() => {
      if (acceptingBySigner.get(from) === next) acceptingBySigner.delete(from);
    });
    return next;
  }

  async function acceptNow(input: ForwardRequestInput): Promise<{ request: RelayRequest; created: boolean }> {
    const message = parseInput(input);
    const { signature } = message;
    const eip712 = await domain();
    const id = forwardRequestDigest(eip712, message);
    const existing = await store.getRelay(id);
    if (existing) return { request: existing, created: false };

    const target = targets.get(message.to);
    if (!target) {
      throw refused("rejected", "UNTRUSTED_TARGET", `target ${message.to} is not a Provena contract (registry ${chain.addresses.registry.toLowerCase()}, escrow ${chain.addresses.escrow.toLowerCase()})`);
    }
    if (message.value !== 0n) {
      throw refused("rejected", "VALUE_NOT_RELAYED", "the relayer pays gas, not payments: relayed requests must have value 0 (fund ETH orders from your own account, or pay in a token)");
    }
    if (message.gas > maxForwardedGas) {
      throw refused("rejected", "GAS_TOO_HIGH", `the request forwards ${message.gas} gas; the relayer forwards at most ${maxForwardedGas}`);
    }
    const latest = await chain.provider.getBlock("latest");
    const nextTimestamp = Math.max((latest?.timestamp ?? 0) + 1, Math.floor(now() / 1000));
    if (message.deadline < nextTimestamp) {
      throw refused("rejected", "REQUEST_EXPIRED", `the request expired at ${new Date(message.deadline * 1000).toISOString()}; sign a new one with a later deadline`);
    }
    const signer = recoverForwardRequestSigner(eip712, message, signature);
    if (signer === null) {
      throw refused("rejected", "INVALID_SIGNATURE", "the signature is not a valid (low-s) ECDSA signature of this request");
    }
    if (signer !== message.from) {
      throw refused("rejected", "WRONG_SIGNER", `the request was signed by ${signer}, not by its from address ${message.from} (check the domain: ${eip712.name} v${eip712.version}, chain ${chain.chainId}, forwarder ${forwarderAddress}, and the nonce)`, { signer });
    }
    const call = describeCallData(message.to, message.data);
    if (!call) {
      throw refused("rejected", "UNKNOWN_FUNCTION", `data does not call a function of the ${target} (selector ${message.data.slice(0, 10)})`);
    }
    if (call.readOnly) {
      throw refused("rejected", "FUNCTION_NOT_RELAYABLE", `${call.name} only reads; call it directly instead of relaying it`);
    }
    await checkSigner(message, target, call.name);
    const { current } = await checkNonce(message);
    // A request that follows queued ones depends on their effects: the worker simulates it again just before sending.
    if (message.nonce === current) await simulate(message, signature);

    const request = queuedRelayRequest(
      {
        id,
        chainId: chain.chainId,
        from: message.from,
        to: message.to,
        value: message.value.toString(),
        gas: message.gas.toString(),
        nonce: message.nonce.toString(),
        deadline: message.deadline,
        data: message.data,
        signature,
        kind: "partner",
      },
      now(),
    );
    return store.enqueueRelay(request);
  }

  function describeCallData(to: string, data: string): { name: string; readOnly: boolean; signature: string } | null {
    const target = targets.get(to.toLowerCase());
    if (!target) return null;
    const iface = target === "registry" ? contracts.interfaces.registry : contracts.interfaces.escrow;
    try {
      const parsed = iface.parseTransaction({ data });
      if (!parsed) return null;
      const mutability = parsed.fragment.stateMutability;
      return { name: parsed.name, signature: parsed.signature, readOnly: mutability === "view" || mutability === "pure" };
    } catch {
      return null;
    }
  }

  async function get(id: string): Promise<RelayRequest> {
    const request = await store.getRelay(id.toLowerCase());
    if (!request) throw notFound(`no relay request ${id}`);
    return request;
  }

  async function signingInfo() {
    const eip712 = await domain();
    return {
      domain: {
        name: String(eip712.name),
        version: String(eip712.version),
        chainId: chain.chainId,
        verifyingContract: forwarderAddress,
      },
      types: FORWARD_REQUEST_TYPES,
      primaryType: "ForwardRequest" as const,
      relayer: relayerAddress,
      targets: { registry: chain.addresses.registry.toLowerCase() as Hex, escrow: chain.addresses.escrow.toLowerCase() as Hex },
      maxForwardedGas: maxForwardedGas.toString(),
    };
  }

  async function nonces(address: string) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address) || address.toLowerCase() === ZeroAddress) throw invalidInput(`${address} is not an account address`);
    const from = address.toLowerCase() as Hex;
    const current = BigInt(await contracts.forwarder.nonces(from));
    const pending = await pendingNoncesOf(from);
    return { address: from, nonce: current.toString(), next: firstFree(current, pending).toString(), pending: pending.size };
  }

  return {
    accept,
    get,
    signingInfo,
    nonces,
    describeCall: (request) => describeCallData(request.to, request.data)?.signature ?? null,
  };
}

function firstFree(current: bigint, pending: Map<bigint, unknown>): bigint {
  let n = current;
  while (pending.has(n)) n++;
  return n;
}
