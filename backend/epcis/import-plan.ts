/**
 * EPCIS 2.0 import, the translation: what each event of a partner's EPCISDocument means as Provena contract calls,
 * made by the partner (its own forward requests, relayed), in document order. No I/O of its own: the mirror and the
 * chain are read through `ImportLookups`, so the same document and the same state always give the same plan.
 *
 * The events Provena records, and the call each becomes:
 * - ObjectEvent ADD commissioning, one lot (LGTIN) in quantityList -> registry.registerBatch (quantity from the
 *   quantityList; the units from epcList SGTINs, else the `provena:serialRoot` extension; origin = bizLocation or
 *   readPoint; productionDate = eventTime; documentHash = the event's hash, so the chain names the source event);
 * - ObjectEvent OBSERVE shipping / departing / transporting with a destination party -> registry.proposeHandoff;
 * - ObjectEvent OBSERVE receiving / arriving / accepting -> registry.acceptHandoff;
 * - ObjectEvent OBSERVE inspecting, disposition conformant / non_conformant -> registry.attestQuality (reportHash =
 *   the event's hash);
 * - AggregationEvent ADD / DELETE with an SSCC parentID and lots in childQuantityList -> LogisticUnits: for ADD a
 *   createContainer when the SSCC is new, a proposeHandoff (Loading) of each lot to the contract, packBatches; for
 *   DELETE unpackBatches, then an acceptHandoff (Unloading) of each released lot;
 * - TransformationEvent, lots in and out -> a proposeHandoff of each input to Transformations, then transform (the
 *   outputs must be lots the partner commissioned and still holds, documentHash = the event's hash).
 *
 * Every other event, and every event whose calls the partner may not make, gets a status "refused" with a code and a
 * reason: never silently dropped. An event whose effect the mirror already shows is "already-recorded" and sends
 * nothing, so importing the same document twice sends nothing the second time. The plan follows its own effects:
 * a lot commissioned by event 1 can be shipped by event 2 of the same document.
 */
import { Interface, type InterfaceAbi } from "ethers";
import { businessStepValue, type BusinessStep } from "../chain/vocabulary.ts";
import { batchIdOf } from "../chain/gs1.ts";
import type { Batch, Hex, Participant } from "../domain/model.ts";
import { eventHashId, EventHashError, type JsonObject, type JsonValue } from "./event-hash.ts";
import { PROVENA_EPCIS_NAMESPACE } from "./events.ts";
import { epcKeyOf, type EpcKey } from "./epc-keys.ts";
import { companyPrefixOf } from "./identifiers.ts";

/** The contracts an import calls. */
export type ImportTarget = "registry" | "logisticUnits" | "transformations";

/** What the planner reads: the mirror's participants and lots, and (where the deployment has them) containers. */
export interface ImportLookups {
  participant(address: Hex): Participant | null;
  participantByGln(gln: string): Participant | null;
  /** The mirrored lot, its status the effective one (Recalled when an ancestor lot was recalled). */
  batch(gtin: string, lot: string): Promise<Batch | null>;
  /** The container's custodian, null when no container has the SSCC (only asked when the deployment has LogisticUnits). */
  container(sscc: string): Promise<{ custodian: Hex } | null>;
  /** The SSCC the lot is directly packed in (null: not packed) and whom it was last unpacked to (null: never). */
  packing(batchId: Hex): Promise<{ sscc: string | null; releasedTo: Hex | null }>;
  /** True when a transformation produced the lot (only asked when the deployment has Transformations). */
  wasProduced(batchId: Hex): Promise<boolean>;
}

export interface ImportDeployment {
  registry: Hex;
  logisticUnits?: Hex;
  transformations?: Hex;
}

export interface ImportAbis {
  registry: InterfaceAbi;
  logisticUnits: InterfaceAbi;
  transformations: InterfaceAbi;
}

export type ImportRefusalCode =
  /** The event is not one Provena records (type, action, business step, or what it names). */
  | "UNSUPPORTED_EVENT"
  /** The event is malformed for its meaning (a missing location, a quantity that is not a whole number…). */
  | "INVALID_EVENT"
  /** An identifier names nothing Provena knows (an unregistered lot, a party that is not onboarded…). */
  | "UNKNOWN_EPC"
  /** The event is another party's action: the partner may not make its call. */
  | "OTHER_PARTY"
  /** The partner lacks the participant role the call needs. */
  | "MISSING_ROLE"
  /** The lot is recalled (itself or through an ancestor lot): it never moves again. */
  | "LOT_RECALLED"
  /** The lot's state does not allow the call (in transit, split, not in the container…). */
  | "BATCH_STATE"
  /** The chain records something different for the same key (a lot registered with another quantity…). */
  | "CONFLICT"
  /** The same event (same EPCIS event hash) appears earlier in the document. */
  | "DUPLICATE_EVENT";

export interface PlannedCall {
  target: ImportTarget;
  /** The contract's address (lower case): the forward request's `to`. */
  to: Hex;
  function: string;
  /** The arguments, JSON-safe (integers as decimal strings). */
  args: JsonValue[];
  /** The encoded calldata: the forward request's `data`. */
  data: Hex;
}

