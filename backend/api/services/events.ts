/** Raw contract events: the chain-order feed and the events of one transaction. */
import { notFound } from "../../domain/errors.ts";
import type { MirrorLog } from "../../store/port.ts";
import type { ChainEvent, Hex, Page } from "../../domain/model.ts";
import type { ListEventsQuery, PageQuery } from "../schemas.ts";

export interface EventService {
  list(query: ListEventsQuery): Promise<Page<ChainEvent>>;
  /** 404 problem when the mirror holds no Provena event of that transaction. */
  listByTransaction(transactionHash: Hex, page: PageQuery): Promise<Page<ChainEvent>>;
}

export function createEventService({ store }: { store: MirrorLog }): EventService {
  return {
    list({ fromBlock, toBlock, contract, name, limit, cursor }) {
      return store.listEvents(
        {
          ...(fromBlock === undefined ? {} : { fromBlock }),
          ...(toBlock === undefined ? {} : { toBlock }),
          ...(contract === undefined ? {} : { contract }),
          ...(name === undefined ? {} : { name }),
        },
        { limit, cursor: cursor ?? null },
      );
    },
    async listByTransaction(transactionHash, { limit, cursor }) {
      const page = await store.listEvents({ transactionHash }, { limit, cursor: cursor ?? null });
      if (page.items.length === 0 && cursor === undefined) {
        throw notFound(`No Provena events in transaction ${transactionHash} (unknown, not yet indexed, or touching no Provena contract)`);
      }
      return page;
    },
  };
}
