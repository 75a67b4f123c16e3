/**
 * The passport as JSON-LD: a schema.org Product (IndividualProduct for a unit) with GS1 Web Vocabulary batch and
 * serial numbers, the manufacturer as an Organization with its GLN, and the batch's event history as an ordered
 * schema.org ItemList. Provena-specific facts (chain coordinates of each event, lineage with each ancestor's custody
 * steps and inspections before the split, registry state, the unit's Merkle proof) live under the provena:
 * namespace, which verifiers (the page's script, scripts/verify.ts) read; see verify-core.js claimsFromJsonLd.
 */
import type { Batch, Participant } from "../domain/model.ts";
import { buildDigitalLink } from "./digital-link.ts";
import type { HistoryEntry, PassportView } from "./passport-view.ts";

export const PROVENA_NAMESPACE = "https://provena.dev/ns#";

/**
 * Provena terms whose values are plain JSON objects (chain coordinates, raw event arguments, scores): typed `@json`
 * so a JSON-LD processor keeps them as literals instead of reading their keys as schema.org terms (@vocab).
 */
export const PROVENA_JSON_TERMS = [
  "provena:args",
  "provena:state",
  "provena:verification",
  "provena:deliveries",
  "provena:recalls",
  "provena:inspections",
  "provena:handoffs",
  "provena:scans",
  "provena:legs",
  "provena:cloneWarnings",
  "provena:previousOwners",
  "provena:warranty",
  "provena:spareParts",
  "provena:event",
] as const;

export const JSON_LD_CONTEXT = {
  "@version": 1.1,
  "@vocab": "https://schema.org/",
  gs1: "https://gs1.org/voc/",
  provena: PROVENA_NAMESPACE,
  // The UN Transparency Protocol's DPP vocabulary (vocabulary-terms.ts lists the terms used and their version).
  untp: "https://test.uncefact.org/vocabulary/untp/dpp/",
  ...Object.fromEntries(PROVENA_JSON_TERMS.map((term) => [term, { "@type": "@json" }])),
} as const;

/** Per-language text as JSON-LD language-tagged values. */
function languageValues(text: { en?: string; zh?: string } | undefined) {
  if (!text) return undefined;
  return (["en", "zh"] as const)
    .filter((language) => text[language] !== undefined)
    .map((language) => ({ "@value": text[language], "@language": language }));
}

/** UNECE Recommendation 20 code of the unit the footprint is declared per: "H87", piece (one unit of the product). */
const PER_PIECE = "H87";

/** A UNTP Link to instructions (repair, recycling): their URL and their text as the link's name. */
function untpLink(info: { instructions?: { en?: string; zh?: string }; url?: string }) {
  return {
    "@type": "untp:Link",
    ...(info.url ? { "untp:linkURL": info.url } : {}),
    ...(info.instructions ? { "untp:linkName": languageValues(info.instructions) } : {}),
  };
}

/**
 * The product's public DPP data (backend/product-data): schema.org Product properties where they fit (name,
 * description, image, countryOfOrigin, material), the UN Transparency Protocol's DPP vocabulary where schema.org has
 * nothing (a producing party, materials with their mass fractions and hazards, emissions and circularity
 * scorecards), and provena: for the rest (warranty, spare parts, the footprint's breakdown). Only public fields ever
 * reach the view, so nothing here needs filtering. Every term is in vocabulary-terms.ts's lists (tested).
 */
function productDataJsonLd(view: PassportView) {
  if (!view.productData) return {};
  const { data, footprint } = view.productData;
  const materials = [
    ...(data.materials ?? []).map((material) => ({
      "@type": "untp:Material",
      name: languageValues(material.name),
      // UNTP's massFraction is a fraction of the product's mass (0 to 1); product data declares percent.
      ...(material.percent === undefined ? {} : { "untp:massFraction": material.percent / 100 }),
      ...(material.recycledPercent === undefined ? {} : { "untp:recycledAmount": material.recycledPercent / 100 }),
      "untp:hazardous": false,
    })),
    ...(data.substancesOfConcern ?? []).map((substance) => ({
      "@type": "untp:Material",
      name: substance.name,
      ...(substance.casNumber ? { "untp:symbol": `CAS ${substance.casNumber}` } : {}),
      ...(substance.concentrationPercent === undefined ? {} : { "untp:massFraction": substance.concentrationPercent / 100 }),
      "untp:hazardous": true,
      ...(substance.location ? { "provena:location": substance.location } : {}),
    })),
  ];
  const perUnit = footprint.units > 0 ? Math.round((footprint.totalKgCO2e / footprint.units) * 1e6) / 1e6 : null;
  return {
    ...(data.name ? { name: languageValues(data.name) } : {}),
    ...(data.description ? { description: languageValues(data.description) } : {}),
    ...(data.image ? { image: data.image } : {}),
    ...(data.countryOfOrigin ? { countryOfOrigin: { "@type": "Country", identifier: data.countryOfOrigin } } : {}),
    ...(data.materials ? { material: data.materials.map((material) => languageValues(material.name)).flat() } : {}),
    ...(materials.length > 0 ? { "untp:materialsProvenance": materials } : {}),
    ...(data.manufacturer
      ? {
          "untp:producedByParty": {
            "@type": "untp:Party",
            name: data.manufacturer.name,
            ...(data.manufacturer.gln ? { globalLocationNumber: data.manufacturer.gln } : {}),
            ...(data.manufacturer.country ? { "untp:registrationCountry": data.manufacturer.country } : {}),
            ...(data.manufacturer.url ? { "untp:organisationWebsite": data.manufacturer.url } : {}),
          },
        }
      : {}),
    ...(data.repair || data.recycling
      ? {
          "untp:circularityScorecard": {
            "@type": "untp:CircularityPerformance",
            ...(data.repair ? { "untp:repairInformation": untpLink(data.repair) } : {}),
            ...(data.recycling ? { "untp:recyclingInformation": untpLink(data.recycling) } : {}),
          },
        }
      : {}),
    ...(data.repair?.spareParts ? { "provena:spareParts": data.repair.spareParts } : {}),
    ...(data.warranty ? { "provena:warranty": data.warranty } : {}),
    "untp:emissionsScorecard": {
      "@type": "untp:EmissionsPerformance",
      // kgCO2e per declared unit (one piece): the product's own footprint plus its share of the batch's transport.
      "untp:carbonFootprint": perUnit,
      "untp:declaredUnit": PER_PIECE,
      "untp:reportingStandard": footprint.product?.method ?? null,
      "provena:totalKgCO2e": footprint.totalKgCO2e,
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
    // Merges: the lots a transformation consumed to make this one, and the lots made from it.
    "provena:madeFrom": view.madeFrom.map((input) => mergedLot(publicBaseUrl, input)),
    "provena:usedIn": view.usedIn.map((output) => mergedLot(publicBaseUrl, output)),
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

function mergedLot(publicBaseUrl: string, lot: Batch) {
  return {
    "@id": buildDigitalLink(publicBaseUrl, lot.gtin, lot.lot),
    "provena:batchId": lot.batchId,
    "gs1:gtin": lot.gtin,
    "gs1:hasBatchLotNumber": lot.lot,
    "provena:quantity": lot.quantity,
    "provena:recalled": lot.recall !== null,
  };
}
