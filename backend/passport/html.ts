/**
 * Server-rendered passport pages: no build step, no client framework, one small ES module for verification.
 * Every value that comes from the chain, the store or the request is escaped with `escapeHtml` (text and
 * attribute context) or `jsonForScript` (inside <script type="application/ld+json">).
 * Mobile first and accessible: landmarks, one h1, a skip link, lang, visible focus, WCAG AA contrast, and
 * live regions for the recall banner and the verification result.
 */
import { createHash } from "node:crypto";
import { renderColdChainChart } from "./cold-chain-chart.ts";
import type { Batch, Hex, Participant } from "../domain/model.ts";
import { digitalLinkPath } from "./digital-link.ts";
import type { LanguageLink } from "./locale-negotiation.ts";
import { type Locale, localeOf, type MessageKey } from "./messages/index.ts";
import type { HistoryEntry, PassportView, PassportViewerSections, PrivateLevel, UnitOwnershipView } from "./passport-view.ts";

export const ASSET_BASE_PATH = "/passport/assets";

export function escapeHtml(value: string | number | bigint | boolean | null | undefined): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** JSON safe inside a <script> element: "</script>", "<!--" and line separators cannot end or confuse it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const STYLE = `
:root{color-scheme:light;--ink:#1b1b1b;--muted:#4a4a4a;--line:#d0d0d0;--bg:#fff;--panel:#f5f6f7;--ok:#0b6b2e;--ok-bg:#e8f5ec;--bad:#a1001b;--bad-bg:#fdecee;--warn:#6b4400;--warn-bg:#fff4d6;--link:#0645ad}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#000;color:#fff;padding:.5rem 1rem}
.skip:focus{left:0;z-index:10}
header,main,footer{max-width:44rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem;padding-bottom:.5rem;border-bottom:1px solid var(--line)}
header p{margin:0;font-weight:600;letter-spacing:.02em}
h1{font-size:1.5rem;line-height:1.25;margin:1rem 0 .5rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
dl{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.banner{margin:1rem 0;padding:1rem;border-radius:.5rem;border:2px solid}
.banner h2{margin:0 0 .25rem;font-size:1.2rem}
.banner p{margin:.25rem 0}
.recall{background:var(--bad);color:#fff;border-color:#6d0012}
.recall a{color:#fff}
.clone{background:var(--warn-bg);color:var(--warn);border-color:#c98a00}
.verify{background:var(--panel);border-color:var(--line)}
.verify[data-state=verified]{background:var(--ok-bg);color:var(--ok);border-color:var(--ok)}
.verify[data-state=mismatch]{background:var(--bad-bg);color:var(--bad);border-color:var(--bad)}
.verify[data-state=error]{background:var(--warn-bg);color:var(--warn);border-color:#c98a00}
.verify ul{margin:.5rem 0 0;padding-left:1.25rem}
.verify details{margin-top:.75rem}
#verify-anchors,#verify-rpc{overflow-wrap:anywhere}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;background:var(--ok-bg);color:var(--ok)}
.badge.no{background:var(--bad-bg);color:var(--bad)}
ol.timeline{list-style:none;margin:0;padding:0;border-left:3px solid var(--line)}
ol.timeline li{position:relative;margin:0 0 1rem;padding-left:1rem}
ol.timeline li::before{content:"";position:absolute;left:-.55rem;top:.45rem;width:.8rem;height:.8rem;border-radius:50%;background:var(--ink)}
ol.timeline li.recalled::before{background:var(--bad)}
ol.timeline li.earlier::before{background:var(--muted)}
ol.timeline span.earlier{font-style:italic}
ol.timeline h3{font-size:1rem;margin:0}
ol.timeline p{margin:.1rem 0;color:var(--muted)}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
label{display:block;font-weight:600}
input[type=text],input[type=url],input[type=number],textarea{font:inherit;padding:.5rem;border:1px solid #767676;border-radius:.25rem;min-width:14rem;max-width:100%}
input[type=number]{min-width:0;width:5rem}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.25rem;background:#1b1b1b;color:#fff;cursor:pointer}
details{margin-top:1.5rem}
footer{margin-top:2rem;padding-bottom:2rem;color:var(--muted);font-size:.875rem;border-top:1px solid var(--line)}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.75rem}
.label{border:1px dashed #999;padding:.5rem;text-align:center;break-inside:avoid}
.label svg{width:100%;height:auto}
.label{margin:0}.label p{margin:.25rem 0 0;font-size:.75rem;overflow-wrap:anywhere}
.private{margin:1rem 0;padding:1rem;border:2px dashed #5a3d8a;border-radius:.5rem;background:#f6f2fb}
.private h2{margin:0 0 .5rem}
#signed-in{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;margin:.75rem 0;padding:.5rem .75rem;background:var(--panel);border-radius:.25rem}
#signed-in p,#sign-in p{margin:0}
#sign-in{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.5rem}
#sign-in button,#signed-in button{padding:.25rem .75rem;font-size:.875rem}
@media print{header,footer,nav.pages,.noprint{display:none}.label{border-color:#ccc}}
`;

