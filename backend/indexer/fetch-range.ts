/**
 * Reads one block range from the chain: the Provena logs, decoded, and the headers the mirror keeps for
 * reorg detection. It refuses to return a range the chain changed while it was being read.
 */
import type { Log } from "ethers";
import type { ChainReader } from "../chain/chain-access.ts";
import type { EventDecoder } from "../chain/events.ts";
import type { ChainEvent, Hex, IndexedBlock } from "../domain/model.ts";
import { BlockRangeTooLargeError, ChainMovedError, isRangeTooLarge } from "./errors.ts";

export interface FetchRangeParameters {
  provider: ChainReader;
  decoder: EventDecoder;
  fromBlock: number;
  toBlock: number;
  /** The stored block just below `fromBlock` (the checkpoint), to check the range builds on it. */
  parent: { number: number; hash: Hex } | null;
  /** Fetch every header of the range and check each links to the previous one (live tailing, small ranges). */
  allHeaders: boolean;
}

export type FetchRangeResult =
  | { kind: "range"; events: ChainEvent[]; blocks: IndexedBlock[]; last: IndexedBlock }
  /** The range does not build on the stored parent: the chain reorganised below `fromBlock`. */
  | { kind: "reorg"; parentNumber: number; expected: Hex; actual: Hex };

const HEADER_CONCURRENCY = 50;

export async function fetchRange({
  provider,
  decoder,
  fromBlock,
  toBlock,
  parent,
  allHeaders,
}: FetchRangeParameters): Promise<FetchRangeResult> {
  const chainId = decoder.chainId;
  const lastBefore = await fetchHeader(provider, chainId, toBlock);

  let logs: Log[];
  try {
    logs = await provider.getLogs({ address: decoder.addresses, fromBlock, toBlock });
  } catch (error) {
    if (isRangeTooLarge(error)) throw new BlockRangeTooLargeError(fromBlock, toBlock, { cause: error });
    throw error;
  }

  const eventBlocks = new Set<number>(logs.map((log) => log.blockNumber));
  const numbers = new Set<number>(eventBlocks);
  numbers.add(toBlock);
  // Always read the first block when there is a parent to link to: the checkpoint's own check ran before this
  // read, and a reorg below the range in between would otherwise go unseen (the range builds on a dead block).
  if (parent !== null) numbers.add(fromBlock);
  if (allHeaders) for (let number = fromBlock; number <= toBlock; number++) numbers.add(number);
  const headers = new Map<number, IndexedBlock>();
  const sorted = [...numbers].sort((a, b) => a - b);
  for (let start = 0; start < sorted.length; start += HEADER_CONCURRENCY) {
    const chunk = sorted.slice(start, start + HEADER_CONCURRENCY);
    const fetched = await Promise.all(chunk.map((number) => fetchHeader(provider, chainId, number)));
    for (const header of fetched) headers.set(header.number, header);
  }

  const last = headers.get(toBlock)!;
  if (last.hash !== lastBefore.hash) {
    throw new ChainMovedError(`Block ${toBlock} changed from ${lastBefore.hash} to ${last.hash} while its range was read`);
  }

  const first = headers.get(fromBlock);
  if (parent !== null && first !== undefined && parent.number === fromBlock - 1 && first.parentHash !== parent.hash) {
    return { kind: "reorg", parentNumber: parent.number, expected: parent.hash, actual: first.parentHash };
  }
  if (allHeaders) {
    for (let number = fromBlock + 1; number <= toBlock; number++) {
      if (headers.get(number)!.parentHash !== headers.get(number - 1)!.hash) {
        throw new ChainMovedError(`Block ${number} does not build on block ${number - 1}: the chain changed while the range was read`);
      }
    }
  }

  const events: ChainEvent[] = [];
  const orderedLogs = [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  for (const log of orderedLogs) {
    const header = headers.get(log.blockNumber)!;
    if (log.removed || log.blockHash.toLowerCase() !== header.hash) {
      throw new ChainMovedError(
        `Log ${log.index} of block ${log.blockNumber} belongs to ${log.blockHash}, but the block is now ${header.hash}`,
      );
    }
    events.push(decoder.decode(log, header.timestamp));
  }

  // Keep the headers the reorg check needs: every block with events, and the range's last block.
  const kept = [...headers.values()].filter((header) => header.number === toBlock || eventBlocks.has(header.number));
  return { kind: "range", events, blocks: kept.sort((a, b) => a.number - b.number), last };
}

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
