/**
 * Documents about batches (inspection reports, certificates, declarations of conformity, invoices, batch records):
 * a participant of the batch's chain of custody uploads the bytes, the backend keeps them off chain (the store's
 * batch documents: SQLite blobs or MongoDB GridFS) with sha256 and keccak256 computed here, and the uploader
 * anchors the keccak256 with ProductDataRegistry.anchorBatchDocument (its own transaction, or relayed with its
 * signature). The indexer mirrors the anchors like every Provena event.
 *
 * Who reads what (the audience the uploader chose, the same levels as product data fields):
 *   public       everyone, once the uploader anchored it;
 *   partners     signed-in, active participants of the batch's chain of custody, and authorities;
 *   authorities  regulators (and admins);
 * and the uploader always sees its own, anchored or not. Nothing else leaves this module: a document a viewer may
 * not read is answered exactly as one that does not exist (the same error, no size, no title, no ETag).
 *
 * The chain of custody of a batch: its manufacturer, every custodian that handed it on or accepted it, and every
 * inspector that attested it, for the batch and each of its ancestors (a lot split from a parent keeps the parent's
 * partners; a holder of a child is no partner of its parent).
 *
 * Documents of a product model (GTIN) alone (declarations of conformity, test reports, repair manuals) follow the
 * GTIN's product data (backend/product-data): the holder of its GS1 company prefix, an active manufacturer, uploads
 * them and anchors them with ProductDataRegistry.anchorProductDocument; partners are participants that held a batch
 * of the GTIN; and, as for product data, only what the current prefix holder anchored describes the product.
 *
 * Verification answers from the mirror's index of document anchors (document-anchors.ts), whatever the batch or
 * GTIN and whether or not this backend holds the bytes: only what the chain already makes public (which batch or
 * GTIN, which account, which transaction and block), never a stored document's title, kind or audience.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { keccak256 } from "ethers";
import type { Viewer } from "../auth/auth-service.ts";
import { forbidden, invalidInput, notFound, rejected, unauthenticated } from "../domain/errors.ts";
import type {
  Batch,
  BatchDocument,
  BatchDocumentAudience,
  BatchDocumentKind,
  ChainEvent,
  DocumentAnchorRecord,
  Hex,
  ProductDocument,
} from "../domain/model.ts";
import {
  PRODUCT_DATA_AUTHORITY_ROLES,
  createProductDataService,
  type ProductDataService,
  type ProductDataServiceOptions,
} from "../product-data/product-data-service.ts";
import type { BatchDocuments, DocumentAnchorRecords, MirrorLog, ProductDocuments, ProjectionReads } from "../store/port.ts";
import type { DocumentMediaType } from "./media-type.ts";

export interface DocumentAnchor {
  anchoredBy: Hex;
  /** Whether the anchoring account belongs to the batch's chain of custody (by the mirror, now). */
  inChainOfCustody: boolean;
  blockNumber: number;
  /** Unix seconds of the block. */
  anchoredAt: number;
  transactionHash: Hex;
}

/** A document as a viewer who may read it sees it: its metadata and its anchors on chain. */
export interface BatchDocumentView extends BatchDocument {
  /** Whether its uploader anchored it (only the uploader sees documents that are not). */
  anchored: boolean;
  anchors: DocumentAnchor[];
}

export interface UploadDocumentInput {
  batchId: Hex;
  kind: BatchDocumentKind;
  audience: BatchDocumentAudience;
  title: string;
  /** What the bytes were recognised as (media-type.ts). */
  mediaType: DocumentMediaType;
  content: Uint8Array;
  /** The hash the client says it sent (keccak256 or sha256, 0x-prefixed): the upload is refused when the bytes differ. */
  expectedHash?: Hex;
}

export interface UploadDocumentResult {
  /** False when the same bytes were already stored for the batch: the first upload's document is answered. */
  created: boolean;
  document: BatchDocumentView;
  /** The call that anchors it (send it yourself, or sign it for the relayer). */
  anchor: { contract: "ProductDataRegistry"; function: "anchorBatchDocument"; args: [Hex, Hex] };
}

