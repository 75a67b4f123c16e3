/**
 * Documents of a product model (GTIN) alone, over HTTP: only the holder of the GTIN's company prefix uploads and
 * anchors them, and each viewer reads what its role entitles it to (as the GTIN's product data: a partner is a
 * participant that held a batch of the GTIN). And verification without naming a batch: anyone holding a document's
 * bytes (or hash) learns where it is anchored on chain, whether or not this backend holds it, and nothing more.
 */
import { expect } from "chai";
import { keccak256 } from "ethers";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { DOCUMENT_CONTENT_SECURITY_POLICY, createDocumentModule } from "../../../backend/documents/document-routes.ts";
import { MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER, createBatchDocumentService } from "../../../backend/documents/document-service.ts";
import { GTIN_A, GTIN_B, buildScenario, type Scenario } from "../api/fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const DECLARATION = Buffer.from("EU declaration of conformity: olive oil press model P-1, Regulation (EU) 2023/1230.\n");
const MANUAL = Buffer.from("%PDF-1.7\n1 0 obj << /Title (Repair manual P-1, spare parts list) >> endobj\n%%EOF\n");
const TEST_REPORT = Buffer.from("%PDF-1.7\n1 0 obj << /Title (Type test report 2026-114, lab internal) >> endobj\n%%EOF\n");
const PUBLIC_TITLE = "EU declaration of conformity";
const PARTNER_TITLE = "Repair manual and spare parts (partners)";
const AUTHORITY_TITLE = "Type test report 2026-114 (authority only)";
const DOCUMENT_LIMIT_BYTES = 4_096;

const keccakOf = (bytes: Uint8Array) => keccak256(bytes) as Hex;

