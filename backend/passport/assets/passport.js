// @ts-check
/**
 * The passport page's verification, run in the shopper's browser: reads the page's own JSON-LD, asks the chain
 * (through the read-only RPC URL the passport names) and shows "Verified at block N" or every mismatch.
 * Loaded as a module after the page has rendered, so the page is usable before ethers has arrived.
 */
import * as ethers from "./ethers.min.js";
import { claimsFromJsonLd, createJsonRpc, digitalLinkOfPath, verifyPassport } from "./verify-core.js";

const panel = /** @type {HTMLElement} */ (document.getElementById("verification"));
const status = /** @type {HTMLElement} */ (document.getElementById("verify-status"));
const details = /** @type {HTMLUListElement} */ (document.getElementById("verify-details"));

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

async function main() {
  const data = document.getElementById("passport-data");
  if (!data?.textContent) throw new Error("this page carries no passport data");
  const claims = claimsFromJsonLd(JSON.parse(data.textContent));
  const abiResponse = await fetch(new URL("./registry-abi.json", import.meta.url));
  if (!abiResponse.ok) throw new Error(`the registry ABI could not be loaded (HTTP ${abiResponse.status})`);
  const { abi, enums } = await abiResponse.json();
  const rpc = createJsonRpc(new URL(claims.rpcUrl, window.location.href).href);
  const result = await verifyPassport({
    claims,
    rpc,
    ethers,
    abi,
    enums,
    // What the shopper scanned is the address bar, not what the page says about itself.
    expected: { link: digitalLinkOfPath(window.location.pathname) ?? undefined },
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

main().catch((error) => {
  show("error", `Could not verify against the blockchain: ${error instanceof Error ? error.message : String(error)}`);
});
