/**
 * THE store contract suite: every behaviour of the MirrorStore port (backend/store/port.ts), run against each
 * adapter (sqlite.test.ts, mongodb.test.ts). `makeStore` returns a new, empty, initialised store each call.
 */
import { expect } from "chai";

import { DomainError } from "../../../backend/domain/errors.ts";
import { MAX_TRANSFORMATION_LOTS, type MirrorStore, type PageRequest } from "../../../backend/store/port.ts";
import type { RelayStatus } from "../../../backend/domain/model.ts";
import type {
  Batch,
  ChainEvent,
  ClaimRoot,
  Container,
  ContainerStep,
  DesignLinkChange,
  DesignRegistration,
  DocumentAnchorRecord,
  ProductDocument,
  EventRef,
  Hex,
  Order,
  Page,
  Participant,
  Transformation,
  UnitToken,
} from "../../../backend/domain/model.ts";
import { chainEventId } from "../../../backend/domain/model.ts";
import { encodeCursor } from "../../../backend/store/cursor.ts";
import { computeReputation } from "../../../backend/reputation/reputation.ts";
import { lotFact, orderFact } from "../../../backend/reputation/store-facts.ts";
import { allTimeMetrics } from "../../../backend/reputation/track-record.ts";
import {
  CHAIN_ID,
  OTHER_CHAIN_ID,
  address,
  batch,
  bytes32,
  chainEvent,
  eventsThrough,
  indexedBlock,
  rangeCommit,
  relayRequest,
  rollbackCommit,
  serials,
  stateAt,
  supplyChainScenario,
  transactionHash,
  type Scenario,
} from "./fixtures.ts";
import { NO_HUMIDITY, NO_POSITION, type RejectedReading, type StoredReading } from "../../../backend/domain/cold-chain.ts";
import { FRIDGE } from "../coldchain/cold-chain-events.ts";
import {
  ATTACHED_AT,
  BATCH,
  CARRIER,
  DEVICE,
  GTIN,
  LEG,
  ROOT,
  coldChainRollback,
  coldChainScenarioEvents,
  commitColdChainBlock,
} from "../coldchain/cold-chain-scenario.ts";

/** Follows nextCursor to the end, checking every page on the way; returns all items and the page count. */
async function readAllPages<T>(list: (page: PageRequest) => Promise<Page<T>>, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page<T> = await list({ limit, cursor });
    pages++;
    expect(page.items.length, "page size").to.be.at.most(limit);
    expect(page.items.length, "no empty page").to.be.greaterThan(0);
    if (page.nextCursor !== null) expect(page.items.length, "a full page before the end").to.equal(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (pages > 1_000) throw new Error("pagination does not terminate");
  } while (cursor !== null);
  return { items, pages };
}

async function expectBadRequest(action: () => Promise<unknown>): Promise<DomainError> {
  let failure: unknown;
  try {
    await action();
  } catch (error) {
    failure = error;
  }
  expect(failure, "expected an invalid-input DomainError").to.be.instanceOf(DomainError);
  expect((failure as DomainError).kind).to.equal("invalid-input");
  return failure as DomainError;
}

const ids = (events: ChainEvent[]) => events.map((event) => event.id);
const batchIds = (batches: Batch[]) => batches.map((doc) => doc.batchId);
const orderIds = (orders: Order[]) => orders.map((doc) => doc.orderId);
const addresses = (participants: Participant[]) => participants.map((doc) => doc.address);
const all = { limit: 500 };

