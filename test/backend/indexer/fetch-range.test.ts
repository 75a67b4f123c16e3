/** fetchRange against a scripted chain (no node, no database): what it returns and what it refuses. */
import { expect } from "chai";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder, type RawLog } from "../../../backend/chain/events.ts";
import { BlockRangeTooLargeError, ChainMovedError } from "../../../backend/indexer/errors.ts";
import type { ChainLog, IndexerChainReader } from "../../../backend/chain/json-rpc-chain-reader.ts";
import { fetchRange, logSlices } from "../../../backend/indexer/fetch-range.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, blockHashOf, createEventFactory, timestampOf } from "../projections/event-factory.ts";

const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;

/**
 * A chain of blocks 0..head on fork `fork`, with the given logs; `onGetLogs` may change it mid-read. Blocks in
 * `placeholders` name the zero hash as parent (what Hardhat's hardhat_mine makes); `parentOverrides` give a
 * block another parent hash than its predecessor's (a broken link).
 */
class ScriptedChain implements IndexerChainReader {
  fork = 0;
  onGetLogs: (() => void) | null = null;
  getLogsError: Error | null = null;
  placeholders = new Set<number>();
  parentOverrides = new Map<number, Hex>();
  headerRequests: number[][] = [];
  constructor(
    public head: number,
    public logs: RawLog[],
  ) {}
  async getHeaders(blockNumbers: readonly number[]) {
    this.headerRequests.push([...blockNumbers]);
    return blockNumbers.map((blockNumber) => {
      if (blockNumber > this.head) return null;
      const parentHash =
        this.parentOverrides.get(blockNumber) ??
        (this.placeholders.has(blockNumber) ? ZERO_HASH : blockNumber === 0 ? ZERO_HASH : (blockHashOf(blockNumber - 1, this.fork) as Hex));
      return { number: blockNumber, hash: blockHashOf(blockNumber, this.fork) as Hex, parentHash, timestamp: timestampOf(blockNumber) };
    });
  }
  async getLogs(filter: { fromBlock: number; toBlock: number }): Promise<ChainLog[]> {
    if (this.getLogsError) throw this.getLogsError;
    this.onGetLogs?.();
    return this.logs
      .filter((log) => log.blockNumber >= filter.fromBlock && log.blockNumber <= filter.toBlock)
      .map((log) => ({ ...log, removed: false }));
  }
}

