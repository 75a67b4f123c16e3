import { expect } from "chai";
import { currentDesignLinks, designRecordsOf } from "../../../backend/designs/design-records.ts";
import { ACCOUNTS, bytes32, createEventFactory, timestampOf } from "../projections/event-factory.ts";

const GTIN = 8412345000102n;

describe("design records (the mirror's projection of DesignRegistry events)", function () {
  it("test_designRecordsOf_registrationAndLinks_decodedFromTheCompiledAbi", function () {
    const factory = createEventFactory(20);
    const root = bytes32("root");
    const registered = factory.event("DesignRegistry", "DesignRegistered", [
      ACCOUNTS.manufacturer,
      root,
      "Bottle",
      "CC-BY-4.0",
      bytes32("licence"),
    ]);
    factory.nextBlock();
    const linked = factory.event("DesignRegistry", "DesignLinked", [GTIN, ACCOUNTS.manufacturer, root, ACCOUNTS.manufacturer]);
    const other = factory.event("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.carrier]);

    const records = designRecordsOf([linked, other, registered]);
    expect(records.registrations).to.deep.equal([
      {
        eventId: registered.id,
        chainId: registered.chainId,
        blockNumber: 20,
        transactionHash: registered.transactionHash,
        registrant: ACCOUNTS.manufacturer,
        root,
        registeredAt: timestampOf(20),
        title: "Bottle",
        licence: "CC-BY-4.0",
        licenceHash: bytes32("licence"),
      },
    ]);
    expect(records.linkChanges).to.deep.equal([
      {
        eventId: linked.id,
        chainId: linked.chainId,
        blockNumber: 21,
        transactionHash: linked.transactionHash,
        registrant: ACCOUNTS.manufacturer,
        root,
        gtin: "08412345000102",
        linked: true,
        by: ACCOUNTS.manufacturer,
        at: timestampOf(21),
      },
    ]);
  });

  it("test_currentDesignLinks_unlinkRemoves_relinkCountsFromTheRelink", function () {
    const factory = createEventFactory(30);
    const [first, second] = [bytes32("first"), bytes32("second")];
    const events = [
      factory.event("DesignRegistry", "DesignLinked", [GTIN, ACCOUNTS.manufacturer, first, ACCOUNTS.manufacturer]),
      factory.event("DesignRegistry", "DesignLinked", [GTIN, ACCOUNTS.carrier, second, ACCOUNTS.manufacturer]),
      factory.event("DesignRegistry", "DesignUnlinked", [GTIN, ACCOUNTS.manufacturer, first, ACCOUNTS.manufacturer]),
    ];
    factory.nextBlock();
    const relinked = factory.event("DesignRegistry", "DesignLinked", [GTIN, ACCOUNTS.manufacturer, first, ACCOUNTS.manufacturer]);
    const { linkChanges } = designRecordsOf([...events, relinked]);

    expect(currentDesignLinks(linkChanges.slice(0, 3)).map((link) => link.root)).to.deep.equal([second]);
    const now = currentDesignLinks([...linkChanges].reverse());
    expect(now.map((link) => [link.root, link.eventId])).to.deep.equal([
      [second, events[1]!.id],
      [first, relinked.id],
    ]);
    expect(now[0]).to.not.have.property("linked");
  });
});
