/**
 * Checks a trade record (trade-record.ts) against a chain node, trusting nothing in the record but the chain:
 *
 *  1. shape, chain and deployment: the record names the chain and the Provena deployment the verifier trusts;
 *  2. the order: its terms hash to the order id, and the escrow logged OrderOpened for that id;
 *  3. the signature: the order's seller signed exactly these claims (ECDSA, or ERC-1271 for a contract wallet);
 *  4. the block: the record's block is on the canonical chain (no reorg since);
 *  5. every referenced event exists at that transaction and log index, in a canonical block at or before the
 *     record's block, from the registry or the escrow, and is about this order or its goods;
 *  6. nothing is left out: every escrow event of the order and every registry event of its goods' lineage up to the
 *     record's block (found with eth_getLogs by their indexed id) is referenced;
 *  7. the escrow state claimed is the escrow's at the record's block.
 * The report also says what the escrow holds now and when it can release, so a financier can follow the order.
 *
 * The goods' lineage is read from the chain too: BatchSplit logs name each lot's parent.
 */
import { Contract, Interface, TypedDataEncoder, getAddress, isHexString, verifyTypedData, type Log, type Provider } from "ethers";
import type { ProvenaAbis } from "../chain/artifacts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { createEventDecoder } from "../chain/events.ts";
import { logsInRanges } from "../chain/logs-in-ranges.ts";
import { ORDER_STATES } from "../chain/vocabulary.ts";
import type { ChainEvent, Hex, OrderState } from "../domain/model.ts";
import { MAX_LINEAGE_DEPTH } from "../read-model/batch-history.ts";
import { foldChainFacts, readChainLogs } from "../reputation/chain-facts.ts";
import { computeReputation, type Reputation } from "../reputation/reputation.ts";
import {
  orderIdOfTerms,
  tradeRecordSchema,
  tradeRecordTypedData,
  type OrderTermsJson,
  type TradeRecord,
  type TradeRecordEventRef,
} from "./trade-record.ts";

/** ERC-1271's magic value: isValidSignature(bytes32,bytes) returns its own selector for a valid signature. */
const ERC1271_MAGIC_VALUE = "0x1626ba7e";
const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

export interface TradeRecordChain {
  provider: Provider;
  /** The deployment the verifier trusts (its own deployment file), not the one the record names. */
  deployment: Pick<Deployment, "chainId" | "registry" | "escrow" | "forwarder" | "deployBlock">;
  abis: ProvenaAbis;
  /** Widest eth_getLogs block range the node accepts; ranges are split to fit. Default 100,000. */
  logRange?: number;
  /**
   * Also compute the seller's reputation (backend/reputation) at the record's block from every registry and escrow
   * log since the deployment, folded here from the chain and not from any mirror. Costs a full log scan.
   */
  withSellerReputation?: boolean;
}

export interface TradeRecordCheck {
  check: "shape" | "deployment" | "order" | "signature" | "block" | "events" | "completeness" | "escrow-state";
  ok: boolean;
  detail: string;
}

export interface TradeRecordVerification {
  /** True when every check passed. */
  valid: boolean;
  checks: TradeRecordCheck[];
  orderId: Hex | null;
  seller: Hex | null;
  order: {
    buyer: Hex;
    seller: Hex;
    carrier: Hex;
    token: Hex;
    amount: string;
    /** What the seller is paid at release: amount × sellerBps / 10,000. */
    sellerPayout: string;
    batchId: Hex;
    deliveryDeadline: number;
    disputeWindow: number;
  } | null;
  escrow: {
    stateAtRecord: OrderState;
    stateNow: OrderState | "none";
    deliveredAt: number | null;
    disputedAt: number | null;
    /** Unix seconds from which anyone can release a delivered order (its dispute window over); null otherwise. */
    releasableFrom: number | null;
  } | null;
  /** The goods' lot and the lots it was split from (nearest first), as the chain records them. */
  lineage: Hex[];
  /** The referenced events that verified, decoded from the chain's own logs, in chain order. */
  events: ChainEvent[];
  /** Events of the order or its goods up to the record's block that the record does not reference. */
  omitted: ChainEvent[];
  /** The seller's reputation at the record's block, from the chain's logs (with `withSellerReputation`); else null. */
  sellerReputation: Reputation | null;
}

const failedShape = (detail: string): TradeRecordVerification => ({
  valid: false,
  checks: [{ check: "shape", ok: false, detail }],
  orderId: null,
  seller: null,
  order: null,
  escrow: null,
  lineage: [],
  events: [],
  omitted: [],
  sellerReputation: null,
});

