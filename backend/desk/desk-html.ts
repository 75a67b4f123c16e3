/**
 * The recall desk's pages, rendered on the server like the passport's (../passport/html.ts): no client framework,
 * one inline stylesheet allowed by its hash, one small script (the wallet sign-in) from this origin. Every value
 * from the chain, the store or the request goes through `escapeHtml`; participant names are anyone's choice at
 * onboarding, so they are data, never markup.
 */
import { createHash } from "node:crypto";
import type { Hex, RecallAcknowledgement } from "../domain/model.ts";
import { digitalLinkPath } from "../passport/digital-link.ts";
import { localeOf } from "../passport/messages/index.ts";
import type { LanguageLink } from "../passport/locale-negotiation.ts";
import { escapeHtml, jsonForScript } from "../passport/html.ts";
import type { DeskLocale } from "./desk-messages.ts";
import type { DeskLot, DeskParticipant, DeskRecallList, DeskRecallView, LocalizedText } from "./desk-view.ts";

export const DESK_PATH = "/desk/recalls";
export const DESK_ASSET_PATH = "/desk/assets";

const STYLE = `
:root{color-scheme:light;--ink:#1b1b1b;--muted:#4a4a4a;--line:#d0d0d0;--bg:#fff;--panel:#f5f6f7;--ok:#0b6b2e;--ok-bg:#e8f5ec;--bad:#a1001b;--bad-bg:#fdecee;--link:#0645ad}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--link)}
a:focus-visible,button:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#000;color:#fff;padding:.5rem 1rem}
.skip:focus{left:0;z-index:10}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem;padding-bottom:.5rem;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline}
header p{margin:0;font-weight:600}
h1{font-size:1.5rem;line-height:1.25;margin:1rem 0 .5rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
dl{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.5rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;background:var(--ok-bg);color:var(--ok)}
.badge.no{background:var(--bad-bg);color:var(--bad)}
.panel{margin:1rem 0;padding:1rem;border-radius:.5rem;background:var(--panel);border:1px solid var(--line)}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.25rem;background:#1b1b1b;color:#fff;cursor:pointer}
ul.links{list-style:none;margin:0;padding:0}
footer{margin-top:2rem;padding-bottom:2rem;color:var(--muted);font-size:.875rem;border-top:1px solid var(--line)}
@media (max-width:40rem){
table.cards thead{position:absolute;left:-999px}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards tr{border:1px solid var(--line);border-radius:.5rem;margin:0 0 1rem;padding:.25rem .5rem}
table.cards td{border:0;padding:.25rem 0}
table.cards td::before{content:attr(data-label);display:block;color:var(--muted);font-size:.85rem}
}
`;

const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/** The passport's policy, narrowed: the desk loads no images from elsewhere and talks only to its own origin. */
export const DESK_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src ${STYLE_HASH}`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface LayoutOptions {
  title: string;
  body: string;
  locale: DeskLocale;
  languages: LanguageLink[] | undefined;
  /** The wallet sign-in script and the words it shows. */
  signInScript?: boolean;
  signedInAs?: DeskParticipant;
}

function layout({ title, body, locale, languages, signInScript, signedInAs }: LayoutOptions): string {
  const scriptHead = signInScript
    ? `<script type="application/json" id="desk-messages">${jsonForScript(signInWords(locale))}</script>
<script type="module" src="${DESK_ASSET_PATH}/desk-sign-in.js"></script>
`
    : "";
  return `<!doctype html>
