/**
 * The passport of a batch or unit: everything a consumer sees after scanning, assembled from the mirror store
 * only (batch projection, lineage, participants, serial set, scans, claims). Routes render it as HTML or JSON-LD;
 * the page's script and scripts/verify.ts check it against the chain.
 *
 * History entries carry the registry event they come from (name, block, log index, transaction) with the event's
 * arguments under the contract's own names, so a verifier can compare them with the chain's logs field by field.
 */
import { createHash } from "node:crypto";
import { isAddress } from "ethers";
import { conflict, notFound } from "../domain/errors.ts";
import type { MirrorStore } from "../store/port.ts";
import type { ScanStats, UnitClaim } from "../domain/model.ts";
import type { Batch, EventRef, Hex, Participant } from "../domain/model.ts";
import { buildDigitalLink, digitalLinkPath, type DigitalLink } from "./digital-link.ts";
import type { SerialService } from "./serials.ts";

/** When a unit's scan pattern suggests its code was copied onto other packages. */
export interface CloneThresholds {
  /** Warn when a unit has been scanned more than this many times in total. */
  maxScans: number;
  /** Warn when it was scanned more than this many times within `recentWindowMs`. */
  maxRecentScans: number;
  recentWindowMs: number;
  /** Warn when it was scanned from more than this many distinct regions (countries). */
  maxRegions: number;
}

export const DEFAULT_CLONE_THRESHOLDS: CloneThresholds = {
  maxScans: 100,
  maxRecentScans: 25,
  recentWindowMs: 24 * 60 * 60 * 1000,
  maxRegions: 3,
};

export interface PassportConfig {
  /** Public origin (and optional path prefix) of Digital Links, no trailing slash. */
  publicBaseUrl: string;
  /** Read-only JSON-RPC URL browsers verify against. */
  publicRpcUrl: string;
  chainId: number;
  registryAddress: Hex;
  /** Block of the deployment; verifiers read participant logs from here. */
  deployBlock?: number;
  thresholds?: Partial<CloneThresholds>;
}

export type HistoryKind = "registered" | "split_from" | "custody" | "inspection" | "split_into" | "recalled";

export interface HistoryEntry {
  kind: HistoryKind;
  /** Human label, e.g. "Custody accepted". */
  label: string;
  /** The registry event this entry is, with its arguments by the contract's names. */
  event: string;
  args: Record<string, string | number | boolean | null>;
  eventId: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: Hex;
  timestamp: number;
}

export interface UnitView {
  serial: string;
  /** null when the batch's serial list was never uploaded (membership cannot be proven). */
  proof: Hex[] | null;
  claim: UnitClaim | null;
  scans: ScanStats;
  /** Reasons the code may be cloned; empty when the scan pattern looks genuine. */
  cloneWarnings: string[];
}

export interface PassportView {
  link: DigitalLink;
  /** Canonical Digital Link of what was scanned (unit or batch) and of its batch. */
  uri: string;
  batchUri: string;
  batch: Batch;
  /** Parent, grandparent, ... (nearest first). */
  ancestors: Batch[];
  /**
   * The custody steps and inspections of each ancestor (same order as `ancestors`), in chain order: the journey
   * before the split. Never the ancestor's splits into other lots, which are not this product's history.
   */
  ancestorHistory: HistoryEntry[][];
  children: Batch[];
  history: HistoryEntry[];
  /** The recall that applies: the batch's own, else the nearest recalled ancestor's. */
  recall: { batch: Batch; entry: HistoryEntry; inherited: boolean } | null;
  participants: Map<Hex, Participant>;
  manufacturer: { address: Hex; participant: Participant | null; verified: boolean };
  unit: UnitView | null;
  verification: { chainId: number; registry: Hex; rpcUrl: string; deployBlock: number; asOfBlock: number | null };
  generatedAt: number;
}

export interface ScanContext {
  /** Coarse region (ISO country code or "unknown"); never an IP address. */
  region: string;
  /** False for requests that are not a person looking (JSON clients, prefetches, the claim confirmation). */
  countAsScan: boolean;
}

