/**
 * Reads one block range from the chain: the Provena logs, decoded, and the headers the mirror keeps for
 * reorg detection. It refuses to return a range the chain changed while it was being read.
 *
 * One header-link rule, whatever the range size: the range must build on the stored parent (its block, read again
 * by number after the logs, still has the stored hash), and every two consecutive headers read must link (the
 * child names the parent's hash). A header whose parent hash is zero has no link to check: Hardhat's
 * `hardhat_mine` fills bulk-mined blocks with such placeholders; real nodes only do it for the genesis block.
 * Headers in between are not read: the range's last block keeping its hash across the read shows no block
 * below it changed (a block's hash commits to its parent's), so sparse chains cost a header per event block.
 */
import type { ChainReader } from "../chain/chain-access.ts";
import type { EventDecoder } from "../chain/events.ts";
import type { BlockHeader, ChainLog, IndexerChainReader } from "../chain/json-rpc-chain-reader.ts";
import type { ChainEvent, Hex, IndexedBlock } from "../domain/model.ts";
import { BlockRangeTooLargeError, ChainMovedError, isRangeTooLarge } from "./errors.ts";

export interface FetchRangeParameters {
  chain: IndexerChainReader;
  decoder: EventDecoder;
  fromBlock: number;
  toBlock: number;
  /** The stored block just below `fromBlock` (the checkpoint), to check the range builds on it. */
  parent: { number: number; hash: Hex } | null;
}

export type FetchRangeResult =
  | { kind: "range"; events: ChainEvent[]; blocks: IndexedBlock[]; last: IndexedBlock }
  /** The range does not build on the stored parent: the chain reorganised below `fromBlock`. */
  | { kind: "reorg"; parentNumber: number; expected: Hex; actual: Hex };

const ZERO_HASH = `0x${"0".repeat(64)}`;

/** A header links to the block below it, or is a placeholder that names no parent (see the file header). */
export function linksTo(child: Pick<BlockHeader, "parentHash">, parentHash: Hex): boolean {
  return child.parentHash === parentHash || child.parentHash === ZERO_HASH;
}

export async function fetchRange({ chain, decoder, fromBlock, toBlock, parent }: FetchRangeParameters): Promise<FetchRangeResult> {
  const chainId = decoder.chainId;
  const [lastBefore] = await readHeaders(chain, [toBlock]);

  let logs: ChainLog[];
  try {
    // Several slices in flight at once: the node serialises one while this process parses another.
    const slices = logSlices(fromBlock, toBlock);
    const parts = await Promise.all(slices.map((slice) => chain.getLogs({ address: decoder.addresses, ...slice })));
    logs = parts.length === 1 ? parts[0]! : parts.flat();
  } catch (error) {
    if (isRangeTooLarge(error)) throw new BlockRangeTooLargeError(fromBlock, toBlock, { cause: error });
    throw error;
  }

  const eventBlocks = new Set<number>();
  for (const log of logs) eventBlocks.add(log.blockNumber);
  const numbers = new Set<number>(eventBlocks);
  numbers.add(toBlock);
  numbers.add(fromBlock);
  // The parent again, after the logs: a reorg below the range since the checkpoint's own check must not go unseen.
  if (parent !== null) numbers.add(parent.number);
  const sorted = [...numbers].sort((a, b) => a - b);
  const headers = new Map<number, BlockHeader>();
  for (const header of await readHeaders(chain, sorted)) headers.set(header.number, header);

  const last = headers.get(toBlock)!;
  if (last.hash !== lastBefore!.hash) {
    throw new ChainMovedError(`Block ${toBlock} changed from ${lastBefore!.hash} to ${last.hash} while its range was read`);
  }

  if (parent !== null) {
    const parentNow = headers.get(parent.number)!;
    if (parentNow.hash !== parent.hash) {
      return { kind: "reorg", parentNumber: parent.number, expected: parent.hash, actual: parentNow.hash };
    }
    const first = headers.get(fromBlock)!;
    if (parent.number === fromBlock - 1 && !linksTo(first, parent.hash)) {
      return { kind: "reorg", parentNumber: parent.number, expected: parent.hash, actual: first.parentHash };
    }
  }
  for (let index = 1; index < sorted.length; index++) {
    const below = headers.get(sorted[index - 1]!)!;
    const header = headers.get(sorted[index]!)!;
    if (header.number === below.number + 1 && !linksTo(header, below.hash)) {
      throw new ChainMovedError(
        `Block ${header.number} does not build on block ${below.number}: the chain changed while the range was read`,
      );
    }
  }

  const events: ChainEvent[] = [];
  const orderedLogs = logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  for (const log of orderedLogs) {
    const header = headers.get(log.blockNumber);
    if (header === undefined || log.blockNumber < fromBlock || log.blockNumber > toBlock) {
      throw new ChainMovedError(`The node returned a log of block ${log.blockNumber} for the range ${fromBlock}-${toBlock}`);
    }
    if (log.removed || log.blockHash !== header.hash) {
      throw new ChainMovedError(
        `Log ${log.index} of block ${log.blockNumber} belongs to ${log.blockHash}, but the block is now ${header.hash}`,
      );
    }
    events.push(decoder.decode(log, header.timestamp));
  }

  // Keep the headers the reorg check needs: every block with events, and the range's last block.
  const kept: IndexedBlock[] = [];
  for (const number of sorted) {
    if (number === toBlock || eventBlocks.has(number)) kept.push({ chainId, ...headers.get(number)! });
  }
  return { kind: "range", events, blocks: kept, last: { chainId, ...last } };
}

