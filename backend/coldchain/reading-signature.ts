/**
 * Checking a device's signature on a reading, fast enough for thousands of readings a second on one core.
 *
 * ecrecover in JavaScript (ethers, noble) manages a few hundred a second here. But a device signs many readings
 * with one key: the first reading of a device is checked by recovery (the recovered address must be the
 * device), and its public key is kept with a table of precomputed multiples; later readings are checked as ECDSA
 * with that key: R = u1·G + u2·Q from the base point's and the key's tables, the scalars split in halves by the
 * curve's endomorphism, summed by additions alone in Jacobian coordinates (no doubling, one inversion). The check is exactly ecrecover's: the point R = u1·G + u2·Q must have x = r and
 * the y parity `v` names, and like OpenZeppelin's ECDSA it refuses s in the upper half and v other than 27/28,
 * so every accepted signature also verifies on chain (no malleated twin can take a reading's place).
 */
import { createRequire } from "node:module";
import { secp256k1 } from "@noble/curves/secp256k1";
import { SigningKey, computeAddress } from "ethers";
import type { Hex } from "../domain/model.ts";

const { ProjectivePoint: Point, CURVE } = secp256k1;
type Point = InstanceType<typeof Point>;
const N: bigint = CURVE.n;
const HALF_N = N >> 1n;
/** Window of the per-key precomputation: 5 bits, 432 affine points, about 40 kB a key. */
const KEY_WINDOW_BITS = 5;

function modN(value: bigint): bigint {
  const result = value % N;
  return result >= 0n ? result : result + N;
}

/** value⁻¹ mod a prime modulus (extended Euclid); value is not a multiple of it. */
function invert(value: bigint, modulus: bigint): bigint {
  let t = 0n;
  let nextT = 1n;
  let r = modulus;
  let nextR = value % modulus;
  if (nextR < 0n) nextR += modulus;
  while (nextR !== 0n) {
    const quotient = r / nextR;
    const t2 = t - quotient * nextT;
    t = nextT;
    nextT = t2;
    const r2 = r - quotient * nextR;
    r = nextR;
    nextR = r2;
  }
  return t < 0n ? t + modulus : t;
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

const { splitScalar } = CURVE.endo!;
const BETA: bigint = CURVE.endo!.beta;
const P = CURVE.Fp.ORDER;
/** The halves of a scalar split by the endomorphism are at most 2^128: 129 bits. */
const HALF_BITS = 129;
/** Window of the base point's table: 12 bits, about 25,000 points (a few MB) built once per process. */
const BASE_WINDOW_BITS = 12;

/**
 * Affine multiples of a point for signed-digit windowed multiplication by a half scalar, flat:
 * x[w·2^(bits−1) + j − 1], y[…] = j·2^(w·bits)·P for j in 1..2^(bits−1), with one window more than the scalar
 * has, for the carry of its last digit.
 */
export interface WindowTable {
  bits: number;
  x: bigint[];
  y: bigint[];
}

export function windowTable(point: Point, bits: number): WindowTable {
  const count = Math.ceil(HALF_BITS / bits) + 1;
  const points: Point[] = [];
  let base = point;
  for (let window = 0; window < count; window++) {
    let multiple = base;
    points.push(multiple);
    for (let j = 2; j <= 2 ** (bits - 1); j++) points.push((multiple = multiple.add(base)));
    base = multiple.double(); // 2^(bits−1)·base doubled: 2^bits·base
  }
  const affine = Point.normalizeZ(points).map((multiple) => multiple.toAffine());
  return { bits, x: affine.map((a) => a.x), y: affine.map((a) => a.y) };
}

const fieldSub = (a: bigint, b: bigint) => (a >= b ? a - b : a - b + P);

/**
 * The accumulator of linearCombination in Jacobian coordinates (x = X/Z², y = Y/Z³; Z = 0 is infinity), kept in
 * module variables so that adding a point allocates nothing but the numbers.
 */
let X: bigint = 0n;
let Y: bigint = 0n;
let Z: bigint = 0n;

function doubleAccumulator(): void {
  // dbl-2009-l (a = 0)
  const a = (X * X) % P;
  const b = (Y * Y) % P;
  const c = (b * b) % P;
  const xb = X + b;
  const d = (2n * fieldSub((xb * xb) % P, (a + c) % P)) % P;
  const e = (3n * a) % P;
  const f = (e * e) % P;
  const x3 = fieldSub(f, (2n * d) % P);
  const y3 = fieldSub((e * fieldSub(d, x3)) % P, (8n * c) % P);
  Z = (2n * Y * Z) % P;
  X = x3;
  Y = y3;
}

/** accumulator += (x2, y2), an affine point (madd-2004-hmv, and its special cases). */
function addAffine(x2: bigint, y2: bigint): void {
  if (Z === 0n) {
    X = x2;
    Y = y2;
    Z = 1n;
    return;
  }
  const zz = (Z * Z) % P;
  const h = fieldSub((x2 * zz) % P, X);
  const r = fieldSub((((y2 * zz) % P) * Z) % P, Y);
  if (h === 0n) {
    if (r === 0n) doubleAccumulator();
    else Z = 0n; // the point's negation: infinity
    return;
  }
  const hh = (h * h) % P;
  const hhh = (hh * h) % P;
  const xhh = (X * hh) % P;
  const x3 = fieldSub(fieldSub((r * r) % P, hhh), (2n * xhh) % P);
  Y = fieldSub((r * fieldSub(xhh, x3)) % P, (Y * hhh) % P);
  X = x3;
  Z = (Z * h) % P;
}

/**
 * accumulator += ±k·P or ±k·φ(P) from P's table (k < 2^129), where φ(x, y) = (β·x, y) = λ·(x, y). Not in constant
 * time: verification handles only public values, so the time it takes leaks nothing. No doubling at all.
 */
function addMultiple({ bits, x, y }: WindowTable, k: bigint, negative: boolean, endomorphism: boolean): void {
  const mask = BigInt(2 ** bits - 1);
  const half = 2 ** (bits - 1);
  const full = 2 ** bits;
  const shift = BigInt(bits);
  for (let offset = 0; k > 0n; offset += half) {
    let digit = Number(k & mask);
    k >>= shift;
    if (digit > half) {
      digit -= full;
      k += 1n;
    }
    if (digit === 0) continue;
    const index = offset + Math.abs(digit) - 1;
    const px = endomorphism ? (x[index]! * BETA) % P : x[index]!;
    addAffine(px, digit < 0 !== negative ? P - y[index]! : y[index]!);
  }
}

let baseTable: WindowTable | undefined;

/**
 * The affine x and y of u1·G + u2·Q, or null for infinity. Each scalar is split by the endomorphism into two
 * halves of at most 129 bits, u = k1 + λ·k2, so u·P = k1·P + k2·φ(P): four table walks into one accumulator.
 */
export function linearCombination(u1: bigint, u2: bigint, key: WindowTable): { x: bigint; y: bigint } | null {
  baseTable ??= windowTable(Point.BASE, BASE_WINDOW_BITS);
  const a = splitScalar(u1);
  const b = splitScalar(u2);
  X = Y = Z = 0n;
  addMultiple(baseTable, a.k1, a.k1neg, false);
  addMultiple(baseTable, a.k2, a.k2neg, true);
  addMultiple(key, b.k1, b.k1neg, false);
  addMultiple(key, b.k2, b.k2neg, true);
  if (Z === 0n) return null;
  const zInverse = invert(Z, P);
  const zz = (zInverse * zInverse) % P;
  return { x: (X * zz) % P, y: (((Y * zz) % P) * zInverse) % P };
}

/** The part of the `secp256k1` package (libsecp256k1 bindings) used here. */
interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

let native: NativeSecp256k1 | null | undefined;

/**
 * libsecp256k1 through the prebuilt native binding of the optional `secp256k1` package, when it is installed:
 * recovery in tens of microseconds, ten times the table walk. Its own pure-JavaScript fallback (elliptic) is
 * never taken, being slower than the table walk.
 */
export function nativeSecp256k1(): NativeSecp256k1 | null {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
    } catch {
      native = null;
    }
  }
  return native;
}

