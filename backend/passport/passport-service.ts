/**
 * The passport of a batch or unit (passport-view.ts): everything a consumer sees after scanning, assembled from the
 * mirror store only (the batch's history read model, serial set, scans, claims). Routes render it as HTML or JSON-LD;
 * the page's script and scripts/verify.ts check it against the chain.
 */
import { createHash } from "node:crypto";
import { isAddress } from "ethers";
import { conflict, notFound } from "../domain/errors.ts";
import type { MirrorStore } from "../store/port.ts";
import { packedHoldingsOf } from "../containers/holders.ts";
import { ANONYMOUS, type Viewer } from "../auth/auth-service.ts";
import { createBatchDocumentService, type BatchDocumentService } from "../documents/document-service.ts";
import type { Batch, Checkpoint, Hex, ScanStats, UnitClaim } from "../domain/model.ts";
import { loadBatchHistory, type BatchHistory } from "../read-model/batch-history.ts";
import { createReputationService, type ReputationService } from "../reputation/reputation-service.ts";
import { createProductDataService, type ProductDataService } from "../product-data/product-data-service.ts";
import { FIELD_ACCESS, type AccessLevel, type ProductDataField } from "../product-data/product-data-schema.ts";
import { buildDigitalLink, type DigitalLink, type TrustAnchors } from "./digital-link.ts";
import { historyEntryOf, recallEntry } from "./history-entries.ts";
import { createDesignService } from "../designs/design-service.ts";
import { unitTokenId } from "../chain/unit-claim.ts";
import { loadPassportColdChain } from "./cold-chain-view.ts";
import {
  effectiveInspection,
  type PartnerReputation,
  type PassportColdChain,
  type PassportDesign,
  type PassportDocument,
  type PassportView,
  type PassportViewerSections,
  type PrivateLevel,
  type UnitOwnershipView,
  type UnitView,
} from "./passport-view.ts";
import { createScanDeduper, type ScanDeduper } from "./scan-dedupe.ts";
import { createBoundedMemo } from "./view-cache.ts";
import type { SerialService, UnitProof } from "./serials.ts";

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

/** Unit proofs remembered (a few hundred bytes each). */
const PROOF_MEMO_ENTRIES = 10_000;

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
  /** The ownership tokens' contract (IUnitOwnership); absent in deployments without it. */
  unitOwnership?: Hex;
  /** The cold-chain contract (IColdChain); absent in deployments without it. */
  coldChain?: Hex;
}

export interface ScanContext {
  /** Coarse region (ISO country code or "unknown"); never an IP address. */
  region: string;
  /** False for requests that are not a person looking (JSON clients, prefetches, the claim confirmation). */
  countAsScan: boolean;
  /** Who is looking (the client's address as the app resolves it); only a keyed hash of it is kept, in memory. */
  client: string;
  /** Whether the scan counts, when the caller already asked `countsAsScan` for this batch (it answers once per window). */
  counts?: boolean;
}

/**
 * A passport as resolved for one request: what it depends on, read cheaply, and the view itself, built only on demand
 * (the history, lineage and participants are the expensive part, which a cached rendering skips).
 */
export interface ResolvedPassport {
  batch: Batch;
  /**
   * Every input of the view that can change, as a string: the mirror's checkpoint (read before anything else, so
   * the data the view is built from is at least that new), the batch, whether the unit's serial is proven, its claim
   * and scan statistics. Equal stamps give equal views (apart from `generatedAt`); a newly indexed event, a scan, a
   * claim or a serial-list upload changes it.
   */
  stamp: string;
  view(): Promise<PassportView>;
}

