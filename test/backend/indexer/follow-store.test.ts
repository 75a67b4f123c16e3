/**
 * A follower (an instance without the indexer lease) reports the leader's progress: it counts the stored events,
 * which walks the chain's whole event index, once at first and then at most every FOLLOWER_COUNT_EVERY_MS while the
 * checkpoint moves, not at every poll.
 */
import { expect } from "chai";

import { FOLLOWER_COUNT_EVERY_MS, followStoredProgress, type FollowerCount } from "../../../backend/indexer/follow-store.ts";
import { createIndexerProgress } from "../../../backend/indexer/status.ts";

describe("indexer follower progress", function () {
  it("test_followStoredProgress_countsAtFirst_thenAtMostOncePerInterval_whileTheCheckpointMoves", async function () {
    let checkpointAt = 1;
    let counts = 0;
    let clock = 0;
    const dependencies = {
      chainId: 31337,
      store: {
        getCheckpoint: async () => ({ chainId: 31337, blockNumber: checkpointAt, blockHash: null, updatedAt: checkpointAt }),
        countEvents: async () => (++counts, 100 * checkpointAt),
      },
      provider: { getBlockNumber: async () => 500 },
    } as never;
    const progress = createIndexerProgress({ chainId: 31337, instanceId: "follower", blockRange: 100, deployBlock: 0, confirmations: 0 });
    let last: FollowerCount | null = null;
    const poll = async () => (last = await followStoredProgress(dependencies, progress, last, () => clock));

    await poll();
    expect([counts, progress.status.eventsIndexed, progress.status.indexedBlock]).to.deep.equal([1, 100, 1]);
    checkpointAt = 2;
    clock += 1_000;
    await poll(); // moved, but counted a second ago: the block moves, the count waits
    expect([counts, progress.status.eventsIndexed, progress.status.indexedBlock]).to.deep.equal([1, 100, 2]);
    clock += FOLLOWER_COUNT_EVERY_MS;
    await poll();
    expect([counts, progress.status.eventsIndexed]).to.deep.equal([2, 200]);
    clock += FOLLOWER_COUNT_EVERY_MS;
    await poll(); // the checkpoint did not move: nothing to count
    expect(counts).to.equal(2);
  });
});
