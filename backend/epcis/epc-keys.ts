/**
 * What an EPCIS identifier names, read back into GS1 keys (the inverse of identifiers.ts): an EPC URI, EPC class URI
 * or GS1 Digital Link on id.gs1.org becomes a lot (GTIN + lot), a unit (GTIN + serial), a logistic unit (SSCC), a
 * location (GLN) or a party (GLN). Anything else is `null`: the import then says the identifier is not one Provena
 * can resolve, rather than guessing.
 */
import { hasValidCheckDigit, isValidLotOrSerial } from "../chain/gs1.ts";
import { DIGITAL_LINK_ORIGIN, canonicalDigitalLink } from "./identifiers.ts";

export type EpcKey =
  | { kind: "lot"; gtin: string; lot: string }
  | { kind: "unit"; gtin: string; serial: string }
  | { kind: "sscc"; sscc: string }
  | { kind: "location"; gln: string }
  | { kind: "party"; gln: string };

/** The GS1 key an identifier names; GTINs come back as 14 digits, GLNs as 13, SSCCs as 18, lots and serials decoded. */
export function epcKeyOf(uri: string): EpcKey | null {
  const link = canonicalDigitalLink(uri.trim());
  if (link === null) return null;
  const path = link.slice(DIGITAL_LINK_ORIGIN.length).split(/[?#]/)[0]!;
  let match: RegExpExecArray | null;
  if ((match = /^\/01\/(\d{8}|\d{12,14})\/(10|21)\/([^/]+)$/.exec(path))) {
    const gtin = match[1]!.padStart(14, "0");
    const value = decoded(match[3]!);
    if (!hasValidCheckDigit(gtin) || value === null || !isValidLotOrSerial(value)) return null;
    return match[2] === "10" ? { kind: "lot", gtin, lot: value } : { kind: "unit", gtin, serial: value };
  }
  if ((match = /^\/00\/(\d{18})$/.exec(path))) return hasValidCheckDigit(match[1]!) ? { kind: "sscc", sscc: match[1]! } : null;
  // An SGLN extension (/254/…) names a place inside the location; the contracts record the GLN alone.
  if ((match = /^\/414\/(\d{13})(?:\/254\/[^/]+)?$/.exec(path)))
    return hasValidCheckDigit(match[1]!) ? { kind: "location", gln: match[1]! } : null;
  if ((match = /^\/417\/(\d{13})$/.exec(path))) return hasValidCheckDigit(match[1]!) ? { kind: "party", gln: match[1]! } : null;
  return null;
}

function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