export async function verifyTradeRecord(input: unknown, chain: TradeRecordChain): Promise<TradeRecordVerification> {
  const parsed = tradeRecordSchema.safeParse(input);
  if (!parsed.success) {
    return failedShape(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(record)"} ${issue.message}`).join("; "));
  }
  const record = parsed.data as TradeRecord;
  const checks: TradeRecordCheck[] = [{ check: "shape", ok: true, detail: "a provena-trade-record/1 document" }];
  const report = (extra: Partial<TradeRecordVerification> = {}): TradeRecordVerification => ({
    valid: checks.every((item) => item.ok),
    checks,
    orderId: record.orderId,
    seller: null,
    order: null,
    escrow: null,
    lineage: [],
    events: [],
    omitted: [],
    sellerReputation: null,
    ...extra,
  });

  const { deployment, provider } = chain;
  const network = await provider.getNetwork();
  const mismatches = [
    record.chainId !== deployment.chainId ? `chain ${record.chainId}, but the trusted deployment is on chain ${deployment.chainId}` : null,
    Number(network.chainId) !== deployment.chainId ? `the node serves chain ${network.chainId}, not ${deployment.chainId}` : null,
    record.escrow !== deployment.escrow.toLowerCase() ? `escrow ${record.escrow}, but Provena's escrow is ${deployment.escrow}` : null,
    record.registry !== deployment.registry.toLowerCase()
      ? `registry ${record.registry}, but Provena's registry is ${deployment.registry}`
      : null,
  ].filter((item): item is string => item !== null);
  checks.push({
    check: "deployment",
    ok: mismatches.length === 0,
    detail: mismatches.length === 0 ? `Provena on chain ${deployment.chainId}` : `the record names ${mismatches.join("; ")}`,
  });
  if (mismatches.length > 0) return report();

  const escrowInterface = new Interface(chain.abis.TradeEscrow);
  let computedOrderId: Hex;
  try {
    computedOrderId = orderIdOfTerms(escrowInterface, record.order);
  } catch (error) {
    checks.push({ check: "order", ok: false, detail: `the order's terms are not an escrow Order: ${(error as Error).message}` });
    return report();
  }
  const terms = orderSummary(record.order);
  if (computedOrderId !== record.orderId) {
    checks.push({ check: "order", ok: false, detail: `the terms hash to order ${computedOrderId}, not ${record.orderId}` });
    return report({ order: terms });
  }

  const signatureCheck = await checkSignature(record, terms.seller, provider);
  checks.push(signatureCheck);

  const decoder = createEventDecoder({
    deployment: { ...deployment, registry: deployment.registry.toLowerCase() as Hex, escrow: deployment.escrow.toLowerCase() as Hex },
    abis: chain.abis,
  });
  const blockHashes = new Map<number, { hash: Hex; timestamp: number } | null>();
  const canonicalBlock = async (blockNumber: number) => {
    if (!blockHashes.has(blockNumber)) {
      const block = await provider.getBlock(blockNumber);
      blockHashes.set(blockNumber, block?.hash ? { hash: block.hash.toLowerCase() as Hex, timestamp: block.timestamp } : null);
    }
    return blockHashes.get(blockNumber)!;
  };

  const asOfBlock = await canonicalBlock(record.asOf.blockNumber);
  const blockCanonical = asOfBlock !== null && asOfBlock.hash === record.asOf.blockHash;
  checks.push({
    check: "block",
    ok: blockCanonical,
    detail: blockCanonical
      ? `block ${record.asOf.blockNumber} is on the canonical chain`
      : asOfBlock === null
        ? `the node has no block ${record.asOf.blockNumber}`
        : `block ${record.asOf.blockNumber} is now ${asOfBlock.hash}, not ${record.asOf.blockHash} (the chain reorganised)`,
  });
  if (!blockCanonical) return report({ seller: terms.seller, order: terms });

  const relevantLogs = await logsOfOrderAndGoods(chain, record.orderId, terms.batchId, record.asOf.blockNumber);
  const relevantById = new Map(relevantLogs.logs.map((log) => [refKey(log.transactionHash, log.index), log]));

  const referenced: ChainEvent[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const ref of record.events) {
    const key = refKey(ref.transactionHash, ref.logIndex);
    if (seen.has(key)) {
      problems.push(`${describeRef(ref)} is listed twice`);
      continue;
    }
    seen.add(key);
    const problem = await checkReference(ref, relevantById, provider, canonicalBlock, record.asOf.blockNumber);
    if (typeof problem === "string") problems.push(problem);
    else referenced.push(decoder.decode(problem.log, problem.timestamp));
  }
  const opened = referenced.some((event) => event.name === "OrderOpened" && event.args.orderId === record.orderId);
  if (!opened) problems.push(`no referenced OrderOpened event of order ${record.orderId}`);
  checks.push({
    check: "events",
    ok: problems.length === 0,
    detail: problems.length === 0 ? `all ${referenced.length} referenced events are on chain as claimed` : problems.join("; "),
  });

  const omittedLogs = relevantLogs.logs.filter((log) => !seen.has(refKey(log.transactionHash, log.index)));
  const omitted: ChainEvent[] = [];
  for (const log of omittedLogs) omitted.push(decoder.decode(log, (await canonicalBlock(log.blockNumber))?.timestamp ?? 0));
  checks.push({
    check: "completeness",
    ok: omitted.length === 0,
    detail:
      omitted.length === 0
        ? `no event of the order or of its ${relevantLogs.lineage.length} lot(s) is left out`
        : `the record leaves out ${omitted.length} event(s): ${omitted.map((event) => `${event.name} (block ${event.blockNumber})`).join(", ")}`,
  });

  const escrow = new Contract(deployment.escrow, escrowInterface, provider);
  const orderTuple = record.order;
  let stateAtRecord: OrderState | "none" | null;
  try {
    const [state] = (await escrow.getFunction("orderState").staticCall(orderTuple, { blockTag: record.asOf.blockNumber })) as [bigint];
    stateAtRecord = ORDER_STATES[Number(state)] ?? null;
  } catch {
    stateAtRecord = null;
  }
  checks.push({
    check: "escrow-state",
    ok: stateAtRecord === record.escrowState,
    detail:
      stateAtRecord === null
        ? `the node cannot answer the escrow's state at block ${record.asOf.blockNumber} (an archive node can)`
        : stateAtRecord === record.escrowState
          ? `the escrow held the order as ${stateAtRecord} at block ${record.asOf.blockNumber}`
          : `the record claims ${record.escrowState}, but the escrow held the order as ${stateAtRecord} at block ${record.asOf.blockNumber}`,
  });

  const [stateNow, deliveredAt, disputedAt] = (await escrow.getFunction("orderState").staticCall(orderTuple)) as [bigint, bigint, bigint];
  const nowName = ORDER_STATES[Number(stateNow)] ?? "none";
  let sellerReputation: Reputation | null = null;
  if (chain.withSellerReputation) {
    const entries = await readChainLogs(provider, deployment, deployment.deployBlock, record.asOf.blockNumber, chain.logRange);
    const { facts } = foldChainFacts(deployment.chainId, entries, record.asOf.blockNumber);
    sellerReputation = computeReputation(terms.seller, facts, {
      chainId: deployment.chainId,
      blockNumber: record.asOf.blockNumber,
      timestamp: asOfBlock.timestamp,
    });
  }
  const delivered = Number(deliveredAt) || null;
  return report({
    seller: terms.seller,
    order: terms,
    escrow: {
      stateAtRecord: record.escrowState,
      stateNow: nowName,
      deliveredAt: delivered,
      disputedAt: Number(disputedAt) || null,
      releasableFrom: nowName === "delivered" && delivered !== null ? delivered + terms.disputeWindow : null,
    },
    lineage: relevantLogs.lineage,
    events: referenced.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    omitted,
    sellerReputation,
  });
}

function orderSummary(order: OrderTermsJson): NonNullable<TradeRecordVerification["order"]> {
  const text = (name: string) => String(order[name] ?? "").toLowerCase() as Hex;
  const amount = BigInt(order.amount ?? 0);
  return {
    buyer: text("buyer"),
    seller: text("seller"),
    carrier: text("carrier"),
    token: text("token"),
    amount: amount.toString(),
    sellerPayout: ((amount * BigInt(order.sellerBps ?? 0)) / 10_000n).toString(),
    batchId: text("batchId"),
    deliveryDeadline: Number(order.deliveryDeadline ?? 0),
    disputeWindow: Number(order.disputeWindow ?? 0),
  };
}

async function checkSignature(record: TradeRecord, seller: Hex, provider: Provider): Promise<TradeRecordCheck> {
  const typed = tradeRecordTypedData(record);
  const code = await provider.getCode(seller);
  if (code !== "0x") {
    const digest = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
    try {
      const answer = await provider.call({ to: seller, data: ERC1271.encodeFunctionData("isValidSignature", [digest, record.signature]) });
      const magic = ERC1271.decodeFunctionResult("isValidSignature", answer)[0] as string;
      const ok = magic.toLowerCase() === ERC1271_MAGIC_VALUE;
      return {
        check: "signature",
        ok,
        detail: ok
          ? `the seller's wallet ${seller} accepts the signature (ERC-1271)`
          : `the seller's wallet ${seller} rejects the signature`,
      };
    } catch {
      return { check: "signature", ok: false, detail: `the seller's wallet ${seller} rejects the signature` };
    }
  }
  try {
    const signer = verifyTypedData(typed.domain, typed.types, typed.message, record.signature).toLowerCase();
    const ok = signer === seller;
    return {
      check: "signature",
      ok,
      detail: ok ? `signed by the order's seller ${seller}` : `signed by ${signer}, not by the order's seller ${seller}`,
    };
  } catch (error) {
    return { check: "signature", ok: false, detail: `not a valid signature (${(error as Error).message.split(" (")[0]})` };
  }
}

type ReferenceOutcome = string | { log: Log; timestamp: number };

async function checkReference(
  ref: TradeRecordEventRef,
  relevant: Map<string, Log>,
  provider: Provider,
  canonicalBlock: (blockNumber: number) => Promise<{ hash: Hex; timestamp: number } | null>,
  asOfBlock: number,
): Promise<ReferenceOutcome> {
  const known = relevant.get(refKey(ref.transactionHash, ref.logIndex));
  if (known !== undefined) {
    const block = await canonicalBlock(known.blockNumber);
    return block === null ? `${describeRef(ref)} is in no canonical block` : { log: known, timestamp: block.timestamp };
  }
  // Not among the order's and its goods' events: say exactly why.
  const receipt = await provider.getTransactionReceipt(ref.transactionHash);
  if (receipt === null) return `${describeRef(ref)}: no such transaction on this chain`;
  const log = receipt.logs.find((candidate) => candidate.index === ref.logIndex);
  if (log === undefined) return `${describeRef(ref)}: the transaction has no log ${ref.logIndex}`;
  if (receipt.blockNumber > asOfBlock) return `${describeRef(ref)} is after the record's block ${asOfBlock}`;
  return `${describeRef(ref)} is not an event of this order or its goods`;
}

const refKey = (transactionHash: string, logIndex: number) => `${transactionHash.toLowerCase()}:${logIndex}`;
const describeRef = (ref: TradeRecordEventRef) => `event ${ref.transactionHash}#${ref.logIndex}`;

/**
 * Every escrow log of the order and every registry log of its goods' lineage in [deployBlock, asOfBlock]: the
 * lots are found by walking BatchSplit logs (topic 2 is the child, topic 1 the parent) up from the order's batch.
 */
async function logsOfOrderAndGoods(
  chain: TradeRecordChain,
  orderId: Hex,
  batchId: Hex,
  asOfBlock: number,
): Promise<{ logs: Log[]; lineage: Hex[] }> {
  const registry = new Interface(chain.abis.ProvenanceRegistry);
  const splitTopic = registry.getEvent("BatchSplit")!.topicHash;
  const { registry: registryAddress, escrow: escrowAddress, deployBlock } = chain.deployment;
  const getLogs = (address: string, topics: (string | null)[]) =>
    logsInRanges(chain.provider, { address: getAddress(address), topics }, deployBlock, asOfBlock, chain.logRange ?? 100_000);

  const lineage: Hex[] = [];
  let current: Hex | null = isHexString(batchId, 32) ? batchId : null;
  while (current !== null && lineage.length < MAX_LINEAGE_DEPTH && !lineage.includes(current)) {
    lineage.push(current);
    const splits = await getLogs(registryAddress, [splitTopic, null, current]);
    current = splits.length === 0 ? null : (splits[0]!.topics[1]!.toLowerCase() as Hex);
  }
  const logs: Log[] = [...(await getLogs(escrowAddress, [null, orderId]))];
  for (const lot of lineage) logs.push(...(await getLogs(registryAddress, [null, lot])));
  const unique = new Map(logs.map((log) => [refKey(log.transactionHash, log.index), log]));
  return {
    logs: [...unique.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index),
    lineage,
  };
}
