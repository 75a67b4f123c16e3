/**
 * Verifies a passport URL from a terminal (scripts/verify.ts, the CLI): fetches its JSON-LD, then runs the same
 * verifier the passport page runs in the browser (assets/verify-core.js) through the JSON-RPC endpoints the caller
 * names (RPC_URL / --rpc, several compared with each other), else the one the passport advertises.
 * Trust anchors (the chain and registry to verify against) come from the link itself ("?chain=…&registry=…", as
 * printed in QR codes) and from the caller (--chain-id, --registry); the passport's own word is used, with a
 * warning, only when neither names them.
 */
import * as ethers from "ethers";
import { loadArtifact, type LoadArtifactOptions } from "../chain/artifacts.ts";
import { ENUM_VALUE_NAMES } from "../chain/vocabulary.ts";
import {
  claimsFromJsonLd,
  createFindingFormatter,
  jsonRpcEndpoints,
  trustAnchorsOfSearch,
  VerifierError,
  verifyPassportAcrossEndpoints,
  type EndpointReport,
  type MultiEndpointVerificationResult,
  type PassportClaims,
} from "./assets/verify-core.js";
import { parseDigitalLinkUri } from "./digital-link.ts";
import { en } from "./messages/en.ts";

/** The verifier's findings in English, as the terminal verifiers print them (numbers as they are, times in ISO 8601). */
export const sayInEnglish = createFindingFormatter({ messages: en });

/** An error's message in English: the verifier's own errors carry a finding rather than text. */
export function englishMessageOf(error: unknown): string {
  if (error instanceof VerifierError) return sayInEnglish(error.finding);
  return error instanceof Error ? error.message : String(error);
}

/** A verification's findings said in English. */
export interface EnglishVerificationResult extends Omit<
  MultiEndpointVerificationResult,
  "mismatches" | "warnings" | "checked" | "endpoints"
> {
  mismatches: string[];
  warnings: string[];
  checked: string[];
  endpoints: (Omit<EndpointReport, "detail"> & { detail?: string })[];
}

/** The verifier's result with every finding said in English. */
export function inEnglish(result: MultiEndpointVerificationResult): EnglishVerificationResult {
  return {
    ...result,
    mismatches: result.mismatches.map(sayInEnglish),
    warnings: result.warnings.map(sayInEnglish),
    checked: result.checked.map(sayInEnglish),
    endpoints: result.endpoints.map(({ detail, ...report }) =>
      detail === undefined ? report : { ...report, detail: sayInEnglish(detail) },
    ),
  };
}

export interface VerifyPassportUrlOptions {
  url: string;
  /** JSON-RPC endpoint to trust; default: the passport's advertised provena:verification.rpcUrl. */
  rpcUrl?: string | null;
  /** Several JSON-RPC endpoints, read and compared (with rpcUrl, if given, first). */
  rpcUrls?: readonly string[];
  /** At least this many endpoints must answer, and all that answer agree (default 1). */
  minAgreeing?: number;
  /** Trust anchors: fail unless the passport names this chain / registry (and verify against them). */
  expected?: { chainId?: number; registry?: string };
  artifacts?: LoadArtifactOptions;
  /** Per request (default 15 s); each endpoint also has deadlineMs for all its reads (default 120 s). */
  timeoutMs?: number;
  deadlineMs?: number;
  onProgress?: (message: string) => void;
}

export interface VerifyPassportUrlResult extends EnglishVerificationResult {
  claims: PassportClaims;
  /** The first endpoint read through; rpcUrls lists them all. */
  rpcUrl: string;
  rpcUrls: string[];
  /** The chain and registry verified against, and who named them; "passport" means only the server's word. */
  anchors: { chainId: number; registry: string; source: "link" | "caller" | "passport" };
  /** Who named the JSON-RPC endpoint: the caller (--rpc, RPC_URL) or the passport (the server's word). */
  rpcSource: "caller" | "passport";
}

/** Who named the chain and registry verified against, as reports say it. */
export const ANCHOR_SOURCES = { link: "the link", caller: "you", passport: "the passport server only" } as const;

/** The passport could not be fetched or read: nothing was verified (as opposed to a mismatch). */
export class PassportFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PassportFetchError";
  }
}

