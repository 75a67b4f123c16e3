/**
 * Order read grants on SQLite: one whole document per (seller, financier); the active filter is applied to the
 * documents (a seller or financier has a handful of grants).
 */
import type { OrderReadGrant } from "../../domain/model.ts";
import type { OrderReadGrants } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import { assertGrantFilter, assertOrderReadGrant, isActiveGrant, MAX_GRANTS_LISTED } from "../order-read-grant-rules.ts";

export function createOrderReadGrants(connection: SqliteConnection): OrderReadGrants {
  const { sql } = connection;
  return {
    async putOrderReadGrant(grant) {
      assertOrderReadGrant(grant, "SQLite");
      connection.write(() => {
        sql(
          `INSERT INTO order_read_grants (seller, financier, granted_at, doc) VALUES (?, ?, ?, ?)
           ON CONFLICT (seller, financier) DO UPDATE SET granted_at = excluded.granted_at, doc = excluded.doc`,
        ).run(grant.seller, grant.financier, grant.grantedAt, JSON.stringify(grant));
      });
    },

    async listOrderReadGrants(filter) {
      assertGrantFilter(filter, "SQLite");
      const rows =
        filter.seller !== undefined && filter.financier !== undefined
          ? sql("SELECT doc FROM order_read_grants WHERE seller = ? AND financier = ?").all(filter.seller, filter.financier)
          : filter.seller !== undefined
            ? sql("SELECT doc FROM order_read_grants WHERE seller = ? ORDER BY granted_at, financier").all(filter.seller)
            : sql("SELECT doc FROM order_read_grants WHERE financier = ? ORDER BY granted_at, seller").all(filter.financier!);
      return rows
        .map((row) => documentOf<OrderReadGrant>(row)!)
        .filter((grant) => filter.activeAt === undefined || isActiveGrant(grant, filter.activeAt))
        .slice(0, MAX_GRANTS_LISTED);
    },
  };
}