/** The CSP hash of the inline stylesheet: pages allow exactly this style and no other inline code. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

export function contentSecurityPolicy(rpcUrl: string): string {
  let rpcOrigin = "";
  try {
    rpcOrigin = new URL(rpcUrl).origin;
  } catch {
    // A relative or invalid URL: the RPC is same-origin.
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${STYLE_HASH}`,
    // https: for the product image the manufacturer publishes with its product data (public DPP field).
    "img-src 'self' data: https:",
    // https: lets the shopper's own choice of JSON-RPC endpoint (a setting the page keeps) be reached.
    `connect-src 'self' https:${rpcOrigin ? ` ${rpcOrigin}` : ""}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function layout(options: {
  title: string;
  canonical?: string;
  head?: string;
  body: string;
  locale?: Locale;
  languages?: LanguageLink[];
  /** Markup after the language switch (the passport's sign-in). */
  headerExtra?: string;
}): string {
  const locale = options.locale ?? localeOf();
  return `<!doctype html>
<html lang="${escapeHtml(locale.tag)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(options.title)}</title>
${options.canonical ? `<link rel="canonical" href="${escapeHtml(options.canonical)}">\n` : ""}<style>${STYLE}</style>
${options.head ?? ""}</head>
<body>
<a class="skip" href="#main">${locale.html("page.skip")}</a>
<header><p>${locale.html("page.brand")}</p>${options.languages ? languageSwitchHtml(options.languages, locale) : ""}${options.headerExtra ?? ""}</header>
${options.body}
<footer><p>${locale.html("page.footer")}</p></footer>
</body>
</html>
`;
}

/** Each language by its own name, in its own language; the current one marked. Links keep the rest of the query (trust anchors). */
function languageSwitchHtml(languages: LanguageLink[], locale: Locale): string {
  const links = languages.map(({ tag, href }) => {
    const name = escapeHtml(localeOf(tag).text("page.languageName"));
    return tag === locale.tag
      ? `<a href="${escapeHtml(href)}" lang="${tag}" hreflang="${tag}" aria-current="true"><strong>${name}</strong></a>`
      : `<a href="${escapeHtml(href)}" lang="${tag}" hreflang="${tag}">${name}</a>`;
  });
  return `<nav class="languages noprint" aria-label="${locale.html("page.language")}">${links.join(" · ")}</nav>`;
}

function dateHtml(seconds: number, locale: Locale): string {
  const date = new Date(seconds * 1000);
  return `<time datetime="${date.toISOString().slice(0, 10)}">${escapeHtml(locale.date(seconds))}</time>`;
}

function timeHtml(seconds: number, locale: Locale): string {
  const date = new Date(seconds * 1000);
  return `<time datetime="${date.toISOString()}">${escapeHtml(locale.time(seconds))}</time>`;
}

/** A message chosen by a value from the chain (a status, a business step), else the value itself. */
function labelOf(locale: Locale, prefix: string, value: string): string {
  const key = `${prefix}${value}`;
  return Object.hasOwn(locale.messages, key) ? locale.text(key as MessageKey) : value;
}

/** The entry's title in the page's language; the entry's own (English) label when it is of a kind the messages lack. */
function entryTitle(entry: HistoryEntry, view: PassportView, locale: Locale): string {
  const { args } = entry;
  const lotOf = (batchId: unknown) =>
    [...view.lineage.map((a) => a.batch), ...view.children].find((b) => b.batchId === batchId)?.lot ?? String(batchId);
  switch (entry.kind) {
    case "registered":
      return locale.text("event.BatchRegistered");
    case "split_from":
      return locale.text("event.BatchSplitFrom", { lot: lotOf(args.parentId) });
    case "split_into":
      return locale.text("event.BatchSplitInto", { lot: lotOf(args.childId) });
    case "inspection":
      return locale.text(args.passed ? "event.QualityAttestedPassed" : "event.QualityAttestedFailed");
    case "recalled":
      return locale.text("event.BatchRecalled");
    case "custody": {
      const key = `event.${entry.event}`;
      return Object.hasOwn(locale.messages, key) ? locale.text(key as MessageKey) : entry.label;
    }
  }
}

