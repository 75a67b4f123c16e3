import { expect } from "chai";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import { coldChainKeysOf, projectColdChain } from "../../../backend/projections/cold-chain.ts";
import { projectionKeysOfAll } from "../../../backend/projections/project.ts";
import { ACCOUNTS } from "../projections/event-factory.ts";
import { FRIDGE, createColdChainEventFactory } from "./cold-chain-events.ts";
import { ATTACHED_AT, BATCH, CARRIER, DEVICE, GTIN, LEG, coldChainScenarioEvents } from "./cold-chain-scenario.ts";

const none = { devices: [], legs: [], batchConditions: [], productConditions: [] };

describe("Cold-chain projection", function () {
  it("test_decoder_coldChainEvents_jsonArgs_andEntityKeys", function () {
    const [registered, conditions, product] = coldChainScenarioEvents()[0]!;
    expect(registered).to.include({ contract: "ColdChain", name: "DeviceRegistered" });
    expect(registered!.args).to.deep.equal({ device: DEVICE, carrier: CARRIER });
    expect(registered!.accounts).to.have.members([DEVICE, CARRIER]);
    expect(conditions!.args.conditions).to.deep.equal(FRIDGE);
    expect(conditions!.batchIds).to.deep.equal([BATCH]);
    expect(product!.args.gtin).to.equal(GTIN);
  });

  it("test_coldChainEvents_touchNoRegistryProjection", function () {
    const keys = projectionKeysOfAll(coldChainScenarioEvents().flat());
    expect(keys).to.deep.equal({ batchIds: [], orderIds: [], participants: [] });
  });

  it("test_projectColdChain_wholeScenarioInOneRange", function () {
    const events = coldChainScenarioEvents().flat();
    expect(coldChainKeysOf(events)).to.deep.equal({ devices: [DEVICE], legIds: [LEG], batchIds: [BATCH], gtins: [GTIN] });
    const changes = projectColdChain([...events].reverse(), none);
    expect(changes.devices).to.have.length(1);
    expect(changes.devices[0]).to.include({ currentLegId: null, retired: false });
    expect(changes.legs[0]).to.include({ attachedAt: ATTACHED_AT, breached: true, excursionSeconds: 2_280 });
    expect(changes.anchors).to.have.length(1);
    expect(changes.breaches).to.have.length(1);
    expect(changes.legs[0]!.lastEvent.eventId).to.equal(events.at(-1)!.id);
  });

  it("test_projectColdChain_retiredDevice_isRetiredAndDetached", function () {
    const factory = createColdChainEventFactory();
    const events = [
      factory.event("DeviceRegistered", [DEVICE, CARRIER]),
      factory.event("DeviceAttached", [LEG, DEVICE, BATCH, CARRIER, ATTACHED_AT]),
      factory.event("DeviceDetached", [LEG, DEVICE, BATCH, ATTACHED_AT + 5]),
      factory.event("DeviceRetired", [DEVICE, CARRIER]),
    ];
    const [device] = projectColdChain(events, none).devices;
    expect(device).to.include({ retired: true, currentLegId: null });
  });

  it("test_projectColdChain_attachOfAnUnknownDevice_isAProjectionError", function () {
    const factory = createColdChainEventFactory();
    const attach = factory.event("DeviceAttached", [LEG, DEVICE, BATCH, ACCOUNTS.carrier, ATTACHED_AT]);
    expect(() => projectColdChain([attach], none)).to.throw(ProjectionError, /not registered/);
  });
});
