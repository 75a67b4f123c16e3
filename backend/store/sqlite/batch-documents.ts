/** Batch documents on SQLite: one row per (batchId, contentHash) holding the metadata and the bytes, the first upload kept. */
import { Readable } from "node:stream";
import type { BatchDocument } from "../../domain/model.ts";
import { MAX_BATCH_DOCUMENTS_LISTED, type BatchDocuments } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createBatchDocuments(connection: SqliteConnection): BatchDocuments {
  const { sql } = connection;
  const get = (batchId: string, contentHash: string) =>
    documentOf<BatchDocument>(sql("SELECT doc FROM batch_documents WHERE batch_id = ? AND content_hash = ?").get(batchId, contentHash));
  return {
    async putBatchDocument(document, content) {
      connection.write(() => {
        sql(
          `INSERT INTO batch_documents (batch_id, content_hash, uploaded_at, doc, content) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (batch_id, content_hash) DO NOTHING`,
        ).run(document.batchId, document.contentHash, document.uploadedAt, JSON.stringify(document), content);
      });
      return get(document.batchId, document.contentHash)!;
    },

    async getBatchDocument(batchId, contentHash) {
      return get(batchId, contentHash);
    },

    async openBatchDocumentContent(batchId, contentHash) {
      const row = sql("SELECT content FROM batch_documents WHERE batch_id = ? AND content_hash = ?").get(batchId, contentHash) as
        { content: Uint8Array } | undefined;
      return row === undefined ? null : Readable.from([Buffer.from(row.content)]);
    },

    async listBatchDocuments(batchId) {
      const rows = sql("SELECT doc FROM batch_documents WHERE batch_id = ? ORDER BY uploaded_at, content_hash LIMIT ?").all(
        batchId,
        MAX_BATCH_DOCUMENTS_LISTED,
      );
      return rows.map((row) => documentOf<BatchDocument>(row)!);
    },

    async findBatchDocumentsByHash(contentHash) {
      const rows = sql("SELECT doc FROM batch_documents WHERE content_hash = ? ORDER BY uploaded_at, batch_id LIMIT ?").all(
        contentHash,
        MAX_BATCH_DOCUMENTS_LISTED,
      );
      return rows.map((row) => documentOf<BatchDocument>(row)!);
    },
  };
}
