// The passport's "Partner or authority? Sign in" and "Sign out" (the flow: wallet-sign-in.js, shared with the recall
// desk). Either way the page reloads, and the server renders it for whoever the session now names: the same URL,
// the viewer's sections or the public page.
import { signInWithWallet, signOut } from "./wallet-sign-in.js";

const signInButton = document.getElementById("passport-sign-in");
const signOutButton = document.getElementById("passport-sign-out");
const status = document.getElementById("passport-sign-in-status");
const words = JSON.parse(document.getElementById("passport-sign-in-messages")?.textContent ?? "{}");

function say(text) {
  if (status) status.textContent = text;
}

function refused(button) {
  return (error) => {
    button.disabled = false;
    say((words.refused ?? "{reason}").replace("{reason}", error instanceof Error ? error.message : String(error)));
  };
}

signInButton?.addEventListener("click", () => {
  const wallet = window.ethereum;
  if (!wallet || typeof wallet.request !== "function") {
    say(words.noProvider ?? "");
    return;
  }
  signInButton.disabled = true;
  say(words.working ?? "");
  signInWithWallet(wallet).then(() => window.location.reload(), refused(signInButton));
});

signOutButton?.addEventListener("click", () => {
  signOutButton.disabled = true;
  signOut().then(() => window.location.reload(), refused(signOutButton));
});
