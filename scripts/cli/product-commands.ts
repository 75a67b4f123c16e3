/**
 * `provena product publish <gtin|batch> <data.json>`: the manufacturer signs in, uploads a version of the product's
 * (GTIN) or batch's DPP data, and anchors the hash the backend answers with ProductDataRegistry (directly, or gasless
 * with --relay). `provena product show <gtin|batch>`: the latest anchored version (or --version n, or --versions),
 * filtered by the caller's role when it signs in (--signed-in), else as the public sees it.
 */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import { Interface, type LogDescription } from "ethers";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import { gtinSchema } from "../../backend/chain/schemas.ts";
import type { Hex } from "../../backend/domain/model.ts";
import type { UploadResult } from "../../backend/product-data/product-data-service.ts";
import { apiJson } from "./api-client.ts";
import { batchRef, positiveInteger } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";

type Subject = { kind: "product"; gtin: string } | { kind: "batch"; batchId: Hex };

/** A GTIN (8, 12, 13 or 14 digits) names the product; a batch id (0x…) or GTIN/LOT names a batch. */
export function productSubject(value: string): Subject {
  if (/^\d+$/.test(value)) {
    const gtin = gtinSchema.safeParse(value);
    if (!gtin.success) throw new InvalidArgumentError(`GTIN ${value} ${gtin.error.issues[0]!.message}`);
    return { kind: "product", gtin: gtin.data };
  }
  return { kind: "batch", batchId: batchRef(value) };
}

const dataPath = (subject: Subject) =>
  subject.kind === "product" ? `/api/v1/products/${subject.gtin}/data` : `/api/v1/batches/${subject.batchId}/data`;

async function signedInHeaders(context: CliContext): Promise<Record<string, string>> {
  const token = await signInWithKey(context.apiUrl, await context.signer()).catch((error: Error) => {
    throw new CliError(error.message);
  });
  return { authorization: `Bearer ${token}` };
}

/** The log decoded by `iface`; null for a log of another contract (the forwarder's, when relayed). */
function parsedLog(iface: Interface, log: { topics: string[]; data: string }): LogDescription | null {
  try {
    return iface.parseLog(log);
  } catch {
    return null;
  }
}

export function registerProductCommands(program: Command, withContext: WithContext): void {
  const product = program.command("product").description("Digital Product Passport data of a product (GTIN) or batch");
  product
    .command("publish")
    .argument("<subject>", "a GTIN (product data) or a batch: id (0x…) or GTIN/LOT", productSubject)
    .argument("<file>", "the data as JSON (fields: see the API's ProductData schema)")
    .description("upload a version of the data and anchor its hash on chain (the GTIN's prefix holder / the batch's manufacturer)")
    .action(
      withContext(async (context, subject: Subject, file: string) => {
        let data: unknown;
        try {
          data = JSON.parse(await readFile(file, "utf8"));
        } catch (error) {
          throw new CliError(`cannot read the product data ${file}: ${(error as Error).message}`);
        }
        const { body } = await apiJson<UploadResult>(context, dataPath(subject), {
          method: "POST",
          headers: { ...(await signedInHeaders(context)), "content-type": "application/json" },
          body: JSON.stringify(data),
        });
        console.error(`… uploaded; content hash ${body.contentHash} (keccak256 of the RFC 8785 canonical JSON)`);
        const receipt = await context.send(`anchored ${body.contentHash}`, "productData", body.anchor.function, body.anchor.args);
        const iface = new Interface(context.abis.ProductDataRegistry);
        for (const log of receipt.logs as { topics: string[]; data: string }[]) {
          const parsed = parsedLog(iface, log);
          if (parsed?.name === "ProductDataPublished" || parsed?.name === "BatchDataPublished") {
            console.log(
              `✓ version ${String(parsed.args.version)} of ${subject.kind === "product" ? `GTIN ${subject.gtin}` : `batch ${subject.batchId}`}`,
            );
          }
        }
      }),
    );
  product
    .command("show")
    .argument("<subject>", "a GTIN (product data) or a batch: id (0x…) or GTIN/LOT", productSubject)
    .option("--version <n>", "this anchored version instead of the latest", positiveInteger)
    .option("--versions", "list the anchored versions (and, for the publisher, every upload)")
    .option("--signed-in", "sign in with your key: see the fields your role entitles you to")
    .description("the anchored data as the public (or, signed in, your role) may read it, as JSON")
    .action(
      withContext(async (context, subject: Subject, options: { version?: number; versions?: boolean; signedIn?: boolean }) => {
        const headers = options.signedIn ? await signedInHeaders(context) : {};
        const suffix = options.versions ? "/versions" : options.version !== undefined ? `/versions/${options.version}` : "";
        const { body } = await apiJson<unknown>(context, `${dataPath(subject)}${suffix}`, { headers });
        console.log(JSON.stringify(body, null, 2));
      }),
    );
}
