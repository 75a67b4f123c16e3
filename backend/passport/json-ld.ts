/**
 * The passport as JSON-LD: a schema.org Product (IndividualProduct for a unit) with GS1 Web Vocabulary batch and
 * serial numbers, the manufacturer as an Organization with its GLN, and the batch's event history as an ordered
 * schema.org ItemList. Provena-specific facts (chain coordinates of each event, lineage with each ancestor's custody
 * steps and inspections before the split, registry state, the unit's Merkle proof) live under the provena:
 * namespace, which verifiers (the page's script, scripts/verify.ts) read; see verify-core.js claimsFromJsonLd.
 */
import type { Participant } from "../domain/model.ts";
import { buildDigitalLink } from "./digital-link.ts";
import type { HistoryEntry, PassportView } from "./passport-view.ts";

export const PROVENA_NAMESPACE = "https://provena.dev/ns#";

export const JSON_LD_CONTEXT = {
  "@vocab": "https://schema.org/",
  gs1: "https://gs1.org/voc/",
  provena: PROVENA_NAMESPACE,
} as const;

const isoDate = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
const isoTime = (seconds: number) => new Date(seconds * 1000).toISOString();

function organization(address: string, participant: Participant | undefined | null) {
  return {
    "@type": "Organization",
    identifier: address,
    ...(participant ? { name: participant.name, globalLocationNumber: participant.gln } : {}),
  };
}

function historyItem(entry: HistoryEntry) {
  return {
    "@type": "provena:ChainEvent",
    name: entry.label,
    "provena:kind": entry.kind,
    "provena:event": entry.event,
    startTime: isoTime(entry.timestamp),
    "provena:timestamp": entry.timestamp,
    "provena:blockNumber": entry.blockNumber,
    "provena:logIndex": entry.logIndex,
    "provena:transactionHash": entry.transactionHash,
    "provena:args": entry.args,
  };
}

export function passportJsonLd(view: PassportView, publicBaseUrl: string) {
  const { batch, unit, manufacturer } = view;
  return {
    "@context": JSON_LD_CONTEXT,
    "@type": unit ? "IndividualProduct" : "Product",
    "@id": view.uri,
    url: view.uri,
    name: unit ? `GTIN ${batch.gtin}, lot ${batch.lot}, serial ${unit.serial}` : `GTIN ${batch.gtin}, lot ${batch.lot}`,
    gtin: batch.gtin,
    gtin14: batch.gtin,
    "gs1:hasBatchLotNumber": batch.lot,
    ...(unit ? { serialNumber: unit.serial, "gs1:hasSerialNumber": unit.serial } : {}),
    productionDate: isoDate(batch.productionDate),
    "provena:productionTimestamp": batch.productionDate,
    manufacturer: {
      ...organization(manufacturer.address, manufacturer.participant),
      "provena:verified": manufacturer.verified,
    },
    "provena:origin": { "@type": "Place", globalLocationNumber: batch.originGln },
    ...(unit ? { isVariantOf: { "@type": "Product", "@id": view.batchUri, url: view.batchUri } } : {}),
    "provena:state": {
      batchId: batch.batchId,
      status: batch.status,
      custodian: batch.custodian,
      pendingCustodian: batch.pendingCustodian,
      inspection: batch.inspection,
      quantity: batch.quantity,
      documentHash: batch.documentHash,
    },
    // The inspection that applies; "provena:state".inspection is the registry's own record of this lot only.
    "provena:inspection": {
      "provena:result": view.inspection.result,
      "provena:inherited": view.inspection.inherited,
      "provena:batchId": view.inspection.batch.batchId,
      ...(view.inspection.entry ? historyItem(view.inspection.entry) : {}),
    },
    "provena:recalled": view.recall !== null,
    ...(view.recall
      ? {
          "provena:recall": {
            "provena:batchId": view.recall.batch.batchId,
            "provena:inherited": view.recall.inherited,
            ...historyItem(view.recall.entry),
          },
        }
      : {}),
    "provena:lineage": view.lineage.map(({ batch: ancestor, registration, historyBeforeSplit, recall }) => ({
      "@id": buildDigitalLink(publicBaseUrl, ancestor.gtin, ancestor.lot),
      "provena:batchId": ancestor.batchId,
      "gs1:hasBatchLotNumber": ancestor.lot,
      "provena:registration": historyItem(registration),
      "provena:recall": recall ? historyItem(recall) : null,
      // The earlier lot's custody steps and inspections, before the split (never its splits into other lots).
      "provena:historyBeforeSplit": historyBeforeSplit.map(historyItem),
    })),
    "provena:children": view.children.map((child) => ({
      "@id": buildDigitalLink(publicBaseUrl, child.gtin, child.lot),
      "provena:batchId": child.batchId,
      "gs1:hasBatchLotNumber": child.lot,
      "provena:quantity": child.quantity,
    })),
    "provena:history": {
      "@type": "ItemList",
      itemListOrder: "https://schema.org/ItemListOrderAscending",
      numberOfItems: view.history.length,
      itemListElement: view.history.map((entry, index) => ({ "@type": "ListItem", position: index + 1, item: historyItem(entry) })),
    },
    "provena:participants": [...view.participants.values()].map((participant) => ({
      ...organization(participant.address, participant),
      "provena:roles": participant.roles,
      "provena:suspended": participant.suspended,
    })),
    ...(unit
      ? {
          "provena:claimed": unit.ownership ? unit.ownership.token !== null : unit.claim !== null,
          ...(unit.ownership
            ? {
                "provena:ownershipToken": {
                  "provena:contract": unit.ownership.contract,
                  "provena:tokenId": unit.ownership.tokenId,
                  "provena:batchId": unit.ownership.registeredBatchId,
                  "provena:owner": unit.ownership.token?.owner ?? null,
                  "provena:ownedSince": unit.ownership.token ? new Date(unit.ownership.token.ownedSince * 1000).toISOString() : null,
                  "provena:claimedAt": unit.ownership.token ? new Date(unit.ownership.token.claimedAt * 1000).toISOString() : null,
                  "provena:previousOwners": unit.ownership.token?.previousOwners ?? [],
                },
              }
            : unit.claim
              ? { "provena:claimedAt": new Date(unit.claim.claimedAt).toISOString() }
              : {}),
          "provena:scans": { total: unit.scans.total, regions: unit.scans.regions.length },
          "provena:cloneWarnings": unit.cloneWarnings,
        }
      : {}),
    "provena:verification": {
      chainId: view.verification.chainId,
      registry: view.verification.registry,
      rpcUrl: view.verification.rpcUrl,
      deployBlock: view.verification.deployBlock,
      asOfBlock: view.verification.asOfBlock,
      batchId: batch.batchId,
      serialRoot: batch.serialRoot,
      serial: unit?.serial ?? null,
      proof: unit?.proof ?? null,
    },
  };
}
