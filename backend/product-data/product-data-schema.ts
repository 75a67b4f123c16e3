/**
 * The Digital Product Passport data a manufacturer attaches to a product (GTIN) or a batch (ESPR 2024/1781 Art. 9-11
 * style), and who may read each field. A version is one JSON object with any of the fields below; batch data adds
 * to (and, field by field, overrides) the product data of its GTIN.
 *
 * Access by field, fixed here rather than chosen per upload, so a mistaken upload cannot publish a private field:
 *   public       everyone, the shopper included (what the passport page and its JSON-LD show);
 *   partners     participants in the chain of custody (batch: anyone who held or was offered it; GTIN: anyone who
 *                held a batch of it) and the manufacturer;
 *   authorities  REGULATOR and ADMIN (and the manufacturer).
 */
import { z } from "zod";
import { glnSchema } from "../chain/schemas.ts";

export type AccessLevel = "public" | "partners" | "authorities";

const text = (max: number) => z.string().trim().min(1).max(max);

/** Text per language (BCP 47 "en", "zh"); at least one. Names and descriptions may be any Unicode. */
const localizedText = (max: number) =>
  z
    .strictObject({ en: text(max).optional(), zh: text(max).optional() })
    .refine((value) => value.en !== undefined || value.zh !== undefined, "needs the text in at least one language (en, zh)");

const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https URL" }).max(2_000);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hexadecimal digits (SHA-256)");
const bytes32Hash = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hexadecimal digits");
const countryCode = z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 country code (e.g. ES, CN)");
const percent = z.number().min(0).max(100);

export const TRANSPORT_MODES = ["road", "rail", "sea", "air", "inlandWaterway"] as const;
export type TransportMode = (typeof TRANSPORT_MODES)[number];

export const productDataSchema = z
  .strictObject({
    name: localizedText(200).optional(),
    description: localizedText(4_000).optional(),
    image: httpsUrl.optional(),
    manufacturer: z
      .strictObject({ name: text(200), gln: glnSchema.optional(), country: countryCode.optional(), url: httpsUrl.optional() })
      .optional(),
    facility: z.strictObject({ name: text(200), gln: glnSchema.optional(), address: text(500).optional() }).optional(),
    materials: z
      .array(z.strictObject({ name: localizedText(200), percent: percent.optional(), recycledPercent: percent.optional() }))
      .max(100)
      .optional(),
    substancesOfConcern: z
      .array(
        z.strictObject({
          name: text(200),
          casNumber: z
            .string()
            .regex(/^\d{2,7}-\d{2}-\d$/, "must be a CAS registry number (e.g. 7440-43-9)")
            .optional(),
          concentrationPercent: percent.optional(),
          location: text(200).optional(),
        }),
      )
      .max(100)
      .optional(),
    countryOfOrigin: countryCode.optional(),
    repair: z
      .strictObject({
        instructions: localizedText(4_000).optional(),
        url: httpsUrl.optional(),
        spareParts: z
          .array(z.strictObject({ name: text(200), partNumber: text(100).optional(), availableYears: z.int().min(0).max(50).optional() }))
          .max(200)
          .optional(),
      })
      .optional(),
    recycling: z.strictObject({ instructions: localizedText(4_000).optional(), url: httpsUrl.optional() }).optional(),
    complianceDocuments: z
      .array(z.strictObject({ title: text(300), sha256, url: httpsUrl }))
      .max(100)
      .optional(),
    warranty: z.strictObject({ months: z.int().min(0).max(1_200), terms: localizedText(4_000).optional() }).optional(),
    /** Mass of one unit as shipped (packaging included), for transport emissions per tonne-km. */
    unitMassKg: z.number().positive().max(1_000_000).optional(),
    carbonFootprint: z
      .strictObject({
        kgCO2ePerUnit: z.number().min(0).max(1_000_000),
        method: text(100).describe('The standard the footprint follows, e.g. "ISO 14067".'),
        sourceDocumentHash: bytes32Hash,
      })
      .optional(),
    /** Names and coordinates of the GLNs the batch's journey passes (the passport shows names, not GLNs). */
    places: z
      .array(
        z.strictObject({
          gln: glnSchema,
          name: localizedText(200),
          country: countryCode,
          lat: z.number().min(-90).max(90),
          lon: z.number().min(-180).max(180),
        }),
      )
      .max(200)
      .optional(),
    /** The transport mode of each leg, by the GLN where custody was accepted at its end (backend/product-data/footprint.ts). */
    transportModes: z
      .array(z.strictObject({ toGln: glnSchema, mode: z.enum(TRANSPORT_MODES) }))
      .max(200)
      .optional(),
  })
  .refine((value) => Object.keys(value).length > 0, "product data needs at least one field");

export type ProductData = z.output<typeof productDataSchema>;
export type ProductDataField = keyof ProductData;

export const FIELD_ACCESS: Readonly<Record<ProductDataField, AccessLevel>> = {
  name: "public",
  description: "public",
  image: "public",
  manufacturer: "public",
  facility: "partners",
  materials: "public",
  substancesOfConcern: "public",
  countryOfOrigin: "public",
  repair: "public",
  recycling: "public",
  complianceDocuments: "authorities",
  warranty: "public",
  unitMassKg: "public",
  carbonFootprint: "public",
  places: "public",
  transportModes: "public",
};

const LEVELS: Record<AccessLevel, number> = { public: 0, partners: 1, authorities: 2 };

/** The fields of `data` a viewer entitled to `levels` may read (a field missing from FIELD_ACCESS is never shown). */
export function visibleProductData(data: Record<string, unknown>, levels: ReadonlySet<AccessLevel>): Partial<ProductData> {
  const visible: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(data)) {
    const level = FIELD_ACCESS[field as ProductDataField] as AccessLevel | undefined;
    if (level !== undefined && levels.has(level)) visible[field] = value;
  }
  return visible as Partial<ProductData>;
}

export function accessLevelsUpTo(highest: AccessLevel): ReadonlySet<AccessLevel> {
  return new Set((Object.keys(LEVELS) as AccessLevel[]).filter((level) => LEVELS[level] <= LEVELS[highest]));
}