export interface PassportService {
  /** The passport behind a Digital Link; records the scan first when `scan.countAsScan`. Throws 404 problems. */
  resolve(link: DigitalLink, scan: ScanContext): Promise<PassportView>;
  /** First claim wins; `owner` is an address or a handle (stored only as its SHA-256). */
  claimUnit(batchId: Hex, serial: string, owner: string): Promise<{ claim: UnitClaim; created: boolean }>;
  /** The canonical Digital Link of a batch (and unit), for QR codes. */
  linkFor(batch: Batch, serial?: string | null): string;
}

const MAX_LINEAGE_DEPTH = 64;

export interface PassportServiceDeps {
  store: MirrorStore;
  serials: SerialService;
  config: PassportConfig;
  now?: () => number;
}

export function createPassportService({ store, serials, config, now = Date.now }: PassportServiceDeps): PassportService {
  const thresholds: CloneThresholds = { ...DEFAULT_CLONE_THRESHOLDS, ...config.thresholds };

  async function loadBatch(link: DigitalLink): Promise<Batch> {
    const batch = (await store.getBatch(link.batchId)) ?? (await store.findBatchByGtinLot(link.gtin, link.lot));
    if (!batch) {
      throw notFound(`No batch with GTIN ${link.gtin} and lot "${link.lot}" is registered (or it is not indexed yet)`, {
        reason: "unknown-batch",
      });
    }
    return batch;
  }

  async function ancestorsOf(batch: Batch): Promise<Batch[]> {
    const ancestors: Batch[] = [];
    const seen = new Set<Hex>([batch.batchId]);
    for (let parentId = batch.parentId; parentId !== null && ancestors.length < MAX_LINEAGE_DEPTH; ) {
      if (seen.has(parentId)) break;
      seen.add(parentId);
      const parent = await store.getBatch(parentId);
      if (!parent) break;
      ancestors.push(parent);
      parentId = parent.parentId;
    }
    return ancestors;
  }

  function cloneWarnings(stats: ScanStats): string[] {
    const warnings: string[] = [];
    if (stats.total > thresholds.maxScans) {
      warnings.push(`This code has been scanned ${stats.total} times; a genuine item is rarely scanned more than ${thresholds.maxScans} times.`);
    }
    if (stats.recent > thresholds.maxRecentScans) {
      const hours = Math.round(thresholds.recentWindowMs / 3_600_000);
      warnings.push(`It was scanned ${stats.recent} times in the last ${hours} hour${hours === 1 ? "" : "s"}.`);
    }
    const regions = stats.regions.filter((region) => region !== "unknown");
    if (regions.length > thresholds.maxRegions) {
      warnings.push(`It was scanned in ${regions.length} different countries (${regions.slice(0, 6).join(", ")}${regions.length > 6 ? ", …" : ""}).`);
    }
    return warnings;
  }

  return {
    linkFor: (batch, serial = null) => buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot, serial),

    async resolve(link, scan) {
      const batch = await loadBatch(link);
      let proof: Hex[] | null = null;
      if (link.serial !== null) {
        const membership = await serials.proveSerial(batch.serialRoot, link.serial);
        if (membership) proof = membership.proof;
        else if ((await serials.hasSerial(batch.serialRoot, link.serial)) === false) {
          throw notFound(
            `Serial "${link.serial}" is not one of the units registered for GTIN ${link.gtin} lot "${link.lot}". The code may be counterfeit.`,
            { reason: "unknown-serial" },
          );
        }
      }
      if (scan.countAsScan) {
        await store.recordScan({ batchId: batch.batchId, serial: link.serial, at: now(), region: scan.region });
      }

      const [ancestors, children, checkpoint] = await Promise.all([
        ancestorsOf(batch),
        batch.childIds.length > 0 ? store.getBatches(batch.childIds) : Promise.resolve([]),
        store.getCheckpoint(config.chainId),
      ]);
      const parent = ancestors[0] ?? null;
      const history = historyOf(batch, parent, children);
      const ancestorHistory = ancestors.map(journeyBeforeSplit);

      let recall: PassportView["recall"] = null;
      for (const candidate of [batch, ...ancestors]) {
        if (candidate.recall) {
          recall = { batch: candidate, entry: recallEntry(candidate), inherited: candidate !== batch };
          break;
        }
      }

      const addresses = new Set<Hex>();
      if (batch.pendingCustodian) addresses.add(batch.pendingCustodian);
      for (const b of [batch, ...ancestors]) {
        addresses.add(b.manufacturer).add(b.custodian);
        for (const step of b.custody) addresses.add(step.from).add(step.to);
        for (const inspection of b.inspections) addresses.add(inspection.inspector);
        if (b.recall) addresses.add(b.recall.by);
      }
      const participants = new Map((await store.getParticipants([...addresses])).map((p) => [p.address, p]));
      const manufacturer = participants.get(batch.manufacturer) ?? null;

      let unit: UnitView | null = null;
      if (link.serial !== null) {
        const [claim, scans] = await Promise.all([
          store.getUnitClaim(batch.batchId, link.serial),
          store.scanStats(batch.batchId, link.serial, now() - thresholds.recentWindowMs),
        ]);
        unit = { serial: link.serial, proof, claim, scans, cloneWarnings: cloneWarnings(scans) };
      }

      return {
        link,
        uri: buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot, link.serial),
        batchUri: buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot),
        batch,
        ancestors,
        ancestorHistory,
        children,
        history,
        recall,
        participants,
        manufacturer: {
          address: batch.manufacturer,
          participant: manufacturer,
          verified: manufacturer !== null && !manufacturer.suspended && manufacturer.roles.includes("MANUFACTURER"),
        },
        unit,
        verification: {
          chainId: config.chainId,
          registry: config.registryAddress.toLowerCase() as Hex,
          rpcUrl: config.publicRpcUrl,
          deployBlock: config.deployBlock ?? 0,
          asOfBlock: checkpoint?.blockNumber ?? null,
        },
        generatedAt: now(),
      };
    },

    async claimUnit(batchId, serial, owner) {
      const batch = await store.getBatch(batchId);
      if (!batch) throw notFound(`No batch ${batchId} is registered`);
      const member = await serials.hasSerial(batch.serialRoot, serial);
      if (member === null) throw conflict("The serial list of this batch is not published, so its units cannot be claimed");
      if (!member) throw notFound(`Serial "${serial}" is not one of the units of batch ${batchId}`);
      const ownerKey = ownerHandleKey(owner);
      const claimedAt = now();
      const claim = await store.claimUnit({ batchId: batch.batchId, serial, owner: ownerKey, claimedAt });
      if (claim.owner !== ownerKey) {
        throw conflict(`This unit was already claimed on ${new Date(claim.claimedAt).toISOString().slice(0, 10)}; the first claim stands`, {
          claimedAt: claim.claimedAt,
        });
      }
      // The store returns the claim in force: ours (just created) or the same owner's earlier one.
      return { claim, created: claim.claimedAt === claimedAt };
    },
  };
}

