import { expect } from "chai";
import { ZeroAddress, id as keccakText } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import { candidateActions, createKeeper, keeperJobId } from "../../../backend/keeper/keeper.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { glnFrom, gtinFrom } from "../../helpers/gs1.ts";
import { buildSerialTree, makeSerials } from "../../helpers/serials.ts";
import { createRelayerFixture, silentLogger, type RelayerFixture } from "../relayer/relayer-fixture.ts";

const SHIPPING = 0;
const RECEIVING = 1;
const HOUR = 3600;
const LOCATION = glnFrom("871234500099");

describe("keeper", function () {
  let fx: RelayerFixture;
  let indexer: Indexer;
  let lotCounter = 0;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    const deployBlock = 0;
    indexer = createIndexer({
      provider: fx.provider,
      deployment: { chainId: fx.chain.chainId, ...fx.chain.addresses, deployBlock },
      store: fx.store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "keeper-test" },
      logger: silentLogger,
    });
    indexer.start();
  });

  afterEach(async function () {
    await indexer.stop();
    await fx.store.close();
    await fx.connection.close();
  });

  async function mirrorCaughtUp(): Promise<void> {
    await indexer.waitForBlock(await fx.provider.getBlockNumber(), { timeoutMs: 10_000 });
  }

  /** A registered batch with an ETH order on it, opened and funded by the retailer; it names the inspector unless told. */
  async function openOrder(options: { deliveryInSeconds?: number; disputeWindow?: number; inspector?: string } = {}) {
    const { registry, escrow, manufacturer, carrier, retailer, inspector } = fx.deployment;
    const gtin = gtinFrom("0841234567890"); // under the demo manufacturer's company prefix 8412345
    const lot = `K-${++lotCounter}`;
    const latest = await fx.provider.getBlock("latest");
    const tree = buildSerialTree(makeSerials(2));
    await (
      await registry
        .connect(manufacturer)
        .registerBatch(gtin, lot, 2n, latest!.timestamp - 86_400, glnFrom("841234500001"), keccakText("doc"), tree.root)
    ).wait();
    const batchId = await registry.batchIdOf(gtin, lot);
    const order = {
      buyer: retailer.address,
      seller: manufacturer.address,
      carrier: carrier.address,
      token: ZeroAddress,
      amount: 10_000_000n,
      batchId,
      sellerBps: 8_900,
      carrierBps: 1_000,
      platformBps: 100,
      deliveryDeadline: latest!.timestamp + (options.deliveryInSeconds ?? 7 * 24 * HOUR),
      disputeWindow: options.disputeWindow ?? 24 * HOUR,
      inspector: options.inspector ?? inspector.address,
      fallbackBuyerBps: 5_000,
      salt: keccakText(lot),
      breachTerms: 0,
    };
    const consent = await signOrderConsentOn(escrow!, manufacturer, order);
    await (await escrow!.connect(retailer).openOrder(order, consent, { value: order.amount })).wait();
    const orderId = (await escrow!.orderIdOf(order)).toLowerCase() as Hex;
    return { batchId, order, orderId };
  }

  async function handoff(batchId: string, from: HardhatEthersSigner, to: HardhatEthersSigner): Promise<void> {
    const { registry } = fx.deployment;
    await (await registry.connect(from).proposeHandoff(batchId, to.address, LOCATION, SHIPPING)).wait();
    await (await registry.connect(to).acceptHandoff(batchId, LOCATION, RECEIVING)).wait();
  }

  function keeper(holder = "keeper-1") {
    return createKeeper({
      store: fx.store,
      chain: fx.chain,
      relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      logger: silentLogger.child({ holder }),
    });
  }

  it("test_keeper_releasesADeliveredOrderOnceTheWindowPassed_exactlyOnce", async function () {
    const { escrow, manufacturer, carrier, retailer, inspector, platform, registry } = fx.deployment;
    const { batchId, order, orderId } = await openOrder();
    await handoff(batchId, manufacturer, carrier);
    await handoff(batchId, carrier, retailer);
    await (await registry.connect(inspector).attestQuality(batchId, true, keccakText("report"))).wait();
    await mirrorCaughtUp();
    expect((await fx.store.getOrder(orderId))?.state).to.equal("delivered");

    const first = keeper("keeper-1");
    expect((await first.tick()).queued).to.deep.equal([]); // the buyer's dispute window is still open

    await fx.networkHelpers.time.increase(24 * HOUR + 1);
    const round = await first.tick();
    const jobId = keeperJobId(fx.chain.chainId, orderId, "release");
    expect(round.queued).to.deep.equal([{ orderId, action: "release", jobId }]);
    // Another round, and a second keeper instance, find the job already there.
    expect((await first.tick()).queued).to.deep.equal([]);
    expect((await keeper("keeper-2").tick()).queued).to.deep.equal([]);
    expect(await fx.store.listRelays(["queued"], 10)).to.have.length(1);

    const before = await Promise.all([manufacturer, carrier, platform].map((s) => fx.provider.getBalance(s.address)));
    const worker = fx.worker();
    for (let i = 0; i < 5 && (await fx.store.getRelay(jobId))?.status !== "mined"; i++) await worker.tick();
    const job = (await fx.store.getRelay(jobId))!;
    expect(job).to.include({ status: "mined", kind: "keeper", error: null });
    const [state] = await escrow!.orderState(order);
    expect(state).to.equal(4n); // Released
    const after = await Promise.all([manufacturer, carrier, platform].map((s) => fx.provider.getBalance(s.address)));
    // Seller and carrier are paid; the platform's share is credited to it for withdrawal.
    expect(after.map((balance, i) => balance - before[i])).to.deep.equal([8_900_000n, 1_000_000n, 0n]);
    expect(await escrow!.creditOf(platform.address, ZeroAddress)).to.equal(100_000n);

    await mirrorCaughtUp();
    expect((await fx.store.getOrder(orderId))?.state).to.equal("released");
    expect((await first.tick()).queued).to.deep.equal([]);
    await worker.tick();
    expect(await fx.store.listRelays(["queued", "submitted"], 10)).to.have.length(0);
  });

  it("test_keeper_inspectedOrderPassedOnlyByARivalInspector_isNotReleased", async function () {
    const { escrow, manufacturer, carrier, retailer, inspector, registry, admin, outsider } = fx.deployment;
    // A second, genuine inspector who is not the one the order names.
    await (
      await registry.connect(admin).onboardParticipant(outsider.address, keccakText("INSPECTOR_ROLE"), glnFrom("871234500097"), "Rival Lab")
    ).wait();
    const { batchId, order, orderId } = await openOrder({ disputeWindow: 60 });
    await handoff(batchId, manufacturer, carrier);
    await handoff(batchId, carrier, retailer);
    await (await registry.connect(outsider).attestQuality(batchId, true, keccakText("rival report"))).wait();
    await fx.networkHelpers.time.increase(61);
    await mirrorCaughtUp();
    expect(await fx.store.getOrder(orderId)).to.deep.include({
      state: "delivered",
      inspector: inspector.address.toLowerCase(),
      inspection: "none",
    });
    expect((await fx.store.getBatch(batchId.toLowerCase() as Hex))?.inspection).to.equal("passed"); // the batch's latest, by the rival

    const k = keeper();
    expect((await k.tick()).queued).to.deep.equal([]);
    await expect(escrow!.connect(outsider).release(order)).to.be.revertedWithCustomError(escrow!, "EscrowInspectionNotPassed");

    // The named inspector fails it: still nothing to release. Then it passes it, and the keeper releases.
    await (await registry.connect(inspector).attestQuality(batchId, false, keccakText("first report"))).wait();
    await mirrorCaughtUp();
    expect((await fx.store.getOrder(orderId))?.inspection).to.equal("failed");
    expect((await k.tick()).queued).to.deep.equal([]);
    await (await registry.connect(inspector).attestQuality(batchId, true, keccakText("second report"))).wait();
    await mirrorCaughtUp();
    expect((await fx.store.getOrder(orderId))?.inspection).to.equal("passed");
    expect((await k.tick()).queued.map((q) => q.action)).to.deep.equal(["release"]);
  });

  it("test_candidateActions_deliveredOrderAwaitingItsInspector_leavesReleaseOut", function () {
    const inspector = "0x00000000000000000000000000000000000000aa";
    expect(candidateActions("delivered", { inspector, inspection: "none" })).to.deep.equal([]);
    expect(candidateActions("delivered", { inspector, inspection: "failed" })).to.deep.equal([]);
    expect(candidateActions("delivered", { inspector, inspection: "passed" })).to.deep.equal(["release"]);
    expect(candidateActions("delivered", { inspector: null, inspection: "none" })).to.deep.equal(["release"]);
    // A refund after the deadline and a fallback resolution do not wait for the inspector.
    expect(candidateActions("funded", { inspector, inspection: "none" })).to.deep.equal(["refund"]);
    expect(candidateActions("disputed", { inspector, inspection: "failed" })).to.deep.equal(["resolveExpiredDispute"]);
    expect(candidateActions("released", { inspector: null, inspection: "none" })).to.deep.equal([]);
  });

  it("test_keeper_refundsAnUndeliveredOrderAfterTheDeadline", async function () {
    const { escrow, retailer } = fx.deployment;
    const { order } = await openOrder({ deliveryInSeconds: 2 * HOUR });
    await mirrorCaughtUp();
    const k = keeper();
    expect((await k.tick()).queued).to.deep.equal([]);
    await fx.networkHelpers.time.increase(2 * HOUR + 1);
    const balanceBefore = await fx.provider.getBalance(retailer.address);
    const round = await k.tick();
    expect(round.queued.map((q) => q.action)).to.deep.equal(["refund"]);
    const worker = fx.worker();
    await worker.tick();
    await worker.tick();
    expect((await fx.store.getRelay(round.queued[0].jobId))?.status).to.equal("mined");
    const [state] = await escrow!.orderState(order);
    expect(state).to.equal(5n); // Refunded
    expect((await fx.provider.getBalance(retailer.address)) - balanceBefore).to.equal(10_000_000n);
  });

  it("test_keeper_settlesAnUnresolvedDisputeByTheFallbackRule", async function () {
    const { escrow, manufacturer, carrier, retailer } = fx.deployment;
    const { batchId, order } = await openOrder();
    await handoff(batchId, manufacturer, carrier);
    await handoff(batchId, carrier, retailer);
    await (await escrow!.connect(retailer).dispute(order, keccakText("damaged"))).wait();
    await mirrorCaughtUp();
    const k = keeper();
    expect((await k.tick()).queued).to.deep.equal([]);
    await fx.networkHelpers.time.increase(7 * 24 * HOUR + 1); // the arbitration period of the test deployment
    const round = await k.tick();
    expect(round.queued.map((q) => q.action)).to.deep.equal(["resolveExpiredDispute"]);
    const worker = fx.worker();
    await worker.tick();
    await worker.tick();
    const [state] = await escrow!.orderState(order);
    expect(state).to.equal(6n); // Resolved
  });

  it("test_keeper_failedJobIsRequeuedWhileTheChainStillAllowsTheAction", async function () {
    const { manufacturer, carrier, retailer, registry, inspector } = fx.deployment;
    const { batchId } = await openOrder({ disputeWindow: 60 });
    await handoff(batchId, manufacturer, carrier);
    await handoff(batchId, carrier, retailer);
    await (await registry.connect(inspector).attestQuality(batchId, true, keccakText("report"))).wait();
    await fx.networkHelpers.time.increase(61);
    await mirrorCaughtUp();
    const k = keeper();
    const jobId = (await k.tick()).queued[0].jobId;
    // Simulate a failure that did not change the order (e.g. the node was down when it was sent).
    expect(await fx.store.updateRelay(jobId, "queued", { status: "failed", error: "node unavailable", attempts: 1 })).to.equal(true);
    expect((await k.tick()).queued.map((q) => q.jobId)).to.deep.equal([jobId]);
    expect((await fx.store.getRelay(jobId))?.status).to.equal("queued");
  });
});
