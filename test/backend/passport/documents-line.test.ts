/**
 * The passport's "Documents" line: the batch's documents as an anonymous viewer may read them (public and anchored,
 * decided by backend/documents), in the HTML and the JSON-LD, and nothing when there are none.
 */
import { expect } from "chai";
import request from "supertest";
import type { Viewer } from "../../../backend/auth/auth-service.ts";
import type { BatchDocumentService, BatchDocumentView, ProductDocumentView } from "../../../backend/documents/document-service.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("passport documents line", function () {
  let world: PassportWorld;
  const asked: Viewer[] = [];

  before(async function () {
    world = await createPassportWorld();
  });

  function appWith(documents: BatchDocumentView[], productDocuments: ProductDocumentView[] = []) {
    const service = {
      list: async (viewer: Viewer) => {
        asked.push(viewer);
        return documents;
      },
      listForProduct: async (viewer: Viewer) => {
        asked.push(viewer);
        return productDocuments;
      },
    } as unknown as BatchDocumentService;
    return passportTestApp(
      createPassportModule({
        store: world.store,
        config: passportConfig(world),
        chain: world.eip1193 as never,
        logger: silentLogger(),
        documents: service,
      }),
    );
  }

  const declaration = (batchId: Hex): BatchDocumentView => ({
    batchId,
    contentHash: `0x${"ab".repeat(32)}`,
    sha256: `0x${"cd".repeat(32)}`,
    kind: "declaration-of-conformity",
    audience: "public",
    title: "Declaration <of> conformity",
    contentType: "application/pdf",
    size: 1234,
    uploadedBy: `0x${"11".repeat(20)}`,
    uploadedAt: 1,
    anchored: true,
    anchors: [],
  });

  it("test_passport_listsThePublicDocuments_asTheAnonymousViewerSeesThem", async function () {
    const batchId = world.traded.batchId;
    const app = appWith([declaration(batchId)]);
    const page = await request(app).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", HTML).expect(200);
    expect(page.text).to.contain("Documents:").and.contain("Declaration &lt;of&gt; conformity");
    expect(page.text).to.contain(`/api/v1/batches/${batchId}/documents/0x${"ab".repeat(32)}/content`);
    const doc = (
      await request(app).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", "application/ld+json").expect(200)
    ).body;
    expect(doc["provena:documents"]).to.deep.equal([
      {
        "@type": "DigitalDocument",
        name: "Declaration <of> conformity",
        "provena:kind": "declaration-of-conformity",
        encodingFormat: "application/pdf",
        contentSize: 1234,
        "provena:keccak256": `0x${"ab".repeat(32)}`,
        "provena:sha256": `0x${"cd".repeat(32)}`,
        url: `${passportConfig(world).publicBaseUrl}/api/v1/batches/${batchId}/documents/0x${"ab".repeat(32)}/content`,
      },
    ]);
    expect(asked.every((viewer) => !viewer.signedIn)).to.equal(true);
    const none = appWith([]);
    const bare = await request(none).get(digitalLinkPath(world.traded.gtin, world.traded.lot)).set("Accept", HTML).expect(200);
    expect(bare.text).to.not.contain("Documents:");
  });

  it("test_passport_listsTheProductModelsDocumentsFirst_withTheirOwnUrl", async function () {
    const { batchId, gtin, lot } = world.traded;
    const { batchId: _batchId, ...common } = declaration(batchId);
    const manual: ProductDocumentView = {
      ...common,
      anchors: [],
      gtin,
      contentHash: `0x${"ef".repeat(32)}`,
      kind: "other",
      title: "Repair manual",
    };
    const app = appWith([declaration(batchId)], [manual]);
    const doc = (await request(app).get(digitalLinkPath(gtin, lot)).set("Accept", "application/ld+json").expect(200)).body;
    expect(doc["provena:documents"].map((d: { name: string; url: string }) => [d.name, d.url])).to.deep.equal([
      ["Repair manual", `${passportConfig(world).publicBaseUrl}/api/v1/products/${gtin}/documents/0x${"ef".repeat(32)}/content`],
      [
        "Declaration <of> conformity",
        `${passportConfig(world).publicBaseUrl}/api/v1/batches/${batchId}/documents/0x${"ab".repeat(32)}/content`,
      ],
    ]);
    const page = await request(app).get(digitalLinkPath(gtin, lot)).set("Accept", HTML).expect(200);
    expect(page.text).to.contain("Repair manual").and.contain(`/api/v1/products/${gtin}/documents/`);
    expect(asked.every((viewer) => !viewer.signedIn)).to.equal(true);
  });
});
