import { hexlify, type BaseContract, type BigNumberish, type BytesLike, type Signer, type TypedDataField } from "ethers";
import type { ProvenaForwarder } from "../../types/ethers-contracts/index.js";

/** The EIP-712 type of OpenZeppelin's ERC2771Forwarder request (nonce comes from the forwarder). */
export const FORWARD_REQUEST_TYPES: Record<string, TypedDataField[]> = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};

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
    name: "ProvenaForwarder",
    version: "1",
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
