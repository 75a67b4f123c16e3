/**
 * The recall desk page's words, in every language the passport speaks: a table per LocaleTag of
 * ../passport/messages (so adding a passport language fails to compile until the desk has it too). Dates, numbers and
 * the language switch's names come from the passport's Locale. "{name}" is a placeholder; `html` escapes the message
 * and inserts parameters as given (callers pass markup they have escaped), exactly as the passport's messages do.
 */
import { escapeHtml } from "../passport/html.ts";
import { type Locale, type LocaleTag, localeOf, type MessageParams } from "../passport/messages/index.ts";

const en = {
  "desk.brand": "Provena recall desk",
  "desk.skip": "Skip to main content",
  "desk.footer": "Provena recall desk: recalls mirrored from the chain, with the holders of every lot they reach.",
  "desk.signIn.title": "Sign in to the recall desk",
  "desk.signIn.intro": "The recall desk is for regulators and the admin. Sign in with the wallet of your regulator account.",
  "desk.signIn.button": "Sign in with your wallet",
  "desk.signIn.noWallet": "No browser wallet? The command line shows the same desk, signing in with your key:",
  "desk.signIn.noWalletKey": "It reads the key from PROVENA_PRIVATE_KEY, or an encrypted keystore in PROVENA_KEYSTORE.",
  "desk.signIn.needsScript": "Signing in with a wallet needs JavaScript.",
  "desk.signIn.noProvider": "No wallet found in this browser (EIP-1193 window.ethereum). Use a wallet extension, or the command line.",
  "desk.signIn.working": "Waiting for your wallet…",
  "desk.signIn.refused": "Sign-in failed: {reason}",
  "desk.forbidden.title": "The recall desk is for regulators",
  "desk.forbidden.who": "You are signed in as {address}, which has no regulator or admin role.",
  "desk.forbidden.other": "Sign in with another account:",
  "desk.signedInAs": "Signed in as {who}",
  "desk.list.title": "Open recalls",
  "desk.list.none": "No recalls.",
  "desk.list.count": "{count} recalls, most recent first.",
  "desk.list.next": "Older recalls →",
  "desk.col.lot": "Recalled lot",
  "desk.col.product": "Product",
  "desk.col.reason": "Reason (hash)",
  "desk.col.when": "Recalled",
  "desk.col.lots": "Affected lots",
  "desk.col.acknowledged": "Holders acknowledged",
  "desk.acknowledgedOf": "{acknowledged} of {holders}",
  "desk.gtinLot": "GTIN {gtin} · lot {lot}",
  "desk.detail.title": "Recall of lot {lot}",
  "desk.detail.back": "← All recalls",
  "desk.detail.recalledBy": "Recalled by",
  "desk.detail.when": "When",
  "desk.detail.reason": "Reason (hash)",
  "desk.detail.product": "Product",
  "desk.detail.summary": "{lots} affected lots, {holders} holders, {acknowledged} acknowledged.",
  "desk.detail.export": "Download the EPCIS audit trail of this recall",
  "desk.detail.lots": "Affected lots",
  "desk.detail.depth": "Generation {depth}",
  "desk.detail.recalledLot": "The recalled lot",
  "desk.detail.formerHolders": "Acknowledged by former holders",
  "desk.lot.lot": "Lot",
  "desk.lot.quantity": "Quantity",
  "desk.lot.holder": "Holder now",
  "desk.lot.pending": "On its way to {who}",
  "desk.lot.location": "Location",
  "desk.lot.acknowledged": "Acknowledged",
  "desk.lot.reached": "Reached",
  "desk.lot.links": "Links",
  "desk.ack.yes": "Yes, {time}",
  "desk.ack.no": "No",
  "desk.link.trace": "Trace (JSON)",
  "desk.link.passport": "Passport",
  "desk.unnamed": "not onboarded",
  "desk.error.title": "The recall desk cannot show this",
  "desk.error.status": "HTTP {status}",
};

export type DeskMessageKey = keyof typeof en;
type DeskMessageTable = { readonly [key in DeskMessageKey]: string };

