/**
 * Product and batch data (DPP) versions: a signed-in manufacturer uploads a version, the backend canonicalises and
 * hashes it and keeps it; the manufacturer anchors the hash with ProductDataRegistry (directly, through the relayer,
 * or `provena product publish`). The indexer mirrors the anchoring events like every Provena event (so a reorg
 * removes an anchor with its block); a version number is the one the contract gave, and only anchored versions are
 * shown to anyone but the publisher.
 *
 * Product data of a GTIN is what the current holder of its GS1 company prefix anchored: when a prefix moves to
 * another company, the former holder's data no longer describes the product.
 *
 * What each viewer reads is filtered by field (product-data-schema.ts): nothing outside the viewer's levels leaves
 * this module, not even in an error (an unknown version and a version without a stored document answer alike).
 */
import type { Viewer } from "../auth/auth-service.ts";
import { forbidden, invalidInput, isDomainError, notFound, rejected, unauthenticated } from "../domain/errors.ts";
import type { Batch, ChainEvent, Hex, ProductDataDocument } from "../domain/model.ts";
import { MAX_PRODUCT_DATA_LISTED, type MirrorLog, type ProductDataDocuments, type ProjectionReads } from "../store/port.ts";
import { ANONYMOUS } from "../auth/auth-service.ts";
import { canonicalJson, contentHashOf } from "./canonical-json.ts";
import { batchFootprint, journeyOf, type BatchFootprint } from "./footprint.ts";
import { accessLevelsUpTo, visibleProductData, type AccessLevel, type ProductData } from "./product-data-schema.ts";

export type ProductDataSubject = { kind: "product"; gtin: string } | { kind: "batch"; batchId: Hex };

/** Roles that read every field of every product. */
export const PRODUCT_DATA_AUTHORITY_ROLES: readonly string[] = ["REGULATOR", "ADMIN"];

export interface AnchoredVersion {
  version: number;
  contentHash: Hex;
  publisher: Hex;
  blockNumber: number;
  /** Unix seconds of the anchoring block. */
  anchoredAt: number;
  transactionHash: Hex;
}

export interface ProductDataVersionView {
  subject: { gtin: string } | { batchId: Hex };
  version: number;
  contentHash: Hex;
  anchored: Omit<AnchoredVersion, "version" | "contentHash">;
  /** The fields the viewer may read. */
  data: Partial<ProductData>;
}

export interface UploadResult {
  subject: { gtin: string } | { batchId: Hex };
  contentHash: Hex;
  canonicalJson: string;
  uploadedAt: number;
  /** The versions already anchored with this hash (an upload of content published before). */
  anchoredVersions: number[];
  /** The call that anchors it. */
  anchor: { contract: "ProductDataRegistry"; function: "publishProductData" | "publishBatchData"; args: [string, Hex] };
}

export interface ProductDataService {
  upload(viewer: Viewer, subject: ProductDataSubject, data: ProductData): Promise<UploadResult>;
  /** The latest anchored version whose document the backend holds, filtered for the viewer. */
  latest(viewer: Viewer, subject: ProductDataSubject): Promise<ProductDataVersionView>;
  version(viewer: Viewer, subject: ProductDataSubject, version: number): Promise<ProductDataVersionView>;
  /** Anchored versions (everyone); the publisher and authorities also see uploads not anchored yet. */
  versions(viewer: Viewer, subject: ProductDataSubject): Promise<VersionsView>;
  /** The merged product + batch data of a batch (batch fields override the GTIN's), as `viewer` may read it. */
  batchPassportData(viewer: Viewer, batch: Pick<Batch, "batchId" | "gtin">): Promise<Partial<ProductData> | null>;
  /**
   * The batch's carbon footprint (footprint.ts), from public fields only: the product data, then each batch of its
   * lineage from the registered ancestor down (a later batch's fields override an earlier one's).
   */
  footprint(batchId: Hex): Promise<BatchFootprint>;
  /** What a passport shows of the batch: its public data (merged as for `footprint`) and footprint; null when none. */
  passportData(batchId: Hex): Promise<PassportProductData | null>;
  /** Who publishes the subject's data now: the GTIN's company-prefix holder, or the batch's manufacturer (null: none). */
  publisherOf(subject: ProductDataSubject): Promise<Hex | null>;
  /**
   * The highest level of the subject's fields the viewer reads: its publisher and authorities everything, a partner
   * that held the batch (or, for a GTIN, any batch of it) the partners' fields, anyone else the public ones.
   */
  accessLevel(viewer: Viewer, subject: ProductDataSubject): Promise<AccessLevel>;
}

