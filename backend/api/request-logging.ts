/**
 * Request ids and structured JSON request logs (pino-http): one line per request with method, path,
 * status, duration and request id; unexpected errors carry their stack. Requests the server failed are logged at
 * warn or error; the rest at debug, or successful ones at info with `logRequests` (config LOG_REQUESTS). A caller's `X-Request-Id` is kept
 * when it is a sane token, so one id follows a request through proxies; otherwise a UUID is generated.
 * The id is echoed in the `X-Request-Id` response header.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { pinoHttp, type HttpLogger } from "pino-http";
import { LIMIT_DEFAULTS } from "../config.ts";

const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
/** Probes and scrapes run every few seconds: logged at debug unless they fail unexpectedly. */
const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === "string" && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface RequestLogOptions {
  /** Successful requests (below 400) at info instead of debug (config LOG_REQUESTS; default LIMIT_DEFAULTS.logRequests). */
  logRequests?: boolean;
}

export function createRequestLogger(logger: Logger, { logRequests = LIMIT_DEFAULTS.logRequests }: RequestLogOptions = {}): HttpLogger {
  const successLevel = logRequests ? "info" : "debug";
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const id = requestIdFor(req);
      res.setHeader("X-Request-Id", id);
      return id;
    },
    customLogLevel(req, res, error) {
      const probe = PROBE_PATHS.has(pathOf(req));
      // A 503 from /readyz is an expected answer (its cause is logged where it is found); a 500 never is. Any
      // other 503 is the server shedding load it cannot take (a full QR render queue): warn, or a burst of them
      // would page the operator with thousands of error lines.
      if (res.statusCode === 503 && !probe) return "warn";
      if (error || res.statusCode === 500 || (res.statusCode > 500 && !probe)) return "error";
      // A refused request is the client's mistake, answered and counted in the latency histogram by status: at
      // debug, so a scraper sending thousands of bad requests cannot flood the operator's log (or its alerts).
      if (probe || res.statusCode >= 400) return "debug";
      return successLevel;
    },
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    // Only what an operator needs: no headers, so no cookies or authorization values end up in the log.
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string; headers?: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
        userAgent: req.headers?.["user-agent"],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

function pathOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
