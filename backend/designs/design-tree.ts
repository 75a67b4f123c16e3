/**
 * Design-proof trees: OpenZeppelin StandardMerkleTrees over `[bytes32 fileHash, address owner, bytes32 salt]`
 * leaves (IDesignRegistry). `fileHash` is the SHA-256 of the file's bytes, `salt` 32 random bytes per file, so
 * the root reveals no file hash, and a proof of one file reveals nothing about the others. Only the owner holds
 * the files; a proof carries the file's hash, never the file.
 */
import { randomBytes } from "node:crypto";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Hex } from "../domain/model.ts";

export const DESIGN_LEAF_ENCODING = ["bytes32", "address", "bytes32"] as const;

/** One design file in a tree: its SHA-256, the address that owns it, and its salt. */
export interface DesignLeaf {
  fileHash: Hex;
  owner: Hex;
  salt: Hex;
}

type LeafTuple = [string, string, string];

const tupleOf = (leaf: DesignLeaf): LeafTuple => [leaf.fileHash, leaf.owner, leaf.salt];

/** A fresh 32-byte salt. */
export function designSalt(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}

/** The tree over `leaves` (in any order; OpenZeppelin sorts leaves by hash). */
export function buildDesignTree(leaves: readonly DesignLeaf[]): StandardMerkleTree<LeafTuple> {
  if (leaves.length === 0) throw new RangeError("A design tree needs at least one file");
  return StandardMerkleTree.of(leaves.map(tupleOf), [...DESIGN_LEAF_ENCODING]);
}

/** The proof of one file of a tree: what its owner hands out instead of the file. */
export interface DesignFileProof {
  root: Hex;
  leaf: DesignLeaf;
  proof: Hex[];
}

/** One proof per leaf of `tree`, in the order the leaves were given. */
export function designFileProofs(tree: StandardMerkleTree<LeafTuple>, leaves: readonly DesignLeaf[]): DesignFileProof[] {
  const root = tree.root as Hex;
  return leaves.map((leaf) => ({ root, leaf: normaliseLeaf(leaf), proof: tree.getProof(tupleOf(leaf)) as Hex[] }));
}

/** A multiproof of several leaves of one tree (OpenZeppelin's format); a single proof is a multiproof too. */
export interface DesignMultiProof {
  leaves: DesignLeaf[];
  proof: Hex[];
  proofFlags: boolean[];
}

/** A single-leaf proof as a multiproof: every flag false takes the next proof element. */
export function singleLeafMultiProof(leaf: DesignLeaf, proof: readonly Hex[]): DesignMultiProof {
  return { leaves: [leaf], proof: [...proof], proofFlags: proof.map(() => false) };
}

/** True when every leaf of `multiproof` is in the tree with `root`. */
export function verifyDesignMultiProof(root: Hex, multiproof: DesignMultiProof): boolean {
  if (multiproof.leaves.length === 0) return false;
  try {
    return StandardMerkleTree.verifyMultiProof(root, [...DESIGN_LEAF_ENCODING], {
      leaves: multiproof.leaves.map(tupleOf),
      proof: multiproof.proof,
      proofFlags: multiproof.proofFlags,
    });
  } catch {
    // Malformed multiproofs (flags not matching the proof's length) throw: they prove nothing.
    return false;
  }
}

function normaliseLeaf(leaf: DesignLeaf): DesignLeaf {
  return { fileHash: leaf.fileHash.toLowerCase() as Hex, owner: leaf.owner.toLowerCase() as Hex, salt: leaf.salt.toLowerCase() as Hex };
}
