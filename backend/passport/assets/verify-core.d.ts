// Types of verify-core.js (plain JavaScript so that browsers run it unchanged; see that file).

export type RpcCall = (method: string, params: unknown[]) => Promise<any>;

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
  product: { gtin?: string; lot?: string; productionDate?: number; originGln?: string; manufacturer?: string };
  history: ClaimedEntry[];
  lineage: { batchId: string; registration: ClaimedEntry | null; recall: ClaimedEntry | null }[];
  participants: { address: string; name?: string; gln?: string; suspended: boolean }[];
}

export function claimsFromJsonLd(doc: unknown): PassportClaims;

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
  expected?: { chainId?: number; registry?: string };
  onProgress?: (message: string) => void;
}): Promise<VerificationResult>;
