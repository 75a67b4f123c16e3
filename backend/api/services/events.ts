/**
 * Raw contract events: the chain-order feed and the events of one transaction. Escrow events the viewer is not
 * entitled to keep only their identifying arguments (backend/auth/order-access.ts).
 */
import { withheldEscrowDetails } from "../../auth/order-access.ts";
import type { Viewer } from "../../auth/auth-service.ts";
import { notFound } from "../../domain/errors.ts";
import type { MirrorLog, ProjectionReads } from "../../store/port.ts";
import type { ChainEvent, Hex, Page } from "../../domain/model.ts";
import type { ListEventsQuery, PageQuery } from "../schemas.ts";

export interface EventService {
  list(query: ListEventsQuery, viewer: Viewer): Promise<Page<ChainEvent>>;
  /** 404 problem when the mirror holds no Provena event of that transaction. */
  listByTransaction(transactionHash: Hex, page: PageQuery, viewer: Viewer): Promise<Page<ChainEvent>>;
}

export function createEventService({ store }: { store: MirrorLog & Pick<ProjectionReads, "getOrders"> }): EventService {
  return {
    async list({ fromBlock, toBlock, contract, name, limit, cursor }, viewer) {
      const page = await store.listEvents(
        {
          ...(fromBlock === undefined ? {} : { fromBlock }),
          ...(toBlock === undefined ? {} : { toBlock }),
          ...(contract === undefined ? {} : { contract }),
          ...(name === undefined ? {} : { name }),
        },
        { limit, cursor: cursor ?? null },
      );
      return withheldEscrowDetails(viewer, page, store);
    },
    async listByTransaction(transactionHash, { limit, cursor }, viewer) {
      const page = await store.listEvents({ transactionHash }, { limit, cursor: cursor ?? null });
      if (page.items.length === 0 && cursor === undefined) {
        throw notFound(`No Provena events in transaction ${transactionHash} (unknown, not yet indexed, or touching no Provena contract)`);
      }
      return withheldEscrowDetails(viewer, page, store);
    },
  };
}
