/**
 * The EPCIS event hash (GS1 CBV 2.0 section 8.9, "EPCIS Event Hash ID"): a canonical pre-hash string of an event,
 * independent of how the event is serialised, hashed with SHA-256 and written as an RFC 6920 `ni` URI,
 * `ni:///sha-256;<hex>?ver=CBV2.0`. A partner holding the same event in XML or JSON-LD computes the same id.
 *
 * The pre-hash string, as GS1's reference implementation (github.com/RalphTro/epcis-event-hash-generator) builds it
 * and as its published test vectors check (test/backend/epcis/event-hash-vectors):
 * - `eventType=<type>`, then the standard fields in the canonical property order below, each present one as
 *   `key=value` with no separators; a list's name once, then its elements (`epc=...`, `quantityElement...`) sorted;
 * - then every other field (business transactions, sources, destinations, ILMD, user extensions), each rendered the
 *   same way and the resulting substrings sorted; extension names as `{namespace}localName`; the `type` of a business
 *   transaction, source or destination before its value;
 * - values trimmed; timestamps in UTC with milliseconds (`...T10:00:30.000Z`, a 4th fractional digit rounding half up);
 *   numbers without trailing zeros; bare CBV terms and CBV URNs as their https://ref.gs1.org/cbv/ Web URIs; CURIEs
 *   expanded with the document's context; EPC URIs as their canonical GS1 Digital Link (identifiers.ts).
 * eventID, recordTime, errorDeclaration and comments take no part. Sensor data is not supported (Provena records none):
 * an event carrying sensorElementList is refused rather than hashed wrongly.
 */
import { createHash } from "node:crypto";
import { canonicalDigitalLink } from "./identifiers.ts";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** CBV Web URI prefixes of the standard vocabularies, by the field that holds a bare term of them. */
const CBV = "https://ref.gs1.org/cbv/";
const VOCABULARY_PREFIX = {
  bizStep: `${CBV}BizStep-`,
  disposition: `${CBV}Disp-`,
  bizTransactionType: `${CBV}BTT-`,
  sourceDestType: `${CBV}SDT-`,
};
const CBV_URNS: readonly [string, string][] = [
  ["urn:epcglobal:cbv:bizstep:", `${CBV}BizStep-`],
  ["urn:epcglobal:cbv:disp:", `${CBV}Disp-`],
  ["urn:epcglobal:cbv:btt:", `${CBV}BTT-`],
  ["urn:epcglobal:cbv:sdt:", `${CBV}SDT-`],
  ["urn:epcglobal:cbv:er:", `${CBV}ER-`],
];
const EPC_LISTS = ["epcList", "inputEPCList", "childEPCs"] as const;
const QUANTITY_LISTS = ["quantityList", "childQuantityList", "inputQuantityList"] as const;
/** Fields that are not part of what happened, so not of the hash. */
const IGNORED = new Set(["type", "eventID", "recordTime", "errorDeclaration", "@context", "rdfs:comment", "comment"]);

export class EventHashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EventHashError";
  }
}

/** `ni:///sha-256;<hex of the pre-hash string's SHA-256>?ver=CBV2.0` */
export function eventHashId(event: JsonObject, namespaces: Readonly<Record<string, string>> = {}): string {
  const digest = createHash("sha256").update(eventPreHashString(event, namespaces), "utf8").digest("hex");
  return `ni:///sha-256;${digest}?ver=CBV2.0`;
}

