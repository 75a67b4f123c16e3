/**
 * The passport's languages. Adding one is adding its message file (a `MessageTable`, so the compiler demands every
 * key) and its line in MESSAGE_TABLES; negotiation, the language switch and the page script pick it up from here.
 */
import { en } from "./en.ts";
import type { MessageKey, MessageTable } from "./types.ts";
import { zhCN } from "./zh-CN.ts";

export type { MessageKey, MessageTable } from "./types.ts";

export const MESSAGE_TABLES = { en, "zh-CN": zhCN } as const satisfies Record<string, MessageTable>;

export type LocaleTag = keyof typeof MESSAGE_TABLES;
export const SUPPORTED_LOCALES = Object.keys(MESSAGE_TABLES) as LocaleTag[];
export const DEFAULT_LOCALE: LocaleTag = "en";

/** The locale Intl formats with: English pages keep day-month-year dates (unambiguous for readers everywhere). */
const INTL_LOCALE: Record<LocaleTag, string> = { en: "en-GB", "zh-CN": "zh-CN" };

export type MessageParams = Record<string, string | number | bigint>;

export interface Locale {
  tag: LocaleTag;
  messages: MessageTable;
  /** Plain text: the message with its parameters filled in, nothing escaped. */
  text: (key: MessageKey, params?: MessageParams) => string;
  /** Markup: the message escaped, its parameters inserted as given (callers pass markup they have escaped). */
  html: (key: MessageKey, params?: MessageParams) => string;
  date: (seconds: number) => string;
  /** Date and time, in UTC. */
  time: (seconds: number) => string;
  number: (value: number | bigint | string) => string;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

export function placeholdersOf(message: string): string[] {
  return [...message.matchAll(PLACEHOLDER)].map((m) => m[1]!).sort();
}

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

const escapeText = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function createLocale(tag: LocaleTag): Locale {
  const messages: MessageTable = MESSAGE_TABLES[tag];
  const intl = INTL_LOCALE[tag];
  const dateFormat = new Intl.DateTimeFormat(intl, { dateStyle: "medium", timeZone: "UTC" });
  const timeFormat = new Intl.DateTimeFormat(intl, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
  const numberFormat = new Intl.NumberFormat(intl);
  return {
    tag,
    messages,
    text: (key, params = {}) => fill(messages[key], params, (s) => s),
    html: (key, params = {}) => fill(messages[key], params, escapeText),
    date: (seconds) => dateFormat.format(new Date(seconds * 1000)),
    time: (seconds) => `${timeFormat.format(new Date(seconds * 1000))} UTC`,
    number: (value) => {
      // Quantities are uint256: beyond 2^53 a Number would round, so only bigint-safe values go through Intl.
      const n = typeof value === "string" ? (/^\d{1,30}$/.test(value) ? BigInt(value) : null) : value;
      return n === null ? value.toString() : numberFormat.format(n);
    },
  };
}

const LOCALES = new Map(SUPPORTED_LOCALES.map((tag) => [tag, createLocale(tag)]));

export function localeOf(tag: LocaleTag = DEFAULT_LOCALE): Locale {
  return LOCALES.get(tag)!;
}

export function isLocaleTag(value: unknown): value is LocaleTag {
  return typeof value === "string" && Object.hasOwn(MESSAGE_TABLES, value);
}
