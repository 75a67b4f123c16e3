/** Product data versions on SQLite: one row per (subject, contentHash), the first upload kept. */
import type { ProductDataDocument } from "../../domain/model.ts";
import { MAX_PRODUCT_DATA_LISTED, type ProductDataDocuments } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createProductDataDocuments(connection: SqliteConnection): ProductDataDocuments {
  const { sql } = connection;
  const get = (subject: string, contentHash: string) =>
    documentOf<ProductDataDocument>(
      sql("SELECT doc FROM product_data_documents WHERE subject = ? AND content_hash = ?").get(subject, contentHash),
    );
  return {
    async putProductDataDocument(document) {
      connection.write(() => {
        sql(
          `INSERT INTO product_data_documents (subject, content_hash, uploaded_at, doc) VALUES (?, ?, ?, ?)
           ON CONFLICT (subject, content_hash) DO NOTHING`,
        ).run(document.subject, document.contentHash, document.uploadedAt, JSON.stringify(document));
      });
      return get(document.subject, document.contentHash)!;
    },

    async getProductDataDocument(subject, contentHash) {
      return get(subject, contentHash);
    },

    async listProductDataDocuments(subject) {
      const rows = sql("SELECT doc FROM product_data_documents WHERE subject = ? ORDER BY uploaded_at, content_hash LIMIT ?").all(
        subject,
        MAX_PRODUCT_DATA_LISTED,
      );
      return rows.map((row) => documentOf<ProductDataDocument>(row)!);
    },
  };
}
