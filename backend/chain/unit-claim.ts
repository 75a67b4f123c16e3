/**
 * Claims of unit ownership tokens (contracts/UnitOwnership.sol, IUnitOwnership): the claim tree a manufacturer
 * commits for a batch, and the EIP-712 signature with which a unit's claim key names the token's recipient.
 *
 * Claim tree: OpenZeppelin's `StandardMerkleTree.of([[serial, claimKey], ...], ["string", "address"])`, so
 * leaf = keccak256(bytes.concat(keccak256(abi.encode(string serial, address claimKey)))).
 * Claim: the claim key signs `Claim(uint256 tokenId,address recipient)` under the domain
 * { name: "Provena Unit Ownership", version: "1", chainId, verifyingContract: <UnitOwnership address> },
 * with tokenId = uint256(keccak256(abi.encode(bytes32 batchId, string serial))).
 *
 * The one place these encodings live: the contract tests, the CLI, the claim relay (backend/ownership) and the
 * scripts all sign, check and build with these functions, so they cannot drift apart.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  AbiCoder,
  Wallet,
  getAddress,
  hexlify,
  keccak256,
  randomBytes,
  verifyTypedData,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import type { Hex } from "../domain/model.ts";
import type { TypedDataSigner } from "./order-consent.ts";

/** UnitOwnership's EIP-712 domain name and version (its constructor). */
export const UNIT_CLAIM_DOMAIN_NAME = "Provena Unit Ownership";
export const UNIT_CLAIM_DOMAIN_VERSION = "1";

/** The typed-data types of a claim: UnitOwnership's `Claim(uint256 tokenId,address recipient)`. */
export const UNIT_CLAIM_TYPES: Record<string, TypedDataField[]> = {
  Claim: [
    { name: "tokenId", type: "uint256" },
    { name: "recipient", type: "address" },
  ],
};

/** The leaf encoding of a claim tree. */
export const CLAIM_TREE_ENCODING = ["string", "address"] as const;

/** A batch's claim tree: one `[serial, claimKey]` leaf per unit. */
export type ClaimTree = StandardMerkleTree<[string, string]>;

/** One unit's claim key: the address committed in the tree and the private key printed inside the packaging. */
export interface UnitClaimKey {
  serial: string;
  claimKey: string;
  claimSecret: string;
}

/** The token id of a unit, as UnitOwnership.tokenIdOf computes it. */
export function unitTokenId(batchId: string, serial: string): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "string"], [batchId, serial])));
}

/** The claim tree over `[serial, claimKey]` pairs (claim keys stored checksummed, whatever case they come in). */
export function buildClaimTree(units: readonly { serial: string; claimKey: string }[]): ClaimTree {
  return StandardMerkleTree.of(
    units.map(({ serial, claimKey }) => [serial, getAddress(claimKey)] as [string, string]),
    [...CLAIM_TREE_ENCODING],
  );
}

/** The claim key committed for `serial` and its proof, or null when the serial is not in the tree. */
export function claimProofOf(tree: ClaimTree, serial: string): { claimKey: string; proof: string[] } | null {
  for (const [index, [value, claimKey]] of tree.entries()) {
    if (value === serial) return { claimKey, proof: tree.getProof(index) };
  }
  return null;
}

/** UnitOwnership's EIP-712 domain on `chainId`. */
export function unitClaimDomain(chainId: bigint | number, unitOwnershipAddress: string): TypedDataDomain {
  return {
    name: UNIT_CLAIM_DOMAIN_NAME,
    version: UNIT_CLAIM_DOMAIN_VERSION,
    chainId,
    verifyingContract: unitOwnershipAddress,
  };
}

/** The claim key's signature giving the token `tokenId` to `recipient` (pass a Wallet of the claim secret). */
export function signUnitClaim(
  claimKey: TypedDataSigner,
  unitOwnership: { chainId: bigint | number; address: string },
  claim: { tokenId: bigint; recipient: string },
): Promise<string> {
  return claimKey.signTypedData(unitClaimDomain(unitOwnership.chainId, unitOwnership.address), UNIT_CLAIM_TYPES, {
    tokenId: claim.tokenId,
    recipient: claim.recipient,
  });
}

/** The claim key that signed `signature` for the claim (lower case), or null for a signature that is not one. */
export function recoverUnitClaimKey(
  signature: string,
  unitOwnership: { chainId: bigint | number; address: string },
  claim: { tokenId: bigint; recipient: string },
): Hex | null {
  try {
    const domain = unitClaimDomain(unitOwnership.chainId, unitOwnership.address);
    const signer = verifyTypedData(domain, UNIT_CLAIM_TYPES, { tokenId: claim.tokenId, recipient: claim.recipient }, signature);
    return signer.toLowerCase() as Hex;
  } catch {
    return null;
  }
}

/**
 * One fresh random claim key per serial. Keys come straight from 32 random bytes rather than
 * `Wallet.createRandom()`, which derives an HD wallet from a mnemonic (thousands of PBKDF2 rounds per key) and
 * would take minutes for a batch of 100,000 units.
 */
export function generateClaimKeys(serials: readonly string[]): UnitClaimKey[] {
  return serials.map((serial) => {
    const wallet = new Wallet(hexlify(randomBytes(32)));
    return { serial, claimKey: wallet.address, claimSecret: wallet.privateKey };
  });
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (GS1 serials may hold `,` and `"`). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The `serial,claimSecret` CSV the manufacturer prints from (one line per unit, with a header). */
export function claimSecretsCsv(keys: readonly UnitClaimKey[]): string {
  return ["serial,claimSecret", ...keys.map(({ serial, claimSecret }) => `${csvField(serial)},${claimSecret}`)].join("\n") + "\n";
}
