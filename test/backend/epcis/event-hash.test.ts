/**
 * The EPCIS event hash against GS1's published vectors (event-hash-vectors/, from the reference implementation),
 * and the properties the algorithm promises: representation-independent, sensitive to every relevant change.
 */
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { EventHashError, canonicalTimestamp, eventHashId, eventPreHashString, type JsonObject } from "../../../backend/epcis/event-hash.ts";
import { canonicalDigitalLink, locationUri, lotUri, partyUri, unitUri } from "../../../backend/epcis/identifiers.ts";

const VECTORS = path.resolve("test/backend/epcis/event-hash-vectors");

function loadVector(name: string) {
  const document = JSON.parse(readFileSync(path.join(VECTORS, `${name}.jsonld`), "utf8")) as JsonObject;
  const namespaces: Record<string, string> = {};
  for (const entry of [document["@context"]].flat()) {
    if (entry && typeof entry === "object" && !Array.isArray(entry))
      for (const [prefix, iri] of Object.entries(entry)) if (typeof iri === "string") namespaces[prefix] = iri;
  }
  const body = document.epcisBody as JsonObject;
  const events = ((body.eventList ?? ((body.queryResults as JsonObject).resultsBody as JsonObject).eventList) as JsonObject[]) ?? [];
  const hashes = readFileSync(path.join(VECTORS, `${name}.hashes`), "utf8")
    .split("\n")
    .filter(Boolean);
  return { events, namespaces, hashes };
}

const ONE_EVENT: JsonObject = {
  type: "ObjectEvent",
  eventTime: "2020-03-04T11:00:30.000+01:00",
  eventTimeZoneOffset: "+01:00",
  epcList: ["urn:epc:id:sgtin:4012345.011111.2", "urn:epc:id:sgtin:4012345.011111.1"],
  action: "OBSERVE",
  bizStep: "shipping",
  readPoint: { id: "urn:epc:id:sgln:4012345.00011.0" },
  sourceList: [{ type: "possessing_party", source: "urn:epc:id:pgln:4012345.00000" }],
};

describe("EPCIS event hash", function () {
  const names = readdirSync(VECTORS)
    .filter((file) => file.endsWith(".jsonld"))
    .map((file) => file.slice(0, -".jsonld".length));

  it("test_eventHashId_gs1ReferenceVectors_allMatch", function () {
    expect(names.length).to.be.greaterThanOrEqual(10);
    let checked = 0;
    for (const name of names) {
      const { events, namespaces, hashes } = loadVector(name);
      expect(events.length, name).to.equal(hashes.length);
      events.forEach((event, index) => {
        expect(eventHashId(event, namespaces), `${name} #${index}`).to.equal(hashes[index]);
        checked++;
      });
    }
    expect(checked).to.be.greaterThanOrEqual(25);
  });

  it("test_eventHashId_fieldOrderListOrderAndIdentifierForm_sameHash", function () {
    const reordered: JsonObject = {
      sourceList: ONE_EVENT.sourceList!,
      readPoint: { id: "https://id.gs1.org/414/4012345000115" },
      bizStep: "https://ref.gs1.org/cbv/BizStep-shipping",
      action: "OBSERVE",
      epcList: ["https://id.gs1.org/01/04012345111118/21/1", "urn:epc:id:sgtin:4012345.011111.2"],
      eventTimeZoneOffset: "+01:00",
      eventTime: "2020-03-04T10:00:30Z",
      type: "ObjectEvent",
      eventID: "ni:///sha-256;ignored?ver=CBV2.0",
      recordTime: "2024-01-01T00:00:00Z",
    };
    expect(eventHashId(reordered)).to.equal(eventHashId(ONE_EVENT));
  });

  it("test_eventHashId_anyRelevantChange_differentHash", function () {
    const base = eventHashId(ONE_EVENT);
    const changes: JsonObject[] = [
      { ...ONE_EVENT, eventTime: "2020-03-04T11:00:30.001+01:00" },
      { ...ONE_EVENT, bizStep: "receiving" },
      { ...ONE_EVENT, epcList: ["urn:epc:id:sgtin:4012345.011111.1"] },
      { ...ONE_EVENT, disposition: "in_transit" },
      { ...ONE_EVENT, "provena:logIndex": 1 },
    ];
    for (const changed of changes) expect(eventHashId(changed, { provena: "https://provena.dev/epcis/" })).to.not.equal(base);
  });

  it("test_canonicalTimestamp_fourthFractionalDigit_roundsHalfUp", function () {
    expect(canonicalTimestamp("2023-01-18T11:04:03.1415Z")).to.equal("2023-01-18T11:04:03.142Z");
    expect(canonicalTimestamp("2023-01-18T11:04:03.1414Z")).to.equal("2023-01-18T11:04:03.141Z");
    expect(canonicalTimestamp("2023-01-18T00:30:00-02:30")).to.equal("2023-01-18T03:00:00.000Z");
    expect(() => canonicalTimestamp("yesterday")).to.throw(EventHashError);
  });

  it("test_eventPreHashString_sensorDataOrNoType_refused", function () {
    expect(() => eventPreHashString({ ...ONE_EVENT, sensorElementList: [] })).to.throw(EventHashError, /sensor/);
    expect(() => eventPreHashString({ eventTime: "2020-03-04T10:00:30Z" })).to.throw(EventHashError, /type/);
  });
});

