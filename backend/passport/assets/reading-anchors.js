// @ts-check
/**
 * The passport's check of cold-chain readings against the roots anchored on chain, trusting nobody but the chain:
 * for each leg the page shows, the readings the API lists are grouped by the root they claim, each group is rebuilt
 * into OpenZeppelin's StandardMerkleTree over [bytes32 readingHash] (readingHash = the EIP-712 struct hash of
 * IColdChain.Reading, as ColdChain.hashReading computes it), and the rebuilt root must be the root of a
 * ReadingsAnchored log of that leg on the cold-chain contract, with the log's count and window. The cold-chain
 * contract must name the registry the passport is verified against, and each leg must be on one of the passport's
 * lots. Shared by the browser (passport.js) and the tests: no imports, the caller passes in ethers. What did not
 * match is reported as findings (a message code and its parameters, as verify-core.js does), said by the caller in
 * its reader's language.
 */

/** What the check reads from ColdChain. */
export const COLD_CHAIN_ABI = [
  "function registry() view returns (address)",
  "function leg(bytes32 legId) view returns (address device, bytes32 batchId, address carrier, uint40 attachedAt, uint40 detachedAt, uint32 excursionSeconds, bool breached)",
  "event ReadingsAnchored(bytes32 indexed legId, bytes32 indexed root, address indexed anchoredBy, uint32 count, uint64 firstSequence, uint64 lastSequence, uint40 fromTime, uint40 toTime)",
];

/** IColdChain's EIP-712 Reading type. */
export const READING_TYPES = {
  Reading: [
    { name: "device", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "sequence", type: "uint64" },
    { name: "timestamp", type: "uint40" },
    { name: "temperature", type: "int16" },
    { name: "humidity", type: "uint16" },
    { name: "latitude", type: "int32" },
    { name: "longitude", type: "int32" },
  ],
};

/** Most readings one check fetches over all legs. */
export const MAX_CHECKED_READINGS = 5_000;

/**
 * @typedef {{ device: string, batchId: string, sequence: number, timestamp: number, temperature: number,
 *   humidity: number, latitude: number, longitude: number, legId: string,
 *   anchor: { root: string, blockNumber: number } | null }} ListedReading
 * @typedef {{ legId: string, readings: ListedReading[], complete: boolean }} ListedLeg
 * @typedef {{ code: string, params: Record<string, string | number> }} ReadingFinding
 * @typedef {{ readings: number, roots: number, unanchored: number, failures: ReadingFinding[], partial: boolean }} ReadingCheck
 */

/**
 * The root of OpenZeppelin's StandardMerkleTree over `[bytes32 value]` leaves (sorted leaves, sorted pairs).
 * @param {any} ethers @param {string[]} values
 */
export function standardTreeRoot(ethers, values) {
  const coder = ethers.AbiCoder.defaultAbiCoder();
  const leaves = values.map((value) => String(ethers.keccak256(ethers.keccak256(coder.encode(["bytes32"], [value])))).toLowerCase()).sort();
  const tree = new Array(2 * leaves.length - 1);
  leaves.forEach((leaf, index) => {
    tree[tree.length - 1 - index] = leaf;
  });
  for (let i = tree.length - 1 - leaves.length; i >= 0; i--) {
    const pair = [tree[2 * i + 1], tree[2 * i + 2]].sort();
    tree[i] = String(ethers.keccak256(ethers.concat(pair))).toLowerCase();
  }
  return tree[0];
}

/** @param {any} ethers @param {ListedReading} reading */
export function readingHashOf(ethers, reading) {
  const { device, batchId, sequence, timestamp, temperature, humidity, latitude, longitude } = reading;
  return String(
    ethers.TypedDataEncoder.hashStruct("Reading", READING_TYPES, {
      device,
      batchId,
      sequence,
      timestamp,
      temperature,
      humidity,
      latitude,
      longitude,
    }),
  ).toLowerCase();
}

/** A leg's readings could not be listed; `finding` says so (message code and parameters). */
export class ReadingsUnavailableError extends Error {
  /** @param {string} legId @param {number} status */
  constructor(legId, status) {
    super("verify.readings.legUnavailable");
    this.name = "ReadingsUnavailableError";
    this.finding = { code: "verify.readings.legUnavailable", params: { leg: legId, status: String(status) } };
  }
}

/**
 * A leg's readings as the API lists them (with their anchors), at most `max`.
 * @param {{ fetch: typeof fetch, apiBase: string, legId: string, max: number }} input
 * @returns {Promise<ListedLeg>}
 */
