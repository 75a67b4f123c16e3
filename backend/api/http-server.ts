/**
 * The HTTP server the app listens on, with the limits Node enforces before Express sees a request: the size of the
 * request line and headers (431 beyond it), and how long a client may take to send its headers and its whole
 * request (408 beyond them: slow-loris guards). Their refusals carry a problem+json body (client-errors.ts).
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { Config } from "../config.ts";
import { answerClientErrorsAsProblems } from "./client-errors.ts";

export type ServerLimits = Pick<Config, "maxHeaderSize" | "headersTimeoutMs" | "requestTimeoutMs">;

export function createHttpServer(app: RequestListener, limits: ServerLimits): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for late clients every 30 s by default, which would stretch a 20 s headers timeout to 50 s.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
    },
    app,
  );
  answerClientErrorsAsProblems(server, limits.maxHeaderSize);
  return server;
}