export interface PlannedEvent {
  /** Position in the document's eventList. */
  index: number;
  type: string;
  /** The event's own eventID, when it has one. */
  eventID: string | null;
  /** The EPCIS event hash (CBV 2.0 section 8.9) of the event as sent: the partner matches its events by it. */
  eventHash: string | null;
  status: "planned" | "already-recorded" | "refused";
  code?: ImportRefusalCode;
  /** Why the event is refused, already recorded, or what the calls do. */
  reason: string;
  calls: PlannedCall[];
  /** Commissioning with epcList: the unit serials the serial root commits to (the partner uploads them for passports). */
  serials?: string[];
}

export interface ImportPlan {
  partner: Hex;
  events: PlannedEvent[];
  summary: { planned: number; alreadyRecorded: number; refused: number; calls: number };
}

/** Computes the Merkle root of a serial list (passport/serial-tree.ts); passed in so the planner stays synchronous in spirit. */
export type SerialRootOf = (serials: readonly string[]) => Promise<Hex>;

const PROPOSE_STEPS: ReadonlySet<string> = new Set(["shipping", "departing", "transporting"]);
const ACCEPT_STEPS: ReadonlySet<string> = new Set(["receiving", "arriving", "accepting"]);
const HANDOFF_PARTY_TYPES: ReadonlySet<string> = new Set(["possessing_party", "owning_party"]);
const CBV_PREFIXES = [
  "https://ref.gs1.org/cbv/BizStep-",
  "urn:epcglobal:cbv:bizstep:",
  "https://ref.gs1.org/cbv/Disp-",
  "urn:epcglobal:cbv:disp:",
];
const CBV_SDT_PREFIXES = ["https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"];

/** An event refused: thrown inside one event's planning, caught into its entry. */
class Refusal extends Error {
  constructor(
    readonly code: ImportRefusalCode,
    message: string,
  ) {
    super(message);
  }
}
const refuse = (code: ImportRefusalCode, message: string): never => {
  throw new Refusal(code, message);
};

/** The planner's view of a lot: the mirror's, plus the effects of the calls planned before. */
interface LotState {
  batchId: Hex;
  gtin: string;
  lot: string;
  exists: boolean;
  manufacturer: Hex | null;
  custodian: Hex | null;
  pendingCustodian: Hex | null;
  status: Batch["status"] | null;
  quantity: string | null;
  documentHash: Hex | null;
  parentId: Hex | null;
  custody: Batch["custody"];
  inspections: Batch["inspections"];
  /** Custody steps already matched to an earlier event of the document (each chain step proves one event). */
  matchedSteps: Set<number>;
  /** The SSCC the plan leaves it packed in (undefined: not read from the chain yet). */
  packedIn?: string | null;
  releasedTo?: Hex | null;
}

export interface PlanImportParameters {
  /** The EPCISDocument, already valid against GS1's JSON schema. */
  document: JsonObject;
  partner: Hex;
  deployment: ImportDeployment;
  abis: ImportAbis;
  lookups: ImportLookups;
  serialRootOf: SerialRootOf;
  /**
   * Targets the partner cannot reach through the relayer, each with the reason: an event needing one is refused
   * whole, so an import never stops half-way (a lot offered to a contract that then cannot take it).
   */
  unrelayedTargets?: Partial<Record<ImportTarget, string>>;
  /** The chain's clock (the latest block's timestamp): the registry refuses a production date after it. */
  chainTime?: number;
}

