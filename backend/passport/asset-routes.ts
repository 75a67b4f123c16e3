/**
 * Static files of the passport page: its verification module, ethers' ESM build and the registry's ABI, each built
 * once on first request, served gzipped when accepted, with an ETag.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { loadArtifact } from "../chain/artifacts.ts";
import { ENUM_VALUE_NAMES } from "../chain/vocabulary.ts";
import { parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { notFound } from "../domain/errors.ts";
import { ASSET_BASE_PATH } from "./html.ts";

export interface AssetRoutesDeps {
  /** Directory of Hardhat artifacts (tests); defaults to the project's. */
  artifactsDir?: string;
}

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  type: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const JAVASCRIPT = "text/javascript; charset=utf-8";

function makeAsset(body: Buffer, type: string): Asset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    type,
  };
}

export function assetRoutes({ artifactsDir }: AssetRoutesDeps): RouteDefinition[] {
  const require = createRequire(import.meta.url);
  const ethersDist = path.join(path.dirname(require.resolve("ethers")), "..", "dist", "ethers.min.js");
  const assetSources: Record<string, () => Asset> = {
    "passport.js": () => makeAsset(readFileSync(path.join(here, "assets", "passport.js")), JAVASCRIPT),
    "verify-core.js": () => makeAsset(readFileSync(path.join(here, "assets", "verify-core.js")), JAVASCRIPT),
    "reading-anchors.js": () => makeAsset(readFileSync(path.join(here, "assets", "reading-anchors.js")), JAVASCRIPT),
    "passport-sign-in.js": () => makeAsset(readFileSync(path.join(here, "assets", "passport-sign-in.js")), JAVASCRIPT),
    "wallet-sign-in.js": () => makeAsset(readFileSync(path.join(here, "assets", "wallet-sign-in.js")), JAVASCRIPT),
    "sign-in-message.js": () => makeAsset(readFileSync(path.join(here, "assets", "sign-in-message.js")), JAVASCRIPT),
    "ethers.min.js": () => makeAsset(readFileSync(ethersDist), JAVASCRIPT),
    "registry-abi.json": () => {
      // Only what verification reads: the events, and the views it calls.
      const abi = loadArtifact("ProvenanceRegistry", undefined, artifactsDir ? { artifactsDir } : {}).abi.filter(
        (f) =>
          f.type === "event" || (f.type === "function" && ["batch", "batchStatus", "verifyUnit", "participant"].includes(f.name ?? "")),
      );
      return makeAsset(Buffer.from(JSON.stringify({ abi, enums: ENUM_VALUE_NAMES })), "application/json; charset=utf-8");
    },
  };
  const assets = new Map<string, Asset>();
  const assetParams = z.object({ file: z.enum(Object.keys(assetSources) as [string, ...string[]]).describe("Asset file name.") });

  return [
    {
      method: "get",
      path: `${ASSET_BASE_PATH}/:file`,
      operation: {
        operationId: "getPassportAsset",
        tags: ["Passports"],
        summary: "Static files of the passport page",
        description:
          "passport.js and verify-core.js (the page's verification), passport-sign-in.js, wallet-sign-in.js and sign-in-message.js (the wallet sign-in, shared with the recall desk), ethers.min.js (ethers' own ESM build), registry-abi.json.",
        parameters: parametersFromZod({ path: assetParams }),
        responses: { 200: { description: "The file." }, 304: { description: "Not modified." }, 404: problemResponse(404) },
      },
      handler: (req, res) => {
        const file = req.params.file as string;
        // Own keys only: "constructor" or "__proto__" must not reach Object.prototype's members.
        const load = Object.hasOwn(assetSources, file) ? assetSources[file] : undefined;
        if (!load) throw notFound(`No passport asset named ${file}`);
        let asset = assets.get(file);
        if (!asset) {
          asset = load();
          assets.set(file, asset);
        }
        res.vary("Accept-Encoding").set("ETag", asset.etag).set("Cache-Control", "public, max-age=3600").type(asset.type);
        if (req.fresh) {
          res.status(304).end();
          return;
        }
        if (req.acceptsEncodings("gzip") === "gzip") res.set("Content-Encoding", "gzip").send(asset.gzip);
        else res.send(asset.body);
      },
    },
  ];
}
