import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder, EventDecodeError } from "../../../backend/chain/events.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import {
  foldOwnership,
  ownershipKeysOfAll,
  projectOwnership,
  reduceClaimRoot,
  rollBackUnitToken,
  type OwnershipDocuments,
} from "../../../backend/projections/ownership.ts";
import { loadCurrentFromStore, loadCurrentOwnershipFromStore, project } from "../../../backend/projections/project.ts";
import { planRollback } from "../../../backend/projections/rollback.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { TEST_DEPLOYMENT, blockHashOf, bytes32, timestampOf } from "../projections/event-factory.ts";
import { OWNERSHIP_DEPLOYMENT, claimEvents, createOwnershipEventFactory, tokenIdOf } from "./ownership-events.ts";

const BATCH = bytes32("batch");
const ALICE = "0x2000000000000000000000000000000000000001";
const BOB = "0x2000000000000000000000000000000000000002";
const CAROL = "0x2000000000000000000000000000000000000003";
const MAKER = "0x1000000000000000000000000000000000000002";

const fold = (events: ChainEvent[], current: OwnershipDocuments = { unitTokens: [], claimRoots: [] }) =>
  foldOwnership(ownershipKeysOfAll(events), current, events);

/** A unit claimed by Alice in block 10, sold to Bob in block 11, given to Carol in block 12. */
function resaleHistory() {
  const factory = createOwnershipEventFactory(10);
  const events = [factory.rootCommitted(BATCH, MAKER, bytes32("claim root"), 3), ...claimEvents(factory, BATCH, "SN-1", ALICE)];
  const tokenId = tokenIdOf(BATCH, "SN-1");
  factory.nextBlock();
  events.push(factory.transfer(ALICE, BOB, tokenId));
  factory.nextBlock();
  events.push(factory.event("Approval", [BOB, CAROL, BigInt(tokenId)]));
  events.push(factory.transfer(BOB, CAROL, tokenId));
  return { factory, events, tokenId };
}

describe("ownership events", function () {
  it("test_decode_unitClaimed_tokenIdInDecimal_batchAndOwnerAsKeys", function () {
    const [claimed] = claimEvents(createOwnershipEventFactory(), BATCH, "SN-1", ALICE);
    expect(claimed!.contract).to.equal("UnitOwnership");
    expect(claimed!.args).to.deep.equal({ tokenId: tokenIdOf(BATCH, "SN-1"), batchId: BATCH, owner: ALICE, serial: "SN-1" });
    expect(claimed!.batchIds).to.deep.equal([BATCH]);
    expect(claimed!.accounts).to.deep.equal([ALICE]);
  });

  it("test_decode_erc721EventsTheInterfaceDoesNotDeclare", function () {
    const factory = createOwnershipEventFactory();
    const transfer = factory.transfer(ALICE, BOB, "7");
    expect(transfer.args).to.deep.equal({ from: ALICE, to: BOB, tokenId: "7" });
    expect(factory.event("ApprovalForAll", [ALICE, BOB, true]).name).to.equal("ApprovalForAll");
  });

  it("test_decode_withoutUnitOwnershipInTheDeployment_itsLogsAreNotOurs", function () {
    const decoder = createEventDecoder({ deployment: TEST_DEPLOYMENT, abis: loadProvenaAbis() });
    expect(decoder.addresses).to.not.include(OWNERSHIP_DEPLOYMENT.unitOwnership);
    const log = createOwnershipEventFactory().log("Transfer", [ALICE, BOB, 7n]);
    expect(() => decoder.decode(log, timestampOf(10))).to.throw(EventDecodeError);
    expect(createEventDecoder({ deployment: OWNERSHIP_DEPLOYMENT, abis: loadProvenaAbis() }).addresses).to.include(
      OWNERSHIP_DEPLOYMENT.unitOwnership,
    );
  });
});

