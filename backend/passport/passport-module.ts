/**
 * The passport RouteModule (mounted at the server root by createApp), built from the route tables of its parts:
 *
 *   GET  /01/{gtin}/10/{lot}[/21/{serial}]               resolver-routes: the passport, HTML or JSON-LD by Accept
 *   POST /api/v1/serial-sets, GET .../{serialRoot}       serial-routes: serial-list uploads and what is stored
 *   GET  /api/v1/batches/{batchId}/units/{serial}/proof  serial-routes: Merkle proof of a unit serial
 *   GET  /api/v1/batches/{batchId}/qr, .../qr-sheet, .../units/{serial}/qr   qr-routes (drawn by qr-renderer's threads)
 *   POST /api/v1/batches/{batchId}/units/{serial}/claim  claim-routes: the database claim (410 Gone once ownership
 *                                                        tokens exist: ../ownership/ownership-routes.ts replaces it)
 *   /api/v1/ownership/...                                ../ownership/ownership-routes.ts, when the deployment has
 *                                                        the ownership contract and a relayer runs
 *   POST /rpc                                            rpc-proxy: read-only JSON-RPC proxy for verifiers
 *   GET  /passport/assets/{file}                         asset-routes: the page's verification module, its wallet
 *                                                        sign-in (shared with the recall desk), ethers, the ABI
 *
 * Routes translate HTTP only; the services (passport-service, serials) hold the logic and throw DomainErrors. The
 * app's error middleware answers them, as HTML pages (error-pages.ts) to browsers on passport pages.
 */
import type { Logger } from "pino";
import type { AuthService } from "../auth/auth-service.ts";
import type { RouteModule } from "../api/route-module.ts";
import { QR_LIMIT_DEFAULTS, WRITE_LIMIT_DEFAULTS } from "../config.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import type { Hex } from "../domain/model.ts";
import type { ProductDataService } from "../product-data/product-data-service.ts";
import type { BatchDocumentService } from "../documents/document-service.ts";
import type { ReputationService } from "../reputation/reputation-service.ts";
import type { MirrorStore } from "../store/port.ts";
import { assetRoutes } from "./asset-routes.ts";
import { claimRoutes, legacyClaimGoneRoute } from "./claim-routes.ts";
import { createOwnershipService, type OwnershipService } from "../ownership/ownership-service.ts";
import { ownershipRoutes } from "../ownership/ownership-routes.ts";
import type { Provider } from "ethers";
import { createPassportErrorPages } from "./error-pages.ts";
import { contentSecurityPolicy } from "./html.ts";
import { createPassportService, type CloneThresholds, type PassportService } from "./passport-service.ts";
import { qrRoutes } from "./qr-routes.ts";
import { createQrRenderer, type QrRenderer } from "./qr-renderer.ts";
import { malformedLinkHandlers, resolverRoutes } from "./resolver-routes.ts";
import type { ChainRpc } from "../chain/chain-access.ts";
import { rpcProxyRoute } from "./rpc-proxy.ts";
import type { ScanDeduper } from "./scan-dedupe.ts";
import { serialRoutes } from "./serial-routes.ts";
import { createSerialService, type SerialService } from "./serials.ts";
import { createPassportViewCache, DEFAULT_PASSPORT_CACHE_MB, type PassportViewCache } from "./view-cache.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { DEFAULT_UPLOAD_BODY_LIMIT, DEFAULT_WRITE_RATE_LIMIT_PER_MINUTE, passportWriteRateLimiter } from "./write-limits.ts";

export interface PassportModuleConfig {
  publicBaseUrl: string;
  publicRpcUrl: string;
  chainId: number;
  registryAddress: Hex;
  /** Other deployment contracts the RPC proxy may serve (escrow, forwarder). */
  otherContracts?: Hex[];
  /** The cold-chain contract, whose anchored roots the page checks shown readings against (also served by the RPC proxy). */
  coldChainAddress?: Hex;
  deployBlock?: number;
  thresholds?: Partial<CloneThresholds>;
  /** Built Merkle trees kept in memory for proofs. */
  proofCacheSize?: number;
  /** Megabytes of rendered passports kept in memory (view-cache.ts); 0 renders every request. */
  viewCacheMb?: number;
}

