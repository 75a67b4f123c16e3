/**
 * Fixed-window hit counters per client, in memory, for express-rate-limit, holding at most `maxClients` clients.
 * express-rate-limit's own MemoryStore keeps every client seen in the current window, so a flood from many
 * addresses (an IPv6 range, a botnet) grows it without bound; here the least recently started windows go first:
 * expired ones, then, when every slot is live, the oldest live one (that client starts a fresh window: the price of
 * a bounded memory, paid by whoever has been quiet longest).
 */
import type { IncrementResponse, Options, Store } from "express-rate-limit";

interface Window {
  hits: number;
  resetTime: number;
}

export interface BoundedRateLimitStore extends Store {
  /** Clients currently counted (at most maxClients). */
  readonly size: number;
}

export function createBoundedRateLimitStore({
  maxClients,
  now = Date.now,
}: {
  maxClients: number;
  now?: () => number;
}): BoundedRateLimitStore {
  if (!Number.isInteger(maxClients) || maxClients < 1) throw new RangeError(`maxClients must be a positive integer (got ${maxClients})`);
  // Insertion order is window-start order: a client's window is re-inserted when it starts anew.
  const windows = new Map<string, Window>();
  let windowMs = 60_000;

  /** Drops expired windows from the front (the oldest), then live ones while the store is full. */
  const makeRoom = (at: number) => {
    for (const [oldest, window] of windows) {
      if (window.resetTime > at && windows.size < maxClients) return;
      windows.delete(oldest);
    }
  };

  const info = (window: Window): IncrementResponse => ({ totalHits: window.hits, resetTime: new Date(window.resetTime) });

  return {
    localKeys: true,
    get size() {
      return windows.size;
    },
    init(options: Options) {
      windowMs = options.windowMs;
    },
    get(key) {
      const window = windows.get(key);
      return window && window.resetTime > now() ? info(window) : undefined;
    },
    increment(key) {
      const at = now();
      let window = windows.get(key);
      if (!window || window.resetTime <= at) {
        windows.delete(key);
        makeRoom(at);
        window = { hits: 0, resetTime: at + windowMs };
        windows.set(key, window);
      }
      window.hits++;
      return info(window);
    },
    decrement(key) {
      const window = windows.get(key);
      if (window && window.hits > 0) window.hits--;
    },
    resetKey(key) {
      windows.delete(key);
    },
    resetAll() {
      windows.clear();
    },
  };
}
