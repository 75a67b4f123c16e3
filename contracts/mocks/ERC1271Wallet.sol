// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Test-only smart-contract wallet (ERC-1271) with one owning key
/// @notice Acts as a seller through `execute` and accepts a signature when its owner made it.
contract ERC1271Wallet is IERC1271 {
    address private immutable _owner;

    error ERC1271WalletCallFailed(bytes returnData);
    error ERC1271WalletNotOwner(address caller);

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice The owner calls `target` with `data`, bubbling a failure up.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != _owner) revert ERC1271WalletNotOwner(msg.sender);
        (bool success, bytes memory returnData) = target.call(data);
        if (!success) revert ERC1271WalletCallFailed(returnData);
        return returnData;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecoverCalldata(hash, signature);
        return error == ECDSA.RecoverError.NoError && signer == _owner ? this.isValidSignature.selector : bytes4(0xffffffff);
    }
}
