// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Test-only contract party that tries to re-enter its payer when it receives ETH
/// @notice It acts as a buyer, seller or carrier through `execute`, and on every ETH receipt it calls
/// `target` with `payload` (e.g. the escrow's `refund` or `withdraw`) and reports the outcome. It accepts
/// the ETH either way, so a blocked re-entry does not turn into a failed payment. It can also be told to
/// refuse ETH for a while, to collect a credit it later withdraws (and re-enters `withdraw` from).
contract ReentrantReceiver {
    address private _target;
    bytes private _payload;
    bool private _refusing;

    /// @notice Emitted after each re-entrancy attempt made on receipt of ETH.
    event ReentryAttempted(address indexed target, bool success, bytes returnData);

    error ReentrantReceiverCallFailed(bytes returnData);
    error ReentrantReceiverRefused();

    /// @notice Sets the call made on each ETH receipt (an empty payload disables it).
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
    }

    /// @notice While true, incoming ETH is refused (reverts) instead of triggering the re-entry.
    function setRefusing(bool refusing) external {
        _refusing = refusing;
    }

    /// @notice Calls `target` with `data` and `msg.value`, bubbling a failure up.
    function execute(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool success, bytes memory returnData) = target.call{value: msg.value}(data);
        if (!success) revert ReentrantReceiverCallFailed(returnData);
        return returnData;
    }

    receive() external payable {
        if (_refusing) revert ReentrantReceiverRefused();
        if (_payload.length == 0) return;
        (bool success, bytes memory returnData) = _target.call(_payload);
        emit ReentryAttempted(_target, success, returnData);
    }
}
