import { expect } from "chai";
import request from "supertest";
import { ZeroAddress, id as keccakText } from "ethers";
import { excursionJobId } from "../../../backend/coldchain/breach-submitter.ts";
import { readingStruct } from "../../../backend/coldchain/reading-codec.ts";
import { BREACH_TERMS, HOUR, ORDER_AMOUNT, createBreachFixture, type BreachFixture } from "./breach-fixture.ts";

const WARM = 1_200; // 12 °C
const COLD = 450; // 4.5 °C

describe("breach submitter and escrow settlement", function () {
  let t: BreachFixture;

  beforeEach(async function () {
    t = await createBreachFixture();
  });
  afterEach(async function () {
    await t.close();
  });

  /** 30 minutes in range, `warmMinutes + 1` warm readings (that many minutes out of range), then 20 in range. */
  async function ingestLeg(leg: Awaited<ReturnType<BreachFixture["refrigeratedLeg"]>>, warmMinutes: number) {
    await t.advance(4 * HOUR);
    await t.mirrorCaughtUp(); // the leg must be in the mirror for its readings to be accepted
    const readings = [];
    let minute = 1;
    for (let i = 0; i < 30; i++) readings.push(leg.device.sign(leg.at(minute++, COLD)));
    for (let i = 0; i <= warmMinutes; i++) readings.push(leg.device.sign(leg.at(minute++, WARM)));
    for (let i = 0; i < 20; i++) readings.push(leg.device.sign(leg.at(minute++, COLD)));
    await t.postReadings(readings);
    return readings;
  }

  /**
   * The carrier hands the goods to the buyer; after the dispute window the keeper releases the order (through the
   * relayer, so no party pays gas for it). Returns each balance's change over the release: buyer, seller, carrier, escrow.
   */
  async function deliverAndLetTheKeeperRelease(leg: Awaited<ReturnType<BreachFixture["refrigeratedLeg"]>>) {
    const { carrier, retailer } = t.fx.deployment;
    await t.handoff(leg.batchId, carrier, retailer);
    await t.advance(24 * HOUR + 1);
    await t.mirrorCaughtUp();
    const before = await balances();
    const round = await t.keeper.tick();
    expect(round.queued.map((queued) => queued.action)).to.deep.equal(["release"]);
    await t.relayAll();
    const after = await balances();
    return after.map((balance, i) => balance - before[i]!);
  }

  async function balances() {
    const { manufacturer, carrier, retailer } = t.fx.deployment;
    const escrow = await t.fx.deployment.escrow!.getAddress();
    return Promise.all(
      [retailer, manufacturer, carrier].map((s) => t.fx.provider.getBalance(s.address)).concat(t.fx.provider.getBalance(escrow)),
    );
  }

  it("test_breachSubmitter_warmRunIngestedOverHttp_establishesTheBreach_andReleasePaysTheFreightToTheBuyer", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await ingestLeg(leg, 49); // 49 minutes warm: over the 30 allowed

    const submitter = t.submitter();
    const round = await submitter.tick();
    // 50 warm readings (sequences 31..80) in pieces of at most 20 sharing their boundaries.
    expect(round.queued.map((piece) => [piece.firstSequence, piece.lastSequence])).to.deep.equal([
      [31, 50],
      [50, 69],
      [69, 80],
    ]);
    expect(round.refused).to.deep.equal([]);
    expect(round.queued[0]!.jobId).to.equal(excursionJobId(t.chain.chainId, leg.legId, 31, 50));
    // Again, and a second instance: the same pieces are the same jobs.
    expect((await submitter.tick()).queued).to.deep.equal([]);
    expect((await t.submitter().tick()).queued).to.deep.equal([]);

    await t.relayAll();
    for (const piece of round.queued) expect(await t.fx.store.getRelay(piece.jobId)).to.include({ status: "mined", kind: "excursion" });
    const onChain = await t.coldChain.leg(leg.legId);
    expect(onChain.breached).to.equal(true);
    expect(onChain.excursionSeconds).to.equal(49n * 60n);
    expect((await t.submitter().tick()).queued).to.deep.equal([]); // nothing left to send

    // The mirror and the API show the breach with its transaction.
    await t.mirrorCaughtUp();
    const view = await request(t.app).get(`/api/v1/batches/${leg.batchId}/cold-chain`).expect(200);
    expect(view.body.breaches).to.have.length(1);
    // Established by the second piece, at the cumulative excursion then (38 minutes).
    expect(view.body.breaches[0]).to.include({ legId: leg.legId, cumulativeSeconds: 38 * 60 });
    const mined = await t.fx.store.getRelay(round.queued[1]!.jobId);
    expect(view.body.breaches[0].at.transactionHash).to.equal(mined!.transactionHash);
    const legView = await request(t.app).get(`/api/v1/legs/${leg.legId}`).expect(200);
    expect(legView.body).to.deep.include({ legId: leg.legId, breached: true, excursionSeconds: 49 * 60, breach: view.body.breaches[0] });
    await request(t.app)
      .get(`/api/v1/legs/0x${"00".repeat(32)}`)
      .expect(404);

    const [buyer, seller, carrier, escrow] = await deliverAndLetTheKeeperRelease(leg);
    expect({ buyer, seller, carrier }).to.deep.equal({ buyer: 1_000_000n, seller: 8_900_000n, carrier: 0n });
    // Funds conserved: what left the escrow is what the parties got, the platform's share stays credited in it.
    expect(-escrow).to.equal(buyer + seller);
    expect(await t.fx.deployment.escrow!.creditOf(t.fx.deployment.platform.address, ZeroAddress)).to.equal(100_000n);
    expect(-escrow + 100_000n).to.equal(ORDER_AMOUNT);
  });

  it("test_breachSubmitter_breachOnARejectGoodsOrder_refundsTheBuyerInFull", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.rejectGoods);
    await ingestLeg(leg, 40);
    expect((await t.submitter().tick()).queued).to.have.length(3);
    await t.relayAll();
    expect((await t.coldChain.leg(leg.legId)).breached).to.equal(true);

    const [buyer, seller, carrier, escrow] = await deliverAndLetTheKeeperRelease(leg);
    expect({ buyer, seller, carrier, escrow }).to.deep.equal({ buyer: ORDER_AMOUNT, seller: 0n, carrier: 0n, escrow: -ORDER_AMOUNT });
  });

  it("test_breachSubmitter_legKeptInRange_sendsNothing_andReleasePaysTheCarrier", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await ingestLeg(leg, 0); // one warm reading: no interval out of range
    const relayerNonce = await t.fx.provider.getTransactionCount(t.relayerAddress);
    const sequencesRead: number[] = [];
    const store = {
      ...t.fx.store,
      listRelays: t.fx.store.listRelays.bind(t.fx.store),
      getRelay: t.fx.store.getRelay.bind(t.fx.store),
      enqueueRelay: t.fx.store.enqueueRelay.bind(t.fx.store),
      updateRelay: t.fx.store.updateRelay.bind(t.fx.store),
      listColdChainLegs: t.fx.store.listColdChainLegs.bind(t.fx.store),
      async listReadings(...args: Parameters<typeof t.fx.store.listReadings>) {
        const page = await t.fx.store.listReadings(...args);
        sequencesRead.push(...page.items.map((reading) => reading.sequence));
        return page;
      },
    };
    const submitter = t.submitter({ store });
    const round = await submitter.tick();
    expect(round).to.deep.include({ queued: [], refused: [] });
    expect(sequencesRead).to.have.length(51);
    // Settled readings are not read again; new ones are.
    await t.postReadings([leg.device.sign(leg.at(52, COLD))]);
    expect((await submitter.tick()).queued).to.deep.equal([]);
    expect(sequencesRead.slice(51)).to.deep.equal([52]);
    expect(await t.fx.provider.getTransactionCount(t.relayerAddress)).to.equal(relayerNonce);

    const [buyer, seller, carrier] = await deliverAndLetTheKeeperRelease(leg);
    expect({ buyer, seller, carrier }).to.deep.equal({ buyer: 0n, seller: 8_900_000n, carrier: 1_000_000n });
  });

  it("test_breachSubmitter_excursionWithinTheAllowance_isStillCounted_andTheCarrierPaid", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await ingestLeg(leg, 10);
    expect((await t.submitter().tick()).queued.map((piece) => [piece.firstSequence, piece.lastSequence])).to.deep.equal([[31, 41]]);
    await t.relayAll();
    const onChain = await t.coldChain.leg(leg.legId);
    expect({ breached: onChain.breached, seconds: onChain.excursionSeconds }).to.deep.equal({ breached: false, seconds: 600n });
    const [, , carrier] = await deliverAndLetTheKeeperRelease(leg);
    expect(carrier).to.equal(1_000_000n);
  });

  it("test_breachSubmitter_dustSubmittedFirstByAStranger_isSkipped_andTheCountEndsTheSame", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    const readings = await ingestLeg(leg, 49);
    // A stranger sends two tiny pieces of the same run straight to the contract, in the middle of future pieces.
    const { outsider } = t.fx.deployment;
    for (const [from, to] of [
      [44, 46],
      [60, 61],
    ] as const) {
      const dust = readings.slice(from - 1, to);
      await (
        await t.coldChain.connect(outsider).submitExcursion(
          leg.legId,
          dust.map(readingStruct),
          dust.map((reading) => reading.signature),
        )
      ).wait();
    }
    const round = await t.submitter().tick();
    expect(round.refused).to.deep.equal([]);
    expect(round.queued.map((piece) => [piece.firstSequence, piece.lastSequence])).to.deep.equal([
      [31, 44],
      [46, 60],
      [61, 80],
    ]);
    await t.relayAll();
    for (const piece of round.queued) expect((await t.fx.store.getRelay(piece.jobId))?.status).to.equal("mined");
    const onChain = await t.coldChain.leg(leg.legId);
    expect({ breached: onChain.breached, seconds: onChain.excursionSeconds }).to.deep.equal({ breached: true, seconds: 49n * 60n });
  });

  it("test_breachSubmitter_junkInACompromisedMirror_isNeverQueued_andCostsNoGas", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await ingestLeg(leg, 0);
    // The store is tampered with: a warm run the device never signed (a genuine reading with its temperature
    // raised, then readings carrying another reading's signature), written past the verifier.
    const genuine = leg.device.sign(leg.at(60, COLD));
    const raised = { ...genuine, temperature: WARM, legId: leg.legId, receivedAt: Date.now() };
    const forged = Array.from({ length: 5 }, (_, i) => ({
      ...leg.device.sign(leg.at(61 + i, WARM)),
      signature: genuine.signature,
      legId: leg.legId,
      receivedAt: Date.now(),
    }));
    const ended = { ...leg.device.sign(leg.at(70, COLD)), legId: leg.legId, receivedAt: Date.now() };
    await t.fx.store.storeReadings([raised, ...forged, ended], []);
    const nonce = await t.fx.provider.getTransactionCount(t.relayerAddress);
    const submitter = t.submitter();
    const round = await submitter.tick();
    expect(round.queued).to.deep.equal([]);
    expect(round.refused).to.have.length(1);
    expect(round.refused[0]).to.include({ legId: leg.legId, firstSequence: genuine.sequence, lastSequence: genuine.sequence + 5 });
    expect(round.refused[0]!.reason).to.match(/EvidenceBadSignature/);
    expect(await t.fx.store.listRelays(["queued", "submitted", "mined", "failed"], 10)).to.deep.equal([]);
    expect(await t.fx.provider.getTransactionCount(t.relayerAddress)).to.equal(nonce);
    expect((await submitter.tick()).queued).to.deep.equal([]); // and it stays refused
  });

  it("test_breachSubmitter_suspendedCarrier_nothingSentWhileSuspended_evidenceGoesOnceReinstated", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await ingestLeg(leg, 49);
    const { registry, admin, carrier } = t.fx.deployment;
    await (await registry.connect(admin).suspendParticipant(carrier.address, keccakText("keys leaked"))).wait();
    const submitter = t.submitter();
    const suspended = await submitter.tick();
    expect(suspended.queued).to.deep.equal([]);
    expect(suspended.refused.map((piece) => piece.reason)).to.have.length(3);
    expect(suspended.refused[0]!.reason).to.match(/DeviceCarrierInactive/);
    expect(await t.fx.store.listRelays(["queued"], 10)).to.deep.equal([]);

    await (await registry.connect(admin).reinstateParticipant(carrier.address)).wait();
    expect((await submitter.tick()).queued).to.have.length(3);
    await t.relayAll();
    expect((await t.coldChain.leg(leg.legId)).breached).to.equal(true);
  });

  it("test_breachSubmitter_ongoingRun_waitsForAFullPiece_unlessItEstablishesTheBreach", async function () {
    const leg = await t.refrigeratedLeg(BREACH_TERMS.refundFreight);
    await t.advance(4 * HOUR);
    await t.mirrorCaughtUp();
    const post = (from: number, count: number, temperature: number) =>
      t.postReadings(Array.from({ length: count }, (_, i) => leg.device.sign(leg.at(from + i, temperature))));
    await post(1, 5, COLD);
    await post(6, 10, WARM); // 9 minutes warm so far, the run still going
    const submitter = t.submitter();
    expect((await submitter.tick()).queued).to.deep.equal([]);
    await post(16, 25, WARM); // 34 minutes: sending it now establishes the breach
    const round = await submitter.tick();
    expect(round.queued.map((piece) => [piece.firstSequence, piece.lastSequence])).to.deep.equal([
      [6, 25],
      [25, 40],
    ]);
    await post(41, 3, WARM);
    // A restarted submitter sees the pending jobs (in the relay queue): they establish the breach, so the new
    // readings wait, and nothing already queued is queued again.
    expect((await t.submitter().tick()).queued).to.deep.equal([]);
    await t.relayAll();
    expect((await t.coldChain.leg(leg.legId)).breached).to.equal(true);
    await post(44, 2, WARM); // still warm: breached already, so it waits for the run to end
    expect((await submitter.tick()).queued).to.deep.equal([]);
    await post(46, 1, COLD);
    expect((await submitter.tick()).queued.map((piece) => [piece.firstSequence, piece.lastSequence])).to.deep.equal([[40, 45]]);
  });
});
