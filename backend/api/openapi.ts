/**
 * The OpenAPI 3.1 document of the whole backend: the app's own paths plus every RouteModule's, merged.
 * Schemas come from the zod schemas that validate requests and model responses (z.toJSONSchema), so the
 * document describes exactly what the server checks. Helpers here let every RouteModule describe its
 * operations the same way (parameters from zod, shared problem responses).
 */
import { z } from "zod";
import type { OpenApiPathItem, RouteModule } from "./route-module.ts";

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string; license?: { name: string; identifier?: string } };
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, OpenApiPathItem>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, unknown> };
}

const COMPONENT_REF_PREFIX = "#/components/schemas/";

export const schemaRef = (name: string) => ({ $ref: `${COMPONENT_REF_PREFIX}${name}` });

/** RFC 9457 problem details, as every error of the API is answered. */
export const problemSchema = z
  .looseObject({
    type: z.string().describe("URI identifying the problem type."),
    title: z.string().describe("Short summary of the problem type."),
    status: z.int().min(400).max(599).describe("HTTP status code."),
    detail: z.string().optional().describe("What went wrong with this request."),
    instance: z.string().optional().describe("The request path that produced the problem."),
    errors: z
      .array(
        z.strictObject({
          in: z.enum(["params", "query", "body"]),
          path: z.string().describe("Dotted path of the bad field; empty for the request part as a whole."),
          message: z.string(),
        }),
      )
      .optional()
      .describe("For 400 responses to invalid requests: every bad field and why."),
  })
  .describe("RFC 9457 problem details; further members are problem-specific extensions.");

/** Shared responses for the error statuses, referenced from operations as `problemResponse(status)`. */
const PROBLEM_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: "BadRequest", description: "The request is malformed: `errors` lists every bad field." },
  401: { name: "Unauthorized", description: "Sign in first, or again: the session or sign-in message is missing, invalid or expired." },
  403: { name: "Forbidden", description: "The caller may not do this." },
  404: { name: "NotFound", description: "No such resource." },
  405: { name: "MethodNotAllowed", description: "The path exists but not with this method; `Allow` lists the methods." },
  409: { name: "Conflict", description: "The request conflicts with the current state." },
  413: { name: "ContentTooLarge", description: "The request body exceeds the size limit." },
  415: { name: "UnsupportedMediaType", description: "The request body's media type or charset is not accepted." },
  422: { name: "UnprocessableContent", description: "The request is well-formed but cannot be carried out." },
  429: { name: "TooManyRequests", description: "Rate limit exceeded; retry after the `Retry-After` delay." },
  500: { name: "InternalServerError", description: "An unexpected error; the response says nothing more, the log does." },
  503: { name: "ServiceUnavailable", description: "The service cannot answer right now." },
};

/**
 * `{ $ref }` to a shared problem response, for an operation's `responses` map; `description` says what the
 * status means on this operation (an OpenAPI 3.1 reference may override the shared one).
 */
export function problemResponse(status: keyof typeof PROBLEM_RESPONSES, description?: string): { $ref: string; description?: string } {
  const known = PROBLEM_RESPONSES[status];
  if (!known) throw new Error(`no shared problem response for status ${status}`);
  return { $ref: `#/components/responses/${known.name}`, ...(description === undefined ? {} : { description }) };
}

/** A JSON response whose body is `schema` (usually a schemaRef). */
export function jsonResponse(description: string, schema: unknown, mediaType = "application/json") {
  return { description, content: { [mediaType]: { schema } } };
}

/** zod -> JSON Schema (2020-12, the dialect of OpenAPI 3.1), without the `$schema` marker. */
export function toOpenApiSchema(schema: z.ZodType, io: "input" | "output" = "output"): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    // zod leaves out the default of a parameter it transforms (a query number parsed from its digits) on the input
    // side; it is still what a client gets by leaving the parameter out, so document it.
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as { type: string; defaultValue?: unknown };
      if (io === "input" && def.type === "default" && jsonSchema.default === undefined) jsonSchema.default = def.defaultValue as never;
    },
  }) as JsonSchema;
  return json;
}

/** Component schemas of a zod registry (each entry's `id` is its name); references between them become $refs. */
export function componentsFromRegistry(registry: z.core.$ZodRegistry<{ id: string }>): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    io: "output",
    unrepresentable: "any",
    uri: (id) => `${COMPONENT_REF_PREFIX}${id}`,
  });
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...json } = schema as JsonSchema;
    components[name] = json;
  }
  return components;
}

/**
 * OpenAPI parameter objects from the zod schemas that validate a route's path parameters and query string:
 * one parameter per object property, typed and described from the schema (request side: io "input").
 */
export function parametersFromZod(parts: { path?: z.ZodType; query?: z.ZodType }): Record<string, unknown>[] {
  const parameters: Record<string, unknown>[] = [];
  for (const [location, schema] of [
    ["path", parts.path],
    ["query", parts.query],
  ] as const) {
    if (!schema) continue;
    const json = toOpenApiSchema(schema, "input");
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: location,
        required: location === "path" || required.has(name),
        ...(description === undefined ? {} : { description }),
        schema: propertySchema,
      });
    }
  }
  return parameters;
}

/**
 * A regular expression matching the request paths of an OpenAPI path template ("/batches/{batchId}"), with
 * Express's defaults: case-insensitive, optional trailing slash.
 */
export function openApiPathMatcher(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith("{") ? "[^/]+" : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${pattern}/?$`, "i");
}

export interface BuildOpenApiOptions {
  title: string;
  version: string;
  description?: string;
  modules: RouteModule[];
}

/**
 * Merges the modules' paths and schemas into one document. Two modules documenting the same operation, or
 * the same schema name with different content, is a programmer error and throws at start-up.
 */
export function buildOpenApiDocument(options: BuildOpenApiOptions): OpenApiDocument {
  const paths: Record<string, OpenApiPathItem> = {};
  const schemas: Record<string, JsonSchema> = { Problem: toOpenApiSchema(problemSchema) };
  for (const module of options.modules) {
    for (const [path, item] of Object.entries(module.paths)) {
      const merged = (paths[path] ??= {});
      for (const [key, value] of Object.entries(item)) {
        if (key in merged) throw new Error(`OpenAPI: ${key} ${path} is documented by two route modules`);
        merged[key] = value;
      }
    }
    for (const [name, schema] of Object.entries(module.schemas ?? {})) {
      const existing = schemas[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
        throw new Error(`OpenAPI: two route modules define different schemas named ${name}`);
      }
      schemas[name] = schema as JsonSchema;
    }
  }
  const responses: Record<string, unknown> = {};
  for (const { name, description } of Object.values(PROBLEM_RESPONSES)) {
    responses[name] = jsonResponse(description, schemaRef("Problem"), "application/problem+json");
  }
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "This server" }],
    paths: sortedPaths,
    components: { schemas, responses },
  };
}
