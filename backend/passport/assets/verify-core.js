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
 */

/** @typedef {(method: string, params: unknown[]) => Promise<any>} RpcCall */

/**
 * A JSON-RPC caller over fetch.
 * @param {string} url
 * @param {{ fetch?: typeof fetch, timeoutMs?: number }} [options]
 * @returns {RpcCall}
 */
export function createJsonRpc(url, options = {}) {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 15000;
  let id = 0;
  return async (method, params) => {
    const response = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`${method}: the RPC endpoint answered HTTP ${response.status}`);
    const body = await response.json();
    if (body.error) throw new Error(`${method}: ${body.error.message ?? "JSON-RPC error"} (code ${body.error.code})`);
    return body.result;
  };
}

const NS = "provena:";

/**
 * Extracts what the verifier needs from a passport's JSON-LD document.
 * @param {any} doc
 */
export function claimsFromJsonLd(doc) {
  if (!doc || typeof doc !== "object") throw new Error("The passport is not a JSON-LD object");
  const verification = doc[`${NS}verification`];
  if (!verification || typeof verification !== "object") throw new Error("The passport carries no provena:verification block");
  const items = doc[`${NS}history`]?.itemListElement;
  if (!Array.isArray(items)) throw new Error("The passport carries no provena:history list");
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
 * null when the link carries neither; throws when it carries one without the other or a malformed value, because a
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
    throw new Error(`The link's "chain" parameter must be a chain id (got ${chain === null ? "none" : JSON.stringify(chain)})`);
  }
  if (registry === null || !/^0x[0-9a-fA-F]{40}$/.test(registry)) {
    throw new Error(
      `The link's "registry" parameter must be a contract address (got ${registry === null ? "none" : JSON.stringify(registry)})`,
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
 *   onProgress?: (message: string) => void,
 * }} input
 */