export async function planImport({
  document,
  partner,
  deployment,
  abis,
  lookups,
  serialRootOf,
  unrelayedTargets = {},
  chainTime,
}: PlanImportParameters): Promise<ImportPlan> {
  const interfaces = {
    registry: new Interface(abis.registry),
    logisticUnits: new Interface(abis.logisticUnits),
    transformations: new Interface(abis.transformations),
  };
  const namespaces = contextNamespaces(document["@context"]);
  const eventList = ((document.epcisBody as JsonObject | undefined)?.eventList ?? []) as JsonObject[];
  const lots = new Map<Hex, LotState>();
  const containers = new Map<string, { custodian: Hex } | null>();
  const seenHashes = new Map<string, number>();
  const me = lookups.participant(partner);

  const call = (target: ImportTarget, fn: string, args: (bigint | string | boolean | number | Hex[] | bigint[])[]): PlannedCall => {
    const to = target === "registry" ? deployment.registry : deployment[target];
    if (to === undefined) return refuse("UNSUPPORTED_EVENT", `this deployment has no ${target} contract`);
    const notRelayed = unrelayedTargets[target];
    if (notRelayed !== undefined) return refuse("UNSUPPORTED_EVENT", notRelayed);
    return {
      target,
      to: to.toLowerCase() as Hex,
      function: fn,
      args: args.map(jsonSafe),
      data: interfaces[target].encodeFunctionData(fn, args) as Hex,
    };
  };

  async function lotState(key: Extract<EpcKey, { kind: "lot" }>): Promise<LotState> {
    const batchId = batchIdOf(key.gtin, key.lot).toLowerCase() as Hex;
    let state = lots.get(batchId);
    if (state === undefined) {
      const batch = await lookups.batch(key.gtin, key.lot);
      state = {
        batchId,
        gtin: key.gtin,
        lot: key.lot,
        exists: batch !== null,
        manufacturer: batch?.manufacturer ?? null,
        custodian: batch?.custodian ?? null,
        pendingCustodian: batch?.pendingCustodian ?? null,
        status: batch?.status ?? null,
        quantity: batch?.quantity ?? null,
        documentHash: batch?.documentHash ?? null,
        parentId: batch?.parentId ?? null,
        custody: batch?.custody ?? [],
        inspections: batch?.inspections ?? [],
        matchedSteps: new Set(),
      };
      lots.set(batchId, state);
    }
    return state;
  }

  async function existingLot(uri: string): Promise<LotState> {
    const state = await lotState(lotKey(uri));
    if (!state.exists) refuse("UNKNOWN_EPC", `${uri} names lot ${state.gtin}/${state.lot}, which is not registered (or not mirrored yet)`);
    return state;
  }

  const partyName = (address: Hex | null) => {
    if (address === null) return "nobody";
    const participant = lookups.participant(address);
    return participant ? `${participant.name} (${address})` : address;
  };

  function requireRole(role: string, what: string) {
    if (!me!.roles.includes(role)) refuse("MISSING_ROLE", `${what} needs the ${role} role, which ${partyName(partner)} does not hold`);
  }

  function requireMovable(state: LotState) {
    if (state.status === "recalled") refuse("LOT_RECALLED", `lot ${state.gtin}/${state.lot} is recalled: it never moves again`);
    if (state.status === "split") refuse("BATCH_STATE", `lot ${state.gtin}/${state.lot} was split: its child lots move instead`);
  }

  function requireHeldByPartner(state: LotState, what: string) {
    if (state.custodian !== partner)
      refuse(
        "OTHER_PARTY",
        `${what}: lot ${state.gtin}/${state.lot} is held by ${partyName(state.custodian)}, not by the importing partner`,
      );
    if (state.pendingCustodian !== null)
      refuse("BATCH_STATE", `${what}: lot ${state.gtin}/${state.lot} has a handoff to ${partyName(state.pendingCustodian)} pending`);
  }

  /** True when the partner holds the lot and has already proposed it to `contract` (packing, transforming). */
  function offeredTo(state: LotState, contract: Hex): boolean {
    return state.custodian === partner && state.pendingCustodian === contract.toLowerCase();
  }

  /** The first custody step of `kind` not yet matched that fits; marks it matched. */
  function matchStep(state: LotState, kind: "proposed" | "accepted", fits: (step: Batch["custody"][number]) => boolean): boolean {
    const index = state.custody.findIndex((step, i) => !state.matchedSteps.has(i) && step.kind === kind && fits(step));
    if (index < 0) return false;
    state.matchedSteps.add(index);
    return true;
  }

  function snapshot() {
    return {
      lots: [...lots].map(([batchId, state]) => [batchId, { ...state, matchedSteps: new Set(state.matchedSteps) }] as const),
      containers: [...containers],
    };
  }

  function restore(saved: ReturnType<typeof snapshot>) {
    lots.clear();
    for (const [batchId, state] of saved.lots) lots.set(batchId, state);
    containers.clear();
    for (const [sscc, container] of saved.containers) containers.set(sscc, container);
  }

  async function containerState(sscc: string) {
    if (!containers.has(sscc)) containers.set(sscc, await lookups.container(sscc));
    return containers.get(sscc)!;
  }

  async function packedIn(state: LotState): Promise<string | null> {
    if (state.packedIn === undefined) {
      const packing = await lookups.packing(state.batchId);
      state.packedIn = packing.sscc;
      state.releasedTo = packing.releasedTo;
    }
    return state.packedIn;
  }

  // --- one function per kind of event: returns its calls, or an already-recorded reason; refuses by throwing ---

  type Outcome = { calls: PlannedCall[]; reason: string; serials?: string[] } | { alreadyRecorded: string };

  async function commissioning(event: JsonObject, hash: Hex): Promise<Outcome> {
    const quantities = quantityList(event.quantityList);
    if (quantities.length !== 1)
      refuse("UNSUPPORTED_EVENT", "a commissioning event registers one lot: give exactly one LGTIN epcClass in quantityList");
    const [{ epcClass, quantity }] = quantities as [{ epcClass: string; quantity: bigint }];
    const key = lotKey(epcClass);
    const serials = stringList(event.epcList).map((uri) => {
      const unit = epcKeyOf(uri);
      if (unit?.kind !== "unit") return refuse("UNKNOWN_EPC", `epcList entry ${uri} is not an SGTIN (a unit of the lot)`);
      if (unit.gtin !== key.gtin)
        return refuse("INVALID_EVENT", `epcList entry ${uri} is a unit of GTIN ${unit.gtin}, not of the lot's ${key.gtin}`);
      return unit.serial;
    });
    if (new Set(serials).size !== serials.length) refuse("INVALID_EVENT", "epcList names a unit twice");
    if (serials.length > 0 && BigInt(serials.length) !== quantity)
      refuse("INVALID_EVENT", `quantityList says ${quantity} units but epcList lists ${serials.length}`);
    if (key.lot.includes("/"))
      refuse("INVALID_EVENT", `lot ${key.lot} contains "/", which only split child lots carry: a commissioned lot's number cannot`);
    const origin = placeGln(event);
    if (origin === null)
      refuse("INVALID_EVENT", "a commissioning event needs its place (bizLocation or readPoint, an SGLN): the lot's origin GLN");
    const productionDate = Math.floor(Date.parse(event.eventTime as string) / 1000);
    if (!Number.isSafeInteger(productionDate) || productionDate <= 0 || productionDate >= 2 ** 40)
      refuse("INVALID_EVENT", `eventTime ${event.eventTime as string} is not a production date the registry can record`);
    if (chainTime !== undefined && productionDate > chainTime)
      refuse(
        "INVALID_EVENT",
        `eventTime ${event.eventTime as string} is after the chain's clock (${new Date(chainTime * 1000).toISOString()}): a lot cannot be produced in the future`,
      );
    const state = await lotState(key);
    if (state.exists) {
      // This very event registered it (its hash is the lot's document hash), whoever imports it now; or the partner
      // registered the same lot another way (the CLI, its own code).
      if (state.documentHash === hash) return { alreadyRecorded: `lot ${key.gtin}/${key.lot} is registered from this event` };
      if (state.manufacturer === partner && state.quantity === quantity.toString())
        return { alreadyRecorded: `lot ${key.gtin}/${key.lot} is registered by the partner with ${quantity} units` };
      refuse(
        "CONFLICT",
        state.manufacturer === partner
          ? `lot ${key.gtin}/${key.lot} is already registered with ${state.quantity} units, not ${quantity}`
          : `lot ${key.gtin}/${key.lot} is already registered by ${partyName(state.manufacturer)}`,
      );
    }
    requireRole("MANUFACTURER", "commissioning a lot");
    if (companyPrefixOf(key.gtin.slice(1, 13), me!.companyPrefixes ?? []) === null)
      refuse(
        "OTHER_PARTY",
        `GTIN ${key.gtin} is not under a GS1 company prefix granted to ${partyName(partner)}: another party commissions it`,
      );
    const root =
      serials.length > 0 ? await serialRootOf(serials) : extensionBytes32(event, "serialRoot", { ...namespaces, ...namespacesOf(event) });
    if (root === null)
      refuse(
        "INVALID_EVENT",
        "registerBatch commits to the lot's unit serials: list them as SGTINs in epcList, or give provena:serialRoot",
      );
    const calls = [call("registry", "registerBatch", [BigInt(key.gtin), key.lot, quantity, productionDate, BigInt(origin!), hash, root!])];
    Object.assign(state, {
      exists: true,
      manufacturer: partner,
      custodian: partner,
      pendingCustodian: null,
      status: "registered",
      quantity: quantity.toString(),
      documentHash: hash,
      parentId: null,
    });
    return { calls, reason: `registers lot ${key.gtin}/${key.lot} (${quantity} units)`, ...(serials.length > 0 ? { serials } : {}) };
  }

  async function handoffProposal(event: JsonObject, step: BusinessStep): Promise<Outcome> {
    const lotsNamed = await observedLots(event);
    const receiver = handoffParty(event.destinationList, "destination");
    if (receiver === null) refuse("INVALID_EVENT", `a ${step} event names its receiver: a possessing_party (PGLN) in destinationList`);
    const sender = handoffParty(event.sourceList, "source");
    const location = placeGln(event);
    if (location === null) refuse("INVALID_EVENT", `a ${step} event needs its place (readPoint or bizLocation, an SGLN)`);
    const calls: PlannedCall[] = [];
    for (const state of lotsNamed) {
      const fits = (s: Batch["custody"][number]) =>
        (sender === null || s.from === sender.address) &&
        s.to === receiver!.address &&
        s.locationGln?.padStart(13, "0") === location &&
        s.businessStep === step;
      if (matchStep(state, "proposed", fits)) continue;
      if (sender !== null && sender.address !== partner)
        refuse("OTHER_PARTY", `the ${step} event is ${partyName(sender.address)}'s (its source party), not the importing partner's`);
      requireMovable(state);
      requireHeldByPartner(state, step);
      if (receiver!.address === partner) refuse("INVALID_EVENT", `lot ${state.gtin}/${state.lot} cannot be shipped to its own custodian`);
      if (receiver!.suspended) refuse("OTHER_PARTY", `the receiver ${partyName(receiver!.address)} is suspended`);
      calls.push(call("registry", "proposeHandoff", [state.batchId, receiver!.address, BigInt(location!), businessStepValue(step)]));
      state.pendingCustodian = receiver!.address;
      state.status = "in_transit";
    }
    if (calls.length === 0) return { alreadyRecorded: `the handoff to ${partyName(receiver!.address)} is recorded` };
    return { calls, reason: `proposes the handoff to ${partyName(receiver!.address)}` };
  }

  async function handoffAcceptance(event: JsonObject, step: BusinessStep): Promise<Outcome> {
    const lotsNamed = await observedLots(event);
    const named = handoffParty(event.destinationList, "destination");
    const receiver = named?.address ?? partner;
    const location = placeGln(event);
    if (location === null) refuse("INVALID_EVENT", `a ${step} event needs its place (readPoint or bizLocation, an SGLN)`);
    const calls: PlannedCall[] = [];
    for (const state of lotsNamed) {
      if (
        matchStep(state, "accepted", (s) => s.to === receiver && s.locationGln?.padStart(13, "0") === location && s.businessStep === step)
      )
        continue;
      if (receiver !== partner)
        refuse("OTHER_PARTY", `the ${step} event is ${partyName(receiver)}'s (its destination party), not the importing partner's`);
      requireMovable(state);
      if (state.pendingCustodian !== partner)
        refuse(
          state.pendingCustodian === null ? "BATCH_STATE" : "OTHER_PARTY",
          `no handoff of lot ${state.gtin}/${state.lot} to the importing partner is pending (${state.pendingCustodian === null ? "none is" : `one to ${partyName(state.pendingCustodian)} is`})`,
        );
      calls.push(call("registry", "acceptHandoff", [state.batchId, BigInt(location!), businessStepValue(step)]));
      Object.assign(state, { custodian: partner, pendingCustodian: null, status: "delivered" });
    }
    if (calls.length === 0) return { alreadyRecorded: `${partyName(receiver)}'s acceptance is recorded` };
    return { calls, reason: `accepts custody at GLN ${location}` };
  }

  async function inspection(event: JsonObject, hash: Hex): Promise<Outcome> {
    const disposition = cbvTerm(event.disposition);
    if (disposition !== "conformant" && disposition !== "non_conformant")
      refuse(
        "UNSUPPORTED_EVENT",
        "an inspecting event is recorded as a quality attestation: its disposition must be conformant or non_conformant",
      );
    const passed = disposition === "conformant";
    const lotsNamed = await observedLots(event);
    const calls: PlannedCall[] = [];
    for (const state of lotsNamed) {
      // The report hash is this event's hash: whoever imports the document, this attestation is the event's.
      if (state.inspections.some((entry) => entry.reportHash === hash && entry.passed === passed)) continue;
      requireRole("INSPECTOR", "a quality attestation");
      if (state.status === "split") refuse("BATCH_STATE", `lot ${state.gtin}/${state.lot} was split: its child lots are attested instead`);
      calls.push(call("registry", "attestQuality", [state.batchId, passed, hash]));
    }
    if (calls.length === 0) return { alreadyRecorded: "the attestation with this event's hash is recorded" };
    return { calls, reason: `attests the lot${lotsNamed.length > 1 ? "s" : ""} ${passed ? "passed" : "failed"}` };
  }

  async function aggregation(event: JsonObject): Promise<Outcome> {
    if (deployment.logisticUnits === undefined) refuse("UNSUPPORTED_EVENT", "this deployment has no LogisticUnits contract (containers)");
    if (unrelayedTargets.logisticUnits !== undefined) refuse("UNSUPPORTED_EVENT", unrelayedTargets.logisticUnits);
    const parent = typeof event.parentID === "string" ? epcKeyOf(event.parentID) : null;
    if (parent?.kind !== "sscc") refuse("UNSUPPORTED_EVENT", "Provena records aggregations into logistic units: parentID must be an SSCC");
    const sscc = (parent as Extract<EpcKey, { kind: "sscc" }>).sscc;
    if (stringList(event.childEPCs).length > 0)
      refuse("UNSUPPORTED_EVENT", "childEPCs names units, which do not say their lot: list the lots (LGTIN) in childQuantityList");
    const children = quantityList(event.childQuantityList);
    if (children.length === 0) refuse("INVALID_EVENT", "the aggregation names no lots in childQuantityList");
    const location = placeGln(event);
    if (location === null) refuse("INVALID_EVENT", "an aggregation event needs its place (readPoint or bizLocation, an SGLN)");
    const states: LotState[] = [];
    for (const child of children) states.push(await existingLot(child.epcClass));
    const action = event.action as string;
    const container = await containerState(sscc);
    const calls: PlannedCall[] = [];
    const units = deployment.logisticUnits!.toLowerCase();
    const atPlace = (step: Batch["custody"][number]) => step.locationGln?.padStart(13, "0") === location;
    if (action === "ADD") {
      const toPack: LotState[] = [];
      for (const state of states) {
        if ((await packedIn(state)) === sscc) continue;
        // Packed here before (and maybe unpacked since): the registry shows the contract accepting it, Loading, here.
        if (matchStep(state, "accepted", (step) => step.to === units && step.businessStep === "loading" && atPlace(step))) continue;
        toPack.push(state);
      }
      if (toPack.length === 0) return { alreadyRecorded: `every lot was packed in SSCC ${sscc}` };
      if (container === null) {
        calls.push(call("logisticUnits", "createContainer", [BigInt(sscc), BigInt(location!)]));
        containers.set(sscc, { custodian: partner });
      } else if (container.custodian !== partner) {
        refuse("OTHER_PARTY", `container ${sscc} is held by ${partyName(container.custodian)}, not by the importing partner`);
      }
      for (const state of toPack) {
        requireMovable(state);
        if ((await packedIn(state)) !== null) refuse("BATCH_STATE", `lot ${state.gtin}/${state.lot} is packed in SSCC ${state.packedIn}`);
        // Already offered to the contract (an import cut short between the two calls): only the pack is left.
        if (offeredTo(state, deployment.logisticUnits!)) continue;
        requireHeldByPartner(state, "packing");
        calls.push(
          call("registry", "proposeHandoff", [state.batchId, deployment.logisticUnits!, BigInt(location!), businessStepValue("loading")]),
        );
      }
      const ids = toPack.map((state) => state.batchId);
      calls.push(call("logisticUnits", "packBatches", [BigInt(sscc), ids, BigInt(location!)]));
      for (const state of toPack)
        Object.assign(state, { packedIn: sscc, custodian: deployment.logisticUnits!.toLowerCase(), pendingCustodian: null });
      return { calls, reason: `packs ${toPack.length} lot(s) into SSCC ${sscc}` };
    }
    if (action === "DELETE") {
      const toUnpack: LotState[] = [];
      /** Unpacked already, released to the partner, its registry handoff not yet accepted (an import cut short). */
      const toAccept: LotState[] = [];
      for (const state of states) {
        if ((await packedIn(state)) === sscc) toUnpack.push(state);
        else if (matchStep(state, "accepted", (step) => step.from === units && step.businessStep === "unloading" && atPlace(step)))
          continue;
        else if (state.packedIn !== null || state.releasedTo === null)
          refuse("BATCH_STATE", `lot ${state.gtin}/${state.lot} is not in container ${sscc}`);
        else if (state.releasedTo === partner && state.pendingCustodian === partner) toAccept.push(state);
      }
      if (toUnpack.length > 0) {
        if (container === null) refuse("UNKNOWN_EPC", `no container has SSCC ${sscc}`);
        if (container!.custodian !== partner)
          refuse("OTHER_PARTY", `container ${sscc} is held by ${partyName(container!.custodian)}, not by the importing partner`);
        calls.push(call("logisticUnits", "unpackBatches", [BigInt(sscc), toUnpack.map((state) => state.batchId), BigInt(location!)]));
      }
      // A recalled lot leaves the container without a registry handoff (it never moves again there).
      for (const state of [...toUnpack, ...toAccept]) {
        Object.assign(state, { packedIn: null, releasedTo: partner });
        if (state.status === "recalled") continue;
        calls.push(call("registry", "acceptHandoff", [state.batchId, BigInt(location!), businessStepValue("unloading")]));
        Object.assign(state, { custodian: partner, pendingCustodian: null, status: "delivered" });
      }
      if (calls.length === 0) return { alreadyRecorded: `every lot was unpacked from SSCC ${sscc}` };
      return { calls, reason: `unpacks ${toUnpack.length + toAccept.length} lot(s) from SSCC ${sscc}` };
    }
    return refuse("UNSUPPORTED_EVENT", `an AggregationEvent ${action} is not recorded (ADD packs, DELETE unpacks)`);
  }

  async function transformation(event: JsonObject, hash: Hex): Promise<Outcome> {
    if (deployment.transformations === undefined) refuse("UNSUPPORTED_EVENT", "this deployment has no Transformations contract");
    if (unrelayedTargets.transformations !== undefined) refuse("UNSUPPORTED_EVENT", unrelayedTargets.transformations);
    if (stringList(event.inputEPCList).length > 0 || stringList(event.outputEPCList).length > 0)
      refuse("UNSUPPORTED_EVENT", "input/output EPC lists name units, which do not say their lot: list lots (LGTIN) in the quantity lists");
    const inputs = quantityList(event.inputQuantityList);
    const outputs = quantityList(event.outputQuantityList);
    if (inputs.length === 0 || outputs.length === 0)
      refuse("INVALID_EVENT", "a transformation names its input and output lots (LGTIN quantity lists)");
    const location = placeGln(event);
    if (location === null) refuse("INVALID_EVENT", "a transformation event needs its place (readPoint or bizLocation, an SGLN)");
    const inputStates: LotState[] = [];
    for (const input of inputs) inputStates.push(await existingLot(input.epcClass));
    const outputStates: LotState[] = [];
    for (const output of outputs) outputStates.push(await existingLot(output.epcClass));
    if (await lookups.wasProduced(outputStates[0]!.batchId))
      return { alreadyRecorded: "the transformation that produced the outputs is recorded" };
    for (const state of inputStates) {
      if (state.quantity !== null && inputs.find((input) => lotKey(input.epcClass).lot === state.lot)!.quantity !== BigInt(state.quantity))
        refuse("INVALID_EVENT", `inputs are consumed whole: lot ${state.gtin}/${state.lot} holds ${state.quantity} units (split it first)`);
      requireMovable(state);
      if (!offeredTo(state, deployment.transformations!)) requireHeldByPartner(state, "a transformation input");
    }
    for (const state of outputStates) {
      if (state.manufacturer !== partner || state.custodian !== partner || state.status !== "registered" || state.parentId !== null)
        refuse("OTHER_PARTY", `output lot ${state.gtin}/${state.lot} must be one the partner commissioned and still holds untouched`);
    }
    const calls = inputStates
      .filter((state) => !offeredTo(state, deployment.transformations!))
      .map((state) =>
        call("registry", "proposeHandoff", [state.batchId, deployment.transformations!, BigInt(location!), businessStepValue("receiving")]),
      );
    calls.push(
      call("transformations", "transform", [
        inputStates.map((s) => s.batchId),
        outputStates.map((s) => s.batchId),
        BigInt(location!),
        hash,
      ]),
    );
    for (const state of inputStates) Object.assign(state, { custodian: deployment.transformations!.toLowerCase(), status: "delivered" });
    return { calls, reason: `consumes ${inputStates.length} lot(s) into ${outputStates.length}` };
  }

  async function observedLots(event: JsonObject): Promise<LotState[]> {
    if (stringList(event.epcList).length > 0)
      refuse("UNSUPPORTED_EVENT", "epcList names units, which do not say their lot: list the lots (LGTIN) in quantityList");
    const quantities = quantityList(event.quantityList);
    if (quantities.length === 0) refuse("INVALID_EVENT", "the event names no lot (an LGTIN epcClass in quantityList)");
    const states: LotState[] = [];
    for (const { epcClass } of quantities) states.push(await existingLot(epcClass));
    return states;
  }

  function handoffParty(list: JsonValue | undefined, field: "source" | "destination"): Participant | null {
    const parties = (Array.isArray(list) ? list : []).filter(
      (entry): entry is JsonObject => isObject(entry) && HANDOFF_PARTY_TYPES.has(sdtTerm(entry.type)),
    );
    if (parties.length === 0) return null;
    const glns = new Set(
      parties.map((entry) => {
        const key = typeof entry[field] === "string" ? epcKeyOf(entry[field]) : null;
        if (key?.kind !== "party" && key?.kind !== "location")
          return refuse("UNKNOWN_EPC", `${field} ${JSON.stringify(entry[field])} is not a party GLN (PGLN)`);
        return key.gln;
      }),
    );
    if (glns.size > 1) refuse("INVALID_EVENT", `the ${field}List names ${glns.size} different parties; a handoff has one`);
    const gln = [...glns][0]!;
    const participant = lookups.participantByGln(gln);
    if (participant === null) refuse("UNKNOWN_EPC", `party GLN ${gln} is not an onboarded participant`);
    return participant;
  }

  async function planEvent(event: JsonObject, hash: Hex): Promise<Outcome> {
    const type = event.type as string;
    const action = event.action as string | undefined;
    const bizStep = cbvTerm(event.bizStep);
    if (type === "ObjectEvent") {
      if (action === "ADD" && bizStep === "commissioning") return commissioning(event, hash);
      if (action === "OBSERVE" && PROPOSE_STEPS.has(bizStep)) return handoffProposal(event, bizStep as BusinessStep);
      if (action === "OBSERVE" && ACCEPT_STEPS.has(bizStep)) return handoffAcceptance(event, bizStep as BusinessStep);
      if (action === "OBSERVE" && bizStep === "inspecting") return inspection(event, hash);
      return refuse(
        "UNSUPPORTED_EVENT",
        `an ObjectEvent ${action ?? ""} with bizStep ${bizStep || "(none)"} is not recorded: Provena records commissioning (ADD), ` +
          `${[...PROPOSE_STEPS, ...ACCEPT_STEPS].join(", ")} and inspecting (OBSERVE)`,
      );
    }
    if (type === "AggregationEvent") return aggregation(event);
    if (type === "TransformationEvent") return transformation(event, hash);
    return refuse("UNSUPPORTED_EVENT", `${type} is not recorded: Provena records ObjectEvents, AggregationEvents and TransformationEvents`);
  }

  const events: PlannedEvent[] = [];
  for (const [index, event] of eventList.entries()) {
    const type = typeof event.type === "string" ? event.type : "unknown";
    const eventID = typeof event.eventID === "string" ? event.eventID : null;
    let eventHash: string | null = null;
    // A refused event plans nothing, so it must change nothing the next events see (a two-lot event refused on its
    // second lot leaves the first where it was).
    const before = snapshot();
    try {
      eventHash = eventHashId(event, { ...namespaces, ...namespacesOf(event) });
      if (me === null || me.suspended)
        refuse("OTHER_PARTY", `${partner} is ${me === null ? "not an onboarded participant" : "suspended"}: it may make no Provena call`);
      const earlier = seenHashes.get(eventHash);
      if (earlier !== undefined) refuse("DUPLICATE_EVENT", `the same event (same EPCIS event hash) is event ${earlier} of the document`);
      seenHashes.set(eventHash, index);
      if (typeof event.eventTime !== "string") refuse("INVALID_EVENT", "the event has no eventTime");
      const outcome = await planEvent(event, digestOf(eventHash));
      events.push(
        "alreadyRecorded" in outcome
          ? { index, type, eventID, eventHash, status: "already-recorded", reason: outcome.alreadyRecorded, calls: [] }
          : {
              index,
              type,
              eventID,
              eventHash,
              status: "planned",
              reason: outcome.reason,
              calls: outcome.calls,
              ...(outcome.serials ? { serials: outcome.serials } : {}),
            },
      );
    } catch (error) {
      restore(before);
      if (error instanceof Refusal)
        events.push({ index, type, eventID, eventHash, status: "refused", code: error.code, reason: error.message, calls: [] });
      else if (error instanceof EventHashError)
        events.push({
          index,
          type,
          eventID,
          eventHash,
          status: "refused",
          code: "INVALID_EVENT",
          reason: `cannot hash the event: ${error.message}`,
          calls: [],
        });
      else throw error;
    }
  }
  return {
    partner,
    events,
    summary: {
      planned: events.filter((event) => event.status === "planned").length,
      alreadyRecorded: events.filter((event) => event.status === "already-recorded").length,
      refused: events.filter((event) => event.status === "refused").length,
      calls: events.reduce((sum, event) => sum + event.calls.length, 0),
    },
  };
}

