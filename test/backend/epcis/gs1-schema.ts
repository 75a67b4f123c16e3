/** GS1's EPCIS 2.0 JSON Schema (test/backend/epcis/gs1-epcis-2.0/, see its SOURCE.md), compiled with Ajv. */
import { Ajv } from "ajv";
import addFormatsImport from "ajv-formats";
import { readFile } from "node:fs/promises";
import path from "node:path";

const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;
const SCHEMA_DIR = path.resolve("test/backend/epcis/gs1-epcis-2.0");

export async function epcisSchemaValidator() {
  const schema = JSON.parse(await readFile(path.join(SCHEMA_DIR, "EPCIS-JSON-Schema.json"), "utf8")) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}
