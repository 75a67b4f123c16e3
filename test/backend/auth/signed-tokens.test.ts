import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { createSignedTokens } from "../../../backend/auth/signed-tokens.ts";
import type { Hex } from "../../../backend/domain/model.ts";

const ADDRESS = "0x1111111111111111111111111111111111111111" as Hex;

describe("signed tokens", function () {
  let clock = 1_800_000_000_000;
  const secret = randomBytes(32);
  const tokens = () => createSignedTokens({ secret, nonceTtlMs: 600_000, now: () => clock });

  beforeEach(function () {
    clock = 1_800_000_000_000;
  });

  it("test_issueNonce_isAlphanumericAndChecksUntilItExpires", function () {
    const { nonce, expiresAt } = tokens().issueNonce();
    expect(nonce).to.match(/^[0-9a-f]{50}$/);
    expect(tokens().checkNonce(nonce)).to.deep.equal({ valid: true, expiresAt });
    clock = expiresAt;
    expect(tokens().checkNonce(nonce)).to.deep.equal({ valid: false, reason: "expired" });
  });

  it("test_checkNonce_forgedOrEditedOrOtherSecret_isNotIssuedHere", function () {
    const { nonce } = tokens().issueNonce();
    const laterExpiry = (parseInt(nonce.slice(0, 10), 16) + 86_400).toString(16).padStart(10, "0");
    expect(tokens().checkNonce(laterExpiry + nonce.slice(10)).valid).to.equal(false);
    expect(tokens().checkNonce(nonce.slice(0, 49) + (nonce[49] === "0" ? "1" : "0"))).to.deep.equal({
      valid: false,
      reason: "not-issued-here",
    });
    const other = createSignedTokens({ secret: randomBytes(32), nonceTtlMs: 600_000, now: () => clock });
    expect(other.checkNonce(nonce)).to.deep.equal({ valid: false, reason: "not-issued-here" });
    for (const malformed of ["", "abc", nonce.toUpperCase(), `${nonce}0`, "z".repeat(50)]) {
      expect(tokens().checkNonce(malformed)).to.deep.equal({ valid: false, reason: "malformed" });
    }
  });

  it("test_checkSession_roundTripsUntilExpiry", function () {
    const { token, claims } = tokens().issueSession(ADDRESS, clock + 60_000);
    expect(tokens().checkSession(token)).to.deep.equal(claims);
    clock += 60_000;
    expect(tokens().checkSession(token)).to.equal(null);
  });

  it("test_checkSession_tamperedAddressOrExpiryOrNonceAsSession_isRefused", function () {
    const { token } = tokens().issueSession(ADDRESS, clock + 60_000);
    const parts = token.split(".");
    const otherAddress = [parts[0], "2".repeat(40), ...parts.slice(2)].join(".");
    const longerExpiry = [...parts.slice(0, 3), (clock + 10 ** 9).toString(36), parts[4]].join(".");
    expect(tokens().checkSession(otherAddress)).to.equal(null);
    expect(tokens().checkSession(longerExpiry)).to.equal(null);
    expect(tokens().checkSession(tokens().issueNonce().nonce)).to.equal(null);
    expect(tokens().checkSession(`${token}x`)).to.equal(null);
  });

  it("test_createSignedTokens_shortSecret_throws", function () {
    expect(() => createSignedTokens({ secret: randomBytes(31), nonceTtlMs: 1 })).to.throw(RangeError, /at least 32 bytes/);
  });
});
