// @ts-check
/**
 * Passport verification, trusting nobody but the chain: compares what a passport shows (its JSON-LD) with the
 * registry's own logs and state, read through a JSON-RPC endpoint. Shared, unchanged, by the passport page
 * (in the browser, with ethers' ESM build) and scripts/verify.ts (in Node, with the ethers package): no imports,
 * no build step; the caller passes in ethers, the registry ABI (from the Hardhat artifact) and the enum names.
 *
 * What is checked, all at one block (the block the mirror had indexed when the page was made, or the head):
 *  - the chain id, and the registry's stored state of the batch (status, custodian, quantity, serial root, ...);
 *  - the unit: registry.verifyUnit(batchId, serial, proof) is true for the shown serial and proof;
 *  - every shown history entry (registration, custody steps, inspections, splits, recall) is a registry log at
 *    the shown block, log index and transaction with the shown arguments and time, and no log of the batch is
 *    missing from the page;
 *  - lineage: each shown ancestor is the parent the chain's split logs name, with its registration and recall, and
 *    its custody steps and inspections before the split, checked like the batch's own (its splits into other lots
 *    are not this product's history and are neither shown nor required);
 *  - participants: the shown names and GLNs are the latest the registry logged, suspension matches the chain.
 * Events newer than the verified block are reported separately (the mirror may not have indexed them yet);
 * a newer recall is a failure, because a consumer must never miss it.
 *
 * Everything it reports (mismatches, warnings, what was checked, progress, errors) is a Finding: a message code and
 * its parameters, in no language. The page says them through its own messages, the terminal verifiers through
 * English (backend/passport/verify-url.ts), both with createFindingFormatter; the codes are keys of
 * backend/passport/messages, so a language that has every key says every finding.
 */

/** @typedef {(method: string, params: unknown[]) => Promise<any>} RpcCall */

/**
 * What the verifier found or is doing, in no language: a message code (a key of backend/passport/messages) and its
 * parameters. Callers say it in their reader's language with createFindingFormatter: the passport page through its
 * own messages, the terminal verifiers through English. Parameters are text (identifiers, addresses, blocks: shown
 * as they are), numbers (counts and sizes: formatted per language), times, nested findings and lists of these.
 * @typedef {{ code: string, params: Record<string, FindingParam> }} Finding
 * @typedef {string | number | Finding | { time: number } | { list: FindingParam[], separator: "comma" | "semicolon" }} FindingParam
 */

/**
 * @param {string} code
 * @param {Record<string, FindingParam>} [params]
 * @returns {Finding}
 */
export function finding(code, params = {}) {
  return { code, params };
}

/** @param {FindingParam[]} items @param {"comma" | "semicolon"} [separator] @returns {FindingParam} */
const listOf = (items, separator = "comma") => ({ list: items, separator });

/** An error of the verifier, carrying what went wrong as a finding; its message is the finding's code. */
export class VerifierError extends Error {
  /** @param {Finding} what @param {{ cause?: unknown }} [options] */
  constructor(what, options) {
    super(what.code, options);
    this.name = "VerifierError";
    this.finding = what;
  }
}

/**
 * What an error says, as a finding: the verifier's own errors by their code, any other (the network's, ethers') by
 * its message, which is in the language of whoever raised it.
 * @param {unknown} error
 * @returns {Finding}
 */
export function findingOfError(error) {
  if (error instanceof VerifierError) return error.finding;
  return finding("verify.error.other", { text: error instanceof Error ? error.message : String(error) });
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * Says findings in one language. `messages` holds the verifier's messages of that language (missing ones show their
 * code, so a broken table is seen rather than silently switching language); a message "code.one" (or another plural
 * category of `locale`) is preferred over "code" when the finding has a numeric `count`. Numbers and times go
 * through `number` and `time` (default: as they are, and ISO 8601, as the terminal verifiers print them).
 * @param {{ messages: Record<string, string>, locale?: string, number?: (n: number) => string, time?: (seconds: number) => string }} options
 * @returns {(what: Finding) => string}
 */
export function createFindingFormatter({ messages, locale = "en", number = String, time = isoTime }) {
  const plural = new Intl.PluralRules(locale);
  /** @param {string} key */
  const message = (key) => (typeof messages[key] === "string" ? messages[key] : undefined);
  /** @param {FindingParam} value @returns {string} */
  const say = (value) => {
    if (typeof value === "string") return value;
    if (typeof value === "number") return number(value);
    if ("list" in value) return value.list.map(say).join(message(`verify.separator.${value.separator}`) ?? ", ");
    if ("time" in value) return time(value.time);
    return format(value);
  };
  /** @param {Finding} what */
  const format = (what) => {
    const params = what.params ?? {};
    const count = params.count;
    const text =
      (typeof count === "number" ? message(`${what.code}.${plural.select(count)}`) : undefined) ?? message(what.code) ?? what.code;
    return text.replace(PLACEHOLDER, (match, name) => (name in params ? say(params[name]) : match));
  };
  return format;
}

/** An endpoint's answer larger than this is refused: a verification's reads are a few hundred kilobytes at most. */
export const MAX_RPC_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * A JSON-RPC caller over fetch. Each request is bounded in time (`timeoutMs`, and `signal` for a deadline over many
 * requests) and in size (`maxBytes`, counted while reading, so a huge answer is cut off rather than buffered), and
 * the answer must be a JSON-RPC 2.0 response to this request: anything else is a VerifierError naming the method.
 * @param {string} url
 * @param {{ fetch?: typeof fetch, timeoutMs?: number, maxBytes?: number, signal?: AbortSignal }} [options]
 * @returns {RpcCall}
 */
export function createJsonRpc(url, options = {}) {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 15000;
  const maxBytes = options.maxBytes ?? MAX_RPC_RESPONSE_BYTES;
  let id = 0;
  return async (method, params) => {
    const requestId = ++id;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const fail = (
      /** @type {string} */ code,
      /** @type {Record<string, FindingParam>} */ more = {},
      /** @type {unknown} */ cause = undefined,
    ) => new VerifierError(finding(code, { method, ...more }), cause === undefined ? undefined : { cause });
    let text;
    try {
      const response = await fetchImpl(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: requestId, method, params }),
        signal,
      });
      if (!response.ok) throw new VerifierError(finding("verify.rpc.httpStatus", { status: String(response.status) }));
      text = await readBounded(response, maxBytes);
    } catch (error) {
      if (timeout.aborted) throw fail("verify.rpc.timeout", { ms: timeoutMs }, error);
      if (options.signal?.aborted) throw fail("verify.rpc.failed", { reason: findingOfError(options.signal.reason ?? "aborted") }, error);
      throw fail("verify.rpc.failed", { reason: findingOfError(error) }, error);
    }
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw fail("verify.rpc.malformedJson");
    }
    if (!body || typeof body !== "object" || Array.isArray(body) || body.jsonrpc !== "2.0" || body.id !== requestId) {
      throw fail("verify.rpc.notResponse");
    }
    if (body.error)
      throw fail("verify.rpc.error", { message: String(body.error.message ?? "JSON-RPC error"), code: String(body.error.code) });
    if (!("result" in body)) throw fail("verify.rpc.noResult");
    return body.result;
  };
}