describe("fetchRange", function () {
  const decoder = createEventDecoder({ deployment: TEST_DEPLOYMENT, abis: loadProvenaAbis() });

  function chainWithLogs(): ScriptedChain {
    const factory = createEventFactory(12);
    const logs = [factory.log("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.carrier])];
    factory.nextBlock();
    factory.nextBlock();
    logs.push(factory.log("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.customs]));
    logs.push(factory.log("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.retailer]));
    return new ScriptedChain(20, logs);
  }

  it("test_fetchRange_decodesEventsAndKeepsTheHeadersNeeded", async function () {
    const chain = chainWithLogs();
    const result = await fetchRange({
      chain,
      decoder,
      fromBlock: 10,
      toBlock: 18,
      parent: { number: 9, hash: blockHashOf(9) },
    });
    if (result.kind !== "range") throw new Error("expected a range");
    expect(result.events.map((event) => [event.blockNumber, event.logIndex, event.args.account])).to.deep.equal([
      [12, 0, ACCOUNTS.carrier],
      [14, 0, ACCOUNTS.customs],
      [14, 1, ACCOUNTS.retailer],
    ]);
    expect(result.events[0]!.blockTimestamp).to.equal(timestampOf(12));
    expect(result.blocks.map((block) => block.number)).to.deep.equal([12, 14, 18]);
    expect(result.last).to.deep.equal({
      chainId: 31337,
      number: 18,
      hash: blockHashOf(18),
      parentHash: blockHashOf(17),
      timestamp: timestampOf(18),
    });
  });

  /** Reads blocks 10..toBlock over a stored parent (block 9) that the chain has since replaced. */
  async function readOverStaleParent(toBlock: number) {
    const stale = blockHashOf(9, 7) as Hex;
    const result = await fetchRange({ chain: chainWithLogs(), decoder, fromBlock: 10, toBlock, parent: { number: 9, hash: stale } });
    return { result, stale };
  }

  it("test_fetchRange_liveRange_detectsParentMismatchAsReorg", async function () {
    const { result, stale } = await readOverStaleParent(12);
    expect(result).to.deep.equal({ kind: "reorg", parentNumber: 9, expected: stale, actual: blockHashOf(9) });
  });

  it("test_fetchRange_backfillRange_firstBlockWithoutEvents_stillDetectsParentMismatchAsReorg", async function () {
    // The checkpoint was checked just before, but the chain may reorganise below the range between that check
    // and this read: the range must still be refused unless its first block builds on the stored parent.
    const { result, stale } = await readOverStaleParent(18);
    expect(result).to.deep.equal({ kind: "reorg", parentNumber: 9, expected: stale, actual: blockHashOf(9) });
  });

  describe("header-link rule, the same for small and large ranges", function () {
    for (const toBlock of [12, 18, 900]) {
      describe(`when the range is 10-${toBlock}`, function () {
        it("test_fetchRange_bulkMinedPlaceholderBlocks_accepted", async function () {
          const chain = chainWithLogs();
          chain.head = 1_000;
          for (let number = 10; number <= 1_000; number++) chain.placeholders.add(number);
          const result = await fetchRange({ chain, decoder, fromBlock: 10, toBlock, parent: { number: 9, hash: blockHashOf(9) } });
          if (result.kind !== "range") throw new Error(`expected a range, got ${JSON.stringify(result)}`);
          expect(result.last.number).to.equal(toBlock);
          expect(result.events.map((event) => event.blockNumber)).to.deep.equal([12, 14, 14].filter((number) => number <= toBlock));
        });

        it("test_fetchRange_firstBlockDoesNotLinkToStoredParent_isReorg", async function () {
          // The parent still reads back with its stored hash, but the range's first block names another parent.
          const chain = chainWithLogs();
          chain.head = 1_000;
          const other = blockHashOf(9, 5) as Hex;
          chain.parentOverrides.set(10, other);
          const result = await fetchRange({ chain, decoder, fromBlock: 10, toBlock, parent: { number: 9, hash: blockHashOf(9) } });
          expect(result).to.deep.equal({ kind: "reorg", parentNumber: 9, expected: blockHashOf(9), actual: other });
        });

        it("test_fetchRange_brokenLinkBetweenEventBlocks_isChainMoved", async function () {
          const chain = chainWithLogs();
          chain.head = 1_000;
          const factory = createEventFactory(11);
          chain.logs.push(factory.log("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.inspector]));
          chain.parentOverrides.set(12, blockHashOf(11, 4) as Hex);
          try {
            await fetchRange({ chain, decoder, fromBlock: 10, toBlock, parent: { number: 9, hash: blockHashOf(9) } });
            expect.fail("accepted headers that do not link");
          } catch (error) {
            expect(error).to.be.instanceOf(ChainMovedError);
            expect((error as Error).message).to.match(/Block 12 does not build on block 11/);
          }
        });
      });
    }

    it("test_fetchRange_wideRange_chainChangesBetweenLogSlices_refusesTheRange", async function () {
      const chain = chainWithLogs();
      chain.head = 1_200;
      let slicesRead = 0;
      chain.onGetLogs = () => {
        if (++slicesRead === 2) chain.fork = 1; // a reorg lands between two slices of the same range
      };
      try {
        await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 1_100, parent: null });
        expect.fail("accepted a range whose slices came from two forks");
      } catch (error) {
        expect(error).to.be.instanceOf(ChainMovedError);
      }
      expect(slicesRead).to.equal(4);
    });

    it("test_fetchRange_readsOnlyTheHeadersItNeeds_inOneRequest", async function () {
      const chain = chainWithLogs();
      chain.head = 1_000;
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 900, parent: { number: 9, hash: blockHashOf(9) } });
      expect(chain.headerRequests).to.deep.equal([[900], [9, 10, 12, 14, 900]]);
    });
  });

  it("test_fetchRange_chainChangesWhileReading_refusesTheRange", async function () {
    const chain = chainWithLogs();
    chain.onGetLogs = () => {
      chain.fork = 1;
    };
    try {
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 18, parent: null });
      expect.fail("accepted a range read across a reorg");
    } catch (error) {
      expect(error).to.be.instanceOf(ChainMovedError);
      expect((error as Error).message).to.match(/Block 18 changed from 0x[0-9a-f]{64} to 0x[0-9a-f]{64} while its range was read/);
    }
  });

  it("test_fetchRange_logFromAnotherFork_refusesTheRange", async function () {
    const chain = chainWithLogs();
    chain.logs[1] = { ...chain.logs[1]!, blockHash: blockHashOf(14, 3) };
    try {
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 18, parent: null });
      expect.fail("accepted a log of another fork");
    } catch (error) {
      expect(error).to.be.instanceOf(ChainMovedError);
      expect((error as Error).message).to.match(/Log 0 of block 14 belongs to/);
    }
  });

  it("test_fetchRange_missingBlock_isChainMoved", async function () {
    const chain = chainWithLogs();
    chain.head = 15;
    try {
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 18, parent: null });
      expect.fail("read a block the node does not have");
    } catch (error) {
      expect(error).to.be.instanceOf(ChainMovedError);
    }
  });

  it("test_fetchRange_nodeRefusal_isBlockRangeTooLarge", async function () {
    const chain = chainWithLogs();
    chain.getLogsError = Object.assign(new Error("could not coalesce error"), {
      error: { code: -32000, message: "block range too large" },
    });
    try {
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 18, parent: null });
      expect.fail("no refusal");
    } catch (error) {
      expect(error).to.be.instanceOf(BlockRangeTooLargeError);
      expect(error).to.deep.include({ fromBlock: 10, toBlock: 18 });
      expect((error as Error).cause).to.equal(chain.getLogsError);
    }
    chain.getLogsError = new Error("connect ECONNREFUSED");
    try {
      await fetchRange({ chain, decoder, fromBlock: 10, toBlock: 18, parent: null });
      expect.fail("no error");
    } catch (error) {
      expect(error).to.equal(chain.getLogsError);
    }
  });
});

describe("logSlices", function () {
  it("test_logSlices_coverTheRangeContiguously_upToFourOfAtLeast256Blocks", function () {
    for (const [fromBlock, toBlock] of [
      [0, 0],
      [5, 300],
      [10, 521],
      [1, 2_000],
      [7, 100_006],
    ] as const) {
      const slices = logSlices(fromBlock, toBlock);
      expect(slices[0]!.fromBlock).to.equal(fromBlock);
      expect(slices.at(-1)!.toBlock).to.equal(toBlock);
      slices.slice(1).forEach((slice, index) => expect(slice.fromBlock).to.equal(slices[index]!.toBlock + 1));
      expect(slices.length).to.be.within(1, 4);
      if (slices.length > 1) for (const slice of slices) expect(slice.toBlock - slice.fromBlock + 1).to.be.at.least(256);
    }
    expect(logSlices(1, 2_000)).to.have.length(4);
    expect(logSlices(1, 511)).to.have.length(1);
  });
});
