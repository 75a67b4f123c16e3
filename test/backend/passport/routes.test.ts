import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import jsQRImport from "jsqr";
import { PNG } from "pngjs";
import request from "supertest";
import { createBatchService } from "../../../backend/api/services/batches.ts";
import { buildDigitalLink, digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { escapeHtml } from "../../../backend/passport/html.ts";
import { ownerHandleKey } from "../../../backend/passport/passport-service.ts";
import { keccak256, toUtf8Bytes } from "ethers";
import { DEMO_DC_GLN, DEMO_PORT_GLN } from "../../../scripts/fixtures/provena-deployment.ts";
import { BusinessStep } from "../../../scripts/fixtures/registry-enums.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { createModule, createPassportWorld, lineageFamily, passportTestApp, type PassportWorld } from "./fixture.ts";

// jsqr is CommonJS whose types declare an ES default export: at runtime the default import is the function itself.
const jsQR = jsQRImport as unknown as typeof jsQRImport.default;

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** Supertest parser that keeps binary bodies (PNG) as a Buffer. */

function binary(res: any, callback: (error: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on("data", (chunk: Buffer) => chunks.push(chunk));
  res.on("end", () => callback(null, Buffer.concat(chunks)));
}

function decodeQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

describe("passport routes", function () {
  let world: PassportWorld;

  before(async function () {
    world = await createPassportWorld();
  });

  const unitPath = (serial: string) => digitalLinkPath(world.traded.gtin, world.traded.lot, serial);

  describe("GS1 Digital Link passports", function () {
    it("test_unitPage_browser_servesProductTimelineAndVerificationHooks", async function () {
      const app = passportTestApp(createModule(world));
      const res = await request(app)
        .get(unitPath("A/0003"))
        .set("Accept", HTML)
        .expect(200)
        .expect("Content-Type", /text\/html/);
      expect(res.headers["cache-control"]).to.equal("no-cache");
      expect(res.headers["content-security-policy"]).to.match(/script-src 'self'/);
      const html = res.text;
      expect(html).to.match(/<html lang="en">/);
      expect(html).to.include("Acme Olive Oil S.L.");
      expect(html).to.include("Verified manufacturer");
      expect(html).to.include("Serial</dt><dd>A/0003");
      expect(html).to.include("Mare Nostrum Freight");
      expect(html).to.include("FreshMart Retail B.V.");
      expect(html).to.include("Inspection passed");
      expect(html).to.include("Business step: Retail");
      expect(html.match(/<li class="[^"]*" data-event="/g)).to.have.length(6); // registered, 4 custody steps, inspection
      expect(html).to.include('<script type="module" src="/passport/assets/passport.js"></script>');
      expect(html).to.include('id="verify-status"');
      expect(html).not.to.include("Recalled: do not use");
      expect(html).to.include('<link rel="canonical" href="https://id.provena.test/01/');
    });

    it("test_unitPage_jsonClient_answersJsonLdWithoutCountingScan", async function () {
      const app = passportTestApp(createModule(world));
      const serial = "A%0004";
      const res = await request(app)
        .get(unitPath(serial))
        .set("Accept", "application/ld+json")
        .expect(200)
        .expect("Content-Type", /application\/ld\+json/);
      const doc = JSON.parse(res.text);
      expect(doc["@context"]).to.include({ "@vocab": "https://schema.org/" });
      expect(doc["@type"]).to.equal("IndividualProduct");
      expect(doc["@id"]).to.equal(buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, serial));
      expect(doc.gtin).to.equal(world.traded.gtin);
      expect(doc["gs1:hasBatchLotNumber"]).to.equal("PP-2025%A");
      expect(doc.serialNumber).to.equal(serial);
      expect(doc.productionDate).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(doc.manufacturer).to.deep.include({ "@type": "Organization", name: "Acme Olive Oil S.L.", "provena:verified": true });
      expect(doc.manufacturer.globalLocationNumber).to.match(/^\d{13}$/);
      const history = doc["provena:history"];
      expect(history["@type"]).to.equal("ItemList");
      expect(history.itemListElement.map((i: { position: number }) => i.position)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(history.itemListElement.map((i: { item: Record<string, unknown> }) => i.item["provena:event"])).to.deep.equal([
        "BatchRegistered",
        "HandoffProposed",
        "HandoffAccepted",
        "QualityAttested",
        "HandoffProposed",
        "HandoffAccepted",
      ]);
      const blocks = history.itemListElement.map((i: { item: Record<string, number> }) => i.item["provena:blockNumber"]);
      expect([...blocks].sort((a, b) => a - b)).to.deep.equal(blocks);
      expect(history.itemListElement[2].item["provena:args"]).to.include({
        businessStep: "receiving",
        locationGln: DEMO_PORT_GLN.toString().padStart(13, "0"),
      });
      const verification = doc["provena:verification"];
      expect(verification).to.include({ chainId: world.deployment.chainId, registry: world.deployment.registry, serial });
      expect(StandardMerkleTree.verify(verification.serialRoot, ["string"], [serial], verification.proof)).to.equal(true);

      const plain = await request(app)
        .get(unitPath(serial))
        .set("Accept", "application/json")
        .expect(200)
        .expect("Content-Type", /application\/json/);
      expect(JSON.parse(plain.text)["@type"]).to.equal("IndividualProduct");
      expect((await world.store.scanStats(world.traded.batchId, serial, 0)).total).to.equal(0);
    });

    it("test_unitPage_gtin13LinkAndEncodedSerial_served", async function () {
      const app = passportTestApp(createModule(world));
      const gtin13 = world.traded.gtin.slice(1);
      const res = await request(app).get(`/01/${gtin13}/10/PP-2025%25A/21/A%250004`).set("Accept", "application/json").expect(200);
      expect(res.body.serialNumber).to.equal("A%0004");
    });

    it("test_batchPage_childBatch_showsLineageAndRecallBanner", async function () {
      const app = passportTestApp(createModule(world));
      const batch = await request(app).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", HTML).expect(200);
      expect(batch.text).to.include("Lot PP-2025%A");
      expect(batch.text).not.to.include("Ownership");

      const recalled = world.children[1]!;
      const child = await request(app)
        .get(digitalLinkPath(world.traded.gtin, recalled.lot, "C2-1"))
        .set("Accept", HTML)
        .expect(200);
      expect(child.text).to.match(/<section class="banner recall" role="alert"/);
      expect(child.text).to.include("Recalled: do not use this product");
      // Inside <main>, after the title: "Skip to main content" and landmark navigation must not pass over it.
      expect(child.text.match(/<h[1-6][\s>]/)![0]).to.equal("<h1>");
      expect(child.text.indexOf('<main id="main">')).to.be.lessThan(child.text.indexOf('class="banner recall"'));
      expect(child.text).to.include("Port of Rotterdam Customs");
      expect(child.text).to.include(`<a href="${digitalLinkPath(world.traded.gtin, world.parent.lot)}">Lot PP-SPLIT</a>`);

      const parent = await request(app)
        .get(digitalLinkPath(world.traded.gtin, world.parent.lot))
        .set("Accept", "application/ld+json")
        .expect(200);
      const doc = JSON.parse(parent.text);
      expect(doc["provena:children"].map((c: { "gs1:hasBatchLotNumber": string }) => c["gs1:hasBatchLotNumber"])).to.deep.equal([
        "PP-SPLIT/1",
        "PP-SPLIT/2",
      ]);
      expect(doc["provena:state"].status).to.equal("split");

      const childDoc = (await request(app).get(digitalLinkPath(world.traded.gtin, recalled.lot)).set("Accept", "application/json")).body;
      expect(childDoc["provena:recalled"]).to.equal(true);
      expect(childDoc["provena:lineage"]).to.have.length(1);
      expect(childDoc["provena:lineage"][0]["provena:batchId"]).to.equal(world.parent.batchId);
    });

    // A seller splitting a failed lot must not get child lots whose summary reads "Not inspected".
    it("test_batchPage_childOfAFailedLot_summarySaysFailedInheritedOnPageAndJsonLd", async function () {
      const { registry, manufacturer, carrier, inspector } = world.deployed;
      const failed = await registerBatch(registry, manufacturer, { lot: "PP-FAIL", quantity: 2n, serials: ["F-1", "F-2"] });
      await (
        await registry.connect(manufacturer).proposeHandoff(failed.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping)
      ).wait();
      await (await registry.connect(carrier).acceptHandoff(failed.batchId, DEMO_PORT_GLN, BusinessStep.Receiving)).wait();
      await (await registry.connect(inspector).attestQuality(failed.batchId, false, keccak256(toUtf8Bytes("mould found")))).wait();
      await (
        await registry.connect(carrier).splitBatch(failed.batchId, [
          { lot: "PP-FAIL/1", quantity: 1n, serialRoot: failed.tree.root },
          { lot: "PP-FAIL/2", quantity: 1n, serialRoot: failed.tree.root },
        ])
      ).wait();
      await world.sync();

      const app = passportTestApp(createModule(world));
      const child = await request(app).get(digitalLinkPath(world.traded.gtin, "PP-FAIL/1")).set("Accept", HTML).expect(200);
      const summary = /<dt>Inspection<\/dt>\s*<dd>(.*?)<\/dd>/s.exec(child.text)?.[1];
      expect(summary).to.equal(`Failed (inherited from <a href="${digitalLinkPath(world.traded.gtin, "PP-FAIL")}">lot PP-FAIL</a>)`);
      expect(child.text).not.to.include("Not inspected");

      const doc = (await request(app).get(digitalLinkPath(world.traded.gtin, "PP-FAIL/1")).set("Accept", "application/ld+json")).body;
      expect(doc["provena:inspection"]).to.deep.include({
        "provena:result": "failed",
        "provena:inherited": true,
        "provena:batchId": failed.batchId.toLowerCase(),
      });
      // The registry's own record of the child is unchanged: it was never inspected itself.
      expect(doc["provena:state"].inspection).to.equal("none");

      // The lot itself says Failed, not inherited; a lot nobody inspected says so.
      const own = await request(app).get(digitalLinkPath(world.traded.gtin, "PP-FAIL")).set("Accept", HTML).expect(200);
      expect(/<dt>Inspection<\/dt>\s*<dd>(.*?)<\/dd>/s.exec(own.text)?.[1]).to.equal("Failed");
      const never = await request(app).get(digitalLinkPath(world.traded.gtin, world.unlisted.lot)).set("Accept", HTML).expect(200);
      expect(/<dt>Inspection<\/dt>\s*<dd>(.*?)<\/dd>/s.exec(never.text)?.[1]).to.equal("Not inspected");
    });

    it("test_unitPage_childUnit_showsParentStepsBeforeSplitOnly", async function () {
      const app = passportTestApp(createModule(world));
      const child = world.children[0]!;
      const sibling = world.children[1]!;
      const doc = (
        await request(app)
          .get(digitalLinkPath(world.traded.gtin, child.lot, "C1-1"))
          .set("Accept", "application/ld+json")
          .expect(200)
      ).body;
      const [parent] = doc["provena:lineage"];
      expect(parent["gs1:hasBatchLotNumber"]).to.equal(world.parent.lot);
      const before = parent["provena:historyBeforeSplit"] as {
        name: string;
        "provena:event": string;
        "provena:args": Record<string, unknown>;
        "provena:blockNumber": number;
      }[];
      expect(before.map((e) => e.name)).to.deep.equal(["Handoff proposed", "Custody accepted", "Inspection passed"]);
      expect(before.every((e) => e["provena:args"].batchId === world.parent.batchId)).to.equal(true);
      expect(before[1]!["provena:args"]).to.deep.include({
        to: world.deployed.carrier.address.toLowerCase(),
        locationGln: DEMO_PORT_GLN.toString(),
      });
      // In chain order, all before the child's own history starts (its creation by the split).
      const splitBlock = doc["provena:history"].itemListElement[0].item["provena:blockNumber"];
      expect(before.map((e) => e["provena:blockNumber"])).to.deep.equal(
        [...before.map((e) => e["provena:blockNumber"])].sort((a, b) => a - b),
      );
      expect(before.at(-1)!["provena:blockNumber"]).to.be.lessThan(splitBlock);
      expect(JSON.stringify(doc)).not.to.include(sibling.lot);

      const html = (
        await request(app)
          .get(digitalLinkPath(world.traded.gtin, child.lot, "C1-1"))
          .set("Accept", HTML)
          .expect(200)
      ).text;
      const timeline = timelineOf(html);
      const steps = timelineSteps(timeline);
      expect(steps).to.deep.equal([
        "Registered by the manufacturer (earlier lot)",
        "Handoff proposed (earlier lot)",
        "Custody accepted (earlier lot)",
        "Inspection passed (earlier lot)",
        "Split from lot PP-SPLIT",
      ]);
      expect(timeline.match(/On <a href="[^"]+">lot PP-SPLIT<\/a>, before the split/g)).to.have.length(4);
      expect(timeline).to.include("Mare Nostrum Freight");
      expect(timeline).not.to.include(sibling.lot);
      expect(html).to.match(/Passed on .*, inspector .* \(on <a href="[^"]+">lot PP-SPLIT<\/a>, before the split\)/);
    });

    it("test_passportPage_badLink_is400HtmlOrProblemJson", async function () {
      const app = passportTestApp(createModule(world));
      const html = await request(app)
        .get("/01/4006381333932/10/LOT")
        .set("Accept", HTML)
        .expect(400)
        .expect("Content-Type", /text\/html/);
      expect(html.text).to.include("This is not a valid product link");
      expect(html.text).to.include("check digit 2, but its digits require 1");
      const json = await request(app)
        .get("/01/04006381333931/10/LOT%20A")
        .set("Accept", "application/json")
        .expect(400)
        .expect("Content-Type", /problem\+json/);
      expect(json.body).to.include({ status: 400, ai: "10", reason: "invalid-digital-link" });
      expect(json.body.detail).to.match(/a space/);
      const structure = await request(app).get("/01/04006381333931/21/X").set("Accept", "application/json").expect(400);
      expect(structure.body.detail).to.match(/serial without a batch/);
      await request(app).get("/01/04006381333931/10/L/21/S/extra").set("Accept", HTML).expect(400);
      // Extra trailing slashes are still the same valid link: redirected to its canonical form, query kept.
      const slashes = await request(app)
        .get(`${unitPath("A-0001")}//?utm=x`)
        .set("Accept", HTML)
        .expect(301);
      expect(slashes.headers.location).to.equal(`${unitPath("A-0001")}?utm=x`);
    });

    it("test_passportPage_unknownProductOrSerial_is404WithCounterfeitWarning", async function () {
      const app = passportTestApp(createModule(world));
      const unknownBatch = await request(app)
        .get("/01/04006381333931/10/NOPE")
        .set("Accept", HTML)
        .expect(404)
        .expect("Content-Type", /text\/html/);
      expect(unknownBatch.text).to.include("Product not found");
      const unknownSerial = await request(app).get(unitPath("FAKE-1")).set("Accept", "application/json").expect(404);
      expect(unknownSerial.body.detail).to.match(/not one of the units .* may be counterfeit/);
      expect(unknownSerial.body.reason).to.equal("unknown-serial");
    });

    // One query rule everywhere: printed links' trust anchors and GS1 data attributes are documented and pass, the
    // rest is refused (as an explained page to a browser), so a typo never silently shows something else.
    it("test_passportPage_queryParameters_documentedPassOthersAre400", async function () {
      const app = passportTestApp(createModule(world));
      const anchors = `chain=${world.deployment.chainId}&registry=${world.deployment.registry}`;
      await request(app)
        .get(`${unitPath("A-0002")}?${anchors}`)
        .set("Accept", "application/ld+json")
        .expect(200);
      await request(app)
        .get(`${unitPath("A-0002")}?${anchors}&17=261231&3103=000750`)
        .set("Accept", "application/ld+json")
        .expect(200);
      const json = await request(app)
        .get(`${unitPath("A-0002")}?${anchors}&utm_source=x`)
        .set("Accept", "application/ld+json")
        .expect(400);
      expect(json.body.errors).to.deep.equal([{ in: "query", path: "utm_source", message: "is not a parameter of this endpoint" }]);
      const page = await request(app)
        .get(`${unitPath("A-0002")}?x=1`)
        .set("Accept", HTML)
        .expect(400);
      expect(page.headers["content-type"]).to.match(/^text\/html/);
      expect(page.text).to.include("Unknown query parameter: x");
    });

    it("test_passportPage_echoedInput_isEscaped", async function () {
      const app = passportTestApp(createModule(world));
      const res = await request(app).get(`/01/04006381333931/10/%3Cb%3E'%26%22x`).set("Accept", HTML).expect(404);
      expect(res.text).not.to.include(`<b>'&"x`);
      expect(res.text).to.include("&lt;b&gt;&#39;&amp;&quot;x");
    });
  });

  describe("scans, clone warnings and claims", function () {
    it("test_scan_htmlView_recordedWithRegionExceptPrefetchAndWarnsOnClone", async function () {
      const app = passportTestApp(createModule(world, { thresholds: { maxRegions: 2, maxScans: 100, maxRecentScans: 100 } }), {
        trustProxy: true,
      });
      const path = unitPath("A-0005");
      const scanner = (n: number) => request(app).get(path).set("Accept", HTML).set("X-Forwarded-For", `198.51.100.${n}`);
      await scanner(1).set("CF-IPCountry", "DE").expect(200);
      await scanner(2).set("Accept-Language", "fr-CH,fr;q=0.9").expect(200);
      await scanner(3).set("Sec-Purpose", "prefetch").expect(200);
      const quiet = await scanner(4).set("X-Country-Code", "de").expect(200);
      expect(quiet.text).not.to.include("This code may have been copied");
      const stats = await world.store.scanStats(world.traded.batchId, "A-0005", 0);
      expect(stats.total).to.equal(3);
      expect(stats.regions).to.deep.equal(["DE", "CH"]);

      const cloned = await scanner(5).set("CF-IPCountry", "BR").expect(200);
      expect(cloned.text).to.include("This code may have been copied");
      expect(cloned.text).to.include("3 different countries (DE, BR, CH)");
      expect(cloned.text.indexOf('<main id="main">')).to.be.lessThan(cloned.text.indexOf('class="banner clone"'));
    });

    it("test_scan_oneClientReloadingWithRotatingHeaders_countsOnceAndNeverWarns", async function () {
      // Issue 16: one client loading a genuine unit's page 100 times, faking a new country and browser each time.
      const app = passportTestApp(createModule(world, { thresholds: { maxRegions: 3, maxScans: 10, maxRecentScans: 10 } }), {
        trustProxy: true,
      });
      const path = unitPath("A/0003");
      const before = await world.store.scanStats(world.traded.batchId, "A/0003", 0);
      const countries = ["DE", "BR", "CH", "JP", "US"];
      let last = "";
      for (let i = 0; i < 100; i += 1) {
        const res = await request(app)
          .get(path)
          .set("Accept", HTML)
          .set("X-Forwarded-For", "203.0.113.7")
          .set("CF-IPCountry", countries[i % countries.length]!)
          .set("User-Agent", `Scanner/${i}`)
          .expect(200);
        last = res.text;
      }
      expect(last).not.to.include("This code may have been copied");
      const after = await world.store.scanStats(world.traded.batchId, "A/0003", 0);
      expect(after.total).to.equal(before.total + 1);
      expect(new Set(after.regions)).to.deep.equal(new Set([...before.regions, "DE"]));

      // Real copies are scanned by many people in several countries: those still add up to a warning.
      const real = ["BR", "CH", "JP", "US"];
      for (const [n, country] of real.entries()) {
        last = (
          await request(app)
            .get(path)
            .set("Accept", HTML)
            .set("X-Forwarded-For", `192.0.2.${n + 1}`)
            .set("CF-IPCountry", country)
        ).text;
      }
      expect(last).to.include("This code may have been copied");
      const countriesSeen = Number(/scanned in (\d+) different countries/.exec(last)?.[1]);
      expect(countriesSeen).to.be.at.least(1 + real.length);
    });

    it("test_claim_firstOwner_claimsAndLaterScansShowClaimed", async function () {
      const app = passportTestApp(createModule(world), { jsonBodies: true });
      const claim = `/api/v1/batches/${world.traded.batchId}/units/A-0001/claim`;
      const first = await request(app).post(claim).send({ owner: "my secret phrase" }).expect(201);
      expect(first.body).to.include({ serial: "A-0001", owner: ownerHandleKey("my secret phrase"), created: true });
      expect(first.body.owner).to.match(/^sha256:[0-9a-f]{64}$/);
      expect((await request(app).post(claim).send({ owner: "my secret phrase" }).expect(200)).body.created).to.equal(false);
      const other = await request(app).post(claim).send({ owner: "0x000000000000000000000000000000000000dEaD" }).expect(409);
      expect(other.body.detail).to.match(/already claimed/);
      await request(app).post(claim).send({ owner: "x" }).expect(400);
      await request(app).post(`/api/v1/batches/${world.traded.batchId}/units/NOPE/claim`).send({ owner: "someone" }).expect(404);

      const page = await request(app).get(unitPath("A-0001")).set("Accept", HTML).expect(200);
      expect(page.text).to.include("<strong>Claimed</strong>");
      expect(page.text).not.to.include('name="owner"');
    });

    it("test_claimForm_submitted_redirectsToPassport", async function () {
      const app = passportTestApp(createModule(world));
      const unclaimed = await request(app).get(unitPath("A-0002")).set("Accept", HTML).expect(200);
      const action = /<form method="post" action="([^"]+)">/.exec(unclaimed.text)?.[1];
      expect(action).to.equal(`/api/v1/batches/${world.traded.batchId}/units/A-0002/claim`);
      const res = await request(app)
        .post(action!)
        .set("Accept", HTML)
        .type("form")
        .send({ owner: "0x000000000000000000000000000000000000bEEF" })
        .expect(303);
      expect(res.headers.location).to.equal(`${unitPath("A-0002")}?claimed=1`);
      const before = (await world.store.scanStats(world.traded.batchId, "A-0002", 0)).total;
      const confirmed = await request(app).get(res.headers.location!).set("Accept", HTML).expect(200);
      expect(confirmed.text).to.include("this item is now registered as claimed");
      expect((await world.store.scanStats(world.traded.batchId, "A-0002", 0)).total).to.equal(before);
      expect((await world.store.getUnitClaim(world.traded.batchId, "A-0002"))!.owner).to.equal(
        "0x000000000000000000000000000000000000beef",
      );
    });
  });

  describe("serial-list uploads", function () {
    it("test_serialUpload_csvList_storesRootAndRepeatIs200", async function () {
      const app = passportTestApp(createModule(world));
      const csv = "serial,made\nU-1,2025-01-01\nU-2,2025-01-01\n";
      const res = await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send(csv).expect(201);
      const root = StandardMerkleTree.of([["U-1"], ["U-2"]], ["string"]).root;
      expect(res.body).to.deep.equal({ serialRoot: root, count: 2 });
      expect(res.headers.location).to.equal(`/api/v1/serial-sets/${root}`);
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send("U-1\nU-2").expect(200);
      const summary = await request(app).get(`/api/v1/serial-sets/${root}`).expect(200);
      expect(summary.body).to.include({ serialRoot: root, count: 2 });
    });

    it("test_serialUpload_badLines_is422WithEveryLineAndStoresNothing", async function () {
      const app = passportTestApp(createModule(world));
      const res = await request(app)
        .post("/api/v1/serial-sets")
        .set("Content-Type", "application/json")
        .send('[\n"V-1",\n"V 2",\n"V-1"\n]')
        .expect(422);
      expect(res.body.errorCount).to.equal(2);
      expect(res.body.errors).to.deep.equal([
        { line: 3, entry: 2, message: res.body.errors[0].message },
        { line: 4, entry: 3, message: 'Duplicate serial "V-1" (first on line 2)' },
      ]);
      const root = StandardMerkleTree.of([["V-1"]], ["string"]).root;
      await request(app).get(`/api/v1/serial-sets/${root}`).expect(404);
    });

    it("test_serialUpload_preParsedJsonOrOtherMediaType_handled", async function () {
      const app = passportTestApp(createModule(world), { jsonBodies: true });
      const res = await request(app)
        .post("/api/v1/serial-sets")
        .send({ serials: ["W-1", 7] })
        .expect(422);
      expect(res.body.errors).to.deep.equal([
        { entry: 2, message: "Expected a string, found number (write serials as strings: numbers lose leading zeros)" },
      ]);
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "application/xml").send("<serials/>").expect(415);
    });

    // An uploader nesting JSON 10,000 deep used to overflow the serial-list parser's stack (500); 5,000 got a 422.
    it("test_serialUpload_deeplyNestedJson_is400NamingTheDepthLimitAtEveryDepth", async function () {
      const app = passportTestApp(createModule(world, {}, { jsonMaxDepth: 16 }));
      for (const depth of [17, 5_000, 10_000, 200_000]) {
        const res = await request(app)
          .post("/api/v1/serial-sets")
          .set("Content-Type", "application/json")
          .send(`${"[".repeat(depth)}${"]".repeat(depth)}`);
        expect(res.status, `depth ${depth}`).to.equal(400);
        expect(res.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
        expect(res.body).to.include({ detail: "The JSON body is nested deeper than 16 levels", maxDepth: 16 });
      }
      // Brackets inside strings are text, and CSV is never checked: both still reach the parser.
      await request(app)
        .post("/api/v1/serial-sets")
        .set("Content-Type", "application/json")
        .send(`["${"[".repeat(40)}"]`)
        .expect(422);
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send("D-[[[[[[[[[[[[[[[[[[\n").expect(422);
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "application/json").send('{"serials":["D-1"]}').expect(201);
    });

    it("test_serialUpload_100kSerialsCsv_accepted", async function () {
      this.timeout(60_000);
      const app = passportTestApp(createModule(world));
      const serials = Array.from({ length: 100_000 }, (_, i) => `BULK-${String(i).padStart(15, "0")}`);
      const res = await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send(serials.join("\n")).expect(201);
      expect(res.body.count).to.equal(100_000);
      const proof = await request(app).get(`/api/v1/batches/${world.traded.batchId}/units/A-0001/proof`).expect(200);
      expect(StandardMerkleTree.verify(proof.body.serialRoot, ["string"], ["A-0001"], proof.body.proof)).to.equal(true);
    });
  });

  describe("QR codes", function () {
    const anchorsOf = (w: PassportWorld) => ({ chainId: w.deployment.chainId, registry: w.deployment.registry });

    it("test_qrCode_unitUriPng_decodesBackExactly", async function () {
      const app = passportTestApp(createModule(world));
      const res = await request(app)
        .get(`/api/v1/batches/${world.traded.batchId}/units/A%2F0003/qr`)
        .buffer(true)
        .parse(binary)
        .expect(200)
        .expect("Content-Type", "image/png");
      // The printed code carries its trust anchors: the chain and registry the verifier checks against.
      expect(decodeQr(res.body as Buffer)).to.equal(
        buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, "A/0003", anchorsOf(world)),
      );
      expect(decodeQr(res.body as Buffer)).to.match(new RegExp(`\\?chain=${world.deployment.chainId}&registry=0x[0-9a-f]{40}$`));
      expect(buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, "A/0003")).to.match(
        /\/10\/PP-2025%25A\/21\/A%2F0003$/,
      );
    });

    it("test_qrCode_batchLink_servedAsPngAndSvgUnknownIs404", async function () {
      const app = passportTestApp(createModule(world));
      const png = await request(app).get(`/api/v1/batches/${world.traded.batchId}/qr?width=200`).buffer(true).parse(binary).expect(200);
      expect(PNG.sync.read(png.body as Buffer).width).to.equal(200);
      expect(decodeQr(png.body as Buffer)).to.equal(
        buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, null, anchorsOf(world)),
      );
      const svg = await request(app)
        .get(`/api/v1/batches/${world.traded.batchId}/qr?format=svg`)
        .buffer(true)
        .parse(binary)
        .expect(200)
        .expect("Content-Type", /image\/svg\+xml/);
      expect((svg.body as Buffer).toString("utf8")).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      await request(app)
        .get(`/api/v1/batches/0x${"12".repeat(32)}/qr`)
        .expect(404);
      await request(app).get(`/api/v1/batches/${world.traded.batchId}/units/NOPE/qr`).expect(404);
      await request(app).get(`/api/v1/batches/nope/qr`).expect(400);
      await request(app).get(`/api/v1/batches/${world.traded.batchId}/qr?format=gif`).expect(400);
    });

    it("test_qrSheet_batch_printsPaginatedLabelledSvgs", async function () {
      const app = passportTestApp(createModule(world));
      const res = await request(app)
        .get(`/api/v1/batches/${world.traded.batchId}/qr-sheet?perPage=2&page=2`)
        .set("Accept", HTML)
        .expect(200);
      expect(res.text.match(/<figure class="label"/g)).to.have.length(2);
      expect(res.text).to.include("A/0003");
      expect(res.text).to.include("A%0004");
      expect(res.text).to.include("Page 2 of 3");
      expect(res.text).to.include(
        `data-uri="${escapeHtml(buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, "A/0003", anchorsOf(world)))}"`,
      );
      await request(app).get(`/api/v1/batches/${world.traded.batchId}/qr-sheet?perPage=2&page=4`).set("Accept", HTML).expect(404);
      await request(app).get(`/api/v1/batches/${world.unlisted.batchId}/qr-sheet`).set("Accept", "application/json").expect(404);
    });

    // A browser opening a bad sheet link under /api gets the same machine-readable problem as any client.
    it("test_qrSheetAndClaim_underApiWithBrowserAccept_answerProblemJsonNotAPage", async function () {
      const app = passportTestApp(createModule(world));
      const sheet = `/api/v1/batches/${world.traded.batchId}/qr-sheet`;
      for (const path of [`${sheet}?page=4&perPage=2`, `${sheet}?perPage=0x10`, `/api/v1/batches/nope/qr-sheet`, `${sheet}?utm=1`]) {
        const res = await request(app).get(path).set("Accept", HTML);
        expect(res.status, path).to.be.within(400, 404);
        expect(res.headers["content-type"], path).to.equal("application/problem+json; charset=utf-8");
        expect(res.text).not.to.include("<html");
      }
      const claim = await request(app)
        .post(`/api/v1/batches/${world.traded.batchId}/units/NOPE/claim`)
        .set("Accept", HTML)
        .type("form")
        .send("owner=someone");
      expect(claim.status).to.equal(404);
      expect(claim.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
    });

    it("test_qrQuery_numbersInDecimalDigitsOnly", async function () {
      const app = passportTestApp(createModule(world));
      for (const query of ["width=0x100", "width=2e2", "width=%20200", "width=200.0"]) {
        const res = await request(app).get(`/api/v1/batches/${world.traded.batchId}/qr?${query}`).expect(400);
        expect(res.body.errors.map((error: { path: string }) => error.path)).to.deep.equal(["width"]);
      }
      await request(app).get(`/api/v1/batches/${world.traded.batchId}/qr-sheet?perPage=1e2`).expect(400);
    });
  });

  describe("read-only RPC proxy", function () {
    it("test_rpcProxy_reads_forwardedSingleAndBatched", async function () {
      const app = passportTestApp(createModule(world), { jsonBodies: true });
      const single = await request(app).post("/rpc").send({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }).expect(200);
      expect(single.body).to.deep.equal({ jsonrpc: "2.0", id: 1, result: `0x${world.deployment.chainId.toString(16)}` });
      const batch = await request(app)
        .post("/rpc")
        .send([
          { jsonrpc: "2.0", id: "a", method: "eth_blockNumber", params: [] },
          {
            jsonrpc: "2.0",
            id: "b",
            method: "eth_getLogs",
            params: [{ address: world.deployment.registry, fromBlock: "0x0", toBlock: "latest" }],
          },
        ])
        .expect(200);
      expect(batch.body[0].result).to.match(/^0x[0-9a-f]+$/);
      expect(batch.body[1].result.length).to.be.greaterThan(10);
    });

    it("test_rpcProxy_writesForeignContractsOrMalformed_refusedWithJsonRpcErrors", async function () {
      const app = passportTestApp(createModule(world));
      const send = (body: unknown) =>
        request(app)
          .post("/rpc")
          .send(body as object)
          .expect(200);
      const write = await send({ jsonrpc: "2.0", id: 2, method: "eth_sendRawTransaction", params: ["0x00"] });
      expect(write.body.error.code).to.equal(-32601);
      expect(write.body.error.message).to.match(/read-only/);
      expect((await send({ jsonrpc: "2.0", id: 3, method: "eth_accounts", params: [] })).body.error.code).to.equal(-32601);
      const foreign = await send({
        jsonrpc: "2.0",
        id: 4,
        method: "eth_call",
        params: [{ to: `0x${"11".repeat(20)}`, data: "0x" }, "latest"],
      });
      expect(foreign.body.error.code).to.equal(-32602);
      const unfiltered = await send({ jsonrpc: "2.0", id: 5, method: "eth_getLogs", params: [{ fromBlock: "0x0" }] });
      expect(unfiltered.body.error.code).to.equal(-32602);
      expect((await send({ id: 6, method: "eth_chainId" })).body.error.code).to.equal(-32600);
      expect((await send([])).body.error.code).to.equal(-32600);
      const reverted = await send({
        jsonrpc: "2.0",
        id: 7,
        method: "eth_call",
        params: [{ to: world.deployment.registry, data: "0xdeadbeef" }, "latest"],
      });
      expect(reverted.body.error).to.be.an("object");
    });
  });

  describe("assets", function () {
    it("test_assets_verificationModuleEthersAndAbi_servedGzippedAndCacheable", async function () {
      const app = passportTestApp(createModule(world));
      const core = await request(app)
        .get("/passport/assets/verify-core.js")
        .set("Accept-Encoding", "gzip")
        .expect(200)
        .expect("Content-Type", /javascript/);
      expect(core.headers["content-encoding"]).to.equal("gzip");
      expect(core.text).to.include("export async function verifyPassport");
      await request(app).get("/passport/assets/verify-core.js").set("If-None-Match", core.headers.etag!).expect(304);
      const ethers = await request(app).get("/passport/assets/ethers.min.js").expect(200);
      expect(ethers.text).to.match(/Interface/);
      const abi = await request(app).get("/passport/assets/registry-abi.json").expect(200);
      expect(abi.body.abi.map((f: { name: string }) => f.name)).to.include.members([
        "verifyUnit",
        "batch",
        "batchStatus",
        "participant",
        "HandoffAccepted",
        "BatchRegistered",
      ]);
      expect(abi.body.enums.BusinessStep[11]).to.equal("retail");
      await request(app).get("/passport/assets/secret.txt").expect(404);
    });

    // A scanner probing asset names must not reach Object.prototype's members through the lookup table.
    it("test_assets_builtInObjectPropertyNames_are404", async function () {
      const app = passportTestApp(createModule(world));
      for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"]) {
        const res = await request(app).get(`/passport/assets/${name}`);
        expect(res.status, name).to.equal(404);
        expect(res.headers["content-type"], name).to.match(/^application\/problem\+json/);
      }
    });
  });

  describe("two-level lineage (grandparent lot -> parent lot -> child lot)", function () {
    type ChainEventItem = {
      name: string;
      "provena:event": string;
      "provena:args": Record<string, unknown>;
      "provena:blockNumber": number;
      "provena:logIndex": number;
    };

    it("test_unitPage_twoLevelLineage_listsAncestorsNearestFirstWithOwnSteps", async function () {
      const family = await lineageFamily(world);
      const app = passportTestApp(createModule(world));
      const { carrier, retailer, inspector, manufacturer } = world.deployed;
      const doc = (
        await request(app)
          .get(digitalLinkPath(world.traded.gtin, family.child.lot, "G2-3"))
          .set("Accept", "application/ld+json")
          .expect(200)
      ).body;
      expect(doc["gs1:hasSerialNumber"]).to.equal("G2-3");
      const lineage = doc["provena:lineage"] as Record<string, unknown>[];
      expect(lineage.map((a) => [a["gs1:hasBatchLotNumber"], a["provena:batchId"]])).to.deep.equal([
        ["PP-GEN-0/1", family.parent.batchId],
        ["PP-GEN-0", family.grandparent.batchId],
      ]);
      expect((lineage[0]!["provena:registration"] as ChainEventItem)["provena:event"]).to.equal("BatchSplit");
      expect((lineage[0]!["provena:registration"] as ChainEventItem)["provena:args"]).to.deep.include({
        parentId: family.grandparent.batchId,
        childId: family.parent.batchId,
        custodian: carrier.address.toLowerCase(),
        lot: "PP-GEN-0/1",
      });
      expect((lineage[1]!["provena:registration"] as ChainEventItem)["provena:event"]).to.equal("BatchRegistered");

      const summary = (e: ChainEventItem) => [e.name, e["provena:event"], e["provena:args"].batchId];
      const parentBefore = lineage[0]!["provena:historyBeforeSplit"] as ChainEventItem[];
      const grandparentBefore = lineage[1]!["provena:historyBeforeSplit"] as ChainEventItem[];
      expect(parentBefore.map(summary)).to.deep.equal([
        ["Handoff proposed", "HandoffProposed", family.parent.batchId],
        ["Custody accepted", "HandoffAccepted", family.parent.batchId],
        ["Inspection passed", "QualityAttested", family.parent.batchId],
      ]);
      expect(grandparentBefore.map(summary)).to.deep.equal([
        ["Handoff proposed", "HandoffProposed", family.grandparent.batchId],
        ["Custody accepted", "HandoffAccepted", family.grandparent.batchId],
        ["Inspection passed", "QualityAttested", family.grandparent.batchId],
      ]);
      expect(parentBefore[1]!["provena:args"]).to.deep.include({
        from: carrier.address.toLowerCase(),
        to: retailer.address.toLowerCase(),
        locationGln: DEMO_DC_GLN.toString(),
      });
      expect(grandparentBefore[1]!["provena:args"]).to.deep.include({
        from: manufacturer.address.toLowerCase(),
        to: carrier.address.toLowerCase(),
        locationGln: DEMO_PORT_GLN.toString(),
      });
      expect(parentBefore[2]!["provena:args"]).to.deep.include({
        inspector: inspector.address.toLowerCase(),
        passed: true,
        reportHash: keccak256(toUtf8Bytes("parent lab report")),
      });
      expect(grandparentBefore[2]!["provena:args"]).to.deep.include({
        passed: true,
        reportHash: keccak256(toUtf8Bytes("grandparent lab report")),
      });

      // Chain order: the grandparent's journey, its split creating the parent, the parent's journey, the split creating the child.
      const at = (e: ChainEventItem) => e["provena:blockNumber"];
      const parentCreated = at(lineage[0]!["provena:registration"] as ChainEventItem);
      const childCreated = doc["provena:history"].itemListElement[0].item as ChainEventItem;
      expect(childCreated["provena:event"]).to.equal("BatchSplit");
      expect(childCreated["provena:args"]).to.deep.include({
        parentId: family.parent.batchId,
        childId: family.child.batchId,
        custodian: retailer.address.toLowerCase(),
      });
      expect(Math.max(...grandparentBefore.map(at))).to.be.lessThan(parentCreated);
      expect(Math.min(...parentBefore.map(at))).to.be.greaterThan(parentCreated);
      expect(Math.max(...parentBefore.map(at))).to.be.lessThan(at(childCreated));
      // No sibling split, and nothing of either sibling lot (the uncle's failed inspection, the cousin's handoff).
      const text = JSON.stringify(doc);
      for (const sibling of family.siblings) {
        expect(text).not.to.include(sibling.lot);
        expect(text).not.to.include(sibling.batchId);
      }
      expect(text).not.to.include(keccak256(toUtf8Bytes("sibling lab report")));
      expect(doc["provena:history"].itemListElement.map((i: { item: ChainEventItem }) => i.item["provena:event"])).to.deep.equal([
        "BatchSplit",
      ]);

      const html = (
        await request(app)
          .get(digitalLinkPath(world.traded.gtin, family.child.lot, "G2-3"))
          .set("Accept", HTML)
          .expect(200)
      ).text;
      const timeline = timelineOf(html);
      const steps = timelineSteps(timeline);
      expect(steps).to.deep.equal([
        "Registered by the manufacturer (earlier lot)",
        "Handoff proposed (earlier lot)",
        "Custody accepted (earlier lot)",
        "Inspection passed (earlier lot)",
        "Split from lot PP-GEN-0 (earlier lot)",
        "Handoff proposed (earlier lot)",
        "Custody accepted (earlier lot)",
        "Inspection passed (earlier lot)",
        "Split from lot PP-GEN-0/1",
      ]);
      expect(timeline.match(/On <a href="[^"]+">lot PP-GEN-0<\/a>, before the split/g)).to.have.length(4);
      expect(timeline.match(/On <a href="[^"]+">lot PP-GEN-0\/1<\/a>, before the split/g)).to.have.length(4);
    });

    it("test_batchHistory_readApiAndPassport_agreeOnLineageEventsAndRecall", async function () {
      const family = await lineageFamily(world);
      const app = passportTestApp(createModule(world));
      const batches = createBatchService({ store: world.store });
      const position = (blockNumber: number, logIndex: number) => `${blockNumber}:${logIndex}`;
      const lots = [world.traded, world.parent, ...world.children, family.grandparent, family.parent, family.child];
      for (const { batchId, lot } of lots) {
        const detail = await batches.get(batchId);
        const doc = (await request(app).get(digitalLinkPath(world.traded.gtin, lot)).set("Accept", "application/ld+json").expect(200)).body;
        const idsOf = (lots: Record<string, unknown>[]) => lots.map((entry) => entry["provena:batchId"]);
        expect(idsOf(doc["provena:lineage"]), lot).to.deep.equal(detail.lineage.ancestors.map((a) => a.batchId));
        expect(idsOf(doc["provena:children"]), lot).to.deep.equal(detail.lineage.children.map((c) => c.batchId));
        // The API shows a batch's splits as one entry, at the first child's registration; the passport one per child.
        const listed = doc["provena:history"].itemListElement as { item: Record<string, unknown> }[];
        const items = listed.map((element) => element.item);
        const firstSplit = items.findIndex((item) => item["provena:kind"] === "split_into");
        const passportEvents = items
          .filter((item, index) => item["provena:kind"] !== "split_into" || index === firstSplit)
          .map((item) => position(item["provena:blockNumber"] as number, item["provena:logIndex"] as number));
        const apiEvents = detail.timeline.map((entry) => position(entry.at.blockNumber, Number(entry.at.eventId.split(":").at(-1))));
        expect(passportEvents, lot).to.deep.equal(apiEvents);
        expect(doc["provena:recalled"], lot).to.equal(detail.recall !== null);
      }
    });
  });
});

/** The passport page's timeline list. */
function timelineOf(html: string): string {
  const start = html.indexOf('<ol class="timeline"');
  return html.slice(start, html.indexOf("</ol>", start));
}

/** The timeline's step labels, each marked " (earlier lot)" when it belongs to an ancestor lot. */
function timelineSteps(timeline: string): string[] {
  return [...timeline.matchAll(/<li class="([^"]*)"[^>]*>\n<h3>([^<]*)<\/h3>/g)].map(
    ([, classes, label]) => `${label}${classes!.includes("earlier") ? " (earlier lot)" : ""}`,
  );
}