export async function fetchLegReadings({ fetch, apiBase, legId, max }) {
  /** @type {ListedReading[]} */ const readings = [];
  let cursor = null;
  do {
    const url = new URL(`api/v1/legs/${legId}/readings`, apiBase);
    url.searchParams.set("limit", String(Math.min(500, Math.max(1, max - readings.length))));
    if (cursor !== null) url.searchParams.set("cursor", cursor);
    const response = await fetch(url.href, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new ReadingsUnavailableError(legId, response.status);
    const page = await response.json();
    readings.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor !== null && readings.length < max);
  return { legId, readings, complete: cursor === null };
}

/**
 * Checks listed readings against the roots on chain.
 * @param {{ ethers: any, rpc: (method: string, params: unknown[]) => Promise<any>, coldChain: string, registry: string,
 *   batchIds: string[], legs: ListedLeg[] }} input
 * @returns {Promise<ReadingCheck>}
 */
export async function checkReadingAnchors({ ethers, rpc, coldChain, registry, batchIds, legs }) {
  const contract = coldChain.toLowerCase();
  const abi = new ethers.Interface(COLD_CHAIN_ABI);
  /** @param {string} name @param {unknown[]} args */
  const call = async (name, args) =>
    abi.decodeFunctionResult(name, await rpc("eth_call", [{ to: contract, data: abi.encodeFunctionData(name, args) }, "latest"]));
  /** @type {ReadingFinding[]} */ const failures = [];
  const fail = (/** @type {string} */ code, /** @type {Record<string, string | number>} */ params) => failures.push({ code, params });
  const result = { readings: 0, roots: 0, unanchored: 0, failures, partial: legs.some((leg) => !leg.complete) };

  const [namedRegistry] = await call("registry", []);
  if (String(namedRegistry).toLowerCase() !== registry.toLowerCase()) {
    fail("verify.readings.otherRegistry", { contract, named: String(namedRegistry).toLowerCase(), registry: registry.toLowerCase() });
    return result;
  }
  const lots = new Set(batchIds.map((id) => id.toLowerCase()));
  const anchoredEvent = abi.getEvent("ReadingsAnchored");
  for (const leg of legs) {
    const [device, batchId] = await call("leg", [leg.legId]);
    if (!lots.has(String(batchId).toLowerCase())) {
      fail("verify.readings.legOtherBatch", { leg: leg.legId, batch: String(batchId).toLowerCase() });
      continue;
    }
    /** @type {Map<string, ListedReading[]>} */ const byRoot = new Map();
    for (const reading of leg.readings) {
      if (
        reading.device.toLowerCase() !== String(device).toLowerCase() ||
        reading.batchId.toLowerCase() !== String(batchId).toLowerCase()
      ) {
        fail("verify.readings.notFromLeg", { sequence: String(reading.sequence), leg: leg.legId });
      } else if (reading.anchor === null) {
        result.unanchored += 1;
      } else {
        const root = reading.anchor.root.toLowerCase();
        byRoot.set(root, [...(byRoot.get(root) ?? []), reading]);
      }
    }
    const lastListed = leg.readings.at(-1)?.sequence ?? -1;
    for (const [root, claimed] of byRoot) {
      const blockNumber = ethers.toQuantity(claimed[0].anchor?.blockNumber ?? 0);
      const logs = await rpc("eth_getLogs", [
        { address: contract, fromBlock: blockNumber, toBlock: blockNumber, topics: [anchoredEvent.topicHash, leg.legId, root] },
      ]);
      const anchors = /** @type {any[]} */ (logs)
        .filter((log) => !log.removed && String(log.address).toLowerCase() === contract)
        .map((log) => abi.parseLog({ topics: log.topics, data: log.data }).args);
      if (anchors.length === 0) {
        fail("verify.readings.rootNotAnchored", { root, leg: leg.legId, block: String(Number(blockNumber)), claiming: claimed.length });
        continue;
      }
      const window = anchors[0];
      const [first, last, from, to] = [window.firstSequence, window.lastSequence, window.fromTime, window.toTime].map(Number);
      if (!leg.complete && last > lastListed) continue; // its readings are not all listed: not judged
      const inWindow = leg.readings.filter((r) => r.sequence >= first && r.sequence <= last && r.timestamp >= from && r.timestamp <= to);
      const outside = claimed.filter((reading) => !inWindow.includes(reading));
      if (outside.length > 0) {
        fail("verify.readings.outsideWindow", { sequences: outside.map((r) => r.sequence).join(", "), leg: leg.legId, root });
      }
      if (inWindow.length !== Number(window.count)) {
        fail("verify.readings.countMismatch", { root, committed: Number(window.count), leg: leg.legId, shown: inWindow.length });
        continue;
      }
      const rebuilt = standardTreeRoot(
        ethers,
        inWindow.map((reading) => readingHashOf(ethers, reading)),
      );
      if (rebuilt !== root) {
        fail("verify.readings.notRebuilt", { shown: inWindow.length, leg: leg.legId, root });
        continue;
      }
      result.roots += 1;
      result.readings += inWindow.length;
    }
  }
  return result;
}
