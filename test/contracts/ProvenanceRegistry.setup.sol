// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ProvenaForwarder} from "../../contracts/ProvenaForwarder.sol";
import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {CheatsBase} from "../helpers/Vm.sol";

/// @dev Deploys the forwarder and the registry (this contract is the admin) and onboards one participant
/// per role plus a second carrier; the manufacturer holds the GTIN's company prefix. Shared by the fuzz and invariant suites.
abstract contract ProvenanceRegistrySetup is CheatsBase {
    uint64 internal constant GTIN = 8412345000102; // GTIN-13 with its check digit
    uint64 internal constant COMPANY_PREFIX = 8412345; // the manufacturer's GS1 company prefix (7 digits)
    uint8 internal constant COMPANY_PREFIX_LENGTH = 7;
    uint64 internal constant GLN = 8412345000012;
    uint40 internal constant PRODUCTION_DATE = 1_700_000_000;
    bytes32 internal constant SERIAL_ROOT = keccak256("serial root");

    ProvenaForwarder internal forwarder;
    ProvenanceRegistry internal registry;

    address internal manufacturer = address(0x1001);
    address internal carrier = address(0x1002);
    address internal warehouse = address(0x1003);
    address internal inspector = address(0x1004);
    address internal regulator = address(0x1005);
    address internal retailer = address(0x1006);

    /// @dev Every onboarded participant, in id order (ids 1..6).
    address[] internal participants;

    function _deployRegistry() internal {
        vm.warp(1_750_000_000);
        forwarder = new ProvenaForwarder();
        registry = new ProvenanceRegistry(address(forwarder), address(this), 0);
        _onboard(manufacturer, registry.MANUFACTURER_ROLE());
        registry.grantCompanyPrefix(manufacturer, COMPANY_PREFIX, COMPANY_PREFIX_LENGTH);
        _onboard(carrier, registry.CARRIER_ROLE());
        _onboard(warehouse, registry.CARRIER_ROLE());
        _onboard(inspector, registry.INSPECTOR_ROLE());
        _onboard(regulator, registry.REGULATOR_ROLE());
        _onboard(retailer, registry.RETAILER_ROLE());
    }

    function _onboard(address account, bytes32 role) internal {
        registry.onboardParticipant(account, role, GLN, "participant");
        participants.push(account);
    }

    /// @dev Registers a batch as the manufacturer and returns its id.
    function _register(string memory lot, uint64 quantity) internal returns (bytes32 batchId) {
        vm.prank(manufacturer);
        batchId = registry.registerBatch(GTIN, lot, quantity, PRODUCTION_DATE, GLN, bytes32(0), SERIAL_ROOT);
    }

    function _custodian(bytes32 batchId) internal view returns (address custodian) {
        (, custodian,,,,,,) = registry.batch(batchId);
    }

    function _pending(bytes32 batchId) internal view returns (address pending) {
        (,, pending,,,,,) = registry.batch(batchId);
    }

    function _status(bytes32 batchId) internal view returns (IProvenanceRegistry.BatchStatus status) {
        (status,) = registry.batchStatus(batchId);
    }

    function _quantity(bytes32 batchId) internal view returns (uint64 quantity) {
        (,,,,, quantity,,) = registry.batch(batchId);
    }

    /// @dev A lot from character set 82 that is unique per `n`.
    function _lot(string memory prefix, uint256 n) internal pure returns (string memory) {
        return string.concat(prefix, "-", _decimal(n));
    }

    function _decimal(uint256 n) internal pure returns (string memory) {
        if (n == 0) return "0";
        bytes memory digits;
        while (n != 0) {
            digits = bytes.concat(bytes1(uint8(48 + (n % 10))), digits);
            n /= 10;
        }
        return string(digits);
    }
}
