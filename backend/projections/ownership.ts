/**
 * Unit ownership projection: each unit's token (UnitClaimed, then ERC-721 Transfers between holders) and each
 * batch's claim root (ClaimRootCommitted), from the ownership contract's events alone.
 *
 * The mint's own Transfer (from the zero address) repeats what UnitClaimed says, so it changes nothing: the
 * projection does not depend on which of the two the contract emits first. A token's document carries its whole
 * history (`transfers`), so undoing blocks after a reorg is a truncation of that history (rollBackUnitToken), and a
 * claim root, written once, is undone by deleting it when its block is gone.
 */
import { ZeroAddress } from "ethers";
import type { ChainEvent, ClaimRoot, Hex, UnitToken } from "../domain/model.ts";
import { ProjectionError, eventRef, hexArg, isAlreadyApplied, numberArg, stringArg } from "./event-ref.ts";

const ZERO = ZeroAddress as Hex;

/** The ownership projections some events touch: token ids (decimal) and batch ids of claim roots. */
export interface OwnershipKeys {
  tokenIds: string[];
  claimRootBatchIds: Hex[];
}

/** The token an event changes, or null. */
export function unitTokenKeyOf(event: ChainEvent): string | null {
  if (event.contract !== "UnitOwnership") return null;
  if (event.name === "UnitClaimed") return stringArg(event, "tokenId");
  if (event.name === "Transfer" && hexArg(event, "from") !== ZERO) return stringArg(event, "tokenId");
  return null;
}

/** The batch whose claim root an event commits, or null. */
export function claimRootKeyOf(event: ChainEvent): Hex | null {
  return event.contract === "UnitOwnership" && event.name === "ClaimRootCommitted" ? hexArg(event, "batchId") : null;
}

export function ownershipKeysOfAll(events: Iterable<ChainEvent>): OwnershipKeys {
  const tokenIds = new Set<string>();
  const claimRootBatchIds = new Set<Hex>();
  for (const event of events) {
    const tokenId = unitTokenKeyOf(event);
    if (tokenId !== null) tokenIds.add(tokenId);
    const batchId = claimRootKeyOf(event);
    if (batchId !== null) claimRootBatchIds.add(batchId);
  }
  return { tokenIds: [...tokenIds], claimRootBatchIds: [...claimRootBatchIds] };
}

/** Next state of token `tokenId` after `event`; the token itself when the event does not change it. */
export function reduceUnitToken(token: UnitToken | null, event: ChainEvent, tokenId: string): UnitToken | null {
  if (unitTokenKeyOf(event) !== tokenId) return token;
  if (isAlreadyApplied(token, event)) return token;
  const ref = eventRef(event);
  if (event.name === "UnitClaimed") {
    if (token !== null) throw new ProjectionError(event, `token ${tokenId} was already claimed in ${token.claimed.eventId}`);
    return {
      tokenId,
      batchId: hexArg(event, "batchId"),
      serial: stringArg(event, "serial"),
      owner: hexArg(event, "owner"),
      ownedSince: event.blockTimestamp,
      claimedAt: event.blockTimestamp,
      previousOwners: [],
      transfers: [],
      claimed: ref,
      lastEvent: ref,
    };
  }
  // Transfer between holders (or to the zero address, a burn the contract does not offer but ERC-721 allows).
  if (token === null) throw new ProjectionError(event, `transfer of token ${tokenId}, which was never claimed`);
  const from = hexArg(event, "from");
  const to = hexArg(event, "to");
  if (from !== token.owner) throw new ProjectionError(event, `transfer of token ${tokenId} from ${from}, but ${token.owner} holds it`);
  if (from === to) return { ...token, lastEvent: ref };
  return withOwnership({ ...token, transfers: [...token.transfers, { from, to, at: ref }], lastEvent: ref }, claimantOf(token));
}

/** Owner, ownedSince and previousOwners as the claim (to `claimant`) and the transfers after it make them. */
function withOwnership(token: UnitToken, claimant: Hex): UnitToken {
  let owner = claimant;
  let ownedSince = token.claimedAt;
  const previousOwners: Hex[] = [];
  for (const transfer of token.transfers) {
    previousOwners.push(owner);
    owner = transfer.to;
    ownedSince = transfer.at.blockTimestamp;
  }
  return { ...token, owner, ownedSince, previousOwners };
}

/** The account the token was minted to: the first transfer's sender, or the owner when it never moved. */
function claimantOf(token: UnitToken): Hex {
  return token.transfers[0]?.from ?? token.owner;
}

