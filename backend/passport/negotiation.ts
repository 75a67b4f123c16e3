/** What a passport request wants back, read from its Accept header. */
import type { Request } from "express";

export type PassportRepresentation = "html" | "jsonld" | "json";

/** HTML for browsers (and "*\/*"), JSON-LD or plain JSON for machines; false when none of them is acceptable. */
export function negotiatePassport(req: Request): PassportRepresentation | false {
  const type = req.accepts(["text/html", "application/ld+json", "application/json"]);
  if (type === "text/html") return "html";
  if (type === "application/ld+json") return "jsonld";
  if (type === "application/json") return "json";
  return false;
}
