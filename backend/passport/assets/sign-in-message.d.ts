// Types of sign-in-message.js (plain JavaScript so that browsers run it unchanged; see that file).

export function signInMessage(
  challenge: { domain: string; uri: string; chainId: number; statement: string; nonce: string },
  address: string,
  issuedAt: string,
): string;
