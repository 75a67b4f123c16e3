/**
 * The finished passport of a batch or unit: everything a consumer sees after scanning. The service builds it; the
 * HTML and JSON-LD renderers are pure functions of it.
 */
import type { ChartReading, ChartSpan } from "./cold-chain-chart.ts";
import type { ColdChainStory } from "./cold-chain-story.ts";
import type { Batch, Hex, InspectionResult, Participant, ScanStats, UnitClaim, UnitToken } from "../domain/model.ts";
import type { PassportProductData } from "../product-data/product-data-service.ts";
import type { TrackRecord } from "../reputation/track-record.ts";
import type { DigitalLink } from "./digital-link.ts";
import type { HistoryEntry } from "./history-entries.ts";

export type { HistoryEntry, HistoryKind } from "./history-entries.ts";

export interface UnitView {
  serial: string;
  /** null when the batch's serial list was never uploaded (membership cannot be proven). */
  proof: Hex[] | null;
  /** A claim recorded in the database before ownership tokens replaced it; shown read-only when there is no token. */
  claim: UnitClaim | null;
  /** The unit's ownership token (IUnitOwnership); null when the deployment has no ownership contract. */
  ownership: UnitOwnershipView | null;
  scans: ScanStats;
  /** Reasons the code may be cloned; empty when the scan pattern looks genuine. */
  cloneWarnings: string[];
}

export interface UnitOwnershipView {
  contract: Hex;
  chainId: number;
  tokenId: string;
  /** The registered batch the token belongs to (the unit's own lot, or the lot it was split from). */
  registeredBatchId: Hex;
  token: UnitToken | null;
  /** True when the manufacturer committed the batch's claim keys, so the unit can be claimed. */
  claimable: boolean;
  /** Where its accepted claim came from (a country code), when known. */
  claimRegion: string | null;
}

/** An earlier lot of the batch, with its events as shown: how it came to exist, its journey before the split, its recall. */
export interface AncestorView {
  batch: Batch;
  registration: HistoryEntry;
  /** Its custody steps and inspections in chain order; never its splits into other lots. */
  historyBeforeSplit: HistoryEntry[];
  recall: HistoryEntry | null;
}

/** A partner whose track record the passport shows in one line: the manufacturer and each carrier of the goods. */
export interface PartnerReputation {
  role: "manufacturer" | "carrier";
  address: Hex;
  reputation: TrackRecord;
}

export interface PassportView {
  link: DigitalLink;
  /** Canonical Digital Link of what was scanned (unit or batch) and of its batch. */
  uri: string;
  batchUri: string;
  batch: Batch;
  /** Parent, grandparent, ... (nearest first), each with its events. */
  lineage: AncestorView[];
  children: Batch[];
  /** The lots a merge (transformation) consumed to make this one, in the event's order; empty when no merge made it. */
  madeFrom: Batch[];
  /** The lots the merge that consumed this one made; empty when it was not consumed. */
  usedIn: Batch[];
  /** The batch's own events, in chain order. */
  history: HistoryEntry[];
  /** The recall that applies: the batch's own, else the nearest recalled ancestor's. */
  recall: { batch: Batch; entry: HistoryEntry; inherited: boolean } | null;
  /**
   * The inspection result that applies: the batch's own latest, else the last one the nearest inspected earlier lot
   * had before it was split (a lot split from a failed one is not "not inspected"); `batch` is the lot it was made on.
   */
  inspection: { result: InspectionResult; batch: Batch; entry: HistoryEntry | null; inherited: boolean };
  participants: Map<Hex, Participant>;
  manufacturer: { address: Hex; participant: Participant | null; verified: boolean };
  /** The manufacturer first, then the carriers in the order they held the goods; participants the mirror knows only. */
  partners: PartnerReputation[];
  unit: UnitView | null;
  /** Registered designs the GTIN's brand links to the product (DesignRegistry), oldest link first. */
  designs: PassportDesign[];
  /** The cold chain of the goods (their lot and the lots it came from), when any leg was monitored. */
  coldChain: PassportColdChain | null;
  /** The product's public DPP data and the batch's carbon footprint (backend/product-data); null when none is anchored. */
  productData: PassportProductData | null;
  /**
   * The public, anchored documents of the product model, then of the batch (backend/documents); the same for everyone.
   * A signed-in viewer's further ones are in its PassportViewerSections, never here.
   */
  documents?: PassportDocument[];
  /**
   * Set while the batch is packed in a container (LogisticUnits): the container, the outermost one, and who holds
   * the goods (the outermost container's custodian, not the registry's record). Its participant is in `participants`.
   */
  container?: { sscc: string; outermostSscc: string; holder: Hex } | null;
  verification: { chainId: number; registry: Hex; rpcUrl: string; deployBlock: number; asOfBlock: number | null };
  generatedAt: number;
}