function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 8)}…${value.slice(-4)}` : value;
}

function participantHtml(address: Hex, participants: Map<Hex, Participant>, locale: Locale): string {
  const participant = participants.get(address);
  if (!participant)
    return locale.html("passport.participant.unknown", {
      address: `<span class="mono" title="${escapeHtml(address)}">${escapeHtml(shortHex(address))}</span>`,
    });
  const suspended = participant.suspended ? ` <span class="badge no">${locale.html("passport.participant.suspended")}</span>` : "";
  return `${escapeHtml(participant.name)} <span class="mono">(GLN ${escapeHtml(participant.gln)})</span>${suspended}`;
}

function lotLinkHtml(lot: Batch, locale: Locale, key: MessageKey = "passport.lotLink"): string {
  return `<a href="${escapeHtml(digitalLinkPath(lot.gtin, lot.lot))}">${locale.html(key, { lot: escapeHtml(lot.lot) })}</a>`;
}

/** "Made from: lot X (GTIN …), lot Y": the lots of a merge on one line, each linked, recalled ones marked; "" for none. */
function mergedLotsHtml(lots: readonly Batch[], key: "lineage.madeFrom" | "lineage.usedIn", locale: Locale): string {
  if (lots.length === 0) return "";
  const items = lots.map(
    (lot) =>
      locale.html("lineage.mergedLot", { lot: lotLinkHtml(lot, locale, "passport.lotLinkTitle"), gtin: escapeHtml(lot.gtin) }) +
      (lot.recall ? ` <span class="badge no">${locale.html("lineage.recalled")}</span>` : ""),
  );
  return `<p>${locale.html(key, { lots: items.join(locale.html("lineage.listSeparator")) })}</p>`;
}

/** The inspection that applies, saying which earlier lot it was made on when it is inherited. */
function inspectionHtml(inspection: PassportView["inspection"], locale: Locale): string {
  const result = locale.html(`passport.inspection.${inspection.result}`);
  return inspection.inherited
    ? locale.html("passport.inspection.inherited", { result, lot: lotLinkHtml(inspection.batch, locale) })
    : result;
}

/** The shown journey: each ancestor's registration, custody steps and inspections (oldest first), then the batch's own. */
function timelineOf(view: PassportView): { entry: HistoryEntry; earlierLot: Batch | null }[] {
  const earlier = view.lineage
    .map((ancestor) => [ancestor.registration, ...ancestor.historyBeforeSplit].map((entry) => ({ entry, earlierLot: ancestor.batch })))
    .reverse()
    .flat();
  return [...earlier, ...view.history.map((entry) => ({ entry, earlierLot: null }))];
}

/** `earlierLot`: the ancestor the entry belongs to, when it is not the shown batch's own. */
function timelineItem(entry: HistoryEntry, view: PassportView, locale: Locale, earlierLot: Batch | null = null): string {
  const { args } = entry;
  const who = (address: unknown) => participantHtml(address as Hex, view.participants, locale);
  const mono = (value: unknown) => `<span class="mono">${escapeHtml(String(value))}</span>`;
  const lines: string[] = [];
  switch (entry.kind) {
    case "registered":
      lines.push(
        locale.html("timeline.by", { participant: who(args.manufacturer) }),
        locale.html("timeline.originGln", { gln: mono(args.originGln) }),
      );
      break;
    case "split_from": {
      const parent = view.lineage.find((a) => a.batch.batchId === args.parentId)?.batch;
      lines.push(parent ? locale.html("timeline.fromLot", { lot: lotLinkHtml(parent, locale) }) : "");
      if (args.custodian) lines.push(locale.html("timeline.by", { participant: who(args.custodian) }));
      lines.push(locale.html("timeline.quantity", { quantity: escapeHtml(locale.number(String(args.quantity))) }));
      break;
    }
    case "custody": {
      const step = typeof args.businessStep === "string" ? labelOf(locale, "step.", args.businessStep) : null;
      if (step) lines.push(locale.html("timeline.businessStep", { step: escapeHtml(step) }));
      lines.push(locale.html("timeline.from", { participant: who(args.from) }), locale.html("timeline.to", { participant: who(args.to) }));
      if (args.locationGln) lines.push(locale.html("timeline.where", { gln: mono(args.locationGln) }));
      if (args.reasonHash) lines.push(locale.html("timeline.reasonDocument", { hash: mono(shortHex(String(args.reasonHash))) }));
      break;
    }
    case "inspection":
      lines.push(
        locale.html("timeline.inspector", { participant: who(args.inspector) }),
        locale.html("timeline.report", { hash: mono(shortHex(String(args.reportHash))) }),
      );
      break;
    case "split_into": {
      const child = view.children.find((c) => c.batchId === args.childId);
      lines.push(
        child
          ? locale.html("timeline.child", {
              lot: lotLinkHtml(child, locale, "passport.lotLinkTitle"),
              quantity: escapeHtml(locale.number(child.quantity)),
            })
          : "",
      );
      break;
    }
    case "recalled":
      lines.push(
        locale.html("timeline.by", { participant: who(args.recalledBy) }),
        locale.html("timeline.reasonDocument", { hash: mono(shortHex(String(args.reasonHash))) }),
      );
      break;
  }
  if (earlierLot)
    lines.unshift(`<span class="earlier">${locale.html("timeline.earlier", { lot: lotLinkHtml(earlierLot, locale) })}</span>`);
  const classes = [entry.kind === "recalled" ? "recalled" : "", earlierLot ? "earlier" : ""].filter(Boolean).join(" ");
  return `<li class="${classes}" data-event="${escapeHtml(entry.event)}" data-block="${entry.blockNumber}"${earlierLot ? ` data-lot="${escapeHtml(earlierLot.lot)}"` : ""}>
<h3>${escapeHtml(entryTitle(entry, view, locale))}</h3>
<p>${locale.html("timeline.when", { time: timeHtml(entry.timestamp, locale), block: entry.blockNumber })}</p>
${lines
  .filter(Boolean)
  .map((line) => `<p>${line}</p>`)
  .join("\n")}
</li>`;
}

export interface PassportPageOptions {
  jsonLd: unknown;
  /** Path of the claim endpoint for this unit (form action). */
  claimAction: string | null;
  /** Shown after a successful claim form submission. */
  claimNotice: string | null;
  qrSheetPath: string;
  /** The page's language; English when absent. */
  locale?: Locale;
  /** The language switch: each language's link to this page. */
  languages?: LanguageLink[];
  /** Offers partners and authorities the wallet sign-in (the deployment serves Sign-In with Ethereum). */
  signIn?: boolean;
  /** A signed-in, entitled viewer's own sections; absent or null for the public page. Never cached. */
  viewerSections?: PassportViewerSections | null;
}

/** The words of the wallet sign-in script (assets/passport-sign-in.js), read from the page. */
function signInWords(locale: Locale): Record<string, string> {
  return {
    noProvider: locale.text("signIn.noProvider"),
    working: locale.text("signIn.working"),
    refused: locale.text("signIn.refused"),
  };
}

/** "Partner or authority? Sign in": the wallet signs in and the page reloads as the viewer's (assets/passport-sign-in.js). */
function signInHtml(locale: Locale): string {
  return `<div id="sign-in" class="noprint">
<button type="button" id="passport-sign-in">${locale.html("signIn.button")}</button>
<p id="passport-sign-in-status" role="status" aria-live="polite"></p>
</div>`;
}

/** "Signed in as <name> · roles · Sign out". */
function signedInHtml(sections: PassportViewerSections, locale: Locale): string {
  const { viewer } = sections;
  const who = viewer.name
    ? `${escapeHtml(viewer.name)} <span class="mono" title="${escapeHtml(viewer.address)}">(${escapeHtml(shortHex(viewer.address))})</span>`
    : `<span class="mono">${escapeHtml(viewer.address)}</span>`;
  const roles = viewer.roles.length > 0 ? escapeHtml(viewer.roles.join(", ")) : locale.html("signedIn.noRole");
  return `<section id="signed-in" class="noprint" data-address="${escapeHtml(viewer.address)}">
