import type { EventDecoder } from "../chain/events.ts";
import type { IndexerChainReader } from "../chain/json-rpc-chain-reader.ts";
import type {
  ColdChainReads,
  ContainerReads,
  MirrorLog,
  ProjectionReads,
  TransformationRecords,
  UnitOwnershipRecords,
} from "../store/port.ts";
import type { ChainReader } from "../chain/chain-access.ts";

/** What every stage of the indexer reads and writes through, passed in as one object. */
export interface IndexerDependencies {
  /** An ethers provider without response caching (backend/chain/provider.ts rpcProviderOptions). */
  provider: ChainReader;
  /** The hot path's view of the same chain: logs and headers over raw, batched JSON-RPC where possible. */
  chainReader: IndexerChainReader;
  /** The mirror it writes, and the projections it reads to fold a range's events into. */
  store: MirrorLog &
    ProjectionReads &
    ColdChainReads &
    Pick<UnitOwnershipRecords, "getUnitTokens" | "getClaimRoots"> &
    Pick<TransformationRecords, "getTransformations"> &
    Pick<ContainerReads, "getContainers">;
  decoder: EventDecoder;
  chainId: number;
  /** First block of the deployment: indexing starts there, and rollbacks never go below it. */
  deployBlock: number;
  /** Called right before each write; throws when this instance may no longer write (it lost the lease). */
  confirmWriter: () => Promise<void>;
}
