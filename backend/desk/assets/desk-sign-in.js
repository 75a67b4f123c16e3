/* global window, document, fetch */
// The recall desk's "Sign in with your wallet": an EIP-1193 wallet (window.ethereum) signs the server's EIP-4361
// challenge, the server answers with its HttpOnly session cookie, and the page reloads as the signed-in account.
// It changes nothing but the session: the desk pages themselves only read.
import { getAddress, hexlify, toUtf8Bytes } from "/passport/assets/ethers.min.js";
import { signInMessage } from "./sign-in-message.js";

const button = document.getElementById("desk-sign-in");
const status = document.getElementById("desk-sign-in-status");
const words = JSON.parse(document.getElementById("desk-messages")?.textContent ?? "{}");

function say(text) {
  if (status) status.textContent = text;
}

async function signIn(wallet) {
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

if (button) {
  const wallet = window.ethereum;
  if (!wallet || typeof wallet.request !== "function") {
    say(words.noProvider ?? "");
  } else {
    button.hidden = false;
    button.addEventListener("click", () => {
      button.disabled = true;
      say(words.working ?? "");
      signIn(wallet).then(
        () => window.location.reload(),
        (error) => {
          button.disabled = false;
          say((words.refused ?? "{reason}").replace("{reason}", error instanceof Error ? error.message : String(error)));
        },
      );
    });
  }
}
