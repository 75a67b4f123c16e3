/**
 * `provena container …`: logistic units (pallets, cartons, shipping containers) identified by an SSCC. The custodian
 * creates a container, packs batches into it (each batch is first proposed to the LogisticUnits contract in the
 * registry, then packed), hands it off as one (the receiver accepts), and unpacks it; `show` reads the chain, or with
 * --mirror the backend's container view (names, lots by GTIN/lot, nested contents).
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { ZeroAddress } from "ethers";
import { SSCC_PATTERN, gs1CheckDigit } from "../../backend/chain/gs1.ts";
import type { ContainerView as MirrorContainerView } from "../../backend/containers/container-service.ts";
import { apiJson } from "./api-client.ts";
import { extractRevertData } from "../../backend/chain/revert-reason.ts";
import { businessStepValue } from "../../backend/chain/vocabulary.ts";
import type { LogisticUnits } from "../../backend/chain/contracts.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, batchRef, gln, step } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";

/** An SSCC (GS1 AI 00): 18 digits ending in the mod-10 check digit, answered as the integer the contract takes. */
export function sscc(value: string): bigint {
  const digits = value.replace(/^\(00\)/, "");
  if (!SSCC_PATTERN.test(digits))
    throw new InvalidArgumentError("must be an 18-digit SSCC (extension digit, company prefix, serial, check digit)");
  const expected = gs1CheckDigit(digits.slice(0, 17));
  if (expected !== Number(digits[17])) throw new InvalidArgumentError(`has a wrong check digit (expected ${expected})`);
  return BigInt(digits);
}

/** The 18-digit form of an SSCC the contract returns as an integer. */
export function ssccDigits(value: bigint): string {
  return value.toString().padStart(18, "0");
}

const collect =
  (parse: (value: string) => Hex) =>
  (value: string, previous: Hex[] = []) => [...previous, parse(value)];

export interface ContainerView {
  sscc: string;
  custodian: Hex;
  pendingCustodian: Hex | null;
  /** The container it is packed in; null when outermost. */
  packedIn: string | null;
  /** The outermost container enclosing it (itself when outermost) and that container's custodian, who holds it. */
  outermost: { sscc: string; custodian: Hex };
  batches: Hex[];
  containers: string[];
  /** Flagged recalled batches inside, at any depth: the container does not move while it is not zero. */
  recalledContents: number;
}

/**
 * What the chain says of container `id`: its record, its outermost container, and what is directly inside (from the
 * contract's pack events, kept only where the contract still shows them inside).
 */
export async function readContainer(units: LogisticUnits, id: bigint): Promise<ContainerView> {
  const [custodian, pendingCustodian, outerSscc, , recalledContents] = await units.container(id).catch((error: unknown) => {
    const data = extractRevertData(error);
    if (data !== null && units.interface.parseError(data)?.name === "ContainerUnknown") {
      throw new CliError(`no container has SSCC ${ssccDigits(id)}`);
    }
    throw error;
  });
  const [outermostSscc, holder] = await units.outermostContainer(id);
  const batchEvents = await units.queryFilter(units.filters.BatchPacked(id));
  const containerEvents = await units.queryFilter(units.filters.ContainerPacked(id));
  const batches: Hex[] = [];
  for (const batchId of new Set(batchEvents.map((event) => event.args.batchId.toLowerCase() as Hex))) {
    if ((await units.packedBatch(batchId))[0] === id) batches.push(batchId);
  }
  const containers: string[] = [];
  for (const inner of new Set(containerEvents.map((event) => event.args.innerSscc))) {
    if ((await units.container(inner))[2] === id) containers.push(ssccDigits(inner));
  }
  return {
    sscc: ssccDigits(id),
    custodian: custodian.toLowerCase() as Hex,
    pendingCustodian: pendingCustodian === ZeroAddress ? null : (pendingCustodian.toLowerCase() as Hex),
    packedIn: outerSscc === 0n ? null : ssccDigits(outerSscc),
    outermost: { sscc: ssccDigits(outermostSscc), custodian: holder.toLowerCase() as Hex },
    batches,
    containers,
    recalledContents: Number(recalledContents),
  };
}

