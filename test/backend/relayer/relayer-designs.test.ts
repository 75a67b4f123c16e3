import { expect } from "chai";
import request from "supertest";
import { ZeroHash, id as keccakText } from "ethers";
import { createRelayerFixture, type RelayerFixture } from "./relayer-fixture.ts";

describe("relayer: the design registry as a forward target", function () {
  let fx: RelayerFixture;
  const root = keccakText("design root");

  beforeEach(async function () {
    fx = await createRelayerFixture();
  });

  afterEach(async function () {
    await fx.store.close();
    await fx.connection.close();
  });

  it("test_accept_participantsRegisterDesign_isRelayedAndMined", async function () {
    const { carrier } = fx.deployment;
    const data = fx.designRegistry.interface.encodeFunctionData("registerDesign", [root, "Crate", "", ZeroHash]);
    const body = await fx.signedRequest(carrier, "designRegistry", data);
    const response = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
    const worker = fx.worker();
    for (let round = 0; round < 10 && (await fx.store.getRelay(response.body.id))?.status !== "mined"; round++) await worker.tick();
    expect((await fx.store.getRelay(response.body.id))?.status).to.equal("mined");
    expect(await fx.designRegistry.registeredAt(carrier.address, root)).to.not.equal(0n);

    const info = await request(fx.app).get("/api/v1/relay/forwarder").expect(200);
    expect(info.body.targets.designRegistry).to.equal(fx.chain.addresses.designRegistry);
  });

  it("test_accept_outsidersRegistrationOrNonHoldersLink_isRefusedBeforeTheRelayerPaysGas", async function () {
    const { outsider, carrier, manufacturer } = fx.deployment;
    const register = fx.designRegistry.interface.encodeFunctionData("registerDesign", [root, "", "", ZeroHash]);
    const outsiderBody = await fx.signedRequest(outsider, "designRegistry", register);
    expect((await request(fx.app).post("/api/v1/relay/requests").send(outsiderBody).expect(403)).body.code).to.equal("NOT_A_PARTICIPANT");

    await (await fx.designRegistry.connect(manufacturer).registerDesign(root, "", "", ZeroHash)).wait();
    const link = fx.designRegistry.interface.encodeFunctionData("linkDesign", [8412345000102n, manufacturer.address, root]);
    const response = await request(fx.app)
      .post("/api/v1/relay/requests")
      .send(await fx.signedRequest(carrier, "designRegistry", link))
      .expect(422);
    expect(response.body).to.include({ code: "SIMULATION_REVERTED", error: "DesignGtinNotLicensed" });
    expect(response.body.detail).to.contain("its GS1 company prefix belongs to");
  });
});
