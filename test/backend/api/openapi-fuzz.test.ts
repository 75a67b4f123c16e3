/**
 * Property-based fuzzing of every operation of the app `npm start` serves (createProvenaHttpApp: operations, read API,
 * passports and uploads, EPCIS, relay), driven by its own OpenAPI document over a real HTTP server on a seeded chain
 * and mirror. For each path × method, fast-check builds valid-looking and hostile requests: path parameters of the
 * wrong shape, huge, unicode, broken percent-encoding, `..`, `__proto__`; documented query parameters with hostile
 * values, undocumented and repeated ones, bracket arrays; Accept, If-None-Match, Content-Type and other headers that
 * lie or overflow; bodies of the wrong type, deep, with huge numbers, prototype-pollution keys, truncated, not UTF-8.
 *
 * Every answer must be: below 500 (503 only where the operation documents it); under /api an error is RFC 9457
 * problem+json; elsewhere an error is problem+json or an HTML page; no request hangs. Afterwards the server is healthy
 * and a valid read still works.
 *
 * FUZZ_API_RUNS (random requests per operation, default 60; with the always-tried path segments about 2,200 requests)
 * goes deeper; FUZZ_API_SEED replays a run.
 */
import { once } from "node:events";
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import fc from "fast-check";
import { Wallet } from "ethers";
import { pino } from "pino";
import { answerClientErrorsAsProblems } from "../../../backend/api/client-errors.ts";
import type { ProvenaApp } from "../../../backend/api/app.ts";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { ChainAccess } from "../../../backend/chain/chain-access.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { loadConfig } from "../../../backend/config.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { createProvenaHttpApp, type ProvenaHttpDeps } from "../../../backend/main.ts";
import { createRelayService } from "../../../backend/relayer/relay-service.ts";
import { createPassportWorld, type PassportWorld } from "../passport/fixture.ts";

const RUNS_PER_OPERATION = Number(process.env.FUZZ_API_RUNS ?? 60);
const SEED = process.env.FUZZ_API_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FUZZ_API_SEED);
/** No answer within this many milliseconds counts as a hang. */
const REQUEST_TIMEOUT_MS = 15_000;

type JsonSchema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: "path" | "query";
  schema?: JsonSchema;
}
interface Operation {
  method: string;
  template: string;
  parameters: Parameter[];
  bodyTypes: string[];
  bodySchema: JsonSchema | undefined;
  statuses: string[];
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const ASSETS_DIR = fileURLToPath(new URL("../../../backend/passport/assets/", import.meta.url));

// --- requests ------------------------------------------------------------------------------------------------------

const HOSTILE_SEGMENTS = [
  "..",
  "%2e%2e",
  "..%2F..%2Fpackage.json",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "%",
  "%E0%A4%A",
  "%ZZ",
  "%00",
  "%C0%AF",
  "%FF%FE",
  "%F0%9F%92%A5",
  "-1",
  "0",
  "1e309",
  "NaN",
  "0x",
  `0x${"f".repeat(64)}`,
  `0x${"G".repeat(64)}`,
  `0X${"AB".repeat(32)}`,
  "9".repeat(400),
  "a".repeat(4_000),
  "%20",
  "null",
  "undefined",
  "[object Object]",
];

const HOSTILE_QUERY_VALUES = [
  "",
  "0x10",
  "1e2",
  "%20%201",
  "-0",
  "1.5",
  "Infinity",
  "NaN",
  "99999999999999999999999",
  "%00",
  "%",
  "%E0%A4%A",
  "__proto__",
  "true",
  "[]",
  "{}",
  "a".repeat(3_000),
  "%F0%9F%92%A5",
];

const HOSTILE_QUERY_KEYS = ["__proto__", "constructor", "__proto__[polluted]", "a[]", "a[b]", "", "%", "%E0%A4%A", "limit[]", "toString"];

const ACCEPTS = [
  "*/*",
  "application/json",
  "application/ld+json",
  "application/problem+json",
  "text/html",
  "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "image/svg+xml",
  "image/png",
  "text/csv",
  "application/xml",
  "",
  "garbage/;;;q=x",
  "text/html;q=0, application/json;q=0",
  "*/*;q=abc",
  `text/html, ${"application/x-a, ".repeat(300)}*/*`,
];

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16le",
  "application/json; charset=klingon",
  "application/problem+json",
  "application/x-www-form-urlencoded",
  "text/csv",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "",
  ";;;",
];

