import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

/** The unit-serial tree a batch commits to: one `["string"]` leaf per AI(21) serial number. */
export type SerialTree = StandardMerkleTree<[string]>;

/** `count` distinct serials such as `SN-000001`. */
export function makeSerials(count: number, prefix = "SN-"): string[] {
  const width = Math.max(6, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
}

/** The OpenZeppelin StandardMerkleTree over the serials, as the registry's `verifyUnit` expects. */
export function buildSerialTree(serials: readonly string[]): SerialTree {
  return StandardMerkleTree.of(
    serials.map((serial) => [serial] as [string]),
    ["string"],
  );
}

/** The proof for `serial` in `tree`; throws when the serial is not in the tree. */
export function serialProof(tree: SerialTree, serial: string): string[] {
  for (const [index, [value]] of tree.entries()) {
    if (value === serial) return tree.getProof(index);
  }
  throw new Error(`serial ${serial} is not in the tree`);
}
