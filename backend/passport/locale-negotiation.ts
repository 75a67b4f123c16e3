/**
 * Which language a passport page (or its error page) is in: `?lang=` (the visible switch, then remembered in a
 * cookie), else the remembered choice, else Accept-Language by q-value, else English. Only tags of
 * messages/index.ts are ever used or stored, so nothing from the request reaches a header or the page.
 *
 * Chinese: every `zh` tag (zh, zh-CN, zh-Hans, zh-SG, and also zh-TW, zh-HK, zh-Hant) gets Simplified Chinese while
 * it is the only Chinese there is: a reader of Traditional characters reads Simplified far more easily than English.
 * When a Traditional message file is added, an exact or script match for it wins over this fallback.
 */
import type { Request, Response } from "express";
import { DEFAULT_LOCALE, isLocaleTag, type LocaleTag, SUPPORTED_LOCALES } from "./messages/index.ts";
import { createBoundedMemo } from "./view-cache.ts";

export const LOCALE_COOKIE = "provena_lang";
const LOCALE_COOKIE_MAX_AGE_MS = 365 * 24 * 3600 * 1000;
/** Browsers send a handful of languages; anything longer is not a browser and gets no more attention. */
const MAX_LANGUAGE_RANGES = 32;

export interface LanguageRange {
  tag: string;
  q: number;
}

/** The acceptable ranges of an Accept-Language header, best first (ties keep header order); malformed entries are skipped. */
export function parseAcceptLanguage(header: string | undefined): LanguageRange[] {
  if (!header) return [];
  const ranges: LanguageRange[] = [];
  for (const part of header.split(",").slice(0, MAX_LANGUAGE_RANGES)) {
    const [rawTag = "", ...params] = part.split(";");
    const tag = rawTag.trim();
    if (tag !== "*" && !/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
      else q = Number.NaN; // a malformed weight: the range is not trustworthy, skip it
    }
    if (Number.isNaN(q) || q === 0) continue;
    ranges.push({ tag, q });
  }
  return ranges
    .map((range, index) => ({ range, index }))
    .sort((a, b) => b.range.q - a.range.q || a.index - b.index)
    .map((r) => r.range);
}

/** The supported locale a single language range asks for, or null. */
export function localeForRange(range: string): LocaleTag | null {
  const lower = range.toLowerCase();
  const exact = SUPPORTED_LOCALES.find((tag) => tag.toLowerCase() === lower);
  if (exact) return exact;
  const primary = lower.split("-")[0];
  if (primary === "zh") return "zh-CN";
  return SUPPORTED_LOCALES.find((tag) => tag.toLowerCase().split("-")[0] === primary) ?? null;
}

// Browsers send a handful of distinct Accept-Language headers: each is negotiated once.
const negotiatedLocales = createBoundedMemo<string, LocaleTag>(1_024);

/** The best supported locale for an Accept-Language header; "*" or nothing supported means the default. */
export function negotiateLocale(header: string | undefined): LocaleTag {
  if (header === undefined) return DEFAULT_LOCALE;
  if (header.length > 256) return bestLocale(header); // no browser's; not worth a place in the memo
  let locale = negotiatedLocales.get(header);
  if (locale === undefined) {
    locale = bestLocale(header);
    negotiatedLocales.set(header, locale);
  }
  return locale;
}

function bestLocale(header: string): LocaleTag {
  for (const { tag } of parseAcceptLanguage(header)) {
    if (tag === "*") return DEFAULT_LOCALE;
    const locale = localeForRange(tag);
    if (locale) return locale;
  }
  return DEFAULT_LOCALE;
}

export interface LocaleChoice {
  locale: LocaleTag;
  /** Set when `?lang=` asked for a supported locale: the page remembers it. */
  chosenByQuery: boolean;
}

export function chooseLocale(input: { query: unknown; cookie: string | undefined; acceptLanguage: string | undefined }): LocaleChoice {
  if (typeof input.query === "string") {
    const fromQuery = localeForRange(input.query);
    if (fromQuery && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(input.query)) return { locale: fromQuery, chosenByQuery: true };
  }
  if (isLocaleTag(input.cookie)) return { locale: input.cookie, chosenByQuery: false };
  return { locale: negotiateLocale(input.acceptLanguage), chosenByQuery: false };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The request's locale, for a response whose body depends on it: says so to caches (Vary, Content-Language) and,
 * when the switch was used, remembers the choice in a cookie.
 */
export function localeForResponse(req: Request, res: Response): LocaleTag {
  const { locale, chosenByQuery } = chooseLocale({
    query: req.query.lang,
    cookie: cookieValue(req.get("cookie"), LOCALE_COOKIE),
    acceptLanguage: req.get("accept-language"),
  });
  res.vary("Accept-Language").vary("Cookie").set("Content-Language", locale);
  if (chosenByQuery) {
    res.cookie(LOCALE_COOKIE, locale, { path: "/", maxAge: LOCALE_COOKIE_MAX_AGE_MS, sameSite: "lax", httpOnly: true, secure: req.secure });
  }
  return locale;
}

export interface LanguageLink {
  tag: LocaleTag;
  /** A query-only relative link ("?…&lang=zh-CN"): this page, with the rest of its query (the trust anchors) kept. */
  href: string;
}

/** The language switch's links for a request's URL. */
export function languageLinks(originalUrl: string): LanguageLink[] {
  const query = originalUrl.indexOf("?");
  return SUPPORTED_LOCALES.map((tag) => {
    const params = new URLSearchParams(query < 0 ? "" : originalUrl.slice(query + 1));
    params.delete("claimed"); // the claim confirmation is said once, not again in another language
    params.set("lang", tag);
    return { tag, href: `?${params.toString()}` };
  });
}
