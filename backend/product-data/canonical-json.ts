/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) for the JSON values product data can hold, and the hash anchored on
 * chain: keccak256 of the canonical UTF-8 bytes. JCS is JSON.stringify's own string and number serialisation
 * (ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts) with object members sorted by their names' UTF-16
 * code units (JavaScript's default sort order) and no whitespace. No package in node_modules does this, and it is
 * these few lines.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import type { Hex } from "../domain/model.ts";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((element) => canonicalJson(element)).join(",")}]`;
  if (typeof value === "object") {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(",")}}`;
  }
  throw new TypeError(`${typeof value} is not a JSON value`);
}

/** keccak256 of the canonical JSON's UTF-8 bytes: what ProductDataRegistry anchors. */
export function contentHashOf(canonical: string): Hex {
  return keccak256(toUtf8Bytes(canonical)) as Hex;
}
