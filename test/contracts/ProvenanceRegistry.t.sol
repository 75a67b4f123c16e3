// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {GS1} from "../../contracts/libraries/GS1.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @notice Fuzz tests of the properties that must never break: only the custodian moves custody, split
/// quantities sum to the parent, a recalled batch never moves; plus the GS1 checks against reference code.
contract ProvenanceRegistryFuzzTest is ProvenanceRegistrySetup {
    bytes32 internal batchId;

    function setUp() public {
        _deployRegistry();
        batchId = _register("LOT-1", 1_000);
    }

    // ------------------------------------------------------------------ only the custodian moves custody

    function testFuzz_proposeHandoff_revertsForAnyoneButTheCustodian(address caller, uint256 receiverSeed) public {
        vm.assume(caller != manufacturer && caller != address(forwarder));
        address receiver = participants[bound(receiverSeed, 1, participants.length - 1)];

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.BatchNotCustodian.selector, batchId, caller));
        registry.proposeHandoff(batchId, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping);

        assertEq(_custodian(batchId), manufacturer, "custodian");
        assertEq(_pending(batchId), address(0), "pending custodian");
    }

    function testFuzz_acceptHandoff_revertsForAnyoneButTheReceiver(address caller) public {
        vm.assume(caller != carrier && caller != address(forwarder));
        vm.prank(manufacturer);
        registry.proposeHandoff(batchId, carrier, GLN, IProvenanceRegistry.BusinessStep.Shipping);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.HandoffNotReceiver.selector, batchId, caller));
        registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);

        assertEq(_custodian(batchId), manufacturer, "custodian");
        assertEq(_pending(batchId), carrier, "pending custodian");
    }

    /// @dev Custody follows a random chain of handoffs, each proposed by the custodian of the moment and
    /// answered by the receiver; outsiders' attempts in between change nothing.
    function testFuzz_custodyFollowsOnlyAcceptedHandoffs(uint256 seed, address outsider) public {
        vm.assume(outsider != address(forwarder));
        address expected = manufacturer;
        for (uint256 step; step < 8; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            address receiver = participants[seed % participants.length];
            if (receiver == expected) continue;

            if (outsider != expected) {
                vm.prank(outsider);
                vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.BatchNotCustodian.selector, batchId, outsider));
                registry.proposeHandoff(batchId, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping);
            }

            vm.prank(expected);
            registry.proposeHandoff(batchId, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping);
            if (outsider != receiver) {
                vm.prank(outsider);
                vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.HandoffNotReceiver.selector, batchId, outsider));
                registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
            }

            vm.prank(receiver);
            if ((seed >> 128) % 3 == 0) {
                registry.rejectHandoff(batchId, bytes32(0)); // custody stays
            } else {
                registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
                expected = receiver;
            }
            assertEq(_custodian(batchId), expected, "custodian after handoff");
            assertEq(_pending(batchId), address(0), "no pending handoff");
        }
    }

    // ------------------------------------------------------------------ split quantities

    function testFuzz_splitBatch_childQuantitiesSumToParent(uint64 parentQuantity, uint256 childCountSeed, uint256 seed)
        public
    {
        uint256 childCount = bound(childCountSeed, 2, 12);
        parentQuantity = uint64(bound(parentQuantity, childCount, type(uint64).max));
        bytes32 parentId = _register("PARENT", parentQuantity);

        // Random positive parts that add up to the parent quantity.
        IProvenanceRegistry.ChildBatch[] memory children = new IProvenanceRegistry.ChildBatch[](childCount);
        uint64 remaining = parentQuantity;
        for (uint256 i; i < childCount; ++i) {
            uint256 childrenLeft = childCount - i;
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint64 quantity = childrenLeft == 1 ? remaining : uint64(bound(seed, 1, remaining - (childrenLeft - 1)));
            remaining -= quantity;
            children[i] = IProvenanceRegistry.ChildBatch({lot: string.concat("PARENT/", _decimal(i)), quantity: quantity, serialRoot: SERIAL_ROOT});
        }

        vm.prank(manufacturer);
        bytes32[] memory childIds = registry.splitBatch(parentId, children);

        uint256 total;
        for (uint256 i; i < childIds.length; ++i) {
            total += _quantity(childIds[i]);
            assertEq(_custodian(childIds[i]), manufacturer, "child custodian");
            assertTrue(_status(childIds[i]) == IProvenanceRegistry.BatchStatus.Registered, "child registered");
        }
        assertEq(total, parentQuantity, "children add up to the parent");
        assertTrue(_status(parentId) == IProvenanceRegistry.BatchStatus.Split, "parent split");
    }

    function testFuzz_splitBatch_revertsWhenQuantitiesDoNotAddUp(uint64 parentQuantity, uint64 first, uint64 second)
        public
    {
        parentQuantity = uint64(bound(parentQuantity, 1, type(uint64).max));
        first = uint64(bound(first, 1, type(uint64).max));
        second = uint64(bound(second, 1, type(uint64).max));
        uint256 sum = uint256(first) + second;
        vm.assume(sum != parentQuantity);
        bytes32 parentId = _register("PARENT", parentQuantity);

        IProvenanceRegistry.ChildBatch[] memory children = new IProvenanceRegistry.ChildBatch[](2);
        children[0] = IProvenanceRegistry.ChildBatch({lot: "PARENT/A", quantity: first, serialRoot: SERIAL_ROOT});
        children[1] = IProvenanceRegistry.ChildBatch({lot: "PARENT/B", quantity: second, serialRoot: SERIAL_ROOT});
        uint64 reported = sum > type(uint64).max ? type(uint64).max : uint64(sum);

        vm.prank(manufacturer);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.SplitInvalid.selector, parentId, parentQuantity, reported, 2)
        );
        registry.splitBatch(parentId, children);
        assertTrue(_status(parentId) == IProvenanceRegistry.BatchStatus.Registered, "parent untouched");
    }

    // ------------------------------------------------------------------ company prefixes

    /// @dev A prefix of any length 4..12 granted to a second manufacturer decides its GTINs, except where the
    /// manufacturer's longer prefix (8412345, 7 digits) matches too: the longest granted prefix wins. A prefix
    /// inside the manufacturer's is refused, so its GTINs stay the manufacturer's.
    function testFuzz_companyPrefixOf_longestGrantedPrefixDecides(uint64 gtinSeed, uint256 lengthSeed) public {
        uint64 gtin = uint64(bound(gtinSeed, 1, 99_999_999_999_999));
        uint8 length = uint8(bound(lengthSeed, 4, 12));
        uint64 gtin13 = gtin % 1e13;
        uint64 prefix = uint64(gtin13 / 10 ** (13 - uint256(length)));
        vm.assume(!(length == COMPANY_PREFIX_LENGTH && prefix == COMPANY_PREFIX));
        address other = address(0x2001);
        registry.onboardParticipant(other, registry.MANUFACTURER_ROLE(), GLN, "other");
        bool manufacturersToo = gtin13 / 1e6 == COMPANY_PREFIX;
        if (manufacturersToo && length > COMPANY_PREFIX_LENGTH) {
            vm.expectRevert(
                abi.encodeWithSelector(IParticipantRegistry.CompanyPrefixWithinAnother.selector, prefix, length, manufacturer)
            );
            registry.grantCompanyPrefix(other, prefix, length);
            (address unchanged,,) = registry.companyPrefixOf(gtin);
            assertEq(unchanged, manufacturer, "the manufacturer keeps its GTINs");
            return;
        }
        registry.grantCompanyPrefix(other, prefix, length);

        address expected = manufacturersToo && length < COMPANY_PREFIX_LENGTH ? manufacturer : other;
        (address holder,,) = registry.companyPrefixOf(gtin);
        assertEq(holder, expected, "holder of the longest granted prefix");
    }

    // ------------------------------------------------------------------ recalled batches never move

    /// @dev After a recall (with or without a pending handoff), no participant can propose, accept,
    /// reject, cancel, split or recall again, and custody stays where it was.
    function testFuzz_recalledBatch_neverMoves(uint256 holderSeed, bool pendingAtRecall, uint256 receiverSeed) public {
        // Move the batch to a random holder first, so the recall hits it anywhere in the chain.
        address holder = participants[bound(holderSeed, 0, participants.length - 1)];
        if (holder != manufacturer) {
            vm.prank(manufacturer);
            registry.proposeHandoff(batchId, holder, GLN, IProvenanceRegistry.BusinessStep.Shipping);
            vm.prank(holder);
            registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
        }
        address receiver = participants[bound(receiverSeed, 0, participants.length - 1)];
        if (receiver == holder) receiver = holder == carrier ? warehouse : carrier;
        if (pendingAtRecall) {
            vm.prank(holder);
            registry.proposeHandoff(batchId, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        }

        vm.prank(regulator);
        registry.recallBatch(batchId, keccak256("contamination"));
        assertEq(_pending(batchId), address(0), "pending handoff dropped");

        bytes memory recalled = abi.encodeWithSelector(
            IProvenanceRegistry.BatchInvalidStatus.selector, batchId, IProvenanceRegistry.BatchStatus.Recalled
        );
        IProvenanceRegistry.ChildBatch[] memory children = new IProvenanceRegistry.ChildBatch[](2);
        children[0] = IProvenanceRegistry.ChildBatch({lot: "R-A", quantity: 500, serialRoot: SERIAL_ROOT});
        children[1] = IProvenanceRegistry.ChildBatch({lot: "R-B", quantity: 500, serialRoot: SERIAL_ROOT});

        vm.prank(holder);
        vm.expectRevert(recalled);
        registry.proposeHandoff(batchId, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        vm.prank(holder);
        vm.expectRevert(recalled);
        registry.splitBatch(batchId, children);
        vm.prank(holder);
        vm.expectRevert(recalled);
        registry.cancelHandoff(batchId);
        vm.prank(receiver);
        vm.expectRevert(recalled);
        registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
        vm.prank(receiver);
        vm.expectRevert(recalled);
        registry.rejectHandoff(batchId, bytes32(0));
        vm.prank(regulator);
        vm.expectRevert(recalled);
        registry.recallBatch(batchId, bytes32(0));

        assertEq(_custodian(batchId), holder, "custodian unchanged");
        assertTrue(_status(batchId) == IProvenanceRegistry.BatchStatus.Recalled, "still recalled");
    }

    // ------------------------------------------------------------------ GS1 checks against reference code

    function testFuzz_gtinCheck_matchesReference(uint64 gtin) public pure {
        assertTrue(GS1.isValidGtin(gtin) == _referenceGtinValid(gtin), "GTIN verdict");
    }

    function testFuzz_gtinCheck_acceptsEveryCheckDigitCorrectGtin(uint64 data) public pure {
        data = uint64(bound(data, 1, 9_999_999_999_999)); // 13 data digits at most
        uint64 gtin = data * 10 + _referenceCheckDigit(data);
        assertTrue(GS1.isValidGtin(gtin), "valid GTIN accepted");
        assertTrue(!GS1.isValidGtin(data * 10 + (_referenceCheckDigit(data) + 1) % 10), "wrong check digit rejected");
    }

    function testFuzz_lotCheck_matchesReference(bytes calldata lot) public view {
        assertTrue(this.lotIsValid(string(lot)) == _referenceLotValid(lot), "lot verdict");
    }

    function testFuzz_lotCheck_acceptsLotsFromCharacterSet82(uint256 seed, uint256 lengthSeed) public view {
        bytes memory alphabet = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
        uint256 length = bound(lengthSeed, 1, 20);
        bytes memory lot = new bytes(length);
        for (uint256 i; i < length; ++i) {
            lot[i] = alphabet[uint256(keccak256(abi.encode(seed, i))) % alphabet.length];
        }
        assertTrue(this.lotIsValid(string(lot)), "set-82 lot accepted");
    }

    /// @dev External so the library sees a calldata string, as in the registry.
    function lotIsValid(string calldata lot) external pure returns (bool) {
        return GS1.isValidLot(lot);
    }

    function _referenceCheckDigit(uint64 data) private pure returns (uint64) {
        uint256 sum;
        bool triple = true;
        for (uint256 rest = data; rest != 0; rest /= 10) {
            sum += (rest % 10) * (triple ? 3 : 1);
            triple = !triple;
        }
        return uint64((10 - (sum % 10)) % 10);
    }

    function _referenceGtinValid(uint64 gtin) private pure returns (bool) {
        if (gtin == 0 || gtin >= 1e14) return false;
        return _referenceCheckDigit(gtin / 10) == gtin % 10;
    }

    function _referenceLotValid(bytes calldata lot) private pure returns (bool) {
        if (lot.length == 0 || lot.length > 20) return false;
        bytes memory alphabet = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
        for (uint256 i; i < lot.length; ++i) {
            bool found;
            for (uint256 j; j < alphabet.length; ++j) {
                if (lot[i] == alphabet[j]) {
                    found = true;
                    break;
                }
            }
            if (!found) return false;
        }
        return true;
    }
}
