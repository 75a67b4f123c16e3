/**
 * Server-rendered passport pages: no build step, no client framework, one small ES module for verification.
 * Every value that comes from the chain, the store or the request is escaped with `escapeHtml` (text and
 * attribute context) or `jsonForScript` (inside <script type="application/ld+json">).
 * Mobile first and accessible: landmarks, one h1, a skip link, lang, visible focus, WCAG AA contrast, and
 * live regions for the recall banner and the verification result.
 */
import { createHash } from "node:crypto";
import type { Batch, Hex, Participant } from "../domain/model.ts";
import { digitalLinkPath } from "./digital-link.ts";
import type { HistoryEntry, PassportView } from "./passport-view.ts";

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
    "img-src 'self' data:",
    // https: lets the shopper's own choice of JSON-RPC endpoint (a setting the page keeps) be reached.
    `connect-src 'self' https:${rpcOrigin ? ` ${rpcOrigin}` : ""}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function layout(options: { title: string; canonical?: string; head?: string; body: string; lang?: string }): string {
  return `<!doctype html>
<html lang="${escapeHtml(options.lang ?? "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(options.title)}</title>
${options.canonical ? `<link rel="canonical" href="${escapeHtml(options.canonical)}">\n` : ""}<style>${STYLE}</style>
${options.head ?? ""}</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header><p>Provena product passport</p></header>
${options.body}
<footer><p>Provena: supply-chain provenance recorded on a blockchain. Every fact on this page can be checked against the chain itself.</p></footer>
</body>
</html>
`;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

function dateHtml(seconds: number): string {
  const date = new Date(seconds * 1000);
  return `<time datetime="${date.toISOString().slice(0, 10)}">${escapeHtml(dateFormat.format(date))}</time>`;
}

function timeHtml(seconds: number): string {
  const date = new Date(seconds * 1000);
  return `<time datetime="${date.toISOString()}">${escapeHtml(timeFormat.format(date))} UTC</time>`;
}

const BUSINESS_STEP_LABELS: Record<string, string> = {
  shipping: "Shipping",
  receiving: "Receiving",
  departing: "Departing",
  arriving: "Arriving",
  storing: "Storing",
  loading: "Loading",
  unloading: "Unloading",
  transporting: "Transporting",
  inspecting: "Inspecting",
  accepting: "Accepting",
  entering_exiting: "Customs entry/exit",
  retail: "Retail",
};

const STATUS_LABELS: Record<string, string> = {
  registered: "Registered with its manufacturer",
  in_transit: "In transit",
  delivered: "Delivered",
  split: "Split into smaller batches",
  recalled: "Recalled",
};

function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 8)}…${value.slice(-4)}` : value;
}

function participantHtml(address: Hex, participants: Map<Hex, Participant>): string {
  const participant = participants.get(address);
  if (!participant) return `Unknown participant <span class="mono" title="${escapeHtml(address)}">${escapeHtml(shortHex(address))}</span>`;
  const suspended = participant.suspended ? ' <span class="badge no">suspended</span>' : "";
  return `${escapeHtml(participant.name)} <span class="mono">(GLN ${escapeHtml(participant.gln)})</span>${suspended}`;
}

function lotLinkHtml(lot: Batch): string {
  return `<a href="${escapeHtml(digitalLinkPath(lot.gtin, lot.lot))}">lot ${escapeHtml(lot.lot)}</a>`;
}