const segment = (value: string) => encodeURIComponent(value);

/** A string of any code points, percent-encoded as a path segment. */
const unicodeSegment = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).map(segment);

function samplePathValue(name: string, world: PassportWorld, assets: string[]): string {
  switch (name) {
    case "gtin":
      return world.traded.gtin;
    case "lot":
      return segment(world.traded.lot);
    case "serial":
      return segment(world.traded.serials[0]!);
    case "batchId":
      return world.traded.batchId;
    case "address":
      return world.deployment.registry;
    case "file":
      return assets[0] ?? "passport.js";
    default:
      return `0x${"ab".repeat(32)}`;
  }
}

function pathValue(name: string, world: PassportWorld, assets: string[]): fc.Arbitrary<string> {
  const valid = samplePathValue(name, world, assets);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(valid) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(world.children[0]!.batchId, world.unlisted.batchId, ...assets, segment(world.children[1]!.serials[0]!)),
    },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    { weight: 2, arbitrary: unicodeSegment },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-FxX]{0,70}$/) },
    { weight: 1, arbitrary: fc.constant(valid).map((v) => `${v}%2F..`) },
  );
}

/** A value shaped by a parameter's schema: an enum member, a number in range, a pattern match. */
function schemaString(schema: JsonSchema | undefined): fc.Arbitrary<string> {
  if (!schema) return fc.string();
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]).map(String));
  if (schema.type === "integer" || schema.type === "number") {
    const min = typeof schema.minimum === "number" ? schema.minimum : 0;
    const max = typeof schema.maximum === "number" ? Math.min(schema.maximum, Number.MAX_SAFE_INTEGER) : 1_000_000;
    return fc.integer({ min: Math.max(Number.MIN_SAFE_INTEGER, min), max }).map(String);
  }
  if (schema.type === "boolean") return fc.constantFrom("true", "false");
  if (typeof schema.pattern === "string") {
    try {
      return fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      return fc.string();
    }
  }
  return fc.string({ maxLength: 30 });
}

function queryPairs(operation: Operation): fc.Arbitrary<[string, string][]> {
  const documented = operation.parameters.filter((parameter) => parameter.in === "query");
  const documentedPair =
    documented.length === 0
      ? fc.constant<[string, string] | null>(null)
      : fc.constantFrom(...documented).chain((parameter) => {
          if (parameter.schema?.type === "object") {
            const patterns = Object.keys((parameter.schema.patternProperties ?? {}) as Record<string, unknown>);
            const key = patterns.length > 0 ? fc.stringMatching(new RegExp(patterns[0]!)) : fc.string();
            return fc.tuple(
              fc.oneof(key, fc.constantFrom(...HOSTILE_QUERY_KEYS)),
              fc.oneof(fc.string(), fc.constantFrom(...HOSTILE_QUERY_VALUES)),
            );
          }
          return fc.tuple(
            fc.constant(parameter.name),
            fc.oneof(
              { weight: 3, arbitrary: schemaString(parameter.schema) },
              { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_QUERY_VALUES) },
            ),
          );
        });
  const pair = fc.oneof(
    { weight: 4, arbitrary: documentedPair },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_QUERY_KEYS, "colour", "utm_source"), fc.constantFrom(...HOSTILE_QUERY_VALUES)),
    },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })) },
  );
  return fc.array(pair, { maxLength: 4 }).chain((pairs) => {
    const present = pairs.filter((p): p is [string, string] => p !== null);
    // A repeated parameter: the same key twice.
    return fc.boolean().map((repeat) => (repeat && present.length > 0 ? [...present, present[0]!] : present));
  });
}

/** Some of the documented parameters, each with a value its schema allows. */
function validQueryPairs(operation: Operation): fc.Arbitrary<[string, string][]> {
  const documented = operation.parameters.filter((parameter) => parameter.in === "query" && parameter.schema?.type !== "object");
  if (documented.length === 0) return fc.constant([]);
  return fc
    .subarray(documented)
    .chain((chosen) =>
      fc.tuple(...chosen.map((parameter) => schemaString(parameter.schema).map((value): [string, string] => [parameter.name, value]))),
    );
}

function encodeQuery(pairs: [string, string][], raw: boolean): string {
  if (pairs.length === 0) return "";
  // Hostile values are often already percent-encoded on purpose; the rest are encoded properly.
  const text = pairs.map(([key, value]) => (raw ? `${key}=${value}` : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)).join("&");
  return `?${text}`;
}

