/**
 * `provena prefix …`: GS1 company prefixes, granted and revoked by the registry admin as GS1 licenses them. Only
 * the holder of a GTIN's company prefix may register batches of it.
 */
import type { Command } from "commander";
import { normalizeGtin } from "../../backend/passport/digital-link.ts";
import { address, companyPrefix, type CompanyPrefix } from "./arguments.ts";
import type { WithContext } from "./context.ts";

export function registerCompanyPrefixCommands(program: Command, withContext: WithContext): void {
  const prefix = program.command("prefix").description("GS1 company prefixes of manufacturers (admin)");
  prefix
    .command("grant")
    .argument("<prefix>", "the GS1 company prefix, 4-12 digits as GS1 issued it (leading zeros count)", companyPrefix)
    .requiredOption("--to <address>", "the manufacturer it is licensed to", address)
    .description("grant a company prefix to a manufacturer: it may then register the GTINs that begin with it")
    .action(
      withContext(async (context, granted: CompanyPrefix, options: { to: string }) => {
        await context.send(`company prefix ${granted.digits} granted to ${options.to}`, "registry", "grantCompanyPrefix", [
          options.to,
          granted.prefix,
          granted.length,
        ]);
      }),
    );
  prefix
    .command("revoke")
    .argument("<prefix>", "the GS1 company prefix, 4-12 digits", companyPrefix)
    .description("revoke a company prefix (its holder's registered batches stay; new registrations are refused)")
    .action(
      withContext(async (context, revoked: CompanyPrefix) => {
        await context.send(`company prefix ${revoked.digits} revoked`, "registry", "revokeCompanyPrefix", [revoked.prefix, revoked.length]);
      }),
    );
  prefix
    .command("of")
    .argument("<gtin>", "a GTIN (8, 12, 13 or 14 digits)")
    .description("who may register batches of a GTIN: the holder of its longest granted company prefix")
    .action(
      withContext(async (context, gtin: string) => {
        const registry = await context.registry();
        const gtin14 = normalizeGtin(gtin);
        const [holder, held, length] = await registry.companyPrefixOf(gtin14);
        const digits = Number(length) === 0 ? null : held.toString().padStart(Number(length), "0");
        console.log(
          JSON.stringify({ gtin: gtin14, companyPrefix: digits, holder: digits === null ? null : holder.toLowerCase() }, null, 2),
        );
      }),
    );
}
