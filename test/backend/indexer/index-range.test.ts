import { expect } from "chai";
import { LIVE_RANGE_BLOCKS, planRange } from "../../../backend/indexer/index-range.ts";
import { retryDelayMs } from "../../../backend/indexer/indexer.ts";

const checkpointAt = (blockNumber: number) => ({ chainId: 31337, blockNumber, blockHash: null, updatedAt: 0 });

describe("planRange", function () {
  it("test_planRange_noCheckpoint_startsAtTheDeploymentBlock", function () {
    const plan = planRange({ checkpoint: null, deployBlock: 7, head: 20, confirmations: 0, maxBlocks: 5 });
    expect(plan).to.deep.equal({ kind: "range", fromBlock: 7, toBlock: 11, target: 20, phase: "live" });
  });

  it("test_planRange_checkpointAtTheTarget_isCaughtUp", function () {
    const plan = planRange({ checkpoint: checkpointAt(18), deployBlock: 0, head: 20, confirmations: 2, maxBlocks: 5 });
    expect(plan).to.deep.equal({ kind: "caught-up", target: 18 });
  });

  it("test_planRange_farBehindTheHead_isBackfill", function () {
    const head = 1_000 + LIVE_RANGE_BLOCKS * 2;
    const plan = planRange({ checkpoint: checkpointAt(99), deployBlock: 0, head, confirmations: 0, maxBlocks: 100 });
    expect(plan).to.deep.equal({ kind: "range", fromBlock: 100, toBlock: 199, target: head, phase: "backfill" });
  });

  it("test_planRange_rangeEndsAtTheTarget_confirmationsBehindTheHead", function () {
    const plan = planRange({ checkpoint: checkpointAt(9), deployBlock: 0, head: 20, confirmations: 3, maxBlocks: 100 });
    expect(plan).to.deep.equal({ kind: "range", fromBlock: 10, toBlock: 17, target: 17, phase: "live" });
  });
});

describe("retryDelayMs", function () {
  it("test_retryDelayMs_doublesThenStopsAtThirtySeconds", function () {
    expect(retryDelayMs(1)).to.equal(200);
    expect(retryDelayMs(2)).to.equal(400);
    expect(retryDelayMs(20)).to.equal(30_000);
  });
});
