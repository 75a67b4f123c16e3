/**
 * The passport leads with the product: name, picture, maker, origin, the journey by place names and the carbon
 * footprint, in English and Chinese, from public DPP fields only; the JSON-LD carries them as schema.org Product
 * properties and UNTP DPP terms. The technical record stays in its <details>.
 */
import { expect } from "chai";
import request from "supertest";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { batchFootprint } from "../../../backend/product-data/footprint.ts";
import type { ProductDataService } from "../../../backend/product-data/product-data-service.ts";
import type { ProductData } from "../../../backend/product-data/product-data-schema.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const MILL = "4012345000009";
const PORT = "4012345000016";

const data: Partial<ProductData> = {
  name: { en: "Extra virgin olive oil", zh: "特级初榨橄榄油" },
  image: "https://cdn.example.com/oil.jpg",
  manufacturer: { name: "Acme Olive Oil S.L." },
  countryOfOrigin: "ES",
  materials: [{ name: { en: "Olive oil", zh: "橄榄油" }, percent: 100 }],
  unitMassKg: 1,
  carbonFootprint: { kgCO2ePerUnit: 2, method: "ISO 14067", sourceDocumentHash: `0x${"cd".repeat(32)}` },
  places: [
    { gln: MILL, name: { en: "Jaén mill", zh: "哈恩油坊" }, country: "ES", lat: 0, lon: 0 },
    { gln: PORT, name: { en: "Port of Valencia", zh: "瓦伦西亚港" }, country: "ES", lat: 0, lon: 1 },
  ],
};

describe("passport product summary (DPP)", function () {
  let world: PassportWorld;

  before(async function () {
    world = await createPassportWorld();
  });

  function appWith(productData: Pick<ProductDataService, "passportData">) {
    const module = createPassportModule({
      store: world.store,
      config: passportConfig(world),
      chain: world.eip1193 as never,
      logger: silentLogger(),
      productData: productData as ProductDataService,
    });
    return passportTestApp(module);
  }

  const batchPath = () => digitalLinkPath(world.traded.gtin, world.traded.lot);
  const withData = () =>
    appWith({
      passportData: async (batchId) => ({
        data,
        footprint: batchFootprint({ batchId, quantity: "10" }, { originGln: MILL, arrivals: [PORT] }, data),
      }),
    });

  it("test_passportHtml_leadsWithTheProduct_inEnglishAndChinese", async function () {
    const app = withData();
    const english = (await request(app).get(batchPath()).set("Accept", HTML).expect(200)).text;
    expect(english).to.match(/<h1>Extra virgin olive oil<\/h1>/);
    expect(english).to.include('<img class="product-image" src="https://cdn.example.com/oil.jpg" alt="Extra virgin olive oil"');
    expect(english).to.include("Made by Acme Olive Oil S.L.");
    expect(english).to.include("Made in Spain");
    expect(english).to.match(/<ol class="journey" id="journey"><li>Jaén mill<\/li><li>Port of Valencia<\/li><\/ol>/);
    // 10 units × 2 kg = 20 kg; 111.195 km × 1.2 × 0.01 t × 105 g = 0.14 kg
    expect(english).to.include("Carbon footprint: 20.14 kg CO₂e");
    expect(english.indexOf('id="product-data"')).to.be.lessThan(english.indexOf('id="verification"'));
    expect(english).to.match(/<details>\s*<summary>Technical details<\/summary>/);
    const chinese = (await request(app).get(batchPath()).set("Accept", HTML).set("Accept-Language", "zh-CN").expect(200)).text;
    expect(chinese).to.match(/<h1>特级初榨橄榄油<\/h1>/);
    expect(chinese).to.include("<li>哈恩油坊</li><li>瓦伦西亚港</li>");
    expect(chinese).to.include("碳足迹：20.14 千克二氧化碳当量");
    expect(chinese).to.include("原产地：西班牙");
  });

  it("test_passportJsonLd_usesSchemaOrgProductFields_andUntpForTheRest", async function () {
    const doc = (await request(withData()).get(batchPath()).set("Accept", "application/ld+json").expect(200)).body;
    expect(doc["@context"].untp).to.equal("https://test.uncefact.org/vocabulary/untp/dpp/");
    expect(doc.name).to.deep.equal([
      { "@value": "Extra virgin olive oil", "@language": "en" },
      { "@value": "特级初榨橄榄油", "@language": "zh" },
    ]);
    expect(doc.image).to.equal("https://cdn.example.com/oil.jpg");
    expect(doc.countryOfOrigin).to.deep.equal({ "@type": "Country", identifier: "ES" });
    expect(doc.material[0]).to.deep.equal({ "@value": "Olive oil", "@language": "en" });
    expect(doc["untp:materialsProvenance"][0]).to.deep.include({
      "@type": "untp:Material",
      "untp:massFraction": 1,
      "untp:hazardous": false,
    });
    expect(doc["untp:producedByParty"]).to.deep.equal({ "@type": "untp:Party", name: "Acme Olive Oil S.L." });
    // UNTP declares the footprint per unit of product (UNECE Rec. 20 "H87", a piece): 20.14 kg over 10 units.
    expect(doc["untp:emissionsScorecard"]).to.include({
      "untp:carbonFootprint": 2.014,
      "untp:declaredUnit": "H87",
      "untp:reportingStandard": "ISO 14067",
      "provena:totalKgCO2e": 20.14,
    });
  });

  it("test_passport_withoutProductData_keepsTheProvenanceTitle", async function () {
    const html = (
      await request(appWith({ passportData: async () => null }))
        .get(batchPath())
        .set("Accept", HTML)
        .expect(200)
    ).text;
    expect(html).to.not.include('id="product-data"');
    expect(html).to.match(/<h1>[^<]*<span class="mono">· GTIN /);
  });
});
