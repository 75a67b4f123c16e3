/**
 * HTTP for Sign-In with Ethereum:
 *   GET    /api/v1/auth/challenge  -> what to put in the EIP-4361 message (domain, URI, chain, a fresh nonce)
 *   POST   /api/v1/auth/sessions   -> { message, signature } -> 201, the session as a cookie and in the body
 *   GET    /api/v1/auth/session    -> who the caller is now (anonymous, or the address and its current roles)
 *   DELETE /api/v1/auth/session    -> 204, the cookie cleared
 * A session is sent back as the `provena_session` cookie (HttpOnly, SameSite=Strict, Secure on https) or as
 * `Authorization: Bearer <token>` by scripts and the CLI. Sessions are stateless tokens: signing out clears the
 * cookie, and a copied token stays valid until it expires (SESSION_TTL_SECONDS keeps that short).
 */
import type { Request, Response } from "express";
import { z } from "zod";
import { componentsFromRegistry, jsonResponse, problemResponse, schemaRef, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { parseBody } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import { unauthenticated } from "../domain/errors.ts";
import type { AuthService, Viewer } from "./auth-service.ts";

export const AUTH_BASE_PATH = "/api/v1/auth";
export const SESSION_COOKIE = "provena_session";

export interface AuthModuleOptions {
  service: AuthService;
  /** Whether the cookie gets `Secure` (true when PUBLIC_BASE_URL is https). */
  secureCookie: boolean;
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const signInBodySchema = z
  .strictObject({
    message: z.string().min(1).max(4_096).describe("The EIP-4361 message, exactly as signed (with its line breaks)."),
    signature: z
      .string()
      .regex(/^0x([0-9a-fA-F]{2}){65,4096}$/, "must be 0x-prefixed hex of at least 65 bytes")
      .describe("The personal_sign (EIP-191) signature of the message; a contract wallet's is checked with EIP-1271."),
  })
  .describe("A signed Sign-In with Ethereum (EIP-4361) message.");

const authSchemaRegistry = z.registry<{ id: string }>();

const challengeSchema = z.strictObject({
  domain: z.string().describe("The message's domain: this server's host."),
  uri: z.string().describe("The message's URI: this server's origin."),
  chainId: z.int(),
  version: z.literal("1"),
  statement: z.string(),
  nonce: z.string().describe("Single use; issued by this server."),
  nonceExpiresAt: z.iso.datetime().describe("The nonce is refused after this instant."),
});
authSchemaRegistry.add(challengeSchema, { id: "SignInChallenge" });

const viewerSchema = z.strictObject({
  signedIn: z.boolean(),
  address: z.string().optional(),
  roles: z.array(z.string()).optional().describe("The participant's roles now; none while suspended or not onboarded."),
  participant: z
    .strictObject({ participantId: z.int(), name: z.string(), suspended: z.boolean() })
    .nullable()
    .optional()
    .describe("The onboarded participant of the address, or null."),
  sessionExpiresAt: z.iso.datetime().optional(),
  readGrantsFrom: z.array(z.string()).optional().describe("Sellers whose orders this address may read now, by their grant."),
});
authSchemaRegistry.add(viewerSchema, { id: "Viewer" });

const sessionSchema = z.strictObject({
  token: z.string().describe("Send it back as `Authorization: Bearer <token>` (the cookie carries the same)."),
  viewer: viewerSchema,
});
authSchemaRegistry.add(sessionSchema, { id: "SignInSession" });

export function viewerView(viewer: Viewer): z.output<typeof viewerSchema> {
  if (!viewer.signedIn) return { signedIn: false };
  return {
    signedIn: true,
    address: viewer.address,
    roles: viewer.roles,
    participant: viewer.participant,
    sessionExpiresAt: new Date(viewer.sessionExpiresAt).toISOString(),
    readGrantsFrom: viewer.readGrantsFrom,
  };
}

/** The session token a request carries: the bearer header first, else the cookie; undefined for none. */
export function sessionTokenOf(req: Request): string | undefined {
  const authorization = req.get("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization.trim());
    return match ? match[1] : authorization;
  }
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0 && part.slice(0, separator).trim() === SESSION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/**
 * Who is asking, for other modules' routes. A request with no session is anonymous. An invalid or expired
 * session is refused with 401 when `invalid` is "refuse" (API routes: the client should sign in again) and read
 * as anonymous when "anonymous" (public pages: a stale cookie must not break a shopper's passport).
 */
export async function viewerOfRequest(service: AuthService, req: Request, invalid: "refuse" | "anonymous" = "refuse"): Promise<Viewer> {
  const viewer = await service.viewerOf(sessionTokenOf(req));
  if (viewer !== null) return viewer;
  if (invalid === "anonymous") return { signedIn: false };
  throw unauthenticated("the session is invalid or has expired: sign in again");
}

export function createAuthModule(options: AuthModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "sign-ins",
    bodyLimit: "16kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-sign-in",
  };
  const schemas = { ...componentsFromRegistry(authSchemaRegistry), SignInRequest: toOpenApiSchema(signInBodySchema, "input") };
  return routeModuleFromTable(AUTH_BASE_PATH, routes(options, limits), schemas, { parsesOwnBody: true });
}

function routes({ service, secureCookie }: AuthModuleOptions, limits: WriteLimitsOptions): RouteDefinition[] {
  const cookieOptions = { httpOnly: true, sameSite: "strict" as const, secure: secureCookie, path: "/" };
  const noStore = (res: Response) => res.set("Cache-Control", "no-store");
  return [
    {
      method: "get",
      path: "/challenge",
      operation: {
        tags: ["auth"],
        operationId: "getSignInChallenge",
        summary: "What to sign: the fields of an EIP-4361 message for this server, with a fresh nonce",
        responses: { 200: jsonResponse("The message's fields", schemaRef("SignInChallenge")) },
      },
      handler: (_req, res) => {
        noStore(res).json(service.challenge());
      },
    },
    {
      method: "post",
      path: "/sessions",
      operation: {
        tags: ["auth"],
        operationId: "signIn",
        summary: "Sign in with a signed EIP-4361 message",
        description:
          "Checks the message's domain, URI, chain and nonce against this server, its time limits and the signature; the nonce " +
          "is spent. Answers the session as an HttpOnly cookie and a bearer token. " +
          describeWriteLimits(limits),
        requestBody: { required: true, content: { "application/json": { schema: schemaRef("SignInRequest") } } },
        responses: {
          201: jsonResponse("Signed in", schemaRef("SignInSession")),
          400: problemResponse(400, "Not a sign-in message, or a malformed signature"),
          401: problemResponse(401, "Refused: `reason` says why (domain, uri, chain, nonce, nonce-used, issued-at, signature, message)"),
          413: problemResponse(413, "Body larger than 16kb"),
          415: problemResponse(415, "Not JSON"),
          429: problemResponse(429, `More than ${limits.ratePerMinute} sign-ins in a minute from this client`),
        },
      },
      middleware: writeLimits(limits),
      handler: async (req, res) => {
        if (!req.is("application/json"))
          throw new ProblemError(415, "Unsupported Media Type", "send the signed message as application/json");
        const { message, signature } = parseBody(signInBodySchema, req);
        const { token, viewer } = await service.signIn(message, signature);
        res.cookie(SESSION_COOKIE, token, { ...cookieOptions, expires: new Date(viewer.sessionExpiresAt) });
        noStore(res)
          .status(201)
          .json({ token, viewer: viewerView(viewer) });
      },
    },
    {
      method: "get",
      path: "/session",
      operation: {
        tags: ["auth"],
        operationId: "getSession",
        summary: "Who the caller is: anonymous, or the signed-in address with its roles now",
        responses: {
          200: jsonResponse("The caller", schemaRef("Viewer")),
          401: problemResponse(401, "The session sent is invalid or has expired"),
        },
      },
      handler: async (req, res) => {
        noStore(res).json(viewerView(await viewerOfRequest(service, req)));
      },
    },
    {
      method: "delete",
      path: "/session",
      operation: {
        tags: ["auth"],
        operationId: "signOut",
        summary: "Sign out: clears the session cookie",
        responses: { 204: { description: "Signed out" } },
      },
      handler: (_req, res) => {
        res.clearCookie(SESSION_COOKIE, cookieOptions);
        noStore(res).status(204).end();
      },
    },
  ];
}
