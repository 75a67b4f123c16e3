/**
 * Re-derives every participant's reputation from raw chain logs and compares it with the API's answer, field by
 * field (scripts/verify-reputation.ts is the command). Each answer is checked at the block it says it is as of, with
 * that block's timestamp read from the node, so a mirror behind the chain head is not a mismatch but a mirror that
 * lost, altered or invented an event is.
 */
import type { Provider } from "ethers";
import type { Hex } from "../domain/model.ts";
import { foldChainFacts, readChainLogs, type ChainFacts } from "./chain-facts.ts";
import { computeReputation, DEFAULT_REPUTATION_POLICY, type Reputation, type ReputationPolicy } from "./reputation.ts";

/** What the verifier asks the backend. */
export interface ReputationApi {
  /** Every participant the backend lists. */
  participants(): Promise<Hex[]>;
  /** The reputation endpoint's status and JSON body for `address`. */
  reputation(address: Hex): Promise<{ status: number; body: unknown }>;
}

export function httpReputationApi(apiUrl: string): ReputationApi {
  const base = apiUrl.replace(/\/+$/, "");
  const getJson = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(60_000) });
    return { status: response.status, body: (await response.json().catch(() => null)) as unknown };
  };
  return {
    async participants() {
      const addresses: Hex[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=500${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
        const { status, body } = await getJson(`/api/v1/participants?${query}`);
        if (status !== 200) throw new Error(`listing participants answered HTTP ${status}`);
        const page = body as { items: { address: Hex }[]; nextCursor: string | null };
        addresses.push(...page.items.map((item) => item.address));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return addresses;
    },
    reputation: (address) => getJson(`/api/v1/participants/${address}/reputation`),
  };
}

export interface ReputationCheck {
  address: Hex;
  /** The block the API's answer is as of; null when it gave none. */
  asOfBlock: number | null;
  mismatches: string[];
}

export interface VerifyReputationResult {
  ok: boolean;
  chainId: number;
  checks: ReputationCheck[];
}

export interface VerifyReputationOptions {
  api: ReputationApi;
  provider: Provider;
  contracts: { registry: Hex; escrow: Hex };
  /** First block to read logs from (the deployment's). */
  deployBlock: number;
  policy?: ReputationPolicy;
  onProgress?: (message: string) => void;
}

export async function verifyReputation(options: VerifyReputationOptions): Promise<VerifyReputationResult> {
  const { api, provider, contracts, deployBlock } = options;
  const policy = options.policy ?? DEFAULT_REPUTATION_POLICY;
  const chainId = Number((await provider.getNetwork()).chainId);
  const progress = options.onProgress ?? (() => {});

  const listed = new Set((await api.participants()).map((address) => address.toLowerCase() as Hex));
  progress(`the API lists ${listed.size} participants`);
  const head = await provider.getBlockNumber();
  const entries = await readChainLogs(provider, contracts, deployBlock, head);
  progress(`read ${entries.length} logs of blocks ${deployBlock}..${head}`);
  // Everyone the chain onboarded must have an answer too, even if the API does not list them.
  const addresses = [...new Set([...listed, ...foldChainFacts(chainId, entries, head).participants])].sort();

  const folds = new Map<number, ChainFacts>();
  const timestamps = new Map<number, number>();
  const checks: ReputationCheck[] = [];
  for (const address of addresses) {
    const { status, body } = await api.reputation(address);
    if (status !== 200) {
      checks.push({ address, asOfBlock: null, mismatches: [`the API answered HTTP ${status}`] });
      continue;
    }
    const answer = body as Reputation;
    const blockNumber = answer.asOf?.blockNumber;
    if (!Number.isSafeInteger(blockNumber) || blockNumber > head) {
      checks.push({
        address,
        asOfBlock: null,
        mismatches: [`asOf.blockNumber ${String(blockNumber)} is not a block of the chain (head ${head})`],
      });
      continue;
    }
    if (!folds.has(blockNumber)) folds.set(blockNumber, foldChainFacts(chainId, entries, blockNumber));
    if (!timestamps.has(blockNumber)) timestamps.set(blockNumber, (await provider.getBlock(blockNumber))!.timestamp);
    const expected = computeReputation(
      address,
      folds.get(blockNumber)!.facts,
      { chainId, blockNumber, timestamp: timestamps.get(blockNumber)! },
      policy,
    );
    checks.push({ address, asOfBlock: blockNumber, mismatches: differences(expected, answer) });
  }
  return { ok: checks.every((check) => check.mismatches.length === 0), chainId, checks };
}

/** Every path where `actual` differs from `expected`, as "path: expected X, API says Y". */
export function differences(expected: unknown, actual: unknown, path = ""): string[] {
  if (expected !== null && typeof expected === "object" && actual !== null && typeof actual === "object") {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((key) =>
      differences(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        path === "" ? key : `${path}.${key}`,
      ),
    );
  }
  return Object.is(expected, actual) ? [] : [`${path}: chain gives ${JSON.stringify(expected)}, API says ${JSON.stringify(actual)}`];
}
