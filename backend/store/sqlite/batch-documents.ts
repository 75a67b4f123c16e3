/**
 * Documents on SQLite, about batches and about product models (GTINs): one row per (subject, contentHash) holding
 * the metadata and the bytes, the first upload kept. Both kinds share one shape, in two tables.
 */
import { Readable } from "node:stream";
import type { BatchDocument, Hex, ProductDocument } from "../../domain/model.ts";
import { MAX_BATCH_DOCUMENTS_LISTED, type BatchDocuments, type ProductDocuments } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

/** The table of one kind of document, and which column and field name its subject. */
interface DocumentTable<T> {
  table: "batch_documents" | "product_documents";
  subjectColumn: "batch_id" | "gtin";
  subjectOf: (document: T) => string;
}

function documentTable<T extends { contentHash: Hex; uploadedAt: number }>(connection: SqliteConnection, spec: DocumentTable<T>) {
  const { sql } = connection;
  const { table, subjectColumn } = spec;
  const get = (subject: string, contentHash: string) =>
    documentOf<T>(sql(`SELECT doc FROM ${table} WHERE ${subjectColumn} = ? AND content_hash = ?`).get(subject, contentHash));
  return {
    put: async (document: T, content: Uint8Array): Promise<T> => {
      const subject = spec.subjectOf(document);
      connection.write(() => {
        sql(
          `INSERT INTO ${table} (${subjectColumn}, content_hash, uploaded_at, doc, content) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (${subjectColumn}, content_hash) DO NOTHING`,
        ).run(subject, document.contentHash, document.uploadedAt, JSON.stringify(document), content);
      });
      return get(subject, document.contentHash)!;
    },
    get: async (subject: string, contentHash: Hex): Promise<T | null> => {
      return get(subject, contentHash);
    },
    open: async (subject: string, contentHash: Hex): Promise<Readable | null> => {
      const row = sql(`SELECT content FROM ${table} WHERE ${subjectColumn} = ? AND content_hash = ?`).get(subject, contentHash) as
        { content: Uint8Array } | undefined;
      return row === undefined ? null : Readable.from([Buffer.from(row.content)]);
    },
    list: async (subject: string): Promise<T[]> => {
      const rows = sql(`SELECT doc FROM ${table} WHERE ${subjectColumn} = ? ORDER BY uploaded_at, content_hash LIMIT ?`).all(
        subject,
        MAX_BATCH_DOCUMENTS_LISTED,
      );
      return rows.map((row) => documentOf<T>(row)!);
    },
  };
}

export function createBatchDocuments(connection: SqliteConnection): BatchDocuments {
  const documents = documentTable<BatchDocument>(connection, {
    table: "batch_documents",
    subjectColumn: "batch_id",
    subjectOf: (document) => document.batchId,
  });
  return {
    putBatchDocument: documents.put,
    getBatchDocument: documents.get,
    openBatchDocumentContent: documents.open,
    listBatchDocuments: documents.list,

    async findBatchDocumentsByHash(contentHash) {
      const rows = connection
        .sql("SELECT doc FROM batch_documents WHERE content_hash = ? ORDER BY uploaded_at, batch_id LIMIT ?")
        .all(contentHash, MAX_BATCH_DOCUMENTS_LISTED);
      return rows.map((row) => documentOf<BatchDocument>(row)!);
    },
  };
}

export function createProductDocuments(connection: SqliteConnection): ProductDocuments {
  const documents = documentTable<ProductDocument>(connection, {
    table: "product_documents",
    subjectColumn: "gtin",
    subjectOf: (document) => document.gtin,
  });
  return {
    putProductDocument: documents.put,
    getProductDocument: documents.get,
    openProductDocumentContent: documents.open,
    listProductDocuments: documents.list,
  };
}
