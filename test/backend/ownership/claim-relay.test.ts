/**
 * The claim relay against a contract on Hardhat's in-process chain. The real UnitOwnership is built on another
 * branch; UnitOwnershipDouble (contracts/mocks) makes the same claim checks (claim root, claim-key proof, serial
 * proof, EIP-712 signature, once per unit) with serial roots set by the test instead of read from the registry.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import { DomainError } from "../../../backend/domain/errors.ts";
import { buildClaimTree, unitTokenId } from "../../../backend/chain/unit-claim.ts";
import { OWNERSHIP_CLAIM_JOB } from "../../../backend/ownership/ownership-service.ts";
import { createClaimRelayFixture } from "./claim-relay-fixture.ts";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createRelayerWorker } from "../../../backend/relayer/relayer-worker.ts";
import { silentLogger } from "../relayer/relayer-fixture.ts";
import { syncToHead } from "../../helpers/indexer-sync.ts";
import { createStore } from "../../../backend/store/index.ts";
import { createSerialService } from "../../../backend/passport/serials.ts";

async function expectDomainError(action: Promise<unknown>, kind: string, pattern?: RegExp): Promise<DomainError> {
  try {
    await action;
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    expect((error as DomainError).kind).to.equal(kind);
    if (pattern) expect((error as DomainError).message).to.match(pattern);
    return error as DomainError;
  }
  throw new Error(`expected a ${kind} DomainError`);
}

const SHOPPER = "0x3000000000000000000000000000000000000001";
const OTHER = "0x3000000000000000000000000000000000000002";

describe("ownership claim relay", function () {
  let fixture: Awaited<ReturnType<typeof createClaimRelayFixture>>;

  beforeEach(async function () {
    fixture = await createClaimRelayFixture();
  });
  afterEach(async function () {
    await fixture.store.close();
  });

  it("test_claim_signedWithTheBoxSecret_queuedOnce_andTheRelayersCallMints", async function () {
    const body = await fixture.signedClaim("SN-1", SHOPPER);
    const result = await fixture.service.claim(fixture.claimInput(body));
    expect(result).to.include({
      tokenId: unitTokenId(fixture.batchId, "SN-1").toString(),
      batchId: fixture.batchId,
      recipient: SHOPPER,
      created: true,
    });
    expect(result.job).to.include({
      kind: OWNERSHIP_CLAIM_JOB,
      status: "queued",
      to: fixture.unitOwnership,
      id: fixture.service.claimJobId(result.tokenId),
    });
    expect(await fixture.queuedJobs()).to.have.length(1);
    await fixture.submit(result.job);
    expect(`0x${await fixture.ownerOf(result.tokenId)}`).to.equal(SHOPPER);
  });

  it("test_claim_theRelayerWorkerSubmitsTheJob_andSettlesItMined", async function () {
    const abis = loadProvenaAbis();
    const worker = createRelayerWorker({
      store: fixture.store,
      // The claim job is a direct call: the relayer's Provena contracts play no part in it.
      chain: {
        provider: fixture.provider,
        chainId: fixture.chainId,
        addresses: { forwarder: fixture.unitOwnership, registry: fixture.unitOwnership, escrow: fixture.unitOwnership },
        abis: { forwarder: abis.ProvenaForwarder, registry: abis.ProvenanceRegistry, escrow: abis.TradeEscrow },
      },
      signer: fixture.relayer,
      logger: silentLogger,
      holder: "claim-relay-test",
    });
    const result = await fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-2", SHOPPER)));
    await worker.tick();
    await worker.tick();
    const job = await fixture.store.getRelay(result.job.id);
    expect(job).to.include({ status: "mined", error: null });
    expect(`0x${await fixture.ownerOf(result.tokenId)}`).to.equal(SHOPPER);
    // A replay after mining answers the mined job.
    const replay = await fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-2", SHOPPER)));
    expect(replay).to.include({ created: false });
    expect(replay.job.status).to.equal("mined");
    await worker.stop();
  });

  it("test_claim_recordsTheCountryItCameFrom_notTheAddress", async function () {
    const body = await fixture.signedClaim("SN-3", SHOPPER);
    const queued = await request(fixture.app).post("/api/v1/ownership/claims").set("CF-IPCountry", "DE").send(body).expect(202);
    expect(await fixture.store.getClaimRegion(queued.body.tokenId)).to.deep.include({ tokenId: queued.body.tokenId, region: "DE" });
    // A replay from elsewhere is not a new claim: the record stays.
    await request(fixture.app).post("/api/v1/ownership/claims").set("CF-IPCountry", "US").send(body).expect(200);
    expect((await fixture.store.getClaimRegion(queued.body.tokenId))?.region).to.equal("DE");
  });

  it("test_claim_replayOfTheSameBody_sameJob_nothingNew", async function () {
    const body = await fixture.signedClaim("SN-1", SHOPPER);
    const first = await fixture.service.claim(fixture.claimInput(body));
    const again = await fixture.service.claim(fixture.claimInput(body));
    expect(again.created).to.equal(false);
    expect(again.job).to.deep.equal(first.job);
    const response = await request(fixture.app).post("/api/v1/ownership/claims").send(body).expect(200);
    expect(response.body).to.include({ relayId: first.job.id, status: "queued", tokenId: first.tokenId });
    expect(await fixture.queuedJobs()).to.have.length(1);
  });

  it("test_claim_bogusSignature_refusedBeforeAnythingIsQueued", async function () {
    const wrongKey = await fixture.signedClaim("SN-1", SHOPPER, Wallet.createRandom().privateKey);
    await expectDomainError(fixture.service.claim(fixture.claimInput(wrongKey)), "rejected", /not the unit's claim key/);
    // Another unit's secret does not claim this one either.
    const otherUnitsKey = await fixture.signedClaim("SN-1", SHOPPER, fixture.claimKeys.get("SN-2")!.privateKey);
    await expectDomainError(fixture.service.claim(fixture.claimInput(otherUnitsKey)), "rejected");
    // A signature for one recipient does not mint to another (a copied claim cannot be redirected).
    const signedForShopper = await fixture.signedClaim("SN-1", SHOPPER);
    await expectDomainError(fixture.service.claim({ ...fixture.claimInput(signedForShopper), recipient: OTHER }), "rejected");
    const response = await request(fixture.app).post("/api/v1/ownership/claims").send(wrongKey).expect(422);
    expect(response.body.reason).to.equal("claim-signature-invalid");
    expect(await fixture.queuedJobs()).to.deep.equal([]);
  });

  it("test_claim_unitAlreadyClaimed_409_whetherQueuedMinedOrMintedElsewhere", async function () {
    const first = await fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-1", SHOPPER)));
    await expectDomainError(
      fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-1", OTHER))),
      "conflict",
      /first claim stands/,
    );
    await fixture.submit(first.job);

    // SN-2 is claimed on chain by someone who submitted the call themselves: the simulation sees it.
    const body = await fixture.signedClaim("SN-2", SHOPPER);
    const direct = fixture.double.encodeFunctionData("claim", [
      fixture.batchId,
      "SN-2",
      fixture.claimKeys.get("SN-2")!.address,
      (await createSerialService({ store: fixture.store }).proveSerial(
        (await fixture.store.getBatch(fixture.batchId))!.serialRoot,
        "SN-2",
      ))!.proof,
      fixture.tree.getProof(["SN-2", fixture.claimKeys.get("SN-2")!.address]),
      SHOPPER,
      body.signature,
    ]);
    await (await fixture.deployer.sendTransaction({ to: fixture.unitOwnership, data: direct })).wait();
    const refused = await expectDomainError(fixture.service.claim(fixture.claimInput(body)), "conflict", /UnitAlreadyClaimed/);
    expect(refused.details).to.deep.include({ error: "UnitAlreadyClaimed" });
    await request(fixture.app).post("/api/v1/ownership/claims").send(body).expect(409);
    expect((await fixture.queuedJobs()).map((job) => job.id)).to.deep.equal([first.job.id]);
  });

  it("test_claim_unitOfASplitChildLot_mapsToTheRegisteredBatch", async function () {
    const body = await fixture.signedClaim("SN-3", SHOPPER, undefined, fixture.childId);
    const result = await fixture.service.claim(fixture.claimInput(body));
    expect(result.batchId).to.equal(fixture.batchId);
    expect(result.tokenId).to.equal(unitTokenId(fixture.batchId, "SN-3").toString());
    await fixture.submit(result.job);
    expect(`0x${await fixture.ownerOf(result.tokenId)}`).to.equal(SHOPPER);
    const byGtinLot = { gtin: "04012345000009", lot: "LOT-1-A", serial: "SN-3", recipient: SHOPPER, signature: body.signature };
    const replay = await request(fixture.app).post("/api/v1/ownership/claims").send(byGtinLot).expect(200);
    expect(replay.body.relayId).to.equal(result.job.id);
  });

  it("test_claim_flood_sameUnitConcurrently_oneJob_bogusFloodNone", async function () {
    const body = await fixture.signedClaim("SN-1", SHOPPER);
    const results = await Promise.all(Array.from({ length: 20 }, () => fixture.service.claim(fixture.claimInput(body))));
    expect(results.filter((result) => result.created)).to.have.length(1);
    expect(new Set(results.map((result) => result.job.id)).size).to.equal(1);
    const bogus = await Promise.allSettled(
      Array.from({ length: 20 }, async () =>
        fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-2", SHOPPER, Wallet.createRandom().privateKey))),
      ),
    );
    expect(bogus.every((outcome) => outcome.status === "rejected")).to.equal(true);
    expect(await fixture.queuedJobs()).to.have.length(1);
  });

  it("test_claim_flood_oneClientOverTheWriteLimit_429", async function () {
    const limited = await createClaimRelayFixture({ ratePerMinute: 3 });
    try {
      const body = await limited.signedClaim("SN-1", SHOPPER, Wallet.createRandom().privateKey);
      for (let attempt = 0; attempt < 3; attempt++) await request(limited.app).post("/api/v1/ownership/claims").send(body).expect(422);
      await request(limited.app).post("/api/v1/ownership/claims").send(body).expect(429);
      expect(await limited.queuedJobs()).to.deep.equal([]);
    } finally {
      await limited.store.close();
    }
  });

  it("test_claim_badInput_clearErrors", async function () {
    const body = await fixture.signedClaim("SN-1", SHOPPER);
    await request(fixture.app)
      .post("/api/v1/ownership/claims")
      .send({ ...body, recipient: "0x0000000000000000000000000000000000000000" })
      .expect(400);
    await request(fixture.app)
      .post("/api/v1/ownership/claims")
      .send({ ...body, signature: "0x1234" })
      .expect(400);
    await request(fixture.app)
      .post("/api/v1/ownership/claims")
      .send({ serial: "SN-1", recipient: SHOPPER, signature: body.signature })
      .expect(400);
    await request(fixture.app)
      .post("/api/v1/ownership/claims")
      .send({ ...body, serial: "SN-404" })
      .expect(404);
    await request(fixture.app)
      .post("/api/v1/ownership/claims")
      .send({ ...body, batchId: "0x" + "99".repeat(32) })
      .expect(404);
    await request(fixture.app).post("/api/v1/ownership/claims").set("Content-Type", "text/plain").send("x").expect(415);
    expect(await fixture.queuedJobs()).to.deep.equal([]);
  });
});

describe("ownership claim trees", function () {
  it("test_claim_beforeTheTreeIsUploaded_orWithoutAClaimRoot_409", async function () {
    const fixture = await createClaimRelayFixture({ uploadTree: false });
    try {
      const body = await fixture.signedClaim("SN-1", SHOPPER);
      await expectDomainError(fixture.service.claim(fixture.claimInput(body)), "conflict", /claim tree .* is not uploaded/);
      await fixture.service.uploadClaimTree(fixture.batchId, fixture.tree.dump());
      await fixture.store.rollback({
        chainId: fixture.chainId,
        forkBlock: 0,
        batches: [],
        participants: [],
        orders: [],
        deleteBatchIds: [],
        deleteParticipantAddresses: [],
        deleteOrderIds: [],
        deleteClaimRootBatchIds: [fixture.batchId],
        checkpoint: { chainId: fixture.chainId, blockNumber: 0, blockHash: null, updatedAt: 2 },
      });
      await expectDomainError(fixture.service.claim(fixture.claimInput(body)), "conflict", /has not committed the claim keys/);
      expect(await fixture.queuedJobs()).to.deep.equal([]);
    } finally {
      await fixture.store.close();
    }
  });

  it("test_uploadClaimTree_rootMustEqualTheCommittedOne", async function () {
    const fixture = await createClaimRelayFixture({ uploadTree: false });
    try {
      const forged = buildClaimTree(["SN-1", "SN-2", "SN-3"].map((serial) => ({ serial, claimKey: Wallet.createRandom().address })));
      const mismatch = await request(fixture.app)
        .post("/api/v1/ownership/claim-trees")
        .send({ batchId: fixture.batchId, tree: forged.dump() })
        .expect(422);
      expect(mismatch.body.reason).to.equal("claim-root-mismatch");
      await request(fixture.app)
        .post("/api/v1/ownership/claim-trees")
        .send({ batchId: fixture.childId, tree: fixture.tree.dump() })
        .expect(400);
      await request(fixture.app)
        .post("/api/v1/ownership/claim-trees")
        .send({ batchId: fixture.batchId, tree: { ...fixture.tree.dump(), leafEncoding: ["string"] } })
        .expect(400);
      // The committed root on top, but a claim key swapped below it: the nodes do not hash to it.
      const tampered = structuredClone(fixture.tree.dump());
      tampered.values[0]!.value = [tampered.values[0]!.value[0], Wallet.createRandom().address];
      await request(fixture.app).post("/api/v1/ownership/claim-trees").send({ batchId: fixture.batchId, tree: tampered }).expect(400);
      const stored = await request(fixture.app)
        .post("/api/v1/ownership/claim-trees")
        .send({ batchId: fixture.batchId, tree: fixture.tree.dump() })
        .expect(201);
      expect(stored.body).to.include({ claimRoot: fixture.tree.root, units: 3 });
      await request(fixture.app)
        .post("/api/v1/ownership/claim-trees")
        .send({ batchId: fixture.batchId, tree: fixture.tree.dump() })
        .expect(200);
    } finally {
      await fixture.store.close();
    }
  });
});

describe("ownership mirror from the chain (indexer)", function () {
  it("test_indexer_mirrorsClaimRootClaimAndResale_fromTheContractsLogs", async function () {
    const fixture = await createClaimRelayFixture();
    const mirror = await createStore({ sqlitePath: ":memory:" });
    try {
      const [, alice, bob] = await fixture.ethers.getSigners();
      const result = await fixture.service.claim(fixture.claimInput(await fixture.signedClaim("SN-1", alice!.address.toLowerCase())));
      await fixture.submit(result.job);
      const transfer = fixture.double.encodeFunctionData("transferFrom", [alice!.address, bob!.address, BigInt(result.tokenId)]);
      await (await alice!.sendTransaction({ to: fixture.unitOwnership, data: transfer })).wait();

      await syncToHead({
        provider: fixture.provider,
        // The registry, escrow and forwarder logged nothing here; the ownership contract did.
        deployment: {
          chainId: fixture.chainId,
          registry: "0x00000000000000000000000000000000000000a1",
          escrow: "0x00000000000000000000000000000000000000e5",
          forwarder: "0x00000000000000000000000000000000000000f0",
          unitOwnership: fixture.unitOwnership,
          deployBlock: 0,
        },
        store: mirror,
        instanceId: "ownership-test",
      });

      const token = await mirror.getUnitToken(result.tokenId);
      expect(token).to.include({ batchId: fixture.batchId, serial: "SN-1", owner: bob!.address.toLowerCase() });
      expect(token!.previousOwners).to.deep.equal([alice!.address.toLowerCase()]);
      expect(token!.ownedSince).to.be.greaterThanOrEqual(token!.claimedAt);
      expect(await mirror.getClaimRoot(fixture.batchId)).to.include({ claimRoot: fixture.tree.root, units: 3 });
      const logged = await mirror.listEvents({ contract: "UnitOwnership" }, { limit: 50 });
      expect(logged.items.map((event) => event.name)).to.include.members(["ClaimRootCommitted", "UnitClaimed", "Transfer"]);
    } finally {
      await mirror.close();
      await fixture.store.close();
    }
  });
});