export interface PassportModuleDeps {
  store: MirrorStore;
  config: PassportModuleConfig;
  /** The backend's chain provider, for the /rpc proxy. */
  chain: ChainRpc;
  logger: Pick<Logger, "warn" | "error" | "info">;
  /** Directory of Hardhat artifacts (tests); defaults to the project's. */
  artifactsDir?: string;
  /** Largest serial-list upload, e.g. "8mb" (default DEFAULT_UPLOAD_BODY_LIMIT). */
  uploadBodyLimit?: string;
  /** Writes (serial-list uploads and claims together) per client per minute (default 60). */
  writeRateLimitPerMinute?: number;
  /** Deepest nesting of a JSON body (config JSON_MAX_DEPTH; default WRITE_LIMIT_DEFAULTS.jsonMaxDepth). */
  jsonMaxDepth?: number;
  /** Draws the QR codes (main passes the one it closes on stop); default: a one-thread renderer the module closes. */
  qrRenderer?: QrRenderer;
  /** Widest QR PNG served (config QR_MAX_WIDTH; default QR_LIMIT_DEFAULTS.maxWidth). */
  qrMaxWidth?: number;
  /** Where the write rate limit counts hits (API workers: in the primary); default: in this process. */
  rateLimitStoreFor?: RateLimitStoreFactory;
  /** Which scans count towards clone detection (an API worker passes the cluster-wide one); default: per process. */
  scanDeduper?: ScanDeduper;
  /** Partners' track records shown on passports (main shares the reputation API's); default: its own over `store`. */
  reputation?: ReputationService;
  /** The product's DPP data and footprint shown on passports; default: read from `store`. */
  productData?: ProductDataService;
  /** The batch documents a passport lists (the public ones, and a signed-in viewer's); default: read from `store`. */
  documents?: BatchDocumentService;
  /**
   * Sign-In with Ethereum (backend/auth): with it, pages offer partners and authorities the wallet sign-in and show a
   * signed-in viewer what it is entitled to (resolver-routes.ts); without it, every page is the public one.
   */
  auth?: AuthService;
  /**
   * The ownership tokens (IUnitOwnership) and the relayer that submits claims: with them the passport shows each
   * unit's token and the claim form, the claim relay is served, and the database claim is retired (410).
   */
  ownership?: { unitOwnership: Hex; provider: Pick<Provider, "call">; relayerAddress: Hex; onClaimQueued?: () => void };
}

export interface PassportModule extends RouteModule {
  serials: SerialService;
  passports: PassportService;
  /** Null without the ownership contract. */
  ownership: OwnershipService | null;
  qrRenderer: QrRenderer;
  /** Ends what the module started itself (the default QR renderer); an injected renderer is its owner's to close. */
  close(): Promise<void>;
  viewCache: PassportViewCache;
}

