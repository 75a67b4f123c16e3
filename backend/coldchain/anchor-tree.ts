/**
 * The Merkle trees of anchored readings. A root commits a leg's readings as OpenZeppelin's StandardMerkleTree over
 * `[bytes32 readingHash]` (IColdChain: the EIP-712 struct hash `hashReading` of each reading), so a proof checks
 * with OpenZeppelin's MerkleProof against the leaf `keccak256(bytes.concat(keccak256(abi.encode(readingHash))))`.
 *
 * Which readings a root holds is a rule over the store, so the tree can be rebuilt from it at any time: the leg's
 * readings whose sequence is in [firstSequence, lastSequence] and whose timestamp is in [fromTime, toTime]
 * (`anchoredReadings`). The anchorer picks its windows so that no other stored reading matches the rule
 * (`planAnchorWindow`).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { StoredReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import { readingHash } from "./reading-codec.ts";

export const ANCHOR_LEAF_ENCODING = ["bytes32"];

export interface AnchorWindow {
  firstSequence: number;
  lastSequence: number;
  fromTime: number;
  toTime: number;
}

export interface AnchorTree {
  root: Hex;
  /** The readings in the tree, by sequence. */
  readings: StoredReading[];
  /** The proof of `readings[index]`. */
  proof(index: number): Hex[];
}

/** The readings of `readings` (one leg's) a root over `window` holds. */
export function anchoredReadings(readings: StoredReading[], window: AnchorWindow): StoredReading[] {
  return readings.filter(
    (reading) =>
      reading.sequence >= window.firstSequence &&
      reading.sequence <= window.lastSequence &&
      reading.timestamp >= window.fromTime &&
      reading.timestamp <= window.toTime,
  );
}

/** The tree over `readings` (at least one). */
export function buildAnchorTree(readings: StoredReading[]): AnchorTree {
  if (readings.length === 0) throw new RangeError("an anchor tree needs at least one reading");
  const tree = StandardMerkleTree.of(
    readings.map((reading) => [readingHash(reading)]),
    ANCHOR_LEAF_ENCODING,
  );
  return { root: tree.root as Hex, readings, proof: (index) => tree.getProof(index) as Hex[] };
}

/** Whether `proof` proves `reading` under `root` (the contract-side rule, as OpenZeppelin's MerkleProof checks it). */
export function verifyReadingProof(root: Hex, reading: Omit<StoredReading, "legId" | "receivedAt" | "signature">, proof: Hex[]): boolean {
  return StandardMerkleTree.verify(root, ANCHOR_LEAF_ENCODING, [readingHash(reading)], proof);
}

export interface PlanAnchorWindowParameters {
  /** The leg's stored readings from the anchorer's next sequence on, by sequence. */
  readings: StoredReading[];
  /** The anchorer's cursor on chain: the next window starts no earlier in time. */
  anchoredUntil: number;
  attachedAt: number;
  /** When the leg ended, null while it is open. */
  detachedAt: number | null;
  /** The chain's time (unix seconds): an open leg's readings after it wait. */
  chainTime: number;
  /** A window spans readings measured within this many seconds from its first. */
  intervalSeconds: number;
  maxReadings: number;
}

/**
 * The next window to anchor, or null while there is none yet. Readings that can never be anchored (measured before
 * the cursor or the leg, or after a detached leg's end) are left out; since they are outside [fromTime, toTime]
 * the rule leaves them out of the rebuilt tree too. A window of an open leg is anchored once it is closed (the
 * chain's time is past its first reading plus the interval) or full; a detached leg's readings at once.
 */
export function planAnchorWindow(parameters: PlanAnchorWindowParameters): { window: AnchorWindow; readings: StoredReading[] } | null {
  const { anchoredUntil, attachedAt, detachedAt, chainTime, intervalSeconds, maxReadings } = parameters;
  const earliest = Math.max(anchoredUntil, attachedAt);
  const legEnd = detachedAt ?? chainTime;
  const selected: StoredReading[] = [];
  let closed = detachedAt !== null;
  for (const reading of parameters.readings) {
    if (selected.length >= maxReadings) {
      closed = true;
      break;
    }
    if (reading.timestamp < earliest) continue;
    if (reading.timestamp > legEnd) {
      if (detachedAt !== null) continue;
      break; // measured after the chain's time: wait for the chain
    }
    if (selected.length > 0 && reading.timestamp >= selected[0]!.timestamp + intervalSeconds) {
      closed = true;
      break;
    }
    selected.push(reading);
  }
  if (selected.length === 0) return null;
  if (!closed && chainTime < selected[0]!.timestamp + intervalSeconds && selected.length < maxReadings) return null;
  let fromTime = selected[0]!.timestamp;
  let toTime = fromTime;
  for (const { timestamp } of selected) {
    fromTime = Math.min(fromTime, timestamp);
    toTime = Math.max(toTime, timestamp);
  }
  return {
    window: { firstSequence: selected[0]!.sequence, lastSequence: selected.at(-1)!.sequence, fromTime, toTime },
    readings: selected,
  };
}
