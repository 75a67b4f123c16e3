/**
 * A passport with something for each role, for the signed-in passport's tests: lot SIGN-1 made by Acme, held by a
 * carrier that is now suspended, then Swift, then the partner; its batch data has a public name, a partners' field
 * (the facility) and an authorities' field (compliance documents); its documents are one public, one for partners,
 * one for authorities, all anchored. Lot OTHER-1 of the same GTIN went to the outsider, a partner of that batch only.
 * Everyone whose key the browser test needs is a Wallet. The app mounts sign-in, the passport (with sign-in) and the
 * documents API, as main does.
 */
import { Wallet } from "ethers";
import { createAuthModule } from "../../../backend/auth/auth-routes.ts";
import type { Viewer } from "../../../backend/auth/auth-service.ts";
import { createDocumentModule } from "../../../backend/documents/document-routes.ts";
import { createBatchDocumentService } from "../../../backend/documents/document-service.ts";
import type { Hex, Participant } from "../../../backend/domain/model.ts";
import { createPassportModule, type PassportModule } from "../../../backend/passport/passport-module.ts";
import { createProductDataService } from "../../../backend/product-data/product-data-service.ts";
import { CHAIN_ID, ChainHistory, REGISTRY_ADDRESS } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";
import { silentLogger } from "./fixture.ts";

export const GTIN = "09506000134352";
export const PUBLIC_NAME = "Sign-in Olive Oil";
export const PARTNER_FACILITY = "Secret Press No. 7";
export const AUTHORITY_DOSSIER = "Residue dossier for the authority";
export const PUBLIC_DOCUMENT = "Declaration of conformity (public)";
export const PARTNER_DOCUMENT = "Pallet certificate for partners";
export const AUTHORITY_DOCUMENT = "Lab report for authorities";
/** Every private string the page might show: none may appear on a public page. */
export const PRIVATE_STRINGS = [PARTNER_FACILITY, AUTHORITY_DOSSIER, PARTNER_DOCUMENT, AUTHORITY_DOCUMENT];

export interface SignInWorld {
  t: TestApp;
  /** The mounted passport module (its view cache). */
  passport: PassportModule;
  history: ChainHistory;
  batch: { batchId: Hex; lot: string };
  other: { batchId: Hex; lot: string };
  /** The partner (RETAILER) in SIGN-1's chain of custody. */
  partner: Wallet;
  /** A RETAILER that held OTHER-1 (same GTIN), never SIGN-1. */
  outsider: Wallet;
  /** A CARRIER that held SIGN-1 and was suspended since. */
  suspended: Wallet;
  regulator: Wallet;
  /** The manufacturer (a label address: tests sign it in with cookieFor). */
  acme: Hex;
  /** Replaces the mirror's record of `address` with it suspended (or active again), as the indexer would. */
  setSuspended(address: string, suspended: boolean): Promise<void>;
  documents: { partner: Hex; authorities: Hex };
  /** A `Cookie` header value for a real session of `address` (expiring at `expiresAt`, default in an hour). */
  cookieFor(address: string, expiresAt?: number): string;
}

const lower = (wallet: Wallet) => wallet.address.toLowerCase() as Hex;