<html lang="${escapeHtml(locale.base.tag)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · ${locale.html("desk.brand")}</title>
<style>${STYLE}</style>
${scriptHead}</head>
<body>
<a class="skip" href="#main">${locale.html("desk.skip")}</a>
<header><p>${locale.html("desk.brand")}</p>${signedInAs ? `<p id="signed-in-as">${locale.html("desk.signedInAs", { who: participantHtml(signedInAs, locale) })}</p>` : ""}${languages ? languageSwitchHtml(languages, locale) : ""}</header>
${body}
<footer><p>${locale.html("desk.footer")}</p></footer>
</body>
</html>
`;
}

function signInWords(locale: DeskLocale): Record<string, string> {
  return {
    noProvider: locale.text("desk.signIn.noProvider"),
    working: locale.text("desk.signIn.working"),
    refused: locale.text("desk.signIn.refused"),
  };
}

function languageSwitchHtml(languages: LanguageLink[], locale: DeskLocale): string {
  const links = languages.map(({ tag, href }) => {
    const name = escapeHtml(localeOf(tag).text("page.languageName"));
    return tag === locale.base.tag
      ? `<a href="${escapeHtml(href)}" lang="${tag}" hreflang="${tag}" aria-current="true"><strong>${name}</strong></a>`
      : `<a href="${escapeHtml(href)}" lang="${tag}" hreflang="${tag}">${name}</a>`;
  });
  return `<nav class="languages" aria-label="${escapeHtml(locale.base.text("page.language"))}">${links.join(" · ")}</nav>`;
}

function timeHtml(seconds: number, locale: DeskLocale): string {
  return `<time datetime="${new Date(seconds * 1000).toISOString()}">${escapeHtml(locale.base.time(seconds))}</time>`;
}

function participantHtml(participant: DeskParticipant, locale: DeskLocale): string {
  const name = participant.name === null ? `<em>${locale.html("desk.unnamed")}</em>` : `<bdi>${escapeHtml(participant.name)}</bdi>`;
  return `${name} <span class="mono">${escapeHtml(participant.address)}</span>`;
}

/** Text in the page's language, else the other one (marked with its own `lang`); null when there is none. */
function localizedHtml(text: LocalizedText | null | undefined, locale: DeskLocale): string | null {
  if (!text) return null;
  const wanted = locale.base.tag.startsWith("zh") ? "zh" : "en";
  const own = text[wanted];
  if (own !== undefined) return `<bdi>${escapeHtml(own)}</bdi>`;
  const other = wanted === "zh" ? text.en : text.zh;
  return other === undefined ? null : `<bdi lang="${wanted === "zh" ? "en" : "zh"}">${escapeHtml(other)}</bdi>`;
}

function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 10)}…${value.slice(-6)}` : value;
}

function signInPanel(locale: DeskLocale): string {
  return `<div class="panel" id="sign-in">
<noscript><p>${locale.html("desk.signIn.needsScript")}</p></noscript>
<p><button type="button" id="desk-sign-in" hidden>${locale.html("desk.signIn.button")}</button></p>
<p id="desk-sign-in-status" role="status" aria-live="polite"></p>
</div>
<h2>${locale.html("desk.signIn.noWallet")}</h2>
<pre class="mono">PROVENA_API_URL=&lt;this server&gt; npx provena recalls [&lt;batch id | GTIN/LOT&gt;]</pre>
<p>${locale.html("desk.signIn.noWalletKey")}</p>`;
}

export function renderSignInPage(locale: DeskLocale, languages: LanguageLink[] | undefined): string {
  return layout({
    title: locale.text("desk.signIn.title"),
    locale,
    languages,
    signInScript: true,
    body: `<main id="main">
<h1>${locale.html("desk.signIn.title")}</h1>
<p>${locale.html("desk.signIn.intro")}</p>
${signInPanel(locale)}
</main>`,
  });
}

export function renderForbiddenPage(locale: DeskLocale, languages: LanguageLink[] | undefined, address: Hex): string {
  return layout({
    title: locale.text("desk.forbidden.title"),
    locale,
    languages,
    signInScript: true,
    body: `<main id="main">
<h1>${locale.html("desk.forbidden.title")}</h1>
<p>${locale.html("desk.forbidden.who", { address: `<span class="mono">${escapeHtml(address)}</span>` })}</p>
<p>${locale.html("desk.forbidden.other")}</p>
${signInPanel(locale)}
<p class="mono">${locale.html("desk.error.status", { status: 403 })}</p>
</main>`,
  });
}

export function renderDeskErrorPage(locale: DeskLocale, languages: LanguageLink[] | undefined, status: number, detail: string): string {
  return layout({
    title: locale.text("desk.error.title"),
    locale,
    languages,
    body: `<main id="main">
<h1>${locale.html("desk.error.title")}</h1>
<p${locale.base.tag === "en" ? "" : ' lang="en"'}>${escapeHtml(detail)}</p>
<p><a href="${DESK_PATH}">${locale.html("desk.detail.back")}</a></p>
<p class="mono">${locale.html("desk.error.status", { status })}</p>
</main>`,
  });
}

export function recallPath(batchId: Hex): string {
  return `${DESK_PATH}/${batchId}`;
}

