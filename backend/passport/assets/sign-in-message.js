// The EIP-4361 (Sign-In with Ethereum) message the backend checks, built from its challenge
// (GET /api/v1/auth/challenge) exactly as the `siwe` library's SiweMessage.prepareMessage() builds it for the CLI
// (backend/auth/sign-in-client.ts); a test holds the two to the same text. Plain JavaScript, so browsers run it unchanged.

/**
 * @param {{ domain: string, uri: string, chainId: number, statement: string, nonce: string }} challenge
 * @param {string} address EIP-55 checksummed, as the backend's parser requires
 * @param {string} issuedAt ISO 8601
 * @returns {string}
 */
export function signInMessage(challenge, address, issuedAt) {
  return [
    `${challenge.domain} wants you to sign in with your Ethereum account:`,
    address,
    "",
    challenge.statement,
    "",
    `URI: ${challenge.uri}`,
    "Version: 1",
    `Chain ID: ${challenge.chainId}`,
    `Nonce: ${challenge.nonce}`,
    `Issued At: ${issuedAt}`,
  ].join("\n");
}
