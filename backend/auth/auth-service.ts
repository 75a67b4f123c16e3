/**
 * Sign-In with Ethereum (EIP-4361) for partners and regulators: no passwords, the chain key is the identity.
 *
 *   1. GET a nonce (authenticated by the server's HMAC, expiring; nothing stored).
 *   2. The wallet signs an EIP-4361 message naming this server's domain and origin, this chain and the nonce.
 *   3. POST the message and signature: the `siwe` library parses the message and checks the signature (an EOA's,
 *      or a contract wallet's through EIP-1271 on the chain), this service checks everything that binds the
 *      message to this server, and the store spends the nonce (once, across every API worker).
 *   4. The answer is a session token (cookie or bearer) naming the address until it expires.
 *
 * Roles come from the mirror on every request (viewerOf), never from the token: a participant suspended on chain
 * loses its roles at the next request, and one given a role gains it without signing in again.
 *
 * Attackers considered (each has a test): a phishing site relaying a message signed for its own domain (domain and
 * origin must be this server's), a message for another chain (chain id), a replayed message (the nonce is spent on
 * first use), a nonce the server never issued or one past its expiry, a signature by another key, a message whose
 * expirationTime passed or whose notBefore lies ahead, a forged or expired session token, and a suspended partner.
 */
import type { Provider } from "ethers";
import { SiweMessage } from "siwe";
import { unauthenticated, invalidInput } from "../domain/errors.ts";
import type { Hex, Participant } from "../domain/model.ts";
import type { AuthNonces, OrderReadGrants, ProjectionReads } from "../store/port.ts";
import type { SessionClaims, SignedTokens } from "./signed-tokens.ts";

/** Who is asking: anonymous, or a signed-in address with the roles the mirror gives it now. */
export type Viewer =
  | { signedIn: false }
  | {
      signedIn: true;
      address: Hex;
      /** The participant's roles ("MANUFACTURER", "REGULATOR", ...); none while suspended or not onboarded. */
      roles: string[];
      participant: Pick<Participant, "participantId" | "name" | "suspended"> | null;
      /** Unix ms the session ends. */
      sessionExpiresAt: number;
      /** Sellers whose orders this address may read now, by their grant (backend/finance/order-read-grants.ts). */
      readGrantsFrom: Hex[];
    };

export const ANONYMOUS: Viewer = { signedIn: false };

/** What a client needs to build the message to sign. */
export interface SignInChallenge {
  domain: string;
  uri: string;
  chainId: number;
  version: "1";
  statement: string;
  nonce: string;
  /** ISO 8601; the nonce is refused after it (a message may carry an earlier expirationTime of its own). */
  nonceExpiresAt: string;
}

export interface SignedInSession {
  token: string;
  viewer: Extract<Viewer, { signedIn: true }>;
}

export interface AuthService {
  challenge(): SignInChallenge;
  signIn(message: string, signature: string): Promise<SignedInSession>;
  /** The viewer a session token stands for; anonymous for no token, null for an invalid or expired one. */
  viewerOf(token: string | undefined): Promise<Viewer | null>;
}

export interface AuthServiceOptions {
  store: AuthNonces & Pick<ProjectionReads, "getParticipant"> & Pick<OrderReadGrants, "listOrderReadGrants">;
  tokens: SignedTokens;
  /** The server's public origin (config PUBLIC_BASE_URL): its host is the EIP-4361 domain, itself the URI's origin. */
  publicBaseUrl: string;
  chainId: number;
  sessionTtlMs: number;
  /** Checks contract wallets' signatures (EIP-1271); EOAs need no chain access. */
  provider?: Provider;
  now?: () => number;
}

export const SIGN_IN_STATEMENT = "Sign in to Provena to see what your role in the supply chain entitles you to.";
const SIGNATURE = /^0x[0-9a-fA-F]{130,}$/;
const MAX_MESSAGE_LENGTH = 4_096;
/** A message issued this far in the future is refused: clocks differ, but not by more. */
const ISSUED_AT_SKEW_MS = 5 * 60_000;