describe("product model documents and verification by hash alone", function () {
  let t: TestApp;
  let scenario: Scenario;

  beforeEach(async function () {
    const store = await createMemoryStore();
    scenario = buildScenario();
    scenario.history.grantCompanyPrefix(scenario.accounts.acme, "4012345"); // GTIN_A's prefix; GTIN_B's is nobody's
    await scenario.history.mirrorInto(store);
    t = await createTestApp({
      store,
      modules: (auth) => [
        createDocumentModule({
          service: createBatchDocumentService({ store }),
          auth,
          documentBodyLimit: `${DOCUMENT_LIMIT_BYTES}b`,
          writeRateLimitPerMinute: 10_000,
        }),
      ],
    });
  });

  afterEach(async function () {
    await t.store.close();
  });

  const as = (address: string) => ({ Authorization: t.sessionFor(address) });
  const documentsOf = (gtin: string) => `/api/v1/products/${gtin}/documents`;
  const read = (path: string, by?: string) => (by ? request(t.app).get(path).set(as(by)) : request(t.app).get(path));
  const verify = (query: Record<string, string>, body?: Buffer) => {
    const req = request(t.app).post("/api/v1/documents/verify").query(query);
    return body === undefined ? req : req.set("Content-Type", "application/octet-stream").send(body);
  };

  function upload(
    bytes: Buffer,
    options: {
      gtin?: string;
      by?: string;
      contentType?: string;
      kind?: string;
      audience?: string;
      title?: string;
      expectedHash?: string;
    } = {},
  ) {
    const req = request(t.app)
      .post(documentsOf(options.gtin ?? GTIN_A))
      .query({
        kind: options.kind ?? "declaration-of-conformity",
        audience: options.audience ?? "public",
        title: options.title ?? PUBLIC_TITLE,
        ...(options.expectedHash === undefined ? {} : { expectedHash: options.expectedHash }),
      })
      .set("Content-Type", options.contentType ?? "text/plain");
    return (options.by === undefined ? req : req.set(as(options.by))).send(bytes);
  }

  /** acme's public declaration, partners' repair manual and authorities' test report for GTIN_A, all anchored. */
  async function publishThree(): Promise<{ declaration: Hex; manual: Hex; report: Hex }> {
    const { acme } = scenario.accounts;
    const declaration = (await upload(DECLARATION, { by: acme }).expect(201)).body.document.contentHash;
    const manual = (
      await upload(MANUAL, { by: acme, contentType: "application/pdf", kind: "other", audience: "partners", title: PARTNER_TITLE }).expect(
        201,
      )
    ).body.document.contentHash;
    const report = (
      await upload(TEST_REPORT, {
        by: acme,
        contentType: "application/pdf",
        kind: "inspection-report",
        audience: "authorities",
        title: AUTHORITY_TITLE,
      }).expect(201)
    ).body.document.contentHash;
    for (const hash of [declaration, manual, report]) scenario.history.anchorProductDocument(GTIN_A, acme, hash);
    await scenario.history.mirrorInto(t.store);
    return { declaration, manual, report };
  }

  it("test_uploadForProduct_prefixHolder_answersTheCallThatAnchorsIt_andOnlyItSeesItUnanchored", async function () {
    const { acme, regulator } = scenario.accounts;
    const uploaded = await upload(DECLARATION, { by: acme }).expect(201);
    expect(uploaded.body.document).to.include({
      gtin: GTIN_A,
      contentHash: keccakOf(DECLARATION),
      contentType: "text/plain",
      uploadedBy: acme,
      anchored: false,
    });
    expect(uploaded.body.anchor).to.deep.equal({
      contract: "ProductDataRegistry",
      function: "anchorProductDocument",
      args: [String(BigInt(GTIN_A)), keccakOf(DECLARATION)],
    });
    expect((await read(documentsOf(GTIN_A)).expect(200)).body.documents).to.deep.equal([]);
    expect((await read(documentsOf(GTIN_A), regulator).expect(200)).body.documents).to.deep.equal([]);
    expect((await read(documentsOf(GTIN_A), acme).expect(200)).body.documents).to.have.length(1);
    // An 8-, 12- or 13-digit GTIN names the same product as its zero-padded GTIN-14.
    expect((await read(documentsOf(GTIN_A.slice(1)), acme).expect(200)).body.gtin).to.equal(GTIN_A);
  });

  it("test_listForProduct_shopperOutsiderPartnerRegulator_eachSeeExactlyTheirs", async function () {
    const { bolt, swift, regulator, acme } = scenario.accounts;
    const { declaration, manual, report } = await publishThree();
    const seenBy = async (viewer?: string) => {
      const response = await read(documentsOf(GTIN_A), viewer).expect(200);
      expect(response.headers["cache-control"]).to.equal("private, no-store");
      return { hashes: response.body.documents.map((d: { contentHash: Hex }) => d.contentHash).sort(), text: response.text };
    };
    const shopper = await seenBy();
    const outsidePartner = await seenBy(bolt); // a manufacturer that never held a batch of GTIN_A
    const insidePartner = await seenBy(swift); // carried a batch of GTIN_A
    const authority = await seenBy(regulator);
    expect(shopper.hashes).to.deep.equal([declaration]);
    expect(outsidePartner.hashes).to.deep.equal([declaration]);
    expect(insidePartner.hashes).to.deep.equal([declaration, manual].sort());
    expect(authority.hashes).to.deep.equal([declaration, manual, report].sort());
    expect((await seenBy(acme)).hashes).to.deep.equal([declaration, manual, report].sort());
    for (const { text } of [shopper, outsidePartner]) {
      expect(text).to.not.contain(PARTNER_TITLE).and.not.contain(AUTHORITY_TITLE).and.not.contain(manual).and.not.contain(report);
    }
    expect(insidePartner.text).to.not.contain(AUTHORITY_TITLE).and.not.contain(report);
    // Another product's documents are its own.
    expect((await read(documentsOf(GTIN_B), regulator).expect(200)).body.documents).to.deep.equal([]);
  });

  it("test_getForProduct_forbiddenIsIndistinguishableFromMissing_andPublicBytesAreAnInertAttachment", async function () {
    const { declaration, manual, report } = await publishThree();
    const missing = keccakOf(Buffer.from("never uploaded"));
    for (const suffix of ["", "/content"]) {
      for (const [viewer, hidden] of [
        [undefined, manual],
        [scenario.accounts.bolt, report],
        [scenario.accounts.swift, report],
      ] as const) {
        const forbidden = await read(`${documentsOf(GTIN_A)}/${hidden}${suffix}`, viewer).expect(404);
        const absent = await read(`${documentsOf(GTIN_A)}/${missing}${suffix}`, viewer).expect(404);
        expect(forbidden.body.detail.replace(hidden, "<hash>")).to.equal(absent.body.detail.replace(missing, "<hash>"));
        expect(Object.keys(forbidden.headers).sort()).to.deep.equal(Object.keys(absent.headers).sort());
        expect(forbidden.text).to.not.contain(PARTNER_TITLE).and.not.contain(AUTHORITY_TITLE);
      }
    }
    const file = await read(`${documentsOf(GTIN_A)}/${declaration}/content`)
      .buffer(true)
      .expect(200);
    expect(file.text).to.equal(DECLARATION.toString());
    expect(file.headers).to.include({
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-security-policy": DOCUMENT_CONTENT_SECURITY_POLICY,
      "cache-control": "public, max-age=300",
      etag: `"${declaration}"`,
    });
    const seen = await read(`${documentsOf(GTIN_A)}/${report}`, scenario.accounts.regulator).expect(200);
    expect(seen.body).to.include({ title: AUTHORITY_TITLE, anchored: true, audience: "authorities" });
    expect(seen.body.anchors[0]).to.include({ anchoredBy: scenario.accounts.acme, byPrefixHolder: true });
  });

  it("test_uploadForProduct_onlyThePrefixHolderMay_andBadInputsStoreNothing", async function () {
    const { acme, bolt, swift, regulator, slowpoke } = scenario.accounts;
    await upload(DECLARATION).expect(401);
    for (const stranger of [bolt, swift, regulator, slowpoke]) {
      const refused = await upload(DECLARATION, { by: stranger }).expect(403);
      expect(refused.body.detail).to.contain("company prefix");
    }
    await upload(DECLARATION, { by: bolt, gtin: GTIN_B }).expect(403); // bolt makes GTIN_B, but holds no prefix for it
    await upload(DECLARATION, { by: acme, gtin: `${GTIN_A.slice(0, 13)}${(Number(GTIN_A[13]) + 1) % 10}` }).expect(400); // check digit
    await upload(Buffer.concat([MANUAL, Buffer.alloc(DOCUMENT_LIMIT_BYTES, 0x20)]), { by: acme, contentType: "application/pdf" }).expect(
      413,
    );
    await upload(MANUAL, { by: acme, contentType: "image/png" }).expect(415);
    await upload(Buffer.from("<svg onload=alert(1)></svg>"), { by: acme, contentType: "image/svg+xml" }).expect(415);
    await upload(Buffer.alloc(0), { by: acme }).expect(400);
    const mismatch = await upload(DECLARATION, { by: acme, expectedHash: keccakOf(Buffer.from("meant")) }).expect(400);
    expect(mismatch.body.detail).to.contain(keccakOf(DECLARATION));
    await upload(DECLARATION, { by: acme, kind: "selfie" }).expect(400);
    await upload(DECLARATION, { by: acme, audience: "everyone" }).expect(400);
    await upload(DECLARATION, { by: acme, title: " " }).expect(400);
    expect(await t.store.listProductDocuments(GTIN_A)).to.deep.equal([]);
    await upload(DECLARATION, { by: acme, expectedHash: keccakOf(DECLARATION) }).expect(201);
    await upload(DECLARATION, { by: acme, title: "again" }).expect(200);
    expect(await t.store.listProductDocuments(GTIN_A)).to.have.length(1);
  });

  it("test_uploadForProduct_unanchoredUploadsAreCapped", async function () {
    const { acme } = scenario.accounts;
    for (let i = 0; i < MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER; i++) await upload(Buffer.from(`draft ${i}`), { by: acme }).expect(201);
    await upload(Buffer.from("one more"), { by: acme }).expect(422);
    scenario.history.anchorProductDocument(GTIN_A, acme, keccakOf(Buffer.from("draft 0")));
    await scenario.history.mirrorInto(t.store);
    await upload(Buffer.from("one more"), { by: acme }).expect(201);
  });

  it("test_verify_withoutNamingTheBatch_findsAnchorsOfBytesThisBackendNeverHeld", async function () {
    const { lab, acme, bolt } = scenario.accounts;
    // The lab keeps its report to itself and only anchors it; the backend never sees the bytes.
    const kept = Buffer.from("%PDF-1.7 residue analysis kept by the lab only");
    scenario.history.anchorBatchDocument(scenario.batches.childA, lab, keccakOf(kept));
    scenario.history.anchorProductDocument(GTIN_A, acme, keccakOf(DECLARATION));
    scenario.history.anchorBatchDocument(scenario.batches.root, bolt, keccakOf(DECLARATION)); // a stranger copies it
    await scenario.history.mirrorInto(t.store);

    const found = await verify({}, kept).expect(200);
    expect(found.body).to.include({ contentHash: keccakOf(kept), anchored: true });
    expect(found.body.anchors).to.have.length(1);
    expect(found.body.anchors[0]).to.include({ batchId: scenario.batches.childA, anchoredBy: lab });
    expect(found.body.anchors[0]).to.have.all.keys(
      "batchId",
      "anchoredBy",
      "inChainOfCustody",
      "blockNumber",
      "anchoredAt",
      "transactionHash",
    );
    expect(found.body.anchors[0].transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(found.body.summary).to.contain(`batch ${scenario.batches.childA}`);

    const both = await verify({ contentHash: keccakOf(DECLARATION) }).expect(200);
    expect(
      both.body.anchors.map((a: { gtin?: string; batchId?: Hex; anchoredBy: Hex }) => [a.gtin ?? a.batchId, a.anchoredBy]),
    ).to.deep.equal([
      [GTIN_A, acme],
      [scenario.batches.root, bolt],
    ]);
    expect(both.body.anchors[0]).to.include({ byPrefixHolder: true });
    expect(both.body.anchors[1]).to.include({ inChainOfCustody: false });
    expect((await verify({ contentHash: keccakOf(DECLARATION), gtin: GTIN_A }).expect(200)).body.anchors).to.have.length(1);
    expect((await verify({ contentHash: keccakOf(DECLARATION), batchId: scenario.batches.root }).expect(200)).body.anchors).to.have.length(
      1,
    );

    const nowhere = await verify({}, Buffer.from("a forged certificate")).expect(200);
    expect(nowhere.body).to.include({ anchored: false });
    expect(nowhere.body.anchors).to.deep.equal([]);
    expect(nowhere.body.summary).to.match(/^not anchored: /);
    await verify({ contentHash: "0x1234" }).expect(400);
    await verify({ gtin: "123" }, DECLARATION).expect(400);
  });

  it("test_verify_saysNothingOfStoredPrivateDocuments_beyondWhatTheChainShows", async function () {
    const { report } = await publishThree();
    // An authorities-only document this backend holds, and the same kind of anchor for bytes it never held:
    // a stranger's answers differ only in the hashes and chain coordinates, never in what the backend stores.
    const unheld = keccakOf(Buffer.from("%PDF-1.7 another report, never uploaded"));
    scenario.history.anchorProductDocument(GTIN_A, scenario.accounts.acme, unheld);
    await scenario.history.mirrorInto(t.store);
    const held = await verify({ contentHash: report }).expect(200);
    const notHeld = await verify({ contentHash: unheld }).expect(200);
    expect(held.text).to.not.contain(AUTHORITY_TITLE).and.not.contain("authorities").and.not.contain("inspection-report");
    expect(Object.keys(held.body)).to.deep.equal(Object.keys(notHeld.body));
    expect(Object.keys(held.body.anchors[0])).to.deep.equal(Object.keys(notHeld.body.anchors[0]));
    // Uploaded but never anchored: "not anchored", exactly as for bytes nobody uploaded.
    const draft = (await upload(Buffer.from("an unanchored draft"), { by: scenario.accounts.acme, audience: "authorities" }).expect(201))
      .body.document.contentHash as Hex;
    const draftAnswer = await verify({ contentHash: draft }).expect(200);
    const noneAnswer = await verify({ contentHash: keccakOf(Buffer.from("nobody's")) }).expect(200);
    expect(draftAnswer.body.summary.replace(draft, "<hash>")).to.equal(
      noneAnswer.body.summary.replace(noneAnswer.body.contentHash, "<hash>"),
    );
  });
});
