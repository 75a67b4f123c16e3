/**
 * Cold-chain projection (IColdChain events): devices, their legs, batch and product conditions (versioned
 * documents: each range writes the new version of what it changed), and anchored roots and breaches (facts, one
 * per event). Pure: given the documents as stored and a range's events, it returns what to write.
 *
 * Reorg safety: every version and fact is stored with the block of the event that made it, so a rollback deletes
 * those above the fork and the versions below it are again the latest; nothing has to be recomputed.
 */
import type {
  BatchColdChainConditions,
  ColdChainBreach,
  ColdChainChanges,
  ColdChainConditions,
  ColdChainDevice,
  ColdChainLeg,
  ProductColdChainConditions,
  ReadingsAnchor,
} from "../domain/cold-chain.ts";
import type { ChainEvent, Hex } from "../domain/model.ts";
import { ProjectionError, eventRef, hexArg, isAlreadyApplied, numberArg, objectArg, stringArg } from "./event-ref.ts";
import { sortedByChainOrder } from "./project.ts";

/** The documents a range's cold-chain events touch, by key. */
export interface ColdChainKeys {
  devices: Hex[];
  legIds: Hex[];
  batchIds: Hex[];
  gtins: string[];
}

/** The stored documents of those keys (missing ones are not stored yet). */
export interface ColdChainDocuments {
  devices: ColdChainDevice[];
  legs: ColdChainLeg[];
  batchConditions: BatchColdChainConditions[];
  productConditions: ProductColdChainConditions[];
}

export type LoadColdChainDocuments = (keys: ColdChainKeys) => Promise<ColdChainDocuments>;

export function coldChainKeysOf(events: Iterable<ChainEvent>): ColdChainKeys {
  const devices = new Set<Hex>();
  const legIds = new Set<Hex>();
  const batchIds = new Set<Hex>();
  const gtins = new Set<string>();
  for (const event of events) {
    if (event.contract !== "ColdChain") continue;
    switch (event.name) {
      case "DeviceRegistered":
      case "DeviceRetired":
        devices.add(hexArg(event, "device"));
        break;
      case "DeviceAttached":
      case "DeviceDetached":
        devices.add(hexArg(event, "device"));
        legIds.add(hexArg(event, "legId"));
        break;
      case "ExcursionRecorded":
      case "BreachEstablished":
        legIds.add(hexArg(event, "legId"));
        break;
      case "BatchConditionsSet":
      case "ConditionsFrozenFor":
        batchIds.add(hexArg(event, "batchId"));
        break;
      case "ProductConditionsSet":
        gtins.add(stringArg(event, "gtin"));
        break;
    }
  }
  return { devices: [...devices], legIds: [...legIds], batchIds: [...batchIds], gtins: [...gtins] };
}

function conditionsArg(event: ChainEvent): ColdChainConditions {
  const value = objectArg(event, "conditions");
  const field = (name: keyof ColdChainConditions): number => {
    const number = value[name];
    if (typeof number !== "number") throw new ProjectionError(event, `conditions.${name} is ${JSON.stringify(number)}, expected a number`);
    return number;
  };
  return {
    minTemperature: field("minTemperature"),
    maxTemperature: field("maxTemperature"),
    minHumidity: field("minHumidity"),
    maxHumidity: field("maxHumidity"),
    allowedExcursionSeconds: field("allowedExcursionSeconds"),
  };
}

/**
 * A uint64 the decoder keeps as a decimal string. Honest sequences stay far below 2^53, but a carrier may anchor
 * (or its device sign) any uint64: a larger one is kept as Number.MAX_SAFE_INTEGER ("beyond every reading"), never
 * an error, which would stop the indexer for everyone.
 */
