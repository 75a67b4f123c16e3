/**
 * Rendered QR codes kept in memory, least recently used first out, within a byte budget. A code's image never
 * changes for a given request (qr.ts QrRenderRequest), so entries never go stale; they only make room.
 */

export interface CachedQrCode {
  body: Buffer;
  etag: string;
}

export interface QrCodeCache {
  get(key: string): CachedQrCode | undefined;
  /** Keeps the code unless it alone would take more than an eighth of the budget (it would flush the others). */
  set(key: string, code: CachedQrCode): void;
  readonly bytes: number;
  readonly entries: number;
}

/** Bytes an entry is charged: its image, its key (the Digital Link is part of it) and a fixed overhead. */
const ENTRY_OVERHEAD_BYTES = 128;
const entryBytes = (key: string, code: CachedQrCode) => code.body.byteLength + key.length * 2 + code.etag.length * 2 + ENTRY_OVERHEAD_BYTES;

export function createQrCodeCache(budgetBytes: number): QrCodeCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const codes = new Map<string, CachedQrCode>();
  let bytes = 0;

  const remove = (key: string, code: CachedQrCode) => {
    codes.delete(key);
    bytes -= entryBytes(key, code);
  };

  return {
    get(key) {
      const code = codes.get(key);
      if (code === undefined) return undefined;
      codes.delete(key);
      codes.set(key, code);
      return code;
    },
    set(key, code) {
      const size = entryBytes(key, code);
      if (size > budgetBytes / 8) return;
      const existing = codes.get(key);
      if (existing !== undefined) remove(key, existing);
      codes.set(key, code);
      bytes += size;
      for (const [oldestKey, oldest] of codes) {
        if (bytes <= budgetBytes) break;
        remove(oldestKey, oldest);
      }
    },
    get bytes() {
      return bytes;
    },
    get entries() {
      return codes.size;
    },
  };
}