/** Blocks per eth_getLogs slice at least, and slices of a range at most. */
const MIN_SLICE_BLOCKS = 256;
const MAX_SLICES = 4;

/**
 * Splits a range into up to MAX_SLICES consecutive slices of at least MIN_SLICE_BLOCKS. Reading slices separately
 * is as safe as one call: every log's block hash is checked against headers read after all slices, and the last
 * block's hash must not change across the read, so slices from different forks are refused.
 */
export function logSlices(fromBlock: number, toBlock: number): { fromBlock: number; toBlock: number }[] {
  const blocks = toBlock - fromBlock + 1;
  const count = Math.max(1, Math.min(MAX_SLICES, Math.floor(blocks / MIN_SLICE_BLOCKS)));
  const size = Math.ceil(blocks / count);
  const slices: { fromBlock: number; toBlock: number }[] = [];
  for (let start = fromBlock; start <= toBlock; start += size)
    slices.push({ fromBlock: start, toBlock: Math.min(toBlock, start + size - 1) });
  return slices;
}

/** Headers of `blockNumbers`, in one request where the transport batches; a missing block means the chain moved. */
async function readHeaders(chain: IndexerChainReader, blockNumbers: number[]): Promise<BlockHeader[]> {
  const headers = await chain.getHeaders(blockNumbers);
  return headers.map((header, index) => {
    if (header === null) {
      throw new ChainMovedError(`Block ${blockNumbers[index]} is not available from the node (the chain is shorter or reorganising)`);
    }
    return header;
  });
}

/** One header as the mirror stores it, through an ethers-style provider (the reorg and recovery stages). */
export async function fetchHeader(provider: ChainReader, chainId: number, blockNumber: number): Promise<IndexedBlock> {
  const block = await provider.getBlock(blockNumber);
  if (block === null || block.hash === null) {
    throw new ChainMovedError(`Block ${blockNumber} is not available from the node (the chain is shorter or reorganising)`);
  }
  return {
    chainId,
    number: block.number,
    hash: block.hash.toLowerCase() as Hex,
    parentHash: block.parentHash.toLowerCase() as Hex,
    timestamp: block.timestamp,
  };
}