export function renderRecallListPage(
  list: DeskRecallList,
  options: { locale: DeskLocale; languages: LanguageLink[] | undefined; viewer: DeskParticipant; pageHref: (page: number) => string },
): string {
  const { locale } = options;
  const t = locale.html;
  const rows = list.rows.map(({ recall, productName, summary }) => {
    const product = localizedHtml(productName, locale) ?? "—";
    return `<tr data-batch-id="${escapeHtml(recall.batchId)}">
<td data-label="${t("desk.col.lot")}"><a href="${escapeHtml(recallPath(recall.batchId))}">${t("desk.gtinLot", { gtin: escapeHtml(recall.gtin), lot: `<bdi>${escapeHtml(recall.lot)}</bdi>` })}</a></td>
<td data-label="${t("desk.col.product")}">${product}</td>
<td data-label="${t("desk.col.reason")}"><span class="mono" title="${escapeHtml(recall.recall.reasonHash)}">${escapeHtml(shortHex(recall.recall.reasonHash))}</span></td>
<td data-label="${t("desk.col.when")}">${timeHtml(recall.recall.at.blockTimestamp, locale)}</td>
<td data-label="${t("desk.col.lots")}" class="lots">${escapeHtml(locale.base.number(summary.lots))}</td>
<td data-label="${t("desk.col.acknowledged")}" class="acknowledged">${t("desk.acknowledgedOf", { acknowledged: escapeHtml(locale.base.number(summary.acknowledgedHolders)), holders: escapeHtml(locale.base.number(summary.holders)) })}</td>
</tr>`;
  });
  const table =
    list.rows.length === 0
      ? `<p>${t("desk.list.none")}</p>`
      : `<p>${t("desk.list.count", { count: escapeHtml(locale.base.number(list.total)) })}</p>
<table class="cards" id="recalls">
<thead><tr><th scope="col">${t("desk.col.lot")}</th><th scope="col">${t("desk.col.product")}</th><th scope="col">${t("desk.col.reason")}</th><th scope="col">${t("desk.col.when")}</th><th scope="col">${t("desk.col.lots")}</th><th scope="col">${t("desk.col.acknowledged")}</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>`;
  const next =
    list.page < list.pages ? `<p><a rel="next" href="${escapeHtml(options.pageHref(list.page + 1))}">${t("desk.list.next")}</a></p>` : "";
  return layout({
    title: locale.text("desk.list.title"),
    locale,
    languages: options.languages,
    signedInAs: options.viewer,
    body: `<main id="main">
<h1>${t("desk.list.title")}</h1>
${table}
${next}
</main>`,
  });
}

const KNOWN_LOT_FIELDS = new Set(["batchId", "gtin", "lot", "quantity", "depth", "custodian", "pendingCustodian", "acknowledged"]);

/**
 * How the recall reaches the lot: its generation below the recalled lot, and whatever else the service says about
 * it (fields it may add for containers and merges), shown as given.
 */
function reachedHtml(lot: DeskLot["lot"], locale: DeskLocale): string {
  const parts = [lot.depth === 0 ? locale.html("desk.detail.recalledLot") : locale.html("desk.detail.depth", { depth: lot.depth })];
  for (const [key, value] of Object.entries(lot)) {
    if (KNOWN_LOT_FIELDS.has(key) || value === null || value === undefined) continue;
    const shown = ["string", "number", "boolean"].includes(typeof value) ? String(value) : JSON.stringify(value);
    parts.push(`<span class="mono">${escapeHtml(key)}: ${escapeHtml(shown)}</span>`);
  }
  return parts.join("<br>");
}

function acknowledgementHtml(acknowledgement: RecallAcknowledgement | null, locale: DeskLocale): string {
  if (acknowledgement === null) return `<span class="badge no">${locale.html("desk.ack.no")}</span>`;
  const time = timeHtml(Math.floor(acknowledgement.acknowledgedAt / 1000), locale);
  return `<span class="badge">${locale.html("desk.ack.yes", { time })}</span>`;
}