export async function verifyPassportUrl(options: VerifyPassportUrlOptions): Promise<VerifyPassportUrlResult> {
  const { url, onProgress = () => undefined } = options;
  const link = parseDigitalLinkUri(url);
  const expected = anchorsOf(new URL(url).search, options.expected ?? {});
  const timeoutMs = options.timeoutMs ?? 15_000;

  onProgress(`Fetching the passport ${url}`);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/ld+json, application/json;q=0.9" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    // Node's fetch says only "fetch failed"; the reason (refused, unknown host, timeout) is in its cause.
    const cause = (error as Error).cause;
    const reason = cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message;
    throw new PassportFetchError(`Cannot fetch ${url}: ${reason}`, { cause: error });
  }
  if (!response.ok) {
    let detail = "";
    try {
      detail = ((await response.json()) as { detail?: string }).detail ?? "";
    } catch {
      // Not a problem document.
    }
    throw new PassportFetchError(`${url} answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
  let claims: PassportClaims;
  try {
    claims = claimsFromJsonLd(await response.json());
  } catch (error) {
    throw new PassportFetchError(`${url} did not return a Provena passport: ${englishMessageOf(error)}`, { cause: error });
  }

  const chosen = [...(options.rpcUrl ? [options.rpcUrl] : []), ...(options.rpcUrls ?? [])].filter((u) => u !== "");
  const rpcUrls = chosen.length > 0 ? chosen : claims.rpcUrl ? [claims.rpcUrl] : [];
  if (rpcUrls.length === 0) throw new PassportFetchError("No JSON-RPC URL: pass --rpc or set RPC_URL; the passport advertises none");
  const { abi } = loadArtifact("ProvenanceRegistry", undefined, options.artifacts ?? {});
  const verification = verifyPassportAcrossEndpoints({
    claims,
    endpoints: jsonRpcEndpoints(rpcUrls, { timeoutMs, ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }) }),
    ethers,
    abi,
    enums: ENUM_VALUE_NAMES,
    expected: {
      ...(expected.chainId === undefined ? {} : { chainId: expected.chainId }),
      ...(expected.registry ? { registry: expected.registry } : {}),
    },
    ...(options.minAgreeing === undefined ? {} : { minAgreeing: options.minAgreeing }),
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    onProgress: (step) => onProgress(sayInEnglish(step)),
  });
  const result = inEnglish(
    await verification.catch((error: unknown) => {
      throw error instanceof VerifierError ? new Error(englishMessageOf(error), { cause: error }) : error;
    }),
  );
  const rpcUrl = rpcUrls[0]!;
  const rpcSource = chosen.length > 0 ? "caller" : "passport";
  if (expected.source === "passport") {
    result.warnings.push(
      "The link names no chain and registry and you gave none (--chain-id, --registry): which registry was checked is the passport server's word",
    );
  }
  if (rpcSource === "passport") {
    result.warnings.push(
      `The JSON-RPC endpoint ${rpcUrl} is the one the passport names: pass --rpc (or RPC_URL) to check through one you trust`,
    );
  }

  // The passport must be the one the URL names: a server answering with another product's passport fails here.
  const named: [string, unknown, unknown][] = [
    ["batch id", link.batchId, claims.batchId],
    ["serial", link.serial, claims.serial],
    ["GTIN", link.gtin, claims.product.gtin],
    ["lot", link.lot, claims.product.lot],
  ];
  for (const [what, inUrl, inPassport] of named) {
    if (inUrl !== inPassport)
      result.mismatches.unshift(`The URL names ${what} ${JSON.stringify(inUrl)}, but the passport is for ${JSON.stringify(inPassport)}`);
  }
  const anchors = {
    chainId: expected.chainId ?? claims.chainId,
    registry: (expected.registry ?? claims.registry).toLowerCase(),
    source: expected.source,
  };
  const verdict = result.mismatches.length > 0 ? "mismatch" : result.verdict;
  return { ...result, verdict, ok: verdict === "verified", claims, rpcUrl, rpcUrls, anchors, rpcSource };
}

/** The anchors to verify against: the caller's and the link's, which must agree; none means the passport's word. */
function anchorsOf(
  search: string,
  given: { chainId?: number; registry?: string },
): { chainId?: number; registry?: string; source: "link" | "caller" | "passport" } {
  let inLink: { chainId: number; registry: string } | null;
  try {
    inLink = trustAnchorsOfSearch(search);
  } catch (error) {
    throw new PassportFetchError(englishMessageOf(error), { cause: error });
  }
  const registry = given.registry?.toLowerCase();
  if (inLink && given.chainId !== undefined && given.chainId !== inLink.chainId) {
    throw new PassportFetchError(`The link names chain ${inLink.chainId}, but you asked for chain ${given.chainId}`);
  }
  if (inLink && registry !== undefined && registry !== inLink.registry) {
    throw new PassportFetchError(`The link names registry ${inLink.registry}, but you asked for registry ${registry}`);
  }
  if (inLink) return { ...inLink, source: "link" };
  if (given.chainId !== undefined || registry !== undefined) {
    return { ...(given.chainId === undefined ? {} : { chainId: given.chainId }), ...(registry ? { registry } : {}), source: "caller" };
  }
  return { source: "passport" };
}

/** "Verified at block N by 2 of 3 endpoints" or why not, as the terminal verifiers print it. */
export function verdictLine(result: VerifyPassportUrlResult): string {
  const by = `by ${result.agreeing} of ${result.total} endpoint${result.total === 1 ? "" : "s"}`;
  if (result.verdict === "verified") return `✓ Verified at block ${result.blockNumber} ${by}: the passport matches the chain.`;
  if (result.verdict === "unverifiable") {
    return `? NOT VERIFIED: ${result.agreeing} of ${result.total} endpoint${result.total === 1 ? "" : "s"} answered, at least ${result.minAgreeing} needed.`;
  }
  return `✗ MISMATCH${result.blockNumber === null ? "" : ` (checked at block ${result.blockNumber})`}: the passport does not match the chain.`;
}

/** One line per endpoint: what it answered, or why it was not used. */
export function endpointLines(result: VerifyPassportUrlResult): string[] {
  return result.endpoints.map((endpoint) => {
    const detail =
      endpoint.status === "answered"
        ? `answered (chain ${endpoint.chainId}, head ${endpoint.head})`
        : `${endpoint.status}: ${endpoint.detail}`;
    return `endpoint ${endpoint.url} ${detail}`;
  });
}

/** The exit status of a verification: 0 verified, 1 mismatch, 2 nothing could be verified. */
export function exitStatusOf(result: VerifyPassportUrlResult): 0 | 1 | 2 {
  return result.verdict === "verified" ? 0 : result.verdict === "mismatch" ? 1 : 2;
}

/**
 * The endpoints a terminal verifier was given: repeated flags and comma-separated lists (as RPC_URL may hold),
 * each an http(s) URL.
 */
export function rpcUrlsOf(values: readonly (string | undefined)[]): string[] {
  const urls = values
    .flatMap((value) => (value ?? "").split(","))
    .map((url) => url.trim())
    .filter((url) => url !== "");
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PassportFetchError(`${JSON.stringify(url)} is not a JSON-RPC URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new PassportFetchError(`${url} is not an http(s) URL`);
  }
  return urls;
}