export interface PassportProductData {
  /** Public fields only: the product data, then each lot of the lineage's batch data, the batch's own last. */
  data: Partial<ProductData>;
  footprint: BatchFootprint;
}

export interface VersionsView {
  subject: { gtin: string } | { batchId: Hex };
  versions: Array<AnchoredVersion & { documentAvailable: boolean }>;
  /** Only for the publisher and authorities: every upload with its anchors (empty when none). */
  uploads?: Array<{ contentHash: Hex; uploadedAt: number; anchoredVersions: number[] }>;
}

export interface ProductDataServiceOptions {
  store: ProductDataDocuments & Pick<ProjectionReads, "getBatch" | "getBatches" | "listParticipants"> & Pick<MirrorLog, "listEvents">;
  now?: () => number;
}

/**
 * Uploads of a subject not anchored yet: a publisher drafting a version needs a few, and the cap keeps a
 * compromised manufacturer key from filling the store with versions it never anchors.
 */
export const MAX_PENDING_UPLOADS = 20;

const EVENT_PAGE = 500;
/** Pages of anchoring events read per subject: 5,000 versions is far beyond any product's history. */
const MAX_EVENT_PAGES = 10;

export function subjectKey(subject: ProductDataSubject): string {
  return subject.kind === "product" ? `gtin:${subject.gtin}` : `batch:${subject.batchId}`;
}

function subjectView(subject: ProductDataSubject): { gtin: string } | { batchId: Hex } {
  return subject.kind === "product" ? { gtin: subject.gtin } : { batchId: subject.batchId };
}