describe("ownership projection", function () {
  it("test_fold_claimThenTwoTransfers_ownerSinceAndPreviousOwners", function () {
    const { events, tokenId } = resaleHistory();
    const { unitTokens, claimRoots } = fold(events);
    expect(unitTokens).to.have.length(1);
    const token = unitTokens[0]!;
    expect(token).to.include({
      tokenId,
      batchId: BATCH,
      serial: "SN-1",
      owner: CAROL,
      claimedAt: timestampOf(10),
      ownedSince: timestampOf(12),
    });
    expect(token.previousOwners).to.deep.equal([ALICE, BOB]);
    expect(token.transfers.map((transfer) => [transfer.from, transfer.to])).to.deep.equal([
      [ALICE, BOB],
      [BOB, CAROL],
    ]);
    expect(token.lastEvent.eventId).to.equal(events.at(-1)!.id);
    expect(claimRoots).to.deep.equal([
      {
        batchId: BATCH,
        manufacturer: MAKER,
        claimRoot: bytes32("claim root"),
        units: 3,
        committed: {
          eventId: events[0]!.id,
          blockNumber: 10,
          blockTimestamp: timestampOf(10),
          transactionHash: events[0]!.transactionHash,
        },
      },
    ]);
  });

  it("test_fold_mintTransferBeforeOrAfterUnitClaimed_sameToken", function () {
    const after = fold(claimEvents(createOwnershipEventFactory(10), BATCH, "SN-1", ALICE, false)).unitTokens[0]!;
    const before = fold(claimEvents(createOwnershipEventFactory(10), BATCH, "SN-1", ALICE, true)).unitTokens[0]!;
    const { claimed: _a, lastEvent: _b, ...afterFields } = after;
    const { claimed: _c, lastEvent: _d, ...beforeFields } = before;
    expect(afterFields).to.deep.equal(beforeFields);
    expect(after).to.include({ owner: ALICE, ownedSince: timestampOf(10) });
    expect(after.previousOwners).to.deep.equal([]);
  });

  it("test_fold_replayOfAnAppliedRange_changesNothing", async function () {
    const { events } = resaleHistory();
    const first = fold(events);
    expect(fold(events, first)).to.deep.equal({ unitTokens: [], claimRoots: [] });
    expect(fold(events.slice(2), first)).to.deep.equal({ unitTokens: [], claimRoots: [] });
  });

  it("test_fold_selfTransfer_isNoChangeOfHands", function () {
    const factory = createOwnershipEventFactory(10);
    const events = claimEvents(factory, BATCH, "SN-1", ALICE);
    events.push(factory.transfer(ALICE, ALICE, tokenIdOf(BATCH, "SN-1")));
    const token = fold(events).unitTokens[0]!;
    expect(token.previousOwners).to.deep.equal([]);
    expect(token.owner).to.equal(ALICE);
  });

  it("test_fold_transferFromSomeoneElse_contradictsTheMirror", function () {
    const factory = createOwnershipEventFactory(10);
    const events = claimEvents(factory, BATCH, "SN-1", ALICE);
    events.push(factory.transfer(BOB, CAROL, tokenIdOf(BATCH, "SN-1")));
    expect(() => fold(events)).to.throw(ProjectionError, /but 0x2000000000000000000000000000000000000001 holds it/);
    const orphan = createOwnershipEventFactory(10).transfer(BOB, CAROL, "5");
    expect(() => fold([orphan])).to.throw(ProjectionError, /never claimed/);
  });

  it("test_reduceClaimRoot_secondCommitment_contradictsTheMirror_replayIsNoOp", function () {
    const factory = createOwnershipEventFactory(10);
    const first = factory.rootCommitted(BATCH, MAKER, bytes32("one"), 3);
    const root = reduceClaimRoot(null, first, BATCH);
    expect(reduceClaimRoot(root, first, BATCH)).to.equal(root);
    const second = factory.rootCommitted(BATCH, MAKER, bytes32("two"), 3);
    expect(() => reduceClaimRoot(root, second, BATCH)).to.throw(ProjectionError, /already has the claim root/);
  });

  it("test_rollBackUnitToken_everyForkEqualsAFreshFoldOfWhatRemains", function () {
    const { events } = resaleHistory();
    const token = fold(events).unitTokens[0]!;
    for (const forkBlock of [9, 10, 11, 12]) {
      const remaining = events.filter((event) => event.blockNumber <= forkBlock);
      const fresh = fold(remaining).unitTokens[0] ?? null;
      const rolledBack = rollBackUnitToken(token, forkBlock);
      if (fresh === null) expect(rolledBack, `fork ${forkBlock}`).to.equal(null);
      else expect({ ...rolledBack!, lastEvent: null }, `fork ${forkBlock}`).to.deep.equal({ ...fresh, lastEvent: null });
    }
  });
});

describe("ownership mirror (SQLite store, through project and planRollback)", function () {
  const commit = async (store: ReturnType<typeof createSqliteStore>, events: ChainEvent[], toBlock: number, fork = 0) => {
    const documents = await project(events, loadCurrentFromStore(store), loadCurrentOwnershipFromStore(store));
    const blocks = [...new Set(events.map((event) => event.blockNumber)), toBlock].map((number) => ({
      chainId: 31337,
      number,
      hash: blockHashOf(number, fork),
      parentHash: blockHashOf(number - 1, fork),
      timestamp: timestampOf(number),
    }));
    await store.commitRange({
      chainId: 31337,
      events,
      blocks,
      ...documents,
      checkpoint: { chainId: 31337, blockNumber: toBlock, blockHash: blockHashOf(toBlock, fork), updatedAt: 1 },
    });
  };

  it("test_reorg_undoesTransfersAndClaimsAboveTheFork", async function () {
    const store = createSqliteStore({ path: ":memory:" });
    await store.init();
    try {
      const { events, tokenId } = resaleHistory();
      await commit(
        store,
        events.filter((event) => event.blockNumber === 10),
        10,
      );
      await commit(
        store,
        events.filter((event) => event.blockNumber > 10),
        12,
      );
      expect((await store.getUnitToken(tokenId))?.owner).to.equal(CAROL);

      const checkpoint = { chainId: 31337, blockNumber: 11, blockHash: blockHashOf(11) as Hex, updatedAt: 2 };
      await store.rollback((await planRollback({ store, chainId: 31337, forkBlock: 11, checkpoint })).commit);
      const atFork = await store.getUnitToken(tokenId);
      expect(atFork?.owner).to.equal(BOB);
      expect(atFork?.previousOwners).to.deep.equal([ALICE]);

      // The other fork of block 12 gives the unit to Alice again; indexing it lands on the projection.
      const other = createOwnershipEventFactory(12, 1);
      await commit(store, [other.transfer(BOB, ALICE, tokenId)], 12, 1);
      expect((await store.getUnitToken(tokenId))?.previousOwners).to.deep.equal([ALICE, BOB]);

      await store.rollback(
        (await planRollback({ store, chainId: 31337, forkBlock: 9, checkpoint: { ...checkpoint, blockNumber: 9 } })).commit,
      );
      expect(await store.getUnitToken(tokenId)).to.equal(null);
      expect(await store.getClaimRoot(BATCH)).to.equal(null);
    } finally {
      await store.close();
    }
  });

  it("test_projectOwnership_mintOnly_writesNothingWithoutUnitClaimed", async function () {
    const factory = createOwnershipEventFactory(10);
    const documents = await projectOwnership([factory.transfer(ZeroAddress, ALICE, "5")], async () => ({ unitTokens: [], claimRoots: [] }));
    expect(documents).to.deep.equal({ unitTokens: [], claimRoots: [] });
  });
});
