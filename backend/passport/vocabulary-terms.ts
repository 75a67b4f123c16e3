/**
 * Every term the JSON-LD passport (json-ld.ts) uses, listed per vocabulary, so a misspelt or invented term fails a
 * test (test/backend/passport/json-ld-vocabulary.test.ts) instead of reaching machines that read the passport.
 *
 * - schema.org (https://schema.org/, the context's @vocab): classes and properties of schema.org 2x "core" as
 *   published at https://schema.org/docs/full.html. Some are used a little outside their documented domain
 *   (startTime on a provena:ChainEvent, contentSize on a DigitalDocument): schema.org allows that; the terms exist.
 * - GS1 Web Vocabulary (https://gs1.org/voc/): gs1:hasBatchLotNumber, gs1:hasSerialNumber (properties of gs1:Product).
 * - UN Transparency Protocol DPP (prefix untp:, https://test.uncefact.org/vocabulary/untp/dpp/): the classes and
 *   properties of the UNTP Digital Product Passport data model (release 0.5.0, UN/CEFACT, 2024). These were checked
 *   from memory of that release without network access; the ones marked UNCONFIRMED are the least certain and must
 *   be checked against the published vocabulary (https://uncefact.github.io/spec-untp/docs/specification/DigitalProductPassport).
 * - provena: our own namespace (PROVENA_NAMESPACE), whose terms we define; any provena: term is allowed.
 */

export const SCHEMA_ORG_TERMS: ReadonlySet<string> = new Set([
  // classes
  "Product",
  "IndividualProduct",
  "Organization",
  "Place",
  "Country",
  "DigitalDocument",
  "ItemList",
  "ListItem",
  // properties
  "name",
  "description",
  "image",
  "url",
  "identifier",
  "gtin",
  "gtin14",
  "serialNumber",
  "productionDate",
  "manufacturer",
  "countryOfOrigin",
  "material",
  "globalLocationNumber",
  "isVariantOf",
  "encodingFormat",
  "contentSize",
  "startTime",
  "itemListOrder",
  "numberOfItems",
  "itemListElement",
  "position",
  "item",
]);

export const GS1_WEB_VOCABULARY_TERMS: ReadonlySet<string> = new Set(["hasBatchLotNumber", "hasSerialNumber"]);

/** UNTP DPP 0.5.0 terms used, without the prefix. */
export const UNTP_DPP_TERMS: ReadonlySet<string> = new Set([
  // classes
  "Party",
  "Material",
  "Link",
  "EmissionsPerformance",
  "CircularityPerformance",
  // Product
  "producedByParty",
  "materialsProvenance",
  "emissionsScorecard",
  "circularityScorecard",
  // Party
  "registrationCountry",
  "organisationWebsite",
  // Material
  "massFraction",
  "recycledAmount", // UNCONFIRMED: the recycled share of a material (0.5.0 may name it recycledMassFraction)
  "hazardous",
  "symbol", // UNCONFIRMED: used here for a substance's CAS number
  // EmissionsPerformance
  "carbonFootprint",
  "declaredUnit",
  "reportingStandard",
  // CircularityPerformance
  "repairInformation",
  "recyclingInformation",
  // Link
  "linkURL",
  "linkName",
]);

export const VOCABULARY_PREFIXES = { gs1: GS1_WEB_VOCABULARY_TERMS, untp: UNTP_DPP_TERMS } as const;

/** Why `term` (a JSON-LD key or @type value of the passport) is not a known term of its vocabulary; null when it is. */
export function unknownTerm(term: string): string | null {
  const colon = term.indexOf(":");
  if (colon === -1) return SCHEMA_ORG_TERMS.has(term) ? null : `${term} is not in the schema.org terms allowed`;
  const prefix = term.slice(0, colon);
  const local = term.slice(colon + 1);
  if (prefix === "provena") return null;
  const terms = (VOCABULARY_PREFIXES as Record<string, ReadonlySet<string>>)[prefix];
  if (terms === undefined) return `${term} uses a prefix the context does not declare`;
  return terms.has(local) ? null : `${term} is not in the ${prefix} terms allowed`;
}
