/**
 * A batch's unit serial list: parsing an upload (CSV or JSON, 100,000+ serials), the Merkle tree whose root
 * the manufacturer registers on-chain (registerBatch's serialRoot), storage in the mirror store, and proofs
 * for single serials (served to passports, checked on-chain by registry.verifyUnit).
 *
 * Uploads are all-or-nothing: every malformed or duplicate row is reported with its line number (the first
 * MAX_REPORTED_ERRORS of them, plus the total count) and nothing is stored unless every row is good.
 * Used by the HTTP upload route, the CLI and the demo seed.
 */
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from "jsonc-parser";
import { type DomainError, notFound, rejected } from "../domain/errors.ts";
import type { MirrorStore } from "../store/port.ts";
import type { Hex } from "../domain/model.ts";
import { isValidLotOrSerial } from "../chain/gs1.ts";
import { buildSerialTree, type SerialTree } from "./serial-tree.ts";

export { buildSerialTree, type SerialTree } from "./serial-tree.ts";

export type SerialListFormat = "csv" | "json";

export interface SerialListIssue {
  /** 1-based line of the upload where the bad row starts (absent only for a JSON body parsed upstream). */
  line?: number;
  /** 1-based position in a JSON array, for JSON uploads. */
  entry?: number;
  message: string;
}

export type SerialListParseResult = { ok: true; serials: string[] } | { ok: false; errors: SerialListIssue[]; errorCount: number };

export const MAX_REPORTED_ERRORS = 100;

/** Header names accepted for the serial column of a CSV with a header row (compared case-insensitively). */
const SERIAL_COLUMN_NAMES = new Set(["serial", "serials", "serial number", "serial_number", "serialnumber"]);

/** Collects issues; keeps the first MAX_REPORTED_ERRORS but counts them all. */
class IssueList {
  readonly shown: SerialListIssue[] = [];
  count = 0;
  add(issue: SerialListIssue) {
    this.count++;
    if (this.shown.length < MAX_REPORTED_ERRORS) this.shown.push(issue);
  }
}

/** Checks one serial and records it; duplicates point at the line that first had the serial. */
class SerialCollector {
  readonly serials: string[] = [];
  private readonly firstLine = new Map<string, { line?: number; entry?: number }>();
  readonly issues: IssueList;
  constructor(issues: IssueList) {
    this.issues = issues;
  }

  add(serial: string, line: number | undefined, entry?: number) {
    const at = { ...(line === undefined ? {} : { line }), ...(entry === undefined ? {} : { entry }) };
    if (!isValidLotOrSerial(serial)) {
      this.issues.add({ ...at, message: describeBadSerial(serial) });
      return;
    }
    const seen = this.firstLine.get(serial);
    if (seen !== undefined) {
      const first = seen.line === undefined ? `entry ${seen.entry}` : `line ${seen.line}`;
      this.issues.add({ ...at, message: `Duplicate serial "${serial}" (first on ${first})` });
      return;
    }
    this.firstLine.set(serial, at);
    this.serials.push(serial);
  }

  result(): SerialListParseResult {
    if (this.issues.count === 0 && this.serials.length === 0) {
      this.issues.add({ line: 1, message: "The list contains no serials" });
    }
    return this.issues.count > 0
      ? { ok: false, errors: this.issues.shown, errorCount: this.issues.count }
      : { ok: true, serials: this.serials };
  }
}

function describeBadSerial(serial: string): string {
  const shown = JSON.stringify(serial.length > 40 ? `${serial.slice(0, 40)}…` : serial);
  if (serial.length === 0) return "Empty serial";
  if (serial.length > 20) return `Serial ${shown} has ${serial.length} characters; at most 20 are allowed`;
  const bad = [...serial].find((c) => !isValidLotOrSerial(c)) ?? "";
  return `Serial ${shown} contains ${JSON.stringify(bad)}, outside the GS1 character set 82 (letters, digits and !"%&'()*+,-./:;<=>?_)`;
}

