/**
 * Product data (DPP) versions over HTTP: a manufacturer uploads, anchors (mirrored events), and each viewer reads
 * exactly the fields its role entitles it to: the shopper and an outside partner the public ones, a partner in the
 * chain of custody the partner ones too, a regulator (and the publisher) everything.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { canonicalJson, contentHashOf } from "../../../backend/product-data/canonical-json.ts";
import { createProductDataModule } from "../../../backend/product-data/product-data-routes.ts";
import { MAX_PENDING_UPLOADS, createProductDataService } from "../../../backend/product-data/product-data-service.ts";
import { GTIN_A, buildScenario, type Scenario } from "../api/fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const PARTNER_SECRET = "Plant 7, Calle Secreta 12";
const AUTHORITY_SECRET = "Declaration of conformity 2026-041";

const productData = (label: string) => ({
  name: { en: `Extra virgin olive oil ${label}`, zh: `特级初榨橄榄油 ${label}` },
  image: "https://cdn.example.com/oil.jpg",
  manufacturer: { name: "Acme Ltd", country: "ES" },
  countryOfOrigin: "ES",
  facility: { name: PARTNER_SECRET, gln: "4012345000016" },
  complianceDocuments: [{ title: AUTHORITY_SECRET, sha256: "ab".repeat(32), url: "https://docs.example.com/doc.pdf" }],
  carbonFootprint: { kgCO2ePerUnit: 2.5, method: "ISO 14067", sourceDocumentHash: `0x${"cd".repeat(32)}` },
});

describe("product data (DPP) versions", function () {
  let t: TestApp;
  let scenario: Scenario;

  beforeEach(async function () {
    const store = await createMemoryStore();
    scenario = buildScenario();
    scenario.history.grantCompanyPrefix(scenario.accounts.acme, "4012345");
    await scenario.history.mirrorInto(store);
    t = await createTestApp({
      store,
      modules: (auth) => [createProductDataModule({ service: createProductDataService({ store }), auth, writeRateLimitPerMinute: 10_000 })],
    });
  });

  afterEach(async function () {
    await t.store.close();
  });

  const as = (address: string) => ({ Authorization: t.sessionFor(address) });
  const upload = (path: string, body: unknown, by?: string) => {
    const req = request(t.app).post(path).set("Content-Type", "application/json");
    return (by ? req.set(as(by)) : req).send(JSON.stringify(body));
  };
  const read = (path: string, by?: string) => (by ? request(t.app).get(path).set(as(by)) : request(t.app).get(path));
  const productPath = `/api/v1/products/${GTIN_A}/data`;

  async function publishProduct(label: string): Promise<Hex> {
    const uploaded = await upload(productPath, productData(label), scenario.accounts.acme).expect(201);
    scenario.history.publishProductData(GTIN_A, scenario.accounts.acme, uploaded.body.contentHash);
    await scenario.history.mirrorInto(t.store);
    return uploaded.body.contentHash as Hex;
  }

  it("test_upload_answersTheKeccakOfTheCanonicalJson_andTheCallThatAnchorsIt", async function () {
    const body = productData("v1");
    const uploaded = await upload(productPath, body, scenario.accounts.acme).expect(201);
    expect(uploaded.body.contentHash).to.equal(contentHashOf(canonicalJson(body)));
    expect(uploaded.body.canonicalJson).to.equal(canonicalJson(body));
    expect(uploaded.body.anchor).to.deep.equal({
      contract: "ProductDataRegistry",
      function: "publishProductData",
      args: [String(BigInt(GTIN_A)), uploaded.body.contentHash],
    });
    expect(uploaded.body.anchoredVersions).to.deep.equal([]);
    await read(productPath).expect(404); // uploaded, not anchored: nobody reads it yet
  });

  it("test_read_eachViewerSeesExactlyTheFieldsOfItsRole", async function () {
    const { bolt, swift, regulator, acme } = scenario.accounts;
    await publishProduct("v1");
    const shopper = await read(productPath).expect(200);
    const outsidePartner = await read(productPath, bolt).expect(200); // a manufacturer that never held GTIN_A
    const chainPartner = await read(productPath, swift).expect(200); // carried a batch of GTIN_A
    const authority = await read(productPath, regulator).expect(200);
    const publisher = await read(productPath, acme).expect(200);
    const publicFields = ["carbonFootprint", "countryOfOrigin", "image", "manufacturer", "name"];
    expect(Object.keys(shopper.body.data).sort()).to.deep.equal(publicFields);
    expect(Object.keys(outsidePartner.body.data).sort()).to.deep.equal(publicFields);
    expect(Object.keys(chainPartner.body.data).sort()).to.deep.equal([...publicFields, "facility"].sort());
    expect(authority.body.data).to.deep.equal(productData("v1"));
    expect(publisher.body.data).to.deep.equal(productData("v1"));
    for (const response of [shopper, outsidePartner]) {
      expect(response.text).to.not.contain(PARTNER_SECRET).and.not.contain(AUTHORITY_SECRET);
    }
    expect(chainPartner.text).to.not.contain(AUTHORITY_SECRET);
    // The passport (HTML and JSON-LD) is built from what the public may read.
    const passport = await createProductDataService({ store: t.store }).passportData(scenario.batches.root);
    expect(Object.keys(passport!.data).sort()).to.deep.equal(publicFields);
    expect(JSON.stringify(passport)).to.not.contain(PARTNER_SECRET).and.not.contain(AUTHORITY_SECRET);
    expect(shopper.headers["cache-control"]).to.equal("private, no-store");
    expect(shopper.body).to.include({ version: 1 });
    expect(shopper.body.anchored.publisher).to.equal(acme);
  });

  it("test_versions_oldVersionsStayReadable_andUnanchoredUploadsShowOnlyToThePublisher", async function () {
    const { acme, swift, regulator } = scenario.accounts;
    const first = await publishProduct("v1");
    const second = await publishProduct("v2");
    const draft = await upload(productPath, productData("draft"), acme).expect(201);
    expect((await read(productPath).expect(200)).body).to.include({ version: 2, contentHash: second });
    const v1 = await read(`${productPath}/versions/1`, swift).expect(200);
    expect(v1.body).to.include({ version: 1, contentHash: first });
    expect(v1.body.data.name.en).to.equal("Extra virgin olive oil v1");
    const listed = await read(`${productPath}/versions`).expect(200);
    expect(
      listed.body.versions.map((v: { version: number; documentAvailable: boolean }) => [v.version, v.documentAvailable]),
    ).to.deep.equal([
      [1, true],
      [2, true],
    ]);
    expect(listed.body).to.not.have.property("uploads");
    expect(listed.text).to.not.contain(draft.body.contentHash);
    const own = await read(`${productPath}/versions`, acme).expect(200);
    expect(
      own.body.uploads.map((u: { contentHash: Hex; anchoredVersions: number[] }) => [u.contentHash, u.anchoredVersions]),
    ).to.deep.equal([
      [first, [1]],
      [second, [2]],
      [draft.body.contentHash, []],
    ]);
    expect((await read(`${productPath}/versions`, regulator).expect(200)).body.uploads).to.have.length(3);
  });

  it("test_errors_sayTheSameToEveryone_andNameNoPrivateField", async function () {
    await publishProduct("v1");
    const asShopper = await read(`${productPath}/versions/2`).expect(404);
    const asRegulator = await read(`${productPath}/versions/2`, scenario.accounts.regulator).expect(404);
    expect(asShopper.body.detail).to.equal(asRegulator.body.detail);
    const bad = await read(`${productPath}/versions/0`).expect(400);
    expect(bad.text).to.not.contain(PARTNER_SECRET);
    // An anchor of content the backend never received is listed, not served.
    scenario.history.publishProductData(GTIN_A, scenario.accounts.acme, `0x${"ee".repeat(32)}`);
    await scenario.history.mirrorInto(t.store);
    expect((await read(productPath).expect(200)).body.version).to.equal(1);
    const listed = await read(`${productPath}/versions`).expect(200);
    expect(listed.body.versions[1]).to.include({ version: 2, documentAvailable: false });
    await read(`${productPath}/versions/2`).expect(404);
    const events = await read("/api/v1/events?contract=ProductDataRegistry&limit=100").expect(200);
    expect(events.body.items).to.have.length(2);
    expect(events.text).to.not.contain(PARTNER_SECRET).and.not.contain(AUTHORITY_SECRET);
  });

  it("test_upload_onlyThePublisherMay_andBadDataIsRefusedWhole", async function () {
    const { bolt, swift, acme } = scenario.accounts;
    await upload(productPath, productData("v1")).expect(401);
    const forged = await upload(productPath, productData("forged"), bolt).expect(403);
    expect(forged.body.detail).to.contain("company prefix");
    await upload(`/api/v1/batches/${scenario.batches.root}/data`, { warranty: { months: 24 } }, swift).expect(403);
    await upload(`/api/v1/batches/0x${"00".repeat(32)}/data`, { warranty: { months: 24 } }, acme).expect(404);
    const bad = await upload(productPath, { ...productData("v1"), image: "http://insecure.example.com/a.jpg", secret: 1 }, acme).expect(
      400,
    );
    expect(bad.headers["content-type"]).to.contain("application/problem+json");
    await upload(productPath, {}, acme).expect(400);
    await request(t.app).post(productPath).set(as(acme)).set("Content-Type", "text/plain").send("x").expect(415);
    expect(await t.store.listProductDataDocuments(`gtin:${GTIN_A}`)).to.deep.equal([]);
  });

  it("test_upload_pendingVersionsAreCapped_untilOneIsAnchored", async function () {
    const { acme } = scenario.accounts;
    const batchPath = `/api/v1/batches/${scenario.batches.inTransit}/data`;
    const hashes: Hex[] = [];
    for (let i = 0; i < MAX_PENDING_UPLOADS; i++) {
      hashes.push((await upload(batchPath, { warranty: { months: i } }, acme).expect(201)).body.contentHash);
    }
    const refused = await upload(batchPath, { warranty: { months: 999 } }, acme).expect(422);
    expect(refused.body.detail).to.contain(`at most ${MAX_PENDING_UPLOADS}`);
    await upload(batchPath, { warranty: { months: 0 } }, acme).expect(201); // the same content again is no new version
    scenario.history.publishBatchData(scenario.batches.inTransit, acme, hashes[0]!);
    await scenario.history.mirrorInto(t.store);
    await upload(batchPath, { warranty: { months: 999 } }, acme).expect(201);
  });

  it("test_batchData_partnersInTheBatchsLineageSeePartnerFields", async function () {
    const { acme, swift, bolt, regulator, shop } = scenario.accounts;
    const { root, childA, inTransit } = scenario.batches;
    const batchData = {
      warranty: { months: 24 },
      facility: { name: PARTNER_SECRET },
      complianceDocuments: productData("x").complianceDocuments,
    };
    for (const batchId of [root, childA]) {
      const uploaded = await upload(`/api/v1/batches/${batchId}/data`, batchData, acme).expect(201);
      expect(uploaded.body.anchor.function).to.equal("publishBatchData");
      scenario.history.publishBatchData(batchId, acme, uploaded.body.contentHash);
    }
    await scenario.history.mirrorInto(t.store);
    const fieldsOf = async (batchId: Hex, viewer?: string) =>
      Object.keys((await read(`/api/v1/batches/${batchId}/data`, viewer).expect(200)).body.data).sort();
    expect(await fieldsOf(root)).to.deep.equal(["warranty"]);
    expect(await fieldsOf(root, bolt)).to.deep.equal(["warranty"]);
    expect(await fieldsOf(root, swift)).to.deep.equal(["facility", "warranty"]);
    expect(await fieldsOf(childA, swift)).to.deep.equal(["facility", "warranty"]); // swift carried its parent
    expect(await fieldsOf(childA, shop)).to.deep.equal(["facility", "warranty"]);
    expect(await fieldsOf(root, shop)).to.deep.equal(["warranty"]); // the shop only held a child
    expect(await fieldsOf(root, regulator)).to.deep.equal(["complianceDocuments", "facility", "warranty"]);
    await read(`/api/v1/batches/${inTransit}/data`).expect(404);
  });
});
