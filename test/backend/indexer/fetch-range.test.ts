/** fetchRange against a scripted chain (no node, no database): what it returns and what it refuses. */
import { expect } from "chai";
import type { Block, Filter, Log } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder, type RawLog } from "../../../backend/chain/events.ts";
import { BlockRangeTooLargeError, ChainMovedError } from "../../../backend/indexer/errors.ts";
import type { ChainReader } from "../../../backend/chain/chain-access.ts";
import { fetchRange } from "../../../backend/indexer/fetch-range.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, blockHashOf, createEventFactory, timestampOf } from "../projections/event-factory.ts";

/** A chain of blocks 0..head on fork `fork`, with the given logs; `onGetLogs` may change it mid-read. */
class ScriptedChain implements ChainReader {
  fork = 0;
  onGetLogs: (() => void) | null = null;
  getLogsError: Error | null = null;
  constructor(
    public head: number,
    public logs: RawLog[],
  ) {}
  async getBlockNumber() {
    return this.head;
  }
  async getBlock(blockNumber: number) {
    if (blockNumber > this.head) return null;
    return {
      number: blockNumber,
      hash: blockHashOf(blockNumber, this.fork),
      parentHash: blockNumber === 0 ? blockHashOf(0, 0) : blockHashOf(blockNumber - 1, this.fork),
      timestamp: timestampOf(blockNumber),
    } as unknown as Block;
  }
  async getLogs(filter: Filter) {
    if (this.getLogsError) throw this.getLogsError;
    this.onGetLogs?.();
    const from = Number(filter.fromBlock);
    const to = Number(filter.toBlock);
    return this.logs
      .filter((log) => log.blockNumber >= from && log.blockNumber <= to)
      .map((log) => ({ ...log, removed: false })) as unknown as Log[];
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
      provider: chain,
      decoder,
      fromBlock: 10,
      toBlock: 18,
      parent: { number: 9, hash: blockHashOf(9) },
      allHeaders: false,
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
  async function readOverStaleParent(toBlock: number, allHeaders: boolean) {
    const stale = blockHashOf(9, 7) as Hex;
    const result = await fetchRange({
      provider: chainWithLogs(),
      decoder,
      fromBlock: 10,
      toBlock,
      parent: { number: 9, hash: stale },
      allHeaders,
    });
    return { result, stale };
  }

  it("test_fetchRange_liveRange_detectsParentMismatchAsReorg", async function () {
    const { result, stale } = await readOverStaleParent(12, true);
    expect(result).to.deep.equal({ kind: "reorg", parentNumber: 9, expected: stale, actual: blockHashOf(9) });
  });

  it("test_fetchRange_backfillRange_firstBlockWithoutEvents_stillDetectsParentMismatchAsReorg", async function () {
    // The checkpoint was checked just before, but the chain may reorganise below the range between that check
    // and this read: the range must still be refused unless its first block builds on the stored parent.
    const { result, stale } = await readOverStaleParent(18, false);
    expect(result).to.deep.equal({ kind: "reorg", parentNumber: 9, expected: stale, actual: blockHashOf(9) });
  });

  it("test_fetchRange_chainChangesWhileReading_refusesTheRange", async function () {
    const chain = chainWithLogs();
    chain.onGetLogs = () => {
      chain.fork = 1;
    };
    try {
      await fetchRange({ provider: chain, decoder, fromBlock: 10, toBlock: 18, parent: null, allHeaders: false });
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
      await fetchRange({ provider: chain, decoder, fromBlock: 10, toBlock: 18, parent: null, allHeaders: false });
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
      await fetchRange({ provider: chain, decoder, fromBlock: 10, toBlock: 18, parent: null, allHeaders: false });
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
      await fetchRange({ provider: chain, decoder, fromBlock: 10, toBlock: 18, parent: null, allHeaders: false });
      expect.fail("no refusal");
    } catch (error) {
      expect(error).to.be.instanceOf(BlockRangeTooLargeError);
      expect(error).to.deep.include({ fromBlock: 10, toBlock: 18 });
      expect((error as Error).cause).to.equal(chain.getLogsError);
    }
    chain.getLogsError = new Error("connect ECONNREFUSED");
    try {
      await fetchRange({ provider: chain, decoder, fromBlock: 10, toBlock: 18, parent: null, allHeaders: false });
      expect.fail("no error");
    } catch (error) {
      expect(error).to.equal(chain.getLogsError);
    }
  });
});
