/**
 * EPCIS 2.0 import, the service: takes a partner's EPCISDocument and the partner's address, checks the document
 * (bounded size, then GS1's EPCIS 2.0 JSON schema, then what each event means: import-plan.ts) and answers the plan
 * of contract calls the partner signs and posts to the relayer. It changes nothing: the chain does, one signed forward
 * request at a time, and refuses whatever the partner may not do even if a plan were wrong.
 *
 * Reads: participants and lots from the mirror (the store), containers and transformations from the chain (the
 * mirror keeps no container projection), so a plan made right after the partner's last call may still see the
 * mirror a block behind; importing again once it caught up converges (already recorded events send nothing).
 */
import { ZeroAddress, type Provider } from "ethers";
import { logisticUnitsAbi, logisticUnitsAt, provenaAbi, transformationsAbi, transformationsAt } from "../chain/contracts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { extractRevertData } from "../chain/revert-reason.ts";
import { forbidden, invalidInput, rejected, unavailable } from "../domain/errors.ts";
import type { Hex, Participant } from "../domain/model.ts";
import { buildSerialTree } from "../passport/serials.ts";
import { withEffectiveStatus } from "../read-model/batch-history.ts";
import type { MirrorStore, ProjectionReads } from "../store/port.ts";
import { epcisSchemaViolations } from "./epcis-schema.ts";
import type { JsonObject } from "./event-hash.ts";
import { planImport, type ImportLookups, type ImportPlan, type ImportTarget } from "./import-plan.ts";
import { relayTargets } from "../relayer/acceptance-checks.ts";

/** Most events one import document may hold (a larger warehouse export is sent in several documents). */
export const MAX_IMPORT_EVENTS = 500;
/** Largest import body: enough for MAX_IMPORT_EVENTS events, or one commissioning listing ~40,000 SGTINs. */
export const IMPORT_BODY_LIMIT = "2mb";
/** Participants the planner resolves party GLNs among (the whole consortium, read once per plan). */
export const MAX_IMPORT_PARTICIPANTS = 10_000;

export interface EpcisImportServiceDeps {
  store: Pick<ProjectionReads, "getBatch" | "getBatches" | "findBatchByGtinLot" | "listParticipants"> &
    Pick<MirrorStore, "findTransformationsConsuming" | "findTransformationsProducing">;
  chain: { provider: Provider; deployment: Pick<Deployment, "registry" | "logisticUnits" | "transformations"> };
}

export interface EpcisImportService {
  /** The plan for `document` imported by `partner` (lower-case address); no state changes. */
  plan(document: unknown, partner: Hex): Promise<ImportPlan>;
}