function lotRowHtml(item: DeskLot, locale: DeskLocale): string {
  const t = locale.html;
  const { lot } = item;
  let passport = "";
  try {
    passport = `<li><a href="${escapeHtml(digitalLinkPath(lot.gtin, lot.lot))}">${t("desk.link.passport")}</a></li>`;
  } catch {
    // A lot whose code is no valid Digital Link has no passport page to link to.
  }
  const location =
    item.locationGln === null
      ? "—"
      : `${typeof item.locationName === "string" ? `<bdi>${escapeHtml(item.locationName)}</bdi> ` : `${localizedHtml(item.locationName, locale) ?? ""} `}<span class="mono">GLN ${escapeHtml(item.locationGln)}</span>`;
  const pending = item.pendingHolder ? `<br>${t("desk.lot.pending", { who: participantHtml(item.pendingHolder, locale) })}` : "";
  return `<tr data-batch-id="${escapeHtml(lot.batchId)}" data-acknowledged="${lot.acknowledged ? "yes" : "no"}">
<td data-label="${t("desk.lot.lot")}">${t("desk.gtinLot", { gtin: escapeHtml(lot.gtin), lot: `<bdi>${escapeHtml(lot.lot)}</bdi>` })}<br><span class="mono">${escapeHtml(shortHex(lot.batchId))}</span></td>
<td data-label="${t("desk.lot.reached")}">${reachedHtml(lot, locale)}</td>
<td data-label="${t("desk.lot.quantity")}">${escapeHtml(locale.base.number(lot.quantity))}</td>
<td data-label="${t("desk.lot.holder")}" class="holder">${participantHtml(item.holder, locale)}${pending}</td>
<td data-label="${t("desk.lot.location")}">${location}</td>
<td data-label="${t("desk.lot.acknowledged")}" class="acknowledgement">${acknowledgementHtml(lot.acknowledged ? item.acknowledgement : null, locale)}</td>
<td data-label="${t("desk.lot.links")}"><ul class="links"><li><a href="/api/v1/batches/${escapeHtml(lot.batchId)}/trace">${t("desk.link.trace")}</a></li>${passport}</ul></td>
</tr>`;
}

export function renderRecallPage(
  view: DeskRecallView,
  options: { locale: DeskLocale; languages: LanguageLink[] | undefined; viewer: DeskParticipant },
): string {
  const { locale } = options;
  const t = locale.html;
  const { detail } = view;
  const product = localizedHtml(view.productName, locale);
  const number = (value: number) => escapeHtml(locale.base.number(value));
  const former =
    view.formerHolders.length === 0
      ? ""
      : `<h2>${t("desk.detail.formerHolders")}</h2>
<ul id="former-holders">${view.formerHolders.map(({ acknowledgement, holder }) => `<li>${participantHtml(holder, locale)} ${acknowledgementHtml(acknowledgement, locale)}</li>`).join("")}</ul>`;
  return layout({
    title: locale.text("desk.detail.title", { lot: detail.lot }),
    locale,
    languages: options.languages,
    signedInAs: options.viewer,
    body: `<main id="main">
<p><a href="${DESK_PATH}">${t("desk.detail.back")}</a></p>
<h1>${t("desk.detail.title", { lot: `<bdi>${escapeHtml(detail.lot)}</bdi>` })}</h1>
<dl>
<dt>GTIN</dt><dd class="mono">${escapeHtml(detail.gtin)}</dd>
${product === null ? "" : `<dt>${t("desk.detail.product")}</dt><dd>${product}</dd>\n`}<dt>${t("desk.detail.recalledBy")}</dt><dd>${participantHtml(view.recalledBy, locale)}</dd>
<dt>${t("desk.detail.when")}</dt><dd>${timeHtml(detail.recall.at.blockTimestamp, locale)}</dd>
<dt>${t("desk.detail.reason")}</dt><dd class="mono">${escapeHtml(detail.recall.reasonHash)}</dd>
</dl>
<p id="summary">${t("desk.detail.summary", { lots: number(detail.summary.lots), holders: number(detail.summary.holders), acknowledged: number(detail.summary.acknowledgedHolders) })}</p>
<p><a id="epcis-export" href="/api/v1/epcis/recalls/${escapeHtml(detail.batchId)}" download="recall-${escapeHtml(detail.batchId)}.jsonld">${t("desk.detail.export")}</a></p>
<h2>${t("desk.detail.lots")}</h2>
<table class="cards" id="affected-lots">
<thead><tr><th scope="col">${t("desk.lot.lot")}</th><th scope="col">${t("desk.lot.reached")}</th><th scope="col">${t("desk.lot.quantity")}</th><th scope="col">${t("desk.lot.holder")}</th><th scope="col">${t("desk.lot.location")}</th><th scope="col">${t("desk.lot.acknowledged")}</th><th scope="col">${t("desk.lot.links")}</th></tr></thead>
<tbody>
${view.lots.map((item) => lotRowHtml(item, locale)).join("\n")}
</tbody>
</table>
${former}
</main>`,
  });
}