/** What the passport shows of the cold chain: the story in plain words and what its chart draws. */
export interface PassportColdChain {
  story: Exclude<ColdChainStory, { kind: "unmonitored" }>;
  /** Centi-degrees Celsius. */
  band: { min: number; max: number };
  readings: ChartReading[];
  /** Spans when the readings were outside the band (unix seconds). */
  excursions: ChartSpan[];
  /** Where one leg ends and the next begins. */
  legBoundaries: number[];
  /** Readings committed on chain by anchored roots, and readings shown. */
  anchoredReadings: number;
  /** More readings exist than the chart draws (it draws the first MAX_CHART_READINGS). */
  truncated: boolean;
  /** The legs shown, whose readings the page checks against their anchored roots in the browser. */
  legIds?: Hex[];
  /** The cold-chain contract those roots are anchored on. */
  contract?: Hex;
}

/** A design linked to the product: who registered it and when (unix seconds). */
export interface PassportDesign {
  registrant: Hex;
  registrantName: string | null;
  root: Hex;
  registeredAt: number;
  title: string;
}

/** The batch's own latest inspection, else the nearest ancestor's last one before its split; "none" when neither. */
export function effectiveInspection(batch: Batch, history: HistoryEntry[], lineage: AncestorView[]): PassportView["inspection"] {
  const lastInspection = (entries: HistoryEntry[]) => entries.filter((entry) => entry.kind === "inspection").at(-1) ?? null;
  if (batch.inspection !== "none") return { result: batch.inspection, batch, entry: lastInspection(history), inherited: false };
  for (const ancestor of lineage) {
    const entry = lastInspection(ancestor.historyBeforeSplit);
    if (entry) return { result: entry.args.passed === true ? "passed" : "failed", batch: ancestor.batch, entry, inherited: true };
  }
  return { result: "none", batch, entry: null, inherited: false };
}

/** A public document of the batch, as the passport lists it. */
export interface PassportDocument {
  title: string;
  kind: string;
  contentType: string;
  size: number;
  contentHash: Hex;
  sha256: Hex;
  /** Where its bytes are served (absolute). */
  url: string;
}

/** The access levels above public: who besides everyone may read a product data field or a document. */
export type PrivateLevel = "partners" | "authorities";

/**
 * What a signed-in viewer entitled to more than the public passport sees besides it (passport-service.ts
 * `viewerSections`): the product data fields and documents above public that the viewer may read, each with the
 * level it needs. Never part of a cached rendering or of the page's JSON-LD.
 */
export interface PassportViewerSections {
  viewer: { address: Hex; name: string | null; roles: string[] };
  /** The viewer's level for this batch. */
  level: PrivateLevel;
  /** Product data fields above public, each with the level it needs; empty when none is anchored. */
  fields: { field: string; level: PrivateLevel; value: unknown }[];
  /** Anchored documents above public, of the product model then of the batch. */
  documents: (PassportDocument & { level: PrivateLevel })[];
}
