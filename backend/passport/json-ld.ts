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
  untp: "https://test.uncefact.org/vocabulary/untp/dpp/",
} as const;

/** Per-language text as JSON-LD language-tagged values. */
function languageValues(text: { en?: string; zh?: string } | undefined) {
  if (!text) return undefined;
  return (["en", "zh"] as const)
    .filter((language) => text[language] !== undefined)
    .map((language) => ({ "@value": text[language], "@language": language }));
}

/**
 * The product's public DPP data (backend/product-data): schema.org Product properties where they fit (name,
 * description, image, countryOfOrigin, material), the UN Transparency Protocol's DPP vocabulary for the rest. Only
 * public fields ever reach the view, so nothing here needs filtering.
 */
function productDataJsonLd(view: PassportView) {
  if (!view.productData) return {};
  const { data, footprint } = view.productData;
  return {
    ...(data.name ? { name: languageValues(data.name) } : {}),
    ...(data.description ? { description: languageValues(data.description) } : {}),
    ...(data.image ? { image: data.image } : {}),
    ...(data.countryOfOrigin ? { countryOfOrigin: { "@type": "Country", identifier: data.countryOfOrigin } } : {}),
    ...(data.materials
      ? {
          material: data.materials.map((material) => ({
            "@type": "Text",
            name: languageValues(material.name),
            "untp:massFraction": material.percent,
            "untp:recycledAmount": material.recycledPercent,
          })),
        }
      : {}),
    ...(data.manufacturer
      ? {
          "untp:manufacturer": {
            "@type": "Organization",
            name: data.manufacturer.name,
            ...(data.manufacturer.gln ? { globalLocationNumber: data.manufacturer.gln } : {}),
            ...(data.manufacturer.country ? { "untp:countryOfOperation": data.manufacturer.country } : {}),
          },
        }
      : {}),
    ...(data.substancesOfConcern ? { "untp:hazardous": data.substancesOfConcern } : {}),
    ...(data.repair ? { "untp:repairInformation": data.repair } : {}),
    ...(data.recycling ? { "untp:recyclingInformation": data.recycling } : {}),
    ...(data.warranty ? { "untp:warranty": data.warranty } : {}),
    "untp:emissionsScorecard": {
      "untp:carbonFootprint": footprint.totalKgCO2e,
      "untp:declaredUnit": "kgCO2e per batch",
      "untp:reportingStandard": footprint.product?.method ?? null,
      "provena:units": footprint.units,
      "provena:productKgCO2e": footprint.product?.kgCO2e ?? null,
      "provena:productKgCO2ePerUnit": footprint.product?.kgCO2ePerUnit ?? null,
      "provena:sourceDocumentHash": footprint.product?.sourceDocumentHash ?? null,
      "provena:transportKgCO2e": footprint.transportKgCO2e,
      "provena:complete": footprint.complete,
      "provena:emissionFactors": footprint.emissionFactors,
      "provena:legs": footprint.legs,
    },
  };
}

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
    ...productDataJsonLd(view),
    ...(view.documents && view.documents.length > 0
      ? {
          "provena:documents": view.documents.map((document) => ({
            "@type": "DigitalDocument",
            name: document.title,
            "provena:kind": document.kind,
            encodingFormat: document.contentType,
            contentSize: document.size,
            "provena:keccak256": document.contentHash,
            "provena:sha256": document.sha256,
            url: document.url,
          })),
        }
      : {}),
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
    // While packed, the registry's custodian is the LogisticUnits contract: who holds the goods is the outermost
    // container's custodian.
    ...(view.container
      ? {
          "provena:container": {
            "provena:sscc": view.container.sscc,
            "provena:outermostSscc": view.container.outermostSscc,
            "provena:holder": view.container.holder,
          },
        }
      : {}),
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
    // The compact track record of the manufacturer and each carrier (all time; the full record is the reputation API's).
    "provena:partnerReputation": view.partners.map(({ role, address, reputation }) => {
      const all = reputation.allTime;
      return {
        ...organization(address, view.participants.get(address)),
        "provena:role": role,
        "provena:method": reputation.method,
        "provena:asOfBlock": reputation.asOf.blockNumber,
        ...(role === "manufacturer"
          ? {
              "provena:deliveries": { onTime: all.deliveryAsSeller.onTime, late: all.deliveryAsSeller.late, ...all.deliveryAsSeller.score },
              "provena:recalls": { lots: all.recalls.lots, recalled: all.recalls.recalled, ...all.recalls.score },
              "provena:inspections": {
                passed: all.inspectionsAsMaker.passed,
                failed: all.inspectionsAsMaker.failed,
                ...all.inspectionsAsMaker.score,
              },
            }
          : {
              "provena:deliveries": {
                onTime: all.deliveryAsCarrier.onTime,
                late: all.deliveryAsCarrier.late,
                ...all.deliveryAsCarrier.score,
              },
              "provena:handoffs": {
                accepted: all.handoffsSent.accepted,
                refused: all.handoffsSent.refusedByRecipient,
                ...all.handoffsSent.score,
              },
            }),
      };
    }),
    "provena:participants": [...view.participants.values()].map((participant) => ({
      ...organization(participant.address, participant),
      "provena:roles": participant.roles,
      "provena:suspended": participant.suspended,
    })),
    // Designs the GTIN's brand links to the product (DesignRegistry); present only when there are some.
    ...(view.designs.length > 0
      ? {
          "provena:designs": view.designs.map((design) => ({
            "provena:root": design.root,
            "provena:registrant": design.registrant,
            ...(design.registrantName ? { "provena:registrantName": design.registrantName } : {}),
            "provena:registeredAt": new Date(design.registeredAt * 1000).toISOString(),
            ...(design.title ? { "provena:title": design.title } : {}),
          })),
        }
      : {}),
    // The cold chain as the page tells it; present only when a leg was monitored.
    ...(view.coldChain
      ? {
          "provena:coldChain": {
            "provena:outcome": view.coldChain.story.kind,
            "provena:minTemperatureCelsius": view.coldChain.band.min / 100,
            "provena:maxTemperatureCelsius": view.coldChain.band.max / 100,
            "provena:journeyHours": view.coldChain.story.journeyHours,
            "provena:monitoredHours": view.coldChain.story.monitoredHours,
            "provena:excursionMinutes": view.coldChain.story.excursionMinutes,
            "provena:allowedExcursionMinutes": view.coldChain.story.allowedMinutes,
            "provena:breaches": view.coldChain.story.breaches.map((breach) => ({
              "provena:carrier": breach.carrier,
              "provena:establishedAt": new Date(breach.at * 1000).toISOString(),
              "provena:minutes": breach.minutes,
            })),
            "provena:readings": view.coldChain.readings.length,
            "provena:anchoredReadings": view.coldChain.anchoredReadings,
          },
        }
      : {}),
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
