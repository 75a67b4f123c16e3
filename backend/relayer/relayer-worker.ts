/**
 * The relayer: submits the queued relay requests from its own account and sees each one through to an outcome.
 *
 * Durability rule: a transaction is signed, its hash and nonce are written to the store, and only then is it
 * broadcast. After a crash at any point the store therefore knows every transaction that may be on the network,
 * and the restarted worker re-checks them by hash: mined ones are recorded, dropped ones are sent again with the
 * same nonce, so an accepted request lands exactly once and nothing accepted is lost.
 *
 * One active worker across instances (store lease "relayer"). Nonces come from the chain's pending count when
 * the worker takes the lease, and are persisted per request. A transaction pending longer than `stuckAfterMs` is
 * replaced with the same nonce and a fee at least `feeBumpPercent` higher.
 */
import { AbiCoder, Transaction, keccak256, type Provider, type TransactionLike } from "ethers";
import type { Logger } from "pino";
import type { MirrorStore } from "../store/port.ts";
import type { RelayRequest } from "../domain/model.ts";
import type { Hex } from "../domain/model.ts";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import { provenaContracts } from "../chain/contracts.ts";
import { extractRevertData, shortMessage } from "../chain/revert-reason.ts";
import { forwardedCalldata } from "./forward-request.ts";

/** Anything that can sign a raw transaction for the relayer's account (an ethers Wallet). */
export interface RelayerSigner {
  readonly address: string;
  signTransaction(tx: TransactionLike<string>): Promise<string>;
}

export interface RelayerWorkerOptions {
  store: MirrorStore;
  chain: ChainAccess;
  signer: RelayerSigner;
  logger: Logger;
  /** Lease holder id of this process. */
  holder: string;
  leaseTtlMs?: number;
  /** Pause between rounds (default 1,000 ms). */
  pollMs?: number;
  /** A transaction pending longer than this is replaced with a higher fee (default 30,000 ms). */
  stuckAfterMs?: number;
  /** Fee increase per replacement, in percent; nodes require at least 10 (default 15). */
  feeBumpPercent?: number;
  /** Blocks a receipt must have under it before the request counts as mined (default 1: the block itself). */
  confirmations?: number;
  /** Most transactions in flight at once (default 16). */
  maxInFlight?: number;
  now?: () => number;
}

export interface RelayerWorker {
  readonly address: Hex;
  start(): void;
  /** Stops after the current round and gives up the lease. */
  stop(): Promise<void>;
  /** One round: take/renew the lease, settle submitted transactions, submit queued requests. */
  tick(): Promise<void>;
  /** Wakes the worker for a round now (e.g. right after a request was accepted). */
  poke(): void;
}

interface Fees {
  type: 2 | 0;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
}

/** Fees as stored in RelayRequest.gasPrice: "maxFee/priority" (EIP-1559) or "gasPrice" (legacy). */
export function encodeFees(fees: Fees): string {
  return fees.type === 2 ? `${fees.maxFeePerGas}/${fees.maxPriorityFeePerGas}` : `${fees.gasPrice}`;
}

export function decodeFees(encoded: string | null): Fees | null {
  if (!encoded) return null;
  const [first, second] = encoded.split("/");
  return second === undefined ? { type: 0, gasPrice: BigInt(first) } : { type: 2, maxFeePerGas: BigInt(first), maxPriorityFeePerGas: BigInt(second) };
}

/**
 * Broadcast failures that prove the node did not take the transaction and will not. "rejected" is about this
 * request's transaction (its gas limit), so retrying it cannot help; "invalid-sender" is about the relayer's
 * own account or chain id, so every request would meet it.
 */
function classifyBroadcastError(error: unknown): "known" | "nonce-too-low" | "underpriced" | "funds" | "rejected" | "invalid-sender" | "unknown" {
  const text = `${shortMessage(error)} ${(error as { code?: string })?.code ?? ""} ${JSON.stringify((error as { info?: unknown })?.info ?? "")}`.toLowerCase();
  if (text.includes("already known") || text.includes("known transaction") || text.includes("already imported")) return "known";
  if (text.includes("nonce too low") || text.includes("nonce_expired") || text.includes("nonce has already been used")) return "nonce-too-low";
  if (text.includes("underpriced") || text.includes("replacement_underpriced") || text.includes("fee too low")) return "underpriced";
  if (text.includes("insufficient funds") || text.includes("insufficient_funds")) return "funds";
  if (text.includes("intrinsic gas") || text.includes("exceeds block gas limit")) return "rejected";
  if (text.includes("invalid sender")) return "invalid-sender";
  return "unknown";
}

