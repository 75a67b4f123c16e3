// Types of verify-core.js (plain JavaScript so that browsers run it unchanged; see that file).

export type RpcCall = (method: string, params: unknown[]) => Promise<unknown>;

/** What the verifier found or is doing, in no language: a message code (a key of backend/passport/messages) and its parameters. */
export interface Finding {
  code: string;
  params: Record<string, FindingParam>;
}
/** Text (identifiers: shown as they are), a number (a count: formatted), a time, a nested finding or a list of these. */
export type FindingParam = string | number | Finding | { time: number } | { list: FindingParam[]; separator: "comma" | "semicolon" };

export function finding(code: string, params?: Record<string, FindingParam>): Finding;

/** An error of the verifier; its message is the finding's code, say it with createFindingFormatter. */
export class VerifierError extends Error {
  constructor(finding: Finding, options?: { cause?: unknown });
  finding: Finding;
}

/** What an error says, as a finding (another error's message as it is). */
export function findingOfError(error: unknown): Finding;

/** Says findings in one language, from that language's verifier messages (see verify-core.js). */
export function createFindingFormatter(options: {
  messages: Readonly<Record<string, string>>;
  locale?: string;
  number?: (n: number) => string;
  time?: (seconds: number) => string;
}): (finding: Finding) => string;

export function createJsonRpc(
  url: string,
  options?: { fetch?: typeof fetch; timeoutMs?: number; maxBytes?: number; signal?: AbortSignal },
): RpcCall;

export interface ClaimedEntry {
  event: string;
  label: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
  timestamp: number;
  args: Record<string, unknown>;
}

export interface PassportClaims {
  chainId: number;
  registry: string;
  rpcUrl: string;
  deployBlock: number;
  asOfBlock: number | null;
  batchId: string;
  serial: string | null;
  serialRoot: string;
  proof: string[] | null;
  state: Record<string, unknown>;
  /** Whether the page says the product is recalled (its own recall or an ancestor's); null when it does not say. */
  recalled: boolean | null;
  product: { gtin?: string; lot?: string; productionDate?: number; originGln?: string; manufacturer?: string };
  history: ClaimedEntry[];
  /** Nearest ancestor first; `history` is its custody steps and inspections before the split, in chain order. */
  lineage: {
    batchId: string;
    lot: string | null;
    registration: ClaimedEntry | null;
    recall: ClaimedEntry | null;
    history: ClaimedEntry[];
  }[];
  participants: { address: string; name?: string; gln?: string; suspended: boolean }[];
}

export function claimsFromJsonLd(doc: unknown): PassportClaims;

/** The GTIN (14 digits), lot and serial a Digital Link path (raw, percent-encoded) names; null when it is not one. */
export function digitalLinkOfPath(pathname: string): { gtin: string; lot: string; serial: string | null } | null;

/** The chain and registry a printed link's query names ("?chain=…&registry=…"); null when none; throws a VerifierError when malformed. */
export function trustAnchorsOfSearch(search: string): { chainId: number; registry: string } | null;

export interface VerificationResult {
  ok: boolean;
  /** The block everything was checked at; null when the chain itself did not match. */
  blockNumber: number | null;
  head?: number;
  mismatches: Finding[];
  warnings: Finding[];
  checked: Finding[];
}

export function verifyPassport(input: {
  claims: PassportClaims;
  rpc: RpcCall;
  ethers: unknown;
  abi: readonly unknown[];
  enums: Readonly<Record<string, readonly string[]>>;
  /** Trust anchors: the chain and registry you trust, and the Digital Link you scanned (from digitalLinkOfPath). */
  expected?: { chainId?: number; registry?: string; link?: { gtin: string; lot: string; serial: string | null } };
  onProgress?: (step: Finding) => void;
  /** Pins the newest block read instead of the endpoint's own head. */
  head?: number;
}): Promise<VerificationResult>;

/** An endpoint's answer larger than this is refused. */
export const MAX_RPC_RESPONSE_BYTES: number;

/** JSON-RPC callers for several endpoints, each cut off after `deadlineMs` in all (default 120 s). */
export function jsonRpcEndpoints(
  urls: readonly string[],
  options?: { fetch?: typeof fetch; timeoutMs?: number; deadlineMs?: number; maxBytes?: number },
): { url: string; rpc: RpcCall }[];

export interface EndpointReport {
  url: string;
  /**
   * answered: read and compared; unreachable: no chain id or head (network, timeout, HTTP, malformed answer);
   * failed: broke off while reading; wrong-chain: serves another chain; behind: its head is older than the page;
   * duplicate: listed twice.
   */
  status: "answered" | "unreachable" | "failed" | "wrong-chain" | "behind" | "duplicate";
  chainId?: number;
  head?: number;
  detail?: Finding;
}

export interface MultiEndpointVerificationResult extends VerificationResult {
  /** verified: the page matches and every answering endpoint agrees, at least minAgreeing of them; unverifiable: too few answered. */
  verdict: "verified" | "mismatch" | "unverifiable";
  /** Endpoints that answered and agreed (0 when any two disagree). */
  agreeing: number;
  /** Distinct endpoints asked. */
  total: number;
  minAgreeing: number;
  endpoints: EndpointReport[];
}

/**
 * Verifies through several endpoints: each must serve the anchored chain; all read the same blocks (the lowest head
 * among them, skipping endpoints older than the page); every read is compared and any difference is a mismatch.
 */
export function verifyPassportAcrossEndpoints(input: {
  claims: PassportClaims;
  endpoints: readonly { url: string; rpc: RpcCall }[];
  ethers: unknown;
  abi: readonly unknown[];
  enums: Readonly<Record<string, readonly string[]>>;
  expected?: { chainId?: number; registry?: string; link?: { gtin: string; lot: string; serial: string | null } };
  /** At least this many endpoints must answer (default 1); all that answer must agree. */
  minAgreeing?: number;
  /** Per endpoint, for all its reads (default 120 s). */
  deadlineMs?: number;
  onProgress?: (step: Finding) => void;
}): Promise<MultiEndpointVerificationResult>;
