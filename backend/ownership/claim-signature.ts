/**
 * The claim a unit's claim key signs (IUnitOwnership): EIP-712 `Claim(uint256 tokenId,address recipient)` in the
 * domain {name "Provena Unit Ownership", version "1", chainId, verifyingContract = the ownership contract}, and
 * the unit's token id. Shared by the claim relay, the CLI and the passport page's claim form, so all three sign and
 * check the same bytes.
 */
import { AbiCoder, Wallet, keccak256, verifyTypedData, type TypedDataDomain } from "ethers";
import type { Hex } from "../domain/model.ts";

export const CLAIM_TYPES = {
  Claim: [
    { name: "tokenId", type: "uint256" },
    { name: "recipient", type: "address" },
  ],
} as const;

export function claimDomain(chainId: number, unitOwnership: string): TypedDataDomain {
  return { name: "Provena Unit Ownership", version: "1", chainId, verifyingContract: unitOwnership };
}

/** tokenId = uint256(keccak256(abi.encode(batchId, serial))), in decimal; `batchId` is the registered batch. */
export function unitTokenId(batchId: Hex, serial: string): string {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "string"], [batchId, serial]))).toString();
}

/** The claim key's signature of (tokenId, recipient): what the shopper's browser or CLI sends, never the secret. */
export async function signClaim(
  claimSecret: string,
  claim: { chainId: number; unitOwnership: string; tokenId: string; recipient: string },
): Promise<Hex> {
  const key = new Wallet(claimSecret);
  const signature = await key.signTypedData(claimDomain(claim.chainId, claim.unitOwnership), CLAIM_TYPES as never, {
    tokenId: BigInt(claim.tokenId),
    recipient: claim.recipient,
  });
  return signature.toLowerCase() as Hex;
}

/** The claim key that signed (lower case), or null for a signature that is not one. */
export function recoverClaimKey(
  signature: string,
  claim: { chainId: number; unitOwnership: string; tokenId: string; recipient: string },
): Hex | null {
  try {
    const signer = verifyTypedData(
      claimDomain(claim.chainId, claim.unitOwnership),
      CLAIM_TYPES as never,
      {
        tokenId: BigInt(claim.tokenId),
        recipient: claim.recipient,
      },
      signature,
    );
    return signer.toLowerCase() as Hex;
  } catch {
    return null;
  }
}