export interface PassportService {
  /** The passport behind a Digital Link; records the scan first when `scan.countAsScan`. Throws "not-found" DomainErrors. */
  resolve(link: DigitalLink, scan: ScanContext): Promise<ResolvedPassport>;
  /**
   * True the first time `client` scans this unit (or batch) in the current window, when its scan is recorded; false
   * for repeats. A caller that asks this itself passes the answer to resolve as `scan.counts`.
   */
  countsAsScan(batchId: Hex, serial: string | null, client: string): Promise<boolean>;
  /** First claim wins; `owner` is an address or a handle (stored only as its SHA-256). */
  claimUnit(batchId: Hex, serial: string, owner: string): Promise<{ claim: UnitClaim; created: boolean }>;
  /** The printed Digital Link of a batch (and unit), for QR codes: the canonical link with its trust anchors. */
  linkFor(batch: Batch, serial?: string | null): string;
  /** A registered batch by id; throws "not-found" when it is unknown (or not indexed yet). */
  getBatch(batchId: Hex): Promise<Batch>;
  /** The printed Digital Link of a unit (with its trust anchors); "not-found" when the batch is unknown or its stored serial list lacks the serial. */
  unitLink(batchId: Hex, serial: string): Promise<string>;
  /** The Merkle proof of a unit serial; "not-found" when the batch, its serial list or the serial is unknown. */
  unitProof(batchId: Hex, serial: string): Promise<{ batch: Batch; proof: UnitProof }>;
  /**
   * What `viewer` may see of the batch beyond its public passport: the partner- and authority-level product data
   * fields and documents, as backend/product-data and backend/documents decide. Null for anyone whose level for
   * this batch is public (anonymous, outside its chain of custody, suspended): they get the public page.
   */
  viewerSections(viewer: Viewer, batch: Batch): Promise<PassportViewerSections | null>;
  /** One page of a batch's serials for a label sheet; "not-found" when the list is not stored or the page does not exist. */
  serialsPage(batchId: Hex, page: number, perPage: number): Promise<SerialsPage>;
}

export interface SerialsPage {
  batch: Batch;
  serials: string[];
  page: number;
  pages: number;
  perPage: number;
  total: number;
}

export interface PassportServiceDeps {
  store: MirrorStore;
  serials: SerialService;
  config: PassportConfig;
  /** Which scans count (an API worker's asks the primary); default: this process's own, over the recent window. */
  scanDeduper?: ScanDeduper;
  /** Partners' track records (default: computed from `store`, kept per participant and indexed block). */
  reputation?: ReputationService;
  /** The product's DPP data and footprint (default: read from `store`). */
  productData?: ProductDataService;
  /** The batch's documents (default: read from `store`); the passport lists the public ones. */
  documents?: BatchDocumentService;
  now?: () => number;
}