export function createAuthService(options: AuthServiceOptions): AuthService {
  const now = options.now ?? Date.now;
  const origin = new URL(options.publicBaseUrl).origin;
  const domain = new URL(options.publicBaseUrl).host;

  async function viewerFor(claims: SessionClaims): Promise<Extract<Viewer, { signedIn: true }>> {
    const [participant, grants] = await Promise.all([
      options.store.getParticipant(claims.address),
      options.store.listOrderReadGrants({ financier: claims.address, activeAt: now() }),
    ]);
    return {
      signedIn: true,
      address: claims.address,
      roles: participant && !participant.suspended ? [...participant.roles] : [],
      participant: participant
        ? { participantId: participant.participantId, name: participant.name, suspended: participant.suspended }
        : null,
      sessionExpiresAt: claims.expiresAt,
      readGrantsFrom: grants.map((grant) => grant.seller),
    };
  }

  return {
    challenge() {
      const { nonce, expiresAt } = options.tokens.issueNonce();
      return {
        domain,
        uri: origin,
        chainId: options.chainId,
        version: "1",
        statement: SIGN_IN_STATEMENT,
        nonce,
        nonceExpiresAt: new Date(expiresAt).toISOString(),
      };
    },

    async signIn(text, signature) {
      if (typeof text !== "string" || text.length === 0 || text.length > MAX_MESSAGE_LENGTH) {
        throw invalidInput(`message must be an EIP-4361 sign-in message of 1-${MAX_MESSAGE_LENGTH} characters`);
      }
      if (typeof signature !== "string" || !SIGNATURE.test(signature) || signature.length > 2 + 2 * 4_096) {
        throw invalidInput("signature must be 0x-prefixed hex of at least 65 bytes");
      }
      let message: SiweMessage;
      try {
        message = new SiweMessage(text);
      } catch (error) {
        throw invalidInput(`message is not an EIP-4361 sign-in message: ${firstLine(error)}`, { reason: "unparsable" });
      }
      const refuse = (reason: string, sentence: string) => unauthenticated(sentence, { reason });
      if (message.domain !== domain) throw refuse("domain", `the message signs in to ${message.domain}, not ${domain}`);
      if (originOf(message.uri) !== origin) throw refuse("uri", `the message's URI ${message.uri} is not on ${origin}`);
      if (message.chainId !== options.chainId) throw refuse("chain", `the message is for chain ${message.chainId}, not ${options.chainId}`);
      const nonce = options.tokens.checkNonce(message.nonce);
      if (!nonce.valid) {
        throw refuse(
          "nonce",
          nonce.reason === "expired" ? "the sign-in nonce has expired: ask for a new one" : "the nonce was not issued by this server",
        );
      }
      const issuedAt = Date.parse(message.issuedAt ?? "");
      if (!Number.isFinite(issuedAt) || issuedAt > now() + ISSUED_AT_SKEW_MS)
        throw refuse("issued-at", "the message's issuedAt lies in the future");

      const result = await message.verify(
        { signature, domain, nonce: message.nonce, time: new Date(now()).toISOString() },
        { provider: options.provider as never, suppressExceptions: true },
      );
      if (!result.success) {
        const type = result.error?.type ?? "invalid";
        throw refuse(type.includes("Signature") ? "signature" : "message", `sign-in refused: ${type}`);
      }
      if (!(await options.store.consumeSignInNonce(message.nonce, nonce.expiresAt))) {
        throw refuse("nonce-used", "this sign-in message was already used: ask for a new nonce");
      }
      // A message's own expirationTime is the signer's limit on what it authorises: the session ends by then too.
      const messageExpiry = message.expirationTime === undefined ? Infinity : Date.parse(message.expirationTime);
      const expiresAt = Math.min(now() + options.sessionTtlMs, messageExpiry);
      const { token, claims } = options.tokens.issueSession(message.address.toLowerCase() as Hex, expiresAt);
      return { token, viewer: await viewerFor(claims) };
    },

    async viewerOf(token) {
      if (token === undefined) return ANONYMOUS;
      const claims = options.tokens.checkSession(token);
      return claims === null ? null : viewerFor(claims);
    },
  };
}

function originOf(uri: string): string | null {
  try {
    return new URL(uri).origin;
  } catch {
    return null;
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? "").slice(0, 200);
}
