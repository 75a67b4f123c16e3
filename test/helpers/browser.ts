/**
 * Headless Chromium for the browser tests: where it is, how it is launched, and a test wallet for pages that sign in.
 */
import { getBytes } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium unless CHROMIUM_PATH names another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/**
 * Gives the page an EIP-1193 `window.ethereum` for `wallet`: accounts answer its address in lower case (as MetaMask
 * does, so the page must checksum it), personal_sign is signed in Node by the wallet. The provider is a string, not a
 * function: the TypeScript loader would add helpers to a function's source that the page does not have.
 */
export async function injectWallet(
  page: Page,
  wallet: { address: string; signMessage(message: Uint8Array): Promise<string> },
): Promise<void> {
  // personal_sign hands over the message as hex of its UTF-8 bytes: the wallet signs exactly those bytes.
  await page.exposeFunction("testWalletSign", (hex: string) => wallet.signMessage(getBytes(hex)));
  await page.addInitScript(`window.ethereum = {
  request: async ({ method, params }) => {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [${JSON.stringify(wallet.address.toLowerCase())}];
    if (method === "personal_sign") return window.testWalletSign(String(params[0]));
    throw new Error("unsupported method " + method);
  },
};`);
}
