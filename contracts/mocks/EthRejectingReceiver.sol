// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Test-only contract party that cannot take ETH pushed to it
/// @notice Acts as a buyer, seller or carrier through `execute`. Incoming ETH either reverts or burns
/// all the gas it is given (a griefing payee), so a push payment to it always fails and must be
/// credited; it can still collect a credit with `withdrawTo` another address.
contract EthRejectingReceiver {
    bool private _burnGas;

    error EthRejectingReceiverCallFailed(bytes returnData);
    error EthRejected();

    /// @notice When true incoming ETH burns all forwarded gas instead of reverting at once.
    function setBurnGas(bool burnGas) external {
        _burnGas = burnGas;
    }

    /// @notice Calls `target` with `data` and `msg.value`, bubbling a failure up.
    function execute(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool success, bytes memory returnData) = target.call{value: msg.value}(data);
        if (!success) revert EthRejectingReceiverCallFailed(returnData);
        return returnData;
    }

    receive() external payable {
        if (_burnGas) {
            while (gasleft() > 1_000) {}
        }
        revert EthRejected();
    }
}
