/**
 * Runtime configuration, read once from the environment at start-up and validated with zod.
 * Every bad value gets its own line naming the variable, what it must be and what it was, so an operator
 * fixes all of them in one go. Secrets (keys, passwords, credentials in URLs) are never echoed back.
 *
 * Teams add their fields here: a `fields` entry (schema + message), a `Config` member and its default.
 */
import { isIP } from "node:net";
import { availableParallelism, hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { DEFAULT_SQLITE_CACHE_MB } from "./store/sqlite/connection.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the relayer signs: a raw key from the environment, or an encrypted JSON keystore (ethers/geth format). */
export type RelayerKeyConfig = { kind: "privateKey"; privateKey: string } | { kind: "keystore"; path: string; password: string };

export interface Config {
  logLevel: LogLevel;
  host: string;
  port: number;
  /** Base of every public link (GS1 Digital Link host in QR codes); no trailing slash. */
  publicBaseUrl: string;
  /** JSON-RPC endpoint of the chain; null = the embedded chain (`embeddedChain`). */
  rpcUrl: string | null;
  /**
   * The chain `npm start` runs itself when RPC_URL is unset: "anvil", Foundry's dev node as a child process that
   * keeps its state in `embeddedChainDir` across restarts, or "hardhat", Hardhat's in-process chain, which starts
   * empty on every run (what the tests use).
   */
  embeddedChain: EmbeddedChainKind;
  /** Directory of the embedded anvil chain: its state file, deployment file and Ignition journal. */
  embeddedChainDir: string;
  /** Read-only JSON-RPC URL handed to browsers for passport verification. */
  publicRpcUrl: string;
  /** Milliseconds to wait for the RPC endpoint before failing (start-up reachability and each call). */
  rpcTimeoutMs: number;
  /** null = embedded SQLite at `sqlitePath`. */
  mongodbUri: string | null;
  sqlitePath: string;
  /** The page cache of each SQLite connection (the store's and its threads'), in MB. */
  sqliteCacheMb: number;
  /** null = the default file for the chain id (see backend/chain/deployment.ts). */
  deploymentFile: string | null;
  /** Blocks behind the head the indexer stays, so shallow reorgs never reach the mirror. */
  confirmations: number;
  /** Largest block range per eth_getLogs; the indexer halves it when the node refuses and grows it back. */
  indexerBlockRange: number;
  indexerPollMs: number;
  /** /readyz answers 503 while the indexer is more than this many blocks behind. */
  readyMaxLagBlocks: number;
  /** Lifetime of the single-writer lease (indexer, relayer); the holder renews it at a third of this. */
  leaseTtlMs: number;
  /** Identifies this process as lease holder; unique per process by default. */
  instanceId: string;
  relayerKey: RelayerKeyConfig | null;
  keeperIntervalMs: number;
  /** The cold-chain anchorer commits each leg's readings as one root per window of this many milliseconds. */
  anchorIntervalMs: number;
  /** Express "trust proxy": how many reverse-proxy hops, or which proxy addresses, may name the client (false: none). */
  trustProxy: false | number | string[];
  /**
   * When a passport warns that a unit's code may be cloned: more scans in total, more within the window, or
   * scans from more distinct countries than a genuine item gets (backend/passport CloneThresholds).
   */
  passportCloneThresholds: { maxScans: number; maxRecentScans: number; recentWindowMs: number; maxRegions: number };
  /** Megabytes of rendered passports each API process keeps in memory; 0 renders every request. */
  passportCacheMb: number;
  /** Processes serving the API on one port (node:cluster); 1 serves it from the process that indexes. */
  apiWorkers: number;
  /**
   * Sign-in (backend/auth): the key session tokens and sign-in nonces are authenticated with (base64url, at least
   * 32 bytes), whether it was drawn at start-up because SESSION_SECRET was unset (sessions then end with the
   * process), how long a session lasts and how long a sign-in nonce may wait to be used.
   */
  session: { secret: string; secretGenerated: boolean; ttlSeconds: number; nonceTtlSeconds: number };

  // --- Limits: every load and abuse limit of the HTTP server (README "Limits" lists each and what answers it) ---
  /** Requests per minute per client under /api and /openapi.json (probes /healthz, /readyz, /metrics are exempt). */
  readRateLimitPerMinute: number;
  /** Requests per minute per client on passport pages, their assets, QR codes and the verifier's RPC proxy. */
  passportReadRateLimitPerMinute: number;
  /** Requests per minute per client on each write endpoint (relay requests, serial-list uploads, claims). */
  writeRateLimitPerMinute: number;
  /** Clients each rate limiter remembers at once: bounds their memory whatever the number of addresses. */
  rateLimitMaxClients: number;
  /**
   * Body-size limits, in the `bytes` notation Express understands ("1mb", "500kb", "1048576"). jsonBodyLimit caps
   * every JSON body the app reads; relayBodyLimit is the relay's own, smaller one (a forward request is a few
   * hundred bytes); uploadBodyLimit is for serial-list uploads (CSV or JSON text).
   */
  jsonBodyLimit: string;
  relayBodyLimit: string;
  uploadBodyLimit: string;
  /** Largest batch document (inspection report, certificate…) a participant uploads (backend/documents). */
  documentBodyLimit: string;
  /** Deepest nesting of arrays and objects in any JSON body (every body parser refuses deeper ones with a 400). */
  jsonMaxDepth: number;
  /**
   * Whether every answered request gets a line at info. Off (the default), a request the server failed (5xx) is
   * still logged at warn or error, and the rest at debug: at thousands of passport scans a second one line each would
   * cost CPU and disk for nothing an operator reads (the latency histogram in /metrics counts them by status).
   */
  logRequests: boolean;
  /**
   * QR codes (backend/passport/qr-renderer.ts): the widest PNG served, the memory for rendered codes, the worker
   * threads that draw them and how many render tasks may wait before requests get a 503.
   */
  qr: { maxWidth: number; cacheBytes: number; renderThreads: number; queueLimit: number };
  /** Largest request line plus headers, in bytes (Node's maxHeaderSize); beyond it a 431. */
  maxHeaderSize: number;
  /**
   * Where cold-chain devices publish readings (only when the deployment has a cold-chain contract): an embedded
   * MQTT broker on MQTT_HOST:MQTT_PORT (default 127.0.0.1:1883; MQTT_PORT=0 turns it off), or the external broker
   * at MQTT_URL, which the backend subscribes to instead.
   */
  mqtt: MqttConfig;
  /** Milliseconds a client may take to send its headers, and its whole request; beyond them a 408. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export type MqttConfig = { kind: "off" } | { kind: "embedded"; host: string; port: number } | { kind: "external"; url: string };

export const EMBEDDED_CHAIN_KINDS = ["anvil", "hardhat"] as const;
export type EmbeddedChainKind = (typeof EMBEDDED_CHAIN_KINDS)[number];

export type Env = Record<string, string | undefined>;

/** Defaults of the limits (Config's Limits section); modules built without a Config (tests) fall back to the same values. */
export const LIMIT_DEFAULTS = {
  // One client address may be a whole mobile carrier's NAT or an office: hundreds of genuine scanners, each page
  // view a handful of requests (page, assets, the verifier's RPC calls). A scraper is held to a few per second.
  readRateLimitPerMinute: 600,
  passportReadRateLimitPerMinute: 1_200,
  writeRateLimitPerMinute: 60,
  // About 100 bytes each: some 10 MB per limiter when full.
  rateLimitMaxClients: 100_000,
  jsonBodyLimit: "100kb",
  relayBodyLimit: "64kb",
  // 100,000 serials of 20 characters are about 2.5 MB as JSON.
  uploadBodyLimit: "8mb",
  // A scanned certificate or a batch record as PDF: a few megabytes; the bytes are kept for good.
  documentBodyLimit: "10mb",
  // The deepest legitimate body (a batched JSON-RPC call with object parameters) nests about 5 levels.
  jsonMaxDepth: 32,
  maxHeaderSize: 16_384,
  // One JSON line per request is CPU and disk at passport load; LOG_LEVEL=debug or LOG_REQUESTS=true shows them.
  logRequests: false,
  // Slow-loris guards: generous for a phone on a poor network, and for an 8 MB upload at 1 Mbit/s.
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
} as const;

/** Defaults of the QR limits; the passport module built without a Config (tests) falls back to the same values. */
export const QR_LIMIT_DEFAULTS = {
  // 2048 pixels print a 17 cm code at 300 dpi, and take about half a second to draw.
  maxWidth: 2_048,
  cacheBytes: 16 * 1024 ** 2,
  queueLimit: 32,
} as const;
/** The write endpoints' share of LIMIT_DEFAULTS, under the name the write-limit modules import. */
export const WRITE_LIMIT_DEFAULTS = LIMIT_DEFAULTS;

/** Thrown by loadConfig when one or more variables are invalid; `issues` holds one line per variable. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  ${issue.variable}: ${issue.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export interface ConfigIssue {
  variable: string;
  message: string;
}

/** Variables whose values must never appear in error messages or logs. */
const SECRET_VARIABLES = new Set(["RELAYER_PRIVATE_KEY", "RELAYER_KEYSTORE_PASSWORD", "MONGODB_URI", "RPC_URL", "MQTT_URL"]);

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
};

const isRpcUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return ["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
};

const isMqttUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return ["mqtt:", "mqtts:", "ws:", "wss:"].includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
};

