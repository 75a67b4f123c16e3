/**
 * GS1 Digital Link URIs for Provena passports (GS1 Digital Link standard 1.4, uncompressed form):
 *   unit:  {base}/01/{GTIN}/10/{lot}/21/{serial}
 *   batch: {base}/01/{GTIN}/10/{lot}
 * GTIN-8/12/13/14 are accepted and normalised to 14 digits (left-padded with zeros) after the check digit
 * is verified. Lot (AI 10) and serial (AI 21) are 1-20 characters of the GS1 AI encodable character set 82;
 * in a URI every character outside RFC 3986 "unreserved" is percent-encoded, as the standard requires.
 *
 * Printed links carry their trust anchors, the chain and registry the product is registered on, as query parameters:
 *   {base}/01/{GTIN}/10/{lot}/21/{serial}?chain={chainId}&registry={address}
 * GS1 Digital Link lets a URI carry key=value pairs that are not GS1 application identifiers in its query string
 * (keys that are not all digits, so they can never be read as AIs); resolvers and GS1 tools ignore them. The
 * passport page and scripts/verify.ts check against these anchors instead of the values the serving page names.
 */
import { batchIdOf, CHARSET_82, gs1CheckDigit, GTIN_LENGTHS, MAX_LOT_OR_SERIAL_LENGTH } from "../chain/gs1.ts";
import { DomainError } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";

export interface DigitalLink {
  /** GTIN-14, zero-padded. */
  gtin: string;
  lot: string;
  /** null for a batch-level link. */
  serial: string | null;
  /** keccak256(abi.encode(uint64 gtin, string lot)), the registry's batchIdOf. */
  batchId: Hex;
}

/** Why a link is not a valid Provena Digital Link; `ai` names the offending application identifier. */
export class DigitalLinkError extends DomainError {
  readonly ai: "01" | "10" | "21" | null;
  constructor(message: string, ai: "01" | "10" | "21" | null = null) {
    super("invalid-input", message, { reason: "invalid-digital-link", ...(ai ? { ai } : {}) });
    this.name = "DigitalLinkError";
    this.ai = ai;
  }
}

const AI_NAMES = { "01": "GTIN", "10": "batch/lot", "21": "serial number" } as const;

/** Validates a GTIN-8/12/13/14 and returns it as a 14-digit GTIN; throws DigitalLinkError when invalid. */
export function normalizeGtin(gtin: string): string {
  if (!/^\d+$/.test(gtin)) throw new DigitalLinkError(`GTIN "${printable(gtin)}" must contain digits only`, "01");
  if (!GTIN_LENGTHS.has(gtin.length)) {
    throw new DigitalLinkError(`GTIN ${gtin} has ${gtin.length} digits; a GTIN has 8, 12, 13 or 14`, "01");
  }
  const gtin14 = gtin.padStart(14, "0");
  if (/^0+$/.test(gtin14)) throw new DigitalLinkError("GTIN 0 is not a valid GTIN", "01");
  const expected = gs1CheckDigit(gtin14.slice(0, 13));
  const actual = Number(gtin14[13]);
  if (expected !== actual) {
    throw new DigitalLinkError(`GTIN ${gtin} has check digit ${actual}, but its digits require ${expected}`, "01");
  }
  return gtin14;
}

/** Throws DigitalLinkError unless `value` is a valid lot (AI 10) or serial (AI 21). */
export function validateLotOrSerial(value: string, ai: "10" | "21"): void {
  const name = AI_NAMES[ai];
  if (value.length === 0) throw new DigitalLinkError(`The ${name} (AI ${ai}) is empty`, ai);
  if (value.length > MAX_LOT_OR_SERIAL_LENGTH) {
    throw new DigitalLinkError(
      `The ${name} (AI ${ai}) has ${value.length} characters; at most ${MAX_LOT_OR_SERIAL_LENGTH} are allowed`,
      ai,
    );
  }
  if (!CHARSET_82.test(value)) {
    const bad = [...value].find((c) => !CHARSET_82.test(c)) ?? "";
    throw new DigitalLinkError(
      `The ${name} (AI ${ai}) contains ${describeChar(bad)}, which is outside the GS1 character set 82 (letters, digits and !"%&'()*+,-./:;<=>?_)`,
      ai,
    );
  }
}

/**
 * Percent-encodes a lot or serial for a URI path segment: everything but RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case hex, as GS1 Digital Link section 6 prescribes.
 */
export function encodeAiValue(value: string): string {
  let out = "";
  for (const char of value) {
    out += /[A-Za-z0-9\-._~]/.test(char)
      ? char
      : [...new TextEncoder().encode(char)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  }
  return out;
}

/** Decodes one percent-encoded path segment; throws DigitalLinkError on a malformed escape or invalid UTF-8. */
export function decodeAiValue(segment: string, ai: "01" | "10" | "21"): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) {
    throw new DigitalLinkError(
      `The ${AI_NAMES[ai]} (AI ${ai}) contains a "%" that does not start a %XX escape; write a literal percent sign as %25`,
      ai,
    );
  }
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DigitalLinkError(`The ${AI_NAMES[ai]} (AI ${ai}) contains percent-escapes that are not valid UTF-8`, ai);
  }
}

