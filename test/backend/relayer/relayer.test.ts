import { expect } from "chai";
import request from "supertest";
import { ZeroAddress, id as keccakText } from "ethers";
import type { Provider } from "ethers";
import { buildSerialTree, makeSerials } from "../../helpers/serials.ts";
import { glnFrom, gtinFrom } from "../../helpers/gs1.ts";
import { createRelayerFixture, type RelayerFixture } from "./relayer-fixture.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";

const SHIPPING = 0; // IProvenanceRegistry.BusinessStep.Shipping
const LOCATION = glnFrom("871234500099");

/** Registers a batch as the manufacturer (directly, paying its own gas); returns its id. */
async function registerBatch(fx: RelayerFixture, lot: string): Promise<string> {
  const { registry, manufacturer } = fx.deployment;
  const gtin = gtinFrom("0841234567890"); // under the demo manufacturer's company prefix 8412345;
  const tree = buildSerialTree(makeSerials(4));
  const latest = await fx.provider.getBlock("latest");
  await (
    await registry
      .connect(manufacturer)
      .registerBatch(gtin, lot, 4n, latest!.timestamp - 86_400, glnFrom("841234500001"), keccakText("doc"), tree.root)
  ).wait();
  return registry.batchIdOf(gtin, lot);
}

/** Runs worker rounds until `done` holds (the in-process chain mines each transaction at once). */
async function runUntil(worker: { tick(): Promise<void> }, done: () => Promise<boolean>, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await worker.tick();
    if (await done()) return;
  }
  throw new Error(`condition not reached after ${rounds} relayer rounds`);
}

async function relayerTransactionCount(provider: Provider, address: string): Promise<number> {
  return provider.getTransactionCount(address, "latest");
}