/** Parses an uploaded serial list. */
export function parseSerialList(text: string, format: SerialListFormat): SerialListParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return format === "csv" ? parseCsv(body) : parseJson(body);
}

// --- CSV ---------------------------------------------------------------------------------------------

/**
 * One CSV record per line: serials never contain line breaks (set 82 has none), so a quoted field spanning
 * lines is itself an error, and splitting on line breaks first keeps every error on its exact line.
 * Fields follow RFC 4180: a quoted field may contain the delimiter and doubled quotes ("").
 */
function splitCsvLine(line: string, delimiter: string): { fields: string[] } | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === " " || line[i] === "\t") i++;
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) return { error: "A quoted field is not closed on this line" };
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      while (line[i] === " " || line[i] === "\t") i++;
      fields.push(value);
      if (i >= line.length) return { fields };
      if (line[i] !== delimiter) return { error: "Unexpected text after a closing quote" };
      i++;
    } else {
      const end = line.indexOf(delimiter, i);
      fields.push((end < 0 ? line.slice(i) : line.slice(i, end)).trim());
      if (end < 0) return { fields };
      i = end + 1;
    }
  }
}

function parseCsv(text: string): SerialListParseResult {
  const lines = text.split(/\r\n|\n|\r/);
  const issues = new IssueList();
  const collector = new SerialCollector(issues);

  const firstIndex = lines.findIndex((line) => line.trim() !== "");
  if (firstIndex < 0) return collector.result();

  // A header row names a serial column; its delimiter (comma, or semicolon as spreadsheets in many locales write) rules the file.
  const headerLine = lines[firstIndex]!;
  const delimiter = headerLine.includes(";") && !headerLine.includes(",") ? ";" : ",";
  const header = splitCsvLine(headerLine, delimiter);
  const serialColumn = "fields" in header ? header.fields.findIndex((name) => SERIAL_COLUMN_NAMES.has(name.trim().toLowerCase())) : -1;

  if (serialColumn >= 0) {
    const columnCount = (header as { fields: string[] }).fields.length;
    for (let index = firstIndex + 1; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.trim() === "") continue;
      const record = splitCsvLine(line, delimiter);
      if ("error" in record) {
        issues.add({ line: index + 1, message: record.error });
      } else if (record.fields.length !== columnCount) {
        issues.add({ line: index + 1, message: `Expected ${columnCount} fields as in the header row, found ${record.fields.length}` });
      } else {
        collector.add(record.fields[serialColumn]!, index + 1);
      }
    }
    return collector.result();
  }

  // No header: one serial per line. A serial may contain a comma only when quoted, so that a multi-column
  // file without a header row is reported instead of being read as serials like "SN1,2024-01-01".
  for (let index = firstIndex; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === "") continue;
    const record = splitCsvLine(line, ",");
    if ("error" in record) {
      issues.add({ line: index + 1, message: record.error });
    } else if (record.fields.length !== 1) {
      issues.add({
        line: index + 1,
        message: `Found ${record.fields.length} comma-separated fields; put one serial per line, quote a serial containing a comma ("A,1"), or add a header row naming the "serial" column`,
      });
    } else {
      collector.add(record.fields[0]!, index + 1);
    }
  }
  return collector.result();
}

// --- JSON --------------------------------------------------------------------------------------------

const JSON_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: "Unexpected character",
  InvalidNumberFormat: "Malformed number",
  PropertyNameExpected: "Expected a property name in double quotes",
  ValueExpected: "Expected a value",
  ColonExpected: 'Expected ":"',
  CommaExpected: 'Expected ","',
  CloseBraceExpected: 'Expected "}"',
  CloseBracketExpected: 'Expected "]"',
  EndOfFileExpected: "Unexpected text after the end of the JSON document",
  InvalidCommentToken: "Comments are not allowed in JSON",
  UnexpectedEndOfString: "A string is not closed",
  InvalidUnicode: "Invalid \\u escape",
  InvalidEscapeCharacter: "Invalid escape character",
  InvalidCharacter: "Invalid character (control characters must be escaped)",
};

