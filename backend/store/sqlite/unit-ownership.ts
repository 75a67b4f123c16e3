/**
 * Unit ownership on SQLite: tokens and claim roots (written by the mirror log's commits, read here) and the
 * manufacturers' claim trees (first upload of a root wins).
 */
import type { ClaimRegion, ClaimRoot, ClaimTree, UnitToken } from "../../domain/model.ts";
import type { UnitOwnershipRecords } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import { getMany } from "./projections.ts";

export function createUnitOwnershipRecords(connection: SqliteConnection): UnitOwnershipRecords {
  const { sql } = connection;
  return {
    async getUnitToken(tokenId) {
      return documentOf<UnitToken>(sql("SELECT doc FROM unit_tokens WHERE token_id = ?").get(tokenId));
    },

    async getUnitTokens(tokenIds) {
      return getMany<UnitToken>(connection, "unit_tokens", "token_id", tokenIds);
    },

    async getClaimRoot(batchId) {
      return documentOf<ClaimRoot>(sql("SELECT doc FROM claim_roots WHERE batch_id = ?").get(batchId));
    },

    async getClaimRoots(batchIds) {
      return getMany<ClaimRoot>(connection, "claim_roots", "batch_id", batchIds);
    },

    async putClaimTree(tree) {
      return connection.write(() => {
        sql("INSERT INTO claim_trees (claim_root, doc) VALUES (?, ?) ON CONFLICT (claim_root) DO NOTHING").run(
          tree.claimRoot,
          JSON.stringify(tree),
        );
        return documentOf<ClaimTree>(sql("SELECT doc FROM claim_trees WHERE claim_root = ?").get(tree.claimRoot))!;
      });
    },

    async getClaimTree(claimRoot) {
      return documentOf<ClaimTree>(sql("SELECT doc FROM claim_trees WHERE claim_root = ?").get(claimRoot));
    },

    async putClaimRegion(record) {
      connection.write(() => {
        sql("INSERT INTO claim_regions (token_id, doc) VALUES (?, ?) ON CONFLICT (token_id) DO UPDATE SET doc = excluded.doc").run(
          record.tokenId,
          JSON.stringify(record),
        );
      });
    },

    async getClaimRegion(tokenId) {
      return documentOf<ClaimRegion>(sql("SELECT doc FROM claim_regions WHERE token_id = ?").get(tokenId));
    },
  };
}