describe("relayer", function () {
  let fx: RelayerFixture;
  let batchId: string;
  let lotCounter = 0;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    batchId = await registerBatch(fx, `LOT-${++lotCounter}`);
  });

  afterEach(async function () {
    await fx.store.close();
    await fx.connection.close();
  });

  function proposeToCarrierData(): string {
    return fx.deployment.registry.interface.encodeFunctionData("proposeHandoff", [
      batchId,
      fx.deployment.carrier.address,
      LOCATION,
      SHIPPING,
    ]);
  }

  describe("when a participant posts a valid signed request", function () {
    it("test_accept_storesBeforeAnswering202_thenRelayerMinesIt", async function () {
      const { manufacturer } = fx.deployment;
      const manufacturerTransactions = await fx.provider.getTransactionCount(manufacturer.address);
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      expect(response.body.id).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.status).to.equal("queued");
      expect(response.headers.location).to.equal(`/api/v1/relay/requests/${response.body.id}`);
      expect(response.headers["x-content-type-options"]).to.equal("nosniff"); // security headers from the app

      const stored = await fx.store.getRelay(response.body.id);
      expect(stored?.status).to.equal("queued");

      const worker = fx.worker();
      await runUntil(worker, async () => (await fx.store.getRelay(response.body.id))?.status === "mined");
      const [, , pendingCustodian, status] = await fx.deployment.registry.batch(batchId);
      expect(pendingCustodian).to.equal(fx.deployment.carrier.address);
      expect(status).to.equal(2n); // InTransit
      expect(await fx.deployment.forwarder.nonces(manufacturer.address)).to.equal(1n);

      const view = await request(fx.app).get(`/api/v1/relay/requests/${response.body.id}`).expect(200);
      expect(view.body).to.include({ status: "mined", kind: "partner", error: null, attempts: 1 });
      expect(view.body.function).to.equal("proposeHandoff(bytes32,address,uint64,uint8)");
      expect(view.body.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(view.body.blockNumber).to.be.a("number");
      const receipt = await fx.provider.getTransactionReceipt(view.body.transactionHash);
      expect(receipt?.from.toLowerCase()).to.equal(fx.relayerWallet.address.toLowerCase());
      // The partner paid nothing: the relayer's account sent the transaction.
      expect(await fx.provider.getTransactionCount(manufacturer.address)).to.equal(manufacturerTransactions);
    });

    it("test_accept_resubmittedSameRequest_returnsSameIdAndStoresOnce", async function () {
      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData());
      const first = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      const second = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(200);
      expect(second.body.id).to.equal(first.body.id);
      expect(await fx.store.listRelays(["queued", "submitted", "mined", "failed"], 100)).to.have.length(1);

      await runUntil(fx.worker(), async () => (await fx.store.getRelay(first.body.id))?.status === "mined");
      // Even after it was mined, the same signed request is answered with its record, not refused or re-sent.
      const third = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(200);
      expect(third.body).to.include({ id: first.body.id, status: "mined" });
    });

    it("test_accept_requestsFollowingQueuedOnes_areSubmittedInNonceOrder", async function () {
      const { manufacturer, registry } = fx.deployment;
      const propose = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData(), { nonce: 0n });
      const cancel = await fx.signedRequest(manufacturer, "registry", registry.interface.encodeFunctionData("cancelHandoff", [batchId]), {
        nonce: 1n,
      });
      const proposeAgain = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData(), { nonce: 2n });
      // Posted out of order is refused (nothing is queued for nonce 1 yet), then accepted in order.
      const gap = await request(fx.app).post("/api/v1/relay/requests").send(cancel).expect(409);
      expect(gap.body.code).to.equal("NONCE_GAP");
      const ids: string[] = [];
      for (const body of [propose, cancel, proposeAgain])
        ids.push((await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202)).body.id);
      const nonces = await request(fx.app).get(`/api/v1/relay/nonces/${manufacturer.address}`).expect(200);
      expect(nonces.body).to.include({ nonce: "0", next: "3", pending: 3 });

      await runUntil(fx.worker(), async () =>
        (await Promise.all(ids.map((id) => fx.store.getRelay(id)))).every((r) => r?.status === "mined"),
      );
      expect(await fx.deployment.forwarder.nonces(manufacturer.address)).to.equal(3n);
      const blocks = await Promise.all(ids.map(async (id) => (await fx.store.getRelay(id))!.relayerNonce!));
      expect(blocks).to.deep.equal([...blocks].sort((a, b) => a - b));
    });
  });

  describe("when a request must be refused", function () {
    it("test_accept_replayedRequestAlreadyExecutedElsewhere_isRefusedWithNonceUsed", async function () {
      const { manufacturer, forwarder, outsider } = fx.deployment;
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      // Someone else relays it directly first; posting it afterwards is a replay of a used nonce.
      await (
        await forwarder.connect(outsider).execute({ ...body, value: 0n, gas: BigInt(body.gas), deadline: BigInt(body.deadline) })
      ).wait();
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(409);
      expect(response.body.code).to.equal("NONCE_USED");
      expect(response.body.detail).to.contain("nonce 0").and.contain("already used");
      expect(await fx.store.listRelays(["queued"], 10)).to.have.length(0);
    });

    it("test_accept_otherRequestReusingAMinedNonce_isRefused", async function () {
      const { manufacturer, registry } = fx.deployment;
      const first = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const { body } = await request(fx.app).post("/api/v1/relay/requests").send(first).expect(202);
      await runUntil(fx.worker(), async () => (await fx.store.getRelay(body.id))?.status === "mined");
      const replay = await fx.signedRequest(manufacturer, "registry", registry.interface.encodeFunctionData("cancelHandoff", [batchId]), {
        nonce: 0n,
      });
      const response = await request(fx.app).post("/api/v1/relay/requests").send(replay).expect(409);
      expect(response.body).to.include({ code: "NONCE_USED", expectedNonce: "1" });
    });

    it("test_accept_twoRequestsRacingForOneNonce_onlyOneIsAccepted", async function () {
      const { manufacturer, registry } = fx.deployment;
      const propose = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData(), { nonce: 0n });
      const other = await fx.signedRequest(
        manufacturer,
        "registry",
        registry.interface.encodeFunctionData("recallBatch", [batchId, keccakText("x")]),
        { nonce: 0n },
      );
      const responses = await Promise.all([propose, other].map((body) => request(fx.app).post("/api/v1/relay/requests").send(body)));
      expect(responses.map((r) => r.status).sort()).to.deep.equal([202, 409]);
      expect(responses.find((r) => r.status === 409)!.body.code).to.equal("NONCE_PENDING");
      expect(await fx.store.listRelays(["queued"], 10)).to.have.length(1);
    });

    it("test_accept_wrongSigner_isRefused", async function () {
      const { manufacturer, outsider } = fx.deployment;
      // The outsider signs a request claiming to come from the manufacturer.
      const body = await fx.signedRequest(outsider, "registry", proposeToCarrierData(), { from: manufacturer.address, nonce: 0n });
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(422);
      expect(response.body.code).to.equal("WRONG_SIGNER");
      expect(response.body.detail).to.contain(`signed by ${outsider.address.toLowerCase()}`);
      expect(response.headers["content-type"]).to.contain("application/problem+json");
    });

    it("test_accept_expiredRequest_isRefused", async function () {
      const latest = await fx.provider.getBlock("latest");
      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData(), {
        deadline: latest!.timestamp - 1,
      });
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(422);
      expect(response.body.code).to.equal("REQUEST_EXPIRED");
      expect(response.body.detail).to.contain("expired at");
    });

    it("test_accept_companyPrefixGrantByANonAdmin_isRefused", async function () {
      const { registry, manufacturer } = fx.deployment;
      // A manufacturer cannot have the relayer pay for granting itself someone else's GS1 company prefix.
      for (const data of [
        registry.interface.encodeFunctionData("grantCompanyPrefix", [manufacturer.address, 5012345n, 7]),
        registry.interface.encodeFunctionData("revokeCompanyPrefix", [8412345n, 7]),
      ]) {
        const body = await fx.signedRequest(manufacturer, "registry", data);
        const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(403);
        expect(response.body.code).to.equal("NOT_ADMIN");
      }
      expect(await fx.store.listRelays(["queued"], 10)).to.have.length(0);
    });

    it("test_accept_suspendedParticipant_isRefused", async function () {
      const { registry, admin, manufacturer } = fx.deployment;
      await (await registry.connect(admin).suspendParticipant(manufacturer.address, keccakText("audit"))).wait();
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(403);
      expect(response.body.code).to.equal("PARTICIPANT_SUSPENDED");
      expect(response.body.detail).to.contain("suspended");
    });

    it("test_accept_nonParticipantOrMissingRole_isRefused", async function () {
      const { registry, outsider, carrier } = fx.deployment;
      const outsiderBody = await fx.signedRequest(outsider, "registry", registry.interface.encodeFunctionData("cancelHandoff", [batchId]));
      expect((await request(fx.app).post("/api/v1/relay/requests").send(outsiderBody).expect(403)).body.code).to.equal("NOT_A_PARTICIPANT");
      const attest = await fx.signedRequest(
        carrier,
        "registry",
        registry.interface.encodeFunctionData("attestQuality", [batchId, true, keccakText("r")]),
      );
      const response = await request(fx.app).post("/api/v1/relay/requests").send(attest).expect(403);
      expect(response.body.code).to.equal("MISSING_ROLE");
      expect(response.body.detail).to.contain("INSPECTOR");
    });

    it("test_accept_callThatWouldRevert_isRefusedWithTheDecodedReason", async function () {
      const { registry, carrier } = fx.deployment;
      // The carrier is not the custodian, so it cannot propose a handoff.
      const data = registry.interface.encodeFunctionData("proposeHandoff", [batchId, fx.deployment.warehouse.address, LOCATION, SHIPPING]);
      const body = await fx.signedRequest(carrier, "registry", data);
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(422);
      expect(response.body).to.include({ code: "SIMULATION_REVERTED", error: "BatchNotCustodian" });
      expect(response.body.detail).to.contain(`${carrier.address.toLowerCase()} is not the custodian of batch ${batchId}`);
    });

    it("test_accept_openOrderWithoutTheSellersConsentOrInADustToken_isRefusedBeforeTheRelayerPaysGas", async function () {
      const { escrow, admin, manufacturer, carrier, retailer } = fx.deployment;
      const token = await fx.ethers.deployContract("MockStablecoin");
      await (await token.mint(retailer.address, 1_000n)).wait();
      await (await token.connect(retailer).approve(escrow!, 1_000n)).wait();
      const latest = await fx.provider.getBlock("latest");
      const order = {
        buyer: retailer.address,
        seller: manufacturer.address,
        carrier: carrier.address,
        token: await token.getAddress(),
        amount: 1_000n,
        batchId,
        sellerBps: 8_900,
        carrierBps: 1_000,
        platformBps: 100,
        deliveryDeadline: latest!.timestamp + 86_400,
        disputeWindow: 3_600,
        inspector: ZeroAddress,
        fallbackBuyerBps: 5_000,
        salt: keccakText("relayed order"),
        breachTerms: 0,
      };
      const sentBefore = await relayerTransactionCount(fx.provider, fx.relayerWallet.address);
      const relay = async (signature: string) => {
        const data = escrow!.interface.encodeFunctionData("openOrder", [order, signature]);
        return request(fx.app)
          .post("/api/v1/relay/requests")
          .send(await fx.signedRequest(retailer, "escrow", data));
      };

      // The seller consents, but the token is not on the allowlist.
      const consent = await signOrderConsentOn(escrow!, manufacturer, order);
      const dust = await relay(consent);
      expect(dust.status).to.equal(422);
      expect(dust.body).to.include({ code: "SIMULATION_REVERTED", error: "EscrowTokenNotAllowed" });
      await (await escrow!.connect(admin).setTokenAllowed(token, true)).wait();
      // The buyer signs the seller's consent itself: refused, with the reason.
      const forged = await relay(await signOrderConsentOn(escrow!, retailer, order));
      expect(forged.status).to.equal(422);
      expect(forged.body).to.include({ code: "SIMULATION_REVERTED", error: "EscrowInvalidSellerConsent" });
      expect(forged.body.detail).to.contain("has not signed its consent");
      expect(await relayerTransactionCount(fx.provider, fx.relayerWallet.address)).to.equal(sentBefore);
      // Allowlisted by the admin and consented by the seller, the order is accepted.
      expect((await relay(consent)).status).to.equal(202);
    });

    it("test_accept_openOrderNamingAPartyOrANonInspectorAsInspector_isRefusedWithTheEscrowsSentence", async function () {
      const { escrow, admin, manufacturer, carrier, retailer, inspector, outsider } = fx.deployment;
      const token = await fx.ethers.deployContract("MockStablecoin");
      await (await escrow!.connect(admin).setTokenAllowed(token, true)).wait();
      await (await token.mint(retailer.address, 2_000n)).wait();
      await (await token.connect(retailer).approve(escrow!, 2_000n)).wait();
      const latest = await fx.provider.getBlock("latest");
      const tokenAddress = await token.getAddress();
      const orderOn = (batch: string, inspectorAddress: string) => ({
        buyer: retailer.address,
        seller: manufacturer.address,
        carrier: carrier.address,
        token: tokenAddress,
        amount: 1_000n,
        batchId: batch,
        sellerBps: 8_900,
        carrierBps: 1_000,
        platformBps: 100,
        deliveryDeadline: latest!.timestamp + 86_400,
        disputeWindow: 3_600,
        inspector: inspectorAddress,
        fallbackBuyerBps: 5_000,
        salt: keccakText(`inspected ${batch} ${inspectorAddress}`),
        breachTerms: 0,
      });
      const openData = async (order: ReturnType<typeof orderOn>) =>
        escrow!.interface.encodeFunctionData("openOrder", [order, await signOrderConsentOn(escrow!, manufacturer, order)]);
      const relay = async (order: ReturnType<typeof orderOn>, nonce?: bigint) =>
        request(fx.app)
          .post("/api/v1/relay/requests")
          .send(await fx.signedRequest(retailer, "escrow", await openData(order), nonce === undefined ? {} : { nonce }));
      const sentBefore = await relayerTransactionCount(fx.provider, fx.relayerWallet.address);

      // The carrier is paid by the outcome: it cannot be the order's inspector (nor can the buyer or the seller).
      for (const party of [carrier, retailer, manufacturer]) {
        const refused = await relay(orderOn(batchId, party.address));
        expect(refused.status).to.equal(422);
        expect(refused.body).to.include({ code: "INVALID_INSPECTOR", error: "EscrowInvalidParty" });
        expect(refused.body.detail).to.equal(
          `the call would revert: EscrowInvalidParty: ${party.address.toLowerCase()} cannot take this part in the order (not the zero address or the escrow itself, a seller other than the buyer, and an inspector that is none of the buyer, seller and carrier)`,
        );
      }
      // An account that is no inspector at all.
      const stranger = await relay(orderOn(batchId, outsider.address));
      expect(stranger.body).to.include({ code: "INVALID_INSPECTOR", error: "EscrowInvalidInspector" });
      expect(stranger.body.detail).to.contain(`${outsider.address.toLowerCase()} is not an active inspector`);
      expect(await fx.store.listRelays(["queued"], 10)).to.have.length(0);

      // A valid order first; one queued behind it is not simulated yet, but its inspector is still checked.
      const valid = await relay(orderOn(batchId, inspector.address), 0n);
      expect(valid.status).to.equal(202);
      const secondBatch = await registerBatch(fx, `LOT-${++lotCounter}`);
      const behind = await relay(orderOn(secondBatch, carrier.address), 1n);
      expect(behind.status).to.equal(422);
      expect(behind.body).to.include({ code: "INVALID_INSPECTOR", error: "EscrowInvalidParty" });
      expect(await fx.store.listRelays(["queued"], 10)).to.have.length(1);
      expect(await relayerTransactionCount(fx.provider, fx.relayerWallet.address)).to.equal(sentBefore);
    });

    it("test_accept_tooLittleGas_isRefused", async function () {
      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData(), { gas: 5_000n });
      const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(422);
      expect(response.body.code).to.equal("GAS_TOO_LOW");
    });

    it("test_accept_untrustedTargetValueOrMalformedBody_isRefused", async function () {
      const { manufacturer, outsider } = fx.deployment;
      const elsewhere = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData(), { to: outsider.address });
      expect((await request(fx.app).post("/api/v1/relay/requests").send(elsewhere).expect(422)).body.code).to.equal("UNTRUSTED_TARGET");
      const paying = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData(), { value: 1n });
      expect((await request(fx.app).post("/api/v1/relay/requests").send(paying).expect(422)).body.code).to.equal("VALUE_NOT_RELAYED");
      const malformed = await request(fx.app)
        .post("/api/v1/relay/requests")
        .send({ from: "0x12", to: manufacturer.address, value: "-1", gas: "1", nonce: "0", deadline: 1, data: "0x", signature: "0x00" })
        .expect(400);
      const fields = malformed.body.errors.map((e: { path: string }) => e.path);
      expect(fields).to.include.members(["from", "value", "data", "signature"]);
      await request(fx.app)
        .post("/api/v1/relay/requests")
        .set("content-type", "application/json")
        .send(`{"from":"${"a".repeat(200_000)}"}`)
        .expect(413);
      await request(fx.app).get("/api/v1/relay/requests/0x1234").expect(400);
      await request(fx.app)
        .get(`/api/v1/relay/requests/0x${"ab".repeat(32)}`)
        .expect(404);
    });
  });

  describe("when the relayer is killed and restarted", function () {
    it("test_worker_killedBetweenAcceptingAndSubmitting_landsExactlyOnceAfterRestart", async function () {
      const { manufacturer } = fx.deployment;
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);

      // First process: signs, records the transaction, and dies before it reaches the node.
      const crashingChain = { ...fx.chain, provider: withFailingBroadcast(fx.provider) };
      const first = fx.worker({ chain: crashingChain, holder: "process-1", leaseTtlMs: 200 });
      await first.tick();
      const afterCrash = await fx.store.getRelay(accepted.id);
      expect(afterCrash?.status).to.equal("submitted");
      expect(await fx.deployment.forwarder.nonces(manufacturer.address)).to.equal(0n);
      const relayerNonceBefore = await relayerTransactionCount(fx.provider, fx.relayerWallet.address);

      // Second process: the dead one's lease runs out; the new holder finds the unsent transaction and sends it.
      const second = fx.worker({ holder: "process-2", leaseTtlMs: 200 });
      await second.tick();
      expect((await fx.store.getRelay(accepted.id))?.status).to.equal("submitted"); // lease still held by process-1
      await new Promise((resolve) => setTimeout(resolve, 250));
      await runUntil(second, async () => (await fx.store.getRelay(accepted.id))?.status === "mined");

      const final = (await fx.store.getRelay(accepted.id))!;
      expect(final.relayerNonce).to.equal(afterCrash!.relayerNonce);
      expect(await fx.deployment.forwarder.nonces(manufacturer.address)).to.equal(1n);
      expect(await relayerTransactionCount(fx.provider, fx.relayerWallet.address)).to.equal(relayerNonceBefore + 1);
      const proposals = await fx.deployment.registry.queryFilter(fx.deployment.registry.filters.HandoffProposed(batchId));
      expect(proposals).to.have.length(1);
      // More rounds change nothing.
      await second.tick();
      await second.tick();
      expect(await relayerTransactionCount(fx.provider, fx.relayerWallet.address)).to.equal(relayerNonceBefore + 1);
      await second.stop();
    });

    it("test_worker_killedAfterBroadcastBeforeRecording_recordsTheMinedTransactionWithoutResending", async function () {
      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      const first = fx.worker({ holder: "process-1", leaseTtlMs: 100 });
      await first.tick(); // sends (the chain mines it at once) and "dies" before settling
      const sent = (await fx.store.getRelay(accepted.id))!;
      expect(sent.status).to.equal("submitted");
      const count = await relayerTransactionCount(fx.provider, fx.relayerWallet.address);

      await new Promise((resolve) => setTimeout(resolve, 150));
      const second = fx.worker({ holder: "process-2", leaseTtlMs: 100 });
      await runUntil(second, async () => (await fx.store.getRelay(accepted.id))?.status === "mined");
      expect((await fx.store.getRelay(accepted.id))!.transactionHash).to.equal(sent.transactionHash);
      expect(await relayerTransactionCount(fx.provider, fx.relayerWallet.address)).to.equal(count);
    });

    it("test_worker_stuckTransaction_isReplacedWithAHigherFeeAndTheSameNonce", async function () {
      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      await fx.connection.provider.request({ method: "evm_setAutomine", params: [false] });
      try {
        const worker = fx.worker({ stuckAfterMs: 0 });
        await worker.tick(); // submitted, sits in the mempool
        const first = (await fx.store.getRelay(accepted.id))!;
        expect(first.status).to.equal("submitted");
        await worker.tick(); // stuck: replaced with a bumped fee
        const replaced = (await fx.store.getRelay(accepted.id))!;
        expect(replaced.relayerNonce).to.equal(first.relayerNonce);
        expect(replaced.transactionHash).to.not.equal(first.transactionHash);
        expect(replaced.attempts).to.equal(2);
        const [firstMaxFee] = first.gasPrice!.split("/").map(BigInt);
        const [secondMaxFee] = replaced.gasPrice!.split("/").map(BigInt);
        expect(secondMaxFee > (firstMaxFee * 110n) / 100n).to.equal(true);

        await fx.connection.provider.request({ method: "evm_mine", params: [] });
        await runUntil(worker, async () => (await fx.store.getRelay(accepted.id))?.status === "mined");
        const mined = (await fx.store.getRelay(accepted.id))!;
        expect(mined.transactionHash).to.equal(replaced.transactionHash);
        expect(await fx.deployment.forwarder.nonces(fx.deployment.manufacturer.address)).to.equal(1n);
      } finally {
        await fx.connection.provider.request({ method: "evm_setAutomine", params: [true] });
      }
    });

    it("test_worker_requestThatStartsFailingBeforeSubmission_isFailedWithTheReason", async function () {
      const { manufacturer, registry, admin } = fx.deployment;
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      // Between acceptance and submission the manufacturer is suspended.
      await (await registry.connect(admin).suspendParticipant(manufacturer.address, keccakText("audit"))).wait();
      await fx.worker().tick();
      const failed = (await fx.store.getRelay(accepted.id))!;
      expect(failed.status).to.equal("failed");
      expect(failed.transactionHash).to.equal(null);
      expect(failed.error).to.contain("suspended");
      const view = await request(fx.app).get(`/api/v1/relay/requests/${accepted.id}`).expect(200);
      expect(view.body.error).to.contain("suspended");
    });
  });

  describe("when another instance took the lease over", function () {
    it("test_worker_leaseTakenOverByAnotherInstance_submitsNothing", async function () {
      const first = fx.worker({ holder: "process-1", leaseTtlMs: 100 });
      await first.tick(); // holds the lease, nothing queued yet
      await new Promise((resolve) => setTimeout(resolve, 150));
      const second = fx.worker({ holder: "process-2", leaseTtlMs: 60_000 });
      await second.tick(); // the first stalled past its lease: the second takes over

      const body = await fx.signedRequest(fx.deployment.manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      await first.tick();
      expect((await fx.store.getRelay(accepted.id))?.status).to.equal("queued");
      await runUntil(second, async () => (await fx.store.getRelay(accepted.id))?.status === "mined");
      await first.stop();
      await second.stop();
    });
  });

  describe("when a submitted request reverts on chain", function () {
    it("test_worker_requestRevertedInItsBlock_isFailedWithTheDecodedReason", async function () {
      const { manufacturer, registry, admin } = fx.deployment;
      const body = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const { body: accepted } = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
      await fx.connection.provider.request({ method: "evm_setAutomine", params: [false] });
      try {
        const worker = fx.worker();
        await worker.tick(); // simulated fine, sent, waiting in the mempool
        expect((await fx.store.getRelay(accepted.id))?.status).to.equal("submitted");
        // The admin's suspension outbids it into the same block, so the relayed call reverts there.
        const fee = await fx.provider.getFeeData();
        await registry.connect(admin).suspendParticipant(manufacturer.address, keccakText("audit"), {
          // The same added gwei on both keeps the cap above the tip however low the base fee has fallen.
          maxFeePerGas: fee.maxFeePerGas! * 3n + 1_000_000_000n,
          maxPriorityFeePerGas: fee.maxPriorityFeePerGas! * 3n + 1_000_000_000n,
        });
        await fx.connection.provider.request({ method: "evm_mine", params: [] });
        await runUntil(worker, async () => (await fx.store.getRelay(accepted.id))?.status === "failed");
      } finally {
        await fx.connection.provider.request({ method: "evm_setAutomine", params: [true] });
      }
      const failed = (await fx.store.getRelay(accepted.id))!;
      const receipt = await fx.provider.getTransactionReceipt(failed.transactionHash!);
      expect(receipt?.status).to.equal(0);
      expect(failed.blockNumber).to.equal(receipt!.blockNumber);
      expect(failed.error).to.match(/^reverted on chain: ParticipantIsSuspended: participant 0x[0-9a-f]{40} is suspended/);
      const view = await request(fx.app).get(`/api/v1/relay/requests/${accepted.id}`).expect(200);
      expect(view.body).to.include({ status: "failed", transactionHash: failed.transactionHash });
    });
  });

  describe("when the node refuses a transaction", function () {
    it("test_worker_transactionTheNodeNeverTakes_isFailedWithTheReasonAndDoesNotBlockTheQueue", async function () {
      const { manufacturer, carrier, registry } = fx.deployment;
      const poisoned = await fx.signedRequest(manufacturer, "registry", proposeToCarrierData());
      const { body: first } = await request(fx.app).post("/api/v1/relay/requests").send(poisoned).expect(202);
      // Another signer's request, queued behind the first.
      const otherBatch = await registerBatch(fx, `LOT-OTHER-${lotCounter}`);
      await (await registry.connect(manufacturer).proposeHandoff(otherBatch, carrier.address, LOCATION, SHIPPING)).wait();
      const acceptData = registry.interface.encodeFunctionData("acceptHandoff", [otherBatch, LOCATION, 1]);
      const { body: second } = await request(fx.app)
        .post("/api/v1/relay/requests")
        .send(await fx.signedRequest(carrier, "registry", acceptData))
        .expect(202);

      // The node refuses the first request's transaction for good (e.g. its gas limit is above the block's).
      const carriesPoisoned = (raw: string) => raw.toLowerCase().includes(poisoned.signature.slice(2).toLowerCase());
      const refusingChain = { ...fx.chain, provider: withRefusedBroadcast(fx.provider, carriesPoisoned, "exceeds block gas limit") };
      const worker = fx.worker({ chain: refusingChain });
      await runUntil(worker, async () => (await fx.store.getRelay(second.id))?.status === "mined", 5);

      const failed = (await fx.store.getRelay(first.id))!;
      expect(failed.status).to.equal("failed");
      expect(failed.error).to.contain("exceeds block gas limit");
      expect(failed.transactionHash).to.equal(null);
      const [, custodian] = await registry.batch(otherBatch);
      expect(custodian).to.equal(carrier.address);
      // The refused transaction's nonce was reused, not skipped: the relayer's account has no gap.
      expect((await fx.store.getRelay(second.id))!.relayerNonce).to.equal(0);
    });
  });

  it("test_signingInfo_describesTheDomainPartnersSign", async function () {
    const { body } = await request(fx.app).get("/api/v1/relay/forwarder").expect(200);
    expect(body.domain).to.deep.equal({
      name: "ProvenaForwarder",
      version: "1",
      chainId: fx.chain.chainId,
      verifyingContract: fx.chain.addresses.forwarder,
    });
    expect(body.primaryType).to.equal("ForwardRequest");
    expect(body.relayer).to.equal(fx.relayerWallet.address.toLowerCase());
    expect(body.types.ForwardRequest.map((f: { name: string }) => f.name)).to.deep.equal([
      "from",
      "to",
      "value",
      "gas",
      "nonce",
      "deadline",
      "data",
    ]);
  });
});

/** A provider whose broadcasts never reach the node: the process "dies" right after persisting. */
function withFailingBroadcast(provider: Provider): Provider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      if (property === "broadcastTransaction") {
        return async () => {
          throw new Error("process killed before the transaction left");
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A provider whose node refuses, with `reason`, every transaction `refuses` picks, and takes the rest. */
function withRefusedBroadcast(provider: Provider, refuses: (raw: string) => boolean, reason: string): Provider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      if (property === "broadcastTransaction") {
        return async (raw: string) => {
          if (refuses(raw)) throw Object.assign(new Error("could not coalesce error"), { shortMessage: reason, code: "UNKNOWN_ERROR" });
          return target.broadcastTransaction(raw);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