export function createProductDataService(options: ProductDataServiceOptions): ProductDataService {
  const { store } = options;
  const now = options.now ?? Date.now;

  /** The manufacturer holding the longest company prefix of the GTIN in the mirror (null when none). */
  async function prefixHolderOf(gtin: string): Promise<Hex | null> {
    const gtin13 = gtin.slice(1);
    let best: { address: Hex; length: number } | null = null;
    let cursor: string | null = null;
    do {
      const page = await store.listParticipants({ role: "MANUFACTURER" }, { limit: EVENT_PAGE, cursor });
      for (const participant of page.items) {
        for (const prefix of participant.companyPrefixes) {
          if (gtin13.startsWith(prefix) && (best === null || prefix.length > best.length)) {
            best = { address: participant.address, length: prefix.length };
          }
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    return best?.address ?? null;
  }

  /** The account that publishes the subject's data: the prefix holder, or the batch's manufacturer. */
  async function publisherOf(subject: ProductDataSubject): Promise<Hex | null> {
    if (subject.kind === "product") return prefixHolderOf(subject.gtin);
    return (await store.getBatch(subject.batchId))?.manufacturer ?? null;
  }

  async function anchorsOf(subject: ProductDataSubject, publisher: Hex | null): Promise<AnchoredVersion[]> {
    if (publisher === null) return [];
    const filter =
      subject.kind === "product"
        ? { contract: "ProductDataRegistry" as const, name: "ProductDataPublished", account: publisher }
        : { contract: "ProductDataRegistry" as const, name: "BatchDataPublished", batchId: subject.batchId };
    const events: ChainEvent[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < MAX_EVENT_PAGES; pages++) {
      const page = await store.listEvents(filter, { limit: EVENT_PAGE, cursor });
      events.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    return events
      .filter((event) => (subject.kind === "product" ? event.args.gtin === subject.gtin : true))
      .filter((event) => argText(event.args.publisher) === publisher)
      .map((event) => ({
        version: Number(event.args.version),
        contentHash: argText(event.args.contentHash) as Hex,
        publisher,
        blockNumber: event.blockNumber,
        anchoredAt: event.blockTimestamp,
        transactionHash: event.transactionHash,
      }))
      .sort((a, b) => a.version - b.version);
  }

  async function heldBatch(address: Hex, batch: Batch): Promise<boolean> {
    let current: Batch | null = batch;
    for (let depth = 0; current !== null && depth <= 8; depth++) {
      if (current.manufacturer === address) return true;
      if (current.custody.some((step) => step.from === address || (step.kind === "accepted" && step.to === address))) return true;
      current = current.parentId === null ? null : await store.getBatch(current.parentId);
    }
    return false;
  }

  /** Whether `address` held a batch of `gtin`: it accepted custody of one (or made one). */
  async function heldGtin(address: Hex, gtin: string): Promise<boolean> {
    let cursor: string | null = null;
    for (let pages = 0; pages < MAX_EVENT_PAGES; pages++) {
      const page = await store.listEvents({ name: "HandoffAccepted", account: address }, { limit: EVENT_PAGE, cursor });
      const received = page.items.filter((event) => argText(event.args.to) === address).flatMap((event) => event.batchIds);
      if (received.length > 0 && (await store.getBatches([...new Set(received)])).some((batch) => batch.gtin === gtin)) return true;
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    return false;
  }

  async function accessOf(viewer: Viewer, subject: ProductDataSubject, publisher: Hex | null): Promise<AccessLevel> {
    if (!viewer.signedIn) return "public";
    const address = viewer.address.toLowerCase() as Hex;
    if (publisher !== null && address === publisher) return "authorities";
    if (viewer.roles.some((role) => PRODUCT_DATA_AUTHORITY_ROLES.includes(role))) return "authorities";
    // A participant with no roles (suspended, or not onboarded) is no partner.
    if (viewer.roles.length === 0) return "public";
    if (subject.kind === "batch") {
      const batch = await store.getBatch(subject.batchId);
      return batch !== null && (await heldBatch(address, batch)) ? "partners" : "public";
    }
    return (await heldGtin(address, subject.gtin)) ? "partners" : "public";
  }

  async function view(
    viewer: Viewer,
    subject: ProductDataSubject,
    pick: (anchors: AnchoredVersion[]) => AnchoredVersion[],
  ): Promise<ProductDataVersionView> {
    const publisher = await publisherOf(subject);
    const anchors = await anchorsOf(subject, publisher);
    for (const anchor of pick(anchors)) {
      const document = await store.getProductDataDocument(subjectKey(subject), anchor.contentHash);
      if (document === null) continue;
      const levels = accessLevelsUpTo(await accessOf(viewer, subject, publisher));
      const { version, contentHash, ...anchored } = anchor;
      return {
        subject: subjectView(subject),
        version,
        contentHash,
        anchored,
        data: visibleProductData(JSON.parse(document.canonicalJson) as Record<string, unknown>, levels),
      };
    }
    throw notFound(`no such anchored product data is available for ${describe(subject)}`);
  }

  return {
    async upload(viewer, subject, data) {
      if (!viewer.signedIn) throw unauthenticated("sign in as the manufacturer to upload product data");
      const publisher = await publisherOf(subject);
      if (subject.kind === "batch" && publisher === null) throw notFound(`no batch ${subject.batchId} is registered`);
      if (publisher !== viewer.address.toLowerCase() || !viewer.roles.includes("MANUFACTURER")) {
        throw forbidden(
          subject.kind === "product"
            ? `only the holder of GTIN ${subject.gtin}'s GS1 company prefix, an active manufacturer, may upload its product data`
            : `only the manufacturer of batch ${subject.batchId}, while active, may upload its data`,
        );
      }
      const canonical = canonicalJson(data);
      const contentHash = contentHashOf(canonical);
      const uploads = await store.listProductDataDocuments(subjectKey(subject));
      if (!uploads.some((upload) => upload.contentHash === contentHash)) {
        const anchored = new Set((await anchorsOf(subject, publisher)).map((anchor) => anchor.contentHash));
        const pending = uploads.filter((upload) => !anchored.has(upload.contentHash)).length;
        if (pending >= MAX_PENDING_UPLOADS || uploads.length >= MAX_PRODUCT_DATA_LISTED) {
          throw rejected(
            `${describe(subject)} already has ${pending} uploaded versions that are not anchored (at most ${MAX_PENDING_UPLOADS}): anchor one, or upload one of them again`,
          );
        }
      }
      const document: ProductDataDocument = {
        subject: subjectKey(subject),
        contentHash,
        canonicalJson: canonical,
        uploadedBy: viewer.address,
        uploadedAt: now(),
      };
      const stored = await store.putProductDataDocument(document);
      const anchors = await anchorsOf(subject, publisher);
      return {
        subject: subjectView(subject),
        contentHash: stored.contentHash,
        canonicalJson: stored.canonicalJson,
        uploadedAt: stored.uploadedAt,
        anchoredVersions: anchors.filter((anchor) => anchor.contentHash === stored.contentHash).map((anchor) => anchor.version),
        anchor: {
          contract: "ProductDataRegistry",
          function: subject.kind === "product" ? "publishProductData" : "publishBatchData",
          args: [subject.kind === "product" ? String(BigInt(subject.gtin)) : subject.batchId, stored.contentHash],
        },
      };
    },

    latest(viewer, subject) {
      return view(viewer, subject, (anchors) => [...anchors].reverse());
    },

    async version(viewer, subject, version) {
      if (!Number.isSafeInteger(version) || version < 1) throw invalidInput("a version number is a whole number from 1");
      return view(viewer, subject, (anchors) => anchors.filter((anchor) => anchor.version === version));
    },

    async versions(viewer, subject) {
      const publisher = await publisherOf(subject);
      const anchors = await anchorsOf(subject, publisher);
      const uploads = await store.listProductDataDocuments(subjectKey(subject));
      const held = new Set(uploads.map((upload) => upload.contentHash));
      const result: VersionsView = {
        subject: subjectView(subject),
        versions: anchors.map((anchor) => ({ ...anchor, documentAvailable: held.has(anchor.contentHash) })),
      };
      if ((await accessOf(viewer, subject, publisher)) === "authorities") {
        result.uploads = uploads.map((upload) => ({
          contentHash: upload.contentHash,
          uploadedAt: upload.uploadedAt,
          anchoredVersions: anchors.filter((anchor) => anchor.contentHash === upload.contentHash).map((anchor) => anchor.version),
        }));
      }
      return result;
    },

    async batchPassportData(viewer, batch) {
      const orNone = (error: unknown) => {
        if (isDomainError(error, "not-found")) return null;
        throw error;
      };
      const product = await this.latest(viewer, { kind: "product", gtin: batch.gtin }).catch(orNone);
      const own = await this.latest(viewer, { kind: "batch", batchId: batch.batchId }).catch(orNone);
      if (product === null && own === null) return null;
      return { ...(product?.data ?? {}), ...(own?.data ?? {}) };
    },

    async footprint(batchId) {
      const { batch, lineage, data } = await publicLineageData(this, batchId, store);
      return batchFootprint(batch, journeyOf(lineage), data);
    },

    async passportData(batchId) {
      const { batch, lineage, data, found } = await publicLineageData(this, batchId, store);
      return found ? { data, footprint: batchFootprint(batch, journeyOf(lineage), data) } : null;
    },

    publisherOf,

    async accessLevel(viewer, subject) {
      return accessOf(viewer, subject, await publisherOf(subject));
    },
  };
}

/** The batch, its lineage (registered ancestor first) and the public data of the product and each lot, merged. */
async function publicLineageData(
  service: Pick<ProductDataService, "latest">,
  batchId: Hex,
  store: Pick<ProjectionReads, "getBatch">,
): Promise<{ batch: Batch; lineage: Batch[]; data: Partial<ProductData>; found: boolean }> {
  const batch = await store.getBatch(batchId);
  if (batch === null) throw notFound(`no batch ${batchId} is registered`);
  const lineage: Batch[] = [batch];
  while (lineage[0]!.parentId !== null && lineage.length <= 8) {
    const parent = await store.getBatch(lineage[0]!.parentId);
    if (parent === null) break;
    lineage.unshift(parent);
  }
  const orNone = (error: unknown) => {
    if (isDomainError(error, "not-found")) return null;
    throw error;
  };
  const product = await service.latest(ANONYMOUS, { kind: "product", gtin: batch.gtin }).catch(orNone);
  let data: Partial<ProductData> = product?.data ?? {};
  let found = product !== null;
  for (const member of lineage) {
    const own = await service.latest(ANONYMOUS, { kind: "batch", batchId: member.batchId }).catch(orNone);
    if (own !== null) {
      data = { ...data, ...own.data };
      found = true;
    }
  }
  return { batch, lineage, data, found };
}

/** A string argument of a mirrored event, lower case ("" for anything else). */
function argText(value: unknown): string {
  return typeof value === "string" ? value.toLowerCase() : "";
}

function describe(subject: ProductDataSubject): string {
  return subject.kind === "product" ? `GTIN ${subject.gtin}` : `batch ${subject.batchId}`;
}
