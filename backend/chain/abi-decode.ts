/**
 * Decodes event logs by their ABI without ethers' per-log work: the event is looked up by topic in a map built
 * once, and values come out the way the mirror stores them (addresses and hex lower-case, never checksummed),
 * read straight from the hex strings of the JSON-RPC answer. Values match ethers' AbiCoder (which masks integers
 * to their width and reads bool as "not zero"); test/backend/chain/abi-decode.test.ts holds it to ethers'
 * Interface.parseLog for every Provena event.
 */
import type { JsonFragmentType } from "ethers";

/** An indexed dynamic value (string, bytes, array, struct): the log carries only its keccak256 hash. */
export interface IndexedHash {
  _isIndexed: true;
  hash: string;
}

export type AbiValue = string | bigint | boolean | IndexedHash | AbiValue[];

export class AbiDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AbiDecodeError";
  }
}

const WORD = 64; // hex characters in a 32-byte word

/** Decodes an event's arguments, in ABI order, from its topics (the signature topic first) and data. */
export type EventArgsDecoder = (topics: readonly string[], data: string) => AbiValue[];

/** Builds the decoder of one event from its ABI inputs, once; decoding a log then only reads hex. */
export function createEventArgsDecoder(inputs: readonly JsonFragmentType[]): EventArgsDecoder {
  const indexedCount = inputs.reduce((count, input) => count + (input.indexed ? 1 : 0), 0);
  const data = tupleCodec(inputs.filter((input) => !input.indexed));
  const parts = inputs.map((input) => {
    const codec = codecOf(input);
    // An indexed value of a dynamic or composite type is logged as its hash.
    const hashed = codec.dynamic || /^tuple|\]$/.test(input.type ?? "");
    return { indexed: input.indexed === true, hashed, codec };
  });
  return (topics, hexData) => {
    if (topics.length !== indexedCount + 1) {
      throw new AbiDecodeError(`expected ${indexedCount + 1} topics, the log has ${topics.length}`);
    }
    const fromData = data.decode(strip0x(hexData), 0) as AbiValue[];
    let topic = 1;
    let fromDataIndex = 0;
    return parts.map(({ indexed, hashed, codec }) => {
      if (!indexed) return fromData[fromDataIndex++]!;
      const word = strip0x(topics[topic++]!);
      if (word.length !== WORD) throw new AbiDecodeError("a topic is not 32 bytes");
      return hashed ? { _isIndexed: true, hash: `0x${word}` } : codec.decode(word, 0);
    });
  };
}

function strip0x(hex: string): string {
  const body = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new AbiDecodeError("not hex data");
  return body.toLowerCase();
}

interface Codec {
  /** Encoded out of line (an offset in the head, the value in the tail). */
  dynamic: boolean;
  /** Hex characters the value takes in its enclosing head (one word for a dynamic value). */
  headLength: number;
  /** Decodes the value whose encoding starts at hex offset `at` (its tail, for a dynamic value). */
  decode(hex: string, at: number): AbiValue;
}

/** A sequence of values encoded as a tuple: heads in order, dynamic values' offsets relative to its start. */
function tupleCodec(inputs: readonly JsonFragmentType[]): Codec {
  const codecs = inputs.map((input) => codecOf(input));
  const dynamic = codecs.some((codec) => codec.dynamic);
  return {
    dynamic,
    headLength: dynamic ? WORD : codecs.reduce((sum, codec) => sum + codec.headLength, 0),
    decode(hex, base) {
      let head = base;
      return codecs.map((codec) => {
        const value = decodeAt(codec, hex, base, head);
        head += codec.headLength;
        return value;
      });
    },
  };
}

/** `length` values of one type encoded as a tuple starting at `base`. */
function decodeSequence(element: Codec, length: number, hex: string, base: number): AbiValue[] {
  const values: AbiValue[] = new Array(length);
  for (let index = 0, head = base; index < length; index++, head += element.headLength) {
    values[index] = decodeAt(element, hex, base, head);
  }
  return values;
}

function decodeAt(codec: Codec, hex: string, base: number, head: number): AbiValue {
  return codec.dynamic ? codec.decode(hex, base + 2 * readOffset(hex, head)) : codec.decode(hex, head);
}

function codecOf(input: JsonFragmentType): Codec {
  const type = input.type ?? "";
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const element = codecOf({ ...input, type: array[1], indexed: false });
    if (array[2] === "") {
      return {
        dynamic: true,
        headLength: WORD,
        decode(hex, at) {
          const length = readOffset(hex, at);
          if (length * WORD > hex.length) throw new AbiDecodeError(`array of ${length} elements runs past the data`);
          return decodeSequence(element, length, hex, at + WORD);
        },
      };
    }
    const length = Number(array[2]);
    return {
      dynamic: element.dynamic,
      headLength: element.dynamic ? WORD : length * element.headLength,
      decode: (hex, at) => decodeSequence(element, length, hex, at),
    };
  }
  if (type === "tuple") return tupleCodec(input.components ?? []);
  if (type === "string" || type === "bytes") {
    return {
      dynamic: true,
      headLength: WORD,
      decode(hex, at) {
        const length = readOffset(hex, at);
        const start = at + WORD;
        if (start + 2 * length > hex.length) throw new AbiDecodeError(`${type} of ${length} bytes runs past the data`);
        const body = hex.slice(start, start + 2 * length);
        return type === "bytes" ? `0x${body}` : UTF8.decode(Buffer.from(body, "hex"));
      },
    };
  }
  const word = (decode: (word: string) => AbiValue): Codec => ({
    dynamic: false,
    headLength: WORD,
    decode: (hex, at) => decode(readWord(hex, at)),
  });
  if (type === "address") return word((value) => `0x${value.slice(24)}`);
  if (type === "bool") return word((value) => !ZERO_WORD.test(value));
  const fixedBytes = /^bytes(\d+)$/.exec(type);
  if (fixedBytes) {
    const length = 2 * Number(fixedBytes[1]);
    return word((value) => `0x${value.slice(0, length)}`);
  }
  const integer = /^(u?)int(\d*)$/.exec(type);
  if (integer) {
    const bits = integer[2] === "" ? 256 : Number(integer[2]);
    return integer[1] === "u"
      ? word((value) => BigInt.asUintN(bits, BigInt(`0x${value}`)))
      : word((value) => BigInt.asIntN(bits, BigInt(`0x${value}`)));
  }
  throw new AbiDecodeError(`unsupported ABI type ${type}`);
}

const ZERO_WORD = /^0+$/;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function readWord(hex: string, at: number): string {
  if (at + WORD > hex.length) throw new AbiDecodeError("data too short");
  return hex.slice(at, at + WORD);
}

/** A word read as an offset or length (in bytes), refused when it could not address anything in the data. */
function readOffset(hex: string, at: number): number {
  const value = BigInt(`0x${readWord(hex, at)}`);
  if (value > BigInt(hex.length)) throw new AbiDecodeError("offset or length past the end of the data");
  return Number(value);
}
