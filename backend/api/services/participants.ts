/** Participants: the registry's onboarded accounts, with their roles and suspension. */
import { notFound } from "../../domain/errors.ts";
import type { ProjectionReads } from "../../store/port.ts";
import type { Hex, Page, Participant } from "../../domain/model.ts";
import type { ListParticipantsQuery } from "../schemas.ts";

export interface ParticipantService {
  list(query: ListParticipantsQuery): Promise<Page<Participant>>;
  /** 404 problem when the address was never onboarded. */
  get(address: Hex): Promise<Participant>;
}

export function createParticipantService({ store }: { store: ProjectionReads }): ParticipantService {
  return {
    list({ role, suspended, limit, cursor }) {
      return store.listParticipants(
        { ...(role === undefined ? {} : { role }), ...(suspended === undefined ? {} : { suspended }) },
        { limit, cursor: cursor ?? null },
      );
    },
    async get(address) {
      const participant = await store.getParticipant(address);
      if (!participant) throw notFound(`No participant with address ${address}`);
      return participant;
    },
  };
}