// --- reading the event ---------------------------------------------------------------------------------------------

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string") : [];
}

/** The quantity elements: each an LGTIN class with a whole, positive quantity (a count of units: no uom). */
function quantityList(value: JsonValue | undefined): { epcClass: string; quantity: bigint }[] {
  if (!Array.isArray(value)) return [];
  return value.map((element) => {
    if (!isObject(element) || typeof element.epcClass !== "string")
      return refuse("INVALID_EVENT", "a quantity element without an epcClass");
    const { epcClass, quantity, uom } = element;
    if (uom !== undefined)
      refuse("UNSUPPORTED_EVENT", `${epcClass}: quantities with a unit of measure (${JSON.stringify(uom)}) are not unit counts`);
    if (typeof quantity !== "number" || !Number.isSafeInteger(quantity) || quantity <= 0 || quantity >= 2 ** 64)
      refuse("INVALID_EVENT", `${epcClass}: the quantity must be a whole number of units above 0`);
    lotKey(epcClass);
    return { epcClass, quantity: BigInt(quantity as number) };
  });
}

function lotKey(uri: string): Extract<EpcKey, { kind: "lot" }> {
  const key = epcKeyOf(uri);
  if (key?.kind !== "lot") return refuse("UNKNOWN_EPC", `${uri} is not a lot class (LGTIN EPC class or GS1 Digital Link /01/…/10/…)`);
  return key;
}

