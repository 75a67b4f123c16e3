/**
 * QR codes for Digital Links, with the `qrcode` package. Error correction M (15 %) survives a scuffed label
 * while keeping a 60-character link at version 4-5; the 4-module quiet zone is what ISO/IEC 18004 asks for.
 *
 * These functions render on the calling thread: the CLI calls them directly, the HTTP routes go through the
 * worker pool of qr-renderer.ts, whose worker (qr-render-worker.ts) calls `renderQrCode`.
 */
import QRCode from "qrcode";

export type QrFormat = "png" | "svg";
export type QrErrorCorrectionLevel = "L" | "M" | "Q" | "H";

export interface QrOptions {
  /** PNG width in pixels (ignored for SVG, which scales freely). */
  width?: number;
  errorCorrectionLevel?: QrErrorCorrectionLevel;
}

export const QR_DEFAULT_WIDTH = 320;
export const QR_MIN_WIDTH = 64;
/** Quiet zone in modules. */
export const QR_MARGIN = 4;
export const QR_DEFAULT_ERROR_CORRECTION: QrErrorCorrectionLevel = "M";

/** Everything that determines a rendered code's bytes: two equal requests render byte-identical images. */
export interface QrRenderRequest {
  content: string;
  format: QrFormat;
  /** PNG width in pixels; 0 for SVG, whose size is the viewer's business. */
  width: number;
  margin: number;
  errorCorrectionLevel: QrErrorCorrectionLevel;
}

/** A render request with the defaults filled in and the SVG width normalised, so equal codes get equal keys. */
export function qrRenderRequest(content: string, format: QrFormat, options: QrOptions = {}): QrRenderRequest {
  return {
    content,
    format,
    width: format === "svg" ? 0 : (options.width ?? QR_DEFAULT_WIDTH),
    margin: QR_MARGIN,
    errorCorrectionLevel: options.errorCorrectionLevel ?? QR_DEFAULT_ERROR_CORRECTION,
  };
}

/** The image's bytes: PNG, or SVG as UTF-8. */
export async function renderQrCode(request: QrRenderRequest): Promise<Buffer> {
  const { content, format, width, margin, errorCorrectionLevel } = request;
  if (format === "svg") return Buffer.from(await QRCode.toString(content, { type: "svg", errorCorrectionLevel, margin }), "utf8");
  return QRCode.toBuffer(content, { type: "png", errorCorrectionLevel, margin, width });
}

export async function qrPng(uri: string, options: QrOptions = {}): Promise<Buffer> {
  return renderQrCode(qrRenderRequest(uri, "png", options));
}

export async function qrSvg(uri: string, options: QrOptions = {}): Promise<string> {
  return (await renderQrCode(qrRenderRequest(uri, "svg", options))).toString("utf8");
}

/** The QR code drawn with block characters, for terminals (the demo and the CLI print one). */
export async function qrTerminal(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "terminal", small: true, errorCorrectionLevel: QR_DEFAULT_ERROR_CORRECTION });
}
