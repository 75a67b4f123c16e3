/**
 * Proofs that a stored reading is committed on chain: the anchored root whose window holds it (a mirrored
 * ReadingsAnchored whose root the backend's anchorer built, see anchor-tree.ts), and its Merkle proof rebuilt from
 * the store. Roots anchored by anyone else (a carrier's own) are shown by the cold-chain view but prove nothing
 * here: the backend does not know their leaves.
 */
import { AbiCoder, keccak256 } from "ethers";
import type { ReadingsAnchor, StoredReading } from "../domain/cold-chain.ts";
import { conflict, notFound } from "../domain/errors.ts";
import type { Hex, Page } from "../domain/model.ts";
import { MAX_READING_RANGE, type ColdChainReads, type ReadingAnchorRecords } from "../store/port.ts";
import { anchoredReadings, buildAnchorTree, type AnchorTree } from "./anchor-tree.ts";
import { readingHash } from "./reading-codec.ts";

/** Where a reading is anchored: the root and the transaction that put it on chain. */
export interface ReadingAnchorRef {
  root: Hex;
  anchoredBy: Hex;
  transactionHash: Hex;
  blockNumber: number;
}

export type AnchoredReading = StoredReading & { anchor: ReadingAnchorRef | null };

export interface ReadingProof {
  reading: StoredReading;
  /** The reading's EIP-712 struct hash (IColdChain.hashReading): the tree's leaf value. */
  readingHash: Hex;
  /** The leaf as OpenZeppelin's MerkleProof hashes it: keccak256(bytes.concat(keccak256(abi.encode(readingHash)))). */
  leaf: Hex;
  anchor: ReadingAnchorRef & { count: number; firstSequence: number; lastSequence: number; fromTime: number; toTime: number };
  proof: Hex[];
}

export interface ReadingProofs {
  /** The proof of the leg's reading `sequence`; not-found while it is not (yet) anchored by the backend. */
  readingProof(legId: Hex, sequence: number): Promise<ReadingProof>;
  /** The page with each reading's anchor (null while none of the backend's anchored roots holds it). */
  withAnchors(page: Page<StoredReading>): Promise<Page<AnchoredReading>>;
}

const covers = (anchor: ReadingsAnchor, reading: StoredReading) =>
  reading.legId === anchor.legId && anchoredReadings([reading], anchor).length === 1;

const refOf = (anchor: ReadingsAnchor): ReadingAnchorRef => ({
  root: anchor.root,
  anchoredBy: anchor.anchoredBy,
  transactionHash: anchor.at.transactionHash,
  blockNumber: anchor.at.blockNumber,
});

export function createReadingProofs(
  store: Pick<ColdChainReads, "getColdChainLegs" | "listReadingsAnchors"> & ReadingAnchorRecords,
  { cachedTrees = 16 } = {},
): ReadingProofs {
  const trees = new Map<Hex, AnchorTree>();

  /** The mirrored anchors of `legId` whose roots the backend built (the first anchor of a root, if sent twice). */
  async function provableAnchors(legId: Hex): Promise<ReadingsAnchor[]> {
    const [anchors, plans] = await Promise.all([store.listReadingsAnchors(legId), store.listReadingsAnchorPlans(legId)]);
    const planned = new Set(plans.map((plan) => plan.root));
    const seen = new Set<Hex>();
    return anchors.filter((anchor) => planned.has(anchor.root) && !seen.has(anchor.root) && seen.add(anchor.root));
  }

  async function treeOf(anchor: ReadingsAnchor): Promise<AnchorTree> {
    const cached = trees.get(anchor.root);
    if (cached !== undefined) return cached;
    const stored = await store.listLegReadingRange(anchor.legId, anchor.firstSequence, anchor.lastSequence, MAX_READING_RANGE);
    const readings = anchoredReadings(stored, anchor);
    const tree = readings.length === anchor.count ? buildAnchorTree(readings) : null;
    if (tree === null || tree.root !== anchor.root) {
      throw conflict(`The stored readings of leg ${anchor.legId} no longer rebuild root ${anchor.root}`, { root: anchor.root });
    }
    trees.set(anchor.root, tree);
    if (trees.size > cachedTrees) trees.delete(trees.keys().next().value!);
    return tree;
  }

  return {
    async readingProof(legId, sequence) {
      const [leg] = await store.getColdChainLegs([legId]);
      if (leg === undefined) throw notFound(`No leg ${legId} in the mirror`);
      const [stored] = await store.listLegReadingRange(legId, sequence, sequence, 1);
      if (stored === undefined) throw notFound(`No reading ${sequence} of leg ${legId}`);
      const anchor = (await provableAnchors(legId)).find((candidate) => covers(candidate, stored));
      if (anchor === undefined) throw notFound(`Reading ${sequence} of leg ${legId} is not anchored yet`, { reason: "not-anchored" });
      const tree = await treeOf(anchor);
      const index = tree.readings.findIndex((reading) => reading.sequence === sequence);
      const hash = readingHash(stored);
      return {
        reading: stored,
        readingHash: hash,
        leaf: standardLeaf(hash),
        anchor: {
          ...refOf(anchor),
          count: anchor.count,
          firstSequence: anchor.firstSequence,
          lastSequence: anchor.lastSequence,
          fromTime: anchor.fromTime,
          toTime: anchor.toTime,
        },
        proof: tree.proof(index),
      };
    },

    async withAnchors(page) {
      const legIds = [...new Set(page.items.map((reading) => reading.legId))];
      const anchors = new Map(await Promise.all(legIds.map(async (legId) => [legId, await provableAnchors(legId)] as const)));
      return {
        ...page,
        items: page.items.map((reading) => {
          const anchor = anchors.get(reading.legId)?.find((candidate) => covers(candidate, reading));
          return { ...reading, anchor: anchor === undefined ? null : refOf(anchor) };
        }),
      };
    },
  };
}

/** OpenZeppelin's StandardMerkleTree leaf of a one-`bytes32` value. */
export function standardLeaf(value: Hex): Hex {
  return keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32"], [value]))) as Hex;
}
