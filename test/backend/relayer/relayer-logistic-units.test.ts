/**
 * LogisticUnits as a forward target: custodians create, pack and hand off containers through the relayer; anyone
 * may have a packed recalled batch flagged. Who could abuse it: a third party (a stranger, or another participant)
 * asking the relayer to move a container it does not hold, and one client with many fresh keys asking the relayer
 * to send the same permissionless flag again and again.
 */
import { expect } from "chai";
import request from "supertest";
import { Wallet, ZeroHash, type Interface } from "ethers";
import type { Express } from "express";
import type { Hex } from "../../../backend/domain/model.ts";
import type { LogisticUnits } from "../../../types/ethers-contracts/index.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployLogisticUnits } from "../../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { ssccFrom } from "../../helpers/gs1.ts";
import { createRelayerFixture, type RelayerFixture } from "./relayer-fixture.ts";

const SHIPPING = 0;
const RECEIVING = 1;
const PALLET = ssccFrom("08412345000000001");

describe("relayer: logistic units as a forward target", function () {
  let fx: RelayerFixture;
  let logisticUnits: LogisticUnits;
  let unitsAddress: Hex;
  let app: Express;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    logisticUnits = await deployLogisticUnits(fx.ethers, fx.deployment);
    unitsAddress = (await logisticUnits.getAddress()).toLowerCase() as Hex;
    fx.chain.addresses.logisticUnits = unitsAddress;
    app = fx.relayApp().app;
  });

  afterEach(async function () {
    await fx.store.close();
    await fx.connection.close();
  });

  const call = (name: string, args: unknown[]) => (logisticUnits.interface as Interface).encodeFunctionData(name, args);
  const signed = (signer: Parameters<RelayerFixture["signedRequest"]>[0], data: string) =>
    fx.signedRequest(signer, "registry", data, { to: unitsAddress });

  /** Relays `body` and runs the worker until it is mined. */
  async function relayed(body: object): Promise<void> {
    const accepted = await request(app).post("/api/v1/relay/requests").send(body).expect(202);
    const worker = fx.worker();
    for (let round = 0; round < 10 && (await fx.store.getRelay(accepted.body.id))?.status !== "mined"; round++) await worker.tick();
    expect(await fx.store.getRelay(accepted.body.id)).to.include({ status: "mined", error: null });
  }

  const relayerNonce = () => fx.provider.getTransactionCount(fx.relayerWallet.address, "latest");

  it("test_relayedPackAndContainerHandoff_movesTheContainerWithItsContents", async function () {
    const { registry, manufacturer, carrier } = fx.deployment;
    const info = await request(app).get("/api/v1/relay/forwarder").expect(200);
    expect(info.body.targets.logisticUnits).to.equal(unitsAddress);

    const lot = await registerBatch(registry, manufacturer, { lot: "LOT-RL-1", quantity: 5n });
    await relayed(await signed(manufacturer, call("createContainer", [PALLET, DEMO_PORT_GLN])));
    await (await registry.connect(manufacturer).proposeHandoff(lot.batchId, unitsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    await relayed(await signed(manufacturer, call("packBatches", [PALLET, [lot.batchId], DEMO_PORT_GLN])));
    await relayed(await signed(manufacturer, call("proposeContainerHandoff", [PALLET, carrier.address, DEMO_PORT_GLN, SHIPPING])));
    await relayed(await signed(carrier, call("acceptContainerHandoff", [PALLET, DEMO_DC_GLN, RECEIVING])));

    expect(await logisticUnits.outermostContainer(PALLET)).to.deep.equal([PALLET, carrier.address]);
    expect((await logisticUnits.packedBatch(lot.batchId))[0]).to.equal(PALLET);
    expect((await registry.batch(lot.batchId))[1]).to.equal(await logisticUnits.getAddress());
  });

  it("test_relayedContainerCalls_ofAThirdParty_areRefusedBeforeTheRelayerPays", async function () {
    const { manufacturer, carrier, outsider } = fx.deployment;
    await (await logisticUnits.connect(manufacturer).createContainer(PALLET, DEMO_PORT_GLN)).wait();
    const before = await relayerNonce();

    // A stranger: the relayer sponsors participants only.
    const stranger = await signed(outsider, call("proposeContainerHandoff", [PALLET, outsider.address, DEMO_PORT_GLN, SHIPPING]));
    expect((await request(app).post("/api/v1/relay/requests").send(stranger).expect(403)).body.code).to.equal("NOT_A_PARTICIPANT");
    // Another participant, not the custodian: the simulation says whose container it is.
    const rival = await signed(carrier, call("proposeContainerHandoff", [PALLET, carrier.address, DEMO_PORT_GLN, SHIPPING]));
    const refused = await request(app).post("/api/v1/relay/requests").send(rival).expect(422);
    expect(refused.body).to.include({ code: "SIMULATION_REVERTED", error: "ContainerNotCustodian" });
    // Reads are not relayed.
    const read = await signed(carrier, call("container", [PALLET]));
    expect((await request(app).post("/api/v1/relay/requests").send(read).expect(422)).body.code).to.equal("FUNCTION_NOT_RELAYABLE");

    expect(await fx.store.listRelays(["queued", "submitted", "mined", "failed"], 10)).to.have.length(0);
    expect(await relayerNonce()).to.equal(before);
    expect(await logisticUnits.outermostContainer(PALLET)).to.deep.equal([PALLET, manufacturer.address]);
  });

  it("test_relayedRecallFlag_anyoneOnce_aSecondKeyIsRefusedWhileTheFirstIsPending", async function () {
    const { registry, manufacturer } = fx.deployment;
    const lot = await registerBatch(registry, manufacturer, { lot: "LOT-RL-2", quantity: 5n });
    await (await logisticUnits.connect(manufacturer).createContainer(PALLET, DEMO_PORT_GLN)).wait();
    await (await registry.connect(manufacturer).proposeHandoff(lot.batchId, unitsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    await (await logisticUnits.connect(manufacturer).packBatches(PALLET, [lot.batchId], DEMO_PORT_GLN)).wait();
    const flag = call("flagRecalledBatch", [lot.batchId]);

    // Not recalled: the simulation refuses it, nothing is queued.
    const early = await signed(Wallet.createRandom(), flag);
    expect((await request(app).post("/api/v1/relay/requests").send(early).expect(422)).body.error).to.equal("BatchNotRecalled");

    await (await registry.connect(manufacturer).recallBatch(lot.batchId, ZeroHash)).wait();
    const first = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(202);
    const twin = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(409);
    expect(twin.body).to.include({ code: "CALL_ALREADY_PENDING", requestId: first.body.id });

    const worker = fx.worker();
    for (let round = 0; round < 10 && (await fx.store.getRelay(first.body.id))?.status !== "mined"; round++) await worker.tick();
    expect((await logisticUnits.container(PALLET))[4]).to.equal(1n);
    // Once flagged, the chain refuses it again.
    const late = await request(app)
      .post("/api/v1/relay/requests")
      .send(await signed(Wallet.createRandom(), flag))
      .expect(422);
    expect(late.body.error).to.equal("BatchRecallAlreadyFlagged");
  });
});