export async function verifyPassport({ claims, rpc, ethers, abi, enums, expected = {}, onProgress = () => {} }) {
  /** @type {string[]} */ const mismatches = [];
  /** @type {string[]} */ const warnings = [];
  /** @type {string[]} */ const checked = [];
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
    mismatches.push(`The passport names chain ${claims.chainId}, but you expected chain ${expected.chainId}`);
  }
  if (expected.registry !== undefined && expected.registry.toLowerCase() !== claims.registry) {
    mismatches.push(`The passport names registry ${claims.registry}, but you expected ${expected.registry.toLowerCase()}`);
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
        `The link you opened names GTIN ${link.gtin} lot ${show(link.lot)} (batch ${short(linkedBatchId)}), but the page shows batch ${short(claims.batchId)} (GTIN ${claims.product.gtin ?? "?"} lot ${show(claims.product.lot ?? "?")})`,
      );
    }
    if ((link.serial ?? null) !== claims.serial) {
      mismatches.push(
        `The link you opened names serial ${show(link.serial ?? "none")}, but the page shows serial ${show(claims.serial ?? "none")}`,
      );
    }
  }

  onProgress("Connecting to the chain");
  const chainId = Number(BigInt(await rpc("eth_chainId", [])));
  if (chainId !== chainIdAsked) {
    mismatches.push(`The RPC endpoint serves chain ${chainId}, but the passport is for chain ${chainIdAsked}`);
    return { ok: false, blockNumber: null, mismatches, warnings, checked };
  }
  const head = Number(BigInt(await rpc("eth_blockNumber", [])));
  const atBlock = claims.asOfBlock === null ? head : Math.min(claims.asOfBlock, head);
  if (claims.asOfBlock !== null && claims.asOfBlock > head) {
    warnings.push(`The page was made at block ${claims.asOfBlock}, but the chain's head is block ${head}`);
  }
  const blockTag = toHexQuantity(atBlock);

  /** @param {string} name @param {unknown[]} args */
  const call = async (name, args) => {
    const data = registryInterface.encodeFunctionData(name, args);
    const result = await rpc("eth_call", [{ to: registry, data }, blockTag]);
    return registryInterface.decodeFunctionResult(name, result);
  };

  // --- logs of the batch and its lineage -----------------------------------------------------------
  onProgress("Reading the batch's history from the chain");
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
   * @param {string} where
   */
  const checkEntry = (entry, where) => {
    const log = logByKey.get(key(entry));
    if (!log) {
      mismatches.push(
        `${where}: the page shows "${entry.label}" at block ${entry.blockNumber} (log ${entry.logIndex}), but the chain has no such event of this batch there`,
      );
      return null;
    }
    if (log.name !== entry.event) {
      mismatches.push(
        `${where}: the page shows "${entry.label}" (${entry.event}) at block ${entry.blockNumber}, but the chain logged ${log.name} there`,
      );
      return log;
    }
    if (log.transactionHash !== entry.transactionHash) {
      mismatches.push(
        `${where}: "${entry.label}" at block ${entry.blockNumber} is in transaction ${log.transactionHash} on chain, not ${entry.transactionHash}`,
      );
    }
    for (const [name, shown] of Object.entries(entry.args)) {
      const input = inputOf(log.name, name);
      if (!input) {
        mismatches.push(`${where}: "${entry.label}" shows a field "${name}" that the chain's ${log.name} event does not have`);
        continue;
      }
      const chainValue = log.args[name];
      if (!sameValue(shown, chainValue, input, enums)) {
        mismatches.push(
          `${where}: "${entry.label}" at block ${entry.blockNumber}: ${fieldLabel(name)} is shown as ${show(shown)}, but the chain says ${show(displayValue(chainValue, input, enums))}`,
        );
      }
    }
    const time = blockTimes.get(entry.blockNumber);
    if (time !== undefined && Number.isFinite(entry.timestamp) && time !== entry.timestamp) {
      mismatches.push(
        `${where}: "${entry.label}" is dated ${isoTime(entry.timestamp)}, but block ${entry.blockNumber} was made at ${isoTime(time)}`,
      );
    }
    return log;
  };

  // --- the batch's own history ---------------------------------------------------------------------
  const ownLogs = historyLogsOf(claims.batchId);
  const shownKeys = new Set(claims.history.map(key));
  claims.history.forEach((entry, index) => checkEntry(entry, `History entry ${index + 1}`));
  for (const log of ownLogs) {
    if (shownKeys.has(key(log))) continue;
    const text = `${describeLog(log, jsonInputs.get(log.name) ?? [], enums)} at block ${log.blockNumber} (transaction ${log.transactionHash})`;
    if (log.blockNumber > atBlock) {
      if (log.name === "BatchRecalled") mismatches.push(`The chain shows a recall of this batch that the page does not show yet: ${text}`);
      else warnings.push(`Newer than this page: ${text}`);
    } else {
      mismatches.push(`The chain has an event of this batch that the page does not show: ${text}`);
    }
  }
  checked.push(`${claims.history.length} history entries`);

  // The registration the shown product facts (GTIN, production date, origin, manufacturer) come from.
  const rootRegistration =
    claims.lineage.length > 0
      ? claims.lineage[claims.lineage.length - 1].registration
      : (claims.history.find((e) => e.event === "BatchRegistered") ?? null);
  if (!rootRegistration || rootRegistration.event !== "BatchRegistered") {
    mismatches.push("The page shows no BatchRegistered event for the batch or its original ancestor");
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
          `The product's ${fieldLabel(name)} is shown as ${show(shown)}, but its registration says ${show(rootRegistration.args[name])}`,
        );
      }
    }
  }

  // --- lineage ---------------------------------------------------------------------------------------
  let childId = claims.batchId;
  let earlierEntries = 0;
  for (const [index, ancestor] of claims.lineage.entries()) {
    const where = `Ancestor batch ${index + 1} (${ancestor.lot === null ? "" : `lot ${show(ancestor.lot)}, `}${short(ancestor.batchId)})`;
    const creation = logs.find((log) => log.name === "BatchSplit" && lower(log.args.childId) === childId && log.blockNumber <= atBlock);
    if (!creation) mismatches.push(`${where}: the chain has no split creating ${short(childId)}`);
    else if (lower(creation.args.parentId) !== ancestor.batchId) {
      mismatches.push(
        `${where}: the chain says ${short(childId)} was split from ${short(lower(creation.args.parentId))}, not from ${short(ancestor.batchId)}`,
      );
    }
    if (ancestor.registration) checkEntry(ancestor.registration, where);
    const recalls = logs.filter((log) => log.name === "BatchRecalled" && lower(log.args.batchId) === ancestor.batchId);
    if (ancestor.recall) checkEntry(ancestor.recall, `${where} recall`);
    for (const recall of recalls) {
      if (!ancestor.recall || key(ancestor.recall) !== key(recall)) {
        mismatches.push(`${where} was recalled on chain at block ${recall.blockNumber}, but the page does not show that recall`);
      }
    }

    // Its journey before the split: every custody step and inspection, as for the batch's own history. Its
    // registration, its splits (into this product's line or into other lots) and its recall are checked above.
    const journeyLogs = historyLogsOf(ancestor.batchId).filter(
      (log) => !["BatchRegistered", "BatchSplit", "BatchRecalled"].includes(log.name),
    );
    const journeyKeys = new Set(journeyLogs.map(key));
    ancestor.history.forEach((entry, entryIndex) => {
      const at = `${where}, history entry ${entryIndex + 1}`;
      const log = checkEntry(entry, at);
      if (log && !journeyKeys.has(key(log))) {
        mismatches.push(
          `${at}: the page shows "${entry.label}" at block ${entry.blockNumber} as this lot's, but the chain's ${log.name} there is not a custody step or inspection of it`,
        );
      }
    });
    const shownJourney = new Set(ancestor.history.map(key));
    for (const log of journeyLogs) {
      if (shownJourney.has(key(log))) continue;
      const text = `${describeLog(log, jsonInputs.get(log.name) ?? [], enums)} at block ${log.blockNumber} (transaction ${log.transactionHash})`;
      // A split batch never moves again, so this can only be a mirror that dropped (or has not indexed) an event.
      if (log.blockNumber > atBlock) warnings.push(`Newer than this page, on ${where}: ${text}`);
      else mismatches.push(`${where}: the chain has an event of this earlier lot that the page does not show: ${text}`);
    }
    earlierEntries += ancestor.history.length;
    childId = ancestor.batchId;
  }
  const ownCreation = ownLogs.find((log) => log.name === "BatchSplit" && lower(log.args.childId) === claims.batchId);
  if (ownCreation && claims.lineage.length === 0) {
    mismatches.push(
      `The chain says this batch was split from ${short(lower(ownCreation.args.parentId))}, but the page shows no parent batch`,
    );
  }
  if (claims.lineage.length > 0) {
    checked.push(`lineage through ${claims.lineage.length} parent batch${claims.lineage.length === 1 ? "" : "es"}`);
    checked.push(`${earlierEntries} history entr${earlierEntries === 1 ? "y" : "ies"} of earlier lots before their splits`);
  }

  // --- stored state --------------------------------------------------------------------------------
  onProgress("Reading the registry's state");
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
    mismatches.push(`The registry has no batch ${claims.batchId}`);
  } else {
    for (const [name, shown, onChain] of stateChecks) {
      if (shown === undefined) continue;
      if (!sameLoose(shown, onChain))
        mismatches.push(`The batch's ${fieldLabel(name)} is shown as ${show(shown)}, but the registry stores ${show(onChain)}`);
    }
    // The registry's status follows the lineage: Recalled when the batch or any ancestor lot was recalled, although
    // only the recalled lot's BatchRecalled log names it. A page hiding that recall (banner and status) must fail.
    const recalledOnChain = (enums.BatchStatus ?? [])[Number(state.status)] === "recalled";
    if (claims.recalled !== null && claims.recalled !== recalledOnChain) {
      mismatches.push(
        recalledOnChain
          ? "The registry reports this batch RECALLED (itself or through an earlier lot it was split from), but the page does not show a recall"
          : "The page shows this product as recalled, but the registry does not report it recalled",
      );
    }
    checked.push(`the registry's stored batch state${recalledOnChain ? " (recalled)" : ""}`);
  }

  // --- the unit --------------------------------------------------------------------------------------
  if (claims.serial !== null) {
    if (!claims.proof) {
      // Every batch has a serial root on chain, so a unit page without a proof shows a serial nobody can vouch for:
      // a copied code on a counterfeit would look just like this, so it must not pass as verified.
      mismatches.push(
        `Serial "${claims.serial}" cannot be proven to be one of this batch's registered units: the page carries no Merkle proof for it (the batch's serial list is not published)`,
      );
    } else if (Number(state.status) !== 0) {
      const [member] = await call("verifyUnit", [claims.batchId, claims.serial, claims.proof]);
      if (member) checked.push(`serial "${claims.serial}" is in the batch's on-chain serial root`);
      else
        mismatches.push(
          `Serial "${claims.serial}" is NOT one of this batch's registered units: its proof does not match the on-chain serial root`,
        );
      // A unit of a split-off lot must be one its manufacturer registered: its proof must hold in every ancestor's
      // serial root up to the registration (the registry gives each child its parent's root; were a registry to let a
      // custodian name a new root, serials added there would fail here).
      if (member && claims.lineage.length > 0) {
        const outside = [];
        for (const ancestor of claims.lineage) {
          const [inAncestor] = await call("verifyUnit", [ancestor.batchId, claims.serial, claims.proof]);
          if (!inAncestor) outside.push(ancestor);
        }
        if (outside.length === 0)
          checked.push(`serial "${claims.serial}" is one of the units the manufacturer registered (every earlier lot's serial root)`);
        else
          mismatches.push(
            `Serial "${claims.serial}" is NOT one of the units the manufacturer registered: its proof does not hold in the serial root of earlier lot ${outside.map((a) => short(a.batchId)).join(", ")}`,
          );
      }
    }
  }

  // --- participants ----------------------------------------------------------------------------------
  /** @type {any[] | null} */
  let participantLogs = null;
  if (claims.participants.length > 0) {
    onProgress("Checking participants");
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
      warnings.push(`Participant names and GLNs could not be checked: ${error instanceof Error ? error.message : String(error)}`);
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
      const who = `Participant ${participant.name ?? ""} (${short(participant.address)})`;
      if (!onChain) {
        mismatches.push(`${who} was never onboarded on the registry`);
        continue;
      }
      if (participant.name !== undefined && participant.name !== onChain.name)
        mismatches.push(`${who} is named "${onChain.name}" on chain`);
      if (participant.gln !== undefined && !sameLoose(participant.gln, onChain.gln)) {
        mismatches.push(`${who} has GLN ${onChain.gln.padStart(13, "0")} on chain, not ${participant.gln}`);
      }
      const [, , suspended] = await call("participant", [participant.address]);
      if (Boolean(suspended) !== participant.suspended) {
        mismatches.push(
          `${who} is ${suspended ? "suspended" : "active"} on chain, but the page shows it ${participant.suspended ? "suspended" : "active"}`,
        );
      }
    }
    checked.push(`${claims.participants.length} participant names, GLNs and suspensions`);
  }

  return { ok: mismatches.length === 0, blockNumber: atBlock, head, mismatches, warnings, checked };
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

/** @param {string} name */
function fieldLabel(name) {
  const labels = /** @type {Record<string, string>} */ ({
    gtin: "GTIN",
    lot: "lot",
    quantity: "quantity",
    productionDate: "production date",
    originGln: "origin GLN",
    locationGln: "location GLN",
    businessStep: "business step",
    documentHash: "document hash",
    serialRoot: "serial root",
    reasonHash: "reason hash",
    reportHash: "report hash",
    recalledBy: "recalled by",
    pendingCustodian: "pending custodian",
  });
  return labels[name] ?? name;
}

/** @param {any} log @param {any[]} inputs @param {Record<string, readonly string[]>} enums */
function describeLog(log, inputs, enums) {
  const parts = inputs
    .filter((/** @type {any} */ input) => !["batchId", "parentId"].includes(input.name))
    .map((/** @type {any} */ input) => `${input.name}=${displayValue(log.args[input.name], input, enums)}`);
  return `${log.name}(${parts.join(", ")})`;
}