export function createEpcisImportService({ store, chain }: EpcisImportServiceDeps): EpcisImportService {
  const { deployment, provider } = chain;
  const units = deployment.logisticUnits ? logisticUnitsAt(deployment.logisticUnits, provider) : null;
  const transformations = deployment.transformations ? transformationsAt(deployment.transformations, provider) : null;
  const abis = { registry: provenaAbi("ProvenanceRegistry"), logisticUnits: logisticUnitsAbi(), transformations: transformationsAbi() };
  // The relayer's own list of the contracts it forwards to decides what an import may plan.
  const relayed = relayTargets({ addresses: { forwarder: ZeroAddress as Hex, escrow: ZeroAddress as Hex, ...deployment } });
  const unrelayedTargets: Partial<Record<ImportTarget, string>> = {};
  for (const target of ["logisticUnits", "transformations"] as const) {
    const address = deployment[target];
    if (address !== undefined && !relayed.has(address.toLowerCase()))
      unrelayedTargets[target] =
        `the relayer does not forward calls to ${target} (${address.toLowerCase()}): record this event from the partner's own account`;
  }

  async function participants(): Promise<Participant[]> {
    const all: Participant[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listParticipants({}, { limit: 500, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && all.length < MAX_IMPORT_PARTICIPANTS);
    return all;
  }

  /** A chain read; the node being down is "unavailable" (503), a revert is the caller's to interpret. */
  async function chainRead<T>(read: () => Promise<T>, onRevert: () => T): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (extractRevertData(error) !== null) return onRevert();
      throw unavailable(`the chain could not be read: ${(error as Error).message.split("\n")[0]}`);
    }
  }

  return {
    async plan(document, partner) {
      const body = checkEnvelope(document);
      const violations = epcisSchemaViolations(body);
      if (violations.length > 0)
        throw invalidInput("The document is not a valid EPCIS 2.0 document (GS1's EPCIS 2.0 JSON schema)", {
          code: "SCHEMA_INVALID",
          violations,
        });
      const everyone = await participants();
      const byAddress = new Map(everyone.map((participant) => [participant.address, participant]));
      const byGln = new Map(everyone.map((participant) => [participant.gln.padStart(13, "0"), participant]));
      const me = byAddress.get(partner);
      if (!me) throw forbidden(`${partner} is not an onboarded participant: it may make no Provena call`, { code: "NOT_PARTICIPANT" });
      if (me.suspended) throw forbidden(`${partner} is suspended: it may make no Provena call`, { code: "PARTICIPANT_SUSPENDED" });

      const lookups: ImportLookups = {
        participant: (address) => byAddress.get(address) ?? null,
        participantByGln: (gln) => byGln.get(gln) ?? null,
        async batch(gtin, lot) {
          const batch = await store.findBatchByGtinLot(gtin, lot);
          return batch === null ? null : (await withEffectiveStatus(store, [batch]))[0]!;
        },
        async container(sscc) {
          if (units === null) return null;
          return chainRead(
            async () => {
              const [, custodian] = await units.outermostContainer(BigInt(sscc));
              return { custodian: custodian.toLowerCase() as Hex };
            },
            () => null, // ContainerUnknown
          );
        },
        async packing(batchId) {
          if (units === null) return { sscc: null, releasedTo: null };
          const [sscc, , releasedTo] = await chainRead(
            () => units.packedBatch(batchId),
            () => [0n, false, ZeroAddress] as unknown as Awaited<ReturnType<typeof units.packedBatch>>,
          );
          return {
            sscc: sscc === 0n ? null : sscc.toString().padStart(18, "0"),
            releasedTo: releasedTo === ZeroAddress ? null : (releasedTo.toLowerCase() as Hex),
          };
        },
        async wasProduced(batchId) {
          if (transformations === null) return false;
          return chainRead(
            async () => (await transformations.producedBy(batchId)) !== 0n,
            () => false,
          );
        },
      };
      return planImport({
        document: body,
        partner,
        deployment,
        abis,
        lookups,
        serialRootOf: async (serials) => (await buildSerialTree(serials)).root,
        unrelayedTargets,
        chainTime: await chainRead(
          async () => (await provider.getBlock("latest"))?.timestamp,
          () => undefined,
        ),
      });
    },
  };
}

/** The cheap checks before the schema: an EPCISDocument object whose eventList is within the bound. */
function checkEnvelope(document: unknown): JsonObject {
  if (typeof document !== "object" || document === null || Array.isArray(document))
    throw invalidInput("Send one EPCIS 2.0 EPCISDocument (a JSON-LD object)", { code: "NOT_AN_EPCIS_DOCUMENT" });
  const body = document as JsonObject;
  if (body.type !== "EPCISDocument")
    throw invalidInput(`Send an EPCISDocument (type is ${JSON.stringify(body.type ?? null)})`, { code: "NOT_AN_EPCIS_DOCUMENT" });
  const epcisBody = body.epcisBody;
  const eventList = typeof epcisBody === "object" && epcisBody !== null && !Array.isArray(epcisBody) ? epcisBody.eventList : undefined;
  if (Array.isArray(eventList) && eventList.length > MAX_IMPORT_EVENTS)
    throw rejected(`The document holds ${eventList.length} events; one import takes at most ${MAX_IMPORT_EVENTS}: send it in parts`, {
      code: "TOO_MANY_EVENTS",
      maxEvents: MAX_IMPORT_EVENTS,
    });
  return body;
}
