/**
 * The two tokens sign-in hands out, each authenticated with an HMAC under a key derived from SESSION_SECRET, so
 * the server keeps no session table and every API worker checks them alike:
 *
 * - a sign-in nonce: `<expiry seconds, 10 hex><random, 16 hex><tag, 24 hex>` (50 hex digits). The EIP-4361 nonce
 *   field allows only letters and digits, and hex is both. A nonce the server did not issue, or one past its
 *   expiry, is refused before any signature is checked; the store makes each one usable once (AuthNonces).
 * - a session: `pvs1.<address, 40 hex>.<issued, base36>.<expiry, base36>.<tag, base64url>`, given as an HttpOnly
 *   cookie or an `Authorization: Bearer` header. It names only the address: roles are read from the mirror on
 *   every request, so a suspension or a new role takes effect at once.
 *
 * The keys are derived per purpose, so a nonce's tag can never pass as a session's.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Hex } from "../domain/model.ts";

export interface IssuedNonce {
  nonce: string;
  /** Unix ms. */
  expiresAt: number;
}

export type NonceCheck = { valid: true; expiresAt: number } | { valid: false; reason: "malformed" | "not-issued-here" | "expired" };

export interface SessionClaims {
  address: Hex;
  /** Unix ms. */
  issuedAt: number;
  /** Unix ms. */
  expiresAt: number;
}

export interface SignedTokens {
  issueNonce(): IssuedNonce;
  checkNonce(nonce: string): NonceCheck;
  issueSession(address: Hex, expiresAt: number): { token: string; claims: SessionClaims };
  /** The session's claims, or null when the token is malformed, forged or expired. */
  checkSession(token: string): SessionClaims | null;
}

export interface SignedTokensOptions {
  /** At least 32 bytes of secret (config SESSION_SECRET). */
  secret: Uint8Array;
  nonceTtlMs: number;
  now?: () => number;
}

const NONCE = /^([0-9a-f]{10})([0-9a-f]{16})([0-9a-f]{24})$/;
const SESSION = /^pvs1\.([0-9a-f]{40})\.([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;
export const MIN_SESSION_SECRET_BYTES = 32;

export function createSignedTokens(options: SignedTokensOptions): SignedTokens {
  if (options.secret.byteLength < MIN_SESSION_SECRET_BYTES) {
    throw new RangeError(`the session secret must be at least ${MIN_SESSION_SECRET_BYTES} bytes, got ${options.secret.byteLength}`);
  }
  const now = options.now ?? Date.now;
  const nonceKey = createHmac("sha256", options.secret).update("provena sign-in nonce v1").digest();
  const sessionKey = createHmac("sha256", options.secret).update("provena session v1").digest();
  const nonceTag = (body: string) => createHmac("sha256", nonceKey).update(body).digest("hex").slice(0, 24);
  const sessionTag = (body: string) => createHmac("sha256", sessionKey).update(body).digest("base64url");
  const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

  return {
    issueNonce() {
      const expiresAt = now() + options.nonceTtlMs;
      const body =
        Math.ceil(expiresAt / 1000)
          .toString(16)
          .padStart(10, "0") + randomBytes(8).toString("hex");
      return { nonce: body + nonceTag(body), expiresAt: Math.ceil(expiresAt / 1000) * 1000 };
    },

    checkNonce(nonce) {
      const match = NONCE.exec(nonce);
      if (!match) return { valid: false, reason: "malformed" };
      const body = match[1]! + match[2]!;
      if (!sameText(match[3]!, nonceTag(body))) return { valid: false, reason: "not-issued-here" };
      const expiresAt = parseInt(match[1]!, 16) * 1000;
      if (expiresAt <= now()) return { valid: false, reason: "expired" };
      return { valid: true, expiresAt };
    },

    issueSession(address, expiresAt) {
      const issuedAt = now();
      const body = `pvs1.${address.slice(2).toLowerCase()}.${issuedAt.toString(36)}.${Math.floor(expiresAt).toString(36)}`;
      return {
        token: `${body}.${sessionTag(body)}`,
        claims: { address: `0x${address.slice(2).toLowerCase()}` as Hex, issuedAt, expiresAt: Math.floor(expiresAt) },
      };
    },

    checkSession(token) {
      const match = SESSION.exec(token);
      if (!match) return null;
      const body = token.slice(0, token.lastIndexOf("."));
      if (!sameText(match[4]!, sessionTag(body))) return null;
      const expiresAt = parseInt(match[3]!, 36);
      if (!(expiresAt > now())) return null;
      return { address: `0x${match[1]!}` as Hex, issuedAt: parseInt(match[2]!, 36), expiresAt };
    },
  };
}
