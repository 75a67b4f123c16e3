import { hexlify, type BaseContract, type BigNumberish, type BytesLike, type Signer } from "ethers";
import { FORWARDER_DOMAIN_NAME, FORWARDER_DOMAIN_VERSION, FORWARD_REQUEST_TYPES } from "../../backend/relayer/forward-request.ts";
import type { ProvenaForwarder } from "../../types/ethers-contracts/index.js";

/** What `ProvenaForwarder.execute` takes: the request fields plus the signature, without the nonce. */
export interface ForwardRequestData {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  deadline: bigint;
  data: string;
  signature: string;
}

export interface SignForwardRequestParameters {
  forwarder: ProvenaForwarder;
  signer: Signer;
  /** The contract the call is relayed to (the registry or the escrow). */
  target: BaseContract | string;
  /** ABI-encoded call, e.g. `registry.interface.encodeFunctionData("acceptHandoff", [...])`. */
  data: BytesLike;
  value?: bigint;
  /** Gas forwarded to the target; the relayer must supply more than this. */
  gas?: bigint;
  /** Unix seconds; default one hour after the latest block. */
  deadline?: bigint;
  /** Default: the signer's current forwarder nonce. */
  nonce?: BigNumberish;
  /** Sign as if for another chain id (to build invalid requests in tests). */
  chainId?: bigint;
  /** Claim another sender than the signer (to build forged requests in tests). */
  from?: string;
}

/** Signs an ERC-2771 forward request with EIP-712 ("ProvenaForwarder", version "1"). */
export async function signForwardRequest(parameters: SignForwardRequestParameters): Promise<ForwardRequestData> {
  const { forwarder, signer } = parameters;
  const provider = signer.provider;
  if (provider === null) throw new Error("the signer needs a provider");
  const from = parameters.from ?? (await signer.getAddress());
  const to = typeof parameters.target === "string" ? parameters.target : await parameters.target.getAddress();
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("no latest block");
  const request = {
    from,
    to,
    value: parameters.value ?? 0n,
    gas: parameters.gas ?? 1_000_000n,
    nonce: parameters.nonce ?? (await forwarder.nonces(from)),
    deadline: parameters.deadline ?? BigInt(latest.timestamp) + 3600n,
    data: hexlify(parameters.data),
  };
  const domain = {
    name: FORWARDER_DOMAIN_NAME,
    version: FORWARDER_DOMAIN_VERSION,
    chainId: parameters.chainId ?? (await provider.getNetwork()).chainId,
    verifyingContract: await forwarder.getAddress(),
  };
  const signature = await signer.signTypedData(domain, FORWARD_REQUEST_TYPES, request);
  return {
    from,
    to,
    value: request.value,
    gas: request.gas,
    deadline: request.deadline,
    data: request.data,
    signature,
  };
}
