/**
 * `provena document upload <subject> <file>`: for a batch (id or GTIN/LOT), a participant of its chain of custody;
 * for a product model (a GTIN alone), the holder of its company prefix. It signs in, uploads the file's bytes (the
 * backend recognises their type and hashes them) and anchors the keccak256 with ProductDataRegistry (directly, or
 * gasless with --relay). `provena document list <subject>` / `get <subject> <hash> [--out file]`: what the caller may
 * read (signed in with --signed-in). `provena document verify <file>`: where the file is anchored on chain (any batch
 * or product), by whom, when; or that it is not.
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Command } from "commander";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import { BATCH_DOCUMENT_AUDIENCES, BATCH_DOCUMENT_KINDS, type Hex } from "../../backend/domain/model.ts";
import type { DocumentVerification, UploadDocumentResult, UploadProductDocumentResult } from "../../backend/documents/document-service.ts";
import { apiJson } from "./api-client.ts";
import { batchRef, documentSubject, type DocumentSubjectRef } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";

const CONTENT_TYPES: Record<string, string> = {
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".json": "application/json",
  ".txt": "text/plain",
};

async function signedInHeaders(context: CliContext): Promise<Record<string, string>> {
  const token = await signInWithKey(context.apiUrl, await context.signer()).catch((error: Error) => {
    throw new CliError(error.message);
  });
  return { authorization: `Bearer ${token}` };
}

async function fileBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

const SUBJECT_HELP = "the batch (id 0x… or GTIN/LOT), or a GTIN alone for the product model's documents";

function documentsPath(subject: DocumentSubjectRef): string {
  return subject.kind === "batch" ? `/api/v1/batches/${subject.batchId}/documents` : `/api/v1/products/${subject.gtin}/documents`;
}

function oneOf(values: readonly string[], what: string) {
  return (value: string) => {
    if (!values.includes(value)) throw new CliError(`${what} must be one of ${values.join(", ")} (got ${value})`);
    return value;
  };
}

export function registerDocumentCommands(program: Command, withContext: WithContext): void {
  const document = program
    .command("document")
    .description("Documents of a batch or a product model stored off chain, their hashes anchored on chain");
  document
    .command("upload")
    .argument("<subject>", SUBJECT_HELP, documentSubject)
    .argument("<file>", "the document (PDF, PNG, JPEG, JSON or plain text)")
    .requiredOption("--kind <kind>", `what it is: ${BATCH_DOCUMENT_KINDS.join(", ")}`, oneOf(BATCH_DOCUMENT_KINDS, "--kind"))
    .requiredOption(
      "--audience <audience>",
      `who may read it: ${BATCH_DOCUMENT_AUDIENCES.join(", ")}`,
      oneOf(BATCH_DOCUMENT_AUDIENCES, "--audience"),
    )
    .option("--title <title>", "its title (default: the file name)")
    .description(
      "upload a document and anchor its keccak256 on chain (a batch's: a participant of its chain of custody; a GTIN's: its prefix holder)",
    )
    .action(
      withContext(
        async (context, subject: DocumentSubjectRef, file: string, options: { kind: string; audience: string; title?: string }) => {
          const bytes = await fileBytes(file);
          const query = new URLSearchParams({
            kind: options.kind,
            audience: options.audience,
            title: options.title ?? basename(file),
            fileName: basename(file),
          });
          const { body } = await apiJson<UploadDocumentResult | UploadProductDocumentResult>(
            context,
            `${documentsPath(subject)}?${query.toString()}`,
            {
              method: "POST",
              headers: {
                ...(await signedInHeaders(context)),
                "content-type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
              },
              body: bytes,
            },
          );
          console.error(
            `… ${body.created ? "uploaded" : "already uploaded"}; keccak256 ${body.document.contentHash}, sha256 ${body.document.sha256}`,
          );
          if (body.document.anchors.some((anchor) => anchor.anchoredBy === body.document.uploadedBy)) {
            console.log(`✓ already anchored: ${body.document.contentHash}`);
            return;
          }
          await context.send(`anchored ${body.document.contentHash}`, "productData", body.anchor.function, body.anchor.args);
        },
      ),
    );
  document
    .command("list")
    .argument("<subject>", SUBJECT_HELP, documentSubject)
    .option("--signed-in", "sign in with your key: see the documents your role entitles you to")
    .description("the documents the public (or, signed in, you) may read, as JSON")
    .action(
      withContext(async (context, subject: DocumentSubjectRef, options: { signedIn?: boolean }) => {
        const headers = options.signedIn ? await signedInHeaders(context) : {};
        const { body } = await apiJson<unknown>(context, documentsPath(subject), { headers });
        console.log(JSON.stringify(body, null, 2));
      }),
    );
  document
    .command("get")
    .argument("<subject>", SUBJECT_HELP, documentSubject)
    .argument("<contentHash>", "the document's keccak256")
    .option("--out <file>", "write its bytes to this file (else print its metadata)")
    .option("--signed-in", "sign in with your key")
    .description("one document's metadata, or its bytes with --out")
    .action(
      withContext(async (context, subject: DocumentSubjectRef, contentHash: string, options: { out?: string; signedIn?: boolean }) => {
        const headers = options.signedIn ? await signedInHeaders(context) : {};
        const path = `${documentsPath(subject)}/${contentHash}`;
        if (options.out === undefined) {
          console.log(JSON.stringify((await apiJson<unknown>(context, path, { headers })).body, null, 2));
          return;
        }
        const response = await fetch(`${context.apiUrl}${path}/content`, { headers }).catch((error: Error) => {
          throw new CliError(`cannot reach the backend at ${context.apiUrl}: ${error.message}`);
        });
        if (!response.ok) throw new CliError(`the backend refused (HTTP ${response.status})`);
        await writeFile(options.out, Buffer.from(await response.arrayBuffer()));
        console.log(`✓ ${options.out}`);
      }),
    );
  document
    .command("verify")
    .argument("<file>", "the document to check")
    .option("--batch <batch>", "look for anchors of this batch only", batchRef)
    .description("where the file is anchored on chain (any batch or product model), by whom and when; exits 1 when nowhere")
    .action(
      withContext(async (context, file: string, options: { batch?: Hex }) => {
        const query = options.batch === undefined ? "" : `?${new URLSearchParams({ batchId: options.batch }).toString()}`;
        const { body } = await apiJson<DocumentVerification>(context, `/api/v1/documents/verify${query}`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: await fileBytes(file),
        });
        if (!body.anchored) throw new CliError(`${file} (keccak256 ${body.contentHash}) is ${body.summary}`);
        for (const anchor of body.anchors) {
          const where =
            "batchId" in anchor
              ? `batch ${anchor.batchId}: anchored by ${anchor.anchoredBy}${anchor.inChainOfCustody ? "" : " (NOT in its chain of custody)"}`
              : `GTIN ${anchor.gtin}: anchored by ${anchor.anchoredBy}${anchor.byPrefixHolder ? "" : " (no longer its prefix holder)"}`;
          console.log(
            `✓ ${where} at ${new Date(anchor.anchoredAt * 1000).toISOString()}, block ${anchor.blockNumber}, tx ${anchor.transactionHash}`,
          );
        }
      }),
    );
}
