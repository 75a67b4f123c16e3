// @ts-check
/**
 * The passport page's verification, run in the shopper's browser: reads the page's own JSON-LD, asks the chain and
 * shows "Verified at block N by k of n endpoints" or every mismatch.
 * Trust anchors come from what was scanned, not from the page: the chain and registry in the code's query string
 * ("?chain=…&registry=…"), and the JSON-RPC endpoints the shopper chose (kept in localStorage), all read at the same
 * block and compared. Only when the code names no registry, or no endpoint was chosen, does the check take the
 * server's word, and it says so.
 * The cold chain's shown readings are then checked against the roots anchored on chain (reading-anchors.js), read
 * through the first of the same endpoints, with the registry the passport was checked against.
 * Loaded as a module after the page has rendered, so the page is usable before ethers has arrived.
 */
import * as ethers from "./ethers.min.js";
import { MAX_CHECKED_READINGS, checkReadingAnchors, fetchLegReadings } from "./reading-anchors.js";
import {
  claimsFromJsonLd,
  createFindingFormatter,
  createJsonRpc,
  findingOfError,
  digitalLinkOfPath,
  jsonRpcEndpoints,
  trustAnchorsOfSearch,
  verifyPassportAcrossEndpoints,
} from "./verify-core.js";

const RPC_SETTING = "provena.rpcUrls";
/** Where one chosen endpoint was kept before several could be: still read, replaced on the next save. */
const LEGACY_RPC_SETTING = "provena.rpcUrl";
const MIN_SETTING = "provena.rpcMinAgreeing";
const MAX_ENDPOINTS = 10;

/**
 * The page's messages in its language (the server renders them into #passport-messages, see messages/*.ts); a
 * message missing there falls back to its key, so a broken table shows up instead of silently switching language.
 * @type {Record<string, string>}
 */
