/**
 * GS1 identifiers as EPCIS 2.0 writes them: EPC URIs (GS1 EPC Tag Data Standard 2.x, section 6) for units (SGTIN),
 * lots (LGTIN class), locations (SGLN) and parties (PGLN), and the canonical GS1 Digital Link URI each of them
 * stands for (the form the event hash uses, CBV 2.0 section 8.9).
 *
 * An EPC URI splits the GTIN or GLN after the GS1 company prefix, whose length the digits alone do not tell. The
 * registry grants company prefixes with their digits (mirrored as Participant.companyPrefixes), so the exporter
 * knows it for every GTIN a manufacturer registered and every GLN inside a granted prefix. Where no granted prefix
 * covers the key, the exporter writes the canonical GS1 Digital Link URI instead, which EPCIS 2.0 accepts wherever
 * an EPC URI may stand and which needs no prefix length; a guessed length would name a different company.
 */
import { gs1CheckDigit } from "../chain/gs1.ts";

/** The company prefix lengths EPC URIs can express (TDS partition tables: 6 to 12); a shorter grant gets a Digital Link. */
const COMPANY_PREFIX = /^\d{6,12}$/;

/** Characters TDS 2.x section 5 escapes in the serial/lot component of an EPC URI. */
const EPC_ESCAPES: Readonly<Record<string, string>> = {
  '"': "%22",
  "%": "%25",
  "&": "%26",
  "/": "%2F",
  "<": "%3C",
  ">": "%3E",
  "?": "%3F",
};
/** Further characters GS1 Digital Link (table 7-1) percent-encodes in a path segment, on top of the EPC escapes. */
const DIGITAL_LINK_ESCAPES: Readonly<Record<string, string>> = {
  "!": "%21",
  "(": "%28",
  ")": "%29",
  "*": "%2A",
  "+": "%2B",
  ",": "%2C",
  ":": "%3A",
};

export const DIGITAL_LINK_ORIGIN = "https://id.gs1.org";