function parseJson(text: string): SerialListParseResult {
  const issues = new IssueList();
  const lineOf = lineLocator(text);
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (syntaxErrors.length > 0 || root === undefined) {
    for (const error of syntaxErrors) {
      const code = printParseErrorCode(error.error);
      issues.add({ line: lineOf(error.offset), message: `Invalid JSON: ${JSON_ERROR_TEXT[code] ?? code}` });
    }
    if (issues.count === 0) issues.add({ line: 1, message: "Invalid JSON: the document is empty" });
    return { ok: false, errors: issues.shown, errorCount: issues.count };
  }

  let array: JsonNode | undefined;
  if (root.type === "array") array = root;
  else if (root.type === "object") {
    // JSON.parse semantics: the last of duplicate keys wins.
    const member = root.children?.filter((property) => property.children?.[0]?.value === "serials").at(-1);
    if (member?.children?.[1]?.type === "array") array = member.children[1];
  }
  if (!array) {
    issues.add({ line: lineOf(root.offset), message: 'Expected a JSON array of serial strings or an object {"serials": [...]}' });
    return { ok: false, errors: issues.shown, errorCount: issues.count };
  }

  return collectJsonEntries(
    (array.children ?? []).map((element) => ({
      value: element.type === "string" ? element.value : jsonTypeOf(element.type),
      line: lineOf(element.offset),
    })),
    issues,
  );
}

/** A JSON value's type in words, for messages (`jsonc-parser` node types and `typeof` agree except for arrays). */
function jsonTypeOf(type: string): { nonString: string } {
  return { nonString: type };
}

/**
 * Serials from an already-parsed JSON array (when a generic JSON body parser ran before the upload route), so
 * no line numbers are known: issues then name the 1-based entry only.
 */
export function parseSerialValues(values: unknown[]): SerialListParseResult {
  return collectJsonEntries(
    values.map((value) => ({
      value: typeof value === "string" ? value : { nonString: value === null ? "null" : Array.isArray(value) ? "array" : typeof value },
    })),
    new IssueList(),
  );
}

function collectJsonEntries(entries: { value: unknown; line?: number }[], issues: IssueList): SerialListParseResult {
  const collector = new SerialCollector(issues);
  entries.forEach(({ value, line }, i) => {
    if (typeof value === "string") {
      collector.add(value, line, i + 1);
    } else {
      const type = (value as { nonString: string }).nonString;
      const hint = type === "number" ? " (write serials as strings: numbers lose leading zeros)" : "";
      issues.add({
        ...(line === undefined ? {} : { line }),
        entry: i + 1,
        message: `Expected a string, found ${type === "array" || type === "object" ? `an ${type}` : type}${hint}`,
      });
    }
  });
  return collector.result();
}