export function reduceClaimRoot(root: ClaimRoot | null, event: ChainEvent, batchId: Hex): ClaimRoot | null {
  if (claimRootKeyOf(event) !== batchId) return root;
  if (root !== null) {
    if (root.committed.eventId === event.id) return root; // a replay
    throw new ProjectionError(event, `batch ${batchId} already has the claim root committed in ${root.committed.eventId}`);
  }
  return {
    batchId,
    manufacturer: hexArg(event, "manufacturer"),
    claimRoot: hexArg(event, "claimRoot"),
    units: numberArg(event, "units"),
    committed: eventRef(event),
  };
}

/** The stored ownership documents of some keys (unknown keys left out). */
export type LoadCurrentOwnership = (keys: OwnershipKeys) => Promise<{ unitTokens: UnitToken[]; claimRoots: ClaimRoot[] }>;

export interface OwnershipDocuments {
  unitTokens: UnitToken[];
  claimRoots: ClaimRoot[];
}

/**
 * Folds a range's events (any order; applied in chain order) into the ownership documents to write: only those
 * that changed. Events already reflected (id <= lastEvent, or the committing event itself) change nothing.
 */
export async function projectOwnership(events: readonly ChainEvent[], loadCurrent: LoadCurrentOwnership): Promise<OwnershipDocuments> {
  const keys = ownershipKeysOfAll(events);
  if (keys.tokenIds.length + keys.claimRootBatchIds.length === 0) return { unitTokens: [], claimRoots: [] };
  const current = await loadCurrent(keys);
  return foldOwnership(keys, current, events);
}

/** Pure core of projectOwnership. */
export function foldOwnership(keys: OwnershipKeys, current: OwnershipDocuments, events: readonly ChainEvent[]): OwnershipDocuments {
  const tokens = new Map<string, UnitToken | null>(keys.tokenIds.map((id) => [id, null]));
  const roots = new Map<Hex, ClaimRoot | null>(keys.claimRootBatchIds.map((id) => [id, null]));
  for (const token of current.unitTokens) tokens.set(token.tokenId, token);
  for (const root of current.claimRoots) roots.set(root.batchId, root);
  const initialTokens = new Map(tokens);
  const initialRoots = new Map(roots);
  for (const event of [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const tokenId = unitTokenKeyOf(event);
    if (tokenId !== null && tokens.has(tokenId)) tokens.set(tokenId, reduceUnitToken(tokens.get(tokenId) ?? null, event, tokenId));
    const batchId = claimRootKeyOf(event);
    if (batchId !== null && roots.has(batchId)) roots.set(batchId, reduceClaimRoot(roots.get(batchId) ?? null, event, batchId));
  }
  const changed = <K, T>(before: Map<K, T | null>, after: Map<K, T | null>): T[] =>
    [...after].filter(([key, document]) => document !== null && document !== before.get(key)).map(([, document]) => document!);
  return { unitTokens: changed(initialTokens, tokens), claimRoots: changed(initialRoots, roots) };
}

/** A token as it was at the end of block `forkBlock`: null when claimed after it, else its history cut there. */
export function rollBackUnitToken(token: UnitToken, forkBlock: number): UnitToken | null {
  if (token.claimed.blockNumber > forkBlock) return null;
  const transfers = token.transfers.filter((transfer) => transfer.at.blockNumber <= forkBlock);
  const lastEvent = transfers.at(-1)?.at ?? token.claimed;
  return withOwnership({ ...token, transfers, lastEvent }, claimantOf(token));
}

/** What a rollback to `forkBlock` writes and deletes of the given stored ownership documents. */
export function rollBackOwnership(
  stored: OwnershipDocuments,
  forkBlock: number,
): { unitTokens: UnitToken[]; deleteUnitTokenIds: string[]; deleteClaimRootBatchIds: Hex[] } {
  const unitTokens: UnitToken[] = [];
  const deleteUnitTokenIds: string[] = [];
  for (const token of stored.unitTokens) {
    const rolledBack = rollBackUnitToken(token, forkBlock);
    if (rolledBack === null) deleteUnitTokenIds.push(token.tokenId);
    else unitTokens.push(rolledBack);
  }
  const deleteClaimRootBatchIds = stored.claimRoots.filter((root) => root.committed.blockNumber > forkBlock).map((root) => root.batchId);
  return { unitTokens, deleteUnitTokenIds, deleteClaimRootBatchIds };
}