<p id="signed-in-as">${locale.html("signedIn.as", { who, roles })}</p>
<button type="button" id="passport-sign-out">${locale.html("signedIn.signOut")}</button>
<p id="passport-sign-in-status" role="status" aria-live="polite"></p>
</section>`;
}

const LEVEL_TITLES: Record<PrivateLevel, MessageKey> = { partners: "private.partners", authorities: "private.authorities" };

/** A private product data field's value: the two fields above public are drawn; any other as its JSON, escaped. */
function privateFieldHtml(field: string, value: unknown): string {
  if (field === "facility" && typeof value === "object" && value !== null) {
    const facility = value as { name?: string; gln?: string; address?: string };
    return [
      escapeHtml(facility.name),
      facility.gln ? `GLN <span class="mono">${escapeHtml(facility.gln)}</span>` : "",
      escapeHtml(facility.address),
    ]
      .filter(Boolean)
      .join(" · ");
  }
  if (field === "complianceDocuments" && Array.isArray(value)) {
    const items = (value as { title?: string; sha256?: string; url?: string }[]).map(
      (document) =>
        `<li><a href="${escapeHtml(document.url)}" rel="noopener noreferrer">${escapeHtml(document.title)}</a> <span class="mono">SHA-256 ${escapeHtml(shortHex(document.sha256 ?? ""))}</span></li>`,
    );
    return `<ul>${items.join("")}</ul>`;
  }
  return `<span class="mono">${escapeHtml(JSON.stringify(value))}</span>`;
}

/** One labelled section per level above public the viewer reads something at, partners' first. */
function privateSectionsHtml(sections: PassportViewerSections, locale: Locale): string {
  const t = locale.html;
  const parts: string[] = [];
  for (const level of ["partners", "authorities"] as const) {
    const fields = sections.fields.filter((entry) => entry.level === level);
    const documents = sections.documents.filter((document) => document.level === level);
    if (fields.length === 0 && documents.length === 0) continue;
    const terms = fields.map(({ field, value }) => {
      const key = `private.field.${field}`;
      const label = Object.hasOwn(locale.messages, key) ? t(key as MessageKey) : escapeHtml(field);
      return `<dt>${label}</dt><dd>${privateFieldHtml(field, value)}</dd>`;
    });
    const links = documents.map((document) => `<a href="${escapeHtml(document.url)}" download>${escapeHtml(document.title)}</a>`);
    parts.push(`<section class="private" id="private-${level}" data-level="${level}" aria-labelledby="private-${level}-title">
<h2 id="private-${level}-title">${t(LEVEL_TITLES[level])}</h2>
${terms.length > 0 ? `<dl>\n${terms.join("\n")}\n</dl>` : ""}
${links.length > 0 ? `<p class="documents">${t("private.documents")} ${links.join(", ")}</p>` : ""}
</section>`);
  }
  if (parts.length === 0) parts.push(`<p class="private" id="private-nothing">${t("private.nothing")}</p>`);
  return parts.join("\n");
}

/** The verifier's and the claim form's messages, for the page script (assets/passport.js) to read from the page rather than fetch. */
function verifierMessages(locale: Locale): Record<string, string> {
  return Object.fromEntries(
    Object.entries(locale.messages).filter(([key]) => key.startsWith("verify.") || key.startsWith("ownership.claim.")),
  );
}

/**
 * A unit's ownership token: "Owned since … · n previous owners" with the token and holder, or "Not yet claimed" and
 * the claim form. The form is signed in the browser by assets/passport.js (the claim secret is never posted); without
 * JavaScript the CLI line says how to claim.
 */
function ownershipTokenHtml(ownership: UnitOwnershipView, serial: string, view: PassportView, locale: Locale): string {
  const t = locale.html;
  const recalled = view.recall ? `<p class="recalled">${t("ownership.token.recalled")}</p>` : "";
  const { token } = ownership;
  if (token) {
    const count = token.previousOwners.length;
    const previous =
      count === 0
        ? t("ownership.token.noPreviousOwners")
        : count === 1
          ? t("ownership.token.onePreviousOwner")
          : t("ownership.token.previousOwners", { count: escapeHtml(locale.number(String(count))) });
    return `<p id="claim-status" data-owner="${escapeHtml(token.owner)}">${t("ownership.token.owned", {
      date: dateHtml(token.ownedSince, locale),
      previous,
    })}</p>
<p class="mono">${t("ownership.token.detail", {
      tokenId: escapeHtml(ownership.tokenId),
      chainId: String(ownership.chainId),
      owner: escapeHtml(token.owner),
    })}</p>
${recalled}`;
  }
  if (!ownership.claimable)
    return `<p id="claim-status">${t("ownership.token.notYetClaimed")} ${t("ownership.token.notClaimable")}</p>${recalled}`;
  const command = `provena ownership claim ${view.batch.gtin}/${view.batch.lot} ${serial} --secret &lt;file&gt; --to &lt;address&gt;`;
  return `<p id="claim-status">${t("ownership.token.notYetClaimed")}</p>