const integer = (min: number, max: number, message: string) =>
  z
    .string()
    .refine((raw) => /^[+]?\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, { error: message })
    .transform(Number);

/** One trusted proxy in TRUST_PROXY: an IPv4/IPv6 address or CIDR, or one of Express's named ranges. */
const PROXY_ADDRESS = {
  test(value: string): boolean {
    if (["loopback", "linklocal", "uniquelocal"].includes(value)) return true;
    const [address = "", prefix, ...rest] = value.split("/");
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
  },
};

const text = (test: (value: string) => boolean, message: string) => z.string().refine(test, { error: message });

const MAX_BODY_LIMIT_BYTES = 1024 ** 3;
const MAX_QR_CACHE_BYTES = 4 * 1024 ** 3;

/** Bytes in a size such as "64kb" or "10mb" (1 kb = 1,024 bytes, as body-parser counts); null when it is no size. */
export function sizeInBytes(size: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!match) return null;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? "b").toLowerCase() as "b" | "kb" | "mb" | "gb"];
  return Math.floor(Number(match[1]) * unit);
}

const bodySize = () =>
  z
    .string()
    .refine(
      (raw) => {
        const bytes = sizeInBytes(raw);
        return bytes !== null && bytes >= 1 && bytes <= MAX_BODY_LIMIT_BYTES;
      },
      { error: 'must be a size from 1 byte to 1gb such as "1mb", "500kb" or a byte count' },
    )
    .transform((raw) => raw.trim());