/** Maps a character offset to its 1-based line number. */
function lineLocator(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

// --- storage and proofs --------------------------------------------------------------------------------

export interface SerialSetSummary {
  serialRoot: Hex;
  count: number;
  /** false when the same set was uploaded before (uploads are idempotent per root). */
  created: boolean;
}

export interface UnitProof {
  serialRoot: Hex;
  serial: string;
  proof: Hex[];
}

export interface SerialServiceOptions {
  store: MirrorStore;
  /** Trees kept in memory, most recently used first (a 100,000-serial tree takes about 13 MB). */
  cacheSize?: number;
}

export interface SerialService {
  /** Parses, builds the tree and stores the set; throws a "rejected" DomainError listing bad rows, storing nothing. */
  uploadSerialList(text: string, format: SerialListFormat): Promise<SerialSetSummary>;
  /** Like uploadSerialList, for a JSON array a body parser already decoded (issues name entries, not lines). */
  uploadSerialValues(values: unknown[]): Promise<SerialSetSummary>;
  /** Stores an already-validated list (CLI, demo); returns its root. */
  storeSerials(serials: readonly string[]): Promise<SerialSetSummary>;
  /** The proof for `serial` under `serialRoot`; null when no set with that root is stored or the serial is not in it. */
  proveSerial(serialRoot: Hex, serial: string): Promise<UnitProof | null>;
  /** True when the set is stored; null when the set is unknown, else whether `serial` is a member. */
  hasSerial(serialRoot: Hex, serial: string): Promise<boolean | null>;
  /** The stored set's serials (for QR sheets), or null. */
  getSerials(serialRoot: Hex): Promise<string[] | null>;
  /** What is stored under a root; throws a "not-found" DomainError when nothing is. */
  describeSerialSet(serialRoot: Hex): Promise<{ serialRoot: Hex; count: number; createdAt: number }>;
}

/** Throws the 422 problem an upload with bad rows gets. */
export function serialListProblem(result: Extract<SerialListParseResult, { ok: false }>): DomainError {
  return rejected(
    `${result.errorCount} row${result.errorCount === 1 ? " is" : "s are"} invalid; nothing was stored. Fix every listed line and upload again.`,
    {
      errorCount: result.errorCount,
      errors: result.errors,
      ...(result.errorCount > result.errors.length ? { errorsTruncated: true } : {}),
    },
  );
}

export function createSerialService({ store, cacheSize = 8 }: SerialServiceOptions): SerialService {
  // LRU of built trees keyed by serialRoot: Map iteration order is insertion order, so re-inserting on use
  // keeps the most recent last. In-flight builds are shared so concurrent scans build a tree once.
  const trees = new Map<Hex, SerialTree>();
  const building = new Map<Hex, Promise<SerialTree | null>>();

  function remember(tree: SerialTree) {
    trees.delete(tree.root);
    trees.set(tree.root, tree);
    while (trees.size > cacheSize) trees.delete(trees.keys().next().value!);
  }

  async function treeFor(serialRoot: Hex): Promise<SerialTree | null> {
    const root = serialRoot.toLowerCase() as Hex;
    const cached = trees.get(root);
    if (cached) {
      remember(cached);
      return cached;
    }
    let pending = building.get(root);
    if (!pending) {
      pending = (async () => {
        const set = await store.getSerialSet(root);
        if (!set) return null;
        const tree = await buildSerialTree(set.serials);
        if (tree.root !== root) {
          throw new Error(`Stored serial set ${root} rebuilds to root ${tree.root}: the stored list is corrupt`);
        }
        remember(tree);
        return tree;
      })().finally(() => building.delete(root));
      building.set(root, pending);
    }
    return pending;
  }

  async function storeSerials(serials: readonly string[]): Promise<SerialSetSummary> {
    const tree = await buildSerialTree(serials);
    const existing = await store.getSerialSet(tree.root);
    if (!existing) await store.putSerialSet({ serialRoot: tree.root, serials: [...serials], createdAt: Date.now() });
    remember(tree);
    return { serialRoot: tree.root, count: serials.length, created: !existing };
  }

  return {
    async uploadSerialList(text, format) {
      const result = parseSerialList(text, format);
      if (!result.ok) throw serialListProblem(result);
      return storeSerials(result.serials);
    },
    async uploadSerialValues(values) {
      const result = parseSerialValues(values);
      if (!result.ok) throw serialListProblem(result);
      return storeSerials(result.serials);
    },
    storeSerials,
    async proveSerial(serialRoot, serial) {
      const tree = await treeFor(serialRoot);
      const proof = tree?.proof(serial) ?? null;
      return tree && proof ? { serialRoot: tree.root, serial, proof } : null;
    },
    async hasSerial(serialRoot, serial) {
      const tree = await treeFor(serialRoot);
      return tree ? tree.has(serial) : null;
    },
    async getSerials(serialRoot) {
      return (await store.getSerialSet(serialRoot.toLowerCase() as Hex))?.serials ?? null;
    },
    async describeSerialSet(serialRoot) {
      const set = await store.getSerialSet(serialRoot);
      if (!set) throw notFound(`No serial list with root ${serialRoot} is stored`);
      return { serialRoot: set.serialRoot, count: set.serials.length, createdAt: set.createdAt };
    },
  };
}