/**
 * The body as text, refusing it once it exceeds maxBytes (whatever Content-Length says).
 * @param {Response} response
 * @param {number} maxBytes
 */
async function readBounded(response, maxBytes) {
  const tooLarge = () => new VerifierError(finding("verify.rpc.tooLarge", { bytes: maxBytes }));
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return await response.text();
  const reader = response.body.getReader();
  /** @type {Uint8Array[]} */ const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new globalThis.TextDecoder().decode(bytes);
}

const NS = "provena:";

/**
 * Extracts what the verifier needs from a passport's JSON-LD document.
 * @param {any} doc
 */
export function claimsFromJsonLd(doc) {
  if (!doc || typeof doc !== "object") throw new VerifierError(finding("verify.claims.notJsonLd"));
  const verification = doc[`${NS}verification`];
  if (!verification || typeof verification !== "object") throw new VerifierError(finding("verify.claims.noVerification"));
  const items = doc[`${NS}history`]?.itemListElement;
  if (!Array.isArray(items)) throw new VerifierError(finding("verify.claims.noHistory"));
  const entry = (/** @type {any} */ e) => (e ? fromJsonLdEntry(e) : null);
  return {
    chainId: Number(verification.chainId),
    registry: String(verification.registry).toLowerCase(),
    rpcUrl: String(verification.rpcUrl ?? ""),
    deployBlock: Number(verification.deployBlock ?? 0),
    asOfBlock: verification.asOfBlock == null ? null : Number(verification.asOfBlock),
    batchId: String(verification.batchId).toLowerCase(),
    serial: verification.serial ?? null,
    serialRoot: String(verification.serialRoot ?? "").toLowerCase(),
    proof: Array.isArray(verification.proof) ? verification.proof : null,
    state: doc[`${NS}state`] ?? {},
    /** Whether the page says the product is recalled (its own recall or an ancestor's); null when it does not say. */
    recalled: typeof doc[`${NS}recalled`] === "boolean" ? doc[`${NS}recalled`] : null,
    product: {
      gtin: doc.gtin,
      lot: doc["gs1:hasBatchLotNumber"],
      productionDate: doc[`${NS}productionTimestamp`],
      originGln: doc[`${NS}origin`]?.globalLocationNumber,
      manufacturer: doc.manufacturer?.identifier,
    },
    history: [...items].sort((a, b) => a.position - b.position).map((item) => fromJsonLdEntry(item.item)),
    lineage: (doc[`${NS}lineage`] ?? []).map((/** @type {any} */ a) => ({
      batchId: String(a[`${NS}batchId`]).toLowerCase(),
      lot: a["gs1:hasBatchLotNumber"] == null ? null : String(a["gs1:hasBatchLotNumber"]),
      registration: entry(a[`${NS}registration`]),
      recall: entry(a[`${NS}recall`]),
      history: (Array.isArray(a[`${NS}historyBeforeSplit`]) ? a[`${NS}historyBeforeSplit`] : []).map(fromJsonLdEntry),
    })),
    participants: (doc[`${NS}participants`] ?? []).map((/** @type {any} */ p) => ({
      address: String(p.identifier).toLowerCase(),
      name: p.name,
      gln: p.globalLocationNumber,
      suspended: Boolean(p[`${NS}suspended`]),
    })),
  };
}

/** @param {any} item */
function fromJsonLdEntry(item) {
  return {
    event: String(item[`${NS}event`]),
    label: String(item.name ?? item[`${NS}event`]),
    blockNumber: Number(item[`${NS}blockNumber`]),
    logIndex: Number(item[`${NS}logIndex`]),
    transactionHash: String(item[`${NS}transactionHash`]).toLowerCase(),
    timestamp: Number(item[`${NS}timestamp`]),
    args: item[`${NS}args`] ?? {},
  };
}

/**
 * The GTIN (14 digits), lot and serial a GS1 Digital Link path names, decoded; null when the path is not one.
 * The path may sit under a prefix; the Digital Link is its tail "/01/g/10/l" or "/01/g/10/l/21/s".
 * @param {string} pathname the raw (percent-encoded) path, as in `location.pathname`
 * @returns {{ gtin: string, lot: string, serial: string | null } | null}
 */