/** Raw-string schema per variable; absent and empty values are `undefined` and take the default. */
const fields = {
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }),
  LOG_REQUESTS: z.enum(["true", "false"], { error: "must be true or false" }),
  HOST: text((v) => /^[A-Za-z0-9.\-:[\]]+$/.test(v), "must be a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::)"),
  PORT: integer(1, 65_535, "must be an integer 1-65535"),
  PUBLIC_BASE_URL: text(isHttpUrl, "must be an absolute http(s) URL (e.g. https://provena.example.com)"),
  RPC_URL: text(isRpcUrl, "must be an http(s) or ws(s) JSON-RPC URL (e.g. http://127.0.0.1:8545)"),
  EMBEDDED_CHAIN: z.enum(EMBEDDED_CHAIN_KINDS, { error: `must be one of ${EMBEDDED_CHAIN_KINDS.join(", ")}` }),
  EMBEDDED_CHAIN_DIR: text((v) => v.trim() !== "" && !v.includes("\0"), "must be a directory path"),
  PUBLIC_RPC_URL: text(isHttpUrl, "must be an absolute http(s) URL reachable from browsers"),
  RPC_TIMEOUT_MS: integer(100, 600_000, "must be an integer 100-600000 (milliseconds)"),
  MONGODB_URI: text(
    (v) => /^mongodb(\+srv)?:\/\/[^/\s]+/.test(v),
    "must be a MongoDB connection string (mongodb://host[:port]/db or mongodb+srv://...)",
  ),
  SQLITE_PATH: text((v) => v.trim() !== "" && !v.includes("\0"), "must be a file path (or :memory:)"),
  SQLITE_CACHE_MB: integer(1, 65_536, "must be an integer 1-65536 (megabytes of page cache per SQLite connection)"),
  DEPLOYMENT_FILE: text((v) => /\.json$/i.test(v), "must be the path of a .json deployment file"),
  CONFIRMATIONS: integer(0, 10_000, "must be an integer 0-10000 (blocks)"),
  INDEXER_BLOCK_RANGE: integer(1, 1_000_000, "must be an integer 1-1000000 (blocks per eth_getLogs)"),
  INDEXER_POLL_MS: integer(10, 3_600_000, "must be an integer 10-3600000 (milliseconds)"),
  READY_MAX_LAG_BLOCKS: integer(0, 1_000_000, "must be an integer 0-1000000 (blocks)"),
  LEASE_TTL_MS: integer(1_000, 3_600_000, "must be an integer 1000-3600000 (milliseconds)"),
  INSTANCE_ID: text((v) => /^[\w.:@-]{1,128}$/.test(v), "must be 1-128 characters of letters, digits and . : @ _ -"),
  RELAYER_PRIVATE_KEY: text((v) => /^(0x)?[0-9a-fA-F]{64}$/.test(v), "must be a 32-byte hex private key (64 hex digits, optional 0x)"),
  RELAYER_KEYSTORE: text((v) => v.trim() !== "", "must be the path of an encrypted JSON keystore"),
  RELAYER_KEYSTORE_PASSWORD: z.string(),
  KEEPER_INTERVAL_MS: integer(100, 86_400_000, "must be an integer 100-86400000 (milliseconds)"),
  ANCHOR_INTERVAL_MS: integer(1_000, 86_400_000, "must be an integer 1000-86400000 (milliseconds)"),
  WRITE_RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000, "must be an integer 1-1000000 (requests per minute per client)"),
  READ_RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000, "must be an integer 1-1000000 (requests per minute per client)"),
  PASSPORT_READ_RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000, "must be an integer 1-1000000 (requests per minute per client)"),
  RATE_LIMIT_MAX_CLIENTS: integer(100, 10_000_000, "must be an integer 100-10000000 (clients each rate limiter remembers)"),
  MAX_HEADER_SIZE: integer(1_024, 1_048_576, "must be an integer 1024-1048576 (bytes of request line and headers)"),
  HEADERS_TIMEOUT_MS: integer(1_000, 600_000, "must be an integer 1000-600000 (milliseconds)"),
  REQUEST_TIMEOUT_MS: integer(1_000, 3_600_000, "must be an integer 1000-3600000 (milliseconds)"),
  PASSPORT_CLONE_MAX_SCANS: integer(1, 100_000_000, "must be an integer 1-100000000 (scans of one unit in total)"),
  PASSPORT_CLONE_MAX_RECENT_SCANS: integer(
    1,
    100_000_000,
    "must be an integer 1-100000000 (scans of one unit within PASSPORT_CLONE_WINDOW_MS)",
  ),
  PASSPORT_CLONE_WINDOW_MS: integer(60_000, 31_536_000_000, "must be an integer 60000-31536000000 (milliseconds)"),
  PASSPORT_CLONE_MAX_REGIONS: integer(1, 300, "must be an integer 1-300 (distinct countries one unit is scanned in)"),
  PASSPORT_CACHE_MB: integer(0, 65_536, "must be an integer 0-65536 (megabytes of rendered passports per API process; 0 = off)"),
  API_WORKERS: integer(1, 256, "must be an integer 1-256 (processes serving the API)"),
  SESSION_SECRET: text(
    (v) => sessionSecretBytes(v) !== null,
    "must be at least 32 random bytes as hex (64+ digits) or base64/base64url (43+ characters), e.g. `openssl rand -hex 32`",
  ),
  SESSION_TTL_SECONDS: integer(60, 604_800, "must be an integer 60-604800 (seconds a sign-in session lasts)"),
  SIGN_IN_NONCE_TTL_SECONDS: integer(60, 3_600, "must be an integer 60-3600 (seconds a sign-in nonce may wait to be used)"),
  BODY_LIMIT: bodySize(),
  RELAY_BODY_LIMIT: bodySize(),
  UPLOAD_BODY_LIMIT: bodySize(),
  DOCUMENT_BODY_LIMIT: bodySize(),
  JSON_MAX_DEPTH: integer(2, 1_000, "must be an integer 2-1000 (levels of nested arrays and objects in a JSON body)"),
  QR_MAX_WIDTH: integer(64, 4_096, "must be an integer 64-4096 (pixels of the widest QR PNG served)"),
  QR_CACHE_BYTES: z
    .string()
    .refine(
      (raw) => {
        const bytes = sizeInBytes(raw);
        return bytes !== null && bytes <= MAX_QR_CACHE_BYTES;
      },
      { error: 'must be a size from 0 (no cache) to 4gb such as "16mb" or a byte count' },
    )
    .transform((raw) => sizeInBytes(raw)!),
  QR_RENDER_THREADS: integer(1, 64, "must be an integer 1-64 (worker threads drawing QR codes)"),
  QR_QUEUE_LIMIT: integer(0, 100_000, "must be an integer 0-100000 (QR render tasks waiting for a thread before a 503)"),
  MQTT_HOST: text((v) => /^[A-Za-z0-9.\-:[\]]+$/.test(v), "must be a host name or IP address for the MQTT broker to listen on"),
  MQTT_PORT: integer(0, 65_535, "must be an integer 0-65535 (0 turns the embedded MQTT broker off)"),
  MQTT_URL: text(isMqttUrl, "must be an mqtt://, mqtts://, ws:// or wss:// broker URL (e.g. mqtt://broker.example.com:1883)"),
  TRUST_PROXY: text(
    (v) => /^(\d{1,2}|false)$/.test(v.trim()) || v.split(",").every((part) => PROXY_ADDRESS.test(part.trim())),
    "must be false, a number of proxy hops (0-99), or a comma-separated list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)",
  ),
} satisfies Record<string, z.ZodType<unknown, string>>;

