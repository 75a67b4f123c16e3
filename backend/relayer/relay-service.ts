/**
 * Accepting partners' signed forward requests. Every check runs BEFORE the request is stored, so whatever is
 * accepted can be submitted: the target is a Provena contract, the request has not expired, the signature is
 * the `from` account's, the nonce is the forwarder's next one for `from` (or follows requests already queued),
 * the signer is an active participant with the role the function needs, an order it opens names no inspector the
 * escrow would refuse, and a simulation of the call succeeds.
 * Then the request is stored durably (id = its EIP-712 digest) and only then answered. The checks themselves are in
 * acceptance-checks.ts.
 */
import { ZeroAddress, type TypedDataDomain } from "ethers";
import { invalidInput, notFound } from "../domain/errors.ts";
import type { Hex, RelayRequest } from "../domain/model.ts";
import type { RelayQueue } from "../store/port.ts";
import {
  checkCall,
  checkNonce,
  checkOrderInspector,
  checkSignature,
  checkSigner,
  checkTerms,
  describeCallData,
  firstFreeNonce,
  pendingNoncesOf,
  readForwarderDomain,
  relayTargets,
  simulateForwardRequest,
  type AcceptanceContext,
  type SignedForwardRequest,
} from "./acceptance-checks.ts";
import { FORWARD_REQUEST_TYPES, forwardRequestDigest } from "./forward-request.ts";
import { queuedRelayRequest } from "./queued-request.ts";
import type { ChainAccess } from "../chain/chain-access.ts";
import { provenaContracts } from "../chain/contracts.ts";

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
  /** The queue it writes, and whatever the acceptance checks read. */
  store: RelayQueue & AcceptanceContext["store"];
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
    targets: {
      registry: Hex;
      escrow: Hex;
      designRegistry?: Hex;
      productData?: Hex;
      coldChain?: Hex;
      unitOwnership?: Hex;
      logisticUnits?: Hex;
      transformations?: Hex;
    };
    maxForwardedGas: string;
  }>;
  /** The forwarder's current nonce for `address`, and the next one to sign given the requests already queued. */
  nonces(address: string): Promise<{ address: Hex; nonce: string; next: string; pending: number }>;
  /** Describes the function a request calls, for status responses. */
  describeCall(request: Pick<RelayRequest, "to" | "data">): string | null;
}

/** The route validated shapes; this normalises case and turns numbers into bigints. */
export function parseForwardRequestInput(input: ForwardRequestInput): SignedForwardRequest {
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

/**
 * Runs `work` after every earlier call for the same key has settled, so two requests racing for one signer's
 * nonce cannot both pass the checks in this process.
 */
export function createKeyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return function inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    tails.set(key, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (tails.get(key) === next) tails.delete(key);
      });
    return next;
  };
}

export function createRelayService(options: RelayServiceOptions): RelayService {
  const { store, chain } = options;
  const context: AcceptanceContext = {
    store,
    chain,
    contracts: provenaContracts(chain),
    relayerAddress: options.relayerAddress.toLowerCase() as Hex,
    forwarderAddress: chain.addresses.forwarder.toLowerCase() as Hex,
    targets: relayTargets(chain),
    maxForwardedGas: options.maxForwardedGas ?? 3_000_000n,
    now: options.now ?? Date.now,
  };
  const inTurnPerSigner = createKeyedQueue();
  let domainPromise: Promise<TypedDataDomain> | null = null;

  /** Read once; a failed read is tried again next time. */
  function domain(): Promise<TypedDataDomain> {
    domainPromise ??= readForwarderDomain(context).catch((error: unknown) => {
      domainPromise = null;
      throw error;
    });
    return domainPromise;
  }

  async function acceptNow(input: ForwardRequestInput): Promise<{ request: RelayRequest; created: boolean }> {
    const message = parseForwardRequestInput(input);
    const eip712 = await domain();
    const id = forwardRequestDigest(eip712, message);
    const existing = await store.getRelay(id);
    if (existing) return { request: existing, created: false };

    const target = await checkTerms(context, message);
    checkSignature(context, eip712, message);
    const functionName = checkCall(context, message, target);
    await checkSigner(context, message, target, functionName);
    const { current } = await checkNonce(context, message);
    await checkOrderInspector(context, message, functionName);
    // A request that follows queued ones depends on their effects: the worker simulates it again just before sending.
    if (message.nonce === current) await simulateForwardRequest(context, message);

    const { from, to, value, gas, nonce, deadline, data, signature } = message;
    const job = { id, chainId: chain.chainId, from, to, value: `${value}`, gas: `${gas}`, nonce: `${nonce}`, deadline, data, signature };
    return store.enqueueRelay(queuedRelayRequest({ ...job, kind: "partner" }, context.now()));
  }

  return {
    accept: (input) => inTurnPerSigner(input.from.toLowerCase(), () => acceptNow(input)),

    async get(id) {
      const request = await store.getRelay(id.toLowerCase());
      if (!request) throw notFound(`no relay request ${id}`);
      return request;
    },

    async signingInfo() {
      const eip712 = await domain();
      return {
        domain: {
          name: String(eip712.name),
          version: String(eip712.version),
          chainId: chain.chainId,
          verifyingContract: context.forwarderAddress,
        },
        types: FORWARD_REQUEST_TYPES,
        primaryType: "ForwardRequest" as const,
        relayer: context.relayerAddress,
        targets: {
          registry: chain.addresses.registry.toLowerCase() as Hex,
          escrow: chain.addresses.escrow.toLowerCase() as Hex,
          ...(chain.addresses.designRegistry ? { designRegistry: chain.addresses.designRegistry.toLowerCase() as Hex } : {}),
          ...(chain.addresses.coldChain === undefined ? {} : { coldChain: chain.addresses.coldChain.toLowerCase() as Hex }),
          ...(chain.addresses.productData ? { productData: chain.addresses.productData.toLowerCase() as Hex } : {}),
          ...(chain.addresses.unitOwnership ? { unitOwnership: chain.addresses.unitOwnership.toLowerCase() as Hex } : {}),
          ...(chain.addresses.logisticUnits ? { logisticUnits: chain.addresses.logisticUnits.toLowerCase() as Hex } : {}),
          ...(chain.addresses.transformations ? { transformations: chain.addresses.transformations.toLowerCase() as Hex } : {}),
        },
        maxForwardedGas: context.maxForwardedGas.toString(),
      };
    },

    async nonces(address) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(address) || address.toLowerCase() === ZeroAddress)
        throw invalidInput(`${address} is not an account address`);
      const from = address.toLowerCase() as Hex;
      const current = BigInt(await context.contracts.forwarder.nonces(from));
      const pending = await pendingNoncesOf(context, from);
      return { address: from, nonce: current.toString(), next: firstFreeNonce(current, pending).toString(), pending: pending.size };
    },

    describeCall: (request) => describeCallData(context, request.to, request.data)?.signature ?? null,
  };
}