export function registerContainerCommands(program: Command, withContext: WithContext): void {
  const container = program.command("container").description("logistic units identified by an SSCC: pack, hand off, unpack");
  const locationOption = () => new Option("--location <gln>", "13-digit GLN where it happens").argParser(gln).makeOptionMandatory();

  container
    .command("create")
    .argument("<sscc>", "18-digit SSCC with its check digit", sscc)
    .description("an active participant creates an empty container and holds it")
    .addOption(locationOption())
    .action(
      withContext(
        async (context, id: bigint, options: { location: bigint }) =>
          void (await context.send(`container ${ssccDigits(id)} created`, "logisticUnits", "createContainer", [id, options.location])),
      ),
    );

  container
    .command("pack")
    .argument("<sscc>", "18-digit SSCC of the container", sscc)
    .description("the custodian packs batches it holds into the container (proposing each to the container contract first)")
    .requiredOption("--batch <batch...>", "batch id (0x + 64 hex digits) or GTIN/LOT (repeat)", collect(batchRef))
    .addOption(locationOption())
    .action(
      withContext(async (context, id: bigint, options: { batch: Hex[]; location: bigint }) => {
        const registry = await context.registry();
        const units = await context.logisticUnits();
        const unitsAddress = (await units.getAddress()).toLowerCase();
        const caller = (await context.signer()).address.toLowerCase();
        for (const batchId of options.batch) {
          const [, custodian, pending] = await registry.batch(batchId);
          if (custodian === ZeroAddress) throw new CliError(`batch ${batchId} is not registered`);
          if (pending.toLowerCase() === unitsAddress) continue; // proposed already (e.g. a pack that failed halfway)
          if (custodian.toLowerCase() !== caller) throw new CliError(`batch ${batchId} is held by ${custodian}, not by ${caller}`);
          if (pending !== ZeroAddress) {
            throw new CliError(`batch ${batchId} has a handoff to ${pending} pending: cancel it (provena handoff cancel) first`);
          }
          await context.send(`batch ${batchId} offered to container ${ssccDigits(id)}`, "registry", "proposeHandoff", [
            batchId,
            unitsAddress,
            options.location,
            businessStepValue("loading"),
          ]);
        }
        await context.send(`${options.batch.length} batch(es) packed into ${ssccDigits(id)}`, "logisticUnits", "packBatches", [
          id,
          options.batch,
          options.location,
        ]);
      }),
    );

  container
    .command("nest")
    .argument("<outer>", "18-digit SSCC of the outer container", sscc)
    .argument("<inner>", "18-digit SSCC of the container packed into it", sscc)
    .description("the custodian of both packs one container into the other")
    .addOption(locationOption())
    .action(
      withContext(
        async (context, outer: bigint, inner: bigint, options: { location: bigint }) =>
          void (await context.send(`${ssccDigits(inner)} packed into ${ssccDigits(outer)}`, "logisticUnits", "packContainer", [
            outer,
            inner,
            options.location,
          ])),
      ),
    );

  container
    .command("handoff")
    .argument("<sscc>", "18-digit SSCC of the container", sscc)
    .description("the custodian proposes handing the container, and everything inside, to a participant")
    .requiredOption("--to <address>", "the receiver", address)
    .addOption(locationOption())
    .addOption(new Option("--step <step>", "CBV business step").default(businessStepValue("shipping"), "shipping").argParser(step))
    .action(
      withContext(
        async (context, id: bigint, options: { to: string; location: bigint; step: number }) =>
          void (await context.send(`handoff of ${ssccDigits(id)} proposed`, "logisticUnits", "proposeContainerHandoff", [
            id,
            options.to,
            options.location,
            options.step,
          ])),
      ),
    );

  container
    .command("accept")
    .argument("<sscc>", "18-digit SSCC of the container", sscc)
    .description("the receiver takes the container and everything inside")
    .addOption(locationOption())
    .addOption(new Option("--step <step>", "CBV business step").default(businessStepValue("receiving"), "receiving").argParser(step))
    .action(
      withContext(
        async (context, id: bigint, options: { location: bigint; step: number }) =>
          void (await context.send(`container ${ssccDigits(id)} accepted`, "logisticUnits", "acceptContainerHandoff", [
            id,
            options.location,
            options.step,
          ])),
      ),
    );

  container
    .command("unpack")
    .argument("<sscc>", "18-digit SSCC of the container", sscc)
    .description("the custodian takes batches out (all of them without --batch); each comes back as a registry handoff to accept")
    .option("--batch <batch...>", "batch id (0x + 64 hex digits) or GTIN/LOT (repeat)", collect(batchRef))
    .addOption(locationOption())
    .action(
      withContext(async (context, id: bigint, options: { batch?: Hex[]; location: bigint }) => {
        const batches = options.batch ?? (await readContainer(await context.logisticUnits(), id)).batches;
        if (batches.length === 0) throw new CliError(`container ${ssccDigits(id)} holds no batches directly`);
        await context.send(`${batches.length} batch(es) unpacked from ${ssccDigits(id)}`, "logisticUnits", "unpackBatches", [
          id,
          batches,
          options.location,
        ]);
        console.log(`  accept each with: provena handoff accept <batch> --location <gln>  (${batches.join(", ")})`);
      }),
    );

  container
    .command("show")
    .argument("<sscc>", "18-digit SSCC of the container", sscc)
    .option("--json", "print JSON")
    .option("--mirror", "read the backend's container view (PROVENA_API_URL or --api): names, lots by GTIN/lot, history")
    .description("who holds the container, where it is packed, what is inside, and whether a recall blocks it")
    .action(
      withContext(async (context, id: bigint, options: { json?: boolean; mirror?: boolean }) => {
        if (options.mirror) {
          const { body } = await apiJson<MirrorContainerView>(context, `/api/v1/containers/${ssccDigits(id)}`);
          if (options.json) return void console.log(JSON.stringify(body, null, 2));
          for (const line of mirrorViewLines(body)) console.log(line);
          return;
        }
        const view = await readContainer(await context.logisticUnits(), id);
        if (options.json) return void console.log(JSON.stringify(view, null, 2));
        console.log(`container ${view.sscc}`);
        console.log(
          `  held by    ${view.outermost.custodian}${view.packedIn ? ` (packed in ${view.packedIn}, outermost ${view.outermost.sscc})` : ""}`,
        );
        if (view.pendingCustodian) console.log(`  handoff to ${view.pendingCustodian} pending`);
        console.log(`  batches    ${view.batches.length === 0 ? "none" : view.batches.join(", ")}`);
        console.log(`  containers ${view.containers.length === 0 ? "none" : view.containers.join(", ")}`);
        if (view.recalledContents > 0)
          console.log(`  ✗ holds ${view.recalledContents} recalled batch(es): it cannot move until they are unpacked`);
      }),
    );
}

