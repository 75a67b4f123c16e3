/**
 * How many blocks the indexer asks the node for at once. Halves when the node refuses a range, grows back by
 * doubling on success, and stays below a refused size for a while: node limits often count results, not blocks,
 * so a refused size may pass later.
 */

export interface RangeSize {
  /** Blocks to ask for next. */
  current(): number;
  /** A range was committed: grow back toward the largest size not refused lately. */
  succeeded(): void;
  /** The node refused the blocks `fromBlock`-`toBlock`: halve that size and stay below it for a while. */
  refused(fromBlock: number, toBlock: number): void;
}

/** Successful ranges after which a refused range size is tried again. */
export const RANGE_CEILING_RESET = 50;

export function createRangeSize(maxBlocks: number): RangeSize {
  let range = maxBlocks;
  /** Largest range the node has not refused lately; ranges grow back up to it, and it resets after a while. */
  let ceiling = maxBlocks;
  let sinceRefusal = 0;

  return {
    current: () => range,

    succeeded() {
      if (++sinceRefusal >= RANGE_CEILING_RESET) ceiling = maxBlocks;
      if (range < ceiling) range = Math.min(ceiling, range * 2);
    },

    refused(fromBlock, toBlock) {
      const refusedBlocks = toBlock - fromBlock + 1;
      ceiling = refusedBlocks - 1;
      sinceRefusal = 0;
      range = Math.max(1, Math.floor(refusedBlocks / 2));
    },
  };
}
