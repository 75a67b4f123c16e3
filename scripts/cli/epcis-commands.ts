/**
 * `provena epcis export <lot|unit|recall|container> <batch|sscc> [serial]`: a lot's, a unit's, a recall's or a logistic
 * unit's history as an EPCIS 2.0 JSON-LD document, fetched from the backend's EPCIS export (PROVENA_API_URL or --api) and written to a file or stdout.
 * `provena epcis query [filters]`: the backend's EPCIS event query, every page, as one EPCISQueryDocument.
 * `provena epcis import <file>`: epcis-import-command.ts.
 */
import { writeFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import { isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { batchRef } from "./arguments.ts";
import { CliError, DEFAULT_API_URL, type GlobalOptions } from "./context.ts";
import { registerEpcisImportCommand } from "./epcis-import-command.ts";
import { sscc, ssccDigits } from "./container-commands.ts";

const SUBJECTS = ["lot", "unit", "recall", "container"] as const;
type Subject = (typeof SUBJECTS)[number];

function subject(value: string): Subject {
  if (!(SUBJECTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${SUBJECTS.join(", ")}`);
  return value as Subject;
}

/** GETs an EPCIS resource from the backend; a refusal becomes a CliError with the problem's detail. */
async function fetchEpcis(apiUrl: string, pathAndQuery: string, what: string): Promise<{ body: string; link: string | null }> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}${pathAndQuery}`, { headers: { accept: "application/ld+json" }, signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new CliError(`no Provena backend at ${apiUrl} (${(error as Error).message}); set PROVENA_API_URL or --api`);
  }
  const body = await response.text();
  if (!response.ok) {
    let detail = body.slice(0, 300);
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail ?? detail;
    } catch {
      // not problem+json: show the start of the body
    }
    throw new CliError(`${what} failed (${response.status}): ${detail}`);
  }
  return { body, link: response.headers.get("link") };
}

/** Repeatable option: collects every value given. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerEpcisCommands(program: Command): void {
  const epcis = program.command("epcis").description("GS1 EPCIS 2.0 export of recorded history, and import of a partner's events");
  registerEpcisImportCommand(epcis, program);
  epcis
    .command("export")
    .argument("<subject>", "lot, unit, recall or container", subject)
    .argument("<batch>", "the lot: batch id (0x…) or GTIN/LOT; for a recall, the recalled lot; for a container, its SSCC")
    .argument("[serial]", "the unit's serial (unit only)")
    .option("-o, --out <file>", "write the document here instead of stdout")
    .description("export the history as an EPCIS 2.0 JSON-LD document (EPCISDocument)")
    .action(async (kind: Subject, reference: string, serial: string | undefined, options: { out?: string }) => {
      const parsed = (parse: (value: string) => string, what: string) => {
        try {
          return parse(reference);
        } catch (error) {
          throw new CliError(`${what} "${reference}" ${(error as Error).message}`);
        }
      };
      const subjectId = kind === "container" ? parsed((value) => ssccDigits(sscc(value)), "SSCC") : parsed(batchRef, "batch");
      if ((kind === "unit") !== (serial !== undefined))
        throw new CliError(kind === "unit" ? "a unit export needs the serial" : `a ${kind} export takes no serial`);
      if (serial !== undefined && !isValidLotOrSerial(serial))
        throw new CliError(`serial "${serial}" must be 1-20 characters of GS1 character set 82`);
      const apiUrl = (program.opts<GlobalOptions>().api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
      const path = kind === "unit" ? `units/${subjectId}/${encodeURIComponent(serial!)}` : `${kind}s/${subjectId}`;
      const { body } = await fetchEpcis(apiUrl, `/api/v1/epcis/${path}`, "EPCIS export");
      const events = (JSON.parse(body) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList.length;
      if (options.out) {
        await writeFile(options.out, body);
        console.error(`✓ ${events} EPCIS events written to ${options.out}`);
      } else process.stdout.write(`${body}\n`);
    });
  epcis
    .command("query")
    .option("--biz-step <step>", "CBV business step (shipping, receiving, inspecting, …); repeat for any of several", collect)
    .option("--disposition <disposition>", "CBV disposition (in_transit, recalled, …); repeatable", collect)
    .option("--lot <class>", "a lot EPC class (urn:epc:class:lgtin:…) or its GS1 Digital Link; repeatable", collect)
    .option("--location <sgln>", "business location (SGLN EPC URI or Digital Link); repeatable", collect)
    .option("--from <instant>", "events at or after this ISO 8601 instant")
    .option("--until <instant>", "events before this ISO 8601 instant")
    .option("-o, --out <file>", "write the document here instead of stdout")
    .description("query recorded events (EPCIS 2.0 SimpleEventQuery), every page, as one EPCISQueryDocument")
    .action(
      async (options: {
        bizStep?: string[];
        disposition?: string[];
        lot?: string[];
        location?: string[];
        from?: string;
        until?: string;
        out?: string;
      }) => {
        const apiUrl = (program.opts<GlobalOptions>().api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
        const parameters = new URLSearchParams({ perPage: "500" });
        const list = (name: string, values: string[] | undefined) => values && parameters.set(name, values.join("|"));
        list("EQ_bizStep", options.bizStep);
        list("EQ_disposition", options.disposition);
        list("MATCH_anyEPCClass", options.lot);
        list("EQ_bizLocation", options.location);
        if (options.from) parameters.set("GE_eventTime", options.from);
        if (options.until) parameters.set("LT_eventTime", options.until);
        let next: string | null = `/api/v1/epcis/events?${parameters.toString()}`;
        type QueryDocument = { epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } };
        let document: QueryDocument | null = null;
        while (next !== null) {
          const { body, link } = await fetchEpcis(apiUrl, next, "EPCIS query");
          const page = JSON.parse(body) as QueryDocument;
          if (document === null) document = page;
          else document.epcisBody.queryResults.resultsBody.eventList.push(...page.epcisBody.queryResults.resultsBody.eventList);
          next = link === null ? null : (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? null);
        }
        const text = JSON.stringify(document);
        const events = document!.epcisBody.queryResults.resultsBody.eventList.length;
        if (options.out) {
          await writeFile(options.out, text);
          console.error(`✓ ${events} EPCIS events written to ${options.out}`);
        } else process.stdout.write(`${text}\n`);
      },
    );
}