export function createPassportModule(deps: PassportModuleDeps): PassportModule {
  const { store, config, chain, logger } = deps;
  const publicBaseUrl = config.publicBaseUrl.replace(/\/+$/, "");
  const serials = createSerialService({ store, cacheSize: config.proofCacheSize ?? 8 });
  const passports = createPassportService({
    store,
    serials,
    config: {
      publicBaseUrl,
      publicRpcUrl: config.publicRpcUrl,
      chainId: config.chainId,
      registryAddress: config.registryAddress,
      deployBlock: config.deployBlock ?? 0,
      thresholds: config.thresholds ?? {},
      ...(deps.ownership ? { unitOwnership: deps.ownership.unitOwnership } : {}),
      ...(config.coldChainAddress ? { coldChain: config.coldChainAddress } : {}),
    },
    scanDeduper: deps.scanDeduper,
    ...(deps.reputation === undefined ? {} : { reputation: deps.reputation }),
    ...(deps.productData === undefined ? {} : { productData: deps.productData }),
    ...(deps.documents === undefined ? {} : { documents: deps.documents }),
  });
  const ownership = deps.ownership
    ? createOwnershipService({
        store,
        serials,
        chain: { provider: deps.ownership.provider, chainId: config.chainId, unitOwnership: deps.ownership.unitOwnership },
        relayerAddress: deps.ownership.relayerAddress,
      })
    : null;
  const csp = contentSecurityPolicy(config.publicRpcUrl);
  const viewCache = createPassportViewCache((config.viewCacheMb ?? DEFAULT_PASSPORT_CACHE_MB) * 1024 * 1024);
  const writeRateLimiter = passportWriteRateLimiter(
    deps.writeRateLimitPerMinute ?? DEFAULT_WRITE_RATE_LIMIT_PER_MINUTE,
    deps.rateLimitStoreFor,
  );
  const jsonMaxDepth = deps.jsonMaxDepth ?? WRITE_LIMIT_DEFAULTS.jsonMaxDepth;
  const qrRenderer =
    deps.qrRenderer ?? createQrRenderer({ threads: 1, queueLimit: QR_LIMIT_DEFAULTS.queueLimit, cacheBytes: QR_LIMIT_DEFAULTS.cacheBytes });

  const routeModule = routeModuleFromTable(
    "",
    [
      ...resolverRoutes({
        passports,
        publicBaseUrl,
        contentSecurityPolicy: csp,
        cache: viewCache,
        ...(store.changeToken ? { changeToken: () => store.changeToken!() } : {}),
        ...(deps.auth ? { auth: deps.auth } : {}),
      }),
      ...serialRoutes({
        serials,
        passports,
        uploadBodyLimit: deps.uploadBodyLimit ?? DEFAULT_UPLOAD_BODY_LIMIT,
        writeRateLimiter,
        jsonMaxDepth,
      }),
      ...qrRoutes({ passports, contentSecurityPolicy: csp, renderer: qrRenderer, maxWidth: deps.qrMaxWidth ?? QR_LIMIT_DEFAULTS.maxWidth }),
      ...(ownership
        ? [
            legacyClaimGoneRoute(),
            ...ownershipRoutes({
              ownership,
              passports,
              writeRateLimiter,
              uploadBodyLimit: deps.uploadBodyLimit ?? DEFAULT_UPLOAD_BODY_LIMIT,
              jsonMaxDepth,
              ...(deps.ownership?.onClaimQueued ? { onClaimQueued: deps.ownership.onClaimQueued } : {}),
            }),
          ]
        : claimRoutes({ passports, writeRateLimiter, jsonMaxDepth })),
      rpcProxyRoute({
        chain,
        allowedContracts: [
          config.registryAddress,
          ...(config.otherContracts ?? []),
          ...(config.coldChainAddress ? [config.coldChainAddress] : []),
        ],
        logger,
        jsonMaxDepth,
      }),
      ...assetRoutes(deps.artifactsDir ? { artifactsDir: deps.artifactsDir } : {}),
    ],
    undefined,
    // Every route with a body parses it itself: serial lists as text (line numbers, their own limit), claims and
    // the RPC proxy as small JSON.
    { parsesOwnBody: true, renderErrorPage: createPassportErrorPages(csp) },
  );
  // After the resolver's routes: whatever else is under /01 is a malformed or non-canonical Digital Link.
  routeModule.router.use("/01", ...malformedLinkHandlers);
  const close = async () => {
    if (!deps.qrRenderer) await qrRenderer.close();
  };
  return { ...routeModule, serials, passports, ownership, qrRenderer, close, viewCache };
}
