/**
 * The container projection: pure reducers (nesting, handoffs of an outer container moving the holder of everything
 * inside, unpacking, recall flags), the batch's `packedIn`, and the whole path through the SQLite store: range
 * commits, replays and reorg rollbacks that must leave exactly what a fresh projection of the surviving events gives.
 */
import { expect } from "chai";
import type { Batch, ChainEvent, Checkpoint, Container } from "../../../backend/domain/model.ts";
import { packedHoldingsOf, resolveOutermost } from "../../../backend/containers/holders.ts";
import { containerKeysOf, foldContainers, reduceContainer, rollBackContainer } from "../../../backend/projections/containers.ts";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import {
  loadCurrentContainersFromStore,
  loadCurrentFromStore,
  loadCurrentOwnershipFromStore,
  project,
} from "../../../backend/projections/project.ts";
import { planRollback } from "../../../backend/projections/rollback.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createMemoryStore } from "../api/fixtures/test-app.ts";
import { ACCOUNTS, blockHashOf } from "../projections/event-factory.ts";
import { GLN, createContainerEventFactory, ssccOf } from "./container-events.ts";

const { manufacturer, carrier, retailer } = ACCOUNTS;
const PALLET = ssccOf(1);
const CARTON = ssccOf(2);

/** Blocks 10-15: two lots in a carton, the carton and a third lot on a pallet, the pallet handed to the carrier, … */
function story() {
  const f = createContainerEventFactory(10);
  const a = f.registered("A");
  const b = f.registered("B");
  const events: ChainEvent[] = [a.event, b.event, f.created(PALLET, manufacturer), f.created(CARTON, manufacturer)];
  f.nextBlock(); // 11: pack
  events.push(f.batchPacked(CARTON, a.batchId, manufacturer), f.batchPacked(PALLET, b.batchId, manufacturer));
  events.push(f.containerPacked(PALLET, CARTON, manufacturer));
  f.nextBlock(); // 12: the pallet goes to the carrier
  events.push(f.proposed(PALLET, manufacturer, carrier), f.accepted(PALLET, manufacturer, carrier));
  f.nextBlock(); // 13: lot A's recall is flagged in the carton
  events.push(f.recallFlagged(a.batchId, CARTON, PALLET));
  f.nextBlock(); // 14: the carrier takes the carton off the pallet and lot A out of it
  events.push(f.containerUnpacked(PALLET, CARTON, carrier), f.batchUnpacked(CARTON, a.batchId, carrier, false));
  f.nextBlock(); // 15: a refused and a withdrawn handoff of the carton
  events.push(f.proposed(CARTON, carrier, retailer), f.rejected(CARTON, carrier, retailer));
  events.push(f.proposed(CARTON, carrier, retailer), f.cancelled(CARTON, carrier, retailer));
  return { events, a: a.batchId, b: b.batchId };
}

const fold = (events: ChainEvent[], current: Container[] = []) =>
  new Map(foldContainers([PALLET, CARTON], current, events).map((container) => [container.sscc, container]));
const upTo = (events: ChainEvent[], block: number) => events.filter((event) => event.blockNumber <= block);
const mapSource = (containers: Map<string, Container>) => ({
  getContainers: async (ssccs: string[]) => ssccs.flatMap((sscc) => (containers.has(sscc) ? [containers.get(sscc)!] : [])),
});

