/**
 * QR codes for Digital Links, with the `qrcode` package. Error correction M (15 %) survives a scuffed label
 * while keeping a 60-character link at version 4-5; the 4-module quiet zone is what ISO/IEC 18004 asks for.
 */
import QRCode from "qrcode";

export type QrFormat = "png" | "svg";

export interface QrOptions {
  /** PNG width in pixels (ignored for SVG, which scales freely). */
  width?: number;
  errorCorrectionLevel?: "L" | "M" | "Q" | "H";
}

export const QR_DEFAULT_WIDTH = 320;

export async function qrPng(uri: string, options: QrOptions = {}): Promise<Buffer> {
  return QRCode.toBuffer(uri, {
    type: "png",
    errorCorrectionLevel: options.errorCorrectionLevel ?? "M",
    margin: 4,
    width: options.width ?? QR_DEFAULT_WIDTH,
  });
}

export async function qrSvg(uri: string, options: QrOptions = {}): Promise<string> {
  return QRCode.toString(uri, { type: "svg", errorCorrectionLevel: options.errorCorrectionLevel ?? "M", margin: 4 });
}

/** The QR code drawn with block characters, for terminals (the demo and the CLI print one). */
export async function qrTerminal(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "terminal", small: true, errorCorrectionLevel: "M" });
}
