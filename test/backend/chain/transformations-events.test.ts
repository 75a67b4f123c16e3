import { expect } from "chai";
import { Interface } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder } from "../../../backend/chain/events.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, bytes32, timestampOf } from "../projections/event-factory.ts";

describe("transformations events", function () {
  const TRANSFORMATIONS = "0x00000000000000000000000000000000000000c6";
  const abis = loadProvenaAbis();
  const decoder = createEventDecoder({ deployment: { ...TEST_DEPLOYMENT, transformations: TRANSFORMATIONS }, abis });
  const iface = new Interface(abis.Transformations!);
  const decode = (name: string, values: unknown[]) => {
    const { topics, data } = iface.encodeEventLog(name, values);
    return decoder.decode(
      {
        address: TRANSFORMATIONS,
        topics,
        data,
        blockNumber: 7,
        blockHash: bytes32("block 7"),
        transactionHash: bytes32("tx"),
        transactionIndex: 0,
        index: 3,
      },
      timestampOf(7),
    );
  };

  it("test_decode_TransformationRecorded_keysEveryInputAndOutputBatch", function () {
    const inputs = [bytes32("input 1"), bytes32("input 2")];
    const outputs = [bytes32("output 1")];
    const recipe = bytes32("recipe");
    const event = decode("TransformationRecorded", [1n, ACCOUNTS.manufacturer, 8712345000202n, inputs, [40n, 60n], outputs, recipe]);
    expect(event.contract).to.equal("Transformations");
    expect(event.args).to.deep.equal({
      transformationId: "1",
      processor: ACCOUNTS.manufacturer.toLowerCase(),
      locationGln: "8712345000202",
      inputIds: inputs,
      inputQuantities: ["40", "60"],
      outputIds: outputs,
      documentHash: recipe,
    });
    expect(event.batchIds).to.have.members([...inputs, ...outputs]);
    expect(event.accounts).to.deep.equal([ACCOUNTS.manufacturer.toLowerCase()]);
    expect(decoder.addresses).to.include(TRANSFORMATIONS);
  });

  it("test_decode_RecalledInputFlagged_keysTheOutputAndTheInput", function () {
    const [outputId, inputId] = [bytes32("output"), bytes32("input")];
    const event = decode("RecalledInputFlagged", [outputId, inputId, 1n, ACCOUNTS.carrier]);
    expect(event.batchIds).to.have.members([outputId, inputId]);
    expect(event.accounts).to.deep.equal([ACCOUNTS.carrier.toLowerCase()]);
  });
});
