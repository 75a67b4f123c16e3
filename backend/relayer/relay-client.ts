/**
 * A partner's side of the relayer, over HTTP only: fetch the EIP-712 domain and the next nonce from the backend,
 * sign the forward request locally (the key never leaves the partner), POST it, and wait for the outcome.
 * Used by the CLI (`provena ... --relay <api>`), the demo, and anyone integrating in TypeScript.
 */
import type { Provider, TypedDataDomain, TypedDataField } from "ethers";
import type { Hex } from "../domain/model.ts";
import { forwardedCalldata } from "./forward-request.ts";

export interface RelayClientSigner {
  getAddress(): Promise<string>;
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

export interface RelayStatusView {
  id: string;
  status: "queued" | "submitted" | "mined" | "failed";
  statusUrl: string;
  transactionHash: Hex | null;
  blockNumber: number | null;
  error: string | null;
  function: string | null;
}

/** The backend refused the request; `problem` is its RFC 9457 body (with `code` and `detail`). */
export class RelayRefusedError extends Error {
  readonly status: number;
  readonly problem: Record<string, unknown>;

  constructor(status: number, problem: Record<string, unknown>) {
    super(`relayer refused the request (${status}${typeof problem.code === "string" ? ` ${problem.code}` : ""}): ${problemText(problem)}`);
    this.name = "RelayRefusedError";
    this.status = status;
    this.problem = problem;
  }
}

/** The request was accepted but failed on chain (or before it could be sent). */
export class RelayFailedError extends Error {
  readonly request: RelayStatusView;

  constructor(request: RelayStatusView) {
    super(`relayed request ${request.id} failed: ${request.error ?? "no reason recorded"}`);
    this.name = "RelayFailedError";
    this.request = request;
  }
}

/** The backend could not be reached at all (nothing listening, DNS, TLS); nothing was accepted. */
export class RelayUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RelayUnreachableError";
  }
}

export interface RelayClientOptions {
  /** Base URL of the Provena API, e.g. http://127.0.0.1:3000 */
  apiUrl: string;
  /** Estimates the forwarded gas when given (else `defaultGas`). */
  provider?: Provider;
  defaultGas?: bigint;
  /** Seconds a signed request stays valid (default 1 hour). */
  validitySeconds?: number;
}

export interface RelayClient {
  /** Signs and posts a call of `to` with `data`; resolves with the accepted request's status. */
  submit(signer: RelayClientSigner, to: string, data: string): Promise<RelayStatusView>;
  status(id: string): Promise<RelayStatusView>;
  /** Polls until mined (resolves) or failed (throws RelayFailedError). */
  waitForMined(id: string, options?: { timeoutMs?: number; pollMs?: number }): Promise<RelayStatusView>;
}

export function createRelayClient(options: RelayClientOptions): RelayClient {
  const base = options.apiUrl.replace(/\/+$/, "");
  let signingInfo: Promise<{
    domain: TypedDataDomain;
    types: Record<string, TypedDataField[]>;
    targets: {
      registry: string;
      escrow: string;
      designRegistry?: string;
      productData?: string;
      coldChain?: string;
      unitOwnership?: string;
      logisticUnits?: string;
      transformations?: string;
    };
  }> | null = null;

  /** fetch, with a network failure (nothing listening, DNS, TLS) said as such instead of "fetch failed". */
  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${base}${path}`, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RelayUnreachableError(
        `cannot reach the Provena relayer at ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        { cause: error },
      );
    }
  }

  async function getJson<T>(path: string): Promise<T> {
    const response = await call(path, { headers: { accept: "application/json" } });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new RelayRefusedError(response.status, body);
    return body as T;
  }

  async function forwardedGas(from: string, to: string, data: string): Promise<bigint> {
    if (!options.provider) return options.defaultGas ?? 500_000n;
    const info = await (signingInfo ??= getJson("/api/v1/relay/forwarder"));
    try {
      const estimate = await options.provider.estimateGas({
        from: String(info.domain.verifyingContract),
        to,
        data: forwardedCalldata(data as Hex, from.toLowerCase() as Hex),
        blockTag: "pending",
      });
      return (estimate * 13n) / 10n + 20_000n;
    } catch {
      // It would revert: let the backend's simulation say why, in words.
      return options.defaultGas ?? 500_000n;
    }
  }

  async function submit(signer: RelayClientSigner, to: string, data: string): Promise<RelayStatusView> {
    const info = await (signingInfo ??= getJson("/api/v1/relay/forwarder"));
    const from = (await signer.getAddress()).toLowerCase();
    const { next } = await getJson<{ next: string }>(`/api/v1/relay/nonces/${from}`);
    const message = {
      from,
      to: to.toLowerCase(),
      value: 0n,
      gas: await forwardedGas(from, to, data),
      nonce: BigInt(next),
      deadline: Math.floor(Date.now() / 1000) + (options.validitySeconds ?? 3600),
      data,
    };
    const signature = await signer.signTypedData(info.domain, info.types, message);
    const response = await call("/api/v1/relay/requests", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ ...message, value: "0", gas: message.gas.toString(), nonce: message.nonce.toString(), signature }),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status !== 202 && response.status !== 200) throw new RelayRefusedError(response.status, body);
    return body as unknown as RelayStatusView;
  }

  const status = (id: string) => getJson<RelayStatusView>(`/api/v1/relay/requests/${id}`);

  async function waitForMined(id: string, { timeoutMs = 60_000, pollMs = 200 } = {}): Promise<RelayStatusView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await status(id);
      if (current.status === "mined") return current;
      if (current.status === "failed") throw new RelayFailedError(current);
      if (Date.now() > deadline) throw new Error(`relayed request ${id} is still ${current.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  return { submit, status, waitForMined };
}

function problemText(problem: Record<string, unknown>): string {
  for (const field of [problem.detail, problem.title]) if (typeof field === "string") return field;
  return "no reason given";
}