${recalled}<form id="ownership-claim" class="noprint" data-chain-id="${ownership.chainId}" data-contract="${escapeHtml(ownership.contract)}" data-token-id="${escapeHtml(ownership.tokenId)}" data-batch-id="${escapeHtml(ownership.registeredBatchId)}" data-serial="${escapeHtml(serial)}">
<p>${t("ownership.claim.intro")}</p>
<div><label for="claim-secret">${t("ownership.claim.secretLabel")}</label>
<input type="password" id="claim-secret" name="secret" required autocomplete="off" spellcheck="false"></div>
<div><label for="claim-recipient">${t("ownership.claim.recipientLabel")}</label>
<input type="text" id="claim-recipient" name="recipient" required pattern="0x[0-9a-fA-F]{40}" autocomplete="off" spellcheck="false"></div>
<button type="submit">${t("ownership.claim.submit")}</button>
<p id="claim-result" role="status" aria-live="polite"></p>
</form>
<p class="noprint">${t("ownership.claim.cli", { command: `<code>${command}</code>` })}</p>`;
}

/** The cold chain in plain words, then the chart (server-rendered SVG) of temperature against the allowed band. */
function coldChainHtml(view: PassportView, locale: Locale): string {
  const t = locale.html;
  const { story, band, readings, excursions, legBoundaries, anchoredReadings, legIds, contract } = view.coldChain!;
  const celsius = (centi: number) => escapeHtml(locale.number(centi / 100));
  const range = { min: celsius(band.min), max: celsius(band.max), hours: escapeHtml(locale.number(story.journeyHours)) };
  const lines: string[] = [];
  if (story.kind === "kept") {
    lines.push(
      story.fullyMonitored
        ? t("passport.coldChain.kept", range)
        : t("passport.coldChain.keptWhileMonitored", { ...range, monitored: escapeHtml(locale.number(story.monitoredHours)) }),
    );
  } else if (story.kind === "excursions-within-allowance") {
    lines.push(
      t("passport.coldChain.withinAllowance", {
        ...range,
        minutes: escapeHtml(locale.number(story.excursionMinutes)),
        allowed: escapeHtml(locale.number(story.allowedMinutes)),
      }),
    );
  } else {
    for (const breach of story.breaches) {
      const place = breach.position
        ? ` ${t("passport.coldChain.breachPlace", {
            latitude: escapeHtml((breach.position.latitude / 1e6).toFixed(4)),
            longitude: escapeHtml((breach.position.longitude / 1e6).toFixed(4)),
          })}`
        : "";
      lines.push(
        `<strong>${t("passport.coldChain.breach", {
          ...range,
          minutes: escapeHtml(locale.number(breach.minutes)),
          carrier: participantHtml(breach.carrier as Hex, view.participants, locale),
          time: timeHtml(breach.at, locale),
        })}</strong>${place}`,
      );
    }
  }
  const summary = lines.map((line) => line.replace(/<[^>]*>/g, "")).join(" ");
  const chart = renderColdChainChart({
    readings,
    band,
    breaches: excursions,
    legBoundaries,
    title: locale.text("passport.coldChain.chartTitle"),
    description: summary,
  });
  // The browser checks the shown readings against their anchored roots (assets/passport.js, reading-anchors.js).
  const checked = contract !== undefined && legIds !== undefined && legIds.length > 0;
  const checkAttributes = checked ? ` data-cold-chain="${escapeHtml(contract)}" data-legs="${escapeHtml(legIds.join(" "))}"` : "";
  const checkLine = checked ? `\n<p class="small" id="cold-chain-check" role="status" aria-live="polite"></p>` : "";
  return `<section aria-labelledby="cold-chain-title" class="cold-chain${story.kind === "breached" ? " breached" : ""}"${checkAttributes}>
<h2 id="cold-chain-title">${t("passport.coldChain.title")}</h2>
${lines.map((line) => `<p>${line}</p>`).join("\n")}
<figure>${chart}</figure>
<p class="small">${t("passport.coldChain.evidence", { anchored: escapeHtml(locale.number(anchoredReadings)) })}</p>${checkLine}
</section>`;
}

/** One line per partner: all-time counts, as the reputation API gives them (never a bare score). */
function partnersHtml(view: PassportView, locale: Locale): string {
  const t = locale.html;
  const number = (value: number) => escapeHtml(locale.number(value));
  const lines = view.partners.map(({ role, address, reputation }) => {
    const participant = participantHtml(address, view.participants, locale);
    const all = reputation.allTime;
    if (role === "manufacturer") {
      return t("passport.reputation.manufacturer", {
        participant,
        onTime: number(all.deliveryAsSeller.onTime),
        deliveries: number(all.deliveryAsSeller.score.sampleSize),
        recalled: number(all.recalls.recalled),
        lots: number(all.recalls.lots),
        passed: number(all.inspectionsAsMaker.passed),
        inspections: number(all.inspectionsAsMaker.score.sampleSize),
      });
    }
    return t("passport.reputation.carrier", {
      participant,
      onTime: number(all.deliveryAsCarrier.onTime),
      deliveries: number(all.deliveryAsCarrier.score.sampleSize),
      refused: number(all.handoffsSent.refusedByRecipient),
      handoffs: number(all.handoffsSent.score.sampleSize),
    });
  });
  const { asOf, method } = view.partners[0]!.reputation;
  return `<section aria-labelledby="reputation-title">
<h2 id="reputation-title">${t("passport.reputation.title")}</h2>
<ul id="partner-reputation">
${lines.map((line, index) => `<li data-role="${view.partners[index]!.role}">${line}</li>`).join("\n")}
</ul>
<p>${t("passport.reputation.note", { block: number(asOf.blockNumber), method: escapeHtml(method) })}</p>
</section>`;
}

/** Text in the page's language, else the other one (marked with its own `lang`); null when there is none. */
function localizedHtml(text: { en?: string; zh?: string } | null | undefined, locale: Locale): string | null {
  if (!text) return null;
  const wanted = locale.tag.startsWith("zh") ? "zh" : "en";
  const own = text[wanted];
  if (own !== undefined) return escapeHtml(own);
  const other = wanted === "zh" ? text.en : text.zh;
  return other === undefined ? null : `<span lang="${wanted === "zh" ? "en" : "zh"}">${escapeHtml(other)}</span>`;
}

/** The product first: its picture, maker, origin, journey by place names and carbon footprint (public DPP fields). */
function productSummaryHtml(view: PassportView, locale: Locale): string {
  const { data, footprint } = view.productData!;
  const t = locale.html;
  const parts: string[] = [];
  const alt = data.name ? ((locale.tag.startsWith("zh") ? data.name.zh : data.name.en) ?? data.name.en ?? data.name.zh ?? "") : "";
  if (data.image) parts.push(`<img class="product-image" src="${escapeHtml(data.image)}" alt="${escapeHtml(alt)}" width="320">`);
  const description = localizedHtml(data.description, locale);
  if (description) parts.push(`<p>${description}</p>`);
  if (data.manufacturer) parts.push(`<p>${t("dpp.madeBy", { maker: escapeHtml(data.manufacturer.name) })}</p>`);
  if (data.countryOfOrigin) {
    const country = new Intl.DisplayNames([locale.tag], { type: "region" }).of(data.countryOfOrigin) ?? data.countryOfOrigin;
    parts.push(`<p>${t("dpp.origin", { country: escapeHtml(country) })}</p>`);
  }
  if (footprint.legs.length > 0) {
    const stops = [footprint.legs[0]!.from, ...footprint.legs.map((leg) => leg.to)];
    const placeHtml = (place: (typeof stops)[number]) =>
      localizedHtml(place.name, locale) ?? `GLN <span class="mono">${escapeHtml(place.gln)}</span>`;
    parts.push(`<h3>${t("dpp.journey")}</h3>
