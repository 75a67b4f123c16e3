/**
 * `provena epcis export <lot|unit|recall> <batch> [serial]`: a lot's, a unit's or a recall's history as an EPCIS 2.0
 * JSON-LD document, fetched from the backend's EPCIS export (PROVENA_API_URL or --api) and written to a file or stdout.
 */
import { writeFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import { isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { batchRef } from "./arguments.ts";
import { CliError, DEFAULT_API_URL, type GlobalOptions } from "./context.ts";

const SUBJECTS = ["lot", "unit", "recall"] as const;
type Subject = (typeof SUBJECTS)[number];

function subject(value: string): Subject {
  if (!(SUBJECTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${SUBJECTS.join(", ")}`);
  return value as Subject;
}

export function registerEpcisCommands(program: Command): void {
  const epcis = program.command("epcis").description("GS1 EPCIS 2.0 export of recorded history");
  epcis
    .command("export")
    .argument("<subject>", "lot, unit or recall", subject)
    .argument("<batch>", "the lot: batch id (0x…) or GTIN/LOT; for a recall, the recalled lot", batchRef)
    .argument("[serial]", "the unit's serial (unit only)")
    .option("-o, --out <file>", "write the document here instead of stdout")
    .description("export the history as an EPCIS 2.0 JSON-LD document (EPCISDocument)")
    .action(async (kind: Subject, batchId: string, serial: string | undefined, options: { out?: string }) => {
      if ((kind === "unit") !== (serial !== undefined))
        throw new CliError(kind === "unit" ? "a unit export needs the serial" : `a ${kind} export takes no serial`);
      if (serial !== undefined && !isValidLotOrSerial(serial))
        throw new CliError(`serial "${serial}" must be 1-20 characters of GS1 character set 82`);
      const apiUrl = (program.opts<GlobalOptions>().api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
      const path = kind === "unit" ? `units/${batchId}/${encodeURIComponent(serial!)}` : `${kind}s/${batchId}`;
      let response: Response;
      try {
        response = await fetch(`${apiUrl}/api/v1/epcis/${path}`, {
          headers: { accept: "application/ld+json" },
          signal: AbortSignal.timeout(60_000),
        });
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
        throw new CliError(`EPCIS export failed (${response.status}): ${detail}`);
      }
      const events = (JSON.parse(body) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList.length;
      if (options.out) {
        await writeFile(options.out, body);
        console.error(`✓ ${events} EPCIS events written to ${options.out}`);
      } else process.stdout.write(`${body}\n`);
    });
}
