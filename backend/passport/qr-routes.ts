/**
 * QR codes of Digital Links: a batch's and a unit's as PNG or SVG, and printable HTML sheets of unit labels. Every
 * printed link carries its trust anchors (?chain=…&registry=…, see digital-link.ts), so verifiers need not take the
 * word of the server that later answers it.
 */
import type { Response } from "express";
import { z } from "zod";
import { parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { decimalIntegerParam } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { renderQrSheet } from "./html.ts";
import type { PassportService } from "./passport-service.ts";
import { qrPng, qrSvg } from "./qr.ts";
import { batchParams, unitParams } from "./request-schemas.ts";

export interface QrRoutesDeps {
  passports: PassportService;
  contentSecurityPolicy: string;
}

const qrQuery = z.strictObject({
  format: z.enum(["png", "svg"]).default("png").describe("Image format."),
  width: decimalIntegerParam({ min: 64, max: 2048 }).default(320).describe("PNG width in pixels (SVG scales freely)."),
});
const sheetQuery = z.strictObject({
  page: decimalIntegerParam({ min: 1, max: 1_000_000 }).default(1).describe("1-based page of the sheet."),
  perPage: decimalIntegerParam({ min: 1, max: 500 }).default(100).describe("Labels per page (1-500)."),
});

const qrResponses = {
  200: {
    description: "The QR code of the Digital Link, with its trust anchors: `?chain={chainId}&registry={address}`.",
    content: { "image/png": { schema: { type: "string", format: "binary" } }, "image/svg+xml": { schema: { type: "string" } } },
  },
  400: problemResponse(400),
  404: problemResponse(404),
};

async function sendQr(res: Response, uri: string, query: z.output<typeof qrQuery>) {
  res.set("Cache-Control", "public, max-age=86400").set("Content-Disposition", "inline");
  if (query.format === "svg") res.type("image/svg+xml").send(await qrSvg(uri));
  else res.type("png").send(await qrPng(uri, { width: query.width }));
}

export function qrRoutes({ passports, contentSecurityPolicy }: QrRoutesDeps): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/api/v1/batches/:batchId/qr",
      operation: {
        operationId: "getBatchQrCode",
        tags: ["Passports"],
        summary: "QR code of a batch's Digital Link",
        parameters: parametersFromZod({ path: batchParams, query: qrQuery }),
        responses: qrResponses,
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const query = parseQuery(qrQuery, req);
        const batch = await passports.getBatch(batchId);
        await sendQr(res, passports.linkFor(batch), query);
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/units/:serial/qr",
      operation: {
        operationId: "getUnitQrCode",
        tags: ["Passports"],
        summary: "QR code of a unit's Digital Link",
        description: "404 when the batch's serial list is stored and does not contain the serial.",
        parameters: parametersFromZod({ path: unitParams, query: qrQuery }),
        responses: qrResponses,
      },
      handler: async (req, res) => {
        const { batchId, serial } = parseParams(unitParams, req);
        const query = parseQuery(qrQuery, req);
        await sendQr(res, await passports.unitLink(batchId, serial), query);
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/qr-sheet",
      operation: {
        operationId: "getBatchQrSheet",
        tags: ["Passports"],
        summary: "Printable sheet of unit QR labels",
        description: "An HTML page with one labelled SVG QR code per unit, paginated for large batches.",
        parameters: parametersFromZod({ path: batchParams, query: sheetQuery }),
        responses: {
          200: { description: "The sheet.", content: { "text/html": { schema: { type: "string" } } } },
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const { page, perPage } = parseQuery(sheetQuery, req);
        const sheet = await passports.serialsPage(batchId, page, perPage);
        const { batch } = sheet;
        const labels = await Promise.all(
          sheet.serials.map(async (serial) => {
            const uri = passports.linkFor(batch, serial);
            return { serial, uri, svg: await qrSvg(uri) };
          }),
        );
        res
          .set("Cache-Control", "no-cache")
          .set("Content-Security-Policy", contentSecurityPolicy)
          .type("html")
          .send(
            renderQrSheet({
              batch,
              labels,
              page,
              pages: sheet.pages,
              perPage,
              total: sheet.total,
              basePath: `/api/v1/batches/${batch.batchId}/qr-sheet`,
            }),
          );
      },
    },
  ];
}
