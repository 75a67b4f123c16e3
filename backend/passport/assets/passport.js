// @ts-check
/**
 * The passport page's verification, run in the shopper's browser: reads the page's own JSON-LD, asks the chain and
 * shows "Verified at block N" or every mismatch.
 * Trust anchors come from what was scanned, not from the page: the chain and registry in the code's query string
 * ("?chain=…&registry=…"), and the JSON-RPC endpoint the shopper chose (kept in localStorage). Only when the code
 * names no registry, or no endpoint was chosen, does the check take the server's word, and it says so.
 * Loaded as a module after the page has rendered, so the page is usable before ethers has arrived.
 */
import * as ethers from "./ethers.min.js";
import { claimsFromJsonLd, createJsonRpc, digitalLinkOfPath, trustAnchorsOfSearch, verifyPassport } from "./verify-core.js";

const RPC_SETTING = "provena.rpcUrl";

const panel = /** @type {HTMLElement} */ (document.getElementById("verification"));
const status = /** @type {HTMLElement} */ (document.getElementById("verify-status"));
const details = /** @type {HTMLUListElement} */ (document.getElementById("verify-details"));
const anchorsLine = /** @type {HTMLElement} */ (document.getElementById("verify-anchors"));
const rpcLine = /** @type {HTMLElement} */ (document.getElementById("verify-rpc"));
const rpcForm = /** @type {HTMLFormElement | null} */ (document.getElementById("rpc-form"));
const rpcInput = /** @type {HTMLInputElement | null} */ (document.getElementById("rpc-url"));

/**
 * @param {"pending" | "verified" | "mismatch" | "error"} state
 * @param {string} text
 * @param {string[]} [items]
 */
function show(state, text, items = []) {
  panel.dataset.state = state;
  status.textContent = text;
  details.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = item;
      return li;
    }),
  );
  details.hidden = items.length === 0;
}

/** The shopper's own JSON-RPC endpoint, or null. */
function chosenRpcUrl() {
  try {
    return window.localStorage.getItem(RPC_SETTING) || null;
  } catch {
    return null; // storage disabled: no setting
  }
}

async function verify() {
  show("pending", "Checking this page against the blockchain…");
  const data = document.getElementById("passport-data");
  if (!data?.textContent) throw new Error("this page carries no passport data");
  const claims = claimsFromJsonLd(JSON.parse(data.textContent));

  let anchors;
  try {
    anchors = trustAnchorsOfSearch(window.location.search);
  } catch (error) {
    anchorsLine.textContent = "The code you scanned names its chain and registry in a form that cannot be read.";
    show("mismatch", "✗ This code's trust anchors are malformed. Do not trust the details below.", [
      error instanceof Error ? error.message : String(error),
    ]);
    return;
  }
  panel.dataset.anchored = anchors ? "link" : "server";
  // Links to the product's other lots keep the scanned code's anchors, so following them keeps the same check.
  if (anchors) {
    for (const link of document.querySelectorAll('main a[href^="/01/"]')) {
      const href = link.getAttribute("href") ?? "";
      if (!href.includes("?")) link.setAttribute("href", `${href}${window.location.search}`);
    }
  }
  anchorsLine.textContent = anchors
    ? `Checked against chain ${anchors.chainId} and registry ${anchors.registry}, as named by the code you scanned.`
    : `The code you scanned names no registry, so this check relies on the server's word: it uses chain ${claims.chainId} and registry ${claims.registry}, as this page names them.`;

  const chosen = chosenRpcUrl();
  if (rpcInput && chosen) rpcInput.value = chosen;
  const rpcUrl = chosen ?? new URL(claims.rpcUrl, window.location.href).href;
  panel.dataset.rpc = chosen ? "chosen" : "server";
  rpcLine.textContent = chosen
    ? `Read through your node ${chosen}.`
    : `Read through the endpoint this server names (${rpcUrl}); choose your own node below for a check that does not rely on it.`;

  const abiResponse = await fetch(new URL("./registry-abi.json", import.meta.url));
  if (!abiResponse.ok) throw new Error(`the registry ABI could not be loaded (HTTP ${abiResponse.status})`);
  const { abi, enums } = await abiResponse.json();
  const result = await verifyPassport({
    claims,
    rpc: createJsonRpc(rpcUrl),
    ethers,
    abi,
    enums,
    // What the shopper scanned is the address bar, not what the page says about itself.
    expected: {
      link: digitalLinkOfPath(window.location.pathname) ?? undefined,
      ...(anchors ? { chainId: anchors.chainId, registry: anchors.registry } : {}),
    },
    onProgress: (message) => {
      status.textContent = `${message}…`;
    },
  });
  if (result.ok) {
    show("verified", `✓ Verified at block ${result.blockNumber}: this page matches the blockchain.`, [
      ...result.checked.map((c) => `Checked ${c}.`),
      ...result.warnings,
    ]);
  } else {
    const where = result.blockNumber === null ? "" : ` (checked at block ${result.blockNumber})`;
    show("mismatch", `✗ This page does not match the blockchain${where}. Do not trust the details below.`, [
      ...result.mismatches,
      ...result.warnings,
    ]);
  }
}

function run() {
  verify().catch((error) => {
    show("error", `Could not verify against the blockchain: ${error instanceof Error ? error.message : String(error)}`);
  });
}

rpcForm?.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = rpcInput?.value.trim() ?? "";
  try {
    const url = new URL(value);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
    window.localStorage.setItem(RPC_SETTING, url.href);
  } catch {
    show("error", `"${value}" is not an http(s) URL of a JSON-RPC endpoint.`);
    return;
  }
  run();
});
document.getElementById("rpc-reset")?.addEventListener("click", () => {
  try {
    window.localStorage.removeItem(RPC_SETTING);
  } catch {
    // storage disabled: nothing was stored
  }
  if (rpcInput) rpcInput.value = "";
  run();
});

run();