/** The GLN of the event's place: bizLocation, else readPoint. */
function placeGln(event: JsonObject): string | null {
  for (const field of ["bizLocation", "readPoint"]) {
    const place = event[field];
    if (!isObject(place) || typeof place.id !== "string") continue;
    const key = epcKeyOf(place.id);
    if (key?.kind !== "location") return refuse("UNKNOWN_EPC", `${field} ${place.id} is not a location (SGLN)`);
    return key.gln;
  }
  return null;
}

/** A CBV term's bare name (shipping for https://ref.gs1.org/cbv/BizStep-shipping or urn:epcglobal:cbv:bizstep:shipping). */
function cbvTerm(value: JsonValue | undefined): string {
  if (typeof value !== "string") return "";
  for (const prefix of CBV_PREFIXES) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}

function sdtTerm(value: JsonValue | undefined): string {
  if (typeof value !== "string") return "";
  for (const prefix of CBV_SDT_PREFIXES) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}

/** Prefix -> namespace IRI from a JSON-LD @context (the objects in it; URLs of remote contexts are not fetched). */
export function contextNamespaces(context: JsonValue | undefined): Record<string, string> {
  const namespaces: Record<string, string> = {};
  for (const entry of Array.isArray(context) ? context : [context]) {
    if (!isObject(entry)) continue;
    for (const [prefix, iri] of Object.entries(entry)) if (typeof iri === "string" && !prefix.startsWith("@")) namespaces[prefix] = iri;
  }
  return namespaces;
}

