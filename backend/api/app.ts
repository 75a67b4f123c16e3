/**
 * The HTTP app: builds and returns the Express application without listening, so the main job decides
 * where it listens and tests drive it with supertest.
 *
 * Request pipeline: request id + JSON request log -> latency histogram -> security headers -> per-client rate limits -> JSON body
 * (size-limited) -> operational routes, read API, plugged-in RouteModules -> 405/404 -> the one error
 * middleware (problem+json). Express 5 forwards rejected promises to it, so handlers need no wrappers.
 */
import { createRequire } from "node:module";
import express, { type Request, type Response } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { LIMIT_DEFAULTS } from "../config.ts";
import type { MirrorLog, ProjectionReads, StoreLifecycle, TransformationRecords } from "../store/port.ts";
import type { IndexerStatusSource } from "./indexer-status.ts";
import type { ApiMetrics } from "./metrics.ts";
import { buildOpenApiDocument, openApiPathMatcher, type OpenApiDocument } from "./openapi.ts";
import { fixedHeaders } from "./fixed-headers.ts";
import { isJsonMediaType, jsonBodyParser } from "./json-body.ts";
import { createOperationsRoutes } from "./operations-routes.ts";
import { problemErrorHandler, unmatchedRouteHandler } from "./problem-middleware.ts";
import { readLimits, type ReadLimitsOptions } from "./read-limits.ts";
import { createReadRoutes, type ViewerResolver } from "./read-routes.ts";
import { createRequestLogger } from "./request-logging.ts";
import type { RouteModule } from "./route-module.ts";
import { createHealthService } from "./services/health.ts";

export interface AppDeps {
  /** Read by the read API and the readiness probe. */
  store: Pick<StoreLifecycle, "kind"> & MirrorLog & ProjectionReads & TransformationRecords;
  logger: Logger;
  metrics: ApiMetrics;
  /** The indexer's current status, read on every readiness probe and metrics scrape. */
  indexerStatus: IndexerStatusSource;
  /** /readyz answers 503 while the mirror trails the chain head by more blocks than this. */
  readyMaxLagBlocks: number;
  /** Further features to mount (passports, relayer, uploads), after the read API. */
  modules?: RouteModule[];
  /**
   * Largest JSON request body the app parses for modules that do not parse their own (config BODY_LIMIT), in bytes
   * or as "100kb"; default 100kb. Write endpoints parse their bodies behind writeLimits with their own limits.
   */
  bodyLimit?: number | string;
  /** Deepest nesting of arrays and objects in a JSON body the app parses (config JSON_MAX_DEPTH; default 32). */
  jsonMaxDepth?: number;
  /**
   * Per-client rate limits of every request but the probes (config READ_RATE_LIMIT_PER_MINUTE,
   * PASSPORT_READ_RATE_LIMIT_PER_MINUTE, RATE_LIMIT_MAX_CLIENTS); default LIMIT_DEFAULTS, counted in this process.
   */
  readLimits?: Partial<ReadLimitsOptions>;
  /**
   * Who is asking (backend/auth: the session's address and its roles now). Orders and escrow event details are
   * shown only to those entitled; absent, every caller is anonymous.
   */
  viewerOf?: ViewerResolver;
  /** Express "trust proxy" setting: which proxies' X-Forwarded-* headers to believe (for client IPs in logs and rate limits). */
  trustProxy?: boolean | number | string | string[];
  /** Every successful request logged at info (config LOG_REQUESTS); default at debug (request-logging.ts). */
  logRequests?: boolean;
}

export interface ProvenaApp extends express.Express {
  /** The merged OpenAPI 3.1 document served at /openapi.json. */
  readonly openApiDocument: OpenApiDocument;
}