/** The canonical pre-hash string of `event`; `namespaces` maps the document's context prefixes to their IRIs. */
export function eventPreHashString(event: JsonObject, namespaces: Readonly<Record<string, string>> = {}): string {
  const type = event.type;
  if (typeof type !== "string" || type === "") throw new EventHashError("an EPCIS event needs a type");
  if ("sensorElementList" in event) throw new EventHashError("events with sensor data are not supported by this hasher");
  const canon = new Canonicaliser(namespaces);
  const ordered: string[] = [`eventType=${type}`];
  const consumed = new Set<string>(IGNORED);
  const take = (key: string) => {
    consumed.add(key);
    return event[key];
  };

  ordered.push(canon.scalar("eventTime", take("eventTime"), "timestamp"));
  ordered.push(canon.scalar("eventTimeZoneOffset", take("eventTimeZoneOffset")));
  ordered.push(canon.scalar("certificationInfo", take("certificationInfo")));
  ordered.push(canon.scalar("parentID", take("parentID")));
  for (const list of EPC_LISTS) ordered.push(canon.epcList(list, take(list)));
  for (const list of QUANTITY_LISTS) ordered.push(canon.quantityList(list, take(list)));
  ordered.push(canon.epcList("outputEPCList", take("outputEPCList")));
  ordered.push(canon.quantityList("outputQuantityList", take("outputQuantityList")));
  ordered.push(canon.scalar("action", take("action")));
  ordered.push(canon.scalar("transformationID", take("transformationID")));
  ordered.push(canon.scalar("bizStep", take("bizStep"), "bizStep"));
  ordered.push(canon.scalar("disposition", take("disposition"), "disposition"));
  ordered.push(canon.persistentDisposition(take("persistentDisposition")));
  ordered.push(canon.place("readPoint", take("readPoint")));
  ordered.push(canon.place("bizLocation", take("bizLocation")));

  const rest: string[] = [];
  for (const [key, value] of Object.entries(event)) {
    if (consumed.has(key)) continue;
    if (key === "bizTransactionList") rest.push(canon.typedList(key, "bizTransaction", value, "bizTransactionType"));
    else if (key === "sourceList") rest.push(canon.typedList(key, "source", value, "sourceDestType"));
    else if (key === "destinationList") rest.push(canon.typedList(key, "destination", value, "sourceDestType"));
    else rest.push(...canon.generic(key, value));
  }
  return [...ordered, ...rest.filter((part) => part !== "").sort(compareCodePoints)].join("");
}

/** Case-sensitive lexical order by code point, as the algorithm prescribes (not locale order). */
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Vocabulary = keyof typeof VOCABULARY_PREFIX;

class Canonicaliser {
  constructor(private readonly namespaces: Readonly<Record<string, string>>) {}

  /** `key=value`, or "" when the value is absent or blank. */
  scalar(key: string, value: JsonValue | undefined, kind?: Vocabulary | "timestamp"): string {
    if (value === undefined || value === null) return "";
    if (typeof value === "object") throw new EventHashError(`${key} must be a single value`);
    const text = kind === "timestamp" ? canonicalTimestamp(String(value).trim()) : this.value(value, kind);
    return text === "" ? "" : `${key}=${text}`;
  }

  epcList(key: string, value: JsonValue | undefined): string {
    return this.list(key, value, (epc) => this.scalar("epc", epc));
  }

  quantityList(key: string, value: JsonValue | undefined): string {
    return this.list(key, value, (element) => {
      if (!isObject(element)) throw new EventHashError(`${key} holds quantity elements`);
      const body = ["epcClass", "quantity", "uom"].map((field) => this.scalar(field, element[field])).join("");
      return body === "" ? "" : `quantityElement${body}`;
    });
  }

  persistentDisposition(value: JsonValue | undefined): string {
    if (value === undefined || value === null) return "";
    if (!isObject(value)) throw new EventHashError("persistentDisposition must be an object");
    const part = (key: "set" | "unset") =>
      asArray(value[key])
        .map((term) => this.scalar(key, term, "disposition"))
        .sort(compareCodePoints)
        .join("");
    const body = part("set") + part("unset");
    return body === "" ? "" : `persistentDisposition${body}`;
  }