function jsCheck(maxKeys: number): ReadingSignatureCheck {
  // Insertion order is use order (re-inserted on each hit), so the first key is the least recently used.
  const keys = new Map<Hex, WindowTable>();

  const remember = (device: Hex, publicKey: string) => {
    keys.set(device, windowTable(Point.fromHex(publicKey.slice(2)), KEY_WINDOW_BITS));
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
      const inverse = invert(parsed.s, N);
      const z = modN(BigInt(digest));
      const point = linearCombination(modN(z * inverse), modN(parsed.r * inverse), key);
      return point !== null && point.x === parsed.r && Number(point.y & 1n) === parsed.yParity;
    },
  };
}

/** Recovery by libsecp256k1 with recid = the y parity (x = r exactly, as ecrecover); a device's key is compared. */
function nativeCheck(secp: NativeSecp256k1, maxKeys: number): ReadingSignatureCheck {
  const keys = new Map<Hex, Buffer>();
  return {
    signedBy(digest, signature, device) {
      const parsed = parseSignature(signature);
      if (parsed === null || !/^0x[0-9a-f]{64}$/i.test(digest)) return false;
      let publicKey: Buffer;
      try {
        publicKey = Buffer.from(
          secp.ecdsaRecover(Buffer.from(signature.slice(2, 130), "hex"), parsed.yParity, Buffer.from(digest.slice(2), "hex"), false),
        );
      } catch {
        return false;
      }
      const key = keys.get(device);
      if (key !== undefined) {
        keys.delete(device);
        keys.set(device, key);
        return key.equals(publicKey);
      }
      if (computeAddress(`0x${publicKey.toString("hex")}`).toLowerCase() !== device) return false;
      keys.set(device, publicKey);
      if (keys.size > maxKeys) keys.delete(keys.keys().next().value!);
      return true;
    },
  };
}

/**
 * `implementation`: "native" (libsecp256k1; throws when the `secp256k1` package is not installed), "js" (the table
 * walk), or by default native when installed.
 */
export function createReadingSignatureCheck({
  maxKeys = 4_096,
  implementation,
}: { maxKeys?: number; implementation?: "native" | "js" } = {}): ReadingSignatureCheck {
  if (implementation === "js") return jsCheck(maxKeys);
  const secp = nativeSecp256k1();
  if (secp !== null) return nativeCheck(secp, maxKeys);
  if (implementation === "native") throw new Error("The secp256k1 package (native libsecp256k1) is not installed");
  return jsCheck(maxKeys);
}
