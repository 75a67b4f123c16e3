// Sign-In with Ethereum from a browser wallet, for every page that offers it (the passport, the recall desk): an
// EIP-1193 wallet (window.ethereum) signs the server's EIP-4361 challenge, and the server answers with its HttpOnly,
// SameSite=Strict session cookie. Plain JavaScript, served as is from /passport/assets; the pages wire their buttons.
import { getAddress, hexlify, toUtf8Bytes } from "./ethers.min.js";
import { signInMessage } from "./sign-in-message.js";

/** Signs in as the wallet's first account; resolves once the session cookie is set, rejects with the reason. */
export async function signInWithWallet(wallet) {
  const accounts = await wallet.request({ method: "eth_requestAccounts" });
  if (!Array.isArray(accounts) || typeof accounts[0] !== "string") throw new Error("the wallet gave no account");
  const address = getAddress(accounts[0]);
  const challengeResponse = await fetch("/api/v1/auth/challenge", { headers: { accept: "application/json" }, credentials: "same-origin" });
  if (!challengeResponse.ok) throw new Error(`no sign-in challenge (HTTP ${challengeResponse.status})`);
  const challenge = await challengeResponse.json();
  const message = signInMessage(challenge, address, new Date().toISOString());
  const signature = await wallet.request({ method: "personal_sign", params: [hexlify(toUtf8Bytes(message)), address] });
  const response = await fetch("/api/v1/auth/sessions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  if (response.status !== 201) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
  }
}

/** Ends the session: the server clears its cookie. */
export async function signOut() {
  const response = await fetch("/api/v1/auth/session", { method: "DELETE", credentials: "same-origin" });
  if (response.status !== 204) throw new Error(`HTTP ${response.status}`);
}
