/**
 * A mirrored recall for the desk page's tests: a lot recalled after it was split twice and handed on, a second,
 * later recall, and holders with and without an acknowledgement; one participant's name is an XSS payload. The app
 * mounts sign-in, the desk page and the passport's static files (the page's script imports ethers from there).
 */
import { Wallet } from "ethers";
import { createAuthModule } from "../../../backend/auth/auth-routes.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { createRecallDeskPageModule, type RecallDeskPageOptions } from "../../../backend/desk/desk-module.ts";
import type { Hex, Participant } from "../../../backend/domain/model.ts";
import { assetRoutes } from "../../../backend/passport/asset-routes.ts";
import { recallAcknowledgementText } from "../../../backend/recalls/acknowledgement.ts";
import { createRecallDesk, type RecallDesk } from "../../../backend/recalls/recall-desk.ts";
import { CHAIN_ID, ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

export const GTIN = "09506000134352";
/** Onboarded under this label, the participant's name is `${XSS_LABEL} Ltd`. */
export const XSS_LABEL = `<img src=x onerror="alert(1)">'&`;

export interface DeskWorld {
  t: TestApp;
  desk: RecallDesk;
  history: ChainHistory;
  ids: { root: Hex; childA: Hex; childB: Hex; grandchild: Hex; later: Hex };
  accounts: { acme: Hex; regulator: Hex; swift: Hex; xss: Hex };
  /** Holds the grandchild; it acknowledged the first recall. */
  shop: Wallet;
  /** Holds childB, through the participant named XSS_LABEL; not acknowledged. */
  warehouse: Wallet;
  /** A REGULATOR participant whose key the test holds (the browser test signs in with it). */
  regulatorWallet: Wallet;
  /** A `Cookie` header value for a session of `address`. */
  cookieFor(address: string): string;
}

export async function createDeskWorld(options: { productData?: RecallDeskPageOptions["productData"] } = {}): Promise<DeskWorld> {
  const history = new ChainHistory();
  const shop = new Wallet(Wallet.createRandom().privateKey);
  const warehouse = new Wallet(Wallet.createRandom().privateKey);
  const regulatorWallet = new Wallet(Wallet.createRandom().privateKey);
  const lower = (wallet: Wallet) => wallet.address.toLowerCase() as Hex;
  const acme = history.onboard("acme", "MANUFACTURER");
  const swift = history.onboard("swift", "CARRIER");
  const regulator = history.onboard("regulator", "REGULATOR");
  const xss = history.onboard(XSS_LABEL, "RETAILER");
  const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "R-1", quantity: 1_000 });
  history.handOver(root, acme, swift);
  history.handOver(root, swift, lower(warehouse));
  const [childA, childB] = history.split(root, GTIN, lower(warehouse), [
    { lot: "R-1/A", quantity: 600 },
    { lot: "R-1/B", quantity: 400 },
  ]) as [Hex, Hex];
  history.handOver(childA, lower(warehouse), lower(shop));
  history.handOver(childB, lower(warehouse), xss);
  const [grandchild] = history.split(childA, GTIN, lower(shop), [{ lot: "R-1/A/1", quantity: 600 }]) as [Hex];
  history.recall(root, regulator);
  const later = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "L-2", quantity: 50 });
  history.recall(later, regulator);

  const store = await createMemoryStore();
  const desk = createRecallDesk({ store, chainId: CHAIN_ID });
  const t = await createTestApp({
    store,
    modules: (auth) => [
      createAuthModule({ service: auth, secureCookie: false }),
      createRecallDeskPageModule({ desk, auth, store, ...(options.productData ? { productData: options.productData } : {}) }),
      routeModuleFromTable("", assetRoutes({})),
    ],
  });
  await history.mirrorInto(store);
  const onboarded = (await store.getParticipants([regulator]))[0]!;
  const regulatorParticipant: Participant = {
    ...onboarded,
    address: lower(regulatorWallet),
    participantId: 99,
    name: "Food Safety Authority",
  };
  await store.commitRange({
    chainId: CHAIN_ID,
    events: [],
    blocks: [],
    batches: [],
    participants: [regulatorParticipant],
    orders: [],
    checkpoint: { chainId: CHAIN_ID, blockNumber: history.headBlock, blockHash: null, updatedAt: Date.now() },
  });

  const acknowledgedAt = Date.now();
  const text = recallAcknowledgementText({ batchId: root, holder: lower(shop), chainId: CHAIN_ID, acknowledgedAt });
  await desk.acknowledge(root, { holder: lower(shop), acknowledgedAt, signature: (await shop.signMessage(text)) as Hex });

  return {
    t,
    desk,
    history,
    ids: { root, childA, childB, grandchild, later },
    accounts: { acme, regulator, swift, xss },
    shop,
    warehouse,
    regulatorWallet,
    cookieFor: (address) => `provena_session=${t.sessionFor(address).slice("Bearer ".length)}`,
  };
}