describe("EPCIS identifiers", function () {
  it("test_unitUri_grantedPrefix_splitsAtItsLength", function () {
    // GTIN 04012345111118: with the 7-digit prefix 4012345 the item reference is 0 + 11111; with 9 digits 0 + 111.
    expect(unitUri("04012345111118", "A/1", ["4012345"])).to.equal("urn:epc:id:sgtin:4012345.011111.A%2F1");
    expect(unitUri("04012345111118", "7", ["401234511"])).to.equal("urn:epc:id:sgtin:401234511.0111.7");
    expect(lotUri("04012345111118", "L1", ["4012345", "40123451"])).to.equal("urn:epc:class:lgtin:40123451.01111.L1");
    expect(locationUri("4012345000115", ["4012345"])).to.equal("urn:epc:id:sgln:4012345.00011.0");
    expect(partyUri("4012345000009", ["4012345"])).to.equal("urn:epc:id:pgln:4012345.00000");
  });

  it("test_unitUri_noGrantedPrefix_digitalLink", function () {
    expect(unitUri("04012345111118", "A/1", [])).to.equal("https://id.gs1.org/01/04012345111118/21/A%2F1");
    expect(lotUri("04012345111118", "L(1)", ["999999"])).to.equal("https://id.gs1.org/01/04012345111118/10/L%281%29");
    expect(locationUri("4012345000115", ["4012"])).to.equal("https://id.gs1.org/414/4012345000115");
    expect(partyUri("4012345000009", [])).to.equal("https://id.gs1.org/417/4012345000009");
  });

  it("test_canonicalDigitalLink_epcUris_sameKeyAsFallback", function () {
    // The EPC URI and the Digital Link fallback name the same thing, so the event hash does not depend on the form.
    for (const [gtin, serial, prefix] of [
      ["04012345111118", "A/1!", "4012345"],
      ["09506000134352", "x:y", "950600013"],
    ] as const) {
      expect(canonicalDigitalLink(unitUri(gtin, serial, [prefix]))).to.equal(unitUri(gtin, serial, []));
      expect(canonicalDigitalLink(lotUri(gtin, serial, [prefix]))).to.equal(lotUri(gtin, serial, []));
    }
    expect(canonicalDigitalLink("urn:epc:id:sgln:4012345.00011.0")).to.equal("https://id.gs1.org/414/4012345000115");
    expect(canonicalDigitalLink("urn:epc:id:sgtin:4012.345.1")).to.equal(null); // 4-digit prefix: no EPC partition
    expect(canonicalDigitalLink("urn:example:thing")).to.equal(null);
  });
});
