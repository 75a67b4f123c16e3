import { expect } from "chai";
import { ZeroHash } from "ethers";
import { roleHash } from "../../../backend/chain/vocabulary.ts";
import {
  applyEvent,
  emptyProjectionSet,
  project,
  projectionKeysOf,
  type ProjectedDocuments,
} from "../../../backend/projections/project.ts";
import { planRollback, recomputeProjections, type RollbackSource } from "../../../backend/projections/rollback.ts";
import type { EventFilter, PageRequest, RollbackCommit } from "../../../backend/store/port.ts";
import type { Batch, ChainEvent, Hex, Order, Page, Participant } from "../../../backend/domain/model.ts";
import { ACCOUNTS, bytes32, createEventFactory, deliveredEvent, inspectedEvent, openedEvent } from "./event-factory.ts";

/** A mirror in memory: enough of the store port for projecting and rollback planning, no database. */
class MemoryMirror implements RollbackSource {
  events: ChainEvent[] = [];
  batches = new Map<Hex, Batch>();
  participants = new Map<Hex, Participant>();
  orders = new Map<Hex, Order>();

  async listEvents(filter: EventFilter, page: PageRequest): Promise<Page<ChainEvent>> {
    const matching = this.events.filter(
      (event) =>
        (filter.chainId === undefined || event.chainId === filter.chainId) &&
        (filter.batchId === undefined || event.batchIds.includes(filter.batchId)) &&
        (filter.orderId === undefined || event.orderIds.includes(filter.orderId)) &&
        (filter.account === undefined || event.accounts.includes(filter.account)) &&
        (filter.fromBlock === undefined || event.blockNumber >= filter.fromBlock) &&
        (filter.toBlock === undefined || event.blockNumber <= filter.toBlock),
    );
    const start = page.cursor ? Number(page.cursor) : 0;
    const items = matching.slice(start, start + page.limit);
    return { items, nextCursor: start + page.limit < matching.length ? String(start + page.limit) : null };
  }
  async getBatches(ids: Hex[]) {
    return ids.flatMap((id) => (this.batches.has(id) ? [this.batches.get(id)!] : []));
  }
  async getParticipants(addresses: Hex[]) {
    return addresses.flatMap((address) => (this.participants.has(address) ? [this.participants.get(address)!] : []));
  }
  async getOrders(ids: Hex[]) {
    return ids.flatMap((id) => (this.orders.has(id) ? [this.orders.get(id)!] : []));
  }
  loadCurrent = async (keys: { batchIds: Hex[]; participants: Hex[]; orderIds: Hex[] }) => ({
    batches: await this.getBatches(keys.batchIds),
    participants: await this.getParticipants(keys.participants),
    orders: await this.getOrders(keys.orderIds),
  });

  async commit(events: ChainEvent[]) {
    const documents = await project(events, this.loadCurrent);
    for (const event of events) if (!this.events.some((stored) => stored.id === event.id)) this.events.push(event);
    this.events.sort((a, b) => (a.id < b.id ? -1 : 1));
    this.write(documents);
    return documents;
  }
  write(documents: Pick<ProjectedDocuments, "batches" | "participants" | "orders">) {
    documents.batches.forEach((batch) => this.batches.set(batch.batchId, batch));
    documents.participants.forEach((participant) => this.participants.set(participant.address, participant));
    documents.orders.forEach((order) => this.orders.set(order.orderId, order));
  }
  rollback(commit: RollbackCommit) {
    this.events = this.events.filter((event) => event.blockNumber <= commit.forkBlock);
    this.write(commit);
    commit.deleteBatchIds.forEach((id) => this.batches.delete(id));
    commit.deleteParticipantAddresses.forEach((address) => this.participants.delete(address));
    commit.deleteOrderIds.forEach((id) => this.orders.delete(id));
  }
  snapshot() {
    const sorted = <T>(map: Map<Hex, T>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, value]) => value);
    return {
      events: this.events.map((event) => event.id),
      batches: sorted(this.batches),
      participants: sorted(this.participants),
      orders: sorted(this.orders),
    };
  }
}

const BATCH = bytes32("batch");
const CHILD_A = bytes32("child-a");
const CHILD_B = bytes32("child-b");
const OTHER = bytes32("other-batch");
const ORDER = bytes32("order");