/** The path of a Digital Link, without the base: "/01/{gtin}/10/{lot}" or ".../21/{serial}". */
export function digitalLinkPath(gtin: string, lot: string, serial: string | null = null): string {
  const gtin14 = normalizeGtin(gtin);
  validateLotOrSerial(lot, "10");
  let path = `/01/${gtin14}/10/${encodeAiValue(lot)}`;
  if (serial !== null) {
    validateLotOrSerial(serial, "21");
    path += `/21/${encodeAiValue(serial)}`;
  }
  return path;
}

/** The chain and registry a printed link names, which its verifiers trust instead of the server that answers it. */
export interface TrustAnchors {
  chainId: number;
  registry: Hex;
}

/** The query string that carries trust anchors: "?chain={chainId}&registry={address}" (see verify-core.js trustAnchorsOfSearch). */
export function trustAnchorQuery(anchors: TrustAnchors): string {
  return `?chain=${anchors.chainId}&registry=${anchors.registry.toLowerCase()}`;
}

/**
 * The full Digital Link URI on `publicBaseUrl` (the deployment's public origin, optionally with a path prefix);
 * with `anchors`, the printed form that names the chain and registry.
 */
export function buildDigitalLink(
  publicBaseUrl: string,
  gtin: string,
  lot: string,
  serial: string | null = null,
  anchors: TrustAnchors | null = null,
): string {
  return `${publicBaseUrl.replace(/\/+$/, "")}${digitalLinkPath(gtin, lot, serial)}${anchors ? trustAnchorQuery(anchors) : ""}`;
}

/**
 * Parses the path of a Digital Link (raw, still percent-encoded, as it arrives in the request line).
 * `prefixAllowed` accepts any path before "/01/" (a Digital Link may live under a path prefix).
 */
export function parseDigitalLinkPath(rawPath: string, options: { prefixAllowed?: boolean } = {}): DigitalLink {
  const segments = rawPath.replace(/\/+$/, "").split("/").slice(1);
  let start = 0;
  if (options.prefixAllowed) {
    // The Digital Link part is the tail "01/x", "01/x/10/y" or "01/x/10/y/21/z"; try the longest first.
    const candidates = [6, 4, 2].map((n) => segments.length - n).filter((i) => i >= 0 && segments[i] === "01");
    start = candidates[0] ?? segments.indexOf("01");
    if (start < 0) throw new DigitalLinkError('The link has no GTIN: a GS1 Digital Link path contains "/01/{GTIN}"');
  }
  const [ai01, gtinSegment, ...rest] = segments.slice(start);
  if (ai01 !== "01") {
    throw new DigitalLinkError('A Provena link starts with "/01/{GTIN}" (GS1 application identifier 01)');
  }
  if (gtinSegment === undefined || gtinSegment === "") throw new DigitalLinkError("The link has no GTIN after /01/", "01");
  const gtin = normalizeGtin(decodeAiValue(gtinSegment, "01"));

  if (rest.length === 0) {
    throw new DigitalLinkError(
      "The link names a product but no batch: Provena links carry the batch/lot as /10/{lot} after the GTIN",
      "10",
    );
  }
  if (rest[0] !== "10") {
    const what = rest[0] === "21" ? "a serial without a batch/lot" : `application identifier "${printable(rest[0] ?? "")}"`;
    throw new DigitalLinkError(
      `Expected /10/{lot} after the GTIN but found ${what}; Provena links are /01/{GTIN}/10/{lot}[/21/{serial}]`,
      "10",
    );
  }
  if (rest.length < 2 || rest[1] === "") throw new DigitalLinkError("The link has no batch/lot after /10/", "10");
  const lot = decodeAiValue(rest[1]!, "10");
  validateLotOrSerial(lot, "10");

  let serial: string | null = null;
  if (rest.length > 2) {
    if (rest[2] !== "21") {
      throw new DigitalLinkError(
        `Expected /21/{serial} after the lot but found "${printable(rest[2] ?? "")}"; Provena links are /01/{GTIN}/10/{lot}[/21/{serial}]`,
        "21",
      );
    }
    if (rest.length < 4 || rest[3] === "") throw new DigitalLinkError("The link has no serial number after /21/", "21");
    if (rest.length > 4) throw new DigitalLinkError("The link has extra path segments after the serial number", "21");
    serial = decodeAiValue(rest[3]!, "21");
    validateLotOrSerial(serial, "21");
  }
  return { gtin, lot, serial, batchId: batchIdOf(gtin, lot) };
}

/** Parses a full Digital Link URI (any host, optional path prefix). */
export function parseDigitalLinkUri(uri: string): DigitalLink & { origin: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new DigitalLinkError(`"${printable(uri)}" is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new DigitalLinkError(`"${url.protocol}" links are not GS1 Digital Links; use http(s)`);
  return { ...parseDigitalLinkPath(url.pathname, { prefixAllowed: true }), origin: url.origin };
}

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === " ") return "a space";
  if (code < 0x20 || code === 0x7f) return `the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return `"${char}"`;
}

/** Shortens and de-controls user input before echoing it in an error message. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not be echoed
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
