/** Path parameters shared by the passport's route modules. */
import { z } from "zod";
import type { Hex } from "../domain/model.ts";
import { isValidLotOrSerial } from "../chain/gs1.ts";

const batchIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex batch id")
  .transform((v) => v.toLowerCase() as Hex)
  .describe("Batch id: keccak256(abi.encode(uint64 gtin, string lot)).");
const serialSchema = z
  .string()
  .refine(isValidLotOrSerial, "must be 1-20 characters of the GS1 character set 82 (percent-encode reserved characters)")
  .describe("Unit serial (GS1 AI 21), percent-encoded in the path.");

export const batchParams = z.object({ batchId: batchIdSchema });
export const unitParams = z.object({ batchId: batchIdSchema, serial: serialSchema });
