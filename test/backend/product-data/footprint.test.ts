/**
 * A batch's carbon footprint, with numbers computed by hand:
 *   one degree of longitude on the equator = 6371.0088 km × π/180 = 111.19508 km (great circle);
 *   the batch: 2,000 units of 0.5 kg = 1 t; declared product footprint 2.5 kgCO2e per unit = 5,000 kg;
 *   leg 1, origin (0°, 0°) → port (0°, 1°) by sea: 111.19508 × 1.3 = 144.5536 km × 1 t × 12 g = 1.735 kg;
 *   leg 2, port (0°, 1°) → shop (0°, 3°), mode not declared, so road: 222.39016 × 1.2 = 266.8682 km × 105 g = 28.021 kg;
 *   total 5,000 + 29.756 = 5,029.756 kgCO2e.
 */
import { expect } from "chai";
import request from "supertest";
import { createProductDataModule } from "../../../backend/product-data/product-data-routes.ts";
import { createProductDataService } from "../../../backend/product-data/product-data-service.ts";
import { batchFootprint, greatCircleKm } from "../../../backend/product-data/footprint.ts";
import { EMISSION_FACTORS_SOURCE, TRANSPORT_MODE_DEFAULTS } from "../../../backend/product-data/emission-factors.ts";
import { ChainHistory, gtin14 } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GTIN = gtin14("401234500001");
const ORIGIN = "4012345000009";
const PORT = "4012345000016";
const SHOP = "4012345000023";

const places = [
  { gln: ORIGIN, name: { en: "Jaén mill", zh: "哈恩油坊" }, country: "ES", lat: 0, lon: 0 },
  { gln: PORT, name: { en: "Port of Valencia", zh: "瓦伦西亚港" }, country: "ES", lat: 0, lon: 1 },
  { gln: SHOP, name: { en: "Shanghai shop", zh: "上海门店" }, country: "CN", lat: 0, lon: 3 },
];

