/**
 * What every stage of the relayer works with, passed in as one object: its dependencies, its settings and the little
 * it remembers between rounds (the next nonce, the hashes it broadcast). Recording an outcome lives here because
 * both stages do it.
 */
import type { Provider, TransactionLike } from "ethers";
import type { Logger } from "pino";
import type { Hex, RelayRequest } from "../domain/model.ts";
import type { RelayQueue } from "../store/port.ts";
import type { ChainAccess } from "../chain/chain-access.ts";
import type { ProvenaContracts } from "../chain/contracts.ts";

/** Anything that can sign a raw transaction for the relayer's account (an ethers Wallet). */
export interface RelayerSigner {
  readonly address: string;
  signTransaction(tx: TransactionLike<string>): Promise<string>;
}

export interface RelayerSettings {
  /** A transaction pending longer than this is replaced with a higher fee. */
  stuckAfterMs: number;
  /** Fee increase per replacement, in percent. */
  feeBumpPercent: bigint;
  /** Blocks a receipt must have under it before the request counts as mined. */
  confirmations: number;
  /** Most transactions in flight at once. */
  maxInFlight: number;
}

export interface RelayerContext {
  store: RelayQueue;
  chain: ChainAccess;
  provider: Provider;
  contracts: ProvenaContracts;
  signer: RelayerSigner;
  /** The relayer's account, lower case. */
  address: Hex;
  log: Logger;
  now: () => number;
  settings: RelayerSettings;
  /** Every hash this process broadcast per request: a replaced transaction may be the one that gets mined. */
  sentHashes: Map<string, Set<string>>;
  /** The nonce the next new transaction takes; null until read from the chain (after taking the lease, after a refusal). */
  nonce: { next: number | null };
  /** Asked before each submission: false once the worker is stopping or the lease is lost (renews it when due). */
  maySubmit(): Promise<boolean>;
}

/** Reads the next nonce: the chain's pending count, or past the highest one already persisted if higher. */
export async function loadNextNonce(context: RelayerContext): Promise<void> {
  const { provider, store, address, log } = context;
  const pending = await provider.getTransactionCount(address, "pending");
  const submitted = await store.listRelays(["submitted"], 10_000);
  const highest = submitted.reduce((acc, r) => (r.relayerNonce !== null && r.relayerNonce > acc ? r.relayerNonce : acc), -1);
  context.nonce.next = Math.max(pending, highest + 1);
  log.info({ address, nextNonce: context.nonce.next, inFlight: submitted.length }, "relayer holds the lease");
}

/** Records a request's outcome (mined or failed) unless someone else moved it meanwhile. */
export async function finishRelay(context: RelayerContext, request: RelayRequest, patch: Partial<RelayRequest>): Promise<void> {
  const { store, sentHashes, log, now } = context;
  const applied = await store.updateRelay(request.id, request.status, { ...patch, updatedAt: now() });
  if (!applied) return;
  sentHashes.delete(request.id);
  const fields = {
    requestId: request.id,
    kind: request.kind,
    transactionHash: patch.transactionHash ?? request.transactionHash,
    blockNumber: patch.blockNumber ?? null,
  };
  if (patch.status === "mined") log.info(fields, "relay request mined");
  else log.warn({ ...fields, error: patch.error }, "relay request failed");
}
