// Types of verify-core.js (plain JavaScript so that browsers run it unchanged; see that file).

export type RpcCall = (method: string, params: unknown[]) => Promise<unknown>;

export function createJsonRpc(url: string, options?: { fetch?: typeof fetch; timeoutMs?: number }): RpcCall;

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

/** The chain and registry a printed link's query names ("?chain=…&registry=…"); null when none; throws when malformed. */
export function trustAnchorsOfSearch(search: string): { chainId: number; registry: string } | null;

export interface VerificationResult {
  ok: boolean;
  /** The block everything was checked at; null when the chain itself did not match. */
  blockNumber: number | null;
  head?: number;
  mismatches: string[];
  warnings: string[];
  checked: string[];
}

export function verifyPassport(input: {
  claims: PassportClaims;
  rpc: RpcCall;
  ethers: unknown;
  abi: readonly unknown[];
  enums: Readonly<Record<string, readonly string[]>>;
  /** Trust anchors: the chain and registry you trust, and the Digital Link you scanned (from digitalLinkOfPath). */
  expected?: { chainId?: number; registry?: string; link?: { gtin: string; lot: string; serial: string | null } };
  onProgress?: (message: string) => void;
}): Promise<VerificationResult>;
