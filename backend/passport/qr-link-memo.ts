/**
 * Which code a QR request resolved to last time, so that a request the render queue cannot take is refused before
 * its store lookups (qr-routes.ts). A request's key is its route, parameters and image options; its value is the
 * render request (the Digital Link and image options) those lookups produced.
 *
 * The memo only ever decides to refuse, never to serve: a code is served only after the lookups of this very request
 * found the batch (and the unit in its serial list) and built its link anew. So a reorg, a re-registered batch or a
 * newly stored serial list can make the memo stale without making a wrong code (or a code of a unit that no longer
 * exists) be served; at worst a stale entry lets a request through to its lookups, which then refuse it as before.
 * Least recently used entries are forgotten beyond `maxEntries`.
 */
import type { QrRenderRequest } from "./qr.ts";

/** Requests remembered by default: about 0.5 kB each (a route key and a Digital Link), so a few MB at most. */
export const QR_LINK_MEMO_ENTRIES = 8_192;

export interface QrLinkMemo {
  get(requestKey: string): QrRenderRequest | undefined;
  remember(requestKey: string, request: QrRenderRequest): void;
  readonly entries: number;
}

export function createQrLinkMemo(maxEntries = QR_LINK_MEMO_ENTRIES): QrLinkMemo {
  // A Map iterates in insertion order: re-inserting on every remember keeps the least recently used first.
  const requests = new Map<string, QrRenderRequest>();
  return {
    get: (requestKey) => requests.get(requestKey),
    remember(requestKey, request) {
      requests.delete(requestKey);
      requests.set(requestKey, request);
      if (requests.size > maxEntries) requests.delete(requests.keys().next().value!);
    },
    get entries() {
      return requests.size;
    },
  };
}