type FieldName = keyof typeof fields;
type Parsed = { [K in FieldName]?: z.output<(typeof fields)[K]> };

const describeGot = (variable: string, raw: string): string =>
  SECRET_VARIABLES.has(variable) ? "(value hidden)" : `(got ${JSON.stringify(raw)})`;

/**
 * Reads and validates the configuration. Throws a ConfigError listing every bad variable.
 * Empty values count as unset, so `PORT=` in an env file falls back to the default.
 */
export function loadConfig(env: Env = process.env): Config {
  const issues: ConfigIssue[] = [];
  const parsed: Parsed = {};

  for (const name of Object.keys(fields) as FieldName[]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const result = fields[name].safeParse(raw);
    if (result.success) {
      (parsed as Record<string, unknown>)[name] = result.data;
    } else {
      const message = result.error.issues[0]?.message ?? "is invalid";
      issues.push({ variable: name, message: `${message} ${describeGot(name, raw)}` });
    }
  }

  // Rules that involve more than one variable.
  if (parsed.RELAYER_PRIVATE_KEY !== undefined && parsed.RELAYER_KEYSTORE !== undefined) {
    issues.push({ variable: "RELAYER_PRIVATE_KEY", message: "set either RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE, not both" });
  }
  if (parsed.RELAYER_KEYSTORE !== undefined && parsed.RELAYER_KEYSTORE_PASSWORD === undefined) {
    issues.push({ variable: "RELAYER_KEYSTORE_PASSWORD", message: "is required when RELAYER_KEYSTORE is set" });
  }
  if (parsed.RELAYER_KEYSTORE_PASSWORD !== undefined && parsed.RELAYER_KEYSTORE === undefined) {
    issues.push({ variable: "RELAYER_KEYSTORE", message: "is required when RELAYER_KEYSTORE_PASSWORD is set" });
  }

  // The indexer stays CONFIRMATIONS blocks behind the head by design, and that distance counts as lag: a
  // smaller readiness threshold would keep /readyz at 503 for ever.
  const confirmations = parsed.CONFIRMATIONS ?? (parsed.RPC_URL === undefined ? 0 : 5);
  if (parsed.READY_MAX_LAG_BLOCKS !== undefined && parsed.READY_MAX_LAG_BLOCKS < confirmations) {
    issues.push({
      variable: "READY_MAX_LAG_BLOCKS",
      message: `must be at least CONFIRMATIONS (${confirmations}): the mirror always trails the head by that many blocks, so /readyz would never be ready`,
    });
  }

  // BODY_LIMIT caps every JSON body the app reads, the relay's included.
  const jsonBodyLimit = parsed.BODY_LIMIT ?? LIMIT_DEFAULTS.jsonBodyLimit;
  const jsonBodyLimitValid = !issues.some((issue) => issue.variable === "BODY_LIMIT");
  if (jsonBodyLimitValid && parsed.RELAY_BODY_LIMIT !== undefined && sizeInBytes(parsed.RELAY_BODY_LIMIT)! > sizeInBytes(jsonBodyLimit)!) {
    issues.push({
      variable: "RELAY_BODY_LIMIT",
      message:
        `must be at most BODY_LIMIT (${jsonBodyLimit}), the largest JSON body the app reads ` +
        `(got ${JSON.stringify(parsed.RELAY_BODY_LIMIT)})`,
    });
  }

  // Node refuses a headers timeout longer than the whole request's.
  const requestTimeoutMs = parsed.REQUEST_TIMEOUT_MS ?? LIMIT_DEFAULTS.requestTimeoutMs;
  const headersTimeoutMs = parsed.HEADERS_TIMEOUT_MS ?? Math.min(LIMIT_DEFAULTS.headersTimeoutMs, requestTimeoutMs);
  if (headersTimeoutMs > requestTimeoutMs) {
    issues.push({
      variable: "HEADERS_TIMEOUT_MS",
      message: `must be at most REQUEST_TIMEOUT_MS (${requestTimeoutMs}), the time allowed for the whole request (got ${headersTimeoutMs})`,
    });
  }

  if (parsed.MQTT_URL !== undefined && (parsed.MQTT_PORT !== undefined || parsed.MQTT_HOST !== undefined)) {
    issues.push({
      variable: "MQTT_URL",
      message: "set either MQTT_URL (an external broker) or MQTT_HOST / MQTT_PORT (the embedded one), not both",
    });
  }

  if (issues.length > 0) throw new ConfigError(issues);

  const host = parsed.HOST ?? "127.0.0.1";
  const port = parsed.PORT ?? 3000;
  const publicBaseUrl = trimSlash(parsed.PUBLIC_BASE_URL ?? `http://${formatHost(host)}:${port}`);
  const rpcUrl = parsed.RPC_URL ?? null;

  let relayerKey: RelayerKeyConfig | null = null;
  if (parsed.RELAYER_PRIVATE_KEY !== undefined) {
    const key = parsed.RELAYER_PRIVATE_KEY;
    relayerKey = { kind: "privateKey", privateKey: key.startsWith("0x") ? key : `0x${key}` };
  } else if (parsed.RELAYER_KEYSTORE !== undefined) {
    relayerKey = { kind: "keystore", path: parsed.RELAYER_KEYSTORE, password: parsed.RELAYER_KEYSTORE_PASSWORD ?? "" };
  }

  return {
    logLevel: parsed.LOG_LEVEL ?? "info",
    host,
    port,
    publicBaseUrl,
    rpcUrl,
    embeddedChain: parsed.EMBEDDED_CHAIN ?? "anvil",
    embeddedChainDir: parsed.EMBEDDED_CHAIN_DIR ?? "data/chain",
    publicRpcUrl: trimSlash(parsed.PUBLIC_RPC_URL ?? `${publicBaseUrl}/rpc`),
    rpcTimeoutMs: parsed.RPC_TIMEOUT_MS ?? 5_000,
    mongodbUri: parsed.MONGODB_URI ?? null,
    sqlitePath: parsed.SQLITE_PATH ?? "data/provena.db",
    sqliteCacheMb: parsed.SQLITE_CACHE_MB ?? DEFAULT_SQLITE_CACHE_MB,
    deploymentFile: parsed.DEPLOYMENT_FILE ?? null,
    // The in-process chain never reorganises; a real network needs a margin against shallow reorgs.
    confirmations,
    indexerBlockRange: parsed.INDEXER_BLOCK_RANGE ?? 2_000,
    indexerPollMs: parsed.INDEXER_POLL_MS ?? 1_000,
    readyMaxLagBlocks: parsed.READY_MAX_LAG_BLOCKS ?? confirmations + 10,
    leaseTtlMs: parsed.LEASE_TTL_MS ?? 15_000,
    instanceId: parsed.INSTANCE_ID ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
    relayerKey,
    keeperIntervalMs: parsed.KEEPER_INTERVAL_MS ?? 5_000,
    anchorIntervalMs: parsed.ANCHOR_INTERVAL_MS ?? 600_000,
    trustProxy: trustProxyOf(parsed.TRUST_PROXY),
    passportCloneThresholds: {
      maxScans: parsed.PASSPORT_CLONE_MAX_SCANS ?? 100,
      maxRecentScans: parsed.PASSPORT_CLONE_MAX_RECENT_SCANS ?? 25,
      recentWindowMs: parsed.PASSPORT_CLONE_WINDOW_MS ?? 86_400_000,
      maxRegions: parsed.PASSPORT_CLONE_MAX_REGIONS ?? 3,
    },
    qr: {
      maxWidth: parsed.QR_MAX_WIDTH ?? QR_LIMIT_DEFAULTS.maxWidth,
      cacheBytes: parsed.QR_CACHE_BYTES ?? QR_LIMIT_DEFAULTS.cacheBytes,
      // One core stays with the event loop (HTTP, indexer, relayer, keeper).
      renderThreads: parsed.QR_RENDER_THREADS ?? Math.min(4, Math.max(1, availableParallelism() - 1)),
      queueLimit: parsed.QR_QUEUE_LIMIT ?? QR_LIMIT_DEFAULTS.queueLimit,
    },
    passportCacheMb: parsed.PASSPORT_CACHE_MB ?? 64,
    apiWorkers: parsed.API_WORKERS ?? Math.max(1, availableParallelism()),
    session: {
      secret: (parsed.SESSION_SECRET === undefined ? randomBytes(32) : sessionSecretBytes(parsed.SESSION_SECRET)!).toString("base64url"),
      secretGenerated: parsed.SESSION_SECRET === undefined,
      ttlSeconds: parsed.SESSION_TTL_SECONDS ?? 8 * 3_600,
      nonceTtlSeconds: parsed.SIGN_IN_NONCE_TTL_SECONDS ?? 600,
    },
    readRateLimitPerMinute: parsed.READ_RATE_LIMIT_PER_MINUTE ?? LIMIT_DEFAULTS.readRateLimitPerMinute,
    passportReadRateLimitPerMinute: parsed.PASSPORT_READ_RATE_LIMIT_PER_MINUTE ?? LIMIT_DEFAULTS.passportReadRateLimitPerMinute,
    writeRateLimitPerMinute: parsed.WRITE_RATE_LIMIT_PER_MINUTE ?? LIMIT_DEFAULTS.writeRateLimitPerMinute,
    rateLimitMaxClients: parsed.RATE_LIMIT_MAX_CLIENTS ?? LIMIT_DEFAULTS.rateLimitMaxClients,
    jsonBodyLimit,
    relayBodyLimit: parsed.RELAY_BODY_LIMIT ?? smallerSize(LIMIT_DEFAULTS.relayBodyLimit, jsonBodyLimit),
    uploadBodyLimit: parsed.UPLOAD_BODY_LIMIT ?? LIMIT_DEFAULTS.uploadBodyLimit,
    documentBodyLimit: parsed.DOCUMENT_BODY_LIMIT ?? LIMIT_DEFAULTS.documentBodyLimit,
    jsonMaxDepth: parsed.JSON_MAX_DEPTH ?? LIMIT_DEFAULTS.jsonMaxDepth,
    logRequests: parsed.LOG_REQUESTS === undefined ? LIMIT_DEFAULTS.logRequests : parsed.LOG_REQUESTS === "true",
    maxHeaderSize: parsed.MAX_HEADER_SIZE ?? LIMIT_DEFAULTS.maxHeaderSize,
    headersTimeoutMs,
    requestTimeoutMs,
    mqtt: mqttConfigOf(parsed.MQTT_URL, parsed.MQTT_HOST, parsed.MQTT_PORT),
  };
}

