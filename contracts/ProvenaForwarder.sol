// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title Provena's ERC-2771 forwarder for gasless partner actions
/// @notice A relayer submits a partner's EIP-712 signed `ForwardRequest` (domain name "ProvenaForwarder",
/// version "1") and pays the gas; the target contract (the ProvenanceRegistry, the TradeEscrow) sees the
/// signer as the caller. Nonces, deadlines and signatures are checked by OpenZeppelin's ERC2771Forwarder.
contract ProvenaForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("ProvenaForwarder") {}
}