/** A JSON value shaped by a (possibly $ref'd) schema, with hostile values mixed in. */
function schemaValue(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, depth = 0): fc.Arbitrary<unknown> {
  const hostile = hostileJsonValue();
  if (!schema || depth > 4) return hostile;
  if (typeof schema.$ref === "string") return schemaValue(components[schema.$ref.split("/").pop()!], components, depth + 1);
  const alternatives = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (alternatives && alternatives.length > 0)
    return fc.oneof(...alternatives.map((alternative) => schemaValue(alternative, components, depth + 1)));
  let shaped: fc.Arbitrary<unknown>;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "object" || schema.properties) {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, property] of Object.entries(properties)) record[name] = schemaValue(property, components, depth + 1);
    shaped = fc.record(record, { requiredKeys: (schema.required ?? []) as string[] });
  } else if (type === "array") {
    shaped = fc.array(schemaValue(schema.items as JsonSchema | undefined, components, depth + 1), { maxLength: 4 });
  } else if (type === "integer" || type === "number") {
    shaped = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0));
  } else if (type === "boolean") {
    shaped = fc.boolean();
  } else {
    shaped = schemaString(schema);
  }
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: hostile });
}

function hostileJsonValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string({ maxLength: 20 }),
    fc.constantFrom("0x10", "1e2", " 1", "-1", "1.5", "9".repeat(80), "__proto__", "", "0x", `0x${"0".repeat(64)}`),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constant({ __proto__: { polluted: true } }),
    fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as unknown),
  );
}