const zhCN: DeskMessageTable = {
  "desk.brand": "Provena 召回工作台",
  "desk.skip": "跳到正文",
  "desk.footer": "Provena 召回工作台：从区块链同步的召回信息，以及召回所涉每个批次的持有方。",
  "desk.signIn.title": "登录召回工作台",
  "desk.signIn.intro": "召回工作台仅供监管机构和管理员使用。请使用您监管账户的钱包登录。",
  "desk.signIn.button": "使用钱包登录",
  "desk.signIn.noWallet": "浏览器中没有钱包？命令行可以用您的密钥登录并显示同样的工作台：",
  "desk.signIn.noWalletKey": "它从 PROVENA_PRIVATE_KEY 或 PROVENA_KEYSTORE 中的加密密钥库读取密钥。",
  "desk.signIn.needsScript": "使用钱包登录需要启用 JavaScript。",
  "desk.signIn.noProvider": "此浏览器中未找到钱包（EIP-1193 window.ethereum）。请使用钱包扩展或命令行。",
  "desk.signIn.working": "正在等待您的钱包…",
  "desk.signIn.refused": "登录失败：{reason}",
  "desk.forbidden.title": "召回工作台仅供监管机构使用",
  "desk.forbidden.who": "您当前以 {address} 登录，该账户没有监管机构或管理员角色。",
  "desk.forbidden.other": "使用其他账户登录：",
  "desk.signedInAs": "当前登录：{who}",
  "desk.list.title": "进行中的召回",
  "desk.list.none": "没有召回。",
  "desk.list.count": "共 {count} 项召回，最新的在前。",
  "desk.list.next": "更早的召回 →",
  "desk.col.lot": "被召回批次",
  "desk.col.product": "产品",
  "desk.col.reason": "原因（哈希）",
  "desk.col.when": "召回时间",
  "desk.col.lots": "受影响批次",
  "desk.col.acknowledged": "已确认的持有方",
  "desk.acknowledgedOf": "{holders} 个中的 {acknowledged} 个",
  "desk.gtinLot": "GTIN {gtin} · 批次 {lot}",
  "desk.detail.title": "批次 {lot} 的召回",
  "desk.detail.back": "← 全部召回",
  "desk.detail.recalledBy": "召回方",
  "desk.detail.when": "时间",
  "desk.detail.reason": "原因（哈希）",
  "desk.detail.product": "产品",
  "desk.detail.summary": "受影响批次 {lots} 个，持有方 {holders} 个，已确认 {acknowledged} 个。",
  "desk.detail.export": "下载此召回的 EPCIS 审计记录",
  "desk.detail.lots": "受影响批次",
  "desk.detail.depth": "第 {depth} 代",
  "desk.detail.recalledLot": "被召回的批次",
  "desk.detail.formerHolders": "前持有方的确认",
  "desk.lot.lot": "批次",
  "desk.lot.quantity": "数量",
  "desk.lot.holder": "当前持有方",
  "desk.lot.pending": "正在交付给 {who}",
  "desk.lot.location": "位置",
  "desk.lot.acknowledged": "已确认",
  "desk.lot.reached": "关联方式",
  "desk.lot.links": "链接",
  "desk.ack.yes": "是，{time}",
  "desk.ack.no": "否",
  "desk.link.trace": "溯源（JSON）",
  "desk.link.passport": "产品护照",
  "desk.unnamed": "未入驻",
  "desk.error.title": "召回工作台无法显示此内容",
  "desk.error.status": "HTTP {status}",
};

export const DESK_MESSAGE_TABLES: Record<LocaleTag, DeskMessageTable> = { en, "zh-CN": zhCN };

export interface DeskLocale {
  /** The passport's locale: tag, dates, times, numbers, the language names of the switch. */
  base: Locale;
  text: (key: DeskMessageKey, params?: MessageParams) => string;
  html: (key: DeskMessageKey, params?: MessageParams) => string;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

function fill(message: string, params: MessageParams, escape: (s: string) => string): string {
  let out = "";
  let last = 0;
  for (const match of message.matchAll(PLACEHOLDER)) {
    out += escape(message.slice(last, match.index));
    const value = params[match[1]!];
    out += value === undefined ? escape(match[0]) : String(value);
    last = match.index + match[0].length;
  }
  return out + escape(message.slice(last));
}

export function deskLocaleOf(tag: LocaleTag): DeskLocale {
  const table = DESK_MESSAGE_TABLES[tag];
  return {
    base: localeOf(tag),
    text: (key, params = {}) => fill(table[key], params, (s) => s),
    html: (key, params = {}) => fill(table[key], params, escapeHtml),
  };
}
