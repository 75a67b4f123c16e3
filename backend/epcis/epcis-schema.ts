/**
 * GS1's EPCIS 2.0 JSON Schema (backend/epcis/gs1-epcis-2.0/, see its SOURCE.md), compiled once with Ajv: the first
 * check every partner's document passes before the import reads it, and the one the tests hold exports to.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// ajv-formats is CommonJS whose types declare an ES default export: at run time the default import is the function.
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;
const SCHEMA_FILE = fileURLToPath(new URL("./gs1-epcis-2.0/EPCIS-JSON-Schema.json", import.meta.url));

/** One schema violation, as a partner can act on it: where (a JSON pointer into the document) and what. */
export interface SchemaViolation {
  path: string;
  message: string;
}

let compiled: ValidateFunction | null = null;

/** The compiled validator (compiled on first use: about 55 kB of schema). */
export function epcisSchemaValidator(): ValidateFunction {
  if (compiled === null) {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** The schema's violations in `document` (at most `limit` of them), or [] when it is valid. */
export function epcisSchemaViolations(document: unknown, limit = 20): SchemaViolation[] {
  const validate = epcisSchemaValidator();
  if (validate(document)) return [];
  return (validate.errors ?? []).slice(0, limit).map((error: ErrorObject) => ({
    path: error.instancePath === "" ? "/" : error.instancePath,
    message: `${error.message ?? "is invalid"}${error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ""}`,
  }));
}