/** An anchor of a product model's document: the contract let only the GTIN's prefix holder of the time anchor it. */
export interface ProductDocumentAnchor {
  anchoredBy: Hex;
  /** Whether the anchoring account holds the GTIN's company prefix now (by the mirror). */
  byPrefixHolder: boolean;
  blockNumber: number;
  /** Unix seconds of the block. */
  anchoredAt: number;
  transactionHash: Hex;
}

/** A product model's document as a viewer who may read it sees it. */
export interface ProductDocumentView extends ProductDocument {
  /** Whether its uploader anchored it (only the uploader sees documents that are not). */
  anchored: boolean;
  anchors: ProductDocumentAnchor[];
}

export interface UploadProductDocumentInput extends Omit<UploadDocumentInput, "batchId"> {
  /** GTIN-14, zero-padded. */
  gtin: string;
}

export interface UploadProductDocumentResult {
  created: boolean;
  document: ProductDocumentView;
  /** The call that anchors it (the GTIN as a decimal integer, as the contract takes it). */
  anchor: { contract: "ProductDataRegistry"; function: "anchorProductDocument"; args: [string, Hex] };
}

export interface DocumentVerification {
  contentHash: Hex;
  sha256: Hex | null;
  /** Whether any account anchored these bytes, for a batch or a product model (`anchors` says where, by whom, when). */
  anchored: boolean;
  /** In plain words: where the hash is anchored, or that it is not. */
  summary: string;
  /** Batch anchors carry `batchId`, product-model anchors `gtin`; in chain order. */
  anchors: Array<(DocumentAnchor & { batchId: Hex }) | (ProductDocumentAnchor & { gtin: string })>;
}

export interface BatchDocumentService {
  upload(viewer: Viewer, input: UploadDocumentInput): Promise<UploadDocumentResult>;
  /** The batch's documents the viewer may read (the batch must exist). */
  list(viewer: Viewer, batchId: Hex): Promise<BatchDocumentView[]>;
  /** One document, if the viewer may read it; not-found otherwise, whatever the reason. */
  get(viewer: Viewer, batchId: Hex, contentHash: Hex): Promise<BatchDocumentView>;
  /** The document and its bytes, under the same rule as `get`. */
  open(viewer: Viewer, batchId: Hex, contentHash: Hex): Promise<{ document: BatchDocumentView; content: Readable }>;
  /**
   * Where the bytes (or their keccak256) are anchored on chain, for any batch or product model, by whom and when,
   * whether or not this backend holds them; `batchId` or `gtin` narrows the answer to one.
   */
  verify(input: { content?: Uint8Array; contentHash?: Hex; batchId?: Hex; gtin?: string }): Promise<DocumentVerification>;

  /** The GTIN's prefix holder uploads a document about the product model. */
  uploadForProduct(viewer: Viewer, input: UploadProductDocumentInput): Promise<UploadProductDocumentResult>;
  /** The product model's documents the viewer may read. */
  listForProduct(viewer: Viewer, gtin: string): Promise<ProductDocumentView[]>;
  /** One, if the viewer may read it; not-found otherwise, whatever the reason. */
  getForProduct(viewer: Viewer, gtin: string, contentHash: Hex): Promise<ProductDocumentView>;
  openForProduct(viewer: Viewer, gtin: string, contentHash: Hex): Promise<{ document: ProductDocumentView; content: Readable }>;
}

export interface BatchDocumentServiceOptions {
  store: BatchDocuments &
    ProductDocuments &
    DocumentAnchorRecords &
    Pick<ProjectionReads, "getBatch"> &
    Pick<MirrorLog, "listEvents"> &
    ProductDataServiceOptions["store"];
  /** Who holds a GTIN's prefix and what a viewer reads of it (default: read from `store`). */
  productData?: Pick<ProductDataService, "publisherOf" | "accessLevel">;
  now?: () => number;
}

/**
 * Uploads one participant may leave unanchored per batch: a cap on what a custody partner can make us store, per
 * uploader so that one partner filling it never blocks another's uploads.
 */
export const MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER = 20;
export const MAX_DOCUMENT_TITLE_LENGTH = 200;