  /** readPoint / bizLocation: the id, then any extension elements inside it, sorted. */
  place(key: string, value: JsonValue | undefined): string {
    if (value === undefined || value === null) return "";
    if (!isObject(value)) throw new EventHashError(`${key} must be an object with an id`);
    const extensions = Object.entries(value)
      .filter(([field]) => field !== "id")
      .flatMap(([field, inner]) => this.generic(field, inner))
      .sort(compareCodePoints);
    const body = this.scalar("id", value.id) + extensions.join("");
    return body === "" ? "" : `${key}${body}`;
  }

  /** bizTransactionList / sourceList / destinationList: each element `type=...<valueKey>=...`, elements sorted. */
  typedList(key: string, valueKey: string, value: JsonValue, vocabulary: Vocabulary): string {
    return this.list(key, value, (element) => {
      if (!isObject(element)) throw new EventHashError(`${key} holds objects`);
      return this.scalar("type", element.type, vocabulary) + this.scalar(valueKey, element[valueKey]);
    });
  }

  /** ILMD and user extensions: `{ns}name=value`, or `{ns}name` followed by its children sorted; arrays repeat the name. */
  generic(key: string, value: JsonValue): string[] {
    const name = this.expandName(key);
    if (Array.isArray(value)) return value.flatMap((element) => this.generic(key, element));
    if (isObject(value)) {
      const children = Object.entries(value)
        .filter(([field]) => !IGNORED.has(field) || field === "type")
        .flatMap(([field, inner]) => this.generic(field, inner))
        .sort(compareCodePoints);
      return [name + children.join("")];
    }
    const text = value === null ? "" : this.value(value);
    return [text === "" ? name : `${name}=${text}`];
  }

  private list(key: string, value: JsonValue | undefined, element: (value: JsonValue) => string): string {
    if (value === undefined || value === null) return "";
    const parts = asArray(value)
      .map(element)
      .filter((part) => part !== "")
      .sort(compareCodePoints);
    return parts.length === 0 ? "" : key + parts.join("");
  }

  /** A field or extension name: `prefix:local` with a known prefix becomes `{namespace}local`. */
  private expandName(key: string): string {
    const colon = key.indexOf(":");
    const namespace = colon > 0 ? this.namespaces[key.slice(0, colon)] : undefined;
    return namespace === undefined ? key : `{${namespace}}${key.slice(colon + 1)}`;
  }

  private value(raw: string | number | boolean, vocabulary?: Vocabulary): string {
    if (typeof raw === "number") return canonicalNumber(raw);
    let text = String(raw).trim();
    if (text === "") return "";
    if (vocabulary !== undefined && !text.includes(":")) return VOCABULARY_PREFIX[vocabulary] + text;
    const colon = text.indexOf(":");
    const namespace = colon > 0 ? this.namespaces[text.slice(0, colon)] : undefined;
    if (namespace !== undefined) text = namespace + text.slice(colon + 1);
    for (const [urn, web] of CBV_URNS) if (text.startsWith(urn)) return web + text.slice(urn.length);
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return canonicalNumber(Number(text));
    return canonicalDigitalLink(text) ?? text;
  }
}

/** A number without trailing zeros: 1.0 is "1", 0.3430 is "0.343". */
function canonicalNumber(value: number): string {
  if (!Number.isFinite(value)) throw new EventHashError(`${value} is not a finite number`);
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? BigInt(value).toString() : String(value);
}

/** An xsd:dateTimeStamp in UTC with exactly three fractional digits, the third rounded half up from the fourth. */
export function canonicalTimestamp(text: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new EventHashError(`"${text}" is not an ISO 8601 date-time with a time zone`);
  const [, year, month, day, hour, minute, second, fraction = "", zone] = match;
  const digits = fraction.padEnd(4, "0");
  const millis = Number(digits.slice(0, 3)) + (digits[3]! >= "5" ? 1 : 0);
  let epochMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) + millis;
  if (zone !== "Z") {
    const sign = zone![0] === "-" ? -1 : 1;
    epochMs -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  return new Date(epochMs).toISOString();
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: JsonValue | undefined): JsonValue[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}
