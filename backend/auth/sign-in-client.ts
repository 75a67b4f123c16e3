/**
 * The client side of Sign-In with Ethereum, for the CLI and scripts: asks the backend for a challenge, signs the
 * EIP-4361 message with the caller's key and returns the session token to send as `Authorization: Bearer`.
 */
import { SiweMessage } from "siwe";

export interface MessageSigner {
  readonly address: string;
  signMessage(message: string): Promise<string>;
}

export class SignInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SignInError";
  }
}

export async function signInWithKey(apiUrl: string, signer: MessageSigner): Promise<string> {
  const base = apiUrl.replace(/\/+$/, "");
  const challengeResponse = await fetch(`${base}/api/v1/auth/challenge`, { headers: { accept: "application/json" } });
  if (!challengeResponse.ok) throw new SignInError(`the backend at ${base} gave no sign-in challenge (HTTP ${challengeResponse.status})`);
  const challenge = (await challengeResponse.json()) as { domain: string; uri: string; chainId: number; statement: string; nonce: string };
  const message = new SiweMessage({
    domain: challenge.domain,
    address: signer.address,
    statement: challenge.statement,
    uri: challenge.uri,
    version: "1",
    chainId: challenge.chainId,
    nonce: challenge.nonce,
    issuedAt: new Date().toISOString(),
  }).prepareMessage();
  const response = await fetch(`${base}/api/v1/auth/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ message, signature: await signer.signMessage(message) }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; detail?: string };
  if (response.status !== 201 || typeof body.token !== "string") {
    throw new SignInError(
      `the backend at ${base} refused the sign-in of ${signer.address} (HTTP ${response.status}): ${body.detail ?? "no detail"}`,
    );
  }
  return body.token;
}