const EVENT_PAGE = 500;
const MAX_EVENT_PAGES = 10;
/** Generations of ancestors walked for the chain of custody (splits rarely nest deeper than a few). */
const MAX_LINEAGE_DEPTH = 8;

const AUDIENCE_RANK: Record<BatchDocumentAudience, number> = { public: 0, partners: 1, authorities: 2 };

export function sha256Of(content: Uint8Array): Hex {
  return `0x${createHash("sha256").update(content).digest("hex")}`;
}

export function keccakOf(content: Uint8Array): Hex {
  return keccak256(content).toLowerCase() as Hex;
}

const argText = (value: unknown) => (typeof value === "string" ? value.toLowerCase() : "");

/** The checks every upload's bytes and metadata pass before anything else is read: its hashes and trimmed title. */
function checkedUpload(input: Pick<UploadDocumentInput, "content" | "title" | "expectedHash">): {
  contentHash: Hex;
  sha256: Hex;
  title: string;
} {
  const { content } = input;
  if (content.length === 0) throw invalidInput("the document is empty: send its bytes as the request body");
  const title = input.title.trim();
  if (title === "" || title.length > MAX_DOCUMENT_TITLE_LENGTH) {
    throw invalidInput(`a document's title is 1 to ${MAX_DOCUMENT_TITLE_LENGTH} characters`);
  }
  const contentHash = keccakOf(content);
  const sha256 = sha256Of(content);
  if (input.expectedHash !== undefined && ![contentHash, sha256].includes(input.expectedHash.toLowerCase() as Hex)) {
    throw invalidInput(
      `the bytes received hash to keccak256 ${contentHash} and sha256 ${sha256}, not ${input.expectedHash}: the upload was altered or cut short; nothing was stored`,
      { reason: "hash-mismatch", contentHash, sha256 },
    );
  }
  return { contentHash, sha256, title };
}

