/**
 * Batch documents over HTTP: participants of a batch's chain of custody upload documents, anchor their keccak256
 * (mirrored events), and each viewer reads exactly what its role entitles it to: the shopper and a partner outside
 * the chain the public ones, a partner in the chain the partners' ones too, a regulator everything. A document a
 * viewer may not read answers exactly as one that does not exist.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { keccak256 } from "ethers";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { DOCUMENT_CONTENT_SECURITY_POLICY, createDocumentModule } from "../../../backend/documents/document-routes.ts";
import { MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER, createBatchDocumentService } from "../../../backend/documents/document-service.ts";
import { buildScenario, type Scenario } from "../api/fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const PDF = Buffer.from("%PDF-1.7\n1 0 obj << /Title (Inspection LOT-001: residue 0.02 mg/kg) >> endobj\n%%EOF\n");
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("IHDR certificate pixels")]);
const TEXT = Buffer.from("Declaration of conformity: this lot meets Regulation (EU) 2023/1542.\n");
const AUTHORITY_TITLE = "Residue analysis for the authority";
const PARTNER_TITLE = "Organic certificate (partners)";
const PUBLIC_TITLE = "Declaration of conformity";
const DOCUMENT_LIMIT_BYTES = 4_096;

const keccakOf = (bytes: Uint8Array) => keccak256(bytes) as Hex;

describe("batch documents", function () {
  let t: TestApp;
  let scenario: Scenario;

  beforeEach(async function () {
    const store = await createMemoryStore();
    scenario = buildScenario();
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
  const documentsOf = (batchId: Hex) => `/api/v1/batches/${batchId}/documents`;
  const read = (path: string, by?: string) => (by ? request(t.app).get(path).set(as(by)) : request(t.app).get(path));

  interface UploadOptions {
    batchId?: Hex;
    by?: string;
    contentType?: string;
    kind?: string;
    audience?: string;
    title?: string;
    fileName?: string;
    expectedHash?: string;
  }
  function upload(bytes: Buffer, options: UploadOptions = {}) {
    const query: Record<string, string> = {
      kind: options.kind ?? "inspection-report",
      audience: options.audience ?? "partners",
      title: options.title ?? "Report",
      ...(options.fileName === undefined ? {} : { fileName: options.fileName }),
      ...(options.expectedHash === undefined ? {} : { expectedHash: options.expectedHash }),
    };
    const req = request(t.app)
      .post(documentsOf(options.batchId ?? scenario.batches.root))
      .query(query)
      .set("Content-Type", options.contentType ?? "application/pdf");
    return (options.by === undefined ? req : req.set(as(options.by))).send(bytes);
  }

  /** The lab's authorities-only report, acme's partners' certificate and public declaration, all anchored by their uploaders. */
  async function publishThree(): Promise<{ report: Hex; certificate: Hex; declaration: Hex }> {
    const { lab, acme } = scenario.accounts;
    const report = (await upload(PDF, { by: lab, audience: "authorities", title: AUTHORITY_TITLE }).expect(201)).body.document.contentHash;
    const certificate = (
      await upload(PNG, { by: acme, contentType: "image/png", kind: "certificate", audience: "partners", title: PARTNER_TITLE }).expect(201)
    ).body.document.contentHash;
    const declaration = (
      await upload(TEXT, {
        by: acme,
        contentType: "text/plain",
        kind: "declaration-of-conformity",
        audience: "public",
        title: PUBLIC_TITLE,
      }).expect(201)
    ).body.document.contentHash;
    scenario.history.anchorBatchDocument(scenario.batches.root, lab, report);
    scenario.history.anchorBatchDocument(scenario.batches.root, acme, certificate);
    scenario.history.anchorBatchDocument(scenario.batches.root, acme, declaration);
    await scenario.history.mirrorInto(t.store);
    return { report, certificate, declaration };
  }

  it("test_upload_answersBothHashes_theRecognisedType_andTheCallThatAnchorsIt", async function () {
    const uploaded = await upload(PDF, { by: scenario.accounts.lab, fileName: "report.pdf" }).expect(201);
    const { document, anchor, created } = uploaded.body;
    expect(created).to.equal(true);
    expect(document).to.include({
      batchId: scenario.batches.root,
      contentHash: keccakOf(PDF),
      sha256: `0x${createHash("sha256").update(PDF).digest("hex")}`,
      contentType: "application/pdf",
      size: PDF.length,
      uploadedBy: scenario.accounts.lab,
      anchored: false,
    });
    expect(anchor).to.deep.equal({
      contract: "ProductDataRegistry",
      function: "anchorBatchDocument",
      args: [scenario.batches.root, keccakOf(PDF)],
    });
    // Not anchored yet: only its uploader sees it.
    expect((await read(documentsOf(scenario.batches.root), scenario.accounts.regulator).expect(200)).body.documents).to.deep.equal([]);
    expect((await read(documentsOf(scenario.batches.root), scenario.accounts.lab).expect(200)).body.documents).to.have.length(1);
  });

  it("test_list_eachViewerSeesExactlyWhatItsRoleEntitlesItTo", async function () {
    const { bolt, swift, regulator, lab } = scenario.accounts;
    const { report, certificate, declaration } = await publishThree();
    const hashesSeenBy = async (viewer?: string) => {
      const response = await read(documentsOf(scenario.batches.root), viewer).expect(200);
      expect(response.headers["cache-control"]).to.equal("private, no-store");
      return { hashes: response.body.documents.map((d: { contentHash: Hex }) => d.contentHash).sort(), text: response.text };
    };
    const shopper = await hashesSeenBy();
    const outsidePartner = await hashesSeenBy(bolt); // a manufacturer that never held the batch
    const chainPartner = await hashesSeenBy(swift); // carried it
    const authority = await hashesSeenBy(regulator);
    const inspector = await hashesSeenBy(lab); // attested it, uploaded the report
    expect(shopper.hashes).to.deep.equal([declaration]);
    expect(outsidePartner.hashes).to.deep.equal([declaration]);
    expect(chainPartner.hashes).to.deep.equal([certificate, declaration].sort());
    expect(authority.hashes).to.deep.equal([report, certificate, declaration].sort());
    expect(inspector.hashes).to.deep.equal([report, certificate, declaration].sort());
    for (const { text } of [shopper, outsidePartner]) {
      expect(text).to.not.contain(PARTNER_TITLE).and.not.contain(AUTHORITY_TITLE).and.not.contain(certificate).and.not.contain(report);
    }
    expect(chainPartner.text).to.not.contain(AUTHORITY_TITLE).and.not.contain(report);
    // A split lot keeps its parent's partners; the shop held only the child, so it is no partner of the parent.
    expect((await hashesSeenBy(scenario.accounts.shop)).hashes).to.deep.equal([declaration]);
  });

  it("test_download_streamsTheBytes_asAnInertAttachment", async function () {
    const { declaration, certificate } = await publishThree();
    const publicFile = await read(`${documentsOf(scenario.batches.root)}/${declaration}/content`)
      .buffer(true)
      .expect(200);
    expect(publicFile.text).to.equal(TEXT.toString());
    expect(publicFile.headers).to.include({
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(TEXT.length),
      "x-content-type-options": "nosniff",
      "content-security-policy": DOCUMENT_CONTENT_SECURITY_POLICY,
      "cache-control": "public, max-age=300",
      etag: `"${declaration}"`,
    });
    expect(publicFile.headers["content-disposition"]).to.match(/^attachment; filename="declaration-of-conformity-[0-9a-f]{12}\.txt"$/);
    const partnerFile = await read(`${documentsOf(scenario.batches.root)}/${certificate}/content`, scenario.accounts.swift)
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => callback(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(Buffer.compare(partnerFile.body as Buffer, PNG)).to.equal(0);
    expect(partnerFile.headers).to.include({ "content-type": "image/png", "cache-control": "private, no-store" });
    expect(partnerFile.headers).to.not.have.property("etag");
  });

  it("test_forbiddenDocument_isIndistinguishableFromAMissingOne", async function () {
    const { report, certificate } = await publishThree();
    const missing = keccakOf(Buffer.from("never uploaded"));
    const base = documentsOf(scenario.batches.root);
    for (const suffix of ["", "/content"]) {
      for (const [viewer, hidden] of [
        [undefined, certificate],
        [scenario.accounts.bolt, certificate],
        [scenario.accounts.swift, report],
      ] as const) {
        const forbidden = await read(`${base}/${hidden}${suffix}`, viewer).expect(404);
        const absent = await read(`${base}/${missing}${suffix}`, viewer).expect(404);
        expect(forbidden.body.detail.replace(hidden, "<hash>")).to.equal(absent.body.detail.replace(missing, "<hash>"));
        expect(Object.keys(forbidden.headers).sort()).to.deep.equal(Object.keys(absent.headers).sort());
        expect(forbidden.text).to.not.contain(PARTNER_TITLE).and.not.contain(AUTHORITY_TITLE);
      }
    }
    // The metadata of a readable one, for comparison: a regulator reads the report with its anchor.
    const seen = await read(`${base}/${report}`, scenario.accounts.regulator).expect(200);
    expect(seen.body).to.include({ title: AUTHORITY_TITLE, anchored: true, audience: "authorities" });
    expect(seen.body.anchors).to.have.length(1);
    expect(seen.body.anchors[0]).to.include({ anchoredBy: scenario.accounts.lab, inChainOfCustody: true });
    await read(`/api/v1/batches/0x${"00".repeat(32)}/documents`).expect(404);
  });

  it("test_upload_badInputs_areRefusedWhole_andNothingIsStored", async function () {
    const { acme } = scenario.accounts;
    const oversized = await upload(Buffer.concat([PDF, Buffer.alloc(DOCUMENT_LIMIT_BYTES, 0x20)]), { by: acme }).expect(413);
    expect(oversized.body.detail).to.contain("document uploads");
    const lyingType = await upload(PDF, { by: acme, contentType: "image/png" }).expect(415);
    expect(lyingType.body.detail).to.contain("the bytes are application/pdf");
    const lyingName = await upload(PDF, { by: acme, fileName: "photo.png" }).expect(415);
    expect(lyingName.body.detail).to.contain("photo.png");
    await upload(Buffer.from("<html><script>alert(1)</script></html>"), { by: acme, contentType: "text/html" }).expect(415);
    await upload(Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03]), { by: acme, contentType: "application/octet-stream" }).expect(415); // an .exe
    await upload(Buffer.alloc(0), { by: acme }).expect(400);
    const mismatch = await upload(PDF, { by: acme, expectedHash: keccakOf(Buffer.from("what the client meant")) }).expect(400);
    expect(mismatch.body.detail).to.contain(keccakOf(PDF));
    await upload(PDF, { by: acme, kind: "selfie" }).expect(400);
    await upload(PDF, { by: acme, audience: "everyone" }).expect(400);
    await upload(PDF, { by: acme, title: "x".repeat(201) }).expect(400);
    expect(await t.store.listBatchDocuments(scenario.batches.root)).to.deep.equal([]);
    // The right hash and a matching name and type are accepted.
    await upload(PDF, { by: acme, fileName: "report.PDF", expectedHash: `0x${createHash("sha256").update(PDF).digest("hex")}` }).expect(
      201,
    );
  });

  it("test_upload_onlyTheBatchsChainOfCustodyMay", async function () {
    const { bolt, slowpoke, regulator, swift, shop } = scenario.accounts;
    await upload(PDF).expect(401);
    const stranger = await upload(PDF, { by: bolt }).expect(403);
    expect(stranger.body.detail).to.contain("chain of custody");
    await upload(PDF, { by: slowpoke }).expect(403); // suspended, and never held it
    await upload(PDF, { by: regulator }).expect(403); // authorities read; they do not vouch for a batch's papers
    await upload(PDF, { by: shop }).expect(403); // held a child, not this lot
    await upload(PDF, { by: bolt, batchId: `0x${"00".repeat(32)}` }).expect(404);
    expect(await t.store.listBatchDocuments(scenario.batches.root)).to.deep.equal([]);
    await upload(PDF, { by: swift }).expect(201);
    await upload(PDF, { by: shop, batchId: scenario.batches.childA }).expect(201);
  });

  it("test_reupload_sameBytes_answersTheFirstUpload", async function () {
    const { acme, swift } = scenario.accounts;
    const first = await upload(PDF, { by: acme, title: "First" }).expect(201);
    const again = await upload(PDF, { by: acme, title: "Second" }).expect(200);
    expect(again.body.created).to.equal(false);
    expect(again.body.document).to.deep.equal(first.body.document);
    // Another partner's copy of the same bytes stays the first uploader's until it is anchored and visible to them.
    await upload(PDF, { by: swift, title: "Mine" }).expect(403);
    scenario.history.anchorBatchDocument(scenario.batches.root, acme, first.body.document.contentHash);
    await scenario.history.mirrorInto(t.store);
    expect((await upload(PDF, { by: swift, title: "Mine" }).expect(200)).body.document.title).to.equal("First");
    expect(await t.store.listBatchDocuments(scenario.batches.root)).to.have.length(1);
  });

  it("test_upload_unanchoredUploadsAreCappedPerUploader", async function () {
    const { acme, swift } = scenario.accounts;
    for (let i = 0; i < MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER; i++) {
      await upload(Buffer.from(`note ${i}`), { by: acme, contentType: "text/plain" }).expect(201);
    }
    await upload(Buffer.from("one more"), { by: acme, contentType: "text/plain" }).expect(422);
    await upload(Buffer.from("note 0"), { by: acme, contentType: "text/plain" }).expect(200);
    await upload(Buffer.from("the carrier's own"), { by: swift, contentType: "text/plain" }).expect(201);
  });

  it("test_verify_anyoneHoldingTheBytes_learnsWhichBatchWhoAndWhen_andNothingPrivate", async function () {
    const { report } = await publishThree();
    // A stranger anchors the same hash on chain: verification says it is outside the chain of custody.
    scenario.history.anchorBatchDocument(scenario.batches.root, scenario.accounts.bolt, report);
    await scenario.history.mirrorInto(t.store);
    const verified = await request(t.app).post("/api/v1/documents/verify").set("Content-Type", "application/pdf").send(PDF).expect(200);
    expect(verified.body).to.include({ contentHash: report, anchored: true });
    expect(
      verified.body.anchors.map((a: { batchId: Hex; anchoredBy: Hex; inChainOfCustody: boolean }) => [
        a.batchId,
        a.anchoredBy,
        a.inChainOfCustody,
      ]),
    ).to.deep.equal([
      [scenario.batches.root, scenario.accounts.lab, true],
      [scenario.batches.root, scenario.accounts.bolt, false],
    ]);
    expect(verified.body.anchors[0]).to.have.keys([
      "batchId",
      "anchoredBy",
      "inChainOfCustody",
      "blockNumber",
      "anchoredAt",
      "transactionHash",
    ]);
    expect(verified.text).to.not.contain(AUTHORITY_TITLE);
    const byHash = await request(t.app).post("/api/v1/documents/verify").query({ contentHash: report }).expect(200);
    expect(byHash.body.anchors).to.deep.equal(verified.body.anchors);
    const unknown = await request(t.app).post("/api/v1/documents/verify").send(Buffer.from("a forged report")).expect(200);
    expect(unknown.body).to.include({ anchored: false });
    await request(t.app).post("/api/v1/documents/verify").query({ contentHash: report }).send(Buffer.from("tampered")).expect(400);
    await request(t.app).post("/api/v1/documents/verify").expect(400);
    // Anchors of bytes this backend never received are found when the batch is named.
    const elsewhere = keccakOf(Buffer.from("kept by the lab only"));
    scenario.history.anchorBatchDocument(scenario.batches.root, scenario.accounts.lab, elsewhere);
    await scenario.history.mirrorInto(t.store);
    const named = await request(t.app)
      .post("/api/v1/documents/verify")
      .query({ contentHash: elsewhere, batchId: scenario.batches.root })
      .expect(200);
    expect(named.body.anchors[0]).to.include({ anchoredBy: scenario.accounts.lab, inChainOfCustody: true });
  });
});