const messages = (() => {
  try {
    const parsed = JSON.parse(document.getElementById("passport-messages")?.textContent ?? "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
})();

/**
 * The message `key` with its "{name}" placeholders filled in; the result is only ever set as textContent.
 * @param {string} key @param {Record<string, string | number>} [params]
 */
function t(key, params = {}) {
  const message = typeof messages[key] === "string" ? messages[key] : key;
  return message.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** The language Intl formats counts and times in: the page's own (its messages say which). */
const intlLocale = messages["verify.intlLocale"] ?? (document.documentElement.lang || "en");
const numberFormat = new Intl.NumberFormat(intlLocale);
const timeFormat = new Intl.DateTimeFormat(intlLocale, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
/** @param {number} n */
const formatNumber = (n) => numberFormat.format(n);

/** The verifier's findings (verify-core.js, reading-anchors.js) in the page's language. */
const say = createFindingFormatter({
  messages,
  locale: intlLocale,
  number: formatNumber,
  time: (seconds) => `${timeFormat.format(new Date(seconds * 1000))} UTC`,
});

/**
 * An error in the page's language: the verifier's errors carry a finding; any other says its own message.
 * @param {unknown} error
 */
function sayError(error) {
  if (error && typeof error === "object" && "finding" in error) return say(/** @type {any} */ (error).finding);
  return say(findingOfError(error));
}

/** EndpointReport statuses as message keys. */
const ENDPOINT_STATUS_KEYS = /** @type {Record<string, string>} */ ({
  unreachable: "verify.endpointStatus.unreachable",
  failed: "verify.endpointStatus.failed",
  "wrong-chain": "verify.endpointStatus.wrongChain",
  behind: "verify.endpointStatus.behind",
});

/** Warnings that are about a node rather than the page: said once, among the node lines. */
const ENDPOINT_WARNINGS = new Set(["verify.finding.endpointUnread", "verify.finding.endpointUnused"]);

const panel = /** @type {HTMLElement} */ (document.getElementById("verification"));
const status = /** @type {HTMLElement} */ (document.getElementById("verify-status"));
const details = /** @type {HTMLUListElement} */ (document.getElementById("verify-details"));
const anchorsLine = /** @type {HTMLElement} */ (document.getElementById("verify-anchors"));
const rpcLine = /** @type {HTMLElement} */ (document.getElementById("verify-rpc"));
const rpcForm = /** @type {HTMLFormElement | null} */ (document.getElementById("rpc-form"));
const rpcInput = /** @type {HTMLTextAreaElement | null} */ (document.getElementById("rpc-urls"));
const minInput = /** @type {HTMLInputElement | null} */ (document.getElementById("rpc-min"));

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

/** The shopper's own JSON-RPC endpoints (none: the server's) and how many must answer. */
function chosenEndpoints() {
  try {
    const stored = window.localStorage.getItem(RPC_SETTING);
    const legacy = window.localStorage.getItem(LEGACY_RPC_SETTING);
    const parsed = stored ? JSON.parse(stored) : legacy ? [legacy] : [];
    const urls = Array.isArray(parsed) ? parsed.filter((u) => typeof u === "string" && isHttpUrl(u)).slice(0, MAX_ENDPOINTS) : [];
    const min = Number(window.localStorage.getItem(MIN_SETTING) ?? "1");
    return { urls, minAgreeing: Number.isSafeInteger(min) && min >= 1 ? min : 1 };
  } catch {
    return { urls: [], minAgreeing: 1 }; // storage disabled or unreadable: no setting
  }
}

/** @param {string} value */
function isHttpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** A line for each endpoint that was not used or failed, saying why. @param {any} result */
function endpointProblems(result) {
  return result.endpoints
    .filter((/** @type {any} */ e) => e.status !== "answered")
    .map((/** @type {any} */ e) => {
      const detail = e.detail ? say(e.detail) : "";
      return e.status === "duplicate"
        ? t("verify.endpointDuplicate", { url: e.url, detail })
        : t("verify.endpoint", { url: e.url, status: t(ENDPOINT_STATUS_KEYS[e.status] ?? e.status), detail });
    });
}

async function verify() {
  show("pending", t("verify.pending"));
  const data = document.getElementById("passport-data");
  if (!data?.textContent) throw new Error(t("verify.noPassportData"));
  const claims = claimsFromJsonLd(JSON.parse(data.textContent));

  let anchors;
  try {
    anchors = trustAnchorsOfSearch(window.location.search);
  } catch (error) {
    anchorsLine.textContent = t("verify.anchorsMalformed");
    show("mismatch", t("verify.anchorsMalformedStatus"), [sayError(error)]);
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
    ? t("verify.anchorsFromLink", { chainId: anchors.chainId, registry: anchors.registry })
    : t("verify.anchorsFromServer", { chainId: claims.chainId, registry: claims.registry });

  const chosen = chosenEndpoints();
  if (rpcInput && chosen.urls.length > 0) rpcInput.value = chosen.urls.join("\n");
  if (minInput) minInput.value = String(chosen.minAgreeing);
  const rpcUrls = chosen.urls.length > 0 ? chosen.urls : [new URL(claims.rpcUrl, window.location.href).href];
  panel.dataset.rpc = chosen.urls.length > 0 ? "chosen" : "server";
  rpcLine.textContent =
    chosen.urls.length === 0
      ? t("verify.rpcServer", { url: rpcUrls[0] ?? "" })
      : chosen.urls.length === 1
        ? t("verify.rpcOne", { url: chosen.urls[0] ?? "" })
        : t("verify.rpcMany", { count: chosen.urls.length, urls: chosen.urls.join(", "), min: chosen.minAgreeing });

  const abiResponse = await fetch(new URL("./registry-abi.json", import.meta.url));
  if (!abiResponse.ok) throw new Error(t("verify.abiUnavailable", { status: abiResponse.status }));
  const { abi, enums } = await abiResponse.json();
  const result = await verifyPassportAcrossEndpoints({
    claims,
    endpoints: jsonRpcEndpoints(rpcUrls),
    minAgreeing: chosen.urls.length > 0 ? chosen.minAgreeing : 1,
    ethers,
    abi,
    enums,
    // What the shopper scanned is the address bar, not what the page says about itself.
    expected: {
      link: digitalLinkOfPath(window.location.pathname) ?? undefined,
      ...(anchors ? { chainId: anchors.chainId, registry: anchors.registry } : {}),
    },
    onProgress: (step) => {
      status.textContent = `${say(step)}…`;
    },
  });
  panel.dataset.endpoints = `${result.agreeing}/${result.total}`;
  const counts = { agreeing: result.agreeing, total: result.total, min: result.minAgreeing };
  const problems = endpointProblems(result);
  // Endpoint problems are in the report's warnings too; each is said once, as a line about the node.
  const warnings = result.warnings.filter((w) => !ENDPOINT_WARNINGS.has(w.code)).map(say);
  if (result.verdict === "verified") {
    show("verified", t("verify.verified", { block: result.blockNumber, ...counts }), [
      ...result.checked.map((c) => t("verify.checked", { what: say(c) })),
      ...problems,
      ...warnings,
    ]);
  } else if (result.verdict === "unverifiable") {
    show("error", t("verify.unverifiable", counts), [...problems, ...warnings]);
  } else {
    const headline = result.blockNumber === null ? t("verify.mismatch") : t("verify.mismatchAtBlock", { block: result.blockNumber });
    show("mismatch", headline, [...result.mismatches.map(say), ...problems, ...warnings]);
  }
  await checkColdChainReadings({
    rpcUrl: rpcUrls[0] ?? "",
    registry: anchors ? anchors.registry : claims.registry,
    batchIds: [claims.batchId, ...claims.lineage.map((/** @type {{ batchId: string }} */ ancestor) => ancestor.batchId)],
  });
}

/**
 * "312 readings match 3 roots anchored on chain", or what did not match, under the cold-chain section.
 * @param {{ rpcUrl: string, registry: string, batchIds: string[] }} input
 */
async function checkColdChainReadings({ rpcUrl, registry, batchIds }) {
  const section = /** @type {HTMLElement | null} */ (document.querySelector("section[data-cold-chain]"));
  const line = document.getElementById("cold-chain-check");
  if (!section || !line || !rpcUrl) return;
  line.textContent = t("verify.readings.pending");
  try {
    const legIds = (section.dataset.legs ?? "").split(" ").filter((legId) => /^0x[0-9a-f]{64}$/.test(legId));
    const legs = [];
    let budget = MAX_CHECKED_READINGS;
    for (const legId of legIds) {
      const leg = await fetchLegReadings({
        fetch: window.fetch.bind(window),
        apiBase: window.location.origin + "/",
        legId,
        max: Math.max(1, budget),
      });
      budget -= leg.readings.length;
      legs.push(leg);
    }
    const rpc = createJsonRpc(rpcUrl);
    const result = await checkReadingAnchors({ ethers, rpc, coldChain: section.dataset.coldChain ?? "", registry, batchIds, legs });
    const notes = [
      ...(result.unanchored > 0 ? [t("verify.readings.unanchored", { count: formatNumber(result.unanchored) })] : []),
      ...(result.partial ? [t("verify.readings.partial", { count: formatNumber(MAX_CHECKED_READINGS) })] : []),
    ];
    line.dataset.state = result.failures.length === 0 ? "verified" : "mismatch";
    line.textContent =
      result.failures.length === 0
        ? [t("verify.readings.match", { readings: formatNumber(result.readings), roots: formatNumber(result.roots) }), ...notes].join(" ")
        : t("verify.readings.mismatch", { failures: result.failures.map(say).join(t("verify.separator.semicolon")) });
  } catch (error) {
    line.dataset.state = "error";
    line.textContent = t("verify.readings.error", { error: sayError(error) });
  }
}

function run() {
  verify().catch((error) => {
    show("error", t("verify.error", { error: sayError(error) }));
  });
}

rpcForm?.addEventListener("submit", (event) => {
  event.preventDefault();
  const lines = (rpcInput?.value ?? "")
    .split(/[\s,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const wrong = lines.find((line) => !isHttpUrl(line));
  if (wrong !== undefined) {
    show("error", t("verify.badUrl", { value: wrong }));
    return;
  }
  if (lines.length === 0 || lines.length > MAX_ENDPOINTS) {
    show("error", t("verify.urlCount", { max: MAX_ENDPOINTS }));
    return;
  }
  const urls = [...new Set(lines.map((line) => new URL(line).href))];
  const min = Number(minInput?.value ?? "1");
  if (!Number.isSafeInteger(min) || min < 1 || min > urls.length) {
    show("error", t("verify.minRange", { max: urls.length }));
    return;
  }
  try {
    window.localStorage.setItem(RPC_SETTING, JSON.stringify(urls));
    window.localStorage.setItem(MIN_SETTING, String(min));
    window.localStorage.removeItem(LEGACY_RPC_SETTING);
  } catch {
    show("error", t("verify.noStorage"));
    return;
  }
  run();
});
document.getElementById("rpc-reset")?.addEventListener("click", () => {
  try {
    for (const key of [RPC_SETTING, LEGACY_RPC_SETTING, MIN_SETTING]) window.localStorage.removeItem(key);
  } catch {
    // storage disabled: nothing was stored
  }
  if (rpcInput) rpcInput.value = "";
  if (minInput) minInput.value = "1";
  run();
});

run();

/**
 * The ownership claim form: the claim secret printed in the packaging signs EIP-712 Claim(tokenId, recipient) here,
 * in the page, and only the signature is posted; the relayer submits the claim and pays its fee.
 */
const claimForm = /** @type {HTMLFormElement | null} */ (document.getElementById("ownership-claim"));
claimForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("claim-result");
  const say = (/** @type {string} */ text) => {
    if (result) result.textContent = text;
  };
  const data = claimForm.dataset;
  const secretInput = /** @type {HTMLInputElement | null} */ (document.getElementById("claim-secret"));
  const recipientInput = /** @type {HTMLInputElement | null} */ (document.getElementById("claim-recipient"));
  const secret = (secretInput?.value ?? "").trim();
  const recipient = (recipientInput?.value ?? "").trim();
  say(t("ownership.claim.sending"));
  try {
    const key = new ethers.Wallet(secret.startsWith("0x") ? secret : `0x${secret}`);
    // The domain and types from the claim relay itself (backend/chain/unit-claim.ts), so the page signs what it checks.
    const signing = await fetch("/api/v1/ownership/claim-domain", { headers: { Accept: "application/json" } });
    if (!signing.ok) throw new Error(t("ownership.claim.domainUnavailable", { status: signing.status }));
    const { domain, types } = await signing.json();
    const signature = await key.signTypedData(domain, types, { tokenId: BigInt(data.tokenId ?? "0"), recipient });
    const response = await fetch("/api/v1/ownership/claims", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ batchId: data.batchId, serial: data.serial, recipient, signature }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      say(t("ownership.claim.failed", { reason: String(body.detail ?? body.title ?? response.status) }));
      return;
    }
    if (secretInput) secretInput.value = "";
    say(t("ownership.claim.queued"));
  } catch (error) {
    say(t("ownership.claim.failed", { reason: error instanceof Error ? error.message : String(error) }));
  }
});
