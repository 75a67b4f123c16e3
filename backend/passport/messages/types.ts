import type { en } from "./en.ts";

export type MessageKey = keyof typeof en;
/** A language's messages: every key English has, no other (checked by the compiler), the same placeholders (by test). */
export type MessageTable = { readonly [key in MessageKey]: string };
