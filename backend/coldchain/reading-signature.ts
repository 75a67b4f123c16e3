/**
 * Checking a device's signature on a reading, fast enough for thousands of readings a second on one core.
 *
 * ecrecover in JavaScript (ethers, noble) manages a few hundred a second here. But a device signs many readings
 * with one key: the first reading of a device is checked by recovery (the recovered address must be the
 * device), and its public key is kept with precomputed multiples; later readings are checked as ECDSA with that
 * key, about ten times faster. The check is exactly ecrecover's: the point R = u1·G + u2·Q must have x = r and
 * the y parity `v` names, and like OpenZeppelin's ECDSA it refuses s in the upper half and v other than 27/28,
 * so every accepted signature also verifies on chain (no malleated twin can take a reading's place).
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { SigningKey, computeAddress } from "ethers";
import type { Hex } from "../domain/model.ts";

const { ProjectivePoint: Point, CURVE } = secp256k1;
type Point = InstanceType<typeof Point>;
const N = CURVE.n;
const HALF_N = N >> 1n;
/** Window of the per-key precomputation: 4 bits keep a key's table near 50 kB. */
const KEY_WINDOW_BITS = 4;

function modN(value: bigint): bigint {
  const result = value % N;
  return result >= 0n ? result : result + N;
}

function invertModN(value: bigint): bigint {
  let [t, nextT, r, nextR] = [0n, 1n, N, modN(value)];
  while (nextR !== 0n) {
    const quotient = r / nextR;
    [t, nextT] = [nextT, t - quotient * nextT];
    [r, nextR] = [nextR, r - quotient * nextR];
  }
  return modN(t);
}

interface ParsedSignature {
  r: bigint;
  s: bigint;
  yParity: 0 | 1;
}

/** r, s, v of a 65-byte signature in Ethereum's form; null unless OpenZeppelin's ECDSA.recover would take it. */
export function parseSignature(signature: Hex): ParsedSignature | null {
  if (!/^0x[0-9a-f]{130}$/i.test(signature)) return null;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (r === 0n || r >= N || s === 0n || s > HALF_N || (v !== 27 && v !== 28)) return null;
  return { r, s, yParity: v === 27 ? 0 : 1 };
}

export interface ReadingSignatureCheck {
  /** True when `signature` over `digest` recovers to `device` (lower-case address). */
  signedBy(digest: Hex, signature: Hex, device: Hex): boolean;
}

export function createReadingSignatureCheck({ maxKeys = 4_096 }: { maxKeys?: number } = {}): ReadingSignatureCheck {
  // Insertion order is use order (re-inserted on each hit), so the first key is the least recently used.
  const keys = new Map<Hex, Point>();

  const remember = (device: Hex, publicKey: string) => {
    const point = Point.fromHex(publicKey.slice(2));
    // Precomputed multiples for multiply(), which (unlike multiplyUnsafe in @noble/curves 1.9) uses them correctly.
    (point as unknown as { _setWindowSize(bits: number): void })._setWindowSize(KEY_WINDOW_BITS);
    keys.set(device, point);
    if (keys.size > maxKeys) keys.delete(keys.keys().next().value!);
  };

  return {
    signedBy(digest, signature, device) {
      const parsed = parseSignature(signature);
      if (parsed === null) return false;
      const key = keys.get(device);
      if (key === undefined) {
        let publicKey: string;
        try {
          publicKey = SigningKey.recoverPublicKey(digest, signature);
        } catch {
          return false;
        }
        if (computeAddress(publicKey).toLowerCase() !== device) return false;
        remember(device, publicKey);
        return true;
      }
      keys.delete(device);
      keys.set(device, key);
      const inverse = invertModN(parsed.s);
      const z = modN(BigInt(digest));
      const u1 = modN(z * inverse);
      const point = (u1 === 0n ? Point.ZERO : Point.BASE.multiply(u1)).add(key.multiply(modN(parsed.r * inverse)));
      if (point.equals(Point.ZERO)) return false;
      const affine = point.toAffine();
      return affine.x === parsed.r && Number(affine.y & 1n) === parsed.yParity;
    },
  };
}