<ol class="journey" id="journey">${stops.map((stop) => `<li>${placeHtml(stop)}</li>`).join("")}</ol>`);
  }
  if (footprint.product !== null || footprint.transportKgCO2e > 0) {
    const number = (value: number) => escapeHtml(locale.number(value));
    parts.push(
      `<p id="footprint"><strong>${t("dpp.footprint", { total: number(footprint.totalKgCO2e) })}</strong><br>${t("dpp.footprintBreakdown", {
        product: number(footprint.product?.kgCO2e ?? 0),
        method: escapeHtml(footprint.product?.method ?? "—"),
        transport: number(footprint.transportKgCO2e),
        legs: number(footprint.legs.length),
        units: number(footprint.units),
      })}</p>${footprint.complete ? "" : `\n<p>${t("dpp.footprintIncomplete")}</p>`}`,
    );
  }
  return `<section class="dpp" id="product-data">
${parts.join("\n")}
</section>`;
}

export function renderPassportPage(view: PassportView, options: PassportPageOptions): string {
  const { batch, unit } = view;
  const locale = options.locale ?? localeOf();
  const t = locale.html;
  const who = (address: Hex) => participantHtml(address, view.participants, locale);
  const title = unit ? locale.text("passport.serialTitle", { serial: unit.serial }) : locale.text("passport.lotTitle", { lot: batch.lot });
  // The banners follow the h1 inside <main>: a skip link or a landmark jump must not pass over a recall, and the
  // page's first heading is its title.
  const productName = localizedHtml(view.productData?.data.name, locale);
  const body: string[] = [
    productName === null
      ? `<main id="main">
<h1>${escapeHtml(title)} <span class="mono">· GTIN ${escapeHtml(batch.gtin)}</span></h1>`
      : `<main id="main">
<h1>${productName}</h1>
<p>${escapeHtml(title)} <span class="mono">· GTIN ${escapeHtml(batch.gtin)}</span></p>`,
  ];

  if (view.recall) {
    const recalled = view.recall.batch;
    const where = view.recall.inherited ? `<p>${t("passport.recall.inherited", { lot: lotLinkHtml(recalled, locale) })}</p>` : "";
    body.push(`<section class="banner recall" role="alert" aria-labelledby="recall-title">
<h2 id="recall-title">${t("passport.recall.title")}</h2>
${where}<p>${t("passport.recall.when", { time: timeHtml(view.recall.entry.timestamp, locale), participant: who(view.recall.entry.args.recalledBy as Hex) })}</p>
<p>${t("passport.recall.action")}</p>
</section>`);
  }

  if (unit && unit.cloneWarnings.length > 0) {
    // The warnings are written by the service in English; marked so, for screen readers, until they are messages.
    const lang = locale.tag === "en" ? "" : ' lang="en"';
    body.push(`<section class="banner clone" role="alert" aria-labelledby="clone-title">
<h2 id="clone-title">${t("passport.clone.title")}</h2>
${unit.cloneWarnings.map((w) => `<p${lang}>${escapeHtml(w)}</p>`).join("\n")}
<p>${t(unit.claim ? "passport.clone.adviceClaimed" : "passport.clone.advice")}</p>
</section>`);
  }

  const viewerSections = options.viewerSections ?? null;
  if (viewerSections) body.push(signedInHtml(viewerSections, locale));
  if (view.productData) body.push(productSummaryHtml(view, locale));
  if (view.documents && view.documents.length > 0) {
    const links = view.documents.map((document) => `<a href="${escapeHtml(document.url)}" download>${escapeHtml(document.title)}</a>`);
    body.push(`<p class="documents">${t("passport.documents")} ${links.join(", ")}</p>`);
  }
  if (viewerSections) body.push(privateSectionsHtml(viewerSections, locale));

  const facts: [MessageKey, string][] = [
    ["passport.fact.gtin", `<span class="mono">${escapeHtml(batch.gtin)}</span>`],
    ["passport.fact.lot", escapeHtml(batch.lot)],
  ];
  if (unit) facts.push(["passport.fact.serial", escapeHtml(unit.serial)]);
  facts.push(
    ["passport.fact.quantity", escapeHtml(locale.number(batch.quantity))],
    ["passport.fact.produced", dateHtml(batch.productionDate, locale)],
    ["passport.fact.origin", `GLN <span class="mono">${escapeHtml(batch.originGln)}</span>`],
    ["passport.fact.status", escapeHtml(labelOf(locale, "passport.status.", batch.status))],
    ["passport.fact.inspection", inspectionHtml(view.inspection, locale)],
    [
      "passport.fact.custodian",
      view.container
        ? locale.html("passport.fact.inContainer", {
            sscc: `<span class="mono">${escapeHtml(view.container.sscc)}</span>`,
            participant: who(view.container.holder),
          })
        : who(batch.custodian),
    ],
  );

  body.push(`<section class="banner verify" id="verification" data-state="pending" aria-labelledby="verify-title">