export function createPassportService({
  store,
  serials,
  config,
  scanDeduper,
  reputation = createReputationService({ store, chainId: config.chainId }),
  productData = createProductDataService({ store }),
  documents = createBatchDocumentService({ store }),
  now = Date.now,
}: PassportServiceDeps): PassportService {
  const thresholds: CloneThresholds = { ...DEFAULT_CLONE_THRESHOLDS, ...config.thresholds };
  // One client counts once per unit per recent window, so reloading a page cannot make a genuine unit look copied.
  const scansThatCount = scanDeduper ?? createScanDeduper({ windowMs: thresholds.recentWindowMs, now });
  const anchors: TrustAnchors = { chainId: config.chainId, registry: config.registryAddress };
  const designService = createDesignService({ store });

  /** The product's linked designs that have a mirrored registration (a link always has one on chain). */
  async function designsOf(gtin: string): Promise<PassportDesign[]> {
    const { designs } = await designService.linksOf(gtin);
    return designs.flatMap(({ registration }) =>
      registration === null
        ? []
        : [
            {
              registrant: registration.registrant,
              registrantName: registration.registrantName,
              root: registration.root,
              registeredAt: Math.floor(Date.parse(registration.registeredAt) / 1000),
              title: registration.title,
            },
          ],
    );
  }

  async function loadBatch(link: DigitalLink): Promise<Batch> {
    const batch = (await store.getBatch(link.batchId)) ?? (await store.findBatchByGtinLot(link.gtin, link.lot));
    if (!batch) {
      throw notFound(`No batch with GTIN ${link.gtin} and lot "${link.lot}" is registered (or it is not indexed yet)`, {
        reason: "unknown-batch",
      });
    }
    return batch;
  }

  async function getBatch(batchId: Hex): Promise<Batch> {
    const batch = await store.getBatch(batchId);
    if (!batch) throw notFound(`No batch ${batchId} is registered (or it is not indexed yet)`);
    return batch;
  }

  function cloneWarnings(stats: ScanStats): string[] {
    const warnings: string[] = [];
    if (stats.total > thresholds.maxScans) {
      warnings.push(
        `This code has been scanned ${stats.total} times; a genuine item is rarely scanned more than ${thresholds.maxScans} times.`,
      );
    }
    if (stats.recent > thresholds.maxRecentScans) {
      const hours = Math.round(thresholds.recentWindowMs / 3_600_000);
      warnings.push(`It was scanned ${stats.recent} times in the last ${hours} hour${hours === 1 ? "" : "s"}.`);
    }
    const regions = stats.regions.filter((region) => region !== "unknown");
    if (regions.length > thresholds.maxRegions) {
      warnings.push(
        `It was scanned in ${regions.length} different countries (${regions.slice(0, 6).join(", ")}${regions.length > 6 ? ", …" : ""}).`,
      );
    }
    return warnings;
  }

  /** The unit's token, on the registered batch a split lot descends from (its serial root is that batch's). */
  async function ownershipOf(batch: Batch, serial: string): Promise<UnitOwnershipView | null> {
    if (config.unitOwnership === undefined) return null;
    let registered = batch;
    for (let depth = 0; registered.parentId !== null && depth < 64; depth++) {
      const parent = await store.getBatch(registered.parentId);
      if (!parent) break;
      registered = parent;
    }
    const tokenId = unitTokenId(registered.batchId, serial).toString();
    const [token, claimRoot, claimRegion] = await Promise.all([
      store.getUnitToken(tokenId),
      store.getClaimRoot(registered.batchId),
      store.getClaimRegion(tokenId),
    ]);
    return {
      claimRegion: claimRegion?.region ?? null,
      contract: config.unitOwnership,
      chainId: config.chainId,
      tokenId,
      registeredBatchId: registered.batchId,
      token,
      claimable: claimRoot !== null,
    };
  }

  /**
   * A unit whose token is still with the one who claimed it, claimed in one country and scanned in another: whoever
   * scans it is probably not its owner, so the code may be a copy. (After a resale the claim's country says nothing.)
   */
  function ownedElsewhereWarning(ownership: UnitOwnershipView | null, region: string): string[] {
    const token = ownership?.token;
    if (!token || token.previousOwners.length > 0 || ownership?.claimRegion == null) return [];
    if (region === "unknown" || region === ownership.claimRegion) return [];
    return [
      `This unit's ownership token was claimed in ${ownership.claimRegion} and has not changed hands since, but this scan comes from ${region}. If you are not its owner, the code you scanned may be a copy.`,
    ];
  }

  // A serial root names its list by content, so a proof found under it holds for ever; remembering it spares each
  // repeat scan the proof's check against OpenZeppelin's verifier (milliseconds). "Not stored" is never remembered:
  // the list may be uploaded at any time.
  const proofs = createBoundedMemo<string, UnitProof>(PROOF_MEMO_ENTRIES);
  async function proofOf(serialRoot: Hex, serial: string): Promise<UnitProof | null> {
    const key = `${serialRoot}\0${serial}`;
    const known = proofs.get(key);
    if (known) return known;
    const proof = await serials.proveSerial(serialRoot, serial);
    if (proof) proofs.set(key, proof);
    return proof;
  }

  async function buildView(link: DigitalLink, batch: Batch, unit: UnitView | null, checkpoint: Checkpoint | null): Promise<PassportView> {
    const history = await loadBatchHistory(store, batch);
    const { participants } = history;
    // The effective status: a recall of an ancestor reaches this batch on chain, and the page must say so too.
    const shown = history.batch;
    const manufacturer = participants.get(batch.manufacturer) ?? null;
    const lineage = history.ancestors.map((ancestor) => ({
      batch: ancestor.batch,
      registration: historyEntryOf(ancestor.registration),
      historyBeforeSplit: ancestor.journeyBeforeSplit.map(historyEntryOf),
      recall: ancestor.batch.recall ? recallEntry(ancestor.batch) : null,
    }));
    const ownHistory = history.events.map(historyEntryOf);
    const partners = await partnersOf(history);
    const dpp = await productData.passportData(batch.batchId);
    const holding = (await packedHoldingsOf(store, [batch])).get(batch.batchId);
    if (holding !== undefined && !participants.has(holding.custodian)) {
      for (const participant of await store.getParticipants([holding.custodian])) participants.set(participant.address, participant);
    }
    return {
      link,
      uri: buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot, link.serial),
      batchUri: buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot),
      batch: shown,
      lineage,
      children: history.children,
      madeFrom: history.madeFrom?.inputs ?? [],
      usedIn: history.usedIn?.outputs ?? [],
      history: ownHistory,
      inspection: effectiveInspection(shown, ownHistory, lineage),
      recall: history.recall && {
        batch: history.recall.batch,
        entry: recallEntry(history.recall.batch),
        inherited: history.recall.inherited,
      },
      participants,
      manufacturer: {
        address: batch.manufacturer,
        participant: manufacturer,
        verified: manufacturer !== null && !manufacturer.suspended && manufacturer.roles.includes("MANUFACTURER"),
      },
      partners,
      unit,
      designs: await designsOf(batch.gtin),
      coldChain: withColdChainContract(
        await loadPassportColdChain(
          store,
          [batch, ...history.ancestors.map((ancestor) => ancestor.batch)].map((lot) => ({ batchId: lot.batchId, gtin: lot.gtin })),
          participants,
          now(),
        ),
        config.coldChain,
      ),
      productData: dpp,
      container: holding === undefined ? null : { sscc: holding.sscc, outermostSscc: holding.outermostSscc, holder: holding.custodian },
      // The product model's documents (declaration of conformity, manuals) first, then the batch's own.
      documents: [
        ...(await documents.listForProduct(ANONYMOUS, batch.gtin)).map((document) =>
          passportDocument(document, `${config.publicBaseUrl}/api/v1/products/${batch.gtin}/documents`),
        ),
        ...(await documents.list(ANONYMOUS, batch.batchId)).map((document) =>
          passportDocument(document, `${config.publicBaseUrl}/api/v1/batches/${batch.batchId}/documents`),
        ),
      ],
      verification: {
        chainId: config.chainId,
        registry: config.registryAddress.toLowerCase() as Hex,
        rpcUrl: config.publicRpcUrl,
        deployBlock: config.deployBlock ?? 0,
        asOfBlock: checkpoint?.blockNumber ?? null,
      },
      generatedAt: now(),
    };
  }

  /**
   * The manufacturer and every carrier that held the goods (this lot or an earlier one it was split from), oldest leg
   * first, with their all-time track records: totals the store keeps as it mirrors, so reading them costs the same
   * for a partner of ten orders or of a million.
   */
  async function partnersOf(history: BatchHistory): Promise<PartnerReputation[]> {
    const { participants } = history;
    const carriers: Hex[] = [];
    for (const lot of [...history.ancestors.map((ancestor) => ancestor.batch).reverse(), history.batch]) {
      for (const step of lot.custody) {
        const holder = participants.get(step.to);
        if (step.kind === "accepted" && holder?.roles.includes("CARRIER") && !carriers.includes(step.to)) carriers.push(step.to);
      }
    }
    const manufacturer = history.batch.manufacturer;
    const records = await reputation.getTrackRecords([manufacturer, ...carriers]);
    const partners: PartnerReputation[] = [];
    const manufacturerRecord = records.get(manufacturer);
    if (manufacturerRecord) partners.push({ role: "manufacturer", address: manufacturer, reputation: manufacturerRecord });
    for (const carrier of carriers) {
      const record = records.get(carrier);
      if (record) partners.push({ role: "carrier", address: carrier, reputation: record });
    }
    return partners;
  }

  return {
    linkFor: (batch, serial = null) => buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot, serial, anchors),
    getBatch,

    async unitLink(batchId, serial) {
      const batch = await getBatch(batchId);
      if ((await serials.hasSerial(batch.serialRoot, serial)) === false) {
        throw notFound(`Serial "${serial}" is not one of the units of batch ${batchId}`);
      }
      return buildDigitalLink(config.publicBaseUrl, batch.gtin, batch.lot, serial, anchors);
    },

    async unitProof(batchId, serial) {
      const batch = await getBatch(batchId);
      const proof = await serials.proveSerial(batch.serialRoot, serial);
      if (!proof) {
        const member = await serials.hasSerial(batch.serialRoot, serial);
        throw notFound(
          member === null
            ? `The serial list of batch ${batchId} is not stored`
            : `Serial "${serial}" is not one of the units of batch ${batchId}`,
        );
      }
      return { batch, proof };
    },

    async serialsPage(batchId, page, perPage) {
      const batch = await getBatch(batchId);
      const list = await serials.getSerials(batch.serialRoot);
      if (!list) throw notFound(`The serial list of batch ${batchId} is not stored; upload it to print unit labels`);
      const pages = Math.max(1, Math.ceil(list.length / perPage));
      if (page > pages) {
        throw notFound(`Page ${page} does not exist; the sheet has ${pages} page${pages === 1 ? "" : "s"} of ${perPage} labels`);
      }
      return { batch, serials: list.slice((page - 1) * perPage, page * perPage), page, pages, perPage, total: list.length };
    },

    async resolve(link, scan) {
      // The checkpoint first: everything read after it is at least as new, so a view stamped with it is never older
      // than the stamp says (MongoDB moves the checkpoint last in a commit; SQLite commits a range atomically).
      const checkpoint = await store.getCheckpoint(config.chainId);
      const batch = await loadBatch(link);
      let proof: Hex[] | null = null;
      if (link.serial !== null) {
        const membership = await proofOf(batch.serialRoot, link.serial);
        if (membership) proof = membership.proof;
        else if ((await serials.hasSerial(batch.serialRoot, link.serial)) === false) {
          throw notFound(
            `Serial "${link.serial}" is not one of the units registered for GTIN ${link.gtin} lot "${link.lot}". The code may be counterfeit.`,
            { reason: "unknown-serial" },
          );
        }
      }
      if (scan.countAsScan && (scan.counts ?? (await scansThatCount.firstInWindow(batch.batchId, link.serial, scan.client)))) {
        await store.recordScan({ batchId: batch.batchId, serial: link.serial, at: now(), region: scan.region });
      }

      let unit: UnitView | null = null;
      if (link.serial !== null) {
        const [claim, scans, ownership] = await Promise.all([
          store.getUnitClaim(batch.batchId, link.serial),
          store.scanStats(batch.batchId, link.serial, now() - thresholds.recentWindowMs),
          ownershipOf(batch, link.serial),
        ]);
        unit = {
          serial: link.serial,
          proof,
          claim,
          ownership,
          scans,
          cloneWarnings: [...cloneWarnings(scans), ...ownedElsewhereWarning(ownership, scan.region)],
        };
      }
      const stamp = JSON.stringify([checkpoint, batch, unit]);
      return { batch, stamp, view: () => buildView(link, batch, unit, checkpoint) };
    },

    async viewerSections(viewer, batch) {
      if (!viewer.signedIn) return null;
      const batchLevel = await productData.accessLevel(viewer, { kind: "batch", batchId: batch.batchId });
      const aboveAnchored = <T extends { anchored: boolean; audience: string }>(list: T[]) =>
        list.filter((document): document is T & { audience: PrivateLevel } => document.anchored && document.audience !== "public");
      const batchDocuments = aboveAnchored(await documents.list(viewer, batch.batchId));
      // Entitlement is decided by this batch (its chain of custody, or an authority's role): a partner of another
      // batch of the same GTIN reads the GTIN's partner fields through the API, but this page is about this batch.
      if (batchLevel === "public" && batchDocuments.length === 0) return null;
      const productDocuments = aboveAnchored(await documents.listForProduct(viewer, batch.gtin));
      const data = (await productData.batchPassportData(viewer, batch)) ?? {};
      const fields: PassportViewerSections["fields"] = [];
      for (const [field, value] of Object.entries(data)) {
        const level = FIELD_ACCESS[field as ProductDataField] as AccessLevel | undefined;
        if (level !== undefined && level !== "public") fields.push({ field, level, value: value as unknown });
      }
      const shown = [
        ...productDocuments.map((document) => ({
          ...passportDocument(document, `${config.publicBaseUrl}/api/v1/products/${batch.gtin}/documents`),
          level: document.audience,
        })),
        ...batchDocuments.map((document) => ({
          ...passportDocument(document, `${config.publicBaseUrl}/api/v1/batches/${batch.batchId}/documents`),
          level: document.audience,
        })),
      ];
      const levels = [batchLevel, ...shown.map((document) => document.level)];
      return {
        viewer: { address: viewer.address, name: viewer.participant?.name ?? null, roles: [...viewer.roles] },
        level: levels.includes("authorities") ? "authorities" : "partners",
        fields,
        documents: shown,
      };
    },

    countsAsScan: (batchId, serial, client) => scansThatCount.firstInWindow(batchId, serial, client),

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

/** The cold-chain section with the contract its readings are checked against in the browser. */
function withColdChainContract(coldChain: PassportColdChain | null, contract: Hex | undefined): PassportColdChain | null {
  return coldChain === null || contract === undefined ? coldChain : { ...coldChain, contract: contract.toLowerCase() as Hex };
}

function passportDocument(
  document: Pick<PassportDocument, "title" | "kind" | "contentType" | "size" | "contentHash" | "sha256">,
  listUrl: string,
): PassportDocument {
  const { title, kind, contentType, size, contentHash, sha256 } = document;
  return { title, kind, contentType, size, contentHash, sha256, url: `${listUrl}/${contentHash}/content` };
}