/** The raw body: JSON of the schema-shaped value, or text that is not JSON at all. */
function bodyBytes(operation: Operation, components: Record<string, JsonSchema>): fc.Arbitrary<Buffer | undefined> {
  const json = schemaValue(operation.bodySchema, components).map((value) => Buffer.from(JSON.stringify(value) ?? "null"));
  return fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 1, arbitrary: json.chain((bytes) => fc.nat({ max: Math.max(0, bytes.length - 1) }).map((cut) => bytes.subarray(0, cut))) },
    { weight: 1, arbitrary: fc.integer({ min: 30, max: 20_000 }).map((depth) => Buffer.from(`${"[".repeat(depth)}${"]".repeat(depth)}`)) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 30, max: 5_000 }).map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{"gas":1e400,"value":-0,"nonce":123456789012345678901234567890}', `{"value":${"9".repeat(5000)}}`)
        .map((t) => Buffer.from(t)),
    },
    { weight: 1, arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d])) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from("serial\nA-1\n__proto__\nconstructor\n")) },
    { weight: 1, arbitrary: fc.constant(Buffer.from("")) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function requestFor(
  operation: Operation,
  world: PassportWorld,
  assets: string[],
  components: Record<string, JsonSchema>,
): fc.Arbitrary<FuzzRequest> {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === "path");
  const pathValues = fc.tuple(...pathParameters.map((parameter) => pathValue(parameter.name, world, assets)));
  const methods = fc.oneof(
    { weight: 12, arbitrary: fc.constant(operation.method.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS") },
  );
  const sendsBody = operation.bodyTypes.length > 0;
  const contentType = fc.oneof(
    { weight: sendsBody ? 4 : 1, arbitrary: fc.constantFrom(...(sendsBody ? operation.bodyTypes : ["application/json"])) },
    { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  );
  const extraHeaders = fc.record(
    {
      "if-none-match": fc.oneof(fc.constantFrom("*", '"x"', 'W/"', '""', 'garbage, W/"a", *'), fc.string({ maxLength: 40 })),
      "if-modified-since": fc.constantFrom("yesterday", "Thu, 01 Jan 1970 00:00:00 GMT", "Sat, 01 Jan 10000 00:00:00 GMT"),
      "accept-language": fc.oneof(fc.constantFrom("zh-CN", "en;q=0.5, zh;q=x", "*", "xx-YY-ZZ-".repeat(200)), fc.string({ maxLength: 30 })),
      "accept-encoding": fc.constantFrom("gzip", "br, identity;q=0", "*;q=0"),
      "x-forwarded-for": fc.constantFrom("1.2.3.4", "::1, 10.0.0.1", "not-an-ip", ""),
      "x-request-id": fc.oneof(fc.constantFrom("a".repeat(500), "id with spaces"), fc.string({ maxLength: 20 })),
      "content-encoding": fc.constantFrom("gzip", "deflate", "br", "klingon", "identity"),
      "user-agent": fc.string({ maxLength: 60 }),
      range: fc.constantFrom("bytes=0-1", "bytes=-1", "bytes=99999999-", "lines=1-2"),
    },
    { requiredKeys: [] },
  );
  const hostile = fc.record({
    method: methods,
    values: pathValues,
    query: queryPairs(operation),
    rawQuery: fc.boolean(),
    accept: fc.option(fc.constantFrom(...ACCEPTS), { nil: undefined }),
    contentType: fc.option(contentType, { freq: 4, nil: undefined }),
    body: sendsBody
      ? bodyBytes(operation, components)
      : fc.option(bodyBytes(operation, components), { freq: 8, nil: undefined }).map((b) => b ?? undefined),
    extra: extraHeaders,
    trailingSlash: fc.boolean(),
  });
  // Valid-looking: the fixture's own ids, documented parameters with values their schemas allow, the documented body
  // type with a schema-shaped body (some fields still hostile), so requests get past validation into the handlers.
  const validLooking = fc.record({
    method: fc.constant(operation.method.toUpperCase()),
    values: fc.tuple(...pathParameters.map((parameter) => fc.constant(samplePathValue(parameter.name, world, assets)))),
    query: validQueryPairs(operation),
    rawQuery: fc.constant(false),
    accept: fc.option(fc.constantFrom(...ACCEPTS.slice(0, 8)), { nil: undefined }),
    contentType: sendsBody ? fc.constantFrom(...operation.bodyTypes) : fc.constant(undefined),
    body: sendsBody
      ? schemaValue(operation.bodySchema, components).map((value) => Buffer.from(JSON.stringify(value) ?? "null"))
      : fc.constant(undefined),
    extra: fc.constant({} as Record<string, string | undefined>),
    trailingSlash: fc.constant(false),
  });
  return fc
    .oneof({ weight: 2, arbitrary: validLooking }, { weight: 3, arbitrary: hostile })
    .map(({ method, values, query, rawQuery, accept, contentType: type, body, extra, trailingSlash }) => {
      let index = 0;
      const path = operation.template.replace(/\{[^}]+\}/g, () => values[index++]!) + (trailingSlash ? "/" : "");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(extra)) if (typeof value === "string" && isSendableHeader(value)) headers[name] = value;
      if (accept !== undefined) headers.accept = accept;
      if (type !== undefined) headers["content-type"] = type;
      // A claimed encoding the body does not have is only worth sending now and then.
      if (headers["content-encoding"] !== undefined && body === undefined) delete headers["content-encoding"];
      return {
        method,
        path: `${path}${encodeQuery(query, rawQuery)}`,
        headers,
        ...(body === undefined || method === "GET" || method === "HEAD" ? {} : { body }),
      };
    });
}

/** Path segments every path parameter of every operation gets at least once, whatever the random runs draw. */
const ALWAYS_TRIED_SEGMENTS = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "..",
  "%2e%2e",
  "%E0%A4%A",
  "%00",
  "a".repeat(4_000),
  "%F0%9F%92%A5",
];

/** One request per path parameter and always-tried segment, the other parameters valid: fast-check's examples. */
function alwaysTried(operation: Operation, world: PassportWorld, assets: string[]): [FuzzRequest][] {
  const names = operation.parameters.filter((parameter) => parameter.in === "path").map((parameter) => parameter.name);
  const sendsBody = operation.bodyTypes.length > 0;
  return names.flatMap((hostileName) =>
    ALWAYS_TRIED_SEGMENTS.map((hostileValue): [FuzzRequest] => [
      {
        method: operation.method.toUpperCase(),
        path: operation.template.replace(/\{([^}]+)\}/g, (_match, name: string) =>
          name === hostileName ? hostileValue : samplePathValue(name, world, assets),
        ),
        headers: { accept: "*/*", ...(sendsBody ? { "content-type": operation.bodyTypes[0]! } : {}) },
        ...(sendsBody ? { body: Buffer.from("{}") } : {}),
      },
    ]),
  );
}

/** Header values Node will put on the wire (no control characters, Latin-1 only). */
const isSendableHeader = (value: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(value);

/** Path characters Node will put on the wire; anything else is percent-encoded first. */
const sendablePath = (path: string) => path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));

// --- HTTP ----------------------------------------------------------------------------------------------------------

