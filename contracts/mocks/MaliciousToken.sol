// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test-only hostile ERC-20
/// @notice While armed, every `transfer` and `transferFrom` first calls `target` with `payload` (a
/// re-entrancy attempt) and reports the outcome in `ReentryAttempted`; it can also be told to make
/// transfers from or to a given account revert or return false, as a blocklisting or broken token would.
contract MaliciousToken is ERC20 {
    enum TransferMode {
        Normal,
        Revert,
        ReturnFalse
    }

    address private _target;
    bytes private _payload;
    bool private _armed;
    address private _blocked;
    TransferMode private _mode;

    /// @notice Emitted after the token tried to call back into `target` during a transfer.
    event ReentryAttempted(address indexed target, bool success, bytes returnData);

    error MaliciousTokenBlocked(address account);

    constructor() ERC20("Malicious Token", "EVIL") {}

    /// @notice Mints `amount` to `to` (test helper, no access control).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the token: the next transfers call `target` with `payload` before moving tokens.
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
        _armed = true;
    }

    /// @notice Stops the re-entrancy attempts.
    function disarm() external {
        _armed = false;
    }

    /// @notice Makes transfers from or to `account` fail in the given way (`Normal` undoes it).
    function setTransferMode(address account, TransferMode mode) external {
        _blocked = account;
        _mode = mode;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (!_beforeTransfer(_msgSender(), to)) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (!_beforeTransfer(from, to)) return false;
        return super.transferFrom(from, to, value);
    }

    function _beforeTransfer(address from, address to) private returns (bool proceed) {
        if (_armed) {
            // One attempt per transfer; disarmed during the call so the attempt cannot loop.
            _armed = false;
            (bool success, bytes memory returnData) = _target.call(_payload);
            _armed = true;
            emit ReentryAttempted(_target, success, returnData);
        }
        bool blocked = from == _blocked || to == _blocked;
        if (blocked && _mode == TransferMode.Revert) revert MaliciousTokenBlocked(_blocked);
        return !(blocked && _mode == TransferMode.ReturnFalse);
    }
}