export function createRelayerWorker(options: RelayerWorkerOptions): RelayerWorker {
  const { store, chain, signer, logger } = options;
  const provider: Provider = chain.provider;
  const contracts = provenaContracts(chain);
  const address = signer.address.toLowerCase() as Hex;
  const leaseTtlMs = options.leaseTtlMs ?? 15_000;
  const pollMs = options.pollMs ?? 1_000;
  const stuckAfterMs = options.stuckAfterMs ?? 30_000;
  const feeBumpPercent = BigInt(options.feeBumpPercent ?? 15);
  const confirmations = Math.max(1, options.confirmations ?? 1);
  const maxInFlight = options.maxInFlight ?? 16;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: "relayer" });

  let holdsLease = false;
  let nextNonce: number | null = null;
  /** Every hash this process broadcast per request: a replaced transaction may be the one that gets mined. */
  const broadcastHashes = new Map<string, Set<string>>();
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let stopped = true;
  /** Set by stop(): a round in progress finishes its current request and submits nothing more. */
  let stopRequested = false;
  let current: Promise<void> | null = null;
  let wakeRequested = false;

  async function fees(previous: Fees | null): Promise<Fees> {
    const data = await provider.getFeeData();
    let next: Fees;
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      next = { type: 2, maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas };
    } else {
      // Chains without EIP-1559 (some permissioned networks, e.g. Besu with free gas) take legacy prices.
      next = { type: 0, gasPrice: data.gasPrice ?? 0n };
    }
    if (!previous || previous.type !== next.type) return next;
    const bump = (value: bigint) => value + (value * feeBumpPercent) / 100n + 1n;
    if (next.type === 2) {
      return {
        type: 2,
        maxFeePerGas: max(next.maxFeePerGas!, bump(previous.maxFeePerGas!)),
        maxPriorityFeePerGas: max(next.maxPriorityFeePerGas!, bump(previous.maxPriorityFeePerGas!)),
      };
    }
    return { type: 0, gasPrice: max(next.gasPrice!, bump(previous.gasPrice!)) };
  }

  /** The transaction a request becomes: forwarder.execute for partners, a direct call for keeper jobs. */
  function callOf(request: RelayRequest): { to: string; data: string; value: bigint } {
    if (request.kind === "partner") {
      const data = contracts.interfaces.forwarder.encodeFunctionData("execute", [
        { from: request.from, to: request.to, value: BigInt(request.value), gas: BigInt(request.gas), deadline: request.deadline, data: request.data, signature: request.signature },
      ]);
      return { to: chain.addresses.forwarder, data, value: BigInt(request.value) };
    }
    return { to: request.to, data: request.data, value: BigInt(request.value) };
  }

  /** Why a request's call reverts now, in words; null when it would succeed. */
  async function simulationFailure(request: RelayRequest): Promise<string | null> {
    const call = callOf(request);
    try {
      await provider.call({ from: address, ...call, blockTag: NEXT_BLOCK });
      return null;
    } catch (error) {
      const decoded = contracts.decoder.decode(extractRevertData(error));
      if (request.kind === "partner" && (decoded === null || decoded.name === "FailedCall")) {
        try {
          await provider.call({ from: chain.addresses.forwarder, to: request.to, data: forwardedCalldata(request.data, request.from), value: BigInt(request.value), blockTag: NEXT_BLOCK });
          return "the forwarded call ran out of gas (the request's gas is too low)";
        } catch (inner) {
          return contracts.decoder.describe(inner);
        }
      }
      return decoded ? decoded.message : contracts.decoder.describe(error);
    }
  }

  async function gasLimitOf(request: RelayRequest): Promise<bigint> {
    const call = callOf(request);
    try {
      const estimate = await provider.estimateGas({ from: address, ...call, blockTag: NEXT_BLOCK });
      return (estimate * 125n) / 100n + 10_000n;
    } catch {
      // The forwarder needs the forwarded gas plus its own overhead; 63/64 of it must reach the target (EIP-150).
      return request.kind === "partner" ? (BigInt(request.gas) * 64n) / 63n + 100_000n : 500_000n;
    }
  }

  async function sign(request: RelayRequest, nonce: number, gasLimit: bigint, fee: Fees): Promise<{ raw: string; hash: Hex }> {
    const call = callOf(request);
    const tx: TransactionLike<string> = {
      chainId: BigInt(chain.chainId),
      nonce,
      to: call.to,
      data: call.data,
      value: call.value,
      gasLimit,
      type: fee.type,
      ...(fee.type === 2 ? { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas } : { gasPrice: fee.gasPrice }),
    };
    const raw = await signer.signTransaction(tx);
    return { raw, hash: Transaction.from(raw).hash!.toLowerCase() as Hex };
  }

  async function broadcast(request: RelayRequest, raw: string, hash: Hex): Promise<{ kind: ReturnType<typeof classifyBroadcastError> | "ok"; message: string | null }> {
    let hashes = broadcastHashes.get(request.id);
    if (!hashes) broadcastHashes.set(request.id, (hashes = new Set()));
    hashes.add(hash);
    try {
      await provider.broadcastTransaction(raw);
      return { kind: "ok", message: null };
    } catch (error) {
      const kind = classifyBroadcastError(error);
      if (kind === "known") return { kind: "ok", message: null };
      log.warn({ requestId: request.id, transactionHash: hash, kind, error: shortMessage(error) }, "broadcast refused");
      return { kind, message: shortMessage(error) };
    }
  }

  async function initNonce(): Promise<void> {
    const pending = await provider.getTransactionCount(address, "pending");
    const submitted = await store.listRelays(["submitted"], 10_000);
    const highest = submitted.reduce((acc, r) => (r.relayerNonce !== null && r.relayerNonce > acc ? r.relayerNonce : acc), -1);
    nextNonce = Math.max(pending, highest + 1);
    log.info({ address, nextNonce, inFlight: submitted.length }, "relayer holds the lease");
  }

  // --- settling submitted transactions ---------------------------------------------------------------------

  async function settleSubmitted(): Promise<number> {
    const submitted = (await store.listRelays(["submitted"], 10_000)).sort((a, b) => (a.relayerNonce ?? 0) - (b.relayerNonce ?? 0));
    if (submitted.length === 0) return 0;
    const head = await provider.getBlockNumber();
    const minedNonce = await provider.getTransactionCount(address, "latest");
    let stillPending = 0;
    for (const request of submitted) {
      if (!(await settleOne(request, head, minedNonce))) stillPending++;
    }
    return stillPending;
  }

  /** Returns true when the request left "submitted". */
  async function settleOne(request: RelayRequest, head: number, minedNonce: number): Promise<boolean> {
    const hashes = new Set<string>([...(broadcastHashes.get(request.id) ?? []), ...(request.transactionHash ? [request.transactionHash] : [])]);
    for (const hash of hashes) {
      const receipt = await provider.getTransactionReceipt(hash);
      if (!receipt) continue;
      if (head - receipt.blockNumber + 1 < confirmations) return false;
      if (receipt.status === 1) {
        await finish(request, { status: "mined", transactionHash: hash as Hex, blockNumber: receipt.blockNumber, error: null });
      } else {
        await finish(request, { status: "failed", transactionHash: hash as Hex, blockNumber: receipt.blockNumber, error: `reverted on chain: ${(await simulationFailure(request)) ?? "no reason given"}` });
      }
      return true;
    }
    const nonce = request.relayerNonce!;
    if (nonce < minedNonce) {
      // The nonce is used, but by none of the hashes we know: an earlier version of this transaction that a
      // previous process broadcast before replacing it. Find the outcome from the chain's own record.
      await settleFromChain(request);
      return true;
    }
    const pendingTx = request.transactionHash ? await provider.getTransaction(request.transactionHash) : null;
    const sentByThisProcess = request.transactionHash !== null && (broadcastHashes.get(request.id)?.has(request.transactionHash) ?? false);
    // Give a transaction we broadcast ourselves time to be mined (or to show up at a load-balanced node); one
    // persisted by a previous process and unknown to the node was never sent or was dropped: send it at once.
    if ((pendingTx || sentByThisProcess) && now() - request.updatedAt < stuckAfterMs) return false;
    // Dropped, never broadcast (we crashed right after persisting), or stuck: send it again with the same
    // nonce; the fee bump makes the node replace a stuck one.
    await resend(request, pendingTx !== null);
    return false;
  }

  async function settleFromChain(request: RelayRequest): Promise<void> {
    // The transaction that used our nonce emitted the request's events: the forwarder's ExecutedForwardRequest
    // for partner requests, the escrow's order events for keeper jobs. Match the one sent from our account
    // with this request's relayer nonce.
    const fromBlock = Math.max(0, (await provider.getBlockNumber()) - 50_000);
    let logs: { transactionHash: string; blockNumber: number }[] = [];
    if (request.kind === "partner") {
      logs = await contracts.forwarder.queryFilter(contracts.forwarder.filters.ExecutedForwardRequest(request.from), fromBlock);
    } else {
      const orderId = orderIdOfKeeperCall(request.data);
      if (orderId) logs = await provider.getLogs({ address: chain.addresses.escrow, topics: [null, orderId], fromBlock });
    }
    for (const entry of logs) {
      const tx = await provider.getTransaction(entry.transactionHash);
      if (tx && tx.from.toLowerCase() === address && tx.nonce === request.relayerNonce) {
        const receipt = await provider.getTransactionReceipt(entry.transactionHash);
        if (receipt?.status === 1) {
          await finish(request, { status: "mined", transactionHash: entry.transactionHash.toLowerCase() as Hex, blockNumber: entry.blockNumber, error: null });
          return;
        }
      }
    }
    const reason = await simulationFailure(request);
    await finish(request, {
      status: "failed",
      error: `the relayer's transaction with nonce ${request.relayerNonce} was mined without carrying this request${reason ? `: ${reason}` : ""}`,
    });
  }

  /** The order id a keeper call (release/refund/resolveExpiredDispute of an Order struct) is about. */
  function orderIdOfKeeperCall(data: string): string | null {
    try {
      const parsed = contracts.interfaces.escrow.parseTransaction({ data });
      const order = parsed?.args[0];
      if (!parsed || !order) return null;
      return keccak256(AbiCoder.defaultAbiCoder().encode([parsed.fragment.inputs[0]], [order]));
    } catch {
      return null;
    }
  }

  async function resend(request: RelayRequest, stuck: boolean): Promise<void> {
    const fee = await fees(decodeFees(request.gasPrice));
    const gasLimit = await gasLimitOf(request);
    const { raw, hash } = await sign(request, request.relayerNonce!, gasLimit, fee);
    const patch = { transactionHash: hash, gasPrice: encodeFees(fee), attempts: request.attempts + 1, updatedAt: now() };
    if (!(await store.updateRelay(request.id, "submitted", patch))) return;
    log.info({ requestId: request.id, nonce: request.relayerNonce, transactionHash: hash, fee: patch.gasPrice, reason: stuck ? "stuck" : "dropped" }, "resubmitting with the same nonce");
    await broadcast(request, raw, hash);
  }

  async function finish(request: RelayRequest, patch: Partial<RelayRequest>): Promise<void> {
    const applied = await store.updateRelay(request.id, request.status, { ...patch, updatedAt: now() });
    if (!applied) return;
    broadcastHashes.delete(request.id);
    const fields = { requestId: request.id, kind: request.kind, transactionHash: patch.transactionHash ?? request.transactionHash, blockNumber: patch.blockNumber ?? null };
    if (patch.status === "mined") log.info(fields, "relay request mined");
    else log.warn({ ...fields, error: patch.error }, "relay request failed");
  }

  // --- submitting queued requests ---------------------------------------------------------------------------

  /** Orders the queue so a signer's requests go in nonce order. */
  function submissionOrder(queued: RelayRequest[]): RelayRequest[] {
    return [...queued].sort((a, b) => {
      if (a.kind === "partner" && b.kind === "partner" && a.from === b.from) return Number(BigInt(a.nonce) - BigInt(b.nonce));
      return a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
    });
  }

  async function submitQueued(inFlight: number): Promise<void> {
    const queued = submissionOrder(await store.listRelays(["queued"], 500));
    const waitingSigners = new Set<string>();
    for (const request of queued) {
      if (stopRequested || !holdsLease || inFlight >= maxInFlight) return;
      if (request.kind === "partner" && waitingSigners.has(request.from)) continue;
      const outcome = await submitOne(request);
      if (outcome === "submitted") inFlight++;
      if (outcome === "wait" && request.kind === "partner") waitingSigners.add(request.from);
      if (outcome === "halt") return;
    }
  }

  async function submitOne(request: RelayRequest): Promise<"submitted" | "failed" | "wait" | "halt"> {
    if (request.kind === "partner") {
      const latest = await provider.getBlock("latest");
      const nextTimestamp = Math.max((latest?.timestamp ?? 0) + 1, Math.floor(now() / 1000));
      if (request.deadline < nextTimestamp) {
        await finish(request, { status: "failed", error: `the request expired at ${new Date(request.deadline * 1000).toISOString()} before it could be submitted` });
        return "failed";
      }
      const forwarderNonce = BigInt(await contracts.forwarder.nonces(request.from));
      const nonce = BigInt(request.nonce);
      if (nonce < forwarderNonce) {
        await finish(request, { status: "failed", error: `nonce ${nonce} of ${request.from} was used by another transaction before this request could be submitted` });
        return "failed";
      }
      if (nonce > forwarderNonce) {
        const earlier = (await store.listRelays(["queued", "submitted"], 10_000)).some(
          (other) => other.kind === "partner" && other.from === request.from && BigInt(other.nonce) >= forwarderNonce && BigInt(other.nonce) < nonce,
        );
        if (earlier) return "wait";
        await finish(request, { status: "failed", error: `the request with nonce ${forwarderNonce} of ${request.from}, which this one (nonce ${nonce}) follows, failed; sign it again with nonce ${forwarderNonce}` });
        return "failed";
      }
    }
    const failure = await simulationFailure(request);
    if (failure) {
      await finish(request, { status: "failed", error: failure });
      return "failed";
    }
    const gasLimit = await gasLimitOf(request);
    const fee = await fees(null);
    const nonce = nextNonce!;
    const { raw, hash } = await sign(request, nonce, gasLimit, fee);
    const claimed = await store.updateRelay(request.id, "queued", {
      status: "submitted",
      relayerNonce: nonce,
      transactionHash: hash,
      gasPrice: encodeFees(fee),
      attempts: request.attempts + 1,
      updatedAt: now(),
    });
    if (!claimed) return "failed"; // someone else moved it; nothing was broadcast and the nonce stays free
    nextNonce = nonce + 1;
    log.info({ requestId: request.id, kind: request.kind, nonce, transactionHash: hash }, "relay request submitted");
    const { kind: result, message } = await broadcast(request, raw, hash);
    if (result === "ok" || result === "unknown") return "submitted"; // unknown: settleSubmitted re-checks it by hash
    // The node refused it for good: nothing is on the network with this hash, and the nonce stays free.
    nextNonce = nonce;
    if (result === "rejected") {
      // This request's own transaction can never be taken; back in the queue it would block everyone behind it.
      await finish({ ...request, status: "submitted" }, { status: "failed", transactionHash: null, relayerNonce: null, gasPrice: null, error: `the node refused the relayer's transaction: ${message}` });
      return "failed";
    }
    // A refusal about the relayer itself: take the request back to the queue and try again next round.
    await store.updateRelay(request.id, "submitted", { status: "queued", relayerNonce: null, transactionHash: null, gasPrice: null, updatedAt: now() });
    broadcastHashes.delete(request.id);
    if (result === "nonce-too-low" || result === "underpriced") {
      nextNonce = null;
      await initNonce();
      return "halt";
    }
    if (result === "funds") log.error({ address }, "the relayer account cannot pay for gas: fund it; requests stay queued");
    if (result === "invalid-sender") log.error({ address, chainId: chain.chainId }, "the node refuses the relayer's signature (check the relayer key and the chain id); requests stay queued");
    return "halt";
  }

  // --- the loop -----------------------------------------------------------------------------------------------

  async function tick(): Promise<void> {
    const held = await store.acquireLease("relayer", options.holder, leaseTtlMs);
    if (!held) {
      if (holdsLease) log.warn("relayer lease lost to another instance");
      holdsLease = false;
      nextNonce = null;
      return;
    }
    if (!holdsLease || nextNonce === null) {
      holdsLease = true;
      await initNonce();
    }
    const inFlight = await settleSubmitted();
    await submitQueued(inFlight);
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(runLoop, delay);
  }

  function runLoop(): void {
    timer = null;
    if (stopped || running) return;
    running = true;
    wakeRequested = false;
    current = tick()
      .catch((error) => {
        // A failing RPC node or store must not kill the worker: log, and try again next round.
        log.error({ error: shortMessage(error) }, "relayer round failed");
        nextNonce = null;
      })
      .finally(() => {
        running = false;
        current = null;
        schedule(wakeRequested ? 0 : pollMs);
      });
  }

  return {
    address,
    start() {
      if (!stopped) return;
      stopped = false;
      stopRequested = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      stopRequested = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
      if (holdsLease) await store.releaseLease("relayer", options.holder).catch(() => undefined);
      holdsLease = false;
    },
    tick,
    poke() {
      if (stopped) return;
      if (running) {
        wakeRequested = true;
        return;
      }
      if (timer) clearTimeout(timer);
      schedule(0);
    },
  };
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
