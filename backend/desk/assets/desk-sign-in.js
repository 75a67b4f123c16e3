/* global window, document */
// The recall desk's "Sign in with your wallet" (the flow itself: /passport/assets/wallet-sign-in.js, shared with the
// passport page); the page reloads as the signed-in account. It changes nothing but the session: the desk pages only read.
import { signInWithWallet } from "/passport/assets/wallet-sign-in.js";

const button = document.getElementById("desk-sign-in");
const status = document.getElementById("desk-sign-in-status");
const words = JSON.parse(document.getElementById("desk-messages")?.textContent ?? "{}");

function say(text) {
  if (status) status.textContent = text;
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
      signInWithWallet(wallet).then(
        () => window.location.reload(),
        (error) => {
          button.disabled = false;
          say((words.refused ?? "{reason}").replace("{reason}", error instanceof Error ? error.message : String(error)));
        },
      );
    });
  }
}