describe("container projection", function () {
  const { events, a, b } = story();

  it("test_containerKeysOf_packingAContainerChangesBothOuterAndInner", function () {
    const packed = events.find((event) => event.name === "ContainerPacked")!;
    expect(containerKeysOf(packed)).to.deep.equal([PALLET, CARTON]);
    expect(containerKeysOf(events[0]!)).to.deep.equal([]); // a registry event
  });

  it("test_reduce_packingNestsTheCartonAndListsContents", function () {
    const state = fold(upTo(events, 11));
    const pallet = state.get(PALLET)!;
    const carton = state.get(CARTON)!;
    expect(pallet).to.deep.include({ custodian: manufacturer, creator: manufacturer, parentSscc: null, state: "open" });
    expect(pallet.batchIds).to.deep.equal([b]);
    expect(pallet.containerSsccs).to.deep.equal([CARTON]);
    expect(carton).to.deep.include({ parentSscc: PALLET, state: "packed" });
    expect(carton.batchIds).to.deep.equal([a]);
    expect(carton.history.map((step) => step.kind)).to.deep.equal(["created", "batch_packed", "packed_into"]);
    expect(pallet.history.map((step) => step.kind)).to.deep.equal(["created", "batch_packed", "container_packed"]);
  });

  it("test_handoffOfTheOuterContainer_movesTheHolderOfEverythingInside", async function () {
    const state = fold(upTo(events, 12));
    // The carton's own record is stale (it never moved on chain); the pallet's custodian holds it and lot A.
    expect(state.get(CARTON)!.custodian).to.equal(manufacturer);
    expect(state.get(PALLET)).to.deep.include({ custodian: carrier, pendingHandoff: null, locationGln: String(GLN.dc).padStart(13, "0") });
    const outermost = await resolveOutermost(mapSource(state), [CARTON]);
    expect(outermost.get(CARTON)).to.deep.include({ path: [CARTON, PALLET] });
    expect(outermost.get(CARTON)!.outermost.custodian).to.equal(carrier);
    const holdings = await packedHoldingsOf(mapSource(state), [
      { batchId: a, packedIn: CARTON } as Batch,
      { batchId: b, packedIn: PALLET } as Batch,
    ]);
    expect(holdings.get(a)).to.deep.include({ sscc: CARTON, outermostSscc: PALLET, custodian: carrier });
    expect(holdings.get(b)).to.deep.include({ sscc: PALLET, outermostSscc: PALLET, custodian: carrier });
  });

  it("test_pendingHandoff_isRecordedUntilAnswered", function () {
    const proposedOnly = upTo(events, 11).concat(events.filter((event) => event.name === "ContainerHandoffProposed").slice(0, 1));
    const pallet = fold(proposedOnly).get(PALLET)!;
    expect(pallet.pendingHandoff).to.deep.include({ to: carrier, businessStep: "shipping" });
    expect(pallet.custodian).to.equal(manufacturer);
  });

  it("test_recallFlag_andUnpack_clearTheFlagAndFreeTheCarton", function () {
    expect(fold(upTo(events, 13)).get(CARTON)!.recallFlaggedBatchIds).to.deep.equal([a]);
    const state = fold(upTo(events, 14));
    const carton = state.get(CARTON)!;
    expect(carton).to.deep.include({ parentSscc: null, state: "open", custodian: carrier });
    expect(carton.batchIds).to.deep.equal([]);
    expect(carton.recallFlaggedBatchIds).to.deep.equal([]);
    expect(carton.history.at(-1)).to.deep.include({ kind: "batch_unpacked", batchId: a, released: false, by: carrier });
    expect(state.get(PALLET)!.containerSsccs).to.deep.equal([]);
    expect(state.get(PALLET)!.batchIds).to.deep.equal([b]);
  });

  it("test_rejectedAndCancelledHandoffs_leaveTheCustodian", function () {
    const carton = fold(events).get(CARTON)!;
    expect(carton).to.deep.include({ custodian: carrier, pendingHandoff: null });
    expect(carton.history.slice(-4).map((step) => [step.kind, step.by])).to.deep.equal([
      ["handoff_proposed", carrier],
      ["handoff_rejected", retailer],
      ["handoff_proposed", carrier],
      ["handoff_cancelled", carrier],
    ]);
  });

  it("test_reduce_replaysAreNoOps_andFoldingInPiecesEqualsOnePass", function () {
    const once = fold(events);
    const inPieces = fold(events.slice(9), [...fold(events.slice(0, 9)).values()]);
    const merged = new Map([...fold(events.slice(0, 9)), ...inPieces]);
    expect([...merged.values()]).to.deep.equal([...once.values()]);
    for (const container of once.values()) {
      for (const event of events) expect(reduceContainer(container, event, container.sscc)).to.equal(container);
    }
  });

  it("test_reduce_eventsContradictingTheMirror_throwProjectionErrors", function () {
    const f = createContainerEventFactory(50);
    expect(() => reduceContainer(null, f.batchPacked(PALLET, a, manufacturer), PALLET)).to.throw(ProjectionError, /never created/);
    const created = reduceContainer(null, f.created(PALLET, manufacturer), PALLET);
    f.nextBlock();
    expect(() => reduceContainer(created, f.created(PALLET, carrier), PALLET)).to.throw(ProjectionError, /already created/);
  });

  it("test_rollBackContainer_atEveryBlock_equalsAFreshFold", function () {
    const final = fold(events);
    for (const forkBlock of [9, 10, 11, 12, 13, 14, 15]) {
      const fresh = fold(upTo(events, forkBlock));
      for (const sscc of [PALLET, CARTON]) {
        expect(rollBackContainer(final.get(sscc)!, forkBlock), `${sscc} at ${forkBlock}`).to.deep.equal(fresh.get(sscc) ?? null);
      }
    }
  });
});

