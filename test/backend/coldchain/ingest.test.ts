import { secp256k1 } from "@noble/curves/secp256k1";
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Signature, SigningKey, TypedDataEncoder, computeAddress, keccak256, recoverAddress, toBeHex, verifyTypedData } from "ethers";
import { createDeviceSigner } from "../../../backend/coldchain/device-signer.ts";
import { READING_TYPES, parseWireReading, readingDigest, readingHash, toWireReading } from "../../../backend/coldchain/reading-codec.ts";
import {
  createReadingSignatureCheck,
  linearCombination,
  nativeSecp256k1,
  windowTable,
} from "../../../backend/coldchain/reading-signature.ts";
import { NO_HUMIDITY, NO_POSITION, type SignedReading } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { ACCOUNTS } from "../projections/event-factory.ts";
import { createColdChainEventFactory, legIdOf } from "./cold-chain-events.ts";
import { commitColdChainBlock } from "./cold-chain-scenario.ts";
import { LEG_END, OTHER_BATCH, STRANGER_KEY, createIngestFixture, domain, measurement, type IngestFixture } from "./ingest-fixture.ts";

const types = READING_TYPES;
const wire = (reading: SignedReading) => JSON.stringify(toWireReading(reading));

describe("Cold-chain ingest", function () {
  describe("reading codec and signatures", function () {
    const signer = createDeviceSigner(STRANGER_KEY, domain);
    const reading = signer.sign({ ...measurement(5, -1_234), humidity: null, latitude: -33_868_820, longitude: 151_209_296 });

    it("test_readingHash_andDigest_equalEthersEip712", function () {
      const { signature: _signature, ...struct } = reading;
      expect(readingHash(struct)).to.equal(TypedDataEncoder.from(types).hash(struct));
      expect(readingDigest(domain, struct)).to.equal(TypedDataEncoder.hash(domain, types, struct));
      expect(verifyTypedData(domain, types, struct, reading.signature).toLowerCase()).to.equal(signer.address);
    });

    it("test_readingHash_extremeValues_equalEthersEip712", function () {
      const extremes = [
        [Number.MAX_SAFE_INTEGER, 2 ** 40 - 1, -32_768, 65_535, -2_147_483_648, 2_147_483_647, "ab"],
        [0, 0, -1, 0, -1, 0, "00"],
        [1, 1, 32_767, NO_HUMIDITY, NO_POSITION, NO_POSITION, "ff"],
      ] as const;
      for (const [sequence, timestamp, temperature, humidity, latitude, longitude, byte] of extremes) {
        const struct = {
          device: signer.address,
          batchId: `0x${byte.repeat(32)}` as Hex,
          sequence,
          timestamp,
          temperature,
          humidity,
          latitude,
          longitude,
        };
        expect(readingHash(struct)).to.equal(TypedDataEncoder.from(types).hash(struct));
        expect(readingDigest(domain, struct)).to.equal(TypedDataEncoder.hash(domain, types, struct));
      }
    });

    it("test_wireFormat_roundTrips_absentSensorsAsNull", function () {
      const noSensors = signer.sign({ ...measurement(6), humidity: null, latitude: null, longitude: null });
      const text = toWireReading(noSensors);
      expect(text).to.include({ humidity: null, latitude: null, longitude: null });
      expect(parseWireReading(JSON.parse(JSON.stringify(text)))).to.deep.equal({ ok: true, reading: noSensors });
      expect(noSensors).to.include({ humidity: NO_HUMIDITY, latitude: NO_POSITION, longitude: NO_POSITION });
    });

    it("test_parseWireReading_malformed_saysWhy", function () {
      const base = toWireReading(reading);
      const bad: [unknown, RegExp][] = [
        [null, /reading/],
        [[], /reading/],
        [{ ...base, device: "0x12" }, /device/],
        [{ ...base, sequence: 1.5 }, /sequence/],
        [{ ...base, sequence: -1 }, /sequence/],
        [{ ...base, temperature: "5" }, /temperature/],
        [{ ...base, temperature: 40_000 }, /temperature/],
        [{ ...base, latitude: null }, /latitude and longitude/],
        [{ ...base, extra: 1 }, /extra|Unrecognized/i],
        [{ ...base, signature: "0x" }, /signature/],
      ];
      for (const [value, message] of bad) {
        const parsed = parseWireReading(value);
        expect(parsed.ok, JSON.stringify(value)).to.equal(false);
        if (!parsed.ok) expect(parsed.error).to.match(message);
      }
    });

    // The native libsecp256k1 check runs where the optional secp256k1 package is installed.
    const implementations = (["js", ...(nativeSecp256k1() !== null ? ["native"] : [])] as const).map((name) => name as "js" | "native");
    for (const implementation of implementations) {
      it(`test_signatureCheck_cachedKey_sameAnswersAsRecovery_refusesMalleatedAndWrongV_${implementation}`, function () {
        const check = createReadingSignatureCheck({ implementation });
        const digest = readingDigest(domain, reading);
        expect(check.signedBy(digest, reading.signature, signer.address)).to.equal(true); // by recovery
        for (let index = 0; index < 5; index++) {
          const next = signer.sign(measurement(10 + index));
          expect(check.signedBy(readingDigest(domain, next), next.signature, signer.address)).to.equal(true); // cached key
        }
        const parts = Signature.from(reading.signature);
        const flippedV = Signature.from({ r: parts.r, s: parts.s, v: parts.v === 27 ? 28 : 27 }).serialized as Hex;
        expect(check.signedBy(digest, flippedV, signer.address)).to.equal(false);
        const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
        const highS =
          `${reading.signature.slice(0, 66)}${(n - BigInt(parts.s)).toString(16).padStart(64, "0")}${reading.signature.slice(130)}` as Hex;
        expect(check.signedBy(digest, highS, signer.address)).to.equal(false);
        const other = signer.sign(measurement(30));
        expect(check.signedBy(digest, other.signature, signer.address)).to.equal(false);
        expect(check.signedBy(digest, reading.signature, "0x0000000000000000000000000000000000000001")).to.equal(false);
      });
    }

    it("test_linearCombination_equalsNoble_throughDoublingAndInfinity", function () {
      const { ProjectivePoint: Point, CURVE } = secp256k1;
      const n = CURVE.n;
      const base = windowTable(Point.BASE, 5);
      const key = windowTable(Point.BASE.multiply(7n), 5);
      const cases: [bigint, bigint, ReturnType<typeof windowTable>][] = [
        [1n, 1n, base], // G + G: the accumulator meets the point it adds
        [5n, 5n, base],
        [1n, n - 1n, base], // G − G: infinity
        [n - 7n, 1n, key], // −7G + 7G: infinity
        [3n, 2n, key],
        [0n, 9n, key],
        [n - 1n, n - 1n, key],
        [0x1234567890abcdef1234567890abcdefn, n - 0xabcdefn, key],
      ];
      for (const [u1, u2, table] of cases) {
        const q = table === base ? Point.BASE : Point.BASE.multiply(7n);
        // multiply, not multiplyUnsafe: in @noble/curves 1.9 the latter is wrong on a point with precomputes (G).
        const times = (point: typeof q, k: bigint) => (k === 0n ? Point.ZERO : point.multiply(k));
        const expected = times(Point.BASE, u1).add(times(q, u2));
        const actual = linearCombination(u1, u2, table);
        expect(actual, `${u1} ${u2}`).to.deep.equal(expected.equals(Point.ZERO) ? null : expected.toAffine());
      }
    });

    for (const implementation of implementations) {
      it(`test_signatureCheck_cachedKey_agreesWithEcrecover_onEdgeKeysAndDigests_${implementation}`, function () {
        // Keys 1 and 2 make the device key's multiples the base point's (the accumulator meets its own point: doubling);
        // n − 1 is the base point negated (cancelling to infinity); digests 0 and n make u1 = 0.
        const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
        const hex32 = (value: bigint) => `0x${value.toString(16).padStart(64, "0")}` as Hex;
        const keys = [1n, 2n, 3n, n - 1n, n - 2n, 0x1234567890abcdefn].map((d) => new SigningKey(hex32(d)));
        const digests = [
          0n,
          1n,
          n,
          n - 1n,
          2n ** 256n - 1n,
          ...Array.from({ length: 12 }, (_, i) => BigInt(keccak256(toBeHex(i + 1)))),
        ].map(hex32);
        const check = createReadingSignatureCheck({ implementation });
        for (const key of keys) {
          const device = computeAddress(key.publicKey).toLowerCase() as Hex;
          for (const digest of digests) {
            const signature = key.sign(digest);
            const serialized = signature.serialized as Hex;
            expect(check.signedBy(digest, serialized, device), `${key.privateKey} ${digest}`).to.equal(true);
            const flipped = Signature.from({ r: signature.r, s: signature.s, v: signature.v === 27 ? 28 : 27 }).serialized as Hex;
            expect(recoverAddress(digest, flipped).toLowerCase()).to.not.equal(device);
            expect(check.signedBy(digest, flipped, device)).to.equal(false);
            const otherDigest = hex32((BigInt(digest) + 1n) % 2n ** 256n);
            expect(check.signedBy(otherDigest, serialized, device)).to.equal(
              recoverAddress(otherDigest, serialized).toLowerCase() === device,
            );
          }
        }
      });
    }
  });

  describe("verification", function () {
    let fixture: IngestFixture;
    beforeEach(async function () {
      fixture = await createIngestFixture();
    });
    afterEach(async function () {
      await fixture.close();
    });

    it("test_submit_validReadings_storedOnTheirLeg_inOrder", async function () {
      const readings = [0, 1, 2].map((minute) => fixture.device.sign(measurement(minute)));
      const outcomes = await Promise.all(readings.map((reading) => fixture.ingest.submit(wire(reading), "mqtt")));
      expect(outcomes).to.deep.equal(
        readings.map((reading) => ({ accepted: true, device: reading.device, sequence: reading.sequence, legId: fixture.legId })),
      );
      const stored = await fixture.store.listReadings({ legId: fixture.legId }, { limit: 10 });
      expect(stored.items.map(({ legId: _legId, receivedAt: _receivedAt, ...reading }) => reading)).to.deep.equal(readings);
      const metrics = await fixture.registry.getSingleMetricAsString("provena_coldchain_readings_total");
      expect(metrics).to.include('provena_coldchain_readings_total{outcome="accepted"} 3');
    });

    /** Submits `message` and expects it rejected for `reason`, stored with the reason and counted. */
    const expectRejected = async (message: unknown, reason: string) => {
      const outcome = await fixture.ingest.submit(message, "http");
      expect(outcome, JSON.stringify(outcome)).to.include({ accepted: false, reason });
      const counts = await fixture.store.rejectionCounts();
      expect(counts[reason as keyof typeof counts]).to.be.greaterThan(0);
      const kept = await fixture.store.listRejectedReadings({ reason: reason as never }, { limit: 500 });
      expect(kept.items.at(-1)!.reason).to.equal(reason);
    };

    it("test_forgedSignature_isBadSignature", async function () {
      const genuine = fixture.device.sign(measurement(1));
      const forged = { ...genuine, temperature: 300 }; // the attacker edits the value, keeps the signature
      await expectRejected(toWireReading(forged), "bad-signature");
      const stranger = createDeviceSigner(STRANGER_KEY, domain).sign(measurement(1));
      await expectRejected(toWireReading({ ...stranger, device: fixture.device.address }), "bad-signature");
      expect(await fixture.store.countReadings({ legId: fixture.legId })).to.equal(0);
    });

    it("test_unregisteredDevice_isUnknownDevice", async function () {
      await expectRejected(toWireReading(createDeviceSigner(STRANGER_KEY, domain).sign(measurement(1))), "unknown-device");
    });

    it("test_someoneElsesDeviceForThisBatch_andReadingsOutsideTheLeg_areNotAttached", async function () {
      // otherDevice is attached to another batch: it cannot report on this one.
      await expectRejected(toWireReading(fixture.otherDevice.sign(measurement(1))), "not-attached");
      // Before the leg began, and after it ended.
      await expectRejected(toWireReading(fixture.device.sign(measurement(-1))), "not-attached");
      await expectRejected(toWireReading(fixture.device.sign({ ...measurement(0), timestamp: LEG_END + 1 })), "not-attached");
      // Its own batch is fine.
      expect(await fixture.ingest.submit(toWireReading(fixture.otherDevice.sign(measurement(1, 450, OTHER_BATCH))), "http")).to.include({
        accepted: true,
      });
    });

    it("test_replay_andOutOfOrder_areRefused_theFirstStays", async function () {
      const first = fixture.device.sign(measurement(1));
      const second = fixture.device.sign(measurement(2));
      const third = fixture.device.sign(measurement(3));
      expect(await fixture.ingest.submit(wire(first), "mqtt")).to.include({ accepted: true });
      expect(await fixture.ingest.submit(wire(third), "mqtt")).to.include({ accepted: true });
      await expectRejected(wire(first), "replay");
      await expectRejected(wire(third), "replay");
      await expectRejected(wire(second), "out-of-order");
      const stored = await fixture.store.listReadings({ legId: fixture.legId }, { limit: 10 });
      expect(stored.items.map((reading) => reading.sequence)).to.deep.equal([first.sequence, third.sequence]);
    });

    it("test_storeFailing_theReadingIsNotLost_theDevicesRedeliveryIsAccepted", async function () {
      let failing = true;
      const flaky = new Proxy(fixture.store, {
        get(target, property, receiver) {
          if (property === "storeReadings" && failing) return () => Promise.reject(new Error("disk full"));
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const { createReadingVerifier } = await import("../../../backend/coldchain/reading-verifier.ts");
      const { createReadingIngest } = await import("../../../backend/coldchain/ingest-service.ts");
      const { Registry } = await import("prom-client");
      const ingest = createReadingIngest({
        store: flaky,
        verifier: createReadingVerifier({ store: flaky, domain, cacheTtlMs: 0 }),
        registry: new Registry(),
        maxDelayMs: 1,
        onError: () => {},
      });
      try {
        const reading = fixture.device.sign(measurement(1));
        const refused = await ingest.submit(wire(reading), "mqtt").then(
          () => null,
          (error: Error) => error,
        );
        expect(refused?.message).to.equal("disk full"); // no PUBACK: the device sends it again
        failing = false;
        expect(await ingest.submit(wire(reading), "mqtt")).to.include({ accepted: true, sequence: reading.sequence });
        const stored = await fixture.store.listReadings({ legId: fixture.legId }, { limit: 10 });
        expect(stored.items.map((item) => item.sequence)).to.deep.equal([reading.sequence]);
      } finally {
        await ingest.close();
      }
    });

    it("test_replay_afterRestart_isStillARefusedReplay", async function () {
      const first = fixture.device.sign(measurement(1));
      await fixture.ingest.submit(wire(first), "mqtt");
      const { createReadingVerifier } = await import("../../../backend/coldchain/reading-verifier.ts");
      const { createReadingIngest } = await import("../../../backend/coldchain/ingest-service.ts");
      const fresh = createReadingIngest({ store: fixture.store, verifier: createReadingVerifier({ store: fixture.store, domain }) });
      expect(await fresh.submit(wire(first), "mqtt")).to.include({ accepted: false, reason: "replay" });
      await fresh.close();
    });

    it("test_retiredDevice_countsForNothing_evenInsideItsOldLeg", async function () {
      const factory = createColdChainEventFactory(13);
      const other = fixture.otherDevice.address;
      await commitColdChainBlock(fixture.store, [
        factory.event("DeviceDetached", [legIdOf(other, OTHER_BATCH), other, OTHER_BATCH, LEG_END]),
        factory.event("DeviceRetired", [other, ACCOUNTS.carrier]),
      ]);
      await expectRejected(toWireReading(fixture.otherDevice.sign(measurement(1, 450, OTHER_BATCH))), "device-retired");
    });

    it("test_insaneValues_areRefusedWithTheirReason", async function () {
      await expectRejected(toWireReading(fixture.device.sign(measurement(1, 10_001))), "temperature-out-of-range");
      await expectRejected(toWireReading(fixture.device.sign(measurement(1, -10_001))), "temperature-out-of-range");
      await expectRejected(toWireReading(fixture.device.sign({ ...measurement(1), humidity: 10_001 })), "humidity-out-of-range");
      await expectRejected(toWireReading(fixture.device.sign({ ...measurement(1), latitude: 91_000_000 })), "position-out-of-range");
      const future = Math.floor(Date.now() / 1000) + 3_600;
      await expectRejected(toWireReading(fixture.device.sign({ ...measurement(1), timestamp: future })), "future-timestamp");
    });

    it("test_garbage_hugePayloads_andWrongTypes_areMalformed_andNothingCrashes", async function () {
      for (const message of [
        "not json",
        Buffer.from([0xff, 0xfe, 0x00]),
        "{}",
        "null",
        "[1,2,3]",
        JSON.stringify({ ...toWireReading(fixture.device.sign(measurement(1))), padding: "x".repeat(5_000) }),
        "x".repeat(100_000),
        { device: 7 },
        undefined,
      ]) {
        await expectRejected(message, "malformed");
      }
      // The ingest still works afterwards.
      expect(await fixture.ingest.submit(wire(fixture.device.sign(measurement(2))), "mqtt")).to.include({ accepted: true });
      const rejected = await fixture.store.listRejectedReadings({ reason: "malformed" }, { limit: 500 });
      for (const kept of rejected.items) expect(kept.payload.length).to.be.at.most(2_048);
    });
  });

  describe("suspended carrier", function () {
    it("test_suspendedCarriersDevices_countForNothing", async function () {
      const fixture = await createIngestFixture({ suspendCarrier: true });
      try {
        const outcome = await fixture.ingest.submit(wire(fixture.device.sign(measurement(1))), "mqtt");
        expect(outcome).to.include({ accepted: false, reason: "carrier-suspended" });
      } finally {
        await fixture.close();
      }
    });
  });

  describe("signature pool", function () {
    it("test_verifyAll_onWorkerThreads_sameVerdictsAsInline", async function () {
      this.timeout(30_000);
      const { createSignaturePool } = await import("../../../backend/coldchain/signature-pool.ts");
      const { createReadingVerifier } = await import("../../../backend/coldchain/reading-verifier.ts");
      const fixture = await createIngestFixture();
      const pool = createSignaturePool({ threads: 2 });
      try {
        const verifier = createReadingVerifier({ store: fixture.store, domain, signaturePool: pool });
        const good = [1, 2, 3].map((minute) => fixture.device.sign(measurement(minute)));
        const forged = { ...fixture.device.sign(measurement(4)), temperature: 100 };
        const other = fixture.otherDevice.sign(measurement(1, 450, OTHER_BATCH));
        const verdicts = await verifier.verifyAll(
          [good[0]!, forged, good[1]!, other, good[1]!, good[2]!].map((reading) => ({ payload: toWireReading(reading), receivedAt: 1 })),
        );
        expect(verdicts.map((verdict) => (verdict.accepted ? `ok ${verdict.reading.sequence}` : verdict.reason))).to.deep.equal([
          "ok 1",
          "bad-signature",
          "ok 2",
          "ok 1",
          "replay",
          "ok 3",
        ]);
      } finally {
        await pool.close();
        await fixture.close();
      }
    });
  });

  describe("on a file (readings stored by the writer thread)", function () {
    it("test_submit_whileTheIndexerCommits_everyReadingStoredInOrder_andCloseDrains", async function () {
      this.timeout(30_000);
      const directory = mkdtempSync(join(tmpdir(), "provena-ingest-file-"));
      const path = join(directory, "provena.db");
      const fixture = await createIngestFixture({ path });
      try {
        // The indexer keeps writing on the store's own connection while the thread stores readings.
        const factory = createColdChainEventFactory(13);
        const readings = Array.from({ length: 600 }, (_, minute) => fixture.device.sign(measurement(minute)));
        const outcomes = readings.map((reading) => fixture.ingest.submit(wire(reading), "mqtt"));
        for (let block = 0; block < 10; block++) {
          await commitColdChainBlock(fixture.store, [
            factory.event("DeviceRegistered", [`0x${(0x3000 + block).toString(16).padStart(40, "0")}`, ACCOUNTS.carrier]),
          ]);
          factory.nextBlock();
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        expect((await Promise.all(outcomes)).every((outcome) => outcome.accepted)).to.equal(true);
        expect(await fixture.store.countReadings({ legId: fixture.legId })).to.equal(600);
        expect((await fixture.store.getCheckpoint(31337))?.blockNumber).to.equal(22);

        // Submitted and not awaited, then closed: every one is stored before the store closes.
        const late = [600, 601, 602].map((minute) => fixture.ingest.submit(wire(fixture.device.sign(measurement(minute))), "mqtt"));
        await fixture.close();
        expect((await Promise.all(late)).every((outcome) => outcome.accepted)).to.equal(true);
        const reopened = createSqliteStore({ path });
        try {
          const stored = await reopened.listReadings({ legId: fixture.legId }, { limit: 500 });
          expect(stored.items.map((reading) => reading.sequence)).to.deep.equal(Array.from({ length: 500 }, (_, index) => index + 1));
          expect(await reopened.countReadings({ legId: fixture.legId })).to.equal(603);
        } finally {
          await reopened.close();
        }
      } finally {
        await fixture.close();
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe("queue", function () {
    it("test_fullQueue_rejectsAsOverloaded_storedAndCounted_neverDropsSilently", async function () {
      const { createReadingIngest } = await import("../../../backend/coldchain/ingest-service.ts");
      const { createReadingVerifier } = await import("../../../backend/coldchain/reading-verifier.ts");
      const fixture = await createIngestFixture();
      try {
        const small = createReadingIngest({
          store: fixture.store,
          verifier: createReadingVerifier({ store: fixture.store, domain }),
          maxQueued: 2,
          batchSize: 100,
          maxDelayMs: 20,
        });
        const readings = [1, 2, 3, 4].map((minute) => fixture.device.sign(measurement(minute)));
        const outcomes = await Promise.all(readings.map((reading) => small.submit(wire(reading), "mqtt")));
        expect(outcomes.map((outcome) => (outcome.accepted ? "accepted" : outcome.reason))).to.deep.equal([
          "accepted",
          "accepted",
          "overloaded",
          "overloaded",
        ]);
        expect((await fixture.store.rejectionCounts()).overloaded).to.equal(2);
        await small.close();
      } finally {
        await fixture.close();
      }
    });
  });
});
