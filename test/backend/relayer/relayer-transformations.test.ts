/**
 * Transformations as a forward target: a processor records its merge through the relayer, and anyone may have an
 * output of a recalled input recalled. Who could abuse it: a stranger asking the relayer to pay for anything, a
 * participant recording a merge of lots it does not hold (or outputs it did not register), and one client with many
 * fresh keys asking the relayer to send the same permissionless flag again and again.
 */
import { expect } from "chai";
import request from "supertest";
import { Wallet, ZeroHash, type Interface } from "ethers";
import type { Express } from "express";
import type { Hex } from "../../../backend/domain/model.ts";
import type { Transformations } from "../../../types/ethers-contracts/index.ts";
import { DEMO_PORT_GLN, deployTransformations } from "../../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { createRelayerFixture, type RelayerFixture } from "./relayer-fixture.ts";

const SHIPPING = 0;

describe("relayer: transformations as a forward target", function () {
  let fx: RelayerFixture;
  let transformations: Transformations;
  let transformationsAddress: Hex;
  let app: Express;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    transformations = await deployTransformations(fx.ethers, fx.deployment);
    transformationsAddress = (await transformations.getAddress()).toLowerCase() as Hex;
    fx.chain.addresses.transformations = transformationsAddress;
    app = fx.relayApp().app;
  });

  afterEach(async function () {
    await fx.store.close();
    await fx.connection.close();
  });

  const call = (name: string, args: unknown[]) => (transformations.interface as Interface).encodeFunctionData(name, args);
  const signed = (signer: Parameters<RelayerFixture["signedRequest"]>[0], data: string) =>
    fx.signedRequest(signer, "registry", data, { to: transformationsAddress });
  const relayerNonce = () => fx.provider.getTransactionCount(fx.relayerWallet.address, "latest");

  async function mined(id: string): Promise<void> {
    const worker = fx.worker();
    for (let round = 0; round < 10 && (await fx.store.getRelay(id))?.status !== "mined"; round++) await worker.tick();
    expect(await fx.store.getRelay(id)).to.include({ status: "mined", error: null });
  }

  /** Two input lots offered to the contract and a fresh output lot, all the manufacturer's. */
  async function mergeReady(prefix: string) {
    const { registry, manufacturer } = fx.deployment;
    const inputs = [
      await registerBatch(registry, manufacturer, { lot: `${prefix}-A`, quantity: 5n }),
      await registerBatch(registry, manufacturer, { lot: `${prefix}-B`, quantity: 7n }),
    ];
    const output = await registerBatch(registry, manufacturer, { lot: `${prefix}-MIX`, quantity: 12n });
    for (const input of inputs)
      await (await registry.connect(manufacturer).proposeHandoff(input.batchId, transformationsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    return { inputIds: inputs.map((input) => input.batchId), outputId: output.batchId };
  }

  it("test_relayedTransform_processorsMerge_recordedGasless", async function () {
    const { manufacturer } = fx.deployment;
    const info = await request(app).get("/api/v1/relay/forwarder").expect(200);
    expect(info.body.targets.transformations).to.equal(transformationsAddress);
    const { inputIds, outputId } = await mergeReady("LOT-TF-1");
    const before = await fx.provider.getBalance(manufacturer.address);

    const accepted = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(manufacturer, call("transform", [inputIds, [outputId], DEMO_PORT_GLN, ZeroHash])))
      .expect(202);
    await mined(accepted.body.id);

    expect(await transformations.producedBy(outputId)).to.equal(1n);
    for (const inputId of inputIds) expect(await transformations.consumedIn(inputId)).to.equal(1n);
    expect(await fx.provider.getBalance(manufacturer.address), "the processor paid no gas").to.equal(before);
  });

  it("test_relayedTransform_ofAThirdParty_refusedBeforeTheRelayerPays", async function () {
    const { carrier, outsider } = fx.deployment;
    const { inputIds, outputId } = await mergeReady("LOT-TF-2");
    const before = await relayerNonce();
    const merge = call("transform", [inputIds, [outputId], DEMO_PORT_GLN, ZeroHash]);

    // A stranger: the relayer sponsors participants only.
    expect(
      (
        await request(app)
          .post("/api/v1/relay/requests")
          .send(await signed(outsider, merge))
          .expect(403)
      ).body.code,
    ).to.equal("NOT_A_PARTICIPANT");
    // A participant who neither registered the output nor holds the inputs: the simulation says why.
    const rival = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(carrier, merge))
      .expect(422);
    expect(rival.body).to.include({ code: "SIMULATION_REVERTED", error: "OutputNotFresh" });
    // Reads are not relayed.
    const read = await signed(carrier, call("consumedIn", [inputIds[0]]));
    expect((await request(app).post("/api/v1/relay/requests").send(read).expect(422)).body.code).to.equal("FUNCTION_NOT_RELAYABLE");

    expect(await fx.store.listRelays(["queued", "submitted", "mined", "failed"], 10)).to.have.length(0);
    expect(await relayerNonce()).to.equal(before);
    expect(await transformations.producedBy(outputId)).to.equal(0n);
  });

  it("test_relayedRecalledInputFlag_anyoneOnce_aSecondKeyIsRefusedWhileTheFirstIsPending", async function () {
    const { registry, manufacturer } = fx.deployment;
    const { inputIds, outputId } = await mergeReady("LOT-TF-3");
    await (await transformations.connect(manufacturer).transform(inputIds, [outputId], DEMO_PORT_GLN, ZeroHash)).wait();
    const flag = call("flagRecalledInput", [outputId, inputIds[0]]);

    // The input is not recalled: the simulation refuses it and nothing is queued.
    const early = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(422);
    expect(early.body.error).to.equal("InputNotRecalled");

    await (await registry.connect(manufacturer).recallBatch(inputIds[0]!, ZeroHash)).wait();
    const first = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(202);
    const twin = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(409);
    expect(twin.body).to.include({ code: "CALL_ALREADY_PENDING", requestId: first.body.id });

    await mined(first.body.id);
    expect((await registry.batchStatus(outputId))[0]).to.equal(5n); // Recalled
    const late = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(422);
    expect(late.body.error).to.equal("OutputAlreadyRecalled");
  });
});
