/**
 * What the API shows of the cold chain: a batch's conditions in force, its legs and breaches; a device and its
 * legs; readings a page at a time. Reads the store only; not-found is a DomainError the routes turn into a 404.
 */
import type {
  ColdChainBreach,
  ColdChainConditions,
  ColdChainDevice,
  ColdChainLeg,
  ReadingsAnchor,
  StoredReading,
} from "../domain/cold-chain.ts";
import { notFound } from "../domain/errors.ts";
import type { Hex, Page } from "../domain/model.ts";
import type { ColdChainReadings, ColdChainReads, PageRequest, ProjectionReads } from "../store/port.ts";

export interface BatchColdChain {
  batchId: Hex;
  /** The conditions in force: frozen at the first leg, else the batch's own, else its GTIN's; null when none. */
  conditions: ColdChainConditions | null;
  conditionsSource: "frozen" | "batch" | "product" | null;
  legs: ColdChainLeg[];
  breaches: ColdChainBreach[];
  readings: number;
}

export interface DeviceView extends ColdChainDevice {
  legs: ColdChainLeg[];
}

/** A leg with the breach established on it (its transaction in `at`), null while none, and its anchored roots. */
export interface LegView extends ColdChainLeg {
  breach: ColdChainBreach | null;
  anchors: ReadingsAnchor[];
}

export interface ColdChainView {
  batch(batchId: Hex): Promise<BatchColdChain>;
  leg(legId: Hex): Promise<LegView>;
  batchReadings(batchId: Hex, page: PageRequest): Promise<Page<StoredReading>>;
  legReadings(legId: Hex, page: PageRequest): Promise<Page<StoredReading>>;
  device(address: Hex): Promise<DeviceView>;
}

export function createColdChainView(
  store: ColdChainReads & Pick<ColdChainReadings, "listReadings" | "countReadings"> & Pick<ProjectionReads, "getBatch">,
): ColdChainView {
  return {
    async batch(batchId) {
      const [batch, [own], legs, breaches] = await Promise.all([
        store.getBatch(batchId),
        store.getBatchConditions([batchId]),
        store.listColdChainLegs({ batchId }),
        store.listColdChainBreaches({ batchId }),
      ]);
      if (batch === null && own === undefined && legs.length === 0) throw notFound(`No batch ${batchId} in the mirror`);
      const [product] = batch === null ? [] : await store.getProductConditions([batch.gtin]);
      const [conditions, conditionsSource] =
        own?.frozen != null
          ? [own.frozen, "frozen" as const]
          : own?.own != null
            ? [own.own, "batch" as const]
            : product !== undefined
              ? [product.conditions, "product" as const]
              : [null, null];
      return { batchId, conditions, conditionsSource, legs, breaches, readings: await store.countReadings({ batchId }) };
    },
    async leg(legId) {
      const [leg] = await store.getColdChainLegs([legId]);
      if (leg === undefined) throw notFound(`No leg ${legId} in the mirror`);
      const [[breach], anchors] = await Promise.all([store.listColdChainBreaches({ legId }), store.listReadingsAnchors(legId)]);
      return { ...leg, breach: breach ?? null, anchors };
    },
    batchReadings: (batchId, page) => store.listReadings({ batchId }, page),
    async legReadings(legId, page) {
      const [leg] = await store.getColdChainLegs([legId]);
      if (leg === undefined) throw notFound(`No leg ${legId} in the mirror`);
      return store.listReadings({ legId }, page);
    },
    async device(address) {
      const [device] = await store.getColdChainDevices([address]);
      if (device === undefined) throw notFound(`No device ${address} registered`);
      return { ...device, legs: await store.listColdChainLegs({ device: address }) };
    },
  };
}
