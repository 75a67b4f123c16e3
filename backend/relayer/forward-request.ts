/**
 * ERC-2771 forward requests as OpenZeppelin 5's ERC2771Forwarder defines them: the EIP-712 type a partner signs,
 * the request id (the EIP-712 digest of what was signed, so a resubmit maps to the same id) and signer recovery.
 */
import { Signature, TypedDataEncoder, getAddress, verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Hex } from "../domain/model.ts";

/** The EIP-712 domain name and version of ProvenaForwarder (contracts/ProvenaForwarder.sol). */
export const FORWARDER_DOMAIN_NAME = "ProvenaForwarder";
export const FORWARDER_DOMAIN_VERSION = "1";

/** `ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)`. */
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

/** What a partner signs (the nonce is the forwarder's `nonces(from)` at execution time). */
export interface ForwardRequestMessage {
  from: Hex;
  to: Hex;
  value: bigint;
  gas: bigint;
  nonce: bigint;
  deadline: number;
  data: Hex;
}

/** What the forwarder's `execute` takes: the message without the nonce, plus the signature. */
export interface ForwardRequestData {
  from: Hex;
  to: Hex;
  value: bigint;
  gas: bigint;
  deadline: number;
  data: Hex;
  signature: Hex;
}

export function forwarderDomain(chainId: number | bigint, forwarder: string): TypedDataDomain {
  return {
    name: FORWARDER_DOMAIN_NAME,
    version: FORWARDER_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(forwarder),
  };
}

/** The EIP-712 digest of the request: what the signature signs and the relay request id. */
export function forwardRequestDigest(domain: TypedDataDomain, message: ForwardRequestMessage): Hex {
  return TypedDataEncoder.hash(domain, FORWARD_REQUEST_TYPES, message).toLowerCase() as Hex;
}

/**
 * The address that signed `message`, or null when the signature cannot be parsed or is malleable (high s),
 * which the forwarder's ECDSA library would refuse too.
 */
export function recoverForwardRequestSigner(domain: TypedDataDomain, message: ForwardRequestMessage, signature: Hex): Hex | null {
  try {
    const parsed = Signature.from(signature);
    // OpenZeppelin's ECDSA rejects s in the upper half of the curve order; mirror that so we never accept what the chain refuses.
    if (BigInt(parsed.s) > 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n) return null;
    return verifyTypedData(domain, FORWARD_REQUEST_TYPES, message, signature).toLowerCase() as Hex;
  } catch {
    return null;
  }
}

/** Signs a forward request with any ethers signer that supports EIP-712 (used by the CLI, the demo and tests). */
export async function signForwardRequest(
  signer: {
    signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
  },
  domain: TypedDataDomain,
  message: ForwardRequestMessage,
): Promise<Hex> {
  return (await signer.signTypedData(domain, FORWARD_REQUEST_TYPES, { ...message })) as Hex;
}

/** The data the target sees when the forwarder calls it: ERC-2771 appends the signer's address. */
export function forwardedCalldata(data: Hex, from: Hex): Hex {
  return (data + from.slice(2).toLowerCase()) as Hex;
}
