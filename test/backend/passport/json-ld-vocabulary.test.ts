/**
 * Every key and @type of the JSON-LD passport is a term of the vocabulary it names (schema.org by @vocab, gs1:,
 * untp:), as listed in backend/passport/vocabulary-terms.ts; provena: terms are ours, and those typed @json in the
 * context are opaque literals whose inner keys are no terms at all. Walked over a passport carrying every DPP field,
 * a footprint, documents and a unit.
 */
import { expect } from "chai";
import request from "supertest";
import { JSON_LD_CONTEXT, PROVENA_JSON_TERMS } from "../../../backend/passport/json-ld.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { SCHEMA_ORG_TERMS, UNTP_DPP_TERMS, unknownTerm } from "../../../backend/passport/vocabulary-terms.ts";
import { batchFootprint } from "../../../backend/product-data/footprint.ts";
import type { ProductDataService } from "../../../backend/product-data/product-data-service.ts";
import type { ProductData } from "../../../backend/product-data/product-data-schema.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "./fixture.ts";

const MILL = "4012345000009";
const PORT = "4012345000016";

const everyField: ProductData = {
  name: { en: "Extra virgin olive oil", zh: "特级初榨橄榄油" },
  description: { en: "Cold pressed", zh: "冷榨" },
  image: "https://cdn.example.com/oil.jpg",
  manufacturer: { name: "Acme Olive Oil S.L.", gln: MILL, country: "ES", url: "https://acme.example.com" },
  facility: { name: "Mill 2" },
  materials: [{ name: { en: "Glass", zh: "玻璃" }, percent: 60, recycledPercent: 40 }],
  substancesOfConcern: [{ name: "Lead", casNumber: "7439-92-1", concentrationPercent: 0.01, location: "label ink" }],
  countryOfOrigin: "ES",
  repair: {
    instructions: { en: "Replace the cap" },
    url: "https://acme.example.com/repair",
    spareParts: [{ name: "Cap", partNumber: "C-1" }],
  },
  recycling: { instructions: { en: "Glass bin", zh: "玻璃回收" }, url: "https://acme.example.com/recycling" },
  complianceDocuments: [{ title: "DoC", sha256: "ab".repeat(32), url: "https://acme.example.com/doc.pdf" }],
  warranty: { months: 24, terms: { en: "Two years" } },
  unitMassKg: 1,
  carbonFootprint: { kgCO2ePerUnit: 2, method: "ISO 14067", sourceDocumentHash: `0x${"cd".repeat(32)}` },
  places: [
    { gln: MILL, name: { en: "Jaén mill" }, country: "ES", lat: 0, lon: 0 },
    { gln: PORT, name: { en: "Port of Valencia" }, country: "ES", lat: 0, lon: 1 },
  ],
  transportModes: [{ toGln: PORT, mode: "rail" }],
};

/** Every term the document uses: keys (but not @-keywords or inside @json literals) and @type values. */
function termsOf(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const element of node) termsOf(element, found);
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "@type") for (const type of [value].flat()) found.add(String(type));
      if (key.startsWith("@")) continue;
      found.add(key);
      if (!(PROVENA_JSON_TERMS as readonly string[]).includes(key)) termsOf(value, found);
    }
  }
  return found;
}

describe("JSON-LD passport vocabulary", function () {
  let world: PassportWorld;

  before(async function () {
    world = await createPassportWorld();
  });

  it("test_passportJsonLd_everyTermIsInItsVocabularysAllowList", async function () {
    const module = createPassportModule({
      store: world.store,
      config: passportConfig(world),
      chain: world.eip1193 as never,
      logger: silentLogger(),
      productData: {
        passportData: async (batchId: `0x${string}`) => ({
          data: everyField,
          footprint: batchFootprint({ batchId, quantity: "10" }, { originGln: MILL, arrivals: [PORT] }, everyField),
        }),
      } as unknown as ProductDataService,
    });
    const app = passportTestApp(module);
    const { gtin, lot, serials } = world.traded;
    const terms = new Set<string>();
    for (const path of [digitalLinkPath(gtin, lot), digitalLinkPath(gtin, lot, serials[0]!)]) {
      const doc = (await request(app).get(path).set("Accept", "application/ld+json").expect(200)).body;
      expect(doc["@context"]).to.deep.equal(JSON.parse(JSON.stringify(JSON_LD_CONTEXT)));
      termsOf(doc, terms);
    }
    const problems = [...terms].map(unknownTerm).filter((problem) => problem !== null);
    expect(problems).to.deep.equal([]);
    // The walk saw the DPP terms, so the lists are really exercised.
    for (const term of [
      "untp:producedByParty",
      "untp:materialsProvenance",
      "untp:emissionsScorecard",
      "untp:circularityScorecard",
      "untp:linkURL",
      "material",
      "IndividualProduct",
    ]) {
      expect(terms).to.include(term);
    }
  });

  it("test_unknownTerm_refusesInventedAndMisspeltTerms", function () {
    expect(unknownTerm("untp:warranty")).to.contain("untp");
    expect(unknownTerm("untp:manufacturer")).to.contain("untp");
    expect(unknownTerm("batchId")).to.contain("schema.org");
    expect(unknownTerm("gs1:hasLotNumber")).to.contain("gs1");
    expect(unknownTerm("dpp:carbon")).to.contain("prefix");
    expect(unknownTerm("provena:anything")).to.equal(null);
    expect(SCHEMA_ORG_TERMS.has("gtin14") && UNTP_DPP_TERMS.has("carbonFootprint")).to.equal(true);
  });
});
