/**
 * Spent sign-in nonces on MongoDB: one document each, keyed by the nonce, so the unique _id makes the second spend
 * of a nonce fail (E11000) however many instances race; a TTL index removes it after its expiry.
 */
import type { AuthNonces } from "../port.ts";
import type { MongoCollections, SpentSignInNonce } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

export function createAuthNonces(collections: MongoCollections): AuthNonces {
  return {
    async consumeSignInNonce(nonce, expiresAt) {
      if (typeof nonce !== "string" || nonce.length === 0 || !Number.isFinite(expiresAt)) {
        throw new TypeError("MongoDB store: a sign-in nonce needs a non-empty nonce and a finite expiresAt");
      }
      const spent: SpentSignInNonce = { _id: nonce, expiresAt: new Date(Math.ceil(expiresAt)) };
      try {
        await collections.signInNonces.insertOne(spent);
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    },
  };
}
