/**
 * Participant projection: consortium membership from ParticipantOnboarded / Updated / Suspended / Reinstated,
 * roles from OpenZeppelin AccessControl's RoleGranted / RoleRevoked on the registry and the escrow, and the GS1
 * company prefixes a manufacturer holds from CompanyPrefixGranted / CompanyPrefixRevoked.
 *
 * An account that holds a role without being onboarded (the consortium admin, an escrow arbiter) gets a record
 * with participantId 0, exactly as the registry reports it (`participant(account)` returns id 0).
 */
import { roleName } from "../chain/vocabulary.ts";
import type { ChainEvent, Hex, Participant } from "../domain/model.ts";
import { ProjectionError, eventRef, hexArg, isAlreadyApplied, numberArg, stringArg } from "./event-ref.ts";

export const PARTICIPANT_EVENTS = new Set([
  "ParticipantOnboarded",
  "ParticipantUpdated",
  "ParticipantSuspended",
  "ParticipantReinstated",
  "RoleGranted",
  "RoleRevoked",
  "CompanyPrefixGranted",
  "CompanyPrefixRevoked",
]);

/** The participant an event changes, or null when it changes none. */
export function participantKeyOf(event: ChainEvent): Hex | null {
  if (!PARTICIPANT_EVENTS.has(event.name)) return null;
  // The forwarder has no roles; the cold chain's (its anchorers) and the ownership tokens' admin roles are not
  // consortium membership.
  if (event.contract === "ProvenaForwarder" || event.contract === "ColdChain" || event.contract === "UnitOwnership") return null;
  if (event.name === "CompanyPrefixGranted" || event.name === "CompanyPrefixRevoked") return hexArg(event, "manufacturer");
  return hexArg(event, "account");
}

/**
 * Next state of participant `address` after `event`. Events of other participants, events already applied
 * (id <= lastEvent) and events that change no participant return `participant` itself.
 */
export function reduceParticipant(participant: Participant | null, event: ChainEvent, address: Hex): Participant | null {
  if (participantKeyOf(event) !== address) return participant;
  if (isAlreadyApplied(participant, event)) return participant;
  const ref = eventRef(event);

  switch (event.name) {
    case "ParticipantOnboarded": {
      const role = roleName(hexArg(event, "role"), event.contract);
      const base = participant ?? emptyParticipant(address, event);
      return {
        ...base,
        participantId: numberArg(event, "participantId"),
        gln: stringArg(event, "gln"),
        name: stringArg(event, "name"),
        roles: withRole(base.roles, role),
        suspended: false,
        onboarded: ref,
        lastEvent: ref,
      };
    }
    case "RoleGranted": {
      const base = participant ?? emptyParticipant(address, event);
      return { ...base, roles: withRole(base.roles, roleName(hexArg(event, "role"), event.contract)), lastEvent: ref };
    }
    case "RoleRevoked": {
      if (participant === null) throw new ProjectionError(event, `role revoked from ${address}, which never held one`);
      const role = roleName(hexArg(event, "role"), event.contract);
      return { ...participant, roles: participant.roles.filter((held) => held !== role), lastEvent: ref };
    }
    case "ParticipantUpdated":
      return {
        ...requireParticipant(participant, event, address),
        gln: stringArg(event, "gln"),
        name: stringArg(event, "name"),
        lastEvent: ref,
      };
    case "ParticipantSuspended":
      return { ...requireParticipant(participant, event, address), suspended: true, lastEvent: ref };
    case "ParticipantReinstated":
      return { ...requireParticipant(participant, event, address), suspended: false, lastEvent: ref };
    case "CompanyPrefixGranted": {
      const base = requireParticipant(participant, event, address);
      const prefix = companyPrefixOf(event);
      const held = base.companyPrefixes.includes(prefix) ? base.companyPrefixes : [...base.companyPrefixes, prefix];
      return { ...base, companyPrefixes: held, lastEvent: ref };
    }
    case "CompanyPrefixRevoked": {
      const base = requireParticipant(participant, event, address);
      const prefix = companyPrefixOf(event);
      return { ...base, companyPrefixes: base.companyPrefixes.filter((held) => held !== prefix), lastEvent: ref };
    }
    default:
      return participant;
  }
}

function emptyParticipant(address: Hex, event: ChainEvent): Participant {
  const ref = eventRef(event);
  return { address, participantId: 0, gln: "", name: "", roles: [], companyPrefixes: [], suspended: false, onboarded: ref, lastEvent: ref };
}

/** The prefix of a CompanyPrefixGranted / Revoked event as GS1 writes it: `length` digits, leading zeros kept. */
function companyPrefixOf(event: ChainEvent): string {
  return stringArg(event, "prefix").padStart(numberArg(event, "length"), "0");
}

function requireParticipant(participant: Participant | null, event: ChainEvent, address: Hex): Participant {
  if (participant === null) throw new ProjectionError(event, `participant ${address} was never onboarded`);
  return participant;
}

/** Roles in grant order, each once. */
function withRole(roles: string[], role: string): string[] {
  return roles.includes(role) ? roles : [...roles, role];
}