/** A supply-chain story over ~14 blocks touching every projection. */
/** `escrowWatchAndParentRecall`: the escrow watches OTHER while its order is open, and the split parent is recalled last. */
function storyEvents({ escrowWatchAndParentRecall = false } = {}): ChainEvent[] {
  const f = createEventFactory(1);
  const events: ChainEvent[] = [];
  const push = (...batch: ChainEvent[]) => events.push(...batch);
  const watch = (watched: boolean) =>
    escrowWatchAndParentRecall ? [f.event("ProvenanceRegistry", "BatchWatchChanged", [OTHER, watched])] : [];
  push(f.event("ProvenanceRegistry", "RoleGranted", [ZeroHash, ACCOUNTS.admin, ACCOUNTS.admin]));
  f.nextBlock();
  for (const [index, [account, role]] of (
    [
      [ACCOUNTS.manufacturer, "MANUFACTURER_ROLE"],
      [ACCOUNTS.carrier, "CARRIER_ROLE"],
      [ACCOUNTS.customs, "REGULATOR_ROLE"],
      [ACCOUNTS.retailer, "RETAILER_ROLE"],
    ] as const
  ).entries()) {
    push(
      f.event("ProvenanceRegistry", "ParticipantOnboarded", [
        account,
        index + 1,
        roleHash(role),
        841_234_500_001n + BigInt(index),
        `P${index}`,
      ]),
      f.event("ProvenanceRegistry", "RoleGranted", [roleHash(role), account, ACCOUNTS.admin]),
    );
  }
  f.nextBlock();
  push(
    f.event("ProvenanceRegistry", "BatchRegistered", [
      BATCH,
      ACCOUNTS.manufacturer,
      4_012_345_000_009n,
      "L1",
      100n,
      1_700_000_000n,
      841_234_500_001n,
      bytes32("d"),
      bytes32("r"),
    ]),
  );
  push(
    f.event("ProvenanceRegistry", "BatchRegistered", [
      OTHER,
      ACCOUNTS.manufacturer,
      4_012_345_000_009n,
      "L2",
      5n,
      1_700_000_000n,
      841_234_500_001n,
      bytes32("d2"),
      bytes32("r2"),
    ]),
  );
  f.nextBlock();
  push(
    openedEvent(f, ORDER, OTHER, { amount: 1000n, disputeWindow: 3600, inspector: ACCOUNTS.inspector, salt: bytes32("s") }),
    ...watch(true),
  );
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "HandoffProposed", [BATCH, ACCOUNTS.manufacturer, ACCOUNTS.carrier, 841_234_500_002n, 0]));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "HandoffAccepted", [BATCH, ACCOUNTS.manufacturer, ACCOUNTS.carrier, 841_234_500_002n, 1]));
  push(f.event("ProvenanceRegistry", "ParticipantUpdated", [ACCOUNTS.carrier, 841_234_500_099n, "Carrier B.V."]));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "HandoffProposed", [OTHER, ACCOUNTS.manufacturer, ACCOUNTS.retailer, 841_234_500_004n, 0]));
  f.nextBlock();
  // Another inspector fails the batch (the escrow ignores it), then the order's named inspector passes it.
  push(f.event("ProvenanceRegistry", "QualityAttested", [OTHER, ACCOUNTS.customs, false, bytes32("rival")]));
  f.nextBlock();
  push(
    f.event("ProvenanceRegistry", "QualityAttested", [OTHER, ACCOUNTS.inspector, true, bytes32("named")]),
    inspectedEvent(f, ORDER, true),
  );
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "HandoffAccepted", [OTHER, ACCOUNTS.manufacturer, ACCOUNTS.retailer, 841_234_500_004n, 1]));
  push(deliveredEvent(f, OTHER, ORDER, 1_700_001_000));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "BatchSplit", [BATCH, CHILD_A, ACCOUNTS.carrier, "L1A", 60n, bytes32("ra")]));
  push(f.event("ProvenanceRegistry", "BatchSplit", [BATCH, CHILD_B, ACCOUNTS.carrier, "L1B", 40n, bytes32("rb")]));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "ParticipantSuspended", [ACCOUNTS.customs, bytes32("audit")]));
  push(f.event("TradeEscrow", "OrderReleased", [ORDER, 900n, 90n, 10n]));
  push(...watch(false));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "BatchRecalled", [CHILD_B, ACCOUNTS.manufacturer, bytes32("leak")]));
  push(f.event("ProvenanceRegistry", "RoleRevoked", [roleHash("RETAILER_ROLE"), ACCOUNTS.retailer, ACCOUNTS.admin]));
  f.nextBlock();
  push(f.event("ProvenanceRegistry", "QualityAttested", [CHILD_A, ACCOUNTS.customs, true, bytes32("ok")]));
  if (escrowWatchAndParentRecall) {
    f.nextBlock();
    // A recall of the split parent: it reaches both children on chain, but the event names only the parent.
    push(f.event("ProvenanceRegistry", "BatchRecalled", [BATCH, ACCOUNTS.manufacturer, bytes32("source")]));
  }
  return events;
}

