/**
 * What an uploaded document's bytes are, judged by the bytes themselves (magic numbers, strict UTF-8, JSON syntax),
 * never by the client's Content-Type or file name: those only have to agree with the bytes. Only types no browser
 * runs script from when served as an attachment under a sandboxing CSP are accepted (no HTML, SVG or XML).
 */

export const DOCUMENT_MEDIA_TYPES = ["application/pdf", "image/png", "image/jpeg", "application/json", "text/plain"] as const;
export type DocumentMediaType = (typeof DOCUMENT_MEDIA_TYPES)[number];

/** The file-name extensions each type may carry. */
export const DOCUMENT_EXTENSIONS: Readonly<Record<DocumentMediaType, readonly string[]>> = {
  "application/pdf": ["pdf"],
  "image/png": ["png"],
  "image/jpeg": ["jpg", "jpeg"],
  "application/json": ["json"],
  "text/plain": ["txt", "text"],
};

export type RecognisedMediaType =
  | { kind: "recognised"; mediaType: DocumentMediaType }
  /** The bytes are none of the accepted types. */
  | { kind: "unsupported"; reason: string }
  /** The bytes are an accepted type, but the client's Content-Type or file name says another. */
  | { kind: "mismatch"; mediaType: DocumentMediaType; reason: string };

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const PDF = [...Buffer.from("%PDF-")];

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);

/** Text is strict UTF-8 with no control characters but tab, line feed, form feed and carriage return (and no BOM). */
function textOf(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufeff]/.test(text) ? null : text;
}

function isJson(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null;
  } catch {
    return false;
  }
}

/** The accepted type the bytes are, by their content alone; null when none. JSON is text too: `text/plain` may declare it. */
export function sniffMediaType(bytes: Uint8Array): DocumentMediaType | null {
  if (startsWith(bytes, PDF)) return "application/pdf";
  if (startsWith(bytes, PNG)) return "image/png";
  if (startsWith(bytes, JPEG)) return "image/jpeg";
  const text = textOf(bytes);
  if (text === null || text.trim() === "") return null;
  return isJson(text) ? "application/json" : "text/plain";
}

/**
 * Checks the bytes against the client's declared Content-Type (its essence, parameters ignored; required) and the
 * optional file name. `application/octet-stream` declares nothing but "bytes": the bytes decide.
 */
export function recogniseMediaType(bytes: Uint8Array, declared: string | undefined, fileName?: string): RecognisedMediaType {
  const sniffed = sniffMediaType(bytes);
  if (sniffed === null) {
    return { kind: "unsupported", reason: `the bytes are none of the accepted types (${DOCUMENT_MEDIA_TYPES.join(", ")})` };
  }
  const essence = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  const agrees =
    essence === sniffed || essence === "application/octet-stream" || (essence === "text/plain" && sniffed === "application/json");
  const mediaType: DocumentMediaType = essence === "text/plain" ? "text/plain" : sniffed;
  if (!agrees) {
    return {
      kind: "mismatch",
      mediaType: sniffed,
      reason: `the Content-Type says ${essence === "" ? "nothing" : essence}, but the bytes are ${sniffed}`,
    };
  }
  if (fileName !== undefined) {
    const extension = /\.([A-Za-z0-9]{1,10})$/.exec(fileName)?.[1]?.toLowerCase();
    if (extension === undefined || !DOCUMENT_EXTENSIONS[mediaType].includes(extension)) {
      return {
        kind: "mismatch",
        mediaType,
        reason: `the file name ${JSON.stringify(fileName)} does not end in .${DOCUMENT_EXTENSIONS[mediaType].join(" or .")}, as ${mediaType} should`,
      };
    }
  }
  return { kind: "recognised", mediaType };
}