export function digitalLinkOfPath(pathname) {
  const segments = pathname.replace(/\/+$/, "").split("/");
  for (const length of [6, 4]) {
    const tail = segments.slice(-length);
    if (tail.length !== length || tail[0] !== "01" || tail[2] !== "10" || (length === 6 && tail[4] !== "21")) continue;
    try {
      const [gtin, lot, serial] = [tail[1], tail[3], length === 6 ? tail[5] : null].map((s) => (s === null ? null : decodeURIComponent(s)));
      if (!gtin || !/^\d{8,14}$/.test(gtin) || !lot) return null;
      return { gtin: gtin.padStart(14, "0"), lot, serial: serial ?? null };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The trust anchors a printed Digital Link carries in its query string ("?chain={chainId}&registry={address}", see
 * backend/passport/digital-link.ts): the chain and registry to verify against, whatever the serving page says.
 * null when the link carries neither; throws a VerifierError when it carries one without the other or a malformed value, because a
 * half-read anchor must not silently become "no anchor".
 * @param {string} search `location.search` or a URL's `search`
 * @returns {{ chainId: number, registry: string } | null}
 */
export function trustAnchorsOfSearch(search) {
  const params = new URLSearchParams(search);
  const chain = params.get("chain");
  const registry = params.get("registry");
  if (chain === null && registry === null) return null;
  if (chain === null || !/^[1-9]\d{0,15}$/.test(chain)) {
    throw new VerifierError(
      finding("verify.link.badChain", { got: chain === null ? finding("verify.value.none") : JSON.stringify(chain) }),
    );
  }
  if (registry === null || !/^0x[0-9a-fA-F]{40}$/.test(registry)) {
    throw new VerifierError(
      finding("verify.link.badRegistry", { got: registry === null ? finding("verify.value.none") : JSON.stringify(registry) }),
    );
  }
  return { chainId: Number(chain), registry: registry.toLowerCase() };
}

const toHexQuantity = (/** @type {number} */ n) => `0x${n.toString(16)}`;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * Verifies a passport against the chain.
 * @param {{
 *   claims: ReturnType<typeof claimsFromJsonLd>,
 *   rpc: RpcCall,
 *   ethers: any,
 *   abi: any[],
 *   enums: Record<string, readonly string[]>,
 *   expected?: { chainId?: number, registry?: string, link?: { gtin: string, lot: string, serial: string | null } },
 *   onProgress?: (step: Finding) => void,
 *   head?: number,
 * }} input `head` pins the newest block read (instead of the endpoint's own head), so that several endpoints read
 *   exactly the same blocks
 */
export async function verifyPassport({ claims, rpc, ethers, abi, enums, expected = {}, onProgress = () => {}, head: pinnedHead }) {
  /** @type {Finding[]} */ const mismatches = [];
  /** @type {Finding[]} */ const warnings = [];
  /** @type {Finding[]} */ const checked = [];
  const registryInterface = new ethers.Interface(abi);
  // The registry and chain asked are the verifier's anchors when it has them, never the page's word over them.
  const registry = expected.registry === undefined ? claims.registry : expected.registry.toLowerCase();
  const chainIdAsked = expected.chainId ?? claims.chainId;
  // ethers' ParamType drops `internalType`, which says which uint8 is an enum: keep the JSON inputs by event.
  /** @type {Map<string, any[]>} */
  const jsonInputs = new Map(abi.filter((f) => f.type === "event").map((f) => [f.name, f.inputs ?? []]));
  const inputOf = (/** @type {string} */ eventName, /** @type {string} */ argName) =>
    (jsonInputs.get(eventName) ?? []).find((i) => i.name === argName);

  // Trust anchors: a verifier may pin the chain and registry instead of taking the passport's word.
  if (expected.chainId !== undefined && expected.chainId !== claims.chainId) {
    mismatches.push(finding("verify.finding.otherChain", { shown: String(claims.chainId), expected: String(expected.chainId) }));
  }
  if (expected.registry !== undefined && expected.registry.toLowerCase() !== claims.registry) {
    mismatches.push(finding("verify.finding.otherRegistry", { shown: claims.registry, expected: expected.registry.toLowerCase() }));
  }
  // A passport of another deployment is not this product's: checking it against either registry proves nothing.
  if (mismatches.length > 0) return { ok: false, blockNumber: null, mismatches, warnings, checked };

  // The passport must be the one the scanned link names: a mirror answering one product's link with another,
  // genuine, product's record would otherwise verify.
  if (expected.link !== undefined) {
    const link = expected.link;
    const linkedBatchId = String(
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [BigInt(link.gtin), link.lot])),
    ).toLowerCase();
    if (linkedBatchId !== claims.batchId) {
      mismatches.push(
        finding("verify.finding.linkOtherBatch", {
          gtin: link.gtin,
          lot: show(link.lot),
          batch: short(linkedBatchId),
          shownBatch: short(claims.batchId),
          shownGtin: claims.product.gtin ?? "?",
          shownLot: show(claims.product.lot ?? "?"),
        }),
      );
    }
    if ((link.serial ?? null) !== claims.serial) {
      const serialOf = (/** @type {string | null} */ serial) => (serial === null ? finding("verify.value.noneQuoted") : show(serial));
      mismatches.push(finding("verify.finding.linkOtherSerial", { serial: serialOf(link.serial ?? null), shown: serialOf(claims.serial) }));
    }
  }

  onProgress(finding("verify.progress.connecting"));
  const chainId = Number(BigInt(await rpc("eth_chainId", [])));
  if (chainId !== chainIdAsked) {
    mismatches.push(finding("verify.finding.endpointOtherChain", { chainId: String(chainId), asked: String(chainIdAsked) }));
    return { ok: false, blockNumber: null, mismatches, warnings, checked };
  }
  const head = pinnedHead ?? Number(BigInt(await rpc("eth_blockNumber", [])));
  const atBlock = claims.asOfBlock === null ? head : Math.min(claims.asOfBlock, head);
  if (claims.asOfBlock !== null && claims.asOfBlock > head) {
    warnings.push(finding("verify.finding.pageAheadOfChain", { block: String(claims.asOfBlock), head: String(head) }));
  }
  const blockTag = toHexQuantity(atBlock);

  /** @param {string} name @param {unknown[]} args */
  const call = async (name, args) => {
    const data = registryInterface.encodeFunctionData(name, args);
    const result = await rpc("eth_call", [{ to: registry, data }, blockTag]);
    return registryInterface.decodeFunctionResult(name, result);
  };

  // --- logs of the batch and its lineage -----------------------------------------------------------
  onProgress(finding("verify.progress.history"));
  const lineageIds = [claims.batchId, ...claims.lineage.map((a) => a.batchId)];
  const shownBlocks = [
    ...claims.history.map((e) => e.blockNumber),
    ...claims.lineage.flatMap((a) => [...(a.registration ? [a.registration.blockNumber] : []), ...a.history.map((e) => e.blockNumber)]),
  ].filter((n) => Number.isFinite(n));
  // No log of a batch precedes its registration, so the earliest shown registration bounds the query; if that
  // is a lie, the registration itself is not found and reported.
  const fromBlock = Math.max(claims.deployBlock, shownBlocks.length > 0 ? Math.min(...shownBlocks) : claims.deployBlock);
  const rawLogs = await rpc("eth_getLogs", [
    {
      address: registry,
      fromBlock: toHexQuantity(Math.min(fromBlock, atBlock)),
      toBlock: toHexQuantity(head),
      topics: [null, lineageIds.map((id) => ethers.zeroPadValue(id, 32))],
    },
  ]);
  const logs = /** @type {any[]} */ (rawLogs)
    .filter((log) => !log.removed && String(log.address).toLowerCase() === registry)
    .map((log) => {
      const parsed = registryInterface.parseLog({ topics: log.topics, data: log.data });
      return parsed
        ? {
            name: parsed.name,
            fragment: parsed.fragment,
            args: parsed.args,
            blockNumber: Number(BigInt(log.blockNumber)),
            logIndex: Number(BigInt(log.logIndex)),
            transactionHash: String(log.transactionHash).toLowerCase(),
          }
        : null;
    })
    .filter((log) => log !== null)
    .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  const key = (/** @type {{blockNumber:number, logIndex:number}} */ e) => `${e.blockNumber}:${e.logIndex}`;
  const logByKey = new Map(logs.map((log) => [key(log), log]));

  /** Logs that belong to `batchId`'s own history (its registration or split-creation included). */
  const historyLogsOf = (/** @type {string} */ batchId) =>
    logs.filter((log) => {
      if (log.name === "BatchSplit") return lower(log.args.parentId) === batchId || lower(log.args.childId) === batchId;
      return lower(log.args[0]) === batchId;
    });

  // --- block times -----------------------------------------------------------------------------------
  const blockTimes = new Map();
  const wantedBlocks = [
    ...new Set(
      [...claims.history, ...claims.lineage.flatMap((a) => [a.registration, a.recall, ...a.history])]
        .filter((e) => e)
        .map((e) => /** @type {any} */ (e).blockNumber),
    ),
  ].filter((n) => Number.isFinite(n) && n <= head);
  await Promise.all(
    wantedBlocks.map(async (n) => {
      const block = await rpc("eth_getBlockByNumber", [toHexQuantity(n), false]);
      if (block) blockTimes.set(n, Number(BigInt(block.timestamp)));
    }),
  );

  /**
   * Compares one shown entry with the chain's log at its position; returns the log or null.
   * @param {any} entry
   * @param {Finding} where
   */
  const checkEntry = (entry, where) => {
    const log = logByKey.get(key(entry));
    if (!log) {
      mismatches.push(
        finding("verify.finding.entryMissing", {
          where,
          label: entry.label,
          block: String(entry.blockNumber),
          log: String(entry.logIndex),
        }),
      );
      return null;
    }
    if (log.name !== entry.event) {
      mismatches.push(
        finding("verify.finding.entryOtherEvent", {
          where,
          label: entry.label,
          event: entry.event,
          block: String(entry.blockNumber),
          logged: log.name,
        }),
      );
      return log;
    }
    if (log.transactionHash !== entry.transactionHash) {
      mismatches.push(
        finding("verify.finding.entryOtherTransaction", {
          where,
          label: entry.label,
          block: String(entry.blockNumber),
          transaction: log.transactionHash,
          shown: entry.transactionHash,
        }),
      );
    }
    for (const [name, shown] of Object.entries(entry.args)) {
      const input = inputOf(log.name, name);
      if (!input) {
        mismatches.push(finding("verify.finding.entryUnknownField", { where, label: entry.label, field: name, event: log.name }));
        continue;
      }
      const chainValue = log.args[name];
      if (!sameValue(shown, chainValue, input, enums)) {
        mismatches.push(
          finding("verify.finding.entryOtherValue", {
            where,
            label: entry.label,
            block: String(entry.blockNumber),
            field: fieldLabel(name),
            shown: show(shown),
            chain: show(displayValue(chainValue, input, enums)),
          }),
        );
      }
    }
    const time = blockTimes.get(entry.blockNumber);
    if (time !== undefined && Number.isFinite(entry.timestamp) && time !== entry.timestamp) {
      mismatches.push(
        finding("verify.finding.entryOtherTime", {
          where,
          label: entry.label,
          shown: { time: entry.timestamp },
          block: String(entry.blockNumber),
          chain: { time },
        }),
      );
    }
    return log;
  };

  // --- the batch's own history ---------------------------------------------------------------------
  const ownLogs = historyLogsOf(claims.batchId);
  const shownKeys = new Set(claims.history.map(key));
  claims.history.forEach((entry, index) => checkEntry(entry, finding("verify.where.historyEntry", { index: String(index + 1) })));
  for (const log of ownLogs) {
    if (shownKeys.has(key(log))) continue;
    const event = loggedEvent(log, jsonInputs.get(log.name) ?? [], enums);
    if (log.blockNumber > atBlock) {
      if (log.name === "BatchRecalled") mismatches.push(finding("verify.finding.newerRecall", { event }));
      else warnings.push(finding("verify.finding.newerEvent", { event }));
    } else {
      mismatches.push(finding("verify.finding.eventNotShown", { event }));
    }
  }
  checked.push(finding("verify.checked.history", { count: claims.history.length }));

  // The registration the shown product facts (GTIN, production date, origin, manufacturer) come from.
  const rootRegistration =
    claims.lineage.length > 0
      ? claims.lineage[claims.lineage.length - 1].registration
      : (claims.history.find((e) => e.event === "BatchRegistered") ?? null);
  if (!rootRegistration || rootRegistration.event !== "BatchRegistered") {
    mismatches.push(finding("verify.finding.noRegistration"));
  } else {
    const facts = /** @type {const} */ ([
      ["gtin", claims.product.gtin],
      ["productionDate", claims.product.productionDate],
      ["originGln", claims.product.originGln],
      ["manufacturer", claims.product.manufacturer],
    ]);
    for (const [name, shown] of facts) {
      if (shown === undefined || shown === null) continue;
      if (!sameLoose(shown, rootRegistration.args[name])) {
        mismatches.push(
          finding("verify.finding.productFact", {
            field: fieldLabel(name),
            shown: show(shown),
            registered: show(rootRegistration.args[name]),
          }),
        );
      }
    }
  }

  // --- lineage ---------------------------------------------------------------------------------------
  let childId = claims.batchId;
  let earlierEntries = 0;
  for (const [index, ancestor] of claims.lineage.entries()) {
    const where =
      ancestor.lot === null
        ? finding("verify.where.ancestor", { index: String(index + 1), batch: short(ancestor.batchId) })
        : finding("verify.where.ancestorLot", { index: String(index + 1), lot: show(ancestor.lot), batch: short(ancestor.batchId) });
    const creation = logs.find((log) => log.name === "BatchSplit" && lower(log.args.childId) === childId && log.blockNumber <= atBlock);
    if (!creation) mismatches.push(finding("verify.finding.noSplit", { where, child: short(childId) }));
    else if (lower(creation.args.parentId) !== ancestor.batchId) {
      mismatches.push(
        finding("verify.finding.otherParent", {
          where,
          child: short(childId),
          parent: short(lower(creation.args.parentId)),
          shown: short(ancestor.batchId),
        }),
      );
    }
    if (ancestor.registration) checkEntry(ancestor.registration, where);
    const recalls = logs.filter((log) => log.name === "BatchRecalled" && lower(log.args.batchId) === ancestor.batchId);
    if (ancestor.recall) checkEntry(ancestor.recall, finding("verify.where.ancestorRecall", { where }));
    for (const recall of recalls) {
      if (!ancestor.recall || key(ancestor.recall) !== key(recall)) {
        mismatches.push(finding("verify.finding.ancestorRecallNotShown", { where, block: String(recall.blockNumber) }));
      }
    }

    // Its journey before the split: every custody step and inspection, as for the batch's own history. Its
    // registration, its splits (into this product's line or into other lots) and its recall are checked above.
    const journeyLogs = historyLogsOf(ancestor.batchId).filter(
      (log) => !["BatchRegistered", "BatchSplit", "BatchRecalled"].includes(log.name),
    );
    const journeyKeys = new Set(journeyLogs.map(key));
    ancestor.history.forEach((entry, entryIndex) => {
      const at = finding("verify.where.ancestorEntry", { where, index: String(entryIndex + 1) });
      const log = checkEntry(entry, at);
      if (log && !journeyKeys.has(key(log))) {
        mismatches.push(
          finding("verify.finding.notThisLotsStep", { where: at, label: entry.label, block: String(entry.blockNumber), event: log.name }),
        );
      }
    });
    const shownJourney = new Set(ancestor.history.map(key));
    for (const log of journeyLogs) {
      if (shownJourney.has(key(log))) continue;
      const event = loggedEvent(log, jsonInputs.get(log.name) ?? [], enums);
      // A split batch never moves again, so this can only be a mirror that dropped (or has not indexed) an event.
      if (log.blockNumber > atBlock) warnings.push(finding("verify.finding.newerAncestorEvent", { where, event }));
      else mismatches.push(finding("verify.finding.ancestorEventNotShown", { where, event }));
    }
    earlierEntries += ancestor.history.length;
    childId = ancestor.batchId;
  }
  const ownCreation = ownLogs.find((log) => log.name === "BatchSplit" && lower(log.args.childId) === claims.batchId);
  if (ownCreation && claims.lineage.length === 0) {
    mismatches.push(finding("verify.finding.parentNotShown", { parent: short(lower(ownCreation.args.parentId)) }));
  }
  if (claims.lineage.length > 0) {
    checked.push(finding("verify.checked.lineage", { count: claims.lineage.length }));
    checked.push(finding("verify.checked.earlierEntries", { count: earlierEntries }));
  }

  // --- stored state --------------------------------------------------------------------------------
  onProgress(finding("verify.progress.state"));
  // batch() reverts for an unknown id; batchStatus() answers None instead, so a batch the mirror invented is a
  // mismatch to report rather than a failed call that hides every other finding.
  const [knownStatus] = await call("batchStatus", [claims.batchId]);
  const state = Number(knownStatus) === 0 ? { status: 0 } : await call("batch", [claims.batchId]);
  const shownState = claims.state;
  const stateChecks = /** @type {const} */ ([
    ["status", shownState.status, (enums.BatchStatus ?? [])[Number(state.status)] ?? String(state.status)],
    ["custodian", shownState.custodian, lower(state.custodian)],
    ["pendingCustodian", shownState.pendingCustodian ?? ZERO_ADDRESS, lower(state.pendingCustodian)],
    ["inspection", shownState.inspection, (enums.InspectionResult ?? [])[Number(state.inspection)] ?? String(state.inspection)],
    ["quantity", shownState.quantity, String(state.quantity)],
    ["serialRoot", claims.serialRoot, lower(state.serialRoot)],
  ]);
  if (Number(state.status) === 0) {
    mismatches.push(finding("verify.finding.noBatch", { batch: claims.batchId }));
  } else {
    for (const [name, shown, onChain] of stateChecks) {
      if (shown === undefined) continue;
      if (!sameLoose(shown, onChain))
        mismatches.push(finding("verify.finding.batchState", { field: fieldLabel(name), shown: show(shown), stored: show(onChain) }));
    }
    // The registry's status follows the lineage: Recalled when the batch or any ancestor lot was recalled, although
    // only the recalled lot's BatchRecalled log names it. A page hiding that recall (banner and status) must fail.
    const recalledOnChain = (enums.BatchStatus ?? [])[Number(state.status)] === "recalled";
    if (claims.recalled !== null && claims.recalled !== recalledOnChain) {
      mismatches.push(finding(recalledOnChain ? "verify.finding.recallNotShown" : "verify.finding.recallNotOnChain"));
    }
    checked.push(finding(recalledOnChain ? "verify.checked.stateRecalled" : "verify.checked.state"));
  }

  // --- the unit --------------------------------------------------------------------------------------
  if (claims.serial !== null) {
    if (!claims.proof) {
      // Every batch has a serial root on chain, so a unit page without a proof shows a serial nobody can vouch for:
      // a copied code on a counterfeit would look just like this, so it must not pass as verified.
      mismatches.push(finding("verify.finding.unitWithoutProof", { serial: claims.serial }));
    } else if (Number(state.status) !== 0) {
      const [member] = await call("verifyUnit", [claims.batchId, claims.serial, claims.proof]);
      if (member) checked.push(finding("verify.checked.unit", { serial: claims.serial }));
      else mismatches.push(finding("verify.finding.unitNotInSerialRoot", { serial: claims.serial }));
      // A unit of a split-off lot must be one its manufacturer registered: its proof must hold in every ancestor's
      // serial root up to the registration (the registry gives each child its parent's root; were a registry to let a
      // custodian name a new root, serials added there would fail here).
      if (member && claims.lineage.length > 0) {
        const outside = [];
        for (const ancestor of claims.lineage) {
          const [inAncestor] = await call("verifyUnit", [ancestor.batchId, claims.serial, claims.proof]);
          if (!inAncestor) outside.push(ancestor);
        }
        if (outside.length === 0) checked.push(finding("verify.checked.unitRegistered", { serial: claims.serial }));
        else
          mismatches.push(
            finding("verify.finding.unitNotRegistered", {
              serial: claims.serial,
              lots: listOf(outside.map((a) => short(a.batchId))),
            }),
          );
      }
    }
  }

  // --- participants ----------------------------------------------------------------------------------
  /** @type {any[] | null} */
  let participantLogs = null;
  if (claims.participants.length > 0) {
    onProgress(finding("verify.progress.participants"));
    const onboarded = registryInterface.getEvent("ParticipantOnboarded");
    const updated = registryInterface.getEvent("ParticipantUpdated");
    try {
      participantLogs = await rpc("eth_getLogs", [
        {
          address: registry,
          fromBlock: toHexQuantity(Math.min(claims.deployBlock, atBlock)),
          toBlock: blockTag,
          topics: [[onboarded.topicHash, updated.topicHash], claims.participants.map((p) => ethers.zeroPadValue(p.address, 32))],
        },
      ]);
    } catch (error) {
      // Public nodes often cap eth_getLogs ranges; the batch's own history (checked above) is what matters most.
      warnings.push(finding("verify.finding.participantsUnchecked", { reason: findingOfError(error) }));
    }
  }
  if (claims.participants.length > 0 && participantLogs !== null) {
    /** @type {Map<string, {name: string, gln: string}>} */
    const latest = new Map();
    for (const log of participantLogs) {
      if (log.removed) continue;
      const parsed = registryInterface.parseLog({ topics: log.topics, data: log.data });
      if (parsed) latest.set(lower(parsed.args.account), { name: parsed.args.name, gln: parsed.args.gln.toString() });
    }
    for (const participant of claims.participants) {
      const onChain = latest.get(participant.address);
      const who = finding("verify.where.participant", { name: participant.name ?? "", address: short(participant.address) });
      if (!onChain) {
        mismatches.push(finding("verify.finding.participantUnknown", { who }));
        continue;
      }
      if (participant.name !== undefined && participant.name !== onChain.name)
        mismatches.push(finding("verify.finding.participantName", { who, name: onChain.name }));
      if (participant.gln !== undefined && !sameLoose(participant.gln, onChain.gln)) {
        mismatches.push(
          finding("verify.finding.participantGln", { who, gln: onChain.gln.padStart(13, "0"), shown: String(participant.gln) }),
        );
      }
      const [, , suspended] = await call("participant", [participant.address]);
      if (Boolean(suspended) !== participant.suspended) {
        const standing = (/** @type {boolean} */ isSuspended) => finding(isSuspended ? "verify.value.suspended" : "verify.value.active");
        mismatches.push(
          finding("verify.finding.participantSuspension", {
            who,
            chain: standing(Boolean(suspended)),
            shown: standing(participant.suspended),
          }),
        );
      }
    }
    checked.push(finding("verify.checked.participants", { count: claims.participants.length }));
  }

  return { ok: mismatches.length === 0, blockNumber: atBlock, head, mismatches, warnings, checked };
}

/**
 * @typedef {{
 *   url: string,
 *   status: "answered" | "unreachable" | "failed" | "wrong-chain" | "behind" | "duplicate",
 *   chainId?: number,
 *   head?: number,
 *   detail?: Finding,
 * }} EndpointReport
 */

/**
 * JSON-RPC callers for several endpoints, sharing one deadline: an endpoint that answers slowly, request after
 * request, is cut off when the deadline passes, not only when one request times out.
 * @param {string[]} urls
 * @param {{ fetch?: typeof fetch, timeoutMs?: number, deadlineMs?: number, maxBytes?: number }} [options]
 * @returns {{ url: string, rpc: RpcCall }[]}
 */
export function jsonRpcEndpoints(urls, options = {}) {
  const deadlineMs = options.deadlineMs ?? 120000;
  return urls.map((url) => {
    const signal = AbortSignal.timeout(deadlineMs);
    return { url, rpc: createJsonRpc(url, { ...options, signal }) };
  });
}

/**
 * Verifies a passport through several JSON-RPC endpoints and compares what they answer.
 *
 * Each endpoint must serve the anchored chain (one that does not is reported and not used). All endpoints are
 * pinned to the same blocks: the newest block read is the lowest head among them (endpoints a few blocks apart
 * then read exactly the same chain), skipping an endpoint whose head is older than the block the page was made
 * at (it is reported as behind, not used). Every read (the pinned block's hash and time, the registry's logs, its
 * stored state, the serial proofs, the participants) is made through each endpoint and compared: any difference is a
 * mismatch naming the endpoints on each side, never a pass. An endpoint that fails (unreachable, timeout, HTTP
 * error, malformed or oversized answer) is reported and does not count.
 *
 * Quorum: "verified" needs the page to match the chain, every endpoint that answered to agree, and at least
 * `minAgreeing` (default 1) of them to have answered. Fewer is "unverifiable", not a mismatch.
 * @param {{
 *   claims: ReturnType<typeof claimsFromJsonLd>,
 *   endpoints: { url: string, rpc: RpcCall }[],
 *   ethers: any,
 *   abi: any[],
 *   enums: Record<string, readonly string[]>,
 *   expected?: { chainId?: number, registry?: string, link?: { gtin: string, lot: string, serial: string | null } },
 *   minAgreeing?: number,
 *   deadlineMs?: number,
 *   onProgress?: (step: Finding) => void,
 * }} input
 */
export async function verifyPassportAcrossEndpoints(input) {
  const { claims, ethers, abi, enums, expected = {}, onProgress = () => {} } = input;
  const minAgreeing = Math.max(1, Math.floor(input.minAgreeing ?? 1));
  const deadlineMs = input.deadlineMs ?? 120000;
  const chainIdAsked = expected.chainId ?? claims.chainId;
  /** @type {EndpointReport[]} */ const reports = [];
  const seen = new Set();
  /** @type {{ url: string, rpc: RpcCall, report: EndpointReport }[]} */ const candidates = [];
  for (const endpoint of input.endpoints) {
    /** @type {EndpointReport} */ const report = { url: endpoint.url, status: "answered" };
    reports.push(report);
    // The same URL twice is one witness, not two.
    if (seen.has(endpoint.url)) {
      report.status = "duplicate";
      report.detail = finding("verify.endpointDetail.duplicate");
      continue;
    }
    seen.add(endpoint.url);
    candidates.push({ ...endpoint, report });
  }
  const total = candidates.length;
  const base = { endpoints: reports, total, minAgreeing };

  // A passport of another deployment than the anchors is refused before asking any endpoint (verifyPassport's rule).
  /** @type {Finding[]} */ const anchorMismatches = [];
  if (expected.chainId !== undefined && expected.chainId !== claims.chainId) {
    anchorMismatches.push(finding("verify.finding.otherChain", { shown: String(claims.chainId), expected: String(expected.chainId) }));
  }
  if (expected.registry !== undefined && expected.registry.toLowerCase() !== claims.registry) {
    anchorMismatches.push(finding("verify.finding.otherRegistry", { shown: claims.registry, expected: expected.registry.toLowerCase() }));
  }
  if (anchorMismatches.length > 0) {
    return {
      ...base,
      ok: false,
      verdict: "mismatch",
      agreeing: 0,
      blockNumber: null,
      mismatches: anchorMismatches,
      warnings: [],
      checked: [],
    };
  }
  if (total === 0) throw new VerifierError(finding("verify.error.noEndpoint"));

  /** Runs one endpoint's work within the deadline (a custom caller might ignore its own timeouts). */
  const withinDeadline = (/** @type {Promise<any>} */ work) => {
    /** @type {ReturnType<typeof setTimeout> | undefined} */ let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new VerifierError(finding("verify.endpointDetail.deadline", { ms: deadlineMs }))), deadlineMs);
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  };
  const reason = findingOfError;

  onProgress(finding("verify.progress.endpoints", { count: total }));
  await Promise.all(
    candidates.map(async ({ rpc, report }) => {
      try {
        const [chainId, head] = await withinDeadline(
          Promise.all([rpc("eth_chainId", []), rpc("eth_blockNumber", [])]).then(([c, h]) => [quantity(c), quantity(h)]),
        );
        report.chainId = chainId;
        report.head = head;
        if (chainId !== chainIdAsked) {
          report.status = "wrong-chain";
          report.detail = finding("verify.endpointDetail.wrongChain", { chainId: String(chainId), asked: String(chainIdAsked) });
        }
      } catch (error) {
        report.status = "unreachable";
        report.detail = reason(error);
      }
    }),
  );
  let usable = candidates.filter((c) => c.report.status === "answered");
  // An endpoint older than the page cannot confirm it; it does not hold back the others (reads pin to the lowest head).
  if (claims.asOfBlock !== null && usable.some((c) => /** @type {number} */ (c.report.head) >= /** @type {number} */ (claims.asOfBlock))) {
    for (const c of usable) {
      if (/** @type {number} */ (c.report.head) < /** @type {number} */ (claims.asOfBlock)) {
        c.report.status = "behind";
        c.report.detail = finding("verify.endpointDetail.behind", { head: String(c.report.head), block: String(claims.asOfBlock) });
      }
    }
    usable = usable.filter((c) => c.report.status === "answered");
  }
  const pinnedHead = usable.length === 0 ? null : Math.min(...usable.map((c) => /** @type {number} */ (c.report.head)));

  /** @type {{ url: string, report: EndpointReport, result: any, reads: Map<string, { method: string, params: unknown[], value: string }> }[]} */
  const answered = [];
  if (pinnedHead !== null) {
    onProgress(finding("verify.progress.reading", { count: usable.length, block: String(pinnedHead) }));
    await Promise.all(
      usable.map(async ({ url, rpc, report }) => {
        /** @type {Map<string, { method: string, params: unknown[], value: string }>} */ const reads = new Map();
        /** @type {RpcCall} */
        const recording = async (method, params) => {
          const result = await rpc(method, params);
          if (method !== "eth_blockNumber")
            reads.set(JSON.stringify([method, params]), { method, params, value: normalizedAnswer(method, result) });
          return result;
        };
        try {
          const result = await withinDeadline(
            (async () => {
              // The pinned block's hash commits to the whole chain up to it: endpoints on different forks differ here.
              await recording("eth_getBlockByNumber", [toHexQuantity(pinnedHead), false]);
              return await verifyPassport({ claims, rpc: recording, ethers, abi, enums, expected, head: pinnedHead, onProgress: () => {} });
            })(),
          );
          answered.push({ url, report, result, reads });
        } catch (error) {
          report.status = "failed";
          report.detail = reason(error);
        }
      }),
    );
  }
  // Reports in the order the endpoints were given.
  answered.sort((a, b) => reports.indexOf(a.report) - reports.indexOf(b.report));

  const warnings = reports
    .filter((r) => r.status !== "answered")
    .map((r) =>
      finding(r.status === "unreachable" || r.status === "failed" ? "verify.finding.endpointUnread" : "verify.finding.endpointUnused", {
        url: r.url,
        detail: r.detail ?? "",
      }),
    );
  if (answered.length === 0) {
    return {
      ...base,
      ok: false,
      verdict: "unverifiable",
      agreeing: 0,
      blockNumber: null,
      head: pinnedHead ?? undefined,
      mismatches: [],
      warnings,
      checked: [],
    };
  }

  const disagreements = compareReads(answered, new ethers.Interface(abi), abi, enums);
  const all = answered.length;
  /** Items every endpoint reported once; items only some did, each once and saying through which. */
  const merge = (/** @type {(r: any) => Finding[]} */ pick, /** @type {string} */ partialCode) => {
    /** @type {Map<string, { item: Finding, urls: string[] }>} */ const by = new Map();
    for (const a of answered) {
      for (const item of pick(a.result)) {
        const same = JSON.stringify(item);
        by.set(same, { item, urls: [...(by.get(same)?.urls ?? []), a.url] });
      }
    }
    return [...by.values()].map(({ item, urls }) =>
      urls.length === all ? item : finding(partialCode, { urls: listOf(urls), finding: item }),
    );
  };
  const mismatches = [...disagreements, ...merge((r) => r.mismatches, "verify.finding.throughOnly")];
  warnings.push(...merge((r) => r.warnings, "verify.finding.throughOnly"));
  const checked = merge((r) => r.checked, "verify.checked.throughOnly");
  const agreeing = disagreements.length === 0 ? all : 0;
  const verdict = mismatches.length > 0 ? "mismatch" : agreeing < minAgreeing ? "unverifiable" : "verified";
  if (verdict === "unverifiable") {
    warnings.unshift(finding("verify.finding.tooFewEndpoints", { count: agreeing, min: minAgreeing }));
  }
  return {
    ...base,
    ok: verdict === "verified",
    verdict,
    agreeing,
    blockNumber: answered[0].result.blockNumber,
    head: pinnedHead ?? undefined,
    mismatches,
    warnings,
    checked,
  };
}