describe("container projection through the store", function () {
  const { events, a, b } = story();
  const blocks = [...new Set(events.map((event) => event.blockNumber))];

  async function mirror(ranges: ChainEvent[][]): Promise<MirrorStore> {
    const store = await createMemoryStore();
    for (const range of ranges) {
      const documents = await project(
        range,
        loadCurrentFromStore(store),
        loadCurrentOwnershipFromStore(store),
        undefined,
        loadCurrentContainersFromStore(store),
      );
      const last = Math.max(...range.map((event) => event.blockNumber));
      await store.commitRange({
        chainId: 31337,
        events: range,
        blocks: [],
        ...documents,
        checkpoint: { chainId: 31337, blockNumber: last, blockHash: blockHashOf(last), updatedAt: 0 },
      });
    }
    return store;
  }
  const byBlock = (list: ChainEvent[]) =>
    blocks.map((block) => list.filter((event) => event.blockNumber === block)).filter((range) => range.length > 0);
  const snapshot = async (store: MirrorStore) => ({
    containers: await store.getContainers([PALLET, CARTON]),
    batches: await store.getBatches([a, b]),
    holdingA: (await store.findContainerHoldingBatch(a))?.sscc ?? null,
    holdingB: (await store.findContainerHoldingBatch(b))?.sscc ?? null,
  });

  it("test_batchPackedIn_followsPackAndUnpack", async function () {
    const store = await mirror(byBlock(upTo(events, 13)));
    const [batchA, batchB] = await store.getBatches([a, b]);
    expect(batchA!.packedIn).to.equal(CARTON);
    expect(batchB!.packedIn).to.equal(PALLET);
    expect((await store.findContainerHoldingBatch(a))!.sscc).to.equal(CARTON);
    await store.close();
    const later = await mirror(byBlock(events));
    expect((await later.getBatch(a))!.packedIn).to.equal(null);
    expect(await later.findContainerHoldingBatch(a)).to.equal(null);
    await later.close();
  });

  it("test_rangeByRange_equalsOnePass_andReplayChangesNothing", async function () {
    const oneRange = await mirror([events]);
    const blockByBlock = await mirror([...byBlock(events), ...byBlock(events)]);
    expect(await snapshot(blockByBlock)).to.deep.equal(await snapshot(oneRange));
    await oneRange.close();
    await blockByBlock.close();
  });

  it("test_reorgRollback_atEveryBlock_matchesAFreshProjection", async function () {
    for (const forkBlock of [9, ...blocks]) {
      const store = await mirror(byBlock(events));
      const checkpoint: Checkpoint = { chainId: 31337, blockNumber: forkBlock, blockHash: blockHashOf(forkBlock), updatedAt: 0 };
      const { commit } = await planRollback({ store, chainId: 31337, forkBlock, checkpoint });
      await store.rollback(commit);
      const kept = upTo(events, forkBlock);
      const fresh = kept.length > 0 ? await mirror(byBlock(kept)) : await createMemoryStore();
      expect(await snapshot(store), `fork ${forkBlock}`).to.deep.equal(await snapshot(fresh));
      await store.close();
      await fresh.close();
    }
  });

  it("test_rolledBackPack_isNoLongerShown", async function () {
    // Lot B's pack and everything after it are undone: B is no longer in the pallet, and no lookup says otherwise.
    const store = await mirror(byBlock(events));
    const checkpoint: Checkpoint = { chainId: 31337, blockNumber: 10, blockHash: blockHashOf(10), updatedAt: 0 };
    await store.rollback((await planRollback({ store, chainId: 31337, forkBlock: 10, checkpoint })).commit);
    expect((await store.getContainer(PALLET))!.batchIds).to.deep.equal([]);
    expect((await store.listContainers({ batchId: b }, { limit: 10 })).items).to.deep.equal([]);
    expect((await store.getBatch(b))!.packedIn).to.equal(undefined);
    await store.close();
  });
});