<h2 id="verify-title">${t("verify.title")}</h2>
<p id="verify-anchors">${t("verify.anchorsPending")}</p>
<p id="verify-status" role="status" aria-live="polite">${t("verify.pending")}</p>
<ul id="verify-details" hidden></ul>
<p id="verify-rpc"></p>
<details id="verify-settings" class="noprint">
<summary>${t("verify.settings")}</summary>
<form id="rpc-form">
<div><label for="rpc-urls">${t("verify.rpcUrls")}</label>
<textarea id="rpc-urls" name="rpc" rows="3" placeholder="https://" autocomplete="off" spellcheck="false" aria-describedby="rpc-help"></textarea></div>
<div><label for="rpc-min">${t("verify.rpcMin")}</label>
<input type="number" id="rpc-min" name="min" min="1" max="10" value="1" aria-describedby="rpc-help"></div>
<button type="submit">${t("verify.save")}</button>
<button type="button" id="rpc-reset">${t("verify.reset")}</button>
</form>
<p id="rpc-help">${t("verify.help")}</p>
</details>
<noscript><p>${t("verify.noscript")}</p></noscript>
</section>
<section aria-labelledby="product-title">
<h2 id="product-title">${t("passport.product.title")}</h2>
<dl>
${facts.map(([term, value]) => `<dt>${t(term)}</dt><dd>${value}</dd>`).join("\n")}
</dl>
</section>
<section aria-labelledby="manufacturer-title">
<h2 id="manufacturer-title">${t("passport.manufacturer.title")}</h2>
<p>${who(batch.manufacturer)} ${
    view.manufacturer.verified
      ? `<span class="badge">${t("passport.manufacturer.verified")}</span>`
      : `<span class="badge no">${t("passport.manufacturer.unverified")}</span>`
  }</p>
</section>`);

  if (view.coldChain !== null) body.push(coldChainHtml(view, locale));
  if (view.partners.length > 0) body.push(partnersHtml(view, locale));
  if (view.designs.length > 0) {
    const designLines = view.designs.map((design) => {
      const name = design.registrantName
        ? escapeHtml(design.registrantName)
        : `<span class="mono" title="${escapeHtml(design.registrant)}">${escapeHtml(shortHex(design.registrant))}</span>`;
      const title = design.title ? ` <q>${escapeHtml(design.title)}</q>` : "";
      return `<li>${t("passport.design.registered", { name, date: dateHtml(design.registeredAt, locale) })}${title}</li>`;
    });
    body.push(`<section aria-labelledby="design-title">
<h2 id="design-title">${t("passport.design.title")}</h2>
<ul>
${designLines.join("\n")}
</ul>
</section>`);
  }

  if (unit?.ownership) {
    body.push(`<section aria-labelledby="ownership-title">
<h2 id="ownership-title">${t("ownership.title")}</h2>
${ownershipTokenHtml(unit.ownership, unit.serial, view, locale)}
</section>`);
  } else if (unit) {
    let ownership: string;
    if (unit.claim) {
      ownership = `<p id="claim-status">${t("ownership.claimed", {
        claimed: `<strong>${t("ownership.claimedWord")}</strong>`,
        date: dateHtml(Math.floor(unit.claim.claimedAt / 1000), locale),
      })}</p>`;
    } else if (options.claimAction) {
      ownership = `<p id="claim-status">${t("ownership.unclaimed")}</p>
<form method="post" action="${escapeHtml(options.claimAction)}">
<div><label for="owner">${t("ownership.ownerLabel")}</label>
<input type="text" id="owner" name="owner" required minlength="3" maxlength="100" autocomplete="off" aria-describedby="owner-help"></div>
<button type="submit">${t("ownership.submit")}</button>
<p id="owner-help" class="noprint">${t("ownership.help")}</p>
</form>`;
    } else {
      ownership = `<p id="claim-status">${t("ownership.notClaimed")}</p>`;
    }
    body.push(`<section aria-labelledby="ownership-title">
<h2 id="ownership-title">${t("ownership.title")}</h2>
${options.claimNotice ? `<p role="status"><strong>${escapeHtml(options.claimNotice)}</strong></p>` : ""}${ownership}
</section>`);
  }

  if (view.lineage.length > 0 || view.children.length > 0 || view.madeFrom.length > 0 || view.usedIn.length > 0) {
    const parents = view.lineage
      .map((ancestor) => ancestor.batch)
      .map(
        (a) =>
          `<li>${lotLinkHtml(a, locale, "passport.lotLinkTitle")}${a.recall ? ` <span class="badge no">${t("lineage.recalled")}</span>` : ""}</li>`,
      )
      .join("\n");
    const children = view.children
      .map(
        (c) =>
          `<li>${t("lineage.child", { lot: lotLinkHtml(c, locale, "passport.lotLinkTitle"), quantity: escapeHtml(locale.number(c.quantity)) })}</li>`,
      )
      .join("\n");
    body.push(`<section aria-labelledby="lineage-title">
<h2 id="lineage-title">${t("lineage.title")}</h2>
${parents ? `<p>${t("lineage.parents")}</p><ol>${parents}</ol>` : ""}
${children ? `<p>${t("lineage.children")}</p><ul>${children}</ul>` : ""}
${mergedLotsHtml(view.madeFrom, "lineage.madeFrom", locale)}
${mergedLotsHtml(view.usedIn, "lineage.usedIn", locale)}
</section>`);
  }

  body.push(`<section aria-labelledby="timeline-title">