export async function createSignInWorld(): Promise<SignInWorld> {
  const history = new ChainHistory();
  const partner = new Wallet(Wallet.createRandom().privateKey);
  const outsider = new Wallet(Wallet.createRandom().privateKey);
  const suspended = new Wallet(Wallet.createRandom().privateKey);
  const regulator = new Wallet(Wallet.createRandom().privateKey);
  const acme = history.onboard("acme", "MANUFACTURER");
  const swift = history.onboard("swift", "CARRIER");
  const retailerTemplate = history.onboard("retailer", "RETAILER");
  const carrierTemplate = history.onboard("carrier", "CARRIER");
  const regulatorTemplate = history.onboard("regulator", "REGULATOR");
  const batchId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "SIGN-1", quantity: 100 });
  history.handOver(batchId, acme, lower(suspended));
  history.handOver(batchId, lower(suspended), swift);
  history.handOver(batchId, swift, lower(partner));
  const otherId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "OTHER-1", quantity: 10 });
  history.handOver(otherId, acme, lower(outsider));

  const store = await createMemoryStore();
  await history.mirrorInto(store);
  // The wallets' participants: copies of onboarded ones under the wallets' addresses (ChainHistory onboards labels).
  const templates = new Map(
    (await store.getParticipants([retailerTemplate, carrierTemplate, regulatorTemplate])).map((p) => [p.address, p]),
  );
  const as = (template: Hex, wallet: Wallet, participantId: number, name: string, isSuspended = false): Participant => ({
    ...templates.get(template)!,
    address: lower(wallet),
    participantId,
    name,
    suspended: isSuspended,
  });
  await store.commitRange({
    chainId: CHAIN_ID,
    events: [],
    blocks: [],
    batches: [],
    participants: [
      as(retailerTemplate, partner, 101, "Lisbon Grocer"),
      as(retailerTemplate, outsider, 102, "Other Batch Shop"),
      as(carrierTemplate, suspended, 103, "Suspended Haulage", true),
      as(regulatorTemplate, regulator, 104, "Food Safety Authority"),
    ],
    orders: [],
    checkpoint: { chainId: CHAIN_ID, blockNumber: history.headBlock, blockHash: null, updatedAt: Date.now() },
  });

  // Acme publishes the batch data and the documents, as the API would take them from its session.
  const acmeViewer: Viewer = {
    signedIn: true,
    address: acme,
    roles: ["MANUFACTURER"],
    participant: null,
    sessionExpiresAt: Date.now() + 3_600_000,
    readGrantsFrom: [],
  };
  const productData = createProductDataService({ store });
  const uploaded = await productData.upload(
    acmeViewer,
    { kind: "batch", batchId },
    {
      name: { en: PUBLIC_NAME, zh: "登录橄榄油" },
      facility: { name: PARTNER_FACILITY, address: "Rua <b>Secreta</b> 1, Porto" },
      complianceDocuments: [{ title: AUTHORITY_DOSSIER, sha256: "ab".repeat(32), url: "https://docs.example/dossier.pdf" }],
    },
  );
  history.publishBatchData(batchId, acme, uploaded.contentHash);
  const documentService = createBatchDocumentService({ store });
  const hashes: Record<string, Hex> = {};
  for (const [audience, title] of [
    ["public", PUBLIC_DOCUMENT],
    ["partners", PARTNER_DOCUMENT],
    ["authorities", AUTHORITY_DOCUMENT],
  ] as const) {
    const { document } = await documentService.upload(acmeViewer, {
      batchId,
      kind: "certificate",
      audience,
      title,
      mediaType: "text/plain",
      content: Buffer.from(`${title}: the text of it.\n`),
    });
    history.anchorBatchDocument(batchId, acme, document.contentHash);
    hashes[audience] = document.contentHash;
  }
  await history.mirrorInto(store);

  let passport: PassportModule | undefined;
  const t = await createTestApp({
    store,
    modules: (auth) => [
      createAuthModule({ service: auth, secureCookie: false }),
      (passport = createPassportModule({
        store,
        chain: {} as never,
        logger: silentLogger(),
        config: {
          publicBaseUrl: "http://127.0.0.1",
          publicRpcUrl: "http://127.0.0.1/rpc",
          chainId: CHAIN_ID,
          registryAddress: REGISTRY_ADDRESS,
        },
        auth,
      })),
      createDocumentModule({ service: documentService, auth }),
    ],
  });
  return {
    t,
    passport: passport!,
    history,
    batch: { batchId, lot: "SIGN-1" },
    other: { batchId: otherId, lot: "OTHER-1" },
    partner,
    outsider,
    suspended,
    regulator,
    acme,
    async setSuspended(address, isSuspended) {
      const [current] = await store.getParticipants([address.toLowerCase() as Hex]);
      await store.commitRange({
        chainId: CHAIN_ID,
        events: [],
        blocks: [],
        batches: [],
        participants: [{ ...current!, suspended: isSuspended }],
        orders: [],
        checkpoint: { chainId: CHAIN_ID, blockNumber: history.headBlock, blockHash: null, updatedAt: Date.now() },
      });
    },
    documents: { partner: hashes.partners!, authorities: hashes.authorities! },
    cookieFor: (address, expiresAt) => `provena_session=${t.sessionFor(address, expiresAt).slice("Bearer ".length)}`,
  };
}