function sequenceArg(event: ChainEvent, name: string): number {
  const value = event.args[name];
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value !== "string" || !/^\d{1,20}$/.test(value)) {
    throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected a sequence`);
  }
  const sequence = BigInt(value);
  return sequence > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(sequence);
}

/**
 * Folds `events` (any order; applied in chain order) over the stored documents and returns the new versions of
 * the documents they changed and the facts they add. Events already reflected in a document change nothing.
 */
export function projectColdChain(events: readonly ChainEvent[], stored: ColdChainDocuments): ColdChainChanges {
  const devices = new Map(stored.devices.map((device) => [device.address, device]));
  const legs = new Map(stored.legs.map((leg) => [leg.legId, leg]));
  const batchConditions = new Map(stored.batchConditions.map((conditions) => [conditions.batchId, conditions]));
  const productConditions = new Map(stored.productConditions.map((conditions) => [conditions.gtin, conditions]));
  const changed = { devices: new Set<Hex>(), legs: new Set<Hex>(), batches: new Set<Hex>(), gtins: new Set<string>() };
  const anchors: ReadingsAnchor[] = [];
  const breaches: ColdChainBreach[] = [];

  const updateDevice = (event: ChainEvent, address: Hex, change: (device: ColdChainDevice) => ColdChainDevice) => {
    const device = devices.get(address) ?? null;
    if (device === null) throw new ProjectionError(event, `device ${address} is not registered in the mirror`);
    if (isAlreadyApplied(device, event)) return;
    devices.set(address, { ...change(device), lastEvent: eventRef(event) });
    changed.devices.add(address);
  };
  const updateLeg = (event: ChainEvent, legId: Hex, change: (leg: ColdChainLeg) => ColdChainLeg) => {
    const leg = legs.get(legId) ?? null;
    if (leg === null) throw new ProjectionError(event, `leg ${legId} is not in the mirror`);
    if (isAlreadyApplied(leg, event)) return;
    legs.set(legId, { ...change(leg), lastEvent: eventRef(event) });
    changed.legs.add(legId);
  };

  for (const event of sortedByChainOrder(events)) {
    if (event.contract !== "ColdChain") continue;
    const ref = eventRef(event);
    switch (event.name) {
      case "DeviceRegistered": {
        const address = hexArg(event, "device");
        const existing = devices.get(address) ?? null;
        if (isAlreadyApplied(existing, event)) break;
        devices.set(address, {
          address,
          carrier: hexArg(event, "carrier"),
          retired: false,
          currentLegId: null,
          registered: ref,
          lastEvent: ref,
        });
        changed.devices.add(address);
        break;
      }
      case "DeviceRetired":
        updateDevice(event, hexArg(event, "device"), (device) => ({ ...device, retired: true, currentLegId: null }));
        break;
      case "DeviceAttached": {
        const legId = hexArg(event, "legId");
        const device = hexArg(event, "device");
        if (!isAlreadyApplied(legs.get(legId) ?? null, event)) {
          legs.set(legId, {
            legId,
            device,
            batchId: hexArg(event, "batchId"),
            carrier: hexArg(event, "carrier"),
            attachedAt: numberArg(event, "attachedAt"),
            detachedAt: null,
            excursionSeconds: 0,
            breached: false,
            attached: ref,
            lastEvent: ref,
          });
          changed.legs.add(legId);
        }
        updateDevice(event, device, (current) => ({ ...current, currentLegId: legId }));
        break;
      }
      case "DeviceDetached": {
        const legId = hexArg(event, "legId");
        updateLeg(event, legId, (leg) => ({ ...leg, detachedAt: numberArg(event, "detachedAt") }));
        updateDevice(event, hexArg(event, "device"), (device) =>
          device.currentLegId === legId ? { ...device, currentLegId: null } : device,
        );
        break;
      }
      case "ExcursionRecorded":
        updateLeg(event, hexArg(event, "legId"), (leg) => ({ ...leg, excursionSeconds: numberArg(event, "cumulativeSeconds") }));
        break;
      case "BreachEstablished": {
        const legId = hexArg(event, "legId");
        updateLeg(event, legId, (leg) => ({ ...leg, breached: true, excursionSeconds: numberArg(event, "cumulativeSeconds") }));
        breaches.push({
          batchId: hexArg(event, "batchId"),
          legId,
          carrier: hexArg(event, "carrier"),
          breachedAt: numberArg(event, "breachedAt"),
          cumulativeSeconds: numberArg(event, "cumulativeSeconds"),
          at: ref,
        });
        break;
      }
      case "ReadingsAnchored":
        anchors.push({
          legId: hexArg(event, "legId"),
          root: hexArg(event, "root"),
          anchoredBy: hexArg(event, "anchoredBy"),
          count: numberArg(event, "count"),
          firstSequence: sequenceArg(event, "firstSequence"),
          lastSequence: sequenceArg(event, "lastSequence"),
          fromTime: numberArg(event, "fromTime"),
          toTime: numberArg(event, "toTime"),
          at: ref,
        });
        break;
      case "BatchConditionsSet":
      case "ConditionsFrozenFor": {
        const batchId = hexArg(event, "batchId");
        const current = batchConditions.get(batchId) ?? null;
        if (isAlreadyApplied(current, event)) break;
        const base: BatchColdChainConditions = current ?? { batchId, own: null, ownSetBy: null, frozen: null, lastEvent: ref };
        batchConditions.set(
          batchId,
          event.name === "BatchConditionsSet"
            ? { ...base, own: conditionsArg(event), ownSetBy: hexArg(event, "setBy"), lastEvent: ref }
            : { ...base, frozen: conditionsArg(event), lastEvent: ref },
        );
        changed.batches.add(batchId);
        break;
      }
      case "ProductConditionsSet": {
        const gtin = stringArg(event, "gtin");
        if (isAlreadyApplied(productConditions.get(gtin) ?? null, event)) break;
        productConditions.set(gtin, { gtin, conditions: conditionsArg(event), setBy: hexArg(event, "setBy"), lastEvent: ref });
        changed.gtins.add(gtin);
        break;
      }
    }
  }
  return {
    devices: [...changed.devices].map((address) => devices.get(address)!),
    legs: [...changed.legs].map((legId) => legs.get(legId)!),
    batchConditions: [...changed.batches].map((batchId) => batchConditions.get(batchId)!),
    productConditions: [...changed.gtins].map((gtin) => productConditions.get(gtin)!),
    anchors,
    breaches,
  };
}

/** Loads what the events touch and projects them. */
export async function projectColdChainRange(events: readonly ChainEvent[], load: LoadColdChainDocuments): Promise<ColdChainChanges> {
  const keys = coldChainKeysOf(events);
  const empty = keys.devices.length + keys.legIds.length + keys.batchIds.length + keys.gtins.length === 0;
  const hasFacts = events.some(
    (event) => event.contract === "ColdChain" && (event.name === "ReadingsAnchored" || event.name === "BreachEstablished"),
  );
  if (empty && !hasFacts) return { devices: [], legs: [], batchConditions: [], productConditions: [], anchors: [], breaches: [] };
  return projectColdChain(events, await load(keys));
}

/** A LoadColdChainDocuments reading from the store port. */
export function loadColdChainFromStore(store: {
  getColdChainDevices(addresses: Hex[]): Promise<ColdChainDevice[]>;
  getColdChainLegs(legIds: Hex[]): Promise<ColdChainLeg[]>;
  getBatchConditions(batchIds: Hex[]): Promise<BatchColdChainConditions[]>;
  getProductConditions(gtins: string[]): Promise<ProductColdChainConditions[]>;
}): LoadColdChainDocuments {
  return async (keys) => {
    const [devices, legs, batchConditions, productConditions] = await Promise.all([
      keys.devices.length > 0 ? store.getColdChainDevices(keys.devices) : [],
      keys.legIds.length > 0 ? store.getColdChainLegs(keys.legIds) : [],
      keys.batchIds.length > 0 ? store.getBatchConditions(keys.batchIds) : [],
      keys.gtins.length > 0 ? store.getProductConditions(keys.gtins) : [],
    ]);
    return { devices, legs, batchConditions, productConditions };
  };
}