export function shouldBehaveLikeMirrorStore(makeStore: () => Promise<MirrorStore>): void {
  const opened: MirrorStore[] = [];
  const openStore = async () => {
    const store = await makeStore();
    opened.push(store);
    return store;
  };
  let store: MirrorStore;
  let scenario: Scenario;

  beforeEach(async function () {
    store = await openStore();
    scenario = supplyChainScenario();
  });

  afterEach(async function () {
    for (const each of opened.splice(0)) await each.close();
  });

  /** Mirrors the whole scenario the way the indexer would: three block ranges. */
  const commitScenario = async (target = store, through = 12) => {
    for (const [from, to] of [
      [1, 4],
      [5, 8],
      [9, 12],
    ] as const) {
      if (from > through) break;
      await target.commitRange(rangeCommit(scenario, from, Math.min(to, through)));
    }
  };

  /** Everything the store holds for the scenario's chain, for whole-store comparisons. */
  const dump = async (target: MirrorStore) => ({
    events: (await target.listEvents({}, all)).items,
    blocks: await target.getBlocks(CHAIN_ID, 0, 1_000),
    batches: (await target.listBatches({}, all)).items,
    participants: (await target.listParticipants({}, all)).items,
    orders: (await target.listOrders({}, all)).items,
    checkpointBlock: (await target.getCheckpoint(CHAIN_ID))?.blockNumber ?? null,
  });

  describe("lifecycle", function () {
    it("test_init_isSafeToRepeat_andKeepsData", async function () {
      await commitScenario(store, 4);
      await store.init();
      expect(await store.countEvents()).to.equal(9);
    });

    it("test_describe_namesTheStore", async function () {
      expect(store.kind).to.be.oneOf(["sqlite", "mongodb"]);
      expect(store.describe())
        .to.be.a("string")
        .that.matches(store.kind === "sqlite" ? /sqlite/i : /mongodb/i);
    });

    it("test_emptyStore_answersEmpty", async function () {
      expect(await store.getCheckpoint(CHAIN_ID)).to.equal(null);
      expect(await store.countEvents()).to.equal(0);
      expect(await store.listEvents({}, { limit: 10 })).to.deep.equal({ items: [], nextCursor: null });
      expect(await store.listBatches({}, { limit: 10 })).to.deep.equal({ items: [], nextCursor: null });
      expect(await store.listOrders({}, { limit: 10 })).to.deep.equal({ items: [], nextCursor: null });
      expect(await store.listParticipants({}, { limit: 10 })).to.deep.equal({ items: [], nextCursor: null });
      expect(await store.getBlocks(CHAIN_ID, 0, 100)).to.deep.equal([]);
      expect(await store.getBatch(scenario.batchIds.tomatoes)).to.equal(null);
    });
  });

  describe("commitRange", function () {
    it("test_commitRange_storesEventsBlocksProjectionsAndCheckpoint", async function () {
      const commit = rangeCommit(scenario, 1, 4);
      await store.commitRange(commit);
      expect(await store.countEvents()).to.equal(9);
      expect((await store.listEvents({}, all)).items).to.deep.equal(commit.events);
      expect(await store.getBlocks(CHAIN_ID, 1, 4)).to.deep.equal(commit.blocks);
      expect(await store.getCheckpoint(CHAIN_ID)).to.deep.equal(commit.checkpoint);
      expect(await store.getBatch(scenario.batchIds.tomatoes)).to.deep.equal(
        stateAt(scenario, 4).batches.find((doc) => doc.batchId === scenario.batchIds.tomatoes),
      );
      expect(await store.getOrder(scenario.orderIds.tomatoOrder)).to.deep.equal(stateAt(scenario, 4).orders[0]);
      expect(await store.getParticipant(scenario.accounts.carrier)).to.deep.equal(
        stateAt(scenario, 4).participants.find((doc) => doc.address === scenario.accounts.carrier),
      );
    });

    it("test_commitRange_sameRangeTwice_leavesSameData", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const once = await dump(store);
      await store.commitRange(rangeCommit(scenario, 1, 4));
      expect(await store.countEvents()).to.equal(9);
      expect(await dump(store)).to.deep.equal(once);
    });

    it("test_commitRange_replayAfterPartialWrite_convergesOnUninterruptedRun", async function () {
      const uninterrupted = await openStore();
      await commitScenario(uninterrupted);

      // A crash after blocks 1-2 were written, then a restart that re-indexes 1-4 and goes on.
      await store.commitRange(rangeCommit(scenario, 1, 2));
      await store.commitRange(rangeCommit(scenario, 1, 4));
      await store.commitRange(rangeCommit(scenario, 3, 8)); // overlapping replay
      await store.commitRange(rangeCommit(scenario, 9, 12));
      expect(await dump(store)).to.deep.equal(await dump(uninterrupted));
      expect(await store.countEvents(CHAIN_ID)).to.equal(19);
    });

    it("test_commitRange_staleProjection_neverReplacesFresherOne", async function () {
      await commitScenario(store, 8);
      const fresh = await dump(store);
      // A stale writer (its lease ran out mid-range) commits the documents as they stood after block 4.
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const after = await dump(store);
      expect(after.batches).to.deep.equal(fresh.batches);
      expect(after.participants).to.deep.equal(fresh.participants);
      expect(after.orders).to.deep.equal(fresh.orders);
      expect(addresses((await store.listParticipants({ suspended: true }, all)).items)).to.deep.equal([scenario.accounts.carrier]);
      expect(batchIds((await store.listBatches({ custodian: scenario.accounts.carrier }, all)).items)).to.deep.equal([
        scenario.batchIds.tomatoes,
      ]);
      // The checkpoint follows the commit (re-indexing from there converges again).
      expect((await store.getCheckpoint(CHAIN_ID))?.blockNumber).to.equal(4);
      await store.commitRange(rangeCommit(scenario, 5, 8));
      expect(await dump(store)).to.deep.equal(fresh);
    });

    it("test_commitRange_existingEventId_keepsStoredEvent", async function () {
      const original = chainEvent({ blockNumber: 3, logIndex: 0, name: "BatchRegistered", batchIds: [bytes32("b")] });
      const impostor = { ...original, name: "BatchRecalled", args: { forged: true } };
      const commit = { ...rangeCommit(scenario, 3, 3), events: [original], batches: [], orders: [] };
      await store.commitRange(commit);
      await store.commitRange({ ...commit, events: [impostor] });
      expect((await store.listEvents({}, all)).items).to.deep.equal([original]);
    });

    it("test_commitRange_checkpointMovesWithEachRange", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 4));
      expect((await store.getCheckpoint(CHAIN_ID))?.blockNumber).to.equal(4);
      const second = rangeCommit(scenario, 5, 8);
      await store.commitRange(second);
      expect(await store.getCheckpoint(CHAIN_ID)).to.deep.equal(second.checkpoint);
      expect(await store.getCheckpoint(OTHER_CHAIN_ID)).to.equal(null);
    });

    it("test_commitRange_emptyRange_movesCheckpointOnly", async function () {
      await commitScenario(store, 10);
      const empty = rangeCommit(scenario, 11, 12);
      expect(empty.events).to.have.length(0);
      await store.commitRange(empty);
      expect(await store.countEvents()).to.equal(19);
      expect(await store.getCheckpoint(CHAIN_ID)).to.deep.equal(empty.checkpoint);
      expect(await store.getBlocks(CHAIN_ID, 11, 12)).to.deep.equal(empty.blocks);
    });

    it("test_commitRange_projectionReplacesStoredDocument_andItsIndexedFields", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 4));
      expect(batchIds((await store.listBatches({ custodian: scenario.accounts.manufacturer }, all)).items)).to.include(
        scenario.batchIds.tomatoes,
      );
      await store.commitRange(rangeCommit(scenario, 5, 5)); // the carrier accepts the tomatoes
      const tomatoes = await store.getBatch(scenario.batchIds.tomatoes);
      expect(tomatoes?.custodian).to.equal(scenario.accounts.carrier);
      expect(tomatoes?.custody).to.have.length(2);
      expect(batchIds((await store.listBatches({ custodian: scenario.accounts.manufacturer }, all)).items)).to.not.include(
        scenario.batchIds.tomatoes,
      );
      expect(batchIds((await store.listBatches({ custodian: scenario.accounts.carrier }, all)).items)).to.deep.equal([
        scenario.batchIds.tomatoes,
      ]);
      expect(batchIds((await store.listBatches({ status: "in_transit" }, all)).items)).to.deep.equal([scenario.batchIds.tomatoes]);
    });

    it("test_commitRange_participantRolesReplaced", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 1));
      const warehouse = (await store.getParticipant(scenario.accounts.warehouse))!;
      expect(addresses((await store.listParticipants({ role: "CARRIER" }, all)).items)).to.include(warehouse.address);
      const regraded: Participant = { ...warehouse, roles: ["RETAILER", "REGULATOR"] };
      await store.commitRange({ ...rangeCommit(scenario, 2, 2), batches: [], participants: [regraded] });
      expect(await store.getParticipant(warehouse.address)).to.deep.equal(regraded);
      expect(addresses((await store.listParticipants({ role: "CARRIER" }, all)).items)).to.not.include(warehouse.address);
      expect(addresses((await store.listParticipants({ role: "REGULATOR" }, all)).items)).to.deep.equal([warehouse.address]);
    });

    it("test_commitRange_laterHeaderForSameNumber_replacesBlock", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const forked = indexedBlock(CHAIN_ID, 4, "fork-b");
      await store.commitRange({ ...rangeCommit(scenario, 4, 4), events: [], batches: [], blocks: [forked] });
      expect(await store.getBlocks(CHAIN_ID, 4, 4)).to.deep.equal([forked]);
    });

    it("test_commitRange_batchWithTakenGtinLot_failsAndCheckpointStays", async function () {
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const tomatoes = (await store.getBatch(scenario.batchIds.tomatoes))!;
      const clash: Batch = { ...tomatoes, batchId: bytes32("not-the-tomatoes") }; // same GTIN and lot, other id
      const commit = { ...rangeCommit(scenario, 5, 8), batches: [clash] };
      let failed = false;
      try {
        await store.commitRange(commit);
      } catch {
        failed = true;
      }
      expect(failed, "a second batch with the same GTIN and lot must be refused").to.equal(true);
      expect((await store.getCheckpoint(CHAIN_ID))?.blockNumber).to.equal(4);
      expect(await store.getBatch(clash.batchId)).to.equal(null);
    });

    it("test_countEvents_perChain", async function () {
      await commitScenario();
      const other = supplyChainScenario(OTHER_CHAIN_ID);
      await store.commitRange({ ...rangeCommit(other, 1, 4), batches: [], participants: [], orders: [] });
      expect(await store.countEvents(CHAIN_ID)).to.equal(19);
      expect(await store.countEvents(OTHER_CHAIN_ID)).to.equal(9);
      expect(await store.countEvents()).to.equal(28);
      expect(await store.countEvents(1)).to.equal(0);
    });
  });

  describe("track records", function () {
    /** Each account's kept all-time record, and the one computeReputation makes from every stored document. */
    const keptAndComputed = async (target: MirrorStore, asOf: number) => {
      const accounts = Object.values(scenario.accounts);
      const facts = {
        orders: (await target.listOrders({}, all)).items.map(orderFact),
        lots: (await target.listBatches({}, all)).items.map(lotFact),
      };
      const totals = await target.getTrackRecordTotals(accounts, asOf);
      const asOfBlock = { chainId: CHAIN_ID, blockNumber: 0, timestamp: asOf };
      return {
        kept: accounts.map((account) => allTimeMetrics(totals.get(account)!)),
        computed: accounts.map((account) => computeReputation(account, facts, asOfBlock).allTime),
      };
    };
    const LATE = 4_000_000_000; // past every deadline in the scenario

    it("test_trackRecords_equalTheRecordComputedFromTheStoredDocuments_beforeAndAfterDeadlines", async function () {
      await commitScenario();
      // The last block's time (every event is at or before it, open orders' deadlines after it), and much later.
      const lastBlock = (await store.getBlocks(CHAIN_ID, 12, 12))[0]!.timestamp;
      for (const asOf of [lastBlock, LATE]) {
        const { kept, computed } = await keptAndComputed(store, asOf);
        expect(kept).to.deep.equal(computed);
      }
      const { kept } = await keptAndComputed(store, LATE);
      expect(kept.some((record) => record.handoffsSent.accepted > 0)).to.equal(true);
      expect(kept.some((record) => record.recalls.lots > 0)).to.equal(true);
      const lateAtTheEnd = (await keptAndComputed(store, lastBlock)).kept.map((record) => record.deliveryAsSeller.late);
      expect(kept.map((record) => record.deliveryAsSeller.late)).to.not.deep.equal(lateAtTheEnd); // an open order fell due
    });

    it("test_trackRecords_replayAndStaleRangeChangeNothing", async function () {
      await commitScenario();
      const before = await store.getTrackRecordTotals(Object.values(scenario.accounts), LATE);
      await commitScenario(); // a replay
      await store.commitRange(rangeCommit(scenario, 1, 4)); // a stale writer's older documents
      await store.commitRange({ ...rangeCommit(scenario, 9, 12) });
      expect(await store.getTrackRecordTotals(Object.values(scenario.accounts), LATE)).to.deep.equal(before);
    });

    it("test_trackRecords_afterARollback_areThoseOfARunToTheFork", async function () {
      await commitScenario();
      await store.rollback(rollbackCommit(scenario, 6, 12));
      const reference = await openStore();
      await commitScenario(reference, 6);
      const accounts = Object.values(scenario.accounts);
      expect(await store.getTrackRecordTotals(accounts, LATE)).to.deep.equal(await reference.getTrackRecordTotals(accounts, LATE));
      const { kept, computed } = await keptAndComputed(store, LATE);
      expect(kept).to.deep.equal(computed);
    });

    it("test_trackRecords_unknownAddress_isAllZeros", async function () {
      await commitScenario();
      const stranger = address("stranger");
      const totals = (await store.getTrackRecordTotals([stranger], LATE)).get(stranger)!;
      expect(Object.values(totals.counters).every((value) => value === 0)).to.equal(true);
      expect(totals.lateOpenOrders).to.deep.equal({ seller: 0, carrier: 0 });
      expect(totals.recalledLots).to.equal(0);
    });
  });

  describe("getBlocks", function () {
    it("test_getBlocks_inclusiveRangeAscending", async function () {
      await commitScenario();
      const blocks = await store.getBlocks(CHAIN_ID, 5, 7);
      expect(blocks.map((block) => block.number)).to.deep.equal([5, 6, 7]);
      expect(blocks).to.deep.equal(scenario.steps.slice(4, 7).map((step) => step.block));
      expect((await store.getBlocks(CHAIN_ID, 0, 100)).map((block) => block.number)).to.deep.equal(
        Array.from({ length: 12 }, (_, index) => index + 1),
      );
      expect(await store.getBlocks(CHAIN_ID, 13, 20)).to.deep.equal([]);
      expect(await store.getBlocks(OTHER_CHAIN_ID, 0, 100)).to.deep.equal([]);
    });
  });

  describe("listEvents", function () {
    beforeEach(async function () {
      await commitScenario();
    });

    it("test_listEvents_allInChainOrder", async function () {
      const { items } = await store.listEvents({}, all);
      expect(items).to.deep.equal(eventsThrough(scenario));
      expect(items).to.have.length(19);
      const sorted = [...items].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
      expect(ids(items)).to.deep.equal(ids(sorted));
    });

    const filters: [string, (s: Scenario) => Parameters<MirrorStore["listEvents"]>[0], (s: Scenario, e: ChainEvent) => boolean, number][] =
      [
        ["chainId", () => ({ chainId: CHAIN_ID }), (_, e) => e.chainId === CHAIN_ID, 19],
        ["batchId", (s) => ({ batchId: s.batchIds.tomatoes }), (s, e) => e.batchIds.includes(s.batchIds.tomatoes), 5],
        ["batchId of a split parent", (s) => ({ batchId: s.batchIds.olives }), (s, e) => e.batchIds.includes(s.batchIds.olives), 4],
        ["orderId", (s) => ({ orderId: s.orderIds.tomatoOrder }), (s, e) => e.orderIds.includes(s.orderIds.tomatoOrder), 2],
        ["account", (s) => ({ account: s.accounts.carrier }), (s, e) => e.accounts.includes(s.accounts.carrier), 6],
        [
          "account and batchId",
          (s) => ({ account: s.accounts.carrier, batchId: s.batchIds.tomatoes }),
          (s, e) => e.accounts.includes(s.accounts.carrier) && e.batchIds.includes(s.batchIds.tomatoes),
          4,
        ],
        [
          "batchId and orderId",
          (s) => ({ batchId: s.batchIds.tomatoes, orderId: s.orderIds.tomatoOrder }),
          (s, e) => e.batchIds.includes(s.batchIds.tomatoes) && e.orderIds.includes(s.orderIds.tomatoOrder),
          1,
        ],
        [
          "transactionHash",
          () => ({ transactionHash: transactionHash(CHAIN_ID, 7, 0) }),
          (_, e) => e.transactionHash === transactionHash(CHAIN_ID, 7, 0),
          2,
        ],
        ["contract", () => ({ contract: "TradeEscrow" }), (_, e) => e.contract === "TradeEscrow", 3],
        ["name", () => ({ name: "HandoffAccepted" }), (_, e) => e.name === "HandoffAccepted", 2],
        // An account with more events than the name has (SQLite walks the name), and the other way round.
        [
          "account and name",
          (s) => ({ account: s.accounts.carrier, name: "HandoffAccepted" }),
          (s, e) => e.accounts.includes(s.accounts.carrier) && e.name === "HandoffAccepted",
          2,
        ],
        [
          "orderId, contract and name",
          (s) => ({ orderId: s.orderIds.tomatoOrder, contract: "TradeEscrow", name: "OrderOpened" }),
          (s, e) => e.orderIds.includes(s.orderIds.tomatoOrder) && e.contract === "TradeEscrow" && e.name === "OrderOpened",
          1,
        ],
        [
          "account and a name it has no event of",
          (s) => ({ account: s.accounts.carrier, name: "OrderReleased" }),
          (s, e) => e.accounts.includes(s.accounts.carrier) && e.name === "OrderReleased",
          0,
        ],
        ["fromBlock and toBlock (inclusive)", () => ({ fromBlock: 3, toBlock: 6 }), (_, e) => e.blockNumber >= 3 && e.blockNumber <= 6, 6],
        ["fromBlock only", () => ({ fromBlock: 8 }), (_, e) => e.blockNumber >= 8, 5],
        ["toBlock only", () => ({ toBlock: 1 }), (_, e) => e.blockNumber <= 1, 5],
        [
          "contract, name and block range",
          () => ({ contract: "ProvenanceRegistry", name: "BatchRegistered", fromBlock: 3 }),
          (_, e) => e.contract === "ProvenanceRegistry" && e.name === "BatchRegistered" && e.blockNumber >= 3,
          2,
        ],
        ["another chain", () => ({ chainId: OTHER_CHAIN_ID }), () => false, 0],
        ["an unknown batch", () => ({ batchId: bytes32("unknown") }), () => false, 0],
      ];
    for (const [label, filterOf, matches, count] of filters) {
      it(`test_listEvents_filter_${label.replaceAll(" ", "_")}`, async function () {
        const expected = eventsThrough(scenario).filter((event) => matches(scenario, event));
        expect(expected, "fixture sanity").to.have.length(count);
        const { items, nextCursor } = await store.listEvents(filterOf(scenario), all);
        expect(items).to.deep.equal(expected);
        expect(nextCursor).to.equal(null);
      });
    }

    it("test_listEvents_paginatesEveryLimitToTheSameSequence", async function () {
      const expected = ids(eventsThrough(scenario));
      for (const limit of [1, 2, 3, 5, 18, 19, 20]) {
        const { items, pages } = await readAllPages((page) => store.listEvents({}, page), limit);
        expect(ids(items), `limit ${limit}`).to.deep.equal(expected);
        expect(pages, `limit ${limit}`).to.equal(Math.ceil(19 / limit));
      }
    });

    it("test_listEvents_paginatesFilteredLists", async function () {
      const expected = ids(eventsThrough(scenario).filter((event) => event.accounts.includes(scenario.accounts.carrier)));
      for (const limit of [1, 4, 6]) {
        const { items } = await readAllPages((page) => store.listEvents({ account: scenario.accounts.carrier }, page), limit);
        expect(ids(items)).to.deep.equal(expected);
      }
      const accepted = eventsThrough(scenario).filter((event) => event.name === "HandoffAccepted");
      for (const event of accepted) {
        for (const account of event.accounts) {
          const named = await readAllPages((page) => store.listEvents({ account, name: "HandoffAccepted" }, page), 1);
          expect(ids(named.items)).to.deep.equal(ids(accepted.filter((candidate) => candidate.accounts.includes(account))));
        }
      }
      const escrow = await readAllPages((page) => store.listEvents({ contract: "TradeEscrow", fromBlock: 2 }, page), 2);
      expect(escrow.items.map((event) => event.name)).to.deep.equal(["OrderOpened", "OrderOpened", "OrderReleased"]);
    });

    it("test_listEvents_lastFullPage_hasNullCursor", async function () {
      const first = await store.listEvents({}, { limit: 10 });
      expect(first.nextCursor).to.be.a("string");
      const second = await store.listEvents({}, { limit: 9, cursor: first.nextCursor });
      expect(second.items).to.have.length(9);
      expect(second.nextCursor).to.equal(null);
    });

    it("test_listEvents_cursorStaysValidWhenEventsArriveLater", async function () {
      const fresh = await openStore();
      await commitScenario(fresh, 8);
      const first = await fresh.listEvents({}, { limit: 10 });
      await fresh.commitRange(rangeCommit(scenario, 9, 12));
      const rest = await readAllPages((page) => fresh.listEvents({}, { ...page, cursor: page.cursor ?? first.nextCursor }), 4);
      expect(ids([...first.items, ...rest.items])).to.deep.equal(ids(eventsThrough(scenario)));
    });
  });

  describe("projection queries", function () {
    beforeEach(async function () {
      await commitScenario();
    });

    it("test_getBatch_returnsDocumentAsWritten", async function () {
      const final = stateAt(scenario, 12);
      for (const expected of final.batches) expect(await store.getBatch(expected.batchId)).to.deep.equal(expected);
      expect(await store.getBatch(bytes32("unknown"))).to.equal(null);
    });

    it("test_getMany_inArgumentOrder_onceEach_unknownLeftOut", async function () {
      const { basil, tomatoes } = scenario.batchIds;
      expect(batchIds(await store.getBatches([basil, bytes32("unknown"), tomatoes, basil]))).to.deep.equal([basil, tomatoes]);
      expect(await store.getBatches([])).to.deep.equal([]);
      const { retailer, manufacturer } = scenario.accounts;
      expect(addresses(await store.getParticipants([retailer, address("nobody"), manufacturer, retailer]))).to.deep.equal([
        retailer,
        manufacturer,
      ]);
      const { basilOrder, tomatoOrder } = scenario.orderIds;
      expect(orderIds(await store.getOrders([basilOrder, tomatoOrder, bytes32("unknown")]))).to.deep.equal([basilOrder, tomatoOrder]);
      expect(await store.getOrder(tomatoOrder)).to.deep.equal(stateAt(scenario, 12).orders.find((doc) => doc.orderId === tomatoOrder));
    });

    it("test_getOrder_namedInspectorAndNone_roundTripAsStored", async function () {
      const { basilOrder, tomatoOrder } = scenario.orderIds;
      // The tomato order names the inspector, whose pass it records; the basil order names none (null, not the zero address).
      expect(await store.getOrder(tomatoOrder)).to.deep.include({ inspector: scenario.accounts.inspector, inspection: "passed" });
      expect(await store.getOrder(basilOrder)).to.deep.include({ inspector: null, inspection: "none" });
    });

    it("test_findBatchByGtinLot_exactGtinAndLot_findsBatchElseNull", async function () {
      expect((await store.findBatchByGtinLot(scenario.gtins.oil, "OLV-2026-01-W"))?.batchId).to.equal(scenario.batchIds.olivesWest);
      expect((await store.findBatchByGtinLot(scenario.gtins.sauce, "TOM-2026-01"))?.batchId).to.equal(scenario.batchIds.tomatoes);
      expect(await store.findBatchByGtinLot(scenario.gtins.oil, "TOM-2026-01")).to.equal(null);
      expect(await store.findBatchByGtinLot(scenario.gtins.sauce, "tom-2026-01")).to.equal(null); // lots are case-sensitive
    });

    const batchFilters: [string, (s: Scenario) => Parameters<MirrorStore["listBatches"]>[0], (s: Scenario) => Hex[]][] = [
      ["none", () => ({}), (s) => [s.batchIds.tomatoes, s.batchIds.olives, s.batchIds.basil, s.batchIds.olivesEast, s.batchIds.olivesWest]],
      ["gtin", (s) => ({ gtin: s.gtins.sauce }), (s) => [s.batchIds.tomatoes, s.batchIds.basil]],
      ["lot", () => ({ lot: "OLV-2026-01-E" }), (s) => [s.batchIds.olivesEast]],
      ["gtin and lot", (s) => ({ gtin: s.gtins.oil, lot: "OLV-2026-01" }), (s) => [s.batchIds.olives]],
      [
        "manufacturer",
        (s) => ({ manufacturer: s.accounts.manufacturer }),
        (s) => [s.batchIds.tomatoes, s.batchIds.olives, s.batchIds.basil, s.batchIds.olivesEast, s.batchIds.olivesWest],
      ],
      ["custodian", (s) => ({ custodian: s.accounts.retailer }), (s) => [s.batchIds.tomatoes]],
      ["status split", () => ({ status: "split" }), (s) => [s.batchIds.olives]],
      ["status recalled", () => ({ status: "recalled" }), (s) => [s.batchIds.olivesWest]],
      ["status registered", () => ({ status: "registered" }), (s) => [s.batchIds.basil, s.batchIds.olivesEast]],
      ["status in_transit", () => ({ status: "in_transit" }), () => []],
      ["parentId", (s) => ({ parentId: s.batchIds.olives }), (s) => [s.batchIds.olivesEast, s.batchIds.olivesWest]],
      ["gtin and status", (s) => ({ gtin: s.gtins.oil, status: "registered" }), (s) => [s.batchIds.olivesEast]],
      ["unknown manufacturer", () => ({ manufacturer: address("nobody") }), () => []],
    ];
    for (const [label, filterOf, expectedOf] of batchFilters) {
      it(`test_listBatches_filter_${label.replaceAll(" ", "_")}`, async function () {
        const { items, nextCursor } = await store.listBatches(filterOf(scenario), all);
        expect(batchIds(items)).to.deep.equal(expectedOf(scenario));
        expect(nextCursor).to.equal(null);
      });
    }

    it("test_listBatches_paginatesInRegistrationOrder", async function () {
      const expected = batchIds(stateAt(scenario, 12).batches.sort((a, b) => (a.registered.eventId < b.registered.eventId ? -1 : 1)));
      for (const limit of [1, 2, 4, 5]) {
        const { items } = await readAllPages((page) => store.listBatches({}, page), limit);
        expect(batchIds(items), `limit ${limit}`).to.deep.equal(expected);
      }
      const oil = await readAllPages((page) => store.listBatches({ gtin: scenario.gtins.oil }, page), 2);
      expect(batchIds(oil.items)).to.deep.equal([scenario.batchIds.olives, scenario.batchIds.olivesEast, scenario.batchIds.olivesWest]);
    });

    it("test_listBatches_sameRegistrationEvent_breaksTiesByBatchId", async function () {
      const registered = chainEvent({ blockNumber: 20, logIndex: 0, name: "BatchRegistered" });
      const twins = ["TWIN-B", "TWIN-A", "TWIN-C"].map((lot) =>
        batch({ gtin: "09506000134352", lot, manufacturer: address("m"), registered }),
      );
      const fresh = await openStore();
      await fresh.commitRange({ ...rangeCommit(scenario, 1, 1), participants: [], events: [], batches: twins });
      const expected = batchIds(twins).sort();
      const { items } = await readAllPages((page) => fresh.listBatches({}, page), 1);
      expect(batchIds(items)).to.deep.equal(expected);
    });

    const orderFilters: [string, (s: Scenario) => Parameters<MirrorStore["listOrders"]>[0], (s: Scenario) => Hex[]][] = [
      ["none", () => ({}), (s) => [s.orderIds.tomatoOrder, s.orderIds.basilOrder]],
      ["buyer", (s) => ({ buyer: s.accounts.retailer }), (s) => [s.orderIds.tomatoOrder, s.orderIds.basilOrder]],
      ["seller", (s) => ({ seller: s.accounts.manufacturer }), (s) => [s.orderIds.tomatoOrder, s.orderIds.basilOrder]],
      ["carrier", (s) => ({ carrier: s.accounts.warehouse }), (s) => [s.orderIds.basilOrder]],
      ["batchId", (s) => ({ batchId: s.batchIds.tomatoes }), (s) => [s.orderIds.tomatoOrder]],
      ["state released", () => ({ state: "released" }), (s) => [s.orderIds.tomatoOrder]],
      ["state funded", () => ({ state: "funded" }), (s) => [s.orderIds.basilOrder]],
      ["buyer and carrier", (s) => ({ buyer: s.accounts.retailer, carrier: s.accounts.carrier }), (s) => [s.orderIds.tomatoOrder]],
      ["buyer who bought nothing", (s) => ({ buyer: s.accounts.manufacturer }), () => []],
    ];
    for (const [label, filterOf, expectedOf] of orderFilters) {
      it(`test_listOrders_filter_${label.replaceAll(" ", "_")}`, async function () {
        const { items, nextCursor } = await store.listOrders(filterOf(scenario), all);
        expect(orderIds(items)).to.deep.equal(expectedOf(scenario));
        expect(nextCursor).to.equal(null);
      });
    }

    it("test_listOrders_paginates", async function () {
      const { items, pages } = await readAllPages((page) => store.listOrders({ seller: scenario.accounts.manufacturer }, page), 1);
      expect(orderIds(items)).to.deep.equal([scenario.orderIds.tomatoOrder, scenario.orderIds.basilOrder]);
      expect(pages).to.equal(2);
    });

    const participantFilters: [string, Parameters<MirrorStore["listParticipants"]>[0], string[]][] = [
      ["none", {}, ["manufacturer", "carrier", "warehouse", "inspector", "retailer"]],
      ["role", { role: "CARRIER" }, ["carrier", "warehouse"]],
      ["role of several", { role: "RETAILER" }, ["warehouse", "retailer"]],
      ["suspended", { suspended: true }, ["carrier"]],
      ["not suspended", { suspended: false }, ["manufacturer", "warehouse", "inspector", "retailer"]],
      ["role and not suspended", { role: "CARRIER", suspended: false }, ["warehouse"]],
      ["role nobody has", { role: "ARBITER" }, []],
    ];
    for (const [label, filter, expectedLabels] of participantFilters) {
      it(`test_listParticipants_filter_${label.replaceAll(" ", "_")}`, async function () {
        const { items, nextCursor } = await store.listParticipants(filter, all);
        expect(addresses(items)).to.deep.equal(expectedLabels.map(address));
        expect(nextCursor).to.equal(null);
      });
    }

    it("test_listParticipants_paginatesInOnboardingOrder", async function () {
      const expected = ["manufacturer", "carrier", "warehouse", "inspector", "retailer"].map(address);
      for (const limit of [1, 2, 3]) {
        const { items } = await readAllPages((page) => store.listParticipants({}, page), limit);
        expect(addresses(items)).to.deep.equal(expected);
      }
      expect((await store.getParticipant(scenario.accounts.carrier))?.suspended).to.equal(true);
    });
  });

  describe("pagination input", function () {
    beforeEach(async function () {
      await commitScenario(store, 8);
    });

    const lists: [string, (store: MirrorStore, page: PageRequest) => Promise<unknown>][] = [
      ["listEvents", (target, page) => target.listEvents({}, page)],
      ["listBatches", (target, page) => target.listBatches({}, page)],
      ["listOrders", (target, page) => target.listOrders({}, page)],
      ["listParticipants", (target, page) => target.listParticipants({}, page)],
    ];
    const malformed = [
      "",
      "not a cursor!",
      "%%%",
      Buffer.from("plain text, not JSON").toString("base64url"),
      Buffer.from(JSON.stringify({ after: "x" })).toString("base64url"),
      Buffer.from(JSON.stringify([1, 2, 3])).toString("base64url"),
      Buffer.from(JSON.stringify(["elsewhere", "31337:000000000001:000000"])).toString("base64url"),
    ];
    for (const [label, list] of lists) {
      it(`test_${label}_malformedCursor_is400`, async function () {
        for (const cursor of malformed) await expectBadRequest(() => list(store, { limit: 5, cursor }));
      });

      it(`test_${label}_limitOutside1to500_is400`, async function () {
        for (const limit of [0, -1, 501, 2.5, Number.NaN]) await expectBadRequest(() => list(store, { limit }));
        await list(store, { limit: 500 });
        await list(store, { limit: 1, cursor: null });
      });
    }

    it("test_cursorOfOneList_refusedByAnother", async function () {
      const batches = await store.listBatches({}, { limit: 1 });
      const events = await store.listEvents({}, { limit: 1 });
      expect(batches.nextCursor).to.be.a("string");
      expect(events.nextCursor).to.be.a("string");
      await expectBadRequest(() => store.listEvents({}, { limit: 1, cursor: batches.nextCursor }));
      await expectBadRequest(() => store.listBatches({}, { limit: 1, cursor: events.nextCursor }));
    });
  });

  describe("rollback", function () {
    it("test_rollback_leavesExactlyWhatAnUninterruptedRunToTheForkHas", async function () {
      await commitScenario();
      await store.rollback(rollbackCommit(scenario, 6, 12));

      const reference = await openStore();
      await commitScenario(reference, 6);
      expect(await dump(store)).to.deep.equal(await dump(reference));
      expect(await store.countEvents(CHAIN_ID)).to.equal(12);
    });

    it("test_rollback_removesAboveFork_keepsAtAndBelow", async function () {
      await commitScenario();
      const rollback = rollbackCommit(scenario, 6, 12);
      expect(rollback.deleteBatchIds).to.have.members([scenario.batchIds.olivesEast, scenario.batchIds.olivesWest]);
      expect(rollback.deleteOrderIds).to.deep.equal([scenario.orderIds.basilOrder]);
      await store.rollback(rollback);

      const remaining = (await store.listEvents({}, all)).items;
      expect(remaining.every((event) => event.blockNumber <= 6)).to.equal(true);
      expect(remaining.filter((event) => event.blockNumber === 6)).to.have.length(2); // the fork block itself stays
      expect((await store.getBlocks(CHAIN_ID, 0, 100)).map((block) => block.number)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(await store.getCheckpoint(CHAIN_ID)).to.deep.equal(rollback.checkpoint);

      expect(await store.getBatch(scenario.batchIds.olivesWest)).to.equal(null);
      expect(await store.findBatchByGtinLot(scenario.gtins.oil, "OLV-2026-01-W")).to.equal(null);
      expect(await store.getOrder(scenario.orderIds.basilOrder)).to.equal(null);
      expect((await store.getBatch(scenario.batchIds.olives))?.status).to.equal("registered");
      expect((await store.getBatch(scenario.batchIds.olives))?.childIds).to.deep.equal([]);
      expect((await store.getBatch(scenario.batchIds.tomatoes))?.custodian).to.equal(scenario.accounts.carrier);
      expect((await store.getOrder(scenario.orderIds.tomatoOrder))?.state).to.equal("funded");
      expect((await store.getParticipant(scenario.accounts.carrier))?.suspended).to.equal(false);

      // The entity indexes forget removed events too.
      expect(await store.listEvents({ batchId: scenario.batchIds.olivesWest }, all)).to.deep.equal({ items: [], nextCursor: null });
      expect((await store.listEvents({ account: scenario.accounts.carrier }, all)).items.map((event) => event.blockNumber)).to.deep.equal([
        1, 3, 4, 5,
      ]);
      expect((await store.listEvents({ orderId: scenario.orderIds.tomatoOrder }, all)).items).to.have.length(1);
      expect((await store.listBatches({ parentId: scenario.batchIds.olives }, all)).items).to.deep.equal([]);
      expect(addresses((await store.listParticipants({ suspended: true }, all)).items)).to.deep.equal([]);
    });

    it("test_rollback_thenOtherFork_storesTheNewChain", async function () {
      await commitScenario();
      await store.rollback(rollbackCommit(scenario, 6, 12));
      const forkB = supplyChainScenario(CHAIN_ID, "fork-b");
      // Fork B shares blocks 1-6 in this test's story; re-index 7-12 from it.
      await store.commitRange(rangeCommit(forkB, 7, 12));
      const newer = (await store.listEvents({ fromBlock: 7 }, all)).items;
      expect(newer).to.have.length(7);
      expect(newer.every((event) => event.blockHash === forkB.steps[event.blockNumber - 1]!.block.hash)).to.equal(true);
      expect((await store.getBlocks(CHAIN_ID, 7, 7))[0]?.hash).to.equal(forkB.steps[6]!.block.hash);
      expect((await store.getCheckpoint(CHAIN_ID))?.blockHash).to.equal(forkB.steps[11]!.block.hash);
      expect(await store.countEvents(CHAIN_ID)).to.equal(19);
    });

    it("test_rollback_thenSameLogPositionOtherEntities_filtersSeeOnlyTheNewEvent", async function () {
      await commitScenario();
      await store.rollback(rollbackCommit(scenario, 6, 12));
      // On the new fork, log 0 of block 8 is a different event touching different entities.
      const replacement = chainEvent({
        blockNumber: 8,
        logIndex: 0,
        fork: "fork-c",
        name: "QualityAttested",
        batchIds: [scenario.batchIds.basil],
        accounts: [scenario.accounts.inspector],
      });
      await store.commitRange({
        ...rangeCommit(scenario, 7, 8),
        events: [replacement],
        blocks: [],
        batches: [],
        participants: [],
        orders: [],
      });
      expect((await store.listEvents({ batchId: scenario.batchIds.olivesWest }, all)).items).to.deep.equal([]);
      expect(ids((await store.listEvents({ account: scenario.accounts.manufacturer, fromBlock: 7 }, all)).items)).to.deep.equal([]);
      expect((await store.listEvents({ batchId: scenario.batchIds.basil, fromBlock: 7 }, all)).items).to.deep.equal([replacement]);
      expect((await store.listEvents({ account: scenario.accounts.inspector, fromBlock: 7 }, all)).items).to.deep.equal([replacement]);
    });

    it("test_rollback_leavesOtherChainsAlone", async function () {
      await commitScenario();
      const other = supplyChainScenario(OTHER_CHAIN_ID);
      await store.commitRange({ ...rangeCommit(other, 1, 12), batches: [], participants: [], orders: [] });
      await store.rollback(rollbackCommit(scenario, 2, 12));
      expect(await store.countEvents(OTHER_CHAIN_ID)).to.equal(19);
      expect(await store.getBlocks(OTHER_CHAIN_ID, 0, 100)).to.have.length(12);
      expect((await store.getCheckpoint(OTHER_CHAIN_ID))?.blockNumber).to.equal(12);
      expect(await store.countEvents(CHAIN_ID)).to.equal(6);
      expect((await store.listEvents({ chainId: OTHER_CHAIN_ID, account: other.accounts.carrier }, all)).items).to.have.length(6);
    });

    it("test_rollback_toZero_emptiesTheChain", async function () {
      await commitScenario();
      const rollback = {
        ...rollbackCommit(scenario, 1, 12),
        forkBlock: 0,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: Object.values(scenario.batchIds),
        deleteParticipantAddresses: Object.values(scenario.accounts),
        deleteOrderIds: Object.values(scenario.orderIds),
        checkpoint: { chainId: CHAIN_ID, blockNumber: 0, blockHash: null, updatedAt: 1 },
      };
      await store.rollback(rollback);
      expect(await store.countEvents()).to.equal(0);
      expect(await store.getBlocks(CHAIN_ID, 0, 100)).to.deep.equal([]);
      expect((await store.listBatches({}, all)).items).to.deep.equal([]);
      expect((await store.listParticipants({ role: "CARRIER" }, all)).items).to.deep.equal([]);
      expect((await store.listOrders({}, all)).items).to.deep.equal([]);
      expect(await store.getCheckpoint(CHAIN_ID)).to.deep.equal(rollback.checkpoint);
    });

    it("test_rollback_repeated_isHarmless", async function () {
      await commitScenario();
      await store.rollback(rollbackCommit(scenario, 6, 12));
      const once = await dump(store);
      await store.rollback(rollbackCommit(scenario, 6, 12));
      expect(await dump(store)).to.deep.equal(once);
    });
  });

  describe("leases", function () {
    it("test_acquireLease_secondHolderRefusedWhileUnexpired", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
    });

    it("test_acquireLease_holderRenews", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
    });

    it("test_acquireLease_renewalExtendsExpiry", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 300)).to.equal(true);
      await sleep(200);
      expect(await store.acquireLease("indexer", "instance-a", 5_000)).to.equal(true); // renewed before expiry
      await sleep(200); // past the first expiry, well inside the renewed one
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
    });

    it("test_acquireLease_afterExpiry_anotherTakesOver", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 100)).to.equal(true);
      await sleep(150);
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(true);
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(false); // the old holder lost it
    });

    it("test_releaseLease_freesItAtOnce_onlyForTheHolder", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      await store.releaseLease("indexer", "instance-b"); // not the holder: no effect
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
      await store.releaseLease("indexer", "instance-a");
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(true);
      await store.releaseLease("never-taken", "instance-a"); // harmless
    });

    it("test_readLease_namesTheHolderAndExpiry_untilSomeoneTakesIt", async function () {
      expect(await store.readLease("indexer")).to.equal(null);
      const before = Date.now();
      expect(await store.acquireLease("indexer", "instance-a", 100)).to.equal(true);
      const held = await store.readLease("indexer");
      expect(held?.holder).to.equal("instance-a");
      expect(held?.expiresAt).to.be.within(before + 100, Date.now() + 100);
      await sleep(150);
      expect(await store.readLease("indexer"), "an expired lease still names its last holder").to.deep.equal(held);
      expect(await store.acquireLease("indexer", "instance-b", 60_000)).to.equal(true);
      expect((await store.readLease("indexer"))?.holder).to.equal("instance-b");
      await store.releaseLease("indexer", "instance-b");
      expect(await store.readLease("indexer")).to.equal(null);
    });

    it("test_leases_areIndependentByName", async function () {
      expect(await store.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      expect(await store.acquireLease("relayer", "instance-b", 60_000)).to.equal(true);
      expect(await store.acquireLease("relayer", "instance-a", 60_000)).to.equal(false);
    });

    it("test_acquireLease_race_exactlyOneWins", async function () {
      const holders = ["a", "b", "c", "d", "e"];
      const results = await Promise.all(holders.map((holder) => store.acquireLease("race", holder, 60_000)));
      expect(results.filter(Boolean)).to.have.length(1);
    });
  });

  describe("relay queue", function () {
    it("test_enqueueRelay_createsOnce_resubmitReturnsStored", async function () {
      const request = relayRequest("handoff");
      expect(await store.enqueueRelay(request)).to.deep.equal({ request, created: true });
      const resubmitted = {
        ...request,
        createdAt: request.createdAt + 5_000,
        updatedAt: request.updatedAt + 5_000,
        status: "failed" as const,
      };
      expect(await store.enqueueRelay(resubmitted)).to.deep.equal({ request, created: false });
      expect(await store.getRelay(request.id)).to.deep.equal(request);
      expect(await store.getRelay("0xunknown")).to.equal(null);
    });

    it("test_enqueueRelay_race_createsExactlyOnce", async function () {
      const request = relayRequest("race");
      const results = await Promise.all([store.enqueueRelay(request), store.enqueueRelay(request), store.enqueueRelay(request)]);
      expect(results.filter((result) => result.created)).to.have.length(1);
      for (const result of results) expect(result.request).to.deep.equal(request);
    });

    it("test_listRelays_byStatus_oldestFirst_limited", async function () {
      const at = 1_767_225_600_000;
      const requests = [
        relayRequest("r3", { createdAt: at + 3 }),
        relayRequest("r1", { createdAt: at + 1 }),
        relayRequest("r2", { createdAt: at + 2, status: "submitted" }),
        relayRequest("r4", { createdAt: at + 4, status: "mined" }),
        relayRequest("r0", { createdAt: at, status: "failed" }),
        relayRequest("r1-twin", { createdAt: at + 1 }), // same instant: ordered by id
      ];
      for (const request of requests) await store.enqueueRelay(request);
      const byId = (label: string) => relayRequest(label).id;
      const twins = [byId("r1"), byId("r1-twin")].sort();
      expect((await store.listRelays(["queued"], 10)).map((r) => r.id)).to.deep.equal([...twins, byId("r3")]);
      expect((await store.listRelays(["queued", "submitted"], 10)).map((r) => r.id)).to.deep.equal([...twins, byId("r2"), byId("r3")]);
      expect((await store.listRelays(["queued", "submitted"], 2)).map((r) => r.id)).to.deep.equal(twins);
      expect((await store.listRelays(["mined", "failed"], 10)).map((r) => r.id)).to.deep.equal([byId("r0"), byId("r4")]);
      expect(await store.listRelays([], 10)).to.deep.equal([]);
    });

    it("test_updateRelay_compareAndSetOnStatus", async function () {
      const request = relayRequest("cas");
      await store.enqueueRelay(request);
      const submitted = {
        status: "submitted" as RelayStatus,
        attempts: 1,
        transactionHash: bytes32("tx"),
        relayerNonce: 7,
        gasPrice: "1000000000",
        updatedAt: request.updatedAt + 1,
      };
      expect(await store.updateRelay(request.id, "queued", submitted)).to.equal(true);
      expect(await store.getRelay(request.id)).to.deep.equal({ ...request, ...submitted });

      expect(await store.updateRelay(request.id, "queued", { status: "failed", error: "late" })).to.equal(false);
      expect((await store.getRelay(request.id))?.status).to.equal("submitted");

      // A gas bump keeps the status: same expected and new status.
      expect(await store.updateRelay(request.id, "submitted", { attempts: 2, gasPrice: "1250000000" })).to.equal(true);
      const mined = { status: "mined" as RelayStatus, blockNumber: 42, updatedAt: request.updatedAt + 2 };
      expect(await store.updateRelay(request.id, "submitted", mined)).to.equal(true);
      expect(await store.getRelay(request.id)).to.deep.equal({ ...request, ...submitted, attempts: 2, gasPrice: "1250000000", ...mined });
      expect(await store.listRelays(["queued", "submitted"], 10)).to.deep.equal([]);
      expect(await store.updateRelay("0xunknown", "queued", { status: "failed" })).to.equal(false);
    });

    it("test_updateRelay_neverChangesId_andClearsFieldsSetToNull", async function () {
      const request = relayRequest("id", { status: "failed", error: "nonce too low" });
      await store.enqueueRelay(request);
      expect(await store.updateRelay(request.id, "failed", { id: "0xother", status: "queued", error: null })).to.equal(true);
      expect(await store.getRelay(request.id)).to.deep.equal({ ...request, status: "queued", error: null });
      expect(await store.getRelay("0xother")).to.equal(null);
    });

    it("test_updateRelay_race_exactlyOneWins", async function () {
      const request = relayRequest("race-update");
      await store.enqueueRelay(request);
      const results = await Promise.all([
        store.updateRelay(request.id, "queued", { status: "submitted", error: "first" }),
        store.updateRelay(request.id, "queued", { status: "failed", error: "second" }),
        store.updateRelay(request.id, "queued", { status: "submitted", error: "third" }),
      ]);
      expect(results.filter(Boolean)).to.have.length(1);
    });
  });

  describe("serial sets", function () {
    it("test_serialSet_roundTripsExactly_inOrder", async function () {
      // GS1 AI(21) allows these punctuation characters; order is the tree's leaf order.
      const set = {
        serialRoot: bytes32("root:small"),
        serials: ["B-2", "A-1", "x/y%z", '"quoted"', "a+b=c;d<e>f?_!'&(*),:."],
        createdAt: 1_000,
      };
      await store.putSerialSet(set);
      expect(await store.getSerialSet(set.serialRoot)).to.deep.equal(set);
      expect(await store.getSerialSet(bytes32("root:unknown"))).to.equal(null);
    });

    it("test_putSerialSet_firstPutWins", async function () {
      const set = { serialRoot: bytes32("root:idempotent"), serials: serials(3), createdAt: 1_000 };
      await store.putSerialSet(set);
      await store.putSerialSet({ ...set, createdAt: 2_000 });
      await store.putSerialSet({ ...set, serials: ["other"], createdAt: 3_000 });
      expect(await store.getSerialSet(set.serialRoot)).to.deep.equal(set);
    });

    it("test_serialSet_100000Serials_roundTrip", async function () {
      this.timeout(120_000);
      const set = { serialRoot: bytes32("root:100k"), serials: serials(100_000, "SN-TOM-2026"), createdAt: 1_767_225_600_000 };
      const putStarted = performance.now();
      await store.putSerialSet(set);
      const getStarted = performance.now();
      const stored = await store.getSerialSet(set.serialRoot);
      const done = performance.now();
      expect(stored?.serials.length).to.equal(100_000);
      expect(stored?.serials[0]).to.equal("SN-TOM-2026-000000");
      expect(stored?.serials[99_999]).to.equal("SN-TOM-2026-099999");
      expect(stored).to.deep.equal(set);
      console.log(
        `      (100,000 serials on ${store.kind}: put ${(getStarted - putStarted).toFixed(0)} ms, get ${(done - getStarted).toFixed(0)} ms)`,
      );
    });
  });

  describe("scans", function () {
    const batchId = bytes32("batch:scanned");

    it("test_scanStats_countsRegionsAndWindow", async function () {
      const scans: [number, string][] = [
        [1_000, "DE"],
        [2_000, "DE"],
        [3_000, "FR"],
        [4_000, "US"],
        [5_000, "FR"],
        [6_000, "DE"],
      ];
      for (const [at, region] of scans) await store.recordScan({ batchId, serial: "SN-1", at, region });
      expect(await store.scanStats(batchId, "SN-1", 4_000)).to.deep.equal({
        total: 6,
        regions: ["DE", "FR", "US"],
        firstAt: 1_000,
        lastAt: 6_000,
        recent: 3,
      });
      expect((await store.scanStats(batchId, "SN-1", 6_001)).recent).to.equal(0);
      expect((await store.scanStats(batchId, "SN-1", 0)).recent).to.equal(6);
    });

    it("test_scanStats_regionTiesInRegionOrder", async function () {
      for (const region of ["NL", "AT", "unknown", "AT", "NL", "BE"]) await store.recordScan({ batchId, serial: "SN-2", at: 10, region });
      expect((await store.scanStats(batchId, "SN-2", 0)).regions).to.deep.equal(["AT", "NL", "BE", "unknown"]);
    });

    it("test_scanStats_keyedByBatchAndExactSerial", async function () {
      await store.recordScan({ batchId, serial: "SN-1", at: 100, region: "DE" });
      await store.recordScan({ batchId, serial: null, at: 200, region: "FR" });
      await store.recordScan({ batchId, serial: null, at: 300, region: "FR" });
      await store.recordScan({ batchId: bytes32("batch:other"), serial: "SN-1", at: 400, region: "US" });
      expect(await store.scanStats(batchId, null, 250)).to.deep.equal({ total: 2, regions: ["FR"], firstAt: 200, lastAt: 300, recent: 1 });
      expect(await store.scanStats(batchId, "SN-1", 0)).to.deep.equal({ total: 1, regions: ["DE"], firstAt: 100, lastAt: 100, recent: 1 });
      expect(await store.scanStats(batchId, "SN-404", 0)).to.deep.equal({ total: 0, regions: [], firstAt: null, lastAt: null, recent: 0 });
    });
  });

  describe("unit claims", function () {
    const batchId = bytes32("batch:claimed");

    it("test_claimUnit_firstClaimWins", async function () {
      expect(await store.getUnitClaim(batchId, "SN-1")).to.equal(null);
      const first = { batchId, serial: "SN-1", owner: "0xowner-one", claimedAt: 1_000 };
      expect(await store.claimUnit(first)).to.deep.equal(first);
      expect(await store.claimUnit({ batchId, serial: "SN-1", owner: "0xowner-two", claimedAt: 2_000 })).to.deep.equal(first);
      expect(await store.getUnitClaim(batchId, "SN-1")).to.deep.equal(first);
    });

    it("test_claimUnit_perBatchAndSerial", async function () {
      const a = { batchId, serial: "SN-1", owner: "alice-hash", claimedAt: 1 };
      const b = { batchId, serial: "SN-2", owner: "bob-hash", claimedAt: 2 };
      const c = { batchId: bytes32("batch:other"), serial: "SN-1", owner: "carol-hash", claimedAt: 3 };
      for (const claim of [a, b, c]) expect(await store.claimUnit(claim)).to.deep.equal(claim);
      expect(await store.getUnitClaim(batchId, "SN-2")).to.deep.equal(b);
      expect(await store.getUnitClaim(c.batchId, "SN-1")).to.deep.equal(c);
    });

    it("test_claimUnit_race_allSeeOneWinner", async function () {
      const claims = ["one", "two", "three"].map((owner, index) => ({ batchId, serial: "SN-9", owner, claimedAt: index }));
      const results = await Promise.all(claims.map((claim) => store.claimUnit(claim)));
      const winner = await store.getUnitClaim(batchId, "SN-9");
      expect(winner).to.not.equal(null);
      for (const result of results) expect(result).to.deep.equal(winner);
    });
  });

  describe("unit ownership", function () {
    const ref = (blockNumber: number, logIndex = 0): EventRef => ({
      eventId: `${CHAIN_ID}:${String(blockNumber).padStart(12, "0")}:${String(logIndex).padStart(6, "0")}`,
      blockNumber,
      blockTimestamp: 1_767_225_600 + blockNumber * 12,
      transactionHash: transactionHash(CHAIN_ID, blockNumber, logIndex),
    });
    const batchId = bytes32("batch:owned");
    const [alice, bob] = [address("alice"), address("bob")];
    const claimed = (tokenId: string, serial: string, blockNumber: number): UnitToken => ({
      tokenId,
      batchId,
      serial,
      owner: alice,
      ownedSince: ref(blockNumber).blockTimestamp,
      claimedAt: ref(blockNumber).blockTimestamp,
      previousOwners: [],
      transfers: [],
      claimed: ref(blockNumber),
      lastEvent: ref(blockNumber),
    });
    const resold = (token: UnitToken, blockNumber: number): UnitToken => ({
      ...token,
      owner: bob,
      ownedSince: ref(blockNumber).blockTimestamp,
      previousOwners: [alice],
      transfers: [{ from: alice, to: bob, at: ref(blockNumber) }],
      lastEvent: ref(blockNumber),
    });
    const root: ClaimRoot = { batchId, manufacturer: address("maker"), claimRoot: bytes32("claim-root"), units: 3, committed: ref(2) };
    const commitOwnership = (blockNumber: number, unitTokens: UnitToken[], claimRoots: ClaimRoot[] = []) =>
      store.commitRange({
        chainId: CHAIN_ID,
        events: [],
        blocks: [indexedBlock(CHAIN_ID, blockNumber)],
        batches: [],
        participants: [],
        orders: [],
        unitTokens,
        claimRoots,
        checkpoint: { chainId: CHAIN_ID, blockNumber, blockHash: indexedBlock(CHAIN_ID, blockNumber).hash, updatedAt: 1 },
      });

    it("test_commitRange_unitTokensAndClaimRoots_readBackByKey", async function () {
      const one = claimed("101", "SN-1", 3);
      const two = claimed("2".repeat(77), "SN-2", 3);
      await commitOwnership(3, [one, two], [root]);
      expect(await store.getUnitToken("101")).to.deep.equal(one);
      expect(await store.getUnitToken("999")).to.equal(null);
      expect(await store.getUnitTokens([two.tokenId, "999", "101", two.tokenId])).to.deep.equal([two, one]);
      expect(await store.getUnitTokens([])).to.deep.equal([]);
      expect(await store.getClaimRoot(batchId)).to.deep.equal(root);
      expect(await store.getClaimRoot(bytes32("batch:none"))).to.equal(null);
      expect(await store.getClaimRoots([bytes32("batch:none"), batchId])).to.deep.equal([root]);
    });

    it("test_commitRange_staleUnitToken_doesNotUndoALaterTransfer", async function () {
      const token = claimed("101", "SN-1", 3);
      await commitOwnership(5, [resold(token, 5)]);
      await commitOwnership(5, [token]); // a stale writer replays the claim's range
      expect((await store.getUnitToken("101"))?.owner).to.equal(bob);
      await commitOwnership(5, [resold(token, 5)], [root]);
      await commitOwnership(5, [], [root]); // replaying a claim root changes nothing
      expect(await store.getUnitToken("101")).to.deep.equal(resold(token, 5));
      expect(await store.getClaimRoot(batchId)).to.deep.equal(root);
    });

    it("test_rollback_unitTokens_writtenAsToldAndDeleted", async function () {
      const kept = claimed("101", "SN-1", 3);
      const undone = claimed("102", "SN-2", 7);
      await commitOwnership(7, [resold(kept, 6), undone], [{ ...root, committed: ref(7) }]);
      await store.rollback({
        chainId: CHAIN_ID,
        forkBlock: 5,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        unitTokens: [kept],
        deleteUnitTokenIds: ["102"],
        deleteClaimRootBatchIds: [batchId],
        checkpoint: { chainId: CHAIN_ID, blockNumber: 5, blockHash: indexedBlock(CHAIN_ID, 5).hash, updatedAt: 2 },
      });
      expect(await store.getUnitToken("101")).to.deep.equal(kept);
      expect(await store.getUnitToken("102")).to.equal(null);
      expect(await store.getClaimRoot(batchId)).to.equal(null);
    });

    it("test_putClaimTree_firstUploadOfARootWins", async function () {
      const claimRoot = bytes32("claim-root");
      expect(await store.getClaimTree(claimRoot)).to.equal(null);
      const dump = {
        format: "standard-v1",
        leafEncoding: ["string", "address"],
        tree: [claimRoot],
        values: [{ value: ["SN-1", alice], treeIndex: 0 }],
      };
      const first = { claimRoot, dump, createdAt: 1_000 };
      expect(await store.putClaimTree(first)).to.deep.equal(first);
      expect(await store.putClaimTree({ claimRoot, dump: { other: true }, createdAt: 2_000 })).to.deep.equal(first);
      expect(await store.getClaimTree(claimRoot)).to.deep.equal(first);
    });
  });

  describe("transformations", function () {
    const ref = (blockNumber: number, logIndex = 0): EventRef => ({
      eventId: `${CHAIN_ID}:${String(blockNumber).padStart(12, "0")}:${String(logIndex).padStart(6, "0")}`,
      blockNumber,
      blockTimestamp: 1_767_225_600 + blockNumber * 12,
      transactionHash: transactionHash(CHAIN_ID, blockNumber, logIndex),
    });
    const lot = (label: string) => bytes32(`lot:${label}`);
    const processor = address("mill");
    const recorded = (transformationId: string, blockNumber: number, inputs: string[], outputs: string[]): Transformation => ({
      transformationId,
      processor,
      locationGln: "4012345000030",
      documentHash: bytes32(`sheet:${transformationId}`),
      inputs: inputs.map((label, index) => ({ batchId: lot(label), quantity: String(100 + index) })),
      outputIds: outputs.map(lot),
      recallFlags: [],
      recorded: ref(blockNumber),
      lastEvent: ref(blockNumber),
    });
    const flagged = (transformation: Transformation, blockNumber: number, output: string, input: string): Transformation => ({
      ...transformation,
      recallFlags: [
        ...transformation.recallFlags,
        { outputId: lot(output), inputId: lot(input), flaggedBy: address("keeper"), at: ref(blockNumber) },
      ],
      lastEvent: ref(blockNumber),
    });
    const commitTransformations = (blockNumber: number, transformations: Transformation[]) =>
      store.commitRange({
        chainId: CHAIN_ID,
        events: [],
        blocks: [indexedBlock(CHAIN_ID, blockNumber)],
        batches: [],
        participants: [],
        orders: [],
        transformations,
        checkpoint: { chainId: CHAIN_ID, blockNumber, blockHash: indexedBlock(CHAIN_ID, blockNumber).hash, updatedAt: 1 },
      });
    const idsOf = (transformations: Transformation[]) => transformations.map((transformation) => transformation.transformationId);

    it("test_commitRange_transformations_readBackByIdAndByLotBothWays", async function () {
      // wheat + rye -> flour; flour + water -> dough and a second dough (a diamond below would share inputs)
      const flour = recorded("1", 3, ["wheat", "rye"], ["flour"]);
      const dough = recorded("2", 4, ["flour", "water"], ["dough-a", "dough-b"]);
      await commitTransformations(4, [dough, flour]);
      expect(await store.getTransformation("1")).to.deep.equal(flour);
      expect(await store.getTransformation("3")).to.equal(null);
      expect(await store.getTransformations(["2", "9", "1", "2"])).to.deep.equal([dough, flour]);
      expect(await store.getTransformations([])).to.deep.equal([]);

      expect(await store.findTransformationsConsuming([lot("wheat")])).to.deep.equal([flour]);
      expect(await store.findTransformationsConsuming([lot("flour")])).to.deep.equal([dough]);
      // Several lots at once, each transformation once, in recording order.
      expect(idsOf(await store.findTransformationsConsuming([lot("water"), lot("rye"), lot("flour"), lot("wheat")]))).to.deep.equal([
        "1",
        "2",
      ]);
      expect(await store.findTransformationsConsuming([lot("dough-a")])).to.deep.equal([]);
      expect(await store.findTransformationsProducing([lot("dough-b")])).to.deep.equal([dough]);
      expect(idsOf(await store.findTransformationsProducing([lot("dough-a"), lot("flour"), lot("wheat")]))).to.deep.equal(["1", "2"]);
      // An input is not an output and the other way round.
      expect(await store.findTransformationsProducing([lot("wheat")])).to.deep.equal([]);
      expect(await store.findTransformationsConsuming([])).to.deep.equal([]);
    });

    it("test_commitRange_staleTransformation_doesNotUndoALaterRecallFlag", async function () {
      const flour = recorded("1", 3, ["wheat", "rye"], ["flour"]);
      await commitTransformations(5, [flagged(flour, 5, "flour", "rye")]);
      await commitTransformations(5, [flour]); // a stale writer replays the recording's range
      expect(await store.getTransformation("1")).to.deep.equal(flagged(flour, 5, "flour", "rye"));
      expect(await store.findTransformationsConsuming([lot("rye")])).to.deep.equal([flagged(flour, 5, "flour", "rye")]);
    });

    it("test_rollback_transformations_writtenAsToldAndDeletedWithTheirLots", async function () {
      const kept = recorded("1", 3, ["wheat"], ["flour"]);
      const undone = recorded("2", 7, ["flour"], ["bread"]);
      await commitTransformations(7, [flagged(kept, 6, "flour", "wheat"), undone]);
      await store.rollback({
        chainId: CHAIN_ID,
        forkBlock: 5,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        transformations: [kept],
        deleteTransformationIds: ["2"],
        checkpoint: { chainId: CHAIN_ID, blockNumber: 5, blockHash: indexedBlock(CHAIN_ID, 5).hash, updatedAt: 2 },
      });
      expect(await store.getTransformation("1")).to.deep.equal(kept);
      expect(await store.getTransformation("2")).to.equal(null);
      expect(await store.findTransformationsConsuming([lot("flour")])).to.deep.equal([]);
      expect(await store.findTransformationsProducing([lot("bread")])).to.deep.equal([]);
      expect(await store.findTransformationsProducing([lot("flour")])).to.deep.equal([kept]);
    });

    it("test_findTransformations_moreLotsThanTheLimit_invalidInput", async function () {
      const lots = Array.from({ length: MAX_TRANSFORMATION_LOTS + 1 }, (_, index) => lot(`many-${index}`));
      await expectBadRequest(() => store.findTransformationsConsuming(lots));
      await expectBadRequest(() => store.findTransformationsProducing(lots));
    });
  });

  describe("containers", function () {
    const ref = (blockNumber: number, logIndex = 0): EventRef => ({
      eventId: `${CHAIN_ID}:${String(blockNumber).padStart(12, "0")}:${String(logIndex).padStart(6, "0")}`,
      blockNumber,
      blockTimestamp: 1_767_225_600 + blockNumber * 12,
      transactionHash: transactionHash(CHAIN_ID, blockNumber, logIndex),
    });
    const [maker, carrier] = [address("maker"), address("carrier")];
    const [lotA, lotB] = [bytes32("batch:A"), bytes32("batch:B")];
    const step = (kind: ContainerStep["kind"], blockNumber: number, fields: Partial<ContainerStep> = {}): ContainerStep => ({
      kind,
      by: maker,
      to: null,
      batchId: null,
      sscc: null,
      locationGln: "4012345000009",
      businessStep: null,
      reasonHash: null,
      released: null,
      at: ref(blockNumber),
      ...fields,
    });
    const container = (sscc: string, createdAt: number, fields: Partial<Container> = {}): Container => ({
      sscc,
      creator: maker,
      custodian: maker,
      pendingHandoff: null,
      locationGln: "4012345000009",
      parentSscc: null,
      state: "open",
      batchIds: [],
      containerSsccs: [],
      recallFlaggedBatchIds: [],
      history: [step("created", createdAt)],
      created: ref(createdAt),
      lastEvent: ref(createdAt),
      ...fields,
    });
    const PALLET = "040123450000000017";
    const CARTON = "040123450000000024";
    const commitContainers = (blockNumber: number, containers: Container[]) =>
      store.commitRange({
        chainId: CHAIN_ID,
        events: [],
        blocks: [indexedBlock(CHAIN_ID, blockNumber)],
        batches: [],
        participants: [],
        orders: [],
        containers,
        checkpoint: { chainId: CHAIN_ID, blockNumber, blockHash: indexedBlock(CHAIN_ID, blockNumber).hash, updatedAt: 1 },
      });
    const pallet = container(PALLET, 2, {
      custodian: carrier,
      batchIds: [lotB],
      containerSsccs: [CARTON],
      history: [step("created", 2), step("batch_packed", 3, { batchId: lotB }), step("container_packed", 3, { sscc: CARTON })],
      lastEvent: ref(4),
    });
    const carton = container(CARTON, 3, { parentSscc: PALLET, state: "packed", batchIds: [lotA], lastEvent: ref(3, 2) });

    it("test_commitRange_containers_readBackByKeyAndInArgumentOrder", async function () {
      await commitContainers(4, [pallet, carton]);
      expect(await store.getContainer(PALLET)).to.deep.equal(pallet);
      expect(await store.getContainer("000000000000000000")).to.equal(null);
      expect(await store.getContainers([CARTON, "000000000000000000", PALLET, CARTON])).to.deep.equal([carton, pallet]);
      expect(await store.getContainers([])).to.deep.equal([]);
    });

    it("test_listContainers_byCustodianBatchAndParent_inCreationOrder", async function () {
      const other = container("040123450000000031", 1, { custodian: carrier });
      await commitContainers(4, [pallet, carton, other]);
      const list = async (filter: Parameters<MirrorStore["listContainers"]>[0]) =>
        (await store.listContainers(filter, all)).items.map((item) => item.sscc);
      expect(await list({})).to.deep.equal([other.sscc, PALLET, CARTON]);
      expect(await list({ custodian: carrier })).to.deep.equal([other.sscc, PALLET]);
      expect(await list({ custodian: carrier, parentSscc: null })).to.deep.equal([other.sscc, PALLET]);
      expect(await list({ parentSscc: null })).to.deep.equal([other.sscc, PALLET]);
      expect(await list({ parentSscc: PALLET })).to.deep.equal([CARTON]);
      expect(await list({ batchId: lotA })).to.deep.equal([CARTON]);
      expect(await list({ batchId: lotB, custodian: maker })).to.deep.equal([]);
      expect(await list({ batchId: bytes32("batch:none") })).to.deep.equal([]);
      expect((await store.findContainerHoldingBatch(lotB))?.sscc).to.equal(PALLET);
      expect(await store.findContainerHoldingBatch(bytes32("batch:none"))).to.equal(null);
      // Keyset pages of one walk the same order without repeats.
      const first = await store.listContainers({}, { limit: 2 });
      expect(first.items.map((item) => item.sscc)).to.deep.equal([other.sscc, PALLET]);
      const second = await store.listContainers({}, { limit: 2, cursor: first.nextCursor });
      expect(second.items.map((item) => item.sscc)).to.deep.equal([CARTON]);
      expect(second.nextCursor).to.equal(null);
      await expectBadRequest(() => store.listContainers({}, { limit: 2, cursor: encodeCursor("batches", [ref(2).eventId, PALLET]) }));
      await expectBadRequest(() => store.listContainers({}, { limit: 2, cursor: "not-a-cursor" }));
    });

    it("test_commitRange_staleContainer_doesNotUndoALaterUnpack", async function () {
      const unpacked = {
        ...pallet,
        batchIds: [],
        history: [...pallet.history, step("batch_unpacked", 5, { batchId: lotB })],
        lastEvent: ref(5),
      };
      await commitContainers(5, [unpacked]);
      await commitContainers(5, [pallet]); // a stale writer replays the pack
      expect(await store.getContainer(PALLET)).to.deep.equal(unpacked);
      expect(await store.findContainerHoldingBatch(lotB)).to.equal(null);
    });

    it("test_rollback_containers_writtenAsToldAndDeleted", async function () {
      await commitContainers(4, [pallet, carton]);
      const before = container(PALLET, 2);
      await store.rollback({
        chainId: CHAIN_ID,
        forkBlock: 2,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        containers: [before],
        deleteContainerSsccs: [CARTON],
        checkpoint: { chainId: CHAIN_ID, blockNumber: 2, blockHash: indexedBlock(CHAIN_ID, 2).hash, updatedAt: 2 },
      });
      expect(await store.getContainer(PALLET)).to.deep.equal(before);
      expect(await store.getContainer(CARTON)).to.equal(null);
      expect(await store.findContainerHoldingBatch(lotA)).to.equal(null);
      expect(await store.findContainerHoldingBatch(lotB)).to.equal(null);
      expect((await store.listContainers({}, all)).items).to.deep.equal([before]);
    });
  });

  describe("claim regions", function () {
    it("test_putClaimRegion_latestAcceptedClaimReplaces", async function () {
      expect(await store.getClaimRegion("101")).to.equal(null);
      await store.putClaimRegion({ tokenId: "101", region: "DE", at: 1_000 });
      await store.putClaimRegion({ tokenId: "102", region: "FR", at: 1_500 });
      await store.putClaimRegion({ tokenId: "101", region: "CN", at: 2_000 });
      expect(await store.getClaimRegion("101")).to.deep.equal({ tokenId: "101", region: "CN", at: 2_000 });
      expect(await store.getClaimRegion("102")).to.deep.equal({ tokenId: "102", region: "FR", at: 1_500 });
    });
  });

  describe("recall acknowledgements", function () {
    const batchId = bytes32("batch:recalled");
    const acknowledgement = (holder: string, acknowledgedAt: number) => ({
      batchId,
      holder: address(holder),
      acknowledgedAt,
      chainId: 31337,
      signature: `0x${"ab".repeat(65)}` as Hex,
      heldBatchIds: [batchId],
    });

    it("test_putRecallAcknowledgement_firstPerHolderWins_andListsInTimeOrder", async function () {
      const first = acknowledgement("holder-b", 2_000);
      expect(await store.putRecallAcknowledgement(first)).to.deep.equal(first);
      expect(await store.putRecallAcknowledgement({ ...first, acknowledgedAt: 9_000 })).to.deep.equal(first);
      const other = acknowledgement("holder-a", 3_000);
      await store.putRecallAcknowledgement(other);
      await store.putRecallAcknowledgement({ ...acknowledgement("holder-c", 1_000), batchId: bytes32("batch:other") });
      expect(await store.listRecallAcknowledgements(batchId)).to.deep.equal([first, other]);
      expect(await store.listRecallAcknowledgements(bytes32("batch:none"))).to.deep.equal([]);
    });

    it("test_putRecallAcknowledgement_race_allSeeOneWinner", async function () {
      const results = await Promise.all([1, 2, 3].map((at) => store.putRecallAcknowledgement(acknowledgement("holder-race", at))));
      const [stored] = await store.listRecallAcknowledgements(batchId);
      for (const result of results) expect(result).to.deep.equal(stored);
    });
  });

  describe("product data documents", function () {
    const version = (subject: string, label: string, uploadedAt: number) => ({
      subject,
      contentHash: bytes32(`content:${label}`),
      canonicalJson: `{"name":{"en":"${label}"}}`,
      uploadedBy: address("acme"),
      uploadedAt,
    });

    it("test_putProductDataDocument_firstUploadWins_andListsInUploadOrder", async function () {
      const later = version("gtin:04012345000019", "v2", 2_000);
      const first = version("gtin:04012345000019", "v1", 1_000);
      expect(await store.putProductDataDocument(later)).to.deep.equal(later);
      expect(await store.putProductDataDocument({ ...later, uploadedAt: 9_000, uploadedBy: address("bolt") })).to.deep.equal(later);
      await store.putProductDataDocument(first);
      await store.putProductDataDocument(version(`batch:${bytes32("batch:x")}`, "v1", 500));
      expect(await store.listProductDataDocuments("gtin:04012345000019")).to.deep.equal([first, later]);
      expect(await store.getProductDataDocument("gtin:04012345000019", later.contentHash)).to.deep.equal(later);
      expect(await store.getProductDataDocument("gtin:04012345000026", later.contentHash)).to.equal(null);
      expect(await store.listProductDataDocuments("gtin:04012345000026")).to.deep.equal([]);
    });

    it("test_putProductDataDocument_race_allSeeOneWinner", async function () {
      const results = await Promise.all([1, 2, 3].map((at) => store.putProductDataDocument(version("gtin:race", "same", at))));
      const [stored] = await store.listProductDataDocuments("gtin:race");
      for (const result of results) expect(result).to.deep.equal(stored);
    });
  });

  describe("batch documents", function () {
    const batchX = bytes32("batch:x");
    const batchY = bytes32("batch:y");
    const documentOf = (batchId: Hex, label: string, uploadedAt: number, content: Uint8Array) => ({
      batchId,
      contentHash: bytes32(`document:${label}`),
      sha256: bytes32(`sha256:${label}`),
      kind: "inspection-report" as const,
      audience: "partners" as const,
      title: `Report ${label}`,
      contentType: "application/pdf",
      size: content.length,
      uploadedBy: address("lab"),
      uploadedAt,
    });
    const bytesOf = async (stream: NodeJS.ReadableStream | null) => {
      if (stream === null) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    };

    it("test_putBatchDocument_firstUploadWins_bytesAndMetadata", async function () {
      const first = Buffer.from("%PDF-1.7 first");
      const stored = documentOf(batchX, "a", 2_000, first);
      expect(await store.putBatchDocument(stored, first)).to.deep.equal(stored);
      const again = { ...stored, title: "Forged title", uploadedBy: address("bolt"), uploadedAt: 9_000 };
      expect(await store.putBatchDocument(again, Buffer.from("%PDF-1.7 other bytes"))).to.deep.equal(stored);
      expect(await store.getBatchDocument(batchX, stored.contentHash)).to.deep.equal(stored);
      expect(await bytesOf(await store.openBatchDocumentContent(batchX, stored.contentHash))).to.deep.equal(first);
      expect(await store.getBatchDocument(batchY, stored.contentHash)).to.equal(null);
      expect(await store.openBatchDocumentContent(batchY, stored.contentHash)).to.equal(null);
    });

    it("test_listBatchDocuments_inUploadOrder_perBatch_andFindByHashAcrossBatches", async function () {
      const bytes = Buffer.alloc(300_000, 7); // larger than a GridFS chunk (255 kB)
      const later = documentOf(batchX, "later", 3_000, bytes);
      const earlier = documentOf(batchX, "earlier", 1_000, bytes);
      const elsewhere = { ...documentOf(batchY, "later", 500, bytes) };
      for (const document of [later, earlier, elsewhere]) await store.putBatchDocument(document, bytes);
      expect(await store.listBatchDocuments(batchX)).to.deep.equal([earlier, later]);
      expect(await store.listBatchDocuments(bytes32("batch:none"))).to.deep.equal([]);
      expect(await store.findBatchDocumentsByHash(later.contentHash)).to.deep.equal([elsewhere, later]);
      expect(await store.findBatchDocumentsByHash(bytes32("document:none"))).to.deep.equal([]);
      expect(await bytesOf(await store.openBatchDocumentContent(batchY, later.contentHash))).to.deep.equal(bytes);
    });

    it("test_putBatchDocument_race_allSeeOneWinner", async function () {
      const content = Buffer.from("same bytes");
      const results = await Promise.all(
        [1, 2, 3].map((at) => store.putBatchDocument({ ...documentOf(batchX, "race", at, content), title: `upload ${at}` }, content)),
      );
      const [stored] = await store.listBatchDocuments(batchX);
      for (const result of results) expect(result).to.deep.equal(stored);
      expect(await bytesOf(await store.openBatchDocumentContent(batchX, stored!.contentHash))).to.deep.equal(content);
    });
  });

  describe("product documents", function () {
    const gtin = "08412345000102";
    const documentOf = (forGtin: string, label: string, uploadedAt: number, content: Uint8Array): ProductDocument => ({
      gtin: forGtin,
      contentHash: bytes32(`product document:${label}`),
      sha256: bytes32(`sha256:${label}`),
      kind: "declaration-of-conformity",
      audience: "public",
      title: `Declaration ${label}`,
      contentType: "application/pdf",
      size: content.length,
      uploadedBy: address("manufacturer"),
      uploadedAt,
    });
    const bytesOf = async (stream: NodeJS.ReadableStream | null) => {
      if (stream === null) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    };

    it("test_putProductDocument_firstUploadWins_listsPerGtinInUploadOrder", async function () {
      const bytes = Buffer.alloc(300_000, 9); // larger than a GridFS chunk
      const later = documentOf(gtin, "later", 3_000, bytes);
      const earlier = documentOf(gtin, "earlier", 1_000, Buffer.from("%PDF-1.7 earlier"));
      expect(await store.putProductDocument(later, bytes)).to.deep.equal(later);
      expect(await store.putProductDocument({ ...later, title: "Forged", uploadedAt: 9_000 }, Buffer.from("other"))).to.deep.equal(later);
      await store.putProductDocument(earlier, Buffer.from("%PDF-1.7 earlier"));
      await store.putProductDocument(documentOf("08712345000011", "later", 500, bytes), bytes);
      expect(await store.listProductDocuments(gtin)).to.deep.equal([earlier, later]);
      expect(await store.getProductDocument(gtin, later.contentHash)).to.deep.equal(later);
      expect(await bytesOf(await store.openProductDocumentContent(gtin, later.contentHash))).to.deep.equal(bytes);
      expect(await store.getProductDocument("08412345000119", later.contentHash)).to.equal(null);
      expect(await store.openProductDocumentContent("08412345000119", later.contentHash)).to.equal(null);
      expect(await store.listProductDocuments("08412345000119")).to.deep.equal([]);
      // A product document is no batch document, even under the same hash.
      expect(await store.findBatchDocumentsByHash(later.contentHash)).to.deep.equal([]);
    });

    it("test_putProductDocument_race_allSeeOneWinner", async function () {
      const content = Buffer.from("same manual");
      const results = await Promise.all(
        [1, 2, 3].map((at) => store.putProductDocument({ ...documentOf(gtin, "race", at, content), title: `upload ${at}` }, content)),
      );
      const [stored] = await store.listProductDocuments(gtin);
      for (const result of results) expect(result).to.deep.equal(stored);
    });
  });

  describe("document anchors", function () {
    const contentHash = bytes32("anchored document");
    const anchorAt = (blockNumber: number, subject: DocumentAnchorRecord["subject"], chainId = CHAIN_ID, hash = contentHash) => ({
      eventId: chainEventId(chainId, blockNumber, 2),
      chainId,
      blockNumber,
      transactionHash: transactionHash(chainId, blockNumber, 2),
      contentHash: hash,
      subject,
      anchoredBy: address("lab"),
      anchoredAt: 1_767_225_600 + blockNumber * 12,
    });
    const commitOf = (from: number, to: number, documentAnchors: DocumentAnchorRecord[], chainId = CHAIN_ID) => {
      const blocks = Array.from({ length: to - from + 1 }, (_, offset) => indexedBlock(chainId, from + offset));
      const last = blocks[blocks.length - 1]!;
      return {
        chainId,
        events: [],
        blocks,
        batches: [],
        participants: [],
        orders: [],
        documentAnchors,
        checkpoint: { chainId, blockNumber: last.number, blockHash: last.hash, updatedAt: 1_767_225_600_000 + to },
      };
    };

    it("test_commitRange_documentAnchors_listedByHashInChainOrder_replayChangesNothing", async function () {
      const batch = anchorAt(3, { kind: "batch", batchId: bytes32("batch:x") });
      const product = anchorAt(5, { kind: "product", gtin: "08412345000102" });
      const other = anchorAt(4, { kind: "batch", batchId: bytes32("batch:x") }, CHAIN_ID, bytes32("other document"));
      await store.commitRange(commitOf(1, 5, [product, batch, other]));
      await store.commitRange(commitOf(1, 5, [{ ...product, anchoredBy: address("bolt") }]));
      expect(await store.listDocumentAnchors(contentHash)).to.deep.equal([batch, product]);
      expect(await store.listDocumentAnchors(bytes32("never anchored"))).to.deep.equal([]);
    });

    it("test_rollback_removesDocumentAnchorsAboveFork_keepsAtAndBelowAndOtherChains", async function () {
      const subject = { kind: "batch" as const, batchId: bytes32("batch:x") };
      const kept = anchorAt(6, subject);
      const gone = anchorAt(7, subject);
      const otherChain = anchorAt(9, subject, OTHER_CHAIN_ID);
      await store.commitRange(commitOf(1, 8, [kept, gone]));
      await store.commitRange(commitOf(1, 9, [otherChain], OTHER_CHAIN_ID));
      const forkHeader = indexedBlock(CHAIN_ID, 6);
      await store.rollback({
        chainId: CHAIN_ID,
        forkBlock: 6,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        checkpoint: { chainId: CHAIN_ID, blockNumber: 6, blockHash: forkHeader.hash, updatedAt: 1_767_225_700_000 },
      });
      expect(await store.listDocumentAnchors(contentHash)).to.have.deep.members([kept, otherChain]);
      expect(await store.listDocumentAnchors(contentHash)).to.have.length(2);
    });
  });

  describe("order read grants", function () {
    const grant = (seller: string, financier: string, grantedAt: number, expiresAt = 10_000) => ({
      seller: address(seller),
      financier: address(financier),
      grantedAt,
      expiresAt,
      revokedAt: null,
    });

    it("test_putOrderReadGrant_listsBySellerOrFinancier_inGrantOrder", async function () {
      const toBank = grant("seller-a", "bank", 2_000);
      const toFactor = grant("seller-a", "factor", 1_000);
      const otherSeller = grant("seller-b", "bank", 1_500);
      for (const item of [toBank, toFactor, otherSeller]) await store.putOrderReadGrant(item);
      expect(await store.listOrderReadGrants({ seller: address("seller-a") })).to.deep.equal([toFactor, toBank]);
      expect(await store.listOrderReadGrants({ financier: address("bank") })).to.deep.equal([otherSeller, toBank]);
      expect(await store.listOrderReadGrants({ seller: address("seller-a"), financier: address("bank") })).to.deep.equal([toBank]);
      expect(await store.listOrderReadGrants({ seller: address("nobody") })).to.deep.equal([]);
    });

    it("test_putOrderReadGrant_replacesThePairsGrant_andActiveAtLeavesOutRevokedAndExpired", async function () {
      const first = grant("seller-c", "bank-c", 1_000, 5_000);
      await store.putOrderReadGrant(first);
      const revoked = { ...first, revokedAt: 3_000 };
      await store.putOrderReadGrant(revoked);
      expect(await store.listOrderReadGrants({ seller: address("seller-c") })).to.deep.equal([revoked]);
      expect(await store.listOrderReadGrants({ seller: address("seller-c"), activeAt: 2_000 })).to.deep.equal([]);
      const renewed = grant("seller-c", "bank-c", 4_000, 6_000);
      await store.putOrderReadGrant(renewed);
      expect(await store.listOrderReadGrants({ financier: address("bank-c"), activeAt: 5_999 })).to.deep.equal([renewed]);
      expect(await store.listOrderReadGrants({ financier: address("bank-c"), activeAt: 6_000 })).to.deep.equal([]);
    });

    it("test_orderReadGrants_badInput_throws", async function () {
      let failure: unknown = null;
      try {
        await store.listOrderReadGrants({});
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(TypeError);
      failure = null;
      try {
        await store.putOrderReadGrant({ ...grant("seller-d", "bank-d", 1), expiresAt: Number.NaN });
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(TypeError);
    });
  });

  describe("design records", function () {
    const root = bytes32("design:root");
    const gtin = "08412345000102";
    const registration = (registrant: string, blockNumber: number, chainId = CHAIN_ID): DesignRegistration => ({
      eventId: chainEventId(chainId, blockNumber, 0),
      chainId,
      blockNumber,
      transactionHash: transactionHash(chainId, blockNumber, 0),
      registrant: address(registrant),
      root,
      registeredAt: 1_767_225_600 + blockNumber * 12,
      title: `Design by ${registrant}`,
      licence: "CC-BY-4.0",
      licenceHash: bytes32("licence"),
    });
    const linkChange = (blockNumber: number, linked: boolean): DesignLinkChange => ({
      eventId: chainEventId(CHAIN_ID, blockNumber, 1),
      chainId: CHAIN_ID,
      blockNumber,
      transactionHash: transactionHash(CHAIN_ID, blockNumber, 1),
      gtin,
      registrant: address("designer"),
      root,
      linked,
      by: address("manufacturer"),
      at: 1_767_225_600 + blockNumber * 12,
    });
    /** A range commit of blocks `from`..`to` carrying only design records. */
    const designCommit = (
      from: number,
      to: number,
      records: { designRegistrations?: DesignRegistration[]; designLinkChanges?: DesignLinkChange[] },
      chainId = CHAIN_ID,
    ) => {
      const blocks = Array.from({ length: to - from + 1 }, (_, offset) => indexedBlock(chainId, from + offset));
      const last = blocks[blocks.length - 1]!;
      return {
        chainId,
        events: [],
        blocks,
        batches: [],
        participants: [],
        orders: [],
        ...records,
        checkpoint: { chainId, blockNumber: last.number, blockHash: last.hash, updatedAt: 1_767_225_600_000 + to },
      };
    };

    it("test_commitRange_designRegistrations_listedByRootInChainOrder_replayChangesNothing", async function () {
      const copier = registration("copier", 3);
      const owner = registration("owner", 5);
      const commit = designCommit(1, 5, { designRegistrations: [owner, copier, { ...registration("other", 4), root: bytes32("x") }] });
      await store.commitRange(commit);
      await store.commitRange(commit);
      await store.commitRange(designCommit(1, 5, { designRegistrations: [{ ...owner, title: "rewritten" }] }));
      expect(await store.listDesignRegistrations(root)).to.deep.equal([copier, owner]);
      expect(await store.listDesignRegistrations(bytes32("design:unknown"))).to.deep.equal([]);
    });

    it("test_commitRange_designLinkChanges_listedByGtinInChainOrder", async function () {
      const changes = [linkChange(2, true), linkChange(4, false), linkChange(6, true)];
      await store.commitRange(designCommit(1, 4, { designLinkChanges: changes.slice(0, 2) }));
      await store.commitRange(designCommit(5, 6, { designLinkChanges: changes.slice(2) }));
      expect(await store.listDesignLinkChanges(gtin)).to.deep.equal(changes);
      expect(await store.listDesignLinkChanges("08712345000011")).to.deep.equal([]);
    });

    it("test_rollback_removesDesignRecordsAboveFork_keepsAtAndBelowAndOtherChains", async function () {
      const kept = registration("owner", 3);
      const gone = registration("copier", 7);
      const otherChain = registration("owner", 9, OTHER_CHAIN_ID);
      await store.commitRange(
        designCommit(1, 8, { designRegistrations: [kept, gone], designLinkChanges: [linkChange(6, true), linkChange(7, false)] }),
      );
      await store.commitRange(designCommit(1, 9, { designRegistrations: [otherChain] }, OTHER_CHAIN_ID));
      const forkHeader = indexedBlock(CHAIN_ID, 6);
      await store.rollback({
        chainId: CHAIN_ID,
        forkBlock: 6,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        checkpoint: { chainId: CHAIN_ID, blockNumber: 6, blockHash: forkHeader.hash, updatedAt: 1_767_225_700_000 },
      });
      // Ids of one chain sort in chain order; across chains the order is only the ids' order.
      expect(await store.listDesignRegistrations(root)).to.have.deep.members([kept, otherChain]);
      expect(await store.listDesignRegistrations(root)).to.have.length(2);
      expect(await store.listDesignLinkChanges(gtin)).to.deep.equal([linkChange(6, true)]);
    });
  });

  describe("sign-in nonces", function () {
    const later = () => Date.now() + 10 * 60_000;

    it("test_consumeSignInNonce_firstSpendOnly", async function () {
      expect(await store.consumeSignInNonce("nonce-one", later())).to.equal(true);
      expect(await store.consumeSignInNonce("nonce-one", later())).to.equal(false);
      expect(await store.consumeSignInNonce("nonce-two", later())).to.equal(true);
    });

    it("test_consumeSignInNonce_race_exactlyOneWins", async function () {
      const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeSignInNonce("nonce-raced", later())));
      expect(results.filter(Boolean)).to.have.length(1);
    });

    it("test_consumeSignInNonce_expiredRowsDoNotBlockOthers", async function () {
      expect(await store.consumeSignInNonce("nonce-past", Date.now() - 1_000)).to.equal(true);
      expect(await store.consumeSignInNonce("nonce-fresh", later())).to.equal(true);
      expect(await store.consumeSignInNonce("nonce-fresh", later())).to.equal(false);
    });

    it("test_consumeSignInNonce_badInput_throwsAndSpendsNothing", async function () {
      let thrown: unknown = null;
      try {
        await store.consumeSignInNonce("", later());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(TypeError);
      expect(await store.consumeSignInNonce("nonce-after-bad", later())).to.equal(true);
    });
  });

  describe("cold chain projections", function () {
    const blocks = coldChainScenarioEvents();
    const commitThrough = async (lastBlock: number) => {
      for (const events of blocks) if (events[0]!.blockNumber <= lastBlock) await commitColdChainBlock(store, events);
    };
    const coldDump = async () => ({
      devices: await store.getColdChainDevices([DEVICE]),
      legs: await store.listColdChainLegs({}),
      batchConditions: await store.getBatchConditions([BATCH]),
      productConditions: await store.getProductConditions([GTIN]),
      anchors: await store.listReadingsAnchors(LEG),
      breaches: await store.listColdChainBreaches({}),
    });

    it("test_commitRange_coldChain_latestVersionsAndFacts", async function () {
      await commitThrough(13);
      const [device] = await store.getColdChainDevices([DEVICE, DEVICE, address("nobody")]);
      expect(device).to.include({ address: DEVICE, carrier: CARRIER, retired: false, currentLegId: null });
      const [leg] = await store.getColdChainLegs([LEG]);
      expect(leg).to.include({ legId: LEG, device: DEVICE, batchId: BATCH, carrier: CARRIER, attachedAt: ATTACHED_AT, breached: true });
      expect(leg!.detachedAt).to.equal(ATTACHED_AT + 4_000);
      expect(leg!.excursionSeconds).to.equal(2_280);
      expect(await store.listColdChainLegs({ batchId: BATCH })).to.deep.equal([leg]);
      expect(await store.listColdChainLegs({ device: DEVICE, batchId: BATCH })).to.deep.equal([leg]);
      expect(await store.listColdChainLegs({ batchId: bytes32("batch:other") })).to.deep.equal([]);
      const [conditions] = await store.getBatchConditions([BATCH]);
      expect(conditions!.own).to.deep.equal(FRIDGE);
      expect(conditions!.frozen).to.deep.equal(FRIDGE);
      expect((await store.getProductConditions([GTIN]))[0]!.conditions.maxTemperature).to.equal(500);
      const anchors = await store.listReadingsAnchors(LEG);
      expect(anchors.map((anchor) => [anchor.root, anchor.firstSequence, anchor.lastSequence, anchor.count])).to.deep.equal([
        [ROOT, 1, 10, 10],
      ]);
      const breaches = await store.listColdChainBreaches({ batchId: BATCH });
      expect(breaches.map((breach) => [breach.legId, breach.carrier, breach.cumulativeSeconds])).to.deep.equal([[LEG, CARRIER, 2_280]]);
      expect(await store.listColdChainBreaches({ legId: LEG })).to.deep.equal(breaches);
    });

    it("test_commitRange_coldChain_replayChangesNothing", async function () {
      await commitThrough(13);
      const before = await coldDump();
      // Replaying a block re-projects against the newer stored state: the events are already applied.
      for (const events of blocks) await commitColdChainBlock(store, events);
      expect(await coldDump()).to.deep.equal(before);
    });

    it("test_rollback_coldChain_restoresTheVersionsAtTheFork_andDropsLaterFacts", async function () {
      await commitThrough(11);
      const atFork = await coldDump();
      expect(atFork.devices[0]!.currentLegId).to.equal(LEG);
      await commitThrough(13);
      await store.rollback(coldChainRollback(11));
      expect(await coldDump()).to.deep.equal(atFork);
      // The indexer carries on from the fork on the new chain.
      for (const events of blocks.slice(2)) await commitColdChainBlock(store, events);
      expect((await store.getColdChainLegs([LEG]))[0]!.breached).to.equal(true);
    });

    it("test_rollback_coldChain_belowRegistration_forgetsTheDevice", async function () {
      await commitThrough(13);
      await store.rollback(coldChainRollback(9));
      expect(await store.getColdChainDevices([DEVICE])).to.deep.equal([]);
      expect(await store.listColdChainLegs({})).to.deep.equal([]);
      expect(await store.listColdChainBreaches({})).to.deep.equal([]);
    });
  });

  describe("readings", function () {
    const legA = bytes32("leg:a");
    const legB = bytes32("leg:b");
    const reading = (device: Hex, sequence: number, timestamp: number, legId = legA, batchId = BATCH): StoredReading => ({
      device,
      batchId,
      sequence,
      timestamp,
      temperature: 450,
      humidity: NO_HUMIDITY,
      latitude: NO_POSITION,
      longitude: NO_POSITION,
      signature: `0x${"11".repeat(65)}` as Hex,
      legId,
      receivedAt: 1_000 + sequence,
    });
    const rejected = (reason: RejectedReading["reason"], receivedAt: number): RejectedReading => ({
      reason,
      detail: `because ${reason}`,
      device: DEVICE,
      sequence: 7,
      source: "mqtt",
      receivedAt,
      payload: "{}",
    });
    const deviceB = address("device-b");

    it("test_storeReadings_listsByBatchInTimeOrder_andByLegInSequenceOrder", async function () {
      const written = [
        reading(DEVICE, 1, 100),
        reading(deviceB, 1, 100, legB),
        reading(DEVICE, 2, 160),
        reading(deviceB, 2, 130, legB),
        reading(DEVICE, 3, 220),
        reading(address("device-c"), 1, 100, bytes32("leg:c"), bytes32("batch:other")),
      ];
      expect(await store.storeReadings(written, [])).to.deep.equal({ duplicates: [] });
      const byBatch = await readAllPages((page) => store.listReadings({ batchId: BATCH }, page), 2);
      const sortedDevices = [DEVICE, deviceB].sort();
      expect(byBatch.items.map((item) => [item.timestamp, item.device, item.sequence])).to.deep.equal([
        [100, sortedDevices[0], 1],
        [100, sortedDevices[1], 1],
        [130, deviceB, 2],
        [160, DEVICE, 2],
        [220, DEVICE, 3],
      ]);
      expect(byBatch.pages).to.equal(3);
      expect(byBatch.items.find((item) => item.device === DEVICE && item.sequence === 2)).to.deep.equal(written[2]);
      const byLeg = await readAllPages((page) => store.listReadings({ legId: legA }, page), 2);
      expect(byLeg.items.map((item) => item.sequence)).to.deep.equal([1, 2, 3]);
      expect(await store.countReadings({ batchId: BATCH })).to.equal(5);
      expect(await store.countReadings({ legId: legB })).to.equal(2);
      expect([...(await store.lastReadingSequences([DEVICE, deviceB, address("silent")]))].sort()).to.deep.equal(
        [
          [DEVICE, 3],
          [deviceB, 2],
        ].sort(),
      );
    });

    it("test_storeReadings_sameDeviceAndSequence_secondIsADuplicate_firstStays", async function () {
      const first = reading(DEVICE, 5, 100);
      await store.storeReadings([first], []);
      const replay = { ...first, temperature: -300, receivedAt: 9_999 };
      const result = await store.storeReadings([replay, reading(DEVICE, 6, 110)], []);
      expect(result.duplicates).to.deep.equal([replay]);
      expect(await store.hasReading(DEVICE, 5)).to.equal(true);
      expect(await store.hasReading(DEVICE, 4)).to.equal(false);
      const stored = await store.listReadings({ legId: legA }, all);
      expect(stored.items).to.deep.equal([first, reading(DEVICE, 6, 110)]);
    });

    it("test_storeReadings_rejected_keptWithReason_andCounted", async function () {
      await store.storeReadings([], [rejected("bad-signature", 1), rejected("replay", 2), rejected("bad-signature", 3)]);
      await store.storeReadings([reading(DEVICE, 1, 1)], [rejected("malformed", 4)]);
      expect(await store.rejectionCounts()).to.deep.equal({ "bad-signature": 2, malformed: 1, replay: 1 });
      const listed = await readAllPages((page) => store.listRejectedReadings({}, page), 3);
      expect(listed.items.map((item) => [item.reason, item.receivedAt])).to.deep.equal([
        ["bad-signature", 1],
        ["replay", 2],
        ["bad-signature", 3],
        ["malformed", 4],
      ]);
      const { id, ...first } = listed.items[0]!;
      expect(id).to.be.a("string");
      expect(first).to.deep.equal(rejected("bad-signature", 1));
      const badSignatures = await store.listRejectedReadings({ reason: "bad-signature" }, all);
      expect(badSignatures.items.map((item) => item.receivedAt)).to.deep.equal([1, 3]);
    });

    it("test_listLegReadingRange_bothEndsIncluded_inSequenceOrder_upToLimit", async function () {
      await store.storeReadings(
        [reading(DEVICE, 4, 40), reading(DEVICE, 1, 10), reading(DEVICE, 2, 20), reading(DEVICE, 3, 30), reading(deviceB, 2, 20, legB)],
        [],
      );
      expect((await store.listLegReadingRange(legA, 2, 3, 100)).map((item) => item.sequence)).to.deep.equal([2, 3]);
      expect((await store.listLegReadingRange(legA, 0, Number.MAX_SAFE_INTEGER, 3)).map((item) => item.sequence)).to.deep.equal([1, 2, 3]);
      expect(await store.listLegReadingRange(legA, 2, 2, 1)).to.deep.equal([reading(DEVICE, 2, 20)]);
      expect(await store.listLegReadingRange(legA, 5, 9, 10)).to.deep.equal([]);
      expect(await store.listLegReadingRange(legB, 0, 10, 10)).to.deep.equal([reading(deviceB, 2, 20, legB)]);
      for (const bad of [
        () => store.listLegReadingRange(legA, -1, 3, 10),
        () => store.listLegReadingRange(legA, 1, 3, 0),
        () => store.listLegReadingRange(legA, 1.5, 3, 10),
      ]) {
        const failure = await bad().then(
          () => null,
          (error: unknown) => error,
        );
        expect(failure).to.be.instanceOf(TypeError);
      }
    });

    it("test_putReadingsAnchorPlan_firstOfALegAndRootStays_listedByFirstSequence", async function () {
      const plan = (root: string, firstSequence: number, legId = legA) => ({
        legId,
        root: bytes32(root),
        count: 3,
        firstSequence,
        lastSequence: firstSequence + 2,
        fromTime: 100,
        toTime: 200,
        jobId: `anchor:${firstSequence}`,
        plannedAt: 1_000,
      });
      await store.putReadingsAnchorPlan(plan("root:later", 4));
      await store.putReadingsAnchorPlan(plan("root:first", 1));
      await store.putReadingsAnchorPlan({ ...plan("root:first", 1), jobId: "anchor:again", plannedAt: 2_000 });
      await store.putReadingsAnchorPlan(plan("root:first", 1, legB));
      expect(await store.listReadingsAnchorPlans(legA)).to.deep.equal([plan("root:first", 1), plan("root:later", 4)]);
      expect(await store.listReadingsAnchorPlans(legB)).to.deep.equal([plan("root:first", 1, legB)]);
      expect(await store.listReadingsAnchorPlans(bytes32("leg:none"))).to.deep.equal([]);
    });

    it("test_listReadings_badCursorOrLimit_isInvalidInput", async function () {
      await expectBadRequest(() => store.listReadings({ batchId: BATCH }, { limit: 0 }));
      await expectBadRequest(() => store.listReadings({ batchId: BATCH }, { limit: 10, cursor: "garbage" }));
      const legCursor = Buffer.from(JSON.stringify(["legReadings", "1"])).toString("base64url");
      await expectBadRequest(() => store.listReadings({ batchId: BATCH }, { limit: 10, cursor: legCursor }));
      const notANumber = Buffer.from(JSON.stringify(["legReadings", "1e3"])).toString("base64url");
      await expectBadRequest(() => store.listReadings({ legId: legA }, { limit: 10, cursor: notANumber }));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
