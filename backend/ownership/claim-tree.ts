/**
 * A manufacturer's claim tree: the OpenZeppelin StandardMerkleTree over `[string serial, address claimKey]` leaves
 * whose root the manufacturer committed on chain (commitClaimRoot). Its dump (StandardMerkleTree.dump(), JSON) is
 * uploaded so the claim relay can give each claim its claim key and proof; it holds claim key ADDRESSES only, never
 * the secrets printed in the boxes. The tree's encoding and its building are chain-level (backend/chain/unit-claim.ts);
 * this module checks an uploaded dump for the claim relay.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { isAddress } from "ethers";
import { CLAIM_TREE_ENCODING, type ClaimTree } from "../chain/unit-claim.ts";
import { invalidInput } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";

/** A loaded claim tree: its root and each serial's claim key and proof. */
export interface ClaimTreeIndex {
  root: Hex;
  units: number;
  /** The unit's claim key (lower case) and its proof under `root`; null for a serial not in the tree. */
  leafOf(serial: string): { claimKey: Hex; proof: Hex[] } | null;
}

/** What a dump says of itself, read without hashing anything: its root (the first node) and its unit count. */
export function claimTreeHeader(dump: unknown): { root: Hex; units: number } {
  const data = checkedDumpShape(dump);
  const root = data.tree[0];
  if (typeof root !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(root))
    throw invalidInput("The claim tree's first node is not a 32-byte root");
  return { root: root.toLowerCase() as Hex, units: data.values.length };
}

function checkedDumpShape(dump: unknown): { tree: unknown[]; values: unknown[] } {
  const data = dump as { format?: unknown; leafEncoding?: unknown; tree?: unknown; values?: unknown };
  if (data === null || typeof data !== "object" || data.format !== "standard-v1") {
    throw invalidInput('The claim tree must be a StandardMerkleTree dump ({"format": "standard-v1", ...})');
  }
  if (JSON.stringify(data.leafEncoding) !== JSON.stringify(CLAIM_TREE_ENCODING)) {
    throw invalidInput(
      `The claim tree's leaves must be ["string", "address"] (serial, claim key), not ${JSON.stringify(data.leafEncoding)}`,
    );
  }
  if (!Array.isArray(data.tree) || !Array.isArray(data.values) || data.values.length === 0) {
    throw invalidInput("The claim tree has no units");
  }
  return { tree: data.tree, values: data.values };
}

/**
 * Loads and checks a dump: the standard-v1 format with `[string, address]` leaves, each serial once, and (unless
 * `validate` is false: a tree read back from the store, checked when it was uploaded) every node hash consistent
 * (StandardMerkleTree.validate, seconds for 100,000 units). Throws an "invalid-input" DomainError saying what is wrong.
 */
export function loadClaimTree(dump: unknown, { validate = true }: { validate?: boolean } = {}): ClaimTreeIndex {
  checkedDumpShape(dump);
  let tree: ClaimTree;
  try {
    tree = StandardMerkleTree.load(dump as Parameters<typeof StandardMerkleTree.load<[string, string]>>[0]);
    if (validate) tree.validate();
  } catch (error) {
    throw invalidInput(`The claim tree is not a valid StandardMerkleTree dump: ${(error as Error).message}`);
  }
  const bySerial = new Map<string, { index: number; claimKey: Hex }>();
  for (const [index, [serial, claimKey]] of tree.entries()) {
    if (typeof serial !== "string" || typeof claimKey !== "string" || !isAddress(claimKey)) {
      throw invalidInput(`Claim tree entry ${index} is not [serial, claim key address]`);
    }
    if (bySerial.has(serial)) throw invalidInput(`Serial "${serial}" appears twice in the claim tree`);
    bySerial.set(serial, { index, claimKey: claimKey.toLowerCase() as Hex });
  }
  return {
    root: tree.root.toLowerCase() as Hex,
    units: bySerial.size,
    leafOf(serial) {
      const leaf = bySerial.get(serial);
      if (leaf === undefined) return null;
      return { claimKey: leaf.claimKey, proof: tree.getProof(leaf.index).map((node) => node.toLowerCase() as Hex) };
    },
  };
}