/** The inspection that applies, saying which earlier lot it was made on when it is inherited. */
function inspectionHtml(inspection: PassportView["inspection"]): string {
  const result = inspection.result === "none" ? "Not inspected" : inspection.result === "passed" ? "Passed" : "Failed";
  return inspection.inherited ? `${result} (inherited from ${lotLinkHtml(inspection.batch)})` : result;
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
function timelineItem(entry: HistoryEntry, view: PassportView, earlierLot: Batch | null = null): string {
  const { args } = entry;
  const lines: string[] = [];
  switch (entry.kind) {
    case "registered":
      lines.push(
        `By ${participantHtml(args.manufacturer as Hex, view.participants)}`,
        `Origin GLN <span class="mono">${escapeHtml(args.originGln)}</span>`,
      );
      break;
    case "split_from": {
      const parent = view.lineage.find((a) => a.batch.batchId === args.parentId)?.batch;
      lines.push(parent ? `From <a href="${escapeHtml(digitalLinkPath(parent.gtin, parent.lot))}">lot ${escapeHtml(parent.lot)}</a>` : "");
      if (args.custodian) lines.push(`By ${participantHtml(args.custodian as Hex, view.participants)}`);
      lines.push(`Quantity ${escapeHtml(args.quantity)}`);
      break;
    }
    case "custody": {
      const step = typeof args.businessStep === "string" ? (BUSINESS_STEP_LABELS[args.businessStep] ?? args.businessStep) : null;
      if (step) lines.push(`Business step: ${escapeHtml(step)}`);
      lines.push(
        `From ${participantHtml(args.from as Hex, view.participants)}`,
        `To ${participantHtml(args.to as Hex, view.participants)}`,
      );
      if (args.locationGln) lines.push(`Where: GLN <span class="mono">${escapeHtml(args.locationGln)}</span>`);
      if (args.reasonHash) lines.push(`Reason document <span class="mono">${escapeHtml(shortHex(String(args.reasonHash)))}</span>`);
      break;
    }
    case "inspection":
      lines.push(
        `Inspector ${participantHtml(args.inspector as Hex, view.participants)}`,
        `Report <span class="mono">${escapeHtml(shortHex(String(args.reportHash)))}</span>`,
      );
      break;
    case "split_into": {
      const child = view.children.find((c) => c.batchId === args.childId);
      lines.push(
        child
          ? `<a href="${escapeHtml(digitalLinkPath(child.gtin, child.lot))}">Lot ${escapeHtml(child.lot)}</a>, quantity ${escapeHtml(child.quantity)}`
          : "",
      );
      break;
    }
    case "recalled":
      lines.push(
        `By ${participantHtml(args.recalledBy as Hex, view.participants)}`,
        `Reason document <span class="mono">${escapeHtml(shortHex(String(args.reasonHash)))}</span>`,
      );
      break;
  }
  if (earlierLot) lines.unshift(`<span class="earlier">On ${lotLinkHtml(earlierLot)}, before the split</span>`);
  const classes = [entry.kind === "recalled" ? "recalled" : "", earlierLot ? "earlier" : ""].filter(Boolean).join(" ");
  return `<li class="${classes}" data-event="${escapeHtml(entry.event)}" data-block="${entry.blockNumber}"${earlierLot ? ` data-lot="${escapeHtml(earlierLot.lot)}"` : ""}>
<h3>${escapeHtml(entry.label)}</h3>
<p>${timeHtml(entry.timestamp)} · block ${entry.blockNumber}</p>
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
}

export function renderPassportPage(view: PassportView, options: PassportPageOptions): string {
  const { batch, unit } = view;
  const title = unit ? `Serial ${unit.serial}` : `Lot ${batch.lot}`;
  // The banners follow the h1 inside <main>: a skip link or a landmark jump must not pass over a recall, and the
  // page's first heading is its title.
  const body: string[] = [
    `<main id="main">
<h1>${escapeHtml(title)} <span class="mono">· GTIN ${escapeHtml(batch.gtin)}</span></h1>`,
  ];

  if (view.recall) {
    const recalled = view.recall.batch;
    const where = view.recall.inherited
      ? `<p>This product comes from <a href="${escapeHtml(digitalLinkPath(recalled.gtin, recalled.lot))}">lot ${escapeHtml(recalled.lot)}</a>, which was recalled.</p>`
      : "";
    body.push(`<section class="banner recall" role="alert" aria-labelledby="recall-title">
<h2 id="recall-title">⚠ Recalled: do not use this product</h2>
${where}<p>Recalled on ${timeHtml(view.recall.entry.timestamp)} by ${participantHtml(view.recall.entry.args.recalledBy as Hex, view.participants)}.</p>
<p>Return it to the retailer or contact the manufacturer.</p>
</section>`);
  }

  if (unit && unit.cloneWarnings.length > 0) {
    body.push(`<section class="banner clone" role="alert" aria-labelledby="clone-title">
<h2 id="clone-title">This code may have been copied</h2>
${unit.cloneWarnings.map((w) => `<p>${escapeHtml(w)}</p>`).join("\n")}
<p>Counterfeiters copy codes of genuine products. If you bought this item, check the seller${unit.claim ? "; it has already been claimed by an owner" : ""}.</p>
</section>`);
  }

  const facts: [string, string][] = [
    ["GTIN", `<span class="mono">${escapeHtml(batch.gtin)}</span>`],
    ["Lot", escapeHtml(batch.lot)],
  ];
  if (unit) facts.push(["Serial", escapeHtml(unit.serial)]);
  facts.push(
    ["Quantity in lot", escapeHtml(batch.quantity)],
    ["Produced", dateHtml(batch.productionDate)],
    ["Origin", `GLN <span class="mono">${escapeHtml(batch.originGln)}</span>`],
    ["Status", escapeHtml(STATUS_LABELS[batch.status] ?? batch.status)],
    ["Inspection", inspectionHtml(view.inspection)],
    ["Custodian", participantHtml(batch.custodian, view.participants)],
  );

  body.push(`<section class="banner verify" id="verification" data-state="pending" aria-labelledby="verify-title">
<h2 id="verify-title">Blockchain verification</h2>
<p id="verify-anchors">Checked against the chain and registry named by the code you scanned.</p>
<p id="verify-status" role="status" aria-live="polite">Checking this page against the blockchain…</p>
<ul id="verify-details" hidden></ul>
<p id="verify-rpc"></p>
<details id="verify-settings" class="noprint">
<summary>Check through blockchain nodes you choose</summary>
<form id="rpc-form">
<div><label for="rpc-urls">JSON-RPC URLs, one per line</label>
<textarea id="rpc-urls" name="rpc" rows="3" placeholder="https://" autocomplete="off" spellcheck="false" aria-describedby="rpc-help"></textarea></div>
<div><label for="rpc-min">Nodes that must answer</label>
<input type="number" id="rpc-min" name="min" min="1" max="10" value="1" aria-describedby="rpc-help"></div>
<button type="submit">Save and check again</button>
<button type="button" id="rpc-reset">Use this server's</button>
</form>
<p id="rpc-help">Kept only in this browser. Every node is read at the same block and their answers compared: any disagreement fails the check, and a node that does not answer or serves another chain does not count. Choose nodes run by different operators. Without any, the chain is read through the endpoint this server names, so the check relies on it answering honestly.</p>
</details>
<noscript><p>Verification runs in your browser and needs JavaScript. You can also verify from a terminal with scripts/verify.ts.</p></noscript>
</section>
<section aria-labelledby="product-title">
<h2 id="product-title">Product</h2>
<dl>
${facts.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join("\n")}
</dl>
</section>
<section aria-labelledby="manufacturer-title">
<h2 id="manufacturer-title">Manufacturer</h2>
<p>${participantHtml(batch.manufacturer, view.participants)} ${
    view.manufacturer.verified
      ? '<span class="badge">Verified manufacturer</span>'
      : '<span class="badge no">Not a verified manufacturer</span>'
  }</p>
</section>`);

  if (unit) {
    let ownership: string;
    if (unit.claim) {
      ownership = `<p id="claim-status"><strong>Claimed</strong> by its owner on ${dateHtml(Math.floor(unit.claim.claimedAt / 1000))}. If you just bought this item new, ask the seller why it is already claimed.</p>`;
    } else if (options.claimAction) {
      ownership = `<p id="claim-status">Not claimed yet. After buying this item you can claim it, so later scans show it has an owner.</p>
<form method="post" action="${escapeHtml(options.claimAction)}">
<div><label for="owner">Owner handle</label>
<input type="text" id="owner" name="owner" required minlength="3" maxlength="100" autocomplete="off" aria-describedby="owner-help"></div>
<button type="submit">Claim this item</button>
<p id="owner-help" class="noprint">A wallet address or any phrase you will remember. Only its fingerprint is stored; do not use personal data.</p>
</form>`;
    } else {
      ownership = `<p id="claim-status">Not claimed.</p>`;
    }
    body.push(`<section aria-labelledby="ownership-title">
<h2 id="ownership-title">Ownership</h2>
${options.claimNotice ? `<p role="status"><strong>${escapeHtml(options.claimNotice)}</strong></p>` : ""}${ownership}
</section>`);
  }

  if (view.lineage.length > 0 || view.children.length > 0) {
    const parents = view.lineage
      .map((ancestor) => ancestor.batch)
      .map(
        (a) =>
          `<li><a href="${escapeHtml(digitalLinkPath(a.gtin, a.lot))}">Lot ${escapeHtml(a.lot)}</a>${a.recall ? ' <span class="badge no">recalled</span>' : ""}</li>`,
      )
      .join("\n");
    const children = view.children
      .map(
        (c) =>
          `<li><a href="${escapeHtml(digitalLinkPath(c.gtin, c.lot))}">Lot ${escapeHtml(c.lot)}</a> (quantity ${escapeHtml(c.quantity)})</li>`,
      )
      .join("\n");
    body.push(`<section aria-labelledby="lineage-title">
<h2 id="lineage-title">Lineage</h2>
${parents ? `<p>Split from (nearest first):</p><ol>${parents}</ol>` : ""}
${children ? `<p>Split into:</p><ul>${children}</ul>` : ""}
</section>`);
  }

  body.push(`<section aria-labelledby="timeline-title">
<h2 id="timeline-title">Custody timeline</h2>
<ol class="timeline" id="timeline">
${timelineOf(view)
  .map(({ entry, earlierLot }) => timelineItem(entry, view, earlierLot))
  .join("\n")}
</ol>
</section>`);

  const inspections = timelineOf(view).filter(({ entry }) => entry.kind === "inspection");
  body.push(`<section aria-labelledby="inspections-title">
<h2 id="inspections-title">Inspections</h2>
${
  inspections.length === 0
    ? "<p>No inspection has been recorded for this lot.</p>"
    : `<ul>${inspections
        .map(
          ({ entry: e, earlierLot }) =>
            `<li>${escapeHtml(e.args.passed ? "Passed" : "Failed")} on ${timeHtml(e.timestamp)}, inspector ${participantHtml(e.args.inspector as Hex, view.participants)}${earlierLot ? ` (on ${lotLinkHtml(earlierLot)}, before the split)` : ""}</li>`,
        )
        .join("\n")}</ul>`
}
</section>`);

  body.push(`<details>
<summary>Technical details</summary>
<dl>
<dt>Batch id</dt><dd class="mono">${escapeHtml(batch.batchId)}</dd>
<dt>Serial root</dt><dd class="mono">${escapeHtml(batch.serialRoot)}</dd>
<dt>Document hash</dt><dd class="mono">${escapeHtml(batch.documentHash)}</dd>
<dt>Registry</dt><dd class="mono">${escapeHtml(view.verification.registry)} (chain ${view.verification.chainId})</dd>
<dt>Mirrored up to</dt><dd>${view.verification.asOfBlock === null ? "unknown" : `block ${view.verification.asOfBlock}`}</dd>
<dt>Batch link</dt><dd><a href="${escapeHtml(digitalLinkPath(batch.gtin, batch.lot))}">${escapeHtml(view.batchUri)}</a></dd>
<dt>QR labels</dt><dd><a href="${escapeHtml(options.qrSheetPath)}">Printable sheet for this lot</a></dd>
</dl>
</details>
</main>`);

  return layout({
    title: `${title} · GTIN ${batch.gtin} · Provena passport`,
    canonical: view.uri,
    head: `<script type="application/ld+json" id="passport-data">${jsonForScript(options.jsonLd)}</script>
<script type="module" src="${ASSET_BASE_PATH}/passport.js"></script>
`,
    body: body.join("\n"),
  });
}

export function renderErrorPage(status: number, title: string, detail: string, hints: string[] = []): string {
  return layout({
    title: `${title} · Provena passport`,
    body: `<main id="main">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(detail)}</p>
${hints.length > 0 ? `<ul>${hints.map((h) => `<li>${escapeHtml(h)}</li>`).join("\n")}</ul>` : ""}
<p class="mono">HTTP ${status}</p>
</main>`,
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