/** A lot or serial (GS1 character set 82) escaped for an EPC URI. */
export function epcEscape(value: string): string {
  return value.replace(/["%&/<>?]/g, (char) => EPC_ESCAPES[char]!);
}

/** An EPC-escaped lot or serial as a Digital Link path segment. */
function digitalLinkEscapeEpcComponent(epcComponent: string): string {
  return epcComponent.replace(/[!()*+,:]/g, (char) => DIGITAL_LINK_ESCAPES[char]!);
}

/** The longest granted prefix that `digits` starts with, or null. Longest, because prefixes of one holder may nest. */
export function companyPrefixOf(digits: string, prefixes: Iterable<string>): string | null {
  let best: string | null = null;
  for (const prefix of prefixes) {
    if (COMPANY_PREFIX.test(prefix) && digits.startsWith(prefix) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best;
}

/** GTIN-14 -> "<company prefix>.<indicator><item reference>", or null when no prefix covers it. */
function gtinEpcPart(gtin14: string, prefixes: Iterable<string>): string | null {
  const body = gtin14.slice(1, 13); // indicator and check digit excluded
  const prefix = companyPrefixOf(body, prefixes);
  return prefix === null ? null : `${prefix}.${gtin14[0]}${body.slice(prefix.length)}`;
}

/** GLN -> "<company prefix>.<location reference>", or null when no prefix covers it. */
function glnEpcPart(gln: string, prefixes: Iterable<string>): string | null {
  const body = gln.slice(0, 12);
  const prefix = companyPrefixOf(body, prefixes);
  return prefix === null ? null : `${prefix}.${body.slice(prefix.length)}`;
}

/** A unit: urn:epc:id:sgtin:CP.IIR.SERIAL, else https://id.gs1.org/01/GTIN/21/SERIAL. */
export function unitUri(gtin14: string, serial: string, prefixes: Iterable<string>): string {
  const part = gtinEpcPart(gtin14, prefixes);
  return part === null
    ? `${DIGITAL_LINK_ORIGIN}/01/${gtin14}/21/${digitalLinkEscapeEpcComponent(epcEscape(serial))}`
    : `urn:epc:id:sgtin:${part}.${epcEscape(serial)}`;
}

/** A lot (an EPC class): urn:epc:class:lgtin:CP.IIR.LOT, else https://id.gs1.org/01/GTIN/10/LOT. */
export function lotUri(gtin14: string, lot: string, prefixes: Iterable<string>): string {
  const part = gtinEpcPart(gtin14, prefixes);
  return part === null
    ? `${DIGITAL_LINK_ORIGIN}/01/${gtin14}/10/${digitalLinkEscapeEpcComponent(epcEscape(lot))}`
    : `urn:epc:class:lgtin:${part}.${epcEscape(lot)}`;
}

/** A location: urn:epc:id:sgln:CP.LOCREF.0 (no extension), else https://id.gs1.org/414/GLN. */
export function locationUri(gln: string, prefixes: Iterable<string>): string {
  const part = glnEpcPart(gln, prefixes);
  return part === null ? `${DIGITAL_LINK_ORIGIN}/414/${gln}` : `urn:epc:id:sgln:${part}.0`;
}

/**
 * A logistic unit: urn:epc:id:sscc:CP.EXTENSION+SERIALREF (the 18-digit SSCC without its check digit, the extension
 * digit moved after the company prefix), else https://id.gs1.org/00/SSCC.
 */
export function ssccUri(sscc: string, prefixes: Iterable<string>): string {
  const body = sscc.slice(1, 17); // company prefix and serial reference
  const prefix = companyPrefixOf(body, prefixes);
  return prefix === null ? `${DIGITAL_LINK_ORIGIN}/00/${sscc}` : `urn:epc:id:sscc:${prefix}.${sscc[0]}${body.slice(prefix.length)}`;
}

/** A party: urn:epc:id:pgln:CP.PARTYREF, else https://id.gs1.org/417/GLN. */
export function partyUri(gln: string, prefixes: Iterable<string>): string {
  const part = glnEpcPart(gln, prefixes);
  return part === null ? `${DIGITAL_LINK_ORIGIN}/417/${gln}` : `urn:epc:id:pgln:${part}`;
}

// --- EPC URI -> canonical GS1 Digital Link (for the event hash) ---------------------------------------------

/** Company prefix and the digits after it, when together they make `total` digits and the prefix is 6-12 long. */
function splitKey(prefix: string, rest: string, total: number): boolean {
  return COMPANY_PREFIX.test(prefix) && /^\d*$/.test(rest) && prefix.length + rest.length === total;
}

/** An EPC component (serial, lot, extension): EPC-escaped characters of set 82, at most 20 once unescaped. */
const EPC_COMPONENT = /^(?:%[0-9A-Fa-f]{2}|[!'()*+,\-.0-9:;=A-Z_a-z]){1,20}$/;

/**
 * The canonical GS1 Digital Link URI an EPC URI, EPC class URI or EPC pattern URI stands for (CBV 2.0 section 8.9
 * step 3), for the schemes Provena writes or reads (sgtin, lgtin, sscc, sgln, pgln, gdti, sgtin patterns); a
 * Digital Link on id.gs1.org is returned as it is. Null for anything else (other URIs are hashed verbatim).
 */
export function canonicalDigitalLink(uri: string): string | null {
  if (uri.startsWith(`${DIGITAL_LINK_ORIGIN}/`)) return uri;
  let match: RegExpExecArray | null;
  if ((match = /^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$/.exec(uri)) && splitKey(match[1]!, match[2]!, 13) && EPC_COMPONENT.test(match[3]!)) {
    const [, prefix, itemRef, serial] = match;
    const gtin = itemRef![0] + prefix! + itemRef!.slice(1);
    return `${DIGITAL_LINK_ORIGIN}/01/${gtin}${gs1CheckDigit(gtin)}/21/${digitalLinkEscapeEpcComponent(serial!)}`;
  }
  if (
    (match = /^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$/.exec(uri)) &&
    splitKey(match[1]!, match[2]!, 13) &&
    EPC_COMPONENT.test(match[3]!)
  ) {
    const [, prefix, itemRef, lot] = match;
    const gtin = itemRef![0] + prefix! + itemRef!.slice(1);
    return `${DIGITAL_LINK_ORIGIN}/01/${gtin}${gs1CheckDigit(gtin)}/10/${digitalLinkEscapeEpcComponent(lot!)}`;
  }
  if ((match = /^urn:epc:idpat:sgtin:(\d+)\.(\d+)\.\*$/.exec(uri)) && splitKey(match[1]!, match[2]!, 13)) {
    const gtin = match[2]![0] + match[1]! + match[2]!.slice(1);
    return `${DIGITAL_LINK_ORIGIN}/01/${gtin}${gs1CheckDigit(gtin)}`;
  }
  if ((match = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(uri)) && splitKey(match[1]!, match[2]!, 17)) {
    const sscc = match[2]![0] + match[1]! + match[2]!.slice(1);
    return `${DIGITAL_LINK_ORIGIN}/00/${sscc}${gs1CheckDigit(sscc)}`;
  }
  if ((match = /^urn:epc:id:sgln:(\d+)\.(\d*)\.(.+)$/.exec(uri)) && splitKey(match[1]!, match[2]!, 12) && EPC_COMPONENT.test(match[3]!)) {
    const gln = match[1]! + match[2]!;
    const extension = match[3]!;
    return `${DIGITAL_LINK_ORIGIN}/414/${gln}${gs1CheckDigit(gln)}${extension === "0" ? "" : `/254/${digitalLinkEscapeEpcComponent(extension)}`}`;
  }
  if ((match = /^urn:epc:id:pgln:(\d+)\.(\d*)$/.exec(uri)) && splitKey(match[1]!, match[2]!, 12)) {
    const gln = match[1]! + match[2]!;
    return `${DIGITAL_LINK_ORIGIN}/417/${gln}${gs1CheckDigit(gln)}`;
  }
  if ((match = /^urn:epc:id:gdti:(\d+)\.(\d*)\.(.*)$/.exec(uri)) && splitKey(match[1]!, match[2]!, 12)) {
    const gdti = match[1]! + match[2]!;
    return `${DIGITAL_LINK_ORIGIN}/253/${gdti}${gs1CheckDigit(gdti)}${digitalLinkEscapeEpcComponent(match[3]!)}`;
  }
  return null;
}
