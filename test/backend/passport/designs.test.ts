/**
 * A product's registered designs on its passport, end to end: the DesignRegistry on the chain, its events mirrored by
 * the real indexer, the line "Design registered by … on …" in English and Chinese.
 */
import { expect } from "chai";
import request from "supertest";
import { ZeroHash } from "ethers";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { buildDesignTree, designSalt } from "../../../backend/designs/design-tree.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { deployDesignRegistry } from "../../../scripts/fixtures/design-registry.ts";
import { syncToHead } from "../../helpers/indexer-sync.ts";
import type { DesignRegistry } from "../../../types/ethers-contracts/index.js";
import { createModule, createPassportWorld, passportTestApp, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml";

describe("passport: registered designs", function () {
  let world: PassportWorld;
  let root: Hex;
  let designs: DesignRegistry;

  /** Runs the indexer with the design registry in the deployment (deployed after the world's checkpoint) to the head. */
  async function syncDesigns() {
    const { provider } = await providerFromEip1193(world.eip1193, 20);
    const deployment = { ...world.deployment, designRegistry: (await designs.getAddress()).toLowerCase() as Hex };
    await syncToHead({ provider, deployment, store: world.store, instanceId: "passport-designs" });
  }

  before(async function () {
    world = await createPassportWorld();
    const { ethers } = world.connection;
    designs = await deployDesignRegistry(ethers, world.deployed);
    const { manufacturer } = world.deployed;
    root = buildDesignTree([
      { fileHash: ethers.sha256("0x01") as Hex, owner: manufacturer.address.toLowerCase() as Hex, salt: designSalt() },
    ]).root as Hex;
    await (await designs.connect(manufacturer).registerDesign(root, "Bottle 2027", "CC-BY-4.0", ZeroHash)).wait();
    await (await designs.connect(manufacturer).linkDesign(BigInt(world.traded.gtin), manufacturer.address, root)).wait();

    await syncDesigns();
  });

  it("test_indexer_mirrorsTheDesignRegistrysEvents", async function () {
    const [registration] = await world.store.listDesignRegistrations(root);
    expect(registration).to.include({ registrant: world.deployed.manufacturer.address.toLowerCase(), title: "Bottle 2027" });
    expect((await world.store.listDesignLinkChanges(world.traded.gtin)).map((change) => change.linked)).to.deep.equal([true]);
  });

  it("test_passport_linkedDesign_saysWhoRegisteredItAndWhen_inEnglishAndChinese", async function () {
    const app = passportTestApp(createModule(world));
    const path = digitalLinkPath(world.traded.gtin, world.traded.lot);
    const en = (await request(app).get(path).set("Accept", HTML).set("Accept-Language", "en").expect(200)).text;
    expect(en).to.include('<h2 id="design-title">Design</h2>');
    expect(en).to.match(
      /Design registered by Acme Olive Oil S\.L\. on <time datetime="\d{4}-\d{2}-\d{2}">[^<]+<\/time> <q>Bottle 2027<\/q>/,
    );
    const [registration] = await world.store.listDesignRegistrations(root);
    const jsonLd = /<script type="application\/ld\+json" id="passport-data">([^<]*)<\/script>/.exec(en);
    expect(JSON.parse(jsonLd![1]!)["provena:designs"]).to.deep.equal([
      {
        "provena:root": root,
        "provena:registrant": world.deployed.manufacturer.address.toLowerCase(),
        "provena:registrantName": "Acme Olive Oil S.L.",
        "provena:registeredAt": new Date(registration!.registeredAt * 1000).toISOString(),
        "provena:title": "Bottle 2027",
      },
    ]);
    const zh = (await request(app).get(path).set("Accept", HTML).set("Accept-Language", "zh-CN").expect(200)).text;
    expect(zh).to.match(/设计由 Acme Olive Oil S\.L\. 于 <time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日<\/time> 登记/);
  });

  it("test_passport_unlinkedDesign_leavesThePassport", async function () {
    const app = passportTestApp(createModule(world));
    const path = digitalLinkPath(world.traded.gtin, world.traded.lot);
    expect((await request(app).get(path).set("Accept", HTML).expect(200)).text).to.include("design-title");
    const { manufacturer } = world.deployed;
    await (await designs.connect(manufacturer).unlinkDesign(BigInt(world.traded.gtin), manufacturer.address, root)).wait();
    await syncDesigns();
    expect((await request(app).get(path).set("Accept", HTML).expect(200)).text).to.not.include("design-title");
  });
});
