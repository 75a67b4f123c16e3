/**
 * Unit ownership: the manufacturers' claim trees, the gasless claim relay, and what the mirror knows of a unit's token.
 *
 * The claim relay never sees a claim secret: the shopper's page (or CLI) signs the EIP-712 claim with it and sends
 * {unit, recipient, signature}. Everything the contract will check is checked here BEFORE anything is queued, so a
 * bogus claim costs the relayer no gas: the unit and its registered batch, the committed claim root and its uploaded
 * tree (which names the unit's claim key and proof), the signature against that key, the serial's proof, the token
 * not yet minted, and finally a simulation of the exact call from the relayer's account. Then the claim becomes one
 * relayer job (a direct transaction, not a forwarded request) whose id is derived from the token, so replays and
 * floods for one unit can never queue a second transaction.
 *
 * Who could abuse it: a third party without the secret cannot produce the signature (422, nothing queued); someone
 * copying a pending claim can only mint to the same recipient (the signature binds it); one client posting many
 * claims is rate limited at the route, and each unit has at most one job; a compromised server can refuse claims,
 * but cannot redirect one (it never holds a secret) or mint a unit whose key is not in the committed root.
 */
import { Interface, ZeroAddress, isAddress, keccak256, solidityPacked, type InterfaceAbi, type Provider } from "ethers";
import { loadUnitOwnershipAbi } from "../chain/artifacts.ts";
import { NEXT_BLOCK } from "../chain/chain-access.ts";
import { extractRevertData } from "../chain/revert-reason.ts";
import { recoverUnitClaimKey, unitTokenId } from "../chain/unit-claim.ts";
import { conflict, invalidInput, notFound, rejected } from "../domain/errors.ts";
import type { Batch, ClaimRoot, Hex, JsonValue, RelayRequest, UnitToken } from "../domain/model.ts";
import { queuedRelayRequest, requeuedRelayFields } from "../relayer/queued-request.ts";
import { createKeyedQueue } from "../relayer/relay-service.ts";
import type { ProjectionReads, RelayQueue, UnitOwnershipRecords } from "../store/port.ts";
import { claimTreeHeader, loadClaimTree, type ClaimTreeIndex } from "./claim-tree.ts";

/** The relayer job kind of a claim: a direct call of UnitOwnership.claim from the relayer's account. */
export const OWNERSHIP_CLAIM_JOB = "ownership-claim";

/** Lineage deeper than this is refused rather than walked (splits of splits). */
const MAX_LINEAGE = 64;

export interface OwnershipServiceOptions {
  store: ProjectionReads & UnitOwnershipRecords & RelayQueue;
  /** Proofs of unit serials under a batch's serial root (backend/passport/serials.ts). */
  serials: { proveSerial(serialRoot: Hex, serial: string): Promise<{ proof: Hex[] } | null> };
  chain: { provider: Pick<Provider, "call">; chainId: number; unitOwnership: Hex };
  /** The relayer's account: the simulation runs from it, as the real transaction will. */
  relayerAddress: Hex;
  abi?: InterfaceAbi;
  now?: () => number;
}

/** A unit named by its batch (any lot of its lineage) or by GTIN and lot. */
export type UnitReference = { batchId: Hex; serial: string } | { gtin: string; lot: string; serial: string };

export interface ClaimInput {
  unit: UnitReference;
  recipient: string;
  signature: string;
  /** Where the claim comes from (a country code, as scans keep it; "unknown" when not known). */
  region?: string;
}

export interface ClaimResult {
  tokenId: string;
  /** The registered batch the token belongs to (a split child's unit maps to its registered ancestor). */
  batchId: Hex;
  serial: string;
  recipient: Hex;
  job: RelayRequest;
  /** False when the same claim was already queued (a replay): the answer is the existing job. */
  created: boolean;
}

/** What the mirror knows of a unit's ownership. */
export interface UnitOwnership {
  tokenId: string;
  /** The batch the unit was asked for, and the registered batch its token belongs to. */
  batch: Batch;
  registeredBatch: Batch;
  serial: string;
  token: UnitToken | null;
  claimRoot: ClaimRoot | null;
}

export interface OwnershipService {
  readonly chainId: number;
  readonly contract: Hex;
  /** Stores a manufacturer's claim tree after checking its root is the one committed for the batch. */
  uploadClaimTree(batchId: Hex, dump: unknown): Promise<{ batchId: Hex; claimRoot: Hex; units: number; created: boolean }>;
  /** Checks a signed claim completely and queues it for the relayer; the same claim again returns the same job. */
  claim(input: ClaimInput): Promise<ClaimResult>;
  /** The unit's token as mirrored (null when not claimed yet). */
  unitOwnership(unit: UnitReference): Promise<UnitOwnership>;
  getToken(tokenId: string): Promise<UnitToken | null>;
  /** The relayer job id of a unit's claim (one per token). */
  claimJobId(tokenId: string): Hex;
}

/** Revert reasons of claim() that mean "this unit cannot be claimed any more" rather than "this claim is wrong". */
const CONFLICT_ERRORS = new Set(["UnitAlreadyClaimed", "ClaimRootMissing"]);