function namespacesOf(event: JsonObject): Record<string, string> {
  return contextNamespaces(event["@context"]);
}

/** An extension field in Provena's namespace (whatever prefix the document gives it) holding a bytes32. */
function extensionBytes32(event: JsonObject, name: string, eventNamespaces: Record<string, string>): Hex | null {
  for (const [key, value] of Object.entries(event)) {
    const colon = key.indexOf(":");
    if (colon <= 0 || key.slice(colon + 1) !== name) continue;
    const prefix = key.slice(0, colon);
    if ((eventNamespaces[prefix] ?? (prefix === "provena" ? PROVENA_EPCIS_NAMESPACE : null)) !== PROVENA_EPCIS_NAMESPACE) continue;
    if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value) || /^0x0{64}$/.test(value))
      return refuse("INVALID_EVENT", `${key} must be a non-zero bytes32 (0x and 64 hex digits)`);
    return value.toLowerCase() as Hex;
  }
  return null;
}

/** The 32 bytes of an `ni:///sha-256;<hex>?ver=CBV2.0` event hash: what the chain records as the event's document hash. */
export function digestOf(eventHash: string): Hex {
  return `0x${/sha-256;([0-9a-f]{64})/.exec(eventHash)![1]!}` as Hex;
}

function jsonSafe(value: bigint | string | boolean | number | Hex[] | bigint[]): JsonValue {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map((item) => (typeof item === "bigint" ? item.toString() : item));
  return value;
}
