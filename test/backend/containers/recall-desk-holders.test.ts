/**
 * The regulator's recall desk names who holds each affected lot. A packed lot's registry custodian is the
 * LogisticUnits contract and a container handoff does not touch it, so the desk must name the outermost container's
 * custodian instead, and that holder may acknowledge the recall for it.
 */
import { expect } from "chai";
import type { Container, EventRef, Hex } from "../../../backend/domain/model.ts";
import { createRecallDesk } from "../../../backend/recalls/recall-desk.ts";
import { CHAIN_ID, ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore } from "../api/fixtures/test-app.ts";

const GTIN = "09506000134352";
const PALLET = "084123450000001011";

describe("recall desk: holders of packed lots", function () {
  it("test_recallDesk_packedLot_isHeldByTheOutermostContainersCustodian", async function () {
    const history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER");
    const swift = history.onboard("swift", "CARRIER");
    const regulator = history.onboard("regulator", "REGULATOR");
    const units = history.onboard("units", "CARRIER"); // stands for the LogisticUnits contract
    const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "P-1", quantity: 10 });
    history.handOver(root, acme, units);
    history.recall(root, regulator);
    const store = await createMemoryStore();
    await history.mirrorInto(store);

    const desk = createRecallDesk({ store, chainId: CHAIN_ID });
    const viewer = { signedIn: true, address: regulator, roles: ["REGULATOR"] } as never;
    expect((await desk.get(root, viewer)).holders.map((holder) => holder.address)).to.deep.equal([units]);

    const batch = (await store.getBatch(root))!;
    const checkpoint = (await store.getCheckpoint(CHAIN_ID))!;
    const later: EventRef = { ...batch.lastEvent, eventId: `${CHAIN_ID}:999999999999:000000` };
    const pallet: Container = {
      sscc: PALLET,
      creator: acme,
      custodian: swift,
      pendingHandoff: null,
      locationGln: "8712345000202",
      parentSscc: null,
      state: "open",
      batchIds: [root],
      containerSsccs: [],
      recallFlaggedBatchIds: [],
      history: [],
      created: later,
      lastEvent: later,
    };
    await store.commitRange({
      chainId: CHAIN_ID,
      events: [],
      blocks: [],
      batches: [{ ...batch, packedIn: PALLET, lastEvent: later }],
      participants: [],
      orders: [],
      containers: [pallet],
      checkpoint,
    });
    const recall = await desk.get(root, viewer);
    expect(recall.holders.map((holder) => holder.address)).to.deep.equal([swift as Hex]);
    expect(recall.affectedLots[0]!.custodian).to.equal(swift);
    await store.close();
  });
});