describe("carbon footprint", function () {
  it("test_greatCircleKm_oneDegreeOnTheEquator_is111point195", function () {
    // Not closeTo: hardhat's chai matchers take it over for bigints when the whole suite runs.
    expect(Math.abs(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }) - 111.19508)).to.be.lessThan(1e-4);
    expect(greatCircleKm({ lat: 51.5, lon: -0.12 }, { lat: 51.5, lon: -0.12 })).to.equal(0);
  });

  it("test_batchFootprint_airAddsNinetyFiveKm_andMissingPlacesMakeItIncomplete", function () {
    const footprint = batchFootprint(
      { batchId: "0xb", quantity: "1000" },
      { originGln: ORIGIN, arrivals: [PORT, "4012345000030"] },
      { unitMassKg: 1, places, transportModes: [{ toGln: PORT, mode: "air" }] },
    );
    // (111.19508 + 95) km × 1 t × 800 g = 164.956 kg
    expect(footprint.legs[0]).to.include({ mode: "air", modeDeclared: true, distanceKm: 206.195, kgCO2e: 164.956 });
    expect(footprint.legs[1]).to.include({ mode: "road", modeDeclared: false, distanceKm: null, kgCO2e: null });
    expect(footprint.legs[1]!.to).to.deep.equal({ gln: "4012345000030", name: null });
    expect(footprint).to.include({ product: null, transportKgCO2e: 164.956, totalKgCO2e: 164.956, complete: false });
  });

  describe("GET /api/v1/batches/{batchId}/footprint", function () {
    let t: TestApp;

    afterEach(async function () {
      await t.store.close();
    });

    it("test_footprint_productTimesUnitsPlusEachLeg_handComputed", async function () {
      const history = new ChainHistory();
      const acme = history.onboard("acme", "MANUFACTURER");
      const ship = history.onboard("ship", "CARRIER");
      const shop = history.onboard("shop", "RETAILER");
      history.grantCompanyPrefix(acme, "4012345");
      const batchId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "FP-1", quantity: 2_000, originGln: ORIGIN });
      history.proposeHandoff(batchId, acme, ship, "shipping", ORIGIN);
      history.acceptHandoff(batchId, acme, ship, "receiving", PORT);
      history.proposeHandoff(batchId, ship, shop, "shipping", PORT);
      history.acceptHandoff(batchId, ship, shop, "receiving", SHOP);
      const store = await createMemoryStore();
      await history.mirrorInto(store);
      t = await createTestApp({
        store,
        modules: (auth) => [
          createProductDataModule({ service: createProductDataService({ store }), auth, writeRateLimitPerMinute: 10_000 }),
        ],
      });
      const session = { Authorization: t.sessionFor(acme) };
      const product = {
        name: { en: "Olive oil" },
        unitMassKg: 0.5,
        carbonFootprint: { kgCO2ePerUnit: 2.5, method: "ISO 14067", sourceDocumentHash: `0x${"cd".repeat(32)}` },
      };
      const batchData = { places, transportModes: [{ toGln: PORT, mode: "sea" }] };
      const productUpload = await request(t.app).post(`/api/v1/products/${GTIN}/data`).set(session).send(product).expect(201);
      const batchUpload = await request(t.app).post(`/api/v1/batches/${batchId}/data`).set(session).send(batchData).expect(201);
      history.publishProductData(GTIN, acme, productUpload.body.contentHash);
      history.publishBatchData(batchId, acme, batchUpload.body.contentHash);
      await history.mirrorInto(store);

      const footprint = (await request(t.app).get(`/api/v1/batches/${batchId}/footprint`).expect(200)).body;
      expect(footprint).to.include({ units: 2_000, unitMassKg: 0.5, transportKgCO2e: 29.756, totalKgCO2e: 5_029.756, complete: true });
      expect(footprint.product).to.deep.equal({ ...product.carbonFootprint, kgCO2e: 5_000 });
      expect(footprint.legs).to.deep.equal([
        {
          from: { gln: ORIGIN, name: places[0]!.name },
          to: { gln: PORT, name: places[1]!.name },
          mode: "sea",
          modeDeclared: true,
          greatCircleKm: 111.195,
          distanceKm: 144.554,
          detourFactor: 1.3,
          gCO2ePerTonneKm: 12,
          tonnes: 1,
          kgCO2e: 1.735,
        },
        {
          from: { gln: PORT, name: places[1]!.name },
          to: { gln: SHOP, name: places[2]!.name },
          mode: "road",
          modeDeclared: false,
          greatCircleKm: 222.39,
          distanceKm: 266.868,
          detourFactor: 1.2,
          gCO2ePerTonneKm: 105,
          tonnes: 1,
          kgCO2e: 28.021,
        },
      ]);
      await request(t.app)
        .get(`/api/v1/batches/0x${"00".repeat(32)}/footprint`)
        .expect(404);
    });
  });
});

describe("transport emission factors", function () {
  it("test_everyMode_citesItsGlecDefault_andSaysWhetherItWasConfirmed", function () {
    for (const [mode, defaults] of Object.entries(TRANSPORT_MODE_DEFAULTS)) {
      expect(defaults.glecDefault, mode).to.be.a("string").and.not.equal("");
      expect(defaults.confirmed, mode).to.be.a("boolean");
      expect(defaults.gCO2ePerTonneKm, mode).to.be.greaterThan(0);
    }
    // Unconfirmed values are never passed off as checked: the source the API and passport carry says so.
    if (Object.values(TRANSPORT_MODE_DEFAULTS).some((defaults) => !defaults.confirmed)) {
      expect(EMISSION_FACTORS_SOURCE).to.contain("NOT yet confirmed");
    }
    expect(EMISSION_FACTORS_SOURCE).to.contain("GLEC Framework v3.0").and.contain("ISO 14083");
    expect(TRANSPORT_MODE_DEFAULTS.air.addedKm).to.equal(95);
  });
});
