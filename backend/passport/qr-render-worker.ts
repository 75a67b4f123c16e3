/**
 * The worker thread of the QR render pool (qr-renderer.ts): renders one task's codes off the event loop that
 * serves requests. A task is a list, so a qr-sheet page of hundreds of labels takes one queue slot, not hundreds.
 *
 * Loaded by piscina in a worker thread: it and everything it imports must load as plain ESM under Node's type
 * stripping (no enums, no parameter properties), or under tsx where Node cannot strip types.
 */
import { renderQrCode, type QrRenderRequest } from "./qr.ts";

export default async function renderQrCodes(requests: QrRenderRequest[]): Promise<Uint8Array[]> {
  const images: Uint8Array[] = [];
  for (const request of requests) images.push(await renderQrCode(request));
  return images;
}
