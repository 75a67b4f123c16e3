/**
 * The passport's merge lines: "Made from: lot X (GTIN …), lot Y" on a lot a merge made, "Used in: …" on a lot a merge
 * consumed, in both languages and in the JSON-LD; the recall of an input reaches the output's page.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { ChainHistory, REGISTRY_ADDRESS } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore } from "../api/fixtures/test-app.ts";
import { passportTestApp, silentLogger } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const GRAIN = "09506000134352";
const FLOUR = "09506000134369";

describe("passport merge lines", function () {
  let store: MirrorStore;
  let app: ReturnType<typeof passportTestApp>;
  let ids: { wheat: Hex; rye: Hex; flour: Hex };

  before(async function () {
    const history = new ChainHistory();
    const mill = history.onboard("mill", "MANUFACTURER");
    const regulator = history.onboard("regulator", "REGULATOR");
    const wheat = history.registerBatch({ manufacturer: mill, gtin: GRAIN, lot: "WHEAT-7", quantity: 500 });
    const rye = history.registerBatch({ manufacturer: mill, gtin: GRAIN, lot: "RYE-3", quantity: 300 });
    const flour = history.registerBatch({ manufacturer: mill, gtin: FLOUR, lot: "FLOUR-1", quantity: 800 });
    history.transform({ processor: mill, inputIds: [wheat, rye], outputIds: [flour] });
    history.recall(rye, regulator);
    ids = { wheat, rye, flour };
    store = await createMemoryStore();
    await history.mirrorInto(store);
    const module = createPassportModule({
      store,
      config: {
        publicBaseUrl: "https://id.provena.test",
        publicRpcUrl: "https://id.provena.test/rpc",
        chainId: history.chainId,
        registryAddress: REGISTRY_ADDRESS,
        otherContracts: [],
        deployBlock: 0,
      },
      chain: { request: async () => Promise.reject(new Error("no chain in this test")) } as never,
      logger: silentLogger(),
    });
    app = passportTestApp(module);
  });

  after(async function () {
    await store.close();
  });

  const page = async (gtin: string, lot: string, language = "en") =>
    (await request(app).get(digitalLinkPath(gtin, lot)).set("Accept", HTML).set("Accept-Language", language).expect(200)).text;

  it("test_passport_output_madeFromItsInputs_withGtin_andTheInputsRecallReachesIt", async function () {
    const html = await page(FLOUR, "FLOUR-1");
    expect(html).to.match(
      /Made from: <a [^>]*>[^<]*WHEAT-7[^<]*<\/a> \(GTIN 09506000134352\), <a [^>]*>[^<]*RYE-3[^<]*<\/a> \(GTIN 09506000134352\)/,
    );
    expect(html).to.include("This product comes from");
    expect(html).not.to.include("Used in:");
  });

  it("test_passport_input_usedInTheOutput_inChineseToo", async function () {
    const html = await page(GRAIN, "WHEAT-7");
    expect(html).to.match(/Used in: <a [^>]*>[^<]*FLOUR-1[^<]*<\/a> \(GTIN 09506000134369\)/);
    expect(html).not.to.include("This product comes from");
    const chinese = await page(GRAIN, "WHEAT-7", "zh-CN");
    expect(chinese).to.match(/已用于：<a [^>]*>[^<]*FLOUR-1[^<]*<\/a>（GTIN 09506000134369）/);
  });

  it("test_passportJsonLd_madeFromAndUsedIn", async function () {
    const json = (await request(app).get(digitalLinkPath(FLOUR, "FLOUR-1")).set("Accept", "application/ld+json").expect(200))
      .body as Record<string, { "provena:batchId": Hex; "provena:recalled": boolean }[]>;
    expect(json["provena:madeFrom"]!.map((lot) => [lot["provena:batchId"], lot["provena:recalled"]])).to.deep.equal([
      [ids.wheat, false],
      [ids.rye, true],
    ]);
    expect(json["provena:usedIn"]).to.deep.equal([]);
  });
});