<h2 id="timeline-title">${t("timeline.title")}</h2>
<ol class="timeline" id="timeline">
${timelineOf(view)
  .map(({ entry, earlierLot }) => timelineItem(entry, view, locale, earlierLot))
  .join("\n")}
</ol>
</section>`);

  const inspections = timelineOf(view).filter(({ entry }) => entry.kind === "inspection");
  body.push(`<section aria-labelledby="inspections-title">
<h2 id="inspections-title">${t("inspections.title")}</h2>
${
  inspections.length === 0
    ? `<p>${t("inspections.none")}</p>`
    : `<ul>${inspections
        .map(({ entry: e, earlierLot }) => {
          const params = {
            result: t(e.args.passed ? "passport.inspection.passed" : "passport.inspection.failed"),
            time: timeHtml(e.timestamp, locale),
            participant: who(e.args.inspector as Hex),
          };
          return `<li>${earlierLot ? t("inspections.itemEarlier", { ...params, lot: lotLinkHtml(earlierLot, locale) }) : t("inspections.item", params)}</li>`;
        })
        .join("\n")}</ul>`
}
</section>`);

  body.push(`<details>
<summary>${t("technical.title")}</summary>
<dl>
<dt>${t("technical.batchId")}</dt><dd class="mono">${escapeHtml(batch.batchId)}</dd>
<dt>${t("technical.serialRoot")}</dt><dd class="mono">${escapeHtml(batch.serialRoot)}</dd>
<dt>${t("technical.documentHash")}</dt><dd class="mono">${escapeHtml(batch.documentHash)}</dd>
<dt>${t("technical.registry")}</dt><dd class="mono">${t("technical.registryValue", { registry: escapeHtml(view.verification.registry), chainId: view.verification.chainId })}</dd>
<dt>${t("technical.mirrored")}</dt><dd>${view.verification.asOfBlock === null ? t("technical.mirroredUnknown") : t("technical.mirroredBlock", { block: view.verification.asOfBlock })}</dd>
<dt>${t("technical.batchLink")}</dt><dd><a href="${escapeHtml(digitalLinkPath(batch.gtin, batch.lot))}">${escapeHtml(view.batchUri)}</a></dd>
<dt>${t("technical.qr")}</dt><dd><a href="${escapeHtml(options.qrSheetPath)}">${t("technical.qrSheet")}</a></dd>
</dl>
</details>
</main>`);

  return layout({
    title: `${title} · GTIN ${batch.gtin} · ${locale.text("page.titleSuffix")}`,
    canonical: view.uri,
    head: `<script type="application/ld+json" id="passport-data">${jsonForScript(options.jsonLd)}</script>
<script type="application/json" id="passport-messages">${jsonForScript(verifierMessages(locale))}</script>
<script type="module" src="${ASSET_BASE_PATH}/passport.js"></script>
${
  options.signIn || viewerSections
    ? `<script type="application/json" id="passport-sign-in-messages">${jsonForScript(signInWords(locale))}</script>
<script type="module" src="${ASSET_BASE_PATH}/passport-sign-in.js"></script>
`
    : ""
}`,
    body: body.join("\n"),
    locale,
    ...(options.languages ? { languages: options.languages } : {}),
    ...(options.signIn && !viewerSections ? { headerExtra: signInHtml(locale) } : {}),
  });
}

/** `detail` is the problem's own, written in English by the layer that raised it; title and hints are in `locale`. */
export function renderErrorPage(
  status: number,
  title: string,
  detail: string,
  hints: string[] = [],
  locale: Locale = localeOf(),
  languages?: LanguageLink[],
): string {
  const detailLang = locale.tag === "en" ? "" : ' lang="en"';
  return layout({
    title: `${title} · ${locale.text("page.titleSuffix")}`,
    body: `<main id="main">
<h1>${escapeHtml(title)}</h1>
<p${detailLang}>${escapeHtml(detail)}</p>
${hints.length > 0 ? `<ul>${hints.map((h) => `<li>${escapeHtml(h)}</li>`).join("\n")}</ul>` : ""}
<p class="mono">${locale.html("error.status", { status })}</p>
</main>`,
    locale,
    ...(languages ? { languages } : {}),
  });
}

export interface QrSheetLabel {
  serial: string;
  uri: string;
  svg: string;
}

export function renderQrSheet(options: {
  batch: Batch;
  labels: QrSheetLabel[];
  page: number;
  pages: number;
  perPage: number;
  total: number;
  basePath: string;
}): string {
  const { batch, labels, page, pages, perPage, total, basePath } = options;
  const pageLink = (n: number, text: string) =>
    `<a href="${escapeHtml(`${basePath}?page=${n}&perPage=${perPage}`)}">${escapeHtml(text)}</a>`;
  const first = (page - 1) * perPage + 1;
  const nav = `<nav class="pages" aria-label="Sheet pages"><p>Page ${page} of ${pages} (labels ${first}–${first + labels.length - 1} of ${total}) ${page > 1 ? pageLink(page - 1, "← Previous") : ""} ${page < pages ? pageLink(page + 1, "Next →") : ""}</p></nav>`;
  return layout({
    title: `QR labels · lot ${batch.lot} · page ${page} of ${pages}`,
    body: `<main id="main">
<h1>QR labels for lot ${escapeHtml(batch.lot)} <span class="mono">· GTIN ${escapeHtml(batch.gtin)}</span></h1>
${nav}
<div class="sheet">
${labels
  .map(
    (label) =>
      `<figure class="label" data-uri="${escapeHtml(label.uri)}">${label.svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ')}<figcaption><p class="mono">${escapeHtml(label.serial)}</p><p class="mono">${escapeHtml(`(01)${batch.gtin}(10)${batch.lot}(21)${label.serial}`)}</p></figcaption></figure>`,
  )
  .join("\n")}
</div>
${nav}
</main>`,
  });
}