function mqttConfigOf(url: string | undefined, host: string | undefined, port: number | undefined): MqttConfig {
  if (url !== undefined) return { kind: "external", url };
  if (port === 0) return { kind: "off" };
  return { kind: "embedded", host: host ?? "127.0.0.1", port: port ?? 1_883 };
}

/** The configuration as safe to log: secrets replaced, credentials stripped from URLs. */
export function redactConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    rpcUrl: config.rpcUrl === null ? null : redactUrl(config.rpcUrl),
    mongodbUri: config.mongodbUri === null ? null : redactUrl(config.mongodbUri),
    session: { ...config.session, secret: "[redacted]" },
    mqtt: config.mqtt.kind === "external" ? { kind: "external", url: redactUrl(config.mqtt.url) } : config.mqtt,
    relayerKey:
      config.relayerKey === null
        ? null
        : config.relayerKey.kind === "privateKey"
          ? { kind: "privateKey", privateKey: "[redacted]" }
          : { kind: "keystore", path: config.relayerKey.path, password: "[redacted]" },
  };
}

/** Removes user:password and query strings (API keys often travel there) from a URL for logging. */
export function redactUrl(value: string): string {
  // MongoDB URIs may list several hosts, which URL cannot parse; strip credentials by pattern instead.
  const withoutCredentials = value.replace(/^([a-z+]+:\/\/)[^@/]*@/i, "$1***@");
  const queryAt = withoutCredentials.indexOf("?");
  const base = queryAt === -1 ? withoutCredentials : `${withoutCredentials.slice(0, queryAt)}?***`;
  // Hosted RPC providers put the API key in the last path segment (…/v2/<key>).
  return base.replace(/\/([A-Za-z0-9_-]{20,})(\/?)(\?\*\*\*)?$/, "/***$2$3");
}

/** SESSION_SECRET's bytes (hex, or base64 / base64url), or null when it is neither or shorter than 32 bytes. */
function sessionSecretBytes(raw: string): Buffer | null {
  const value = raw.trim();
  const bytes = /^([0-9a-fA-F]{2})+$/.test(value)
    ? Buffer.from(value, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(value)
      ? Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64")
      : null;
  return bytes !== null && bytes.byteLength >= 32 ? bytes : null;
}

const trimSlash = (url: string): string => url.replace(/\/+$/, "");

const smallerSize = (a: string, b: string): string => (sizeInBytes(b)! < sizeInBytes(a)! ? b : a);

/** A wildcard listen address is no place to send a browser; links then point at localhost. */
const formatHost = (host: string): string => {
  if (host === "0.0.0.0" || host === "::" || host === "[::]") return "localhost";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
};

/** TRUST_PROXY as Express takes it: unset or "false" trusts no proxy (the socket's address is the client). */
function trustProxyOf(raw: string | undefined): false | number | string[] {
  const value = raw?.trim();
  if (value === undefined || value === "false") return false;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  return value.split(",").map((part) => part.trim());
}