function send(server: Server, agent: Agent, fuzz: FuzzRequest): Promise<FuzzResponse> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: fuzz.method,
        path: sendablePath(fuzz.path),
        headers: fuzz.headers,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (hung)`)));
    req.on("error", reject);
    req.end(fuzz.body);
  });
}

const describeRequest = (fuzz: FuzzRequest) =>
  `${fuzz.method} ${fuzz.path.slice(0, 300)}${fuzz.path.length > 300 ? "…" : ""} headers=${JSON.stringify(fuzz.headers).slice(0, 400)}` +
  (fuzz.body === undefined
    ? ""
    : ` body=${JSON.stringify(fuzz.body.subarray(0, 200).toString("latin1"))}${fuzz.body.length > 200 ? `… (${fuzz.body.length} bytes)` : ""}`);

const isApiPath = (path: string) => /^\/api(\/|$|\?)/i.test(path);

/** Every property a response must have, whatever was asked. */
function checkResponse(operation: Operation, fuzz: FuzzRequest, response: FuzzResponse, errorLogs: () => string): void {
  const context = `${describeRequest(fuzz)}\n  -> ${response.status} ${String(response.headers["content-type"])} ${response.body.subarray(0, 300).toString("utf8")}`;
  const serverError = response.status >= 500 && !(response.status === 503 && operation.statuses.includes("503"));
  if (serverError) expect.fail(`server error\n  ${context}\n  server log: ${errorLogs()}`);
  if (response.status < 400 && response.body.length > 0) {
    // A body needs a real media type (a lookup gone wrong once sent "Content-Type: false").
    expect(String(response.headers["content-type"]), `2xx body without a media type\n  ${context}`).to.match(/^[a-z]+\/[a-z0-9.+-]+/i);
  }
  if (response.status < 400 || fuzz.method === "HEAD") {
    // A traversal must never hand out files outside the assets.
    expect(response.body.toString("latin1"), context).not.to.match(/"devDependencies"|root:x:0:0|BEGIN [A-Z ]*PRIVATE KEY/);
    return;
  }
  const type = String(response.headers["content-type"] ?? "");
  if (response.status === 429) expect(response.headers["retry-after"], `429 without Retry-After\n  ${context}`).to.be.a("string");
  if (isApiPath(fuzz.path) || type.startsWith("application/problem+json")) {
    expect(type, `an error under /api must be problem+json\n  ${context}`).to.equal("application/problem+json; charset=utf-8");
    let problem: Record<string, unknown>;
    try {
      problem = JSON.parse(response.body.toString("utf8")) as Record<string, unknown>;
    } catch {
      expect.fail(`problem+json that is not JSON\n  ${context}`);
    }
    expect(problem.status, context).to.equal(response.status);
    expect(problem.type, context).to.be.a("string");
    expect(problem.title, context).to.be.a("string");
    if (problem.detail !== undefined) expect(problem.detail, context).to.be.a("string");
    return;
  }
  if (operation.template === "/rpc" && type.startsWith("application/json")) {
    // The verifier's RPC proxy speaks JSON-RPC: its refusals are JSON-RPC error objects.
    const answer = JSON.parse(response.body.toString("utf8")) as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } };
    expect(answer.jsonrpc, context).to.equal("2.0");
    expect(answer.error?.code, context).to.be.a("number");
    expect(answer.error?.message, context).to.be.a("string");
    return;
  }
  expect(type, `an error outside /api must be problem+json or an HTML page\n  ${context}`).to.match(/^text\/html; charset=utf-8/);
  expect(response.body.toString("utf8"), context).to.match(/<html[\s>]/i);
}

// --- the suite -----------------------------------------------------------------------------------------------------

function operationsOf(app: ProvenaApp): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(app.openApiDocument.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const operation = raw as {
        parameters?: Parameter[];
        requestBody?: { content: Record<string, { schema?: JsonSchema }> };
        responses: Record<string, unknown>;
      };
      const content = operation.requestBody?.content ?? {};
      operations.push({
        method,
        template,
        parameters: operation.parameters ?? [],
        bodyTypes: Object.keys(content),
        bodySchema: Object.values(content)[0]?.schema,
        statuses: Object.keys(operation.responses),
      });
    }
  }
  return operations;
}

describe("OpenAPI-driven fuzzing of every operation", function () {
  this.timeout(600_000);
  let world: PassportWorld;
  let app: ProvenaApp;
  let server: Server;
  let agent: Agent;
  const errorLines: string[] = [];
  let requests = 0;
  /** Answers by status, printed at the end: the generated requests must reach the handlers, not only the validators. */
  const statuses = new Map<number, number>();

  before(async function () {
    world = await createPassportWorld();
    const { provider, chainId } = await providerFromEip1193(world.eip1193, 20);
    const abis = loadProvenaAbis();
    const chainAccess: ChainAccess = {
      provider,
      chainId,
      addresses: { forwarder: world.deployment.forwarder, registry: world.deployment.registry, escrow: world.deployment.escrow },
      abis: { forwarder: abis.ProvenaForwarder, registry: abis.ProvenanceRegistry, escrow: abis.TradeEscrow },
    };
    // Unexpected errors are logged at error level with their stack: kept to explain a 5xx.
    const logger = pino({ level: "error" }, { write: (line: string) => void errorLines.push(line) });
    app = createProvenaHttpApp({
      config: loadConfig({
        LOG_LEVEL: "error",
        PUBLIC_BASE_URL: "https://id.provena.test",
        // The rate limits have their own tests; here they would hide every later request's answer behind a 429.
        READ_RATE_LIMIT_PER_MINUTE: "1000000",
        PASSPORT_READ_RATE_LIMIT_PER_MINUTE: "1000000",
        WRITE_RATE_LIMIT_PER_MINUTE: "1000000",
      }),
      store: world.store,
      logger,
      chain: { chainId, provider: provider as ProvenaHttpDeps["chain"]["provider"], deployment: world.deployment },
      indexerStatus: () => ({ chainId, headBlock: 100, indexedBlock: 100, lagBlocks: 0, eventsIndexed: 0, isLeader: true, phase: "live" }),
      relay: {
        service: createRelayService({
          store: world.store,
          chain: chainAccess,
          relayerAddress: Wallet.createRandom().address.toLowerCase() as Hex,
        }),
        onAccepted: () => {},
      },
    });
    server = createServer(app);
    answerClientErrorsAsProblems(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    // No keep-alive: a refusal from Node's parser closes its connection, which a pooled socket would race.
    agent = new Agent({ keepAlive: false });
  });

  after(async function () {
    agent?.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
    await world?.store.close();
    console.log(`      fuzzed ${requests} requests (${RUNS_PER_OPERATION} per operation), seed ${SEED}: replay with FUZZ_API_SEED=${SEED}`);
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`);
    console.log(`      answers by status: ${byStatus.join(", ")}`);
  });

  it("test_everyOperation_hostileRequests_neverAnswer5xxAndErrorsAreProblemsOrPages", async function () {
    const operations = operationsOf(app);
    expect(operations.length).to.be.greaterThan(25);
    const assets = readdirSync(ASSETS_DIR).filter((name) => name.endsWith(".js"));
    const components = app.openApiDocument.components.schemas as Record<string, JsonSchema>;
    // Every operation is fuzzed even after one fails, so one run reports every broken endpoint.
    const failures: string[] = [];
    for (const [index, operation] of operations.entries()) {
      // fast-check counts the examples among the runs: the random requests come on top of them.
      const examples = alwaysTried(operation, world, assets);
      try {
        await fc.assert(
          fc.asyncProperty(requestFor(operation, world, assets, components), async (fuzz) => {
            requests++;
            const logged = errorLines.length;
            const response = await send(server, agent, fuzz);
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            checkResponse(operation, fuzz, response, () => errorLines.slice(logged).join("\n").slice(0, 3_000) || "(nothing)");
          }),
          { numRuns: RUNS_PER_OPERATION + examples.length, seed: SEED + index, examples },
        );
      } catch (error) {
        failures.push(`${operation.method.toUpperCase()} ${operation.template}: ${(error as Error).message}`);
      }
    }
    expect(failures, failures.join("\n\n")).to.deep.equal([]);
  });

  it("test_afterFuzzing_serverIsHealthyAndValidReadsWork", async function () {
    const get = (path: string, accept = "application/json") => send(server, agent, { method: "GET", path, headers: { accept } });
    expect((await get("/healthz")).status).to.equal(200);
    const batch = await get(`/api/v1/batches/${world.traded.batchId}`);
    expect(batch.status).to.equal(200);
    expect((JSON.parse(batch.body.toString("utf8")) as { batchId: string }).batchId).to.equal(world.traded.batchId);
    const page = await get(`/01/${world.traded.gtin}/10/${encodeURIComponent(world.traded.lot)}`, "text/html");
    expect(page.status).to.equal(200);
    // Prototype-pollution keys in bodies and queries reached nothing shared.
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
