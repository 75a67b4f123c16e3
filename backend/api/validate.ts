/**
 * Request validation at the route: one zod schema per request part. A failure becomes a 400 problem whose
 * `errors` list says which field is wrong and why, so clients can fix the request without guessing.
 */
import type { Request } from "express";
import { type z } from "zod";
import { invalidInput } from "../domain/errors.ts";

export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, part: "params" | "query" | "body"): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(`Invalid request ${part}`, {
    errors: result.error.issues.map((issue) => ({
      in: part,
      path: issue.path.map(String).join("."),
      message: issue.message,
    })),
  });
}

export const parseParams = <S extends z.ZodType>(schema: S, req: Request) => parseRequestPart(schema, req.params, "params");
export const parseQuery = <S extends z.ZodType>(schema: S, req: Request) => parseRequestPart(schema, req.query, "query");
export const parseBody = <S extends z.ZodType>(schema: S, req: Request) => parseRequestPart(schema, req.body, "body");
