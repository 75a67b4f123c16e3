/**
 * Spent sign-in nonces on SQLite: one row each until it expires; expired rows are swept as new ones arrive.
 */
import type { AuthNonces } from "../port.ts";
import type { SqliteConnection } from "./connection.ts";

export function createAuthNonces(connection: SqliteConnection): AuthNonces {
  const { sql } = connection;
  return {
    async consumeSignInNonce(nonce, expiresAt) {
      if (typeof nonce !== "string" || nonce.length === 0 || !Number.isFinite(expiresAt)) {
        throw new TypeError("SQLite store: a sign-in nonce needs a non-empty nonce and a finite expiresAt");
      }
      return connection.write(() => {
        sql("DELETE FROM sign_in_nonces WHERE expires_at <= ?").run(Date.now());
        const inserted = sql("INSERT INTO sign_in_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING").run(
          nonce,
          Math.ceil(expiresAt),
        );
        return Number(inserted.changes) === 1;
      });
    },
  };
}