export function createOwnershipService(options: OwnershipServiceOptions): OwnershipService {
  const { store, serials, chain, now = Date.now } = options;
  const ownership = new Interface(options.abi ?? (loadUnitOwnershipAbi() as InterfaceAbi));
  const contract = chain.unitOwnership.toLowerCase() as Hex;
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const inTurnPerToken = createKeyedQueue();
  const trees = new Map<Hex, ClaimTreeIndex>();

  async function batchOf(unit: UnitReference): Promise<Batch> {
    const batch = "batchId" in unit ? await store.getBatch(unit.batchId) : await store.findBatchByGtinLot(unit.gtin, unit.lot);
    if (!batch)
      throw notFound(
        `No batch ${"batchId" in unit ? unit.batchId : `with GTIN ${unit.gtin} and lot "${unit.lot}"`} is registered (or it is not indexed yet)`,
      );
    return batch;
  }

  /** The registered batch of a lot: itself, or the ancestor a split chain started from (it holds the serial root). */
  async function registeredBatchOf(batch: Batch): Promise<Batch> {
    let current = batch;
    for (let depth = 0; current.parentId !== null; depth++) {
      if (depth >= MAX_LINEAGE) throw rejected(`Batch ${batch.batchId} descends from more than ${MAX_LINEAGE} splits`);
      const parent = await store.getBatch(current.parentId);
      if (!parent) throw notFound(`The parent ${current.parentId} of batch ${current.batchId} is not indexed yet`);
      current = parent;
    }
    return current;
  }

  async function claimTreeOf(claimRoot: Hex): Promise<ClaimTreeIndex | null> {
    const cached = trees.get(claimRoot);
    if (cached) return cached;
    const stored = await store.getClaimTree(claimRoot);
    if (!stored) return null;
    // Checked when it was uploaded; a tampered store would only make the simulation refuse (no gas spent).
    const tree = loadClaimTree(stored.dump, { validate: false });
    if (tree.root !== claimRoot) throw new Error(`Stored claim tree ${claimRoot} rebuilds to ${tree.root}: the stored tree is corrupt`);
    if (trees.size >= 16) trees.delete(trees.keys().next().value!);
    trees.set(claimRoot, tree);
    return tree;
  }

  const claimJobId = (tokenId: string): Hex =>
    keccak256(solidityPacked(["string", "uint256", "uint256"], [OWNERSHIP_CLAIM_JOB, chain.chainId, BigInt(tokenId)])) as Hex;

  /** Why the exact call would revert now, as a DomainError; null when it would succeed. */
  async function simulate(data: Hex): Promise<Error | null> {
    try {
      await chain.provider.call({ from: relayerAddress, to: contract, data, blockTag: NEXT_BLOCK });
      return null;
    } catch (error) {
      const revert = extractRevertData(error);
      const parsed = revert === null ? null : safeParseError(ownership, revert);
      if (parsed === null) return rejected(`The ownership contract refuses the claim: ${(error as Error).message.split("\n")[0]}`);
      const details = { error: parsed.name, args: parsed.args.map((value: unknown) => String(value)) };
      return CONFLICT_ERRORS.has(parsed.name)
        ? conflict(`The ownership contract refuses the claim: ${parsed.name}`, details)
        : rejected(`The ownership contract refuses the claim: ${parsed.name}`, details);
    }
  }

  async function claimInTurn(
    input: ClaimInput,
    unit: { registered: Batch; serial: string; tokenId: string; recipient: Hex },
  ): Promise<ClaimResult> {
    const { registered, serial, tokenId, recipient } = unit;
    const signature = input.signature.toLowerCase();
    const id = claimJobId(tokenId);
    const result = (job: RelayRequest, created: boolean): ClaimResult => ({
      tokenId,
      batchId: registered.batchId,
      serial,
      recipient,
      job,
      created,
    });

    const claimRoot = await store.getClaimRoot(registered.batchId);
    if (!claimRoot)
      throw conflict(
        `The manufacturer has not committed the claim keys of batch ${registered.batchId}, so its units cannot be claimed yet`,
      );
    const tree = await claimTreeOf(claimRoot.claimRoot);
    if (!tree) throw conflict(`The claim tree of batch ${registered.batchId} (root ${claimRoot.claimRoot}) is not uploaded yet`);
    const leaf = tree.leafOf(serial);
    if (!leaf) throw notFound(`Serial "${serial}" has no claim key in batch ${registered.batchId}`);
    const signer = recoverUnitClaimKey(signature, { chainId: chain.chainId, address: contract }, { tokenId: BigInt(tokenId), recipient });
    if (signer !== leaf.claimKey) {
      throw rejected(
        "The signature is not the unit's claim key signing this claim: check the secret printed in the packaging and the recipient",
        {
          reason: "claim-signature-invalid",
        },
      );
    }
    const data = ownership.encodeFunctionData("claim", [
      registered.batchId,
      serial,
      leaf.claimKey,
      await serialProofOf(registered, serial),
      leaf.proof,
      recipient,
      signature,
    ]) as Hex;

    const existing = await store.getRelay(id);
    if (existing && existing.status !== "failed") {
      if (existing.data === data) return result(existing, false);
      throw conflict(`A claim of this unit is already ${existing.status === "mined" ? "mined" : "on its way"}; the first claim stands`, {
        reason: "unit-already-claimed",
      });
    }
    const token = await store.getUnitToken(tokenId);
    if (token)
      throw conflict(`This unit was already claimed on ${new Date(token.claimedAt * 1000).toISOString().slice(0, 10)}`, {
        reason: "unit-already-claimed",
      });
    const refusal = await simulate(data);
    if (refusal) throw refusal;

    const job = {
      id,
      chainId: chain.chainId,
      from: relayerAddress,
      to: contract,
      value: "0",
      gas: "0",
      nonce: "0",
      deadline: 0,
      data,
      signature: "0x" as Hex,
    };
    if (existing) {
      // The earlier try failed on chain (e.g. it raced another claim that has since been undone): try this one.
      const requeued = await store.updateRelay(id, "failed", { ...requeuedRelayFields(now()), data });
      const stored = await store.getRelay(id);
      if (!requeued || !stored) throw conflict("Another claim of this unit was queued at the same moment; the first claim stands");
      return result(stored, true);
    }
    const { request, created } = await store.enqueueRelay(queuedRelayRequest({ ...job, kind: OWNERSHIP_CLAIM_JOB }, now()));
    if (!created && request.data !== data)
      throw conflict("Another claim of this unit was queued at the same moment; the first claim stands");
    return result(request, created);
  }

  async function serialProofOf(registered: Batch, serial: string): Promise<Hex[]> {
    const proof = await serials.proveSerial(registered.serialRoot, serial);
    if (!proof)
      throw notFound(`Serial "${serial}" is not a registered unit of batch ${registered.batchId} (or its serial list is not uploaded)`);
    return proof.proof;
  }

  async function resolveUnit(unit: UnitReference) {
    const batch = await batchOf(unit);
    const registered = await registeredBatchOf(batch);
    return { batch, registered, tokenId: unitTokenId(registered.batchId, unit.serial).toString() };
  }

  return {
    chainId: chain.chainId,
    contract,
    claimJobId,

    async uploadClaimTree(batchId, dump) {
      // The cheap checks first (shape, root, count against the mirrored commitment); hashing the whole tree last.
      const header = claimTreeHeader(dump);
      const batch = await store.getBatch(batchId);
      if (!batch) throw notFound(`No batch ${batchId} is registered (or it is not indexed yet)`);
      if (batch.parentId !== null) throw invalidInput(`Batch ${batchId} is a split lot; upload the claim tree of its registered batch`);
      const committed = await store.getClaimRoot(batchId);
      if (!committed) throw conflict(`No claim root is committed for batch ${batchId} yet: commit the tree's root on chain first`);
      if (committed.claimRoot !== header.root) {
        throw rejected(`The tree's root ${header.root} is not the claim root ${committed.claimRoot} committed for batch ${batchId}`, {
          reason: "claim-root-mismatch",
        });
      }
      if (committed.units !== header.units) {
        throw rejected(`The tree has ${header.units} units but ${committed.units} were committed for batch ${batchId}`);
      }
      const existing = await store.getClaimTree(header.root);
      if (existing) return { batchId, claimRoot: header.root, units: header.units, created: false };
      const tree = loadClaimTree(dump);
      if (tree.root !== header.root) throw rejected(`The tree's nodes hash to ${tree.root}, not to the root ${header.root} it names`);
      await store.putClaimTree({ claimRoot: tree.root, dump: dump as JsonValue, createdAt: now() });
      return { batchId, claimRoot: tree.root, units: tree.units, created: true };
    },

    async claim(input) {
      if (!isAddress(input.recipient) || input.recipient.toLowerCase() === ZeroAddress) {
        throw invalidInput(`The recipient ${input.recipient} is not an account address`);
      }
      if (!/^0x[0-9a-fA-F]{130}$/.test(input.signature)) throw invalidInput("The signature must be 65 bytes of hex (0x + 130 digits)");
      const { registered, tokenId } = await resolveUnit(input.unit);
      const recipient = input.recipient.toLowerCase() as Hex;
      const result = await inTurnPerToken(tokenId, () => claimInTurn(input, { registered, serial: input.unit.serial, tokenId, recipient }));
      // Where the unit was claimed: the passport flags scans of a unit still with its claimant from elsewhere.
      if (result.created && input.region !== undefined && input.region !== "unknown") {
        await store.putClaimRegion({ tokenId, region: input.region, at: now() });
      }
      return result;
    },

    async unitOwnership(unit) {
      const { batch, registered, tokenId } = await resolveUnit(unit);
      const [token, claimRoot] = await Promise.all([store.getUnitToken(tokenId), store.getClaimRoot(registered.batchId)]);
      return { tokenId, batch, registeredBatch: registered, serial: unit.serial, token, claimRoot };
    },

    getToken: (tokenId) => store.getUnitToken(tokenId),
  };
}

function safeParseError(iface: Interface, data: string) {
  try {
    return iface.parseError(data);
  } catch {
    return null;
  }
}