/** The backend's container view as the lines `container show --mirror` prints. */
export function mirrorViewLines(view: MirrorContainerView): string[] {
  const who = (party: { address: Hex; name: string | null }) => (party.name === null ? party.address : `${party.name} (${party.address})`);
  const lines = [`container ${view.sscc} at GLN ${view.locationGln}`];
  lines.push(
    `  held by    ${who(view.holder)}${view.parentSscc === null ? "" : ` (packed in ${view.parentSscc}, outermost ${view.holder.outermostSscc})`}`,
  );
  if (view.pendingHandoff) lines.push(`  handoff to ${who(view.pendingHandoff.to)} pending (${view.pendingHandoff.businessStep})`);
  const lots = view.contents.batches.map(
    (batch) =>
      `${batch.gtin}/${batch.lot}${batch.sscc === view.sscc ? "" : ` in ${batch.sscc}`}${batch.status === "recalled" ? " RECALLED" : ""}`,
  );
  lines.push(
    `  batches    ${lots.length === 0 ? "none" : lots.join(", ")}${view.contents.truncated ? ` … (${view.contents.totalBatches} in all)` : ""}`,
  );
  lines.push(
    `  containers ${view.contents.containers.length === 0 ? "none" : view.contents.containers.map((inner) => inner.sscc).join(", ")}`,
  );
  if (view.recall.blocked)
    lines.push(`  ✗ holds ${view.recall.flaggedBatchIds.length} recalled batch(es): it cannot move until they are unpacked`);
  return lines;
}