const packageVersion = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export function createApp(deps: AppDeps): ProvenaApp {
  const { store, logger, metrics, indexerStatus, readyMaxLagBlocks, trustProxy = false } = deps;
  const bodyLimit = deps.bodyLimit ?? LIMIT_DEFAULTS.jsonBodyLimit;
  const jsonMaxDepth = deps.jsonMaxDepth ?? LIMIT_DEFAULTS.jsonMaxDepth;
  const app = express();
  app.set("trust proxy", trustProxy);
  app.set("query parser", "simple"); // repeated keys become arrays, which the strict query schemas reject
  app.disable("x-powered-by");

  metrics.trackIndexer(indexerStatus);
  const health = createHealthService({ store, indexerStatus, maxLagBlocks: readyMaxLagBlocks, logger });
  let openApiDocument: OpenApiDocument | undefined;
  const modules: RouteModule[] = [
    createOperationsRoutes({ health, metrics, openApiDocument: () => openApiDocument! }),
    createReadRoutes({ store, viewerOf: deps.viewerOf ?? (async () => ({ signedIn: false })) }),
    ...(deps.modules ?? []),
  ];
  // Built now, so two modules claiming one operation fail at start-up rather than in production.
  openApiDocument = buildOpenApiDocument({
    title: "Provena API",
    version: packageVersion,
    description:
      "Supply-chain provenance mirrored from the chain: batches with custody timelines and lineage, participants, " +
      "escrow orders and raw contract events. Errors are RFC 9457 problem details.",
    modules,
  });

  app.use(createRequestLogger(logger, { logRequests: deps.logRequests ?? LIMIT_DEFAULTS.logRequests }));
  app.use((req, res, next) => {
    const endTimer = metrics.httpRequestDuration.startTimer();
    res.once("finish", () => endTimer({ method: req.method, route: routeLabel(req, res), status_code: String(res.statusCode) }));
    next();
  });
  app.use(fixedHeaders(helmet()));
  // Before any body is read: a throttled client cannot make the server parse anything.
  app.use(
    readLimits({
      apiPerMinute: deps.readLimits?.apiPerMinute ?? LIMIT_DEFAULTS.readRateLimitPerMinute,
      passportPerMinute: deps.readLimits?.passportPerMinute ?? LIMIT_DEFAULTS.passportReadRateLimitPerMinute,
      maxClients: deps.readLimits?.maxClients ?? LIMIT_DEFAULTS.rateLimitMaxClients,
      rateLimitStoreFor: deps.readLimits?.rateLimitStoreFor,
    }),
  );
  // JSON bodies for every module, except on the paths of modules that parse (and size-limit) their own.
  const ownBodyPaths = modules
    .filter((module) => module.parsesOwnBody)
    .flatMap((module) => Object.keys(module.paths).map(openApiPathMatcher));
  app.use(
    jsonBodyParser({
      limit: bodyLimit,
      maxDepth: jsonMaxDepth,
      type: (req) => isJsonMediaType(req.headers["content-type"]) && !ownBodyPaths.some((matcher) => matcher.test(pathOf(req.url ?? ""))),
    }),
  );

  for (const module of modules) {
    const basePath = module.basePath === "" ? "/" : module.basePath;
    app.use(
      basePath,
      (_req, res, next) => {
        // The route label of the latency histogram is this base path + the matched route's own path.
        res.locals.routeBasePath = module.basePath;
        res.locals.renderErrorPage = module.renderErrorPage;
        next();
      },
      module.router,
    );
  }

  app.use(unmatchedRouteHandler(openApiDocument.paths));
  app.use(problemErrorHandler());

  return Object.assign(app, { openApiDocument });
}

/**
 * The route template that served the request ("/api/v1/batches/:batchId"), never the raw URL, so the
 * histogram's label set stays bounded; "unmatched" when no route did (404, 405, body errors).
 */
function routeLabel(req: Request, res: Response): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (!route || typeof route.path !== "string") return "unmatched";
  const base = typeof res.locals.routeBasePath === "string" ? res.locals.routeBasePath : "";
  return `${base}${route.path}` || "/";
}

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
