/** What a passport request wants back, read from its Accept header. */
import type { Request } from "express";
import { createBoundedMemo } from "./view-cache.ts";

export type PassportRepresentation = "html" | "jsonld" | "json";

// Phones send a handful of distinct Accept headers: each is negotiated once.
const answers = createBoundedMemo<string, PassportRepresentation | false>(256);

/** HTML for browsers (and "*\/*"), JSON-LD or plain JSON for machines; false when none of them is acceptable. */
export function negotiatePassport(req: Request): PassportRepresentation | false {
  const accept = req.headers.accept;
  if (accept === undefined || accept.length > 1_024) return negotiate(req);
  let answer = answers.get(accept);
  if (answer === undefined) {
    answer = negotiate(req);
    answers.set(accept, answer);
  }
  return answer;
}

function negotiate(req: Request): PassportRepresentation | false {
  const type = req.accepts(["text/html", "application/ld+json", "application/json"]);
  if (type === "text/html") return "html";
  if (type === "application/ld+json") return "jsonld";
  if (type === "application/json") return "json";
  return false;
}
