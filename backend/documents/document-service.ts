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
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { keccak256 } from "ethers";
import type { Viewer } from "../auth/auth-service.ts";
import { forbidden, invalidInput, notFound, rejected, unauthenticated } from "../domain/errors.ts";
import type { Batch, BatchDocument, BatchDocumentAudience, BatchDocumentKind, ChainEvent, Hex } from "../domain/model.ts";
import { PRODUCT_DATA_AUTHORITY_ROLES } from "../product-data/product-data-service.ts";
import type { BatchDocuments, MirrorLog, ProjectionReads } from "../store/port.ts";
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

export interface DocumentVerification {
  contentHash: Hex;
  sha256: Hex | null;
  /** Whether any account anchored these bytes for a batch (`anchors` says which, and whether it was a custody partner). */
  anchored: boolean;
  anchors: Array<DocumentAnchor & { batchId: Hex }>;
}

export interface BatchDocumentService {
  upload(viewer: Viewer, input: UploadDocumentInput): Promise<UploadDocumentResult>;
  /** The batch's documents the viewer may read (the batch must exist). */
  list(viewer: Viewer, batchId: Hex): Promise<BatchDocumentView[]>;
  /** One document, if the viewer may read it; not-found otherwise, whatever the reason. */
  get(viewer: Viewer, batchId: Hex, contentHash: Hex): Promise<BatchDocumentView>;
  /** The document and its bytes, under the same rule as `get`. */
  open(viewer: Viewer, batchId: Hex, contentHash: Hex): Promise<{ document: BatchDocumentView; content: Readable }>;
  /** Which batches the bytes (or their keccak256) are anchored for, by whom and when; `batchId` narrows the search to one. */
  verify(input: { content?: Uint8Array; contentHash?: Hex; batchId?: Hex }): Promise<DocumentVerification>;
}

export interface BatchDocumentServiceOptions {
  store: BatchDocuments & Pick<ProjectionReads, "getBatch"> & Pick<MirrorLog, "listEvents">;
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

export function createBatchDocumentService(options: BatchDocumentServiceOptions): BatchDocumentService {
  const { store } = options;
  const now = options.now ?? Date.now;

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

  const unavailable = (batchId: Hex, contentHash: Hex) =>
    notFound(`no document ${contentHash} of batch ${batchId} is available to you (sign in if it is not public)`);

  return {
    async upload(viewer, input) {
      if (!viewer.signedIn) throw unauthenticated("sign in as a participant of the batch's chain of custody to upload its documents");
      const { batchId, content } = input;
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
      const batchIds =
        input.batchId !== undefined
          ? [input.batchId]
          : [...new Set((await store.findBatchDocumentsByHash(contentHash)).map((document) => document.batchId))];
      const anchors: DocumentVerification["anchors"] = [];
      for (const batchId of batchIds) {
        const batch = await store.getBatch(batchId);
        if (batch === null) continue;
        const found = (await anchorsOf(batchId, await chainOfCustody(batch))).get(contentHash) ?? [];
        anchors.push(...found.map((anchor) => ({ batchId, ...anchor })));
      }
      anchors.sort((a, b) => a.blockNumber - b.blockNumber);
      return {
        contentHash,
        sha256: input.content !== undefined && input.content.length > 0 ? sha256Of(input.content) : null,
        anchored: anchors.length > 0,
        anchors,
      };
    },
  };
}
