/**
 * `provena participant …`: consortium membership, for the registry admin.
 */
import type { Command } from "commander";
import { ROLE_HASHES, PARTICIPANT_ROLES, type ParticipantRole } from "../../backend/chain/vocabulary.ts";
import { address, gln, role } from "./arguments.ts";
import type { WithContext } from "./context.ts";
import { contentHash } from "./inputs.ts";

export function registerParticipantCommands(program: Command, withContext: WithContext): void {
  const participant = program.command("participant").description("consortium membership (admin)");
  participant
    .command("add")
    .argument("<address>", "the participant's account", address)
    .description("onboard a participant with a role")
    .requiredOption("--role <role>", `one of ${PARTICIPANT_ROLES.join(", ")}`, role)
    .requiredOption("--gln <gln>", "13-digit party GLN", gln)
    .requiredOption("--name <name>", "display name")
    .action(
      withContext(async (context, account: string, options: { role: ParticipantRole; gln: bigint; name: string }) => {
        await context.send(`onboarded ${options.name} as ${options.role}`, "registry", "onboardParticipant", [
          account,
          ROLE_HASHES[options.role],
          options.gln,
          options.name,
        ]);
      }),
    );
  participant
    .command("update")
    .argument("<address>", "the participant's account", address)
    .description("change a participant's GLN and name")
    .requiredOption("--gln <gln>", "13-digit party GLN", gln)
    .requiredOption("--name <name>", "display name")
    .action(
      withContext(
        async (context, account: string, options: { gln: bigint; name: string }) =>
          void (await context.send("participant updated", "registry", "updateParticipant", [account, options.gln, options.name])),
      ),
    );
  participant
    .command("suspend")
    .argument("<address>", "the participant's account", address)
    .description("suspend a participant (it can do nothing until reinstated)")
    .option("--reason <text|file|hash>", "reason (hashed on chain)")
    .action(
      withContext(
        async (context, account: string, options: { reason?: string }) =>
          void (await context.send("participant suspended", "registry", "suspendParticipant", [
            account,
            await contentHash(options.reason),
          ])),
      ),
    );
  participant
    .command("reinstate")
    .argument("<address>", "the participant's account", address)
    .description("lift a suspension")
    .action(
      withContext(
        async (context, account: string) =>
          void (await context.send("participant reinstated", "registry", "reinstateParticipant", [account])),
      ),
    );
  participant
    .command("show")
    .argument("<address>", "the participant's account", address)
    .description("a participant's on-chain record and roles")
    .action(
      withContext(async (context, account: string) => {
        const registry = await context.registry();
        const [participantId, participantGln, suspended] = await registry.participant(account);
        const roles = [];
        for (const name of PARTICIPANT_ROLES) if (await registry.hasRole(ROLE_HASHES[name], account)) roles.push(name);
        console.log(
          JSON.stringify(
            { address: account.toLowerCase(), participantId: Number(participantId), gln: participantGln.toString(), suspended, roles },
            null,
            2,
          ),
        );
      }),
    );
}
