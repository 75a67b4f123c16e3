/** Transformations (merges): one with the lots it consumed and made, each with its effective status. */
import { notFound } from "../../domain/errors.ts";
import { withEffectiveStatus } from "../../read-model/batch-history.ts";
import type { ProjectionReads, TransformationRecords } from "../../store/port.ts";
import type { TransformationDetail } from "../models.ts";
import { summarizeBatch } from "./batches.ts";

export interface TransformationService {
  /** The transformation and its stored lots; 404 problem when unknown. */
  get(transformationId: string): Promise<TransformationDetail>;
}

export function createTransformationService({ store }: { store: ProjectionReads & TransformationRecords }): TransformationService {
  return {
    async get(transformationId) {
      const transformation = await store.getTransformation(transformationId);
      if (!transformation) throw notFound(`No transformation ${transformationId} (unknown, or not indexed yet)`);
      const inputIds = transformation.inputs.map((input) => input.batchId);
      // At most MAX_INPUTS + MAX_OUTPUTS of the contract (120) lots: one read.
      const lots = await withEffectiveStatus(store, await store.getBatches([...inputIds, ...transformation.outputIds]));
      const byId = new Map(lots.map((lot) => [lot.batchId, summarizeBatch(lot)]));
      const stored = (ids: readonly `0x${string}`[]) => ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
      return { ...transformation, inputLots: stored(inputIds), outputLots: stored(transformation.outputIds) };
    },
  };
}