/**
 * What is stored for a claimant: an Ethereum address as is (lower-case), anything else only as its SHA-256, so a
 * handle that happens to be personal data (an e-mail address) is never stored, yet the same handle matches again.
 */
export function ownerHandleKey(owner: string): string {
  const trimmed = owner.trim();
  if (isAddress(trimmed)) return trimmed.toLowerCase();
  return `sha256:${createHash("sha256").update(trimmed, "utf8").digest("hex")}`;
}

export function logIndexOf(ref: EventRef): number {
  return Number(ref.eventId.split(":").at(-1));
}

function entry(kind: HistoryKind, label: string, event: string, ref: EventRef, args: HistoryEntry["args"]): HistoryEntry {
  return {
    kind,
    label,
    event,
    args,
    eventId: ref.eventId,
    blockNumber: ref.blockNumber,
    logIndex: logIndexOf(ref),
    transactionHash: ref.transactionHash,
    timestamp: ref.blockTimestamp,
  };
}

/** How a batch came to exist: its BatchRegistered event, or the BatchSplit that created it from `parent`. */
export function registrationEntry(batch: Batch, parent: Batch | null): HistoryEntry {
  if (batch.parentId !== null) {
    return entry("split_from", `Split from lot ${parent?.lot ?? batch.parentId}`, "BatchSplit", batch.registered, {
      parentId: batch.parentId,
      childId: batch.batchId,
      // The splitter was the parent's custodian, and a split parent never moves again.
      ...(parent ? { custodian: parent.custodian } : {}),
      lot: batch.lot,
      quantity: batch.quantity,
      serialRoot: batch.serialRoot,
    });
  }
  return entry("registered", "Registered by the manufacturer", "BatchRegistered", batch.registered, {
    batchId: batch.batchId,
    manufacturer: batch.manufacturer,
    gtin: batch.gtin,
    lot: batch.lot,
    quantity: batch.quantity,
    productionDate: batch.productionDate,
    originGln: batch.originGln,
    documentHash: batch.documentHash,
    serialRoot: batch.serialRoot,
  });
}