async function mirrorOf(events: ChainEvent[], chunk = events.length): Promise<MemoryMirror> {
  const mirror = new MemoryMirror();
  for (let start = 0; start < events.length; start += chunk) await mirror.commit(events.slice(start, start + chunk));
  return mirror;
}

describe("project", function () {
  const events = storyEvents();

  it("test_project_foldsTheStoryIntoEveryProjection", async function () {
    const mirror = await mirrorOf(events);
    expect(mirror.batches.get(BATCH)).to.deep.include({ status: "split", custodian: ACCOUNTS.carrier, childIds: [CHILD_A, CHILD_B] });
    expect(mirror.batches.get(CHILD_A)).to.deep.include({ parentId: BATCH, custodian: ACCOUNTS.carrier, inspection: "passed" });
    expect(mirror.batches.get(CHILD_B)).to.deep.include({ status: "recalled" });
    expect(mirror.batches.get(OTHER)).to.deep.include({ status: "delivered", custodian: ACCOUNTS.retailer });
    expect(mirror.orders.get(ORDER)).to.deep.include({
      state: "released",
      deliveredAt: 1_700_001_000,
      inspector: ACCOUNTS.inspector,
      inspection: "passed",
    });
    expect(mirror.batches.get(OTHER)!.inspections.map((inspection) => inspection.inspector)).to.deep.equal([
      ACCOUNTS.customs,
      ACCOUNTS.inspector,
    ]);
    expect(mirror.participants.get(ACCOUNTS.customs)).to.deep.include({ suspended: true, roles: ["REGULATOR"] });
    expect(mirror.participants.get(ACCOUNTS.retailer)!.roles).to.deep.equal([]);
    expect(mirror.participants.get(ACCOUNTS.admin)).to.deep.include({ participantId: 0, roles: ["ADMIN"] });
    expect(mirror.participants.get(ACCOUNTS.carrier)).to.deep.include({ name: "Carrier B.V.", gln: "0841234500099" });
  });

  it("test_project_rangeByRangeEqualsOnePass", async function () {
    const whole = (await mirrorOf(events)).snapshot();
    for (const chunk of [1, 2, 3, 5, 7]) expect((await mirrorOf(events, chunk)).snapshot(), `chunk ${chunk}`).to.deep.equal(whole);
  });

  it("test_project_replayingCommittedRangesChangesNothing", async function () {
    const mirror = await mirrorOf(events);
    const before = mirror.snapshot();
    const documents = await project(events, mirror.loadCurrent);
    expect(documents).to.deep.equal({
      batches: [],
      participants: [],
      orders: [],
      unitTokens: [],
      claimRoots: [],
      transformations: [],
      containers: [],
    });
    await mirror.commit(events.slice(5, 20));
    expect(mirror.snapshot()).to.deep.equal(before);
  });

  it("test_project_crashAfterPartialWrite_convergesOnReplay", async function () {
    const whole = (await mirrorOf(events)).snapshot();
    // Commit the first half, then "crash" while writing the second half: only some documents reach the store.
    const half = Math.floor(events.length / 2);
    const mirror = await mirrorOf(events.slice(0, half));
    const documents = await project(events.slice(half), mirror.loadCurrent);
    mirror.write({ batches: documents.batches.slice(0, 1), participants: documents.participants, orders: [] });
    // Restart: the range is replayed over the partly written state.
    await mirror.commit(events.slice(half));
    expect(mirror.snapshot()).to.deep.equal(whole);
  });

  it("test_project_returnsOnlyChangedDocuments", async function () {
    const mirror = await mirrorOf(events.slice(0, -1));
    const documents = await project(events.slice(-1), mirror.loadCurrent);
    expect(documents.batches.map((batch) => batch.batchId)).to.deep.equal([CHILD_A]);
    expect(documents.participants).to.deep.equal([]);
    expect(documents.orders).to.deep.equal([]);
  });

  it("test_applyEvent_isPure_andRequiresLoadedKeys", function () {
    const register = events.find((event) => event.name === "BatchRegistered")!;
    const state = emptyProjectionSet();
    expect(() => applyEvent(state, register)).to.throw(/was not loaded/);
    const loaded = { ...state, batches: new Map([[BATCH, null]]) };
    const next = applyEvent(loaded, register);
    expect(loaded.batches.get(BATCH)).to.equal(null);
    expect(next.batches.get(BATCH)).to.include({ batchId: BATCH, status: "registered" });
  });

  it("test_projectionKeysOf_namesWhatEachEventChanges", function () {
    const split = events.find((event) => event.name === "BatchSplit")!;
    expect(projectionKeysOf(split)).to.deep.equal({ batchIds: [BATCH, CHILD_A], orderIds: [], participants: [] });
    const opened = events.find((event) => event.name === "OrderOpened")!;
    expect(projectionKeysOf(opened)).to.deep.equal({ batchIds: [], orderIds: [ORDER], participants: [] });
    const grant = events.find((event) => event.name === "RoleGranted")!;
    expect(projectionKeysOf(grant)).to.deep.equal({ batchIds: [], orderIds: [], participants: [ACCOUNTS.admin] });
  });
});