/** @param {unknown} value */
function quantity(value) {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{1,16}$/.test(value)) {
    throw new VerifierError(finding("verify.rpc.notQuantity", { value: clip(value) }));
  }
  return Number(BigInt(value));
}

/** @param {unknown} value */
function clip(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * What an answer says about the chain, in a form honest nodes of different makes give alike (nodes add fields of
 * their own to blocks and logs; those are not compared).
 * @param {string} method @param {any} result
 */
function normalizedAnswer(method, result) {
  if (method === "eth_chainId") return String(quantity(result));
  if (method === "eth_call") return lower(result);
  if (method === "eth_getBlockByNumber") {
    if (result === null) return "null";
    return JSON.stringify({ number: quantity(result.number), hash: lower(result.hash), timestamp: quantity(result.timestamp) });
  }
  if (method === "eth_getLogs") {
    if (!Array.isArray(result)) throw new VerifierError(finding("verify.rpc.logsNotList", { value: clip(result) }));
    return JSON.stringify(
      result
        .filter((log) => !log.removed)
        .map((log) => ({
          block: quantity(log.blockNumber),
          index: quantity(log.logIndex),
          blockHash: lower(log.blockHash),
          tx: lower(log.transactionHash),
          address: lower(log.address),
          topics: (log.topics ?? []).map(lower),
          data: lower(log.data),
        }))
        .sort((a, b) => a.block - b.block || a.index - b.index),
    );
  }
  return JSON.stringify(result);
}

/**
 * Every read made through more than one endpoint whose answers differ, said in the registry's terms.
 * (A read only some endpoints made follows from an earlier answer that differed, which is reported.)
 * @param {{ url: string, reads: Map<string, { method: string, params: unknown[], value: string }> }[]} answered
 * @param {any} registryInterface @param {any[]} abi @param {Record<string, readonly string[]>} enums
 */
function compareReads(answered, registryInterface, abi, enums) {
  /** @type {Finding[]} */ const out = [];
  const keys = [...new Set(answered.flatMap((a) => [...a.reads.keys()]))];
  for (const key of keys) {
    /** @type {Map<string, string[]>} */ const groups = new Map();
    let read;
    for (const a of answered) {
      const r = a.reads.get(key);
      if (!r) continue;
      read = r;
      groups.set(r.value, [...(groups.get(r.value) ?? []), a.url]);
    }
    if (groups.size < 2 || !read) continue;
    const sides = [...groups].map(([value, urls]) => ({ value, urls }));
    out.push(finding("verify.finding.disagree", { read: describeRead(read, sides, registryInterface, abi, enums) }));
  }
  return out;
}

/**
 * @param {{ method: string, params: any[] }} read
 * @param {{ value: string, urls: string[] }[]} sides
 * @param {any} registryInterface @param {any[]} abi @param {Record<string, readonly string[]>} enums
 * @returns {Finding}
 */
function describeRead(read, sides, registryInterface, abi, enums) {
  const who = (/** @type {string[]} */ urls) => listOf(urls);
  if (read.method === "eth_getBlockByNumber") {
    const said = sides.map((s) => {
      const block = s.value === "null" ? null : JSON.parse(s.value);
      return block
        ? finding("verify.read.blockSide", { urls: who(s.urls), hash: block.hash, time: { time: block.timestamp } })
        : finding("verify.read.noBlockSide", { urls: who(s.urls) });
    });
    return finding("verify.read.block", { block: String(Number(BigInt(read.params[0]))), said: listOf(said, "semicolon") });
  }
  if (read.method === "eth_call") {
    /** @type {FindingParam} */ let name = finding("verify.read.someCall");
    /** @type {string[][]} */ let fields = sides.map((s) => [s.value]);
    try {
      const tx = registryInterface.parseTransaction({ data: read.params[0].data });
      name = `${tx.name}(${tx.args.map((/** @type {unknown} */ a) => short(lower(a))).join(", ")})`;
      const outputs = abi.find((f) => f.type === "function" && f.name === tx.name)?.outputs ?? [];
      fields = sides.map((s) => flattenOutputs(outputs, registryInterface.decodeFunctionResult(tx.name, s.value), enums));
    } catch {
      // Undecodable (a malformed answer): compare raw.
    }
    const differing = fields[0].map((_, i) => i).filter((i) => fields.some((f) => f[i] !== fields[0][i]));
    const said = sides.map((s, k) =>
      finding("verify.read.saySide", {
        urls: who(s.urls),
        value: differing.length === 0 ? clip(s.value) : listOf(differing.map((i) => fields[k][i] ?? finding("verify.read.nothing"))),
      }),
    );
    return finding("verify.read.call", { call: name, block: String(Number(BigInt(read.params[1]))), said: listOf(said, "semicolon") });
  }
  if (read.method === "eth_getLogs") {
    const filter = read.params[0];
    const logsOf = (/** @type {string} */ value) => /** @type {any[]} */ (JSON.parse(value));
    const reference = logsOf(sides[0].value);
    const refKeys = new Map(reference.map((l) => [`${l.block}:${l.index}`, JSON.stringify(l)]));
    const said = sides.slice(1).map((s) => {
      const logs = logsOf(s.value);
      const keys = new Map(logs.map((l) => [`${l.block}:${l.index}`, JSON.stringify(l)]));
      const onlyHere = logs.find((l) => refKeys.get(`${l.block}:${l.index}`) !== JSON.stringify(l));
      const onlyThere = reference.find((l) => keys.get(`${l.block}:${l.index}`) !== JSON.stringify(l));
      const example = onlyHere ?? onlyThere;
      const where = example
        ? finding("verify.read.logAt", {
            event: logName(example, registryInterface),
            block: String(example.block),
            log: String(example.index),
          })
        : finding("verify.read.logList");
      return finding("verify.read.logsSide", {
        urls: who(s.urls),
        count: logs.length,
        refUrls: who(sides[0].urls),
        refCount: reference.length,
        where,
      });
    });
    return finding("verify.read.logs", {
      from: String(Number(BigInt(filter.fromBlock))),
      to: String(Number(BigInt(filter.toBlock))),
      said: listOf(said, "semicolon"),
    });
  }
  return finding("verify.read.other", {
    method: read.method,
    said: listOf(
      sides.map((s) => finding("verify.read.saySide", { urls: who(s.urls), value: clip(s.value) })),
      "semicolon",
    ),
  });
}

/** @param {{ topics: string[], data: string }} log @param {any} registryInterface @returns {FindingParam} */
function logName(log, registryInterface) {
  try {
    return registryInterface.parseLog({ topics: log.topics, data: log.data })?.name ?? finding("verify.read.unknownEvent");
  } catch {
    return finding("verify.read.undecodableEvent");
  }
}

/** "name=value" for each output, struct components by name, enums by name. @returns {string[]} */
function flattenOutputs(/** @type {any[]} */ outputs, /** @type {any} */ values, /** @type {Record<string, readonly string[]>} */ enums) {
  return outputs.flatMap((output, i) => {
    const value = values[i];
    if (Array.isArray(output.components) && output.type === "tuple") {
      return flattenOutputs(output.components, value, enums).map((item) => `${output.name ? `${output.name}.` : ""}${item}`);
    }
    return [`${output.name || `#${i}`}=${show(displayValue(value, output, enums))}`];
  });
}

/** @param {unknown} value */
function lower(value) {
  return String(value).toLowerCase();
}

/** @param {string} id */
function short(id) {
  return id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** @param {number} seconds */
function isoTime(seconds) {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** @param {unknown} value */
function show(value) {
  return typeof value === "string" ? `"${value}"` : String(value);
}

/** @param {any} input @param {Record<string, readonly string[]>} enums */
function enumNames(input, enums) {
  const match = /^enum\s+(?:[\w$]+\.)*([\w$]+)$/.exec(input.internalType ?? "");
  return match ? (enums[match[1]] ?? null) : null;
}

/** The chain's value in the mirror's vocabulary (enum names, decimal strings, lower-case hex). */
function displayValue(/** @type {any} */ value, /** @type {any} */ input, /** @type {Record<string, readonly string[]>} */ enums) {
  const names = enumNames(input, enums);
  if (names) return names[Number(value)] ?? String(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return input.type === "string" ? value : value.toLowerCase();
  return value;
}

/** Shown (JSON) and chain (ethers) values are the same datum: numbers by value, hex case-insensitively. */
function sameValue(
  /** @type {unknown} */ shown,
  /** @type {any} */ chainValue,
  /** @type {any} */ input,
  /** @type {Record<string, readonly string[]>} */ enums,
) {
  const names = enumNames(input, enums);
  if (names) return shown === names[Number(chainValue)] || (typeof shown === "number" && shown === Number(chainValue));
  if (input.type === "bool") return shown === chainValue;
  if (input.type === "string") return shown === chainValue;
  return sameLoose(shown, typeof chainValue === "bigint" ? chainValue.toString() : chainValue);
}

function sameLoose(/** @type {unknown} */ a, /** @type {unknown} */ b) {
  if (a === b) return true;
  const digits = /^\d+$/;
  if (
    (typeof a === "number" || (typeof a === "string" && digits.test(a))) &&
    (typeof b === "number" || (typeof b === "string" && digits.test(b)))
  ) {
    return BigInt(a) === BigInt(b);
  }
  return typeof a === "string" && typeof b === "string" && /^0x/i.test(a) && a.toLowerCase() === b.toLowerCase();
}

/** The field's name in the reader's language, for the fields a page shows; others by their ABI name. */
const FIELD_LABELS = /** @type {Record<string, Finding>} */ ({
  gtin: finding("verify.field.gtin"),
  lot: finding("verify.field.lot"),
  quantity: finding("verify.field.quantity"),
  productionDate: finding("verify.field.productionDate"),
  originGln: finding("verify.field.originGln"),
  locationGln: finding("verify.field.locationGln"),
  businessStep: finding("verify.field.businessStep"),
  documentHash: finding("verify.field.documentHash"),
  serialRoot: finding("verify.field.serialRoot"),
  reasonHash: finding("verify.field.reasonHash"),
  reportHash: finding("verify.field.reportHash"),
  recalledBy: finding("verify.field.recalledBy"),
  pendingCustodian: finding("verify.field.pendingCustodian"),
  status: finding("verify.field.status"),
  custodian: finding("verify.field.custodian"),
  inspection: finding("verify.field.inspection"),
  manufacturer: finding("verify.field.manufacturer"),
});

/** @param {string} name @returns {FindingParam} */
function fieldLabel(name) {
  return Object.hasOwn(FIELD_LABELS, name) ? FIELD_LABELS[name] : name;
}

/**
 * A log of the chain as findings show it: the event with its arguments (in the registry's own terms), where it is.
 * @param {any} log @param {any[]} inputs @param {Record<string, readonly string[]>} enums
 */
function loggedEvent(log, inputs, enums) {
  return finding("verify.read.loggedEvent", {
    event: describeLog(log, inputs, enums),
    block: String(log.blockNumber),
    transaction: log.transactionHash,
  });
}

/** @param {any} log @param {any[]} inputs @param {Record<string, readonly string[]>} enums */
function describeLog(log, inputs, enums) {
  const parts = inputs
    .filter((/** @type {any} */ input) => !["batchId", "parentId"].includes(input.name))
    .map((/** @type {any} */ input) => `${input.name}=${displayValue(log.args[input.name], input, enums)}`);
  return `${log.name}(${parts.join(", ")})`;
}