export function recallEntry(batch: Batch): HistoryEntry {
  const recall = batch.recall!;
  return entry("recalled", "Recalled", "BatchRecalled", recall.at, { batchId: batch.batchId, recalledBy: recall.by, reasonHash: recall.reasonHash });
}

const CUSTODY_EVENTS = {
  proposed: ["HandoffProposed", "Handoff proposed"],
  accepted: ["HandoffAccepted", "Custody accepted"],
  rejected: ["HandoffRejected", "Handoff rejected"],
  cancelled: ["HandoffCancelled", "Handoff cancelled"],
} as const;

/** The batch's own events, in chain order. */
export function historyOf(batch: Batch, parent: Batch | null, children: Batch[]): HistoryEntry[] {
  const entries: HistoryEntry[] = [registrationEntry(batch, parent), ...custodyAndInspections(batch)];
  for (const child of children) {
    entries.push(
      entry("split_into", `Split into lot ${child.lot}`, "BatchSplit", child.registered, {
        parentId: batch.batchId,
        childId: child.batchId,
        custodian: batch.custodian,
        lot: child.lot,
        quantity: child.quantity,
        serialRoot: child.serialRoot,
      }),
    );
  }
  if (batch.recall) entries.push(recallEntry(batch));
  return entries.sort(byChainOrder);
}

/**
 * An ancestor's custody steps and inspections, in chain order: all of them happened before its split, because the
 * registry neither moves nor inspects a split batch (its recall is shown apart, as the recall that applies).
 */
export function journeyBeforeSplit(ancestor: Batch): HistoryEntry[] {
  return custodyAndInspections(ancestor).sort(byChainOrder);
}

function custodyAndInspections(batch: Batch): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const step of batch.custody) {
    const [event, label] = CUSTODY_EVENTS[step.kind];
    const args: HistoryEntry["args"] = { batchId: batch.batchId, from: step.from, to: step.to };
    if (step.kind === "proposed" || step.kind === "accepted") {
      args.locationGln = step.locationGln;
      args.businessStep = step.businessStep;
    }
    if (step.kind === "rejected") args.reasonHash = step.reasonHash;
    entries.push(entry("custody", label, event, step.at, args));
  }
  for (const inspection of batch.inspections) {
    entries.push(
      entry("inspection", inspection.passed ? "Inspection passed" : "Inspection failed", "QualityAttested", inspection.at, {
        batchId: batch.batchId,
        inspector: inspection.inspector,
        passed: inspection.passed,
        reportHash: inspection.reportHash,
      }),
    );
  }
  return entries;
}

/** Event ids sort in chain order (block, then log index). */
function byChainOrder(a: HistoryEntry, b: HistoryEntry): number {
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

export { digitalLinkPath };