describe("rollback planning", function () {
  const events = storyEvents();
  const blocks = [...new Set(events.map((event) => event.blockNumber))];

  it("test_planRollback_everyForkPointMatchesAFreshProjection", async function () {
    for (const forkBlock of [0, ...blocks]) {
      const mirror = await mirrorOf(events, 3);
      const checkpoint = { chainId: 31337, blockNumber: forkBlock, blockHash: null, updatedAt: 0 };
      const { commit, removedEvents } = await planRollback({ store: mirror, chainId: 31337, forkBlock, checkpoint, pageSize: 2 });
      const kept = events.filter((event) => event.blockNumber <= forkBlock);
      expect(removedEvents, `fork ${forkBlock}`).to.equal(events.length - kept.length);
      expect(commit.checkpoint).to.equal(checkpoint);
      mirror.rollback(commit);
      expect(mirror.snapshot(), `fork ${forkBlock}`).to.deep.equal((await mirrorOf(kept)).snapshot());
    }
  });

  it("test_planRollback_orderInspectionUndoneWithItsBlock", async function () {
    const inspected = events.find((event) => event.name === "OrderInspected")!;
    const mirror = await mirrorOf(events);
    const forkBlock = inspected.blockNumber - 1;
    const checkpoint = { chainId: 31337, blockNumber: forkBlock, blockHash: null, updatedAt: 0 };
    mirror.rollback((await planRollback({ store: mirror, chainId: 31337, forkBlock, checkpoint })).commit);
    // Back to funded and uninspected by its inspector; the rival's failure stays on the batch only.
    expect(mirror.orders.get(ORDER)).to.deep.include({ state: "funded", inspector: ACCOUNTS.inspector, inspection: "none" });
    expect(mirror.batches.get(OTHER)).to.deep.include({ inspection: "failed" });
    // The same block replayed (the chain re-mines it) brings the pass back, once.
    await mirror.commit(events.filter((event) => event.blockNumber === inspected.blockNumber));
    expect(mirror.orders.get(ORDER)).to.deep.include({ inspection: "passed" });
    expect(mirror.orders.get(ORDER)!.lastEvent.eventId).to.equal(inspected.id);
  });

  it("test_planRollback_deletesWhatTheRemovedEventsCreated", async function () {
    const splitBlock = events.find((event) => event.name === "BatchSplit")!.blockNumber;
    const mirror = await mirrorOf(events);
    const { commit } = await planRollback({
      store: mirror,
      chainId: 31337,
      forkBlock: splitBlock - 1,
      checkpoint: { chainId: 31337, blockNumber: splitBlock - 1, blockHash: null, updatedAt: 0 },
    });
    expect(commit.deleteBatchIds).to.have.members([CHILD_A, CHILD_B]);
    expect(commit.batches.map((batch) => batch.batchId)).to.deep.equal([BATCH]);
    expect(commit.batches[0]).to.deep.include({ status: "delivered", childIds: [] });
    expect(commit.orders.map((order) => order.state)).to.deep.equal(["delivered"]);
    expect(commit.participants.map((participant) => participant.address)).to.have.members([ACCOUNTS.customs, ACCOUNTS.retailer]);
    expect(commit.deleteParticipantAddresses).to.deep.equal([]);
    expect(commit.deleteOrderIds).to.deep.equal([]);
  });

  it("test_planRollback_watchAndParentRecall_undoneExactly", async function () {
    const events = storyEvents({ escrowWatchAndParentRecall: true });
    for (const forkBlock of [0, ...new Set(events.map((event) => event.blockNumber))]) {
      const mirror = await mirrorOf(events, 3);
      const checkpoint = { chainId: 31337, blockNumber: forkBlock, blockHash: null, updatedAt: 0 };
      mirror.rollback((await planRollback({ store: mirror, chainId: 31337, forkBlock, checkpoint, pageSize: 2 })).commit);
      const kept = events.filter((event) => event.blockNumber <= forkBlock);
      expect(mirror.snapshot(), `fork ${forkBlock}`).to.deep.equal((await mirrorOf(kept)).snapshot());
    }
    const watchOn = events.find((event) => event.name === "BatchWatchChanged")!;
    const parentRecall = events.at(-1)!;
    expect(parentRecall.name).to.equal("BatchRecalled");
    const full = await mirrorOf(events);
    expect(full.snapshot().batches.find((batch) => batch.batchId === BATCH)).to.deep.include({ status: "recalled" });
    expect(full.snapshot().batches.find((batch) => batch.batchId === OTHER)).to.deep.include({ watched: false });

    for (const [forkBlock, other, parent] of [
      [watchOn.blockNumber, { watched: true }, { recall: null }],
      [parentRecall.blockNumber - 1, { watched: false }, { status: "split", recall: null }],
    ] as const) {
      const mirror = await mirrorOf(events);
      const checkpoint = { chainId: 31337, blockNumber: forkBlock, blockHash: null, updatedAt: 0 };
      mirror.rollback((await planRollback({ store: mirror, chainId: 31337, forkBlock, checkpoint })).commit);
      const batches = mirror.snapshot().batches;
      expect(
        batches.find((batch) => batch.batchId === OTHER),
        `fork ${forkBlock}`,
      ).to.deep.include(other);
      expect(
        batches.find((batch) => batch.batchId === BATCH),
        `fork ${forkBlock}`,
      ).to.deep.include(parent);
    }
  });

  it("test_recomputeProjections_readsButNeverReturnsUnaffectedParents", function () {
    // Only the child is affected; its split event also names the (unaffected) parent, which it reads.
    const register = events.find((event) => event.name === "BatchRegistered" && event.args.batchId === BATCH)!;
    const split = events.find((event) => event.name === "BatchSplit" && event.args.childId === CHILD_A)!;
    const parentState = applyEvent({ ...emptyProjectionSet(), batches: new Map([[BATCH, null]]) }, register).batches.get(BATCH)!;
    const parent = {
      ...parentState,
      status: "split" as const,
      childIds: [CHILD_A, CHILD_B],
      lastEvent: { ...parentState.lastEvent, eventId: "31337:999999999999:000000" },
    };
    const result = recomputeProjections({ batchIds: [CHILD_A], orderIds: [], participants: [] }, [split], {
      batches: [parent],
      participants: [],
      orders: [],
    });
    expect(result.batches.map((batch) => batch.batchId)).to.deep.equal([CHILD_A]);
    expect(result.batches[0]).to.deep.include({ parentId: BATCH, gtin: parent.gtin, custodian: ACCOUNTS.carrier });
    expect(result.deleteBatchIds).to.deep.equal([]);
  });
});
