/**
 * The finished passport of a batch or unit: everything a consumer sees after scanning. The service builds it; the
 * HTML and JSON-LD renderers are pure functions of it.
 */
import type { Batch, Hex, Participant, ScanStats, UnitClaim } from "../domain/model.ts";
import type { DigitalLink } from "./digital-link.ts";
import type { HistoryEntry } from "./history-entries.ts";

export type { HistoryEntry, HistoryKind } from "./history-entries.ts";

export interface UnitView {
  serial: string;
  /** null when the batch's serial list was never uploaded (membership cannot be proven). */
  proof: Hex[] | null;
  claim: UnitClaim | null;
  scans: ScanStats;
  /** Reasons the code may be cloned; empty when the scan pattern looks genuine. */
  cloneWarnings: string[];
}

/** An earlier lot of the batch, with its events as shown: how it came to exist, its journey before the split, its recall. */
export interface AncestorView {
  batch: Batch;
  registration: HistoryEntry;
  /** Its custody steps and inspections in chain order; never its splits into other lots. */
  historyBeforeSplit: HistoryEntry[];
  recall: HistoryEntry | null;
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
  /** The batch's own events, in chain order. */
  history: HistoryEntry[];
  /** The recall that applies: the batch's own, else the nearest recalled ancestor's. */
  recall: { batch: Batch; entry: HistoryEntry; inherited: boolean } | null;
  participants: Map<Hex, Participant>;
  manufacturer: { address: Hex; participant: Participant | null; verified: boolean };
  unit: UnitView | null;
  verification: { chainId: number; registry: Hex; rpcUrl: string; deployBlock: number; asOfBlock: number | null };
  generatedAt: number;
}
