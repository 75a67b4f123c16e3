/**
 * eth_getLogs over a block range too wide for one query (nodes cap the range or the result size), asked slice by
 * slice in block order. For the verifiers that re-read the chain on their own (trade records, reputation); the
 * indexer has its own, faster path (json-rpc-chain-reader.ts).
 */
import type { Log, Provider } from "ethers";

export interface LogsInRangesFilter {
  address: string | string[];
  /** Topic filter as eth_getLogs takes it (null: any); absent: every log of the addresses. */
  topics?: (string | null)[];
}

/** The logs matching `filter` in [fromBlock, toBlock], `rangeSize` blocks per query, in the node's order; withdrawn logs dropped. */
export async function logsInRanges(
  provider: Pick<Provider, "getLogs">,
  filter: LogsInRangesFilter,
  fromBlock: number,
  toBlock: number,
  rangeSize: number,
): Promise<Log[]> {
  const logs: Log[] = [];
  for (let from = fromBlock; from <= toBlock; from += rangeSize) {
    logs.push(...(await provider.getLogs({ ...filter, fromBlock: from, toBlock: Math.min(toBlock, from + rangeSize - 1) })));
  }
  return logs.filter((log) => !log.removed);
}