export function createBatchDocumentService(options: BatchDocumentServiceOptions): BatchDocumentService {
  const { store } = options;
  const now = options.now ?? Date.now;
  const productData = options.productData ?? createProductDataService({ store });

  /** Every account of the batch's chain of custody, its ancestors' included. */
  async function chainOfCustody(batch: Batch): Promise<Set<Hex>> {
    const members = new Set<Hex>();
    let current: Batch | null = batch;
    for (let depth = 0; current !== null && depth <= MAX_LINEAGE_DEPTH; depth++) {
      members.add(current.manufacturer);
      for (const step of current.custody) {
        members.add(step.from);
        if (step.kind === "accepted") members.add(step.to);
      }
      for (const inspection of current.inspections) members.add(inspection.inspector);
      current = current.parentId === null ? null : await store.getBatch(current.parentId);
    }
    return members;
  }

  async function anchorsOf(batchId: Hex, custody: Set<Hex>): Promise<Map<Hex, DocumentAnchor[]>> {
    const events: ChainEvent[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < MAX_EVENT_PAGES; pages++) {
      const page = await store.listEvents(
        { contract: "ProductDataRegistry", name: "BatchDocumentAnchored", batchId },
        { limit: EVENT_PAGE, cursor },
      );
      events.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    const byHash = new Map<Hex, DocumentAnchor[]>();
    for (const event of events) {
      const hash = argText(event.args.contentHash) as Hex;
      const anchoredBy = argText(event.args.anchoredBy) as Hex;
      const list = byHash.get(hash) ?? [];
      list.push({
        anchoredBy,
        inChainOfCustody: custody.has(anchoredBy),
        blockNumber: event.blockNumber,
        anchoredAt: event.blockTimestamp,
        transactionHash: event.transactionHash,
      });
      byHash.set(hash, list);
    }
    return byHash;
  }

  /** The highest audience the viewer reads for the batch, uploads of its own aside. */
  function audienceOf(viewer: Viewer, custody: Set<Hex>): BatchDocumentAudience {
    if (!viewer.signedIn) return "public";
    if (viewer.roles.some((role) => PRODUCT_DATA_AUTHORITY_ROLES.includes(role))) return "authorities";
    // A participant with no roles (suspended, or not onboarded) is no partner.
    if (viewer.roles.length > 0 && custody.has(viewer.address.toLowerCase() as Hex)) return "partners";
    return "public";
  }

  function viewOf(document: BatchDocument, anchors: Map<Hex, DocumentAnchor[]>): BatchDocumentView {
    const all = anchors.get(document.contentHash) ?? [];
    return { ...document, anchored: all.some((anchor) => anchor.anchoredBy === document.uploadedBy), anchors: all };
  }

  /** The batch's documents the viewer may read, as views; the batch must exist. */
  async function visible(viewer: Viewer, batchId: Hex, only?: Hex): Promise<BatchDocumentView[]> {
    const batch = await store.getBatch(batchId);
    if (batch === null) throw notFound(`no batch ${batchId} is registered`);
    const custody = await chainOfCustody(batch);
    const anchors = await anchorsOf(batchId, custody);
    const highest = AUDIENCE_RANK[audienceOf(viewer, custody)];
    const self = viewer.signedIn ? (viewer.address.toLowerCase() as Hex) : null;
    const documents =
      only === undefined
        ? await store.listBatchDocuments(batchId)
        : [await store.getBatchDocument(batchId, only)].filter((d) => d !== null);
    return documents
      .map((document) => viewOf(document, anchors))
      .filter((view) => view.uploadedBy === self || (view.anchored && AUDIENCE_RANK[view.audience] <= highest));
  }

  /** The product model's anchors of `contentHash` (from the anchor index), and whether its uploader anchored it. */
  async function productViewOf(document: ProductDocument, holder: Hex | null): Promise<ProductDocumentView> {
    const anchors = (await store.listDocumentAnchors(document.contentHash))
      .filter(
        (record): record is DocumentAnchorRecord & { subject: { kind: "product"; gtin: string } } =>
          record.subject.kind === "product" && record.subject.gtin === document.gtin,
      )
      .map(({ anchoredBy, blockNumber, anchoredAt, transactionHash }) => ({
        anchoredBy,
        byPrefixHolder: anchoredBy === holder,
        blockNumber,
        anchoredAt,
        transactionHash,
      }));
    return { ...document, anchored: anchors.some((anchor) => anchor.anchoredBy === document.uploadedBy), anchors };
  }

  /**
   * The GTIN's documents the viewer may read: its own uploads, and those the current prefix holder uploaded and
   * anchored, up to the viewer's level for the GTIN (as its product data's fields).
   */
  async function visibleForProduct(viewer: Viewer, gtin: string, only?: Hex): Promise<ProductDocumentView[]> {
    const subject = { kind: "product" as const, gtin };
    const holder = await productData.publisherOf(subject);
    const highest = AUDIENCE_RANK[await productData.accessLevel(viewer, subject)];
    const self = viewer.signedIn ? (viewer.address.toLowerCase() as Hex) : null;
    const documents =
      only === undefined ? await store.listProductDocuments(gtin) : [await store.getProductDocument(gtin, only)].filter((d) => d !== null);
    const views = await Promise.all(documents.map((document) => productViewOf(document, holder)));
    return views.filter(
      (view) => view.uploadedBy === self || (view.anchored && view.uploadedBy === holder && AUDIENCE_RANK[view.audience] <= highest),
    );
  }

  const unavailableForProduct = (gtin: string, contentHash: Hex) =>
    notFound(`no document ${contentHash} of GTIN ${gtin} is available to you (sign in if it is not public)`);

  const unavailable = (batchId: Hex, contentHash: Hex) =>
    notFound(`no document ${contentHash} of batch ${batchId} is available to you (sign in if it is not public)`);

  return {
    async upload(viewer, input) {
      if (!viewer.signedIn) throw unauthenticated("sign in as a participant of the batch's chain of custody to upload its documents");
      const { batchId, content } = input;
      const { contentHash, sha256, title } = checkedUpload(input);
      const batch = await store.getBatch(batchId);
      if (batch === null) throw notFound(`no batch ${batchId} is registered`);
      const uploader = viewer.address.toLowerCase() as Hex;
      const custody = await chainOfCustody(batch);
      if (viewer.roles.length === 0 || !custody.has(uploader)) {
        throw forbidden(
          `only an active participant of batch ${batchId}'s chain of custody (its manufacturer, a custodian, an inspector that attested it) may upload its documents`,
        );
      }
      const existing = await store.getBatchDocument(batchId, contentHash);
      if (existing === null) {
        const anchors = await anchorsOf(batchId, custody);
        const unanchored = (await store.listBatchDocuments(batchId)).filter(
          (document) => document.uploadedBy === uploader && !viewOf(document, anchors).anchored,
        );
        if (unanchored.length >= MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER) {
          throw rejected(
            `you already uploaded ${unanchored.length} documents for batch ${batchId} that you never anchored (at most ${MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER}): anchor one first`,
          );
        }
      }
      const candidate: BatchDocument = {
        batchId,
        contentHash,
        sha256,
        kind: input.kind,
        audience: input.audience,
        title,
        contentType: input.mediaType,
        size: content.length,
        uploadedBy: uploader,
        uploadedAt: now(),
      };
      const stored = existing ?? (await store.putBatchDocument(candidate, content));
      const anchors = await anchorsOf(batchId, custody);
      const view = viewOf(stored, anchors);
      // Someone else's upload of the same bytes stays theirs: the caller learns no more than that they exist.
      const visibleToCaller =
        view.uploadedBy === uploader || (view.anchored && AUDIENCE_RANK[view.audience] <= AUDIENCE_RANK[audienceOf(viewer, custody)]);
      if (!visibleToCaller) {
        throw forbidden(
          `these bytes were already uploaded for batch ${batchId} by another participant; anchor them yourself to vouch for them`,
        );
      }
      return {
        // A concurrent upload of the same bytes may have won the store's race: then this one created nothing.
        created: existing === null && stored.uploadedBy === uploader && stored.uploadedAt === candidate.uploadedAt,
        document: view,
        anchor: { contract: "ProductDataRegistry", function: "anchorBatchDocument", args: [batchId, contentHash] },
      };
    },

    async list(viewer, batchId) {
      return visible(viewer, batchId);
    },

    async get(viewer, batchId, contentHash) {
      const [view] = await visible(viewer, batchId, contentHash);
      if (view === undefined) throw unavailable(batchId, contentHash);
      return view;
    },

    async open(viewer, batchId, contentHash) {
      const document = await this.get(viewer, batchId, contentHash);
      const content = await store.openBatchDocumentContent(batchId, contentHash);
      if (content === null) throw unavailable(batchId, contentHash);
      return { document, content };
    },

    async verify(input) {
      if ((input.content === undefined || input.content.length === 0) && input.contentHash === undefined) {
        throw invalidInput("send the document's bytes as the body, or its keccak256 as contentHash");
      }
      const computed = input.content !== undefined && input.content.length > 0 ? keccakOf(input.content) : null;
      if (computed !== null && input.contentHash !== undefined && computed !== input.contentHash.toLowerCase()) {
        throw invalidInput(`the bytes hash to keccak256 ${computed}, not the contentHash given (${input.contentHash})`, {
          reason: "hash-mismatch",
          contentHash: computed,
        });
      }
      const contentHash = (computed ?? input.contentHash!.toLowerCase()) as Hex;
      const records = (await store.listDocumentAnchors(contentHash)).filter((record) =>
        record.subject.kind === "batch"
          ? input.gtin === undefined && (input.batchId === undefined || record.subject.batchId === input.batchId.toLowerCase())
          : input.batchId === undefined && (input.gtin === undefined || record.subject.gtin === input.gtin),
      );
      const custodyOf = new Map<Hex, Set<Hex> | null>();
      const holderOf = new Map<string, Hex | null>();
      const anchors: DocumentVerification["anchors"] = [];
      for (const record of records) {
        const { anchoredBy, blockNumber, anchoredAt, transactionHash } = record;
        if (record.subject.kind === "batch") {
          const { batchId } = record.subject;
          if (!custodyOf.has(batchId)) {
            const batch = await store.getBatch(batchId);
            custodyOf.set(batchId, batch === null ? null : await chainOfCustody(batch));
          }
          const inChainOfCustody = custodyOf.get(batchId)?.has(anchoredBy) ?? false;
          anchors.push({ batchId, anchoredBy, inChainOfCustody, blockNumber, anchoredAt, transactionHash });
        } else {
          const { gtin } = record.subject;
          if (!holderOf.has(gtin)) holderOf.set(gtin, await productData.publisherOf({ kind: "product", gtin }));
          const byPrefixHolder = holderOf.get(gtin) === anchoredBy;
          anchors.push({ gtin, anchoredBy, byPrefixHolder, blockNumber, anchoredAt, transactionHash });
        }
      }
      return {
        contentHash,
        sha256: input.content !== undefined && input.content.length > 0 ? sha256Of(input.content) : null,
        anchored: anchors.length > 0,
        summary: summaryOf(contentHash, anchors),
        anchors,
      };
    },

    async uploadForProduct(viewer, input) {
      const { gtin } = input;
      if (!viewer.signedIn) throw unauthenticated(`sign in as the holder of GTIN ${gtin}'s GS1 company prefix to upload its documents`);
      const holder = await productData.publisherOf({ kind: "product", gtin });
      const uploader = viewer.address.toLowerCase() as Hex;
      if (holder !== uploader || !viewer.roles.includes("MANUFACTURER")) {
        throw forbidden(`only the holder of GTIN ${gtin}'s GS1 company prefix, an active manufacturer, may upload its documents`);
      }
      const { contentHash, sha256, title } = checkedUpload(input);
      const existing = await store.getProductDocument(gtin, contentHash);
      if (existing === null) {
        const unanchored = (await Promise.all((await store.listProductDocuments(gtin)).map((d) => productViewOf(d, holder)))).filter(
          (document) => document.uploadedBy === uploader && !document.anchored,
        );
        if (unanchored.length >= MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER) {
          throw rejected(
            `you already uploaded ${unanchored.length} documents for GTIN ${gtin} that you never anchored (at most ${MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER}): anchor one first`,
          );
        }
      }
      const candidate: ProductDocument = {
        gtin,
        contentHash,
        sha256,
        kind: input.kind,
        audience: input.audience,
        title,
        contentType: input.mediaType,
        size: input.content.length,
        uploadedBy: uploader,
        uploadedAt: now(),
      };
      const stored = existing ?? (await store.putProductDocument(candidate, input.content));
      const view = await productViewOf(stored, holder);
      // A former prefix holder's upload of the same bytes stays theirs unless it is anchored and shown.
      if (view.uploadedBy !== uploader && !(view.anchored && view.uploadedBy === holder)) {
        throw forbidden(`these bytes were already uploaded for GTIN ${gtin} by another account; they are not yours to describe`);
      }
      return {
        created: existing === null && stored.uploadedBy === uploader && stored.uploadedAt === candidate.uploadedAt,
        document: view,
        anchor: { contract: "ProductDataRegistry", function: "anchorProductDocument", args: [String(BigInt(gtin)), contentHash] },
      };
    },

    listForProduct(viewer, gtin) {
      return visibleForProduct(viewer, gtin);
    },

    async getForProduct(viewer, gtin, contentHash) {
      const [view] = await visibleForProduct(viewer, gtin, contentHash);
      if (view === undefined) throw unavailableForProduct(gtin, contentHash);
      return view;
    },

    async openForProduct(viewer, gtin, contentHash) {
      const document = await this.getForProduct(viewer, gtin, contentHash);
      const content = await store.openProductDocumentContent(gtin, contentHash);
      if (content === null) throw unavailableForProduct(gtin, contentHash);
      return { document, content };
    },
  };
}

function summaryOf(contentHash: Hex, anchors: DocumentVerification["anchors"]): string {
  if (anchors.length === 0) {
    return `not anchored: no account has anchored keccak256 ${contentHash} for any batch or product on the chain this backend mirrors (as far as it has indexed)`;
  }
  const places = [...new Set(anchors.map((anchor) => ("batchId" in anchor ? `batch ${anchor.batchId}` : `GTIN ${anchor.gtin}`)))];
  return `anchored ${anchors.length} time${anchors.length === 1 ? "" : "s"}, for ${places.join(", ")}; first in block ${anchors[0]!.blockNumber} by ${anchors[0]!.anchoredBy}`;
}
