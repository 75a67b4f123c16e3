/** GS1's EPCIS 2.0 JSON Schema, compiled as the backend's import compiles it (backend/epcis/epcis-schema.ts). */
import { epcisSchemaValidator as compiledValidator } from "../../../backend/epcis/epcis-schema.ts";

export function epcisSchemaValidator() {
  return Promise.resolve(compiledValidator());
}
