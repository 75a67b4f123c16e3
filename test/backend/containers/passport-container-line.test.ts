/**
 * The passport's custodian line for a packed lot: "In container <SSCC> held by <name>", naming the custodian of the
 * outermost container (who holds the goods), not the registry's record (the LogisticUnits contract). The mirror is
 * given the packed state directly (the chain path is container-api.test.ts's); the page renders it.
 */
import { expect } from "chai";
import request from "supertest";
import type { Container, EventRef, Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "../passport/fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const PALLET = "084123450000001011";
const CARTON = "084123450000001028";

describe("passport: a packed lot's holder", function () {
  this.timeout(120_000);
  let world: PassportWorld;

  before(async function () {
    world = await createPassportWorld();
  });

  const page = async () => {
    const app = passportTestApp(
      createPassportModule({ store: world.store, config: passportConfig(world), chain: world.eip1193 as never, logger: silentLogger() }),
    );
    return (await request(app).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", HTML).expect(200)).text;
  };

  it("test_passport_packedLot_saysInContainerHeldByTheOutermostCustodian", async function () {
    const before = await page();
    expect(before).to.not.contain("In container");
    const unpackedJsonLd = (
      await request(
        passportTestApp(
          createPassportModule({
            store: world.store,
            config: passportConfig(world),
            chain: world.eip1193 as never,
            logger: silentLogger(),
          }),
        ),
      )
        .get(digitalLinkPath(world.traded.gtin, world.traded.lot))
        .set("Accept", "application/ld+json")
        .expect(200)
    ).body;
    expect(unpackedJsonLd).to.not.have.property("provena:container");
    const traded = (await world.store.getBatch(world.traded.batchId))!;
    const checkpoint = (await world.store.getCheckpoint(world.deployment.chainId))!;
    const later: EventRef = { ...traded.lastEvent, eventId: `${world.deployment.chainId}:999999999999:000000` };
    const carrier = world.deployed.carrier.address.toLowerCase() as Hex;
    const manufacturer = world.deployed.manufacturer.address.toLowerCase() as Hex;
    const container = (sscc: string, fields: Partial<Container>): Container => ({
      sscc,
      creator: manufacturer,
      custodian: manufacturer,
      pendingHandoff: null,
      locationGln: "8712345000202",
      parentSscc: null,
      state: "open",
      batchIds: [],
      containerSsccs: [],
      recallFlaggedBatchIds: [],
      history: [],
      created: later,
      lastEvent: later,
      ...fields,
    });
    await world.store.commitRange({
      chainId: world.deployment.chainId,
      events: [],
      blocks: [],
      batches: [{ ...traded, packedIn: CARTON, lastEvent: later }],
      participants: [],
      orders: [],
      containers: [
        container(PALLET, { custodian: carrier, containerSsccs: [CARTON] }),
        container(CARTON, { parentSscc: PALLET, state: "packed", batchIds: [traded.batchId] }),
      ],
      checkpoint,
    });
    const text = await page();
    expect(text).to.contain(`In container <span class="mono">${CARTON}</span> held by`);
    const line = text.slice(text.indexOf("In container"), text.indexOf("</dd>", text.indexOf("In container")));
    expect(line).to.contain("Mare Nostrum Freight").and.not.contain("Acme Olive Oil");
    const app = passportTestApp(
      createPassportModule({ store: world.store, config: passportConfig(world), chain: world.eip1193 as never, logger: silentLogger() }),
    );
    const jsonLd = (
      await request(app).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", "application/ld+json").expect(200)
    ).body;
    expect(jsonLd["provena:container"]).to.deep.equal({
      "provena:sscc": CARTON,
      "provena:outermostSscc": PALLET,
      "provena:holder": carrier,
    });
  });
});
