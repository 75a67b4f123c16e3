// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DesignRegistry} from "../../contracts/DesignRegistry.sol";
import {IDesignRegistry} from "../../contracts/interfaces/IDesignRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @notice Fuzz tests of the design registry: a registration's time never moves, nobody but the registrant makes a
/// registration of theirs, only the prefix holder links, and a two-leaf proof holds exactly for its own leaves.
contract DesignRegistryFuzzTest is ProvenanceRegistrySetup {
    DesignRegistry internal designs;

    function setUp() public {
        _deployRegistry();
        designs = new DesignRegistry(address(forwarder), IParticipantRegistry(address(registry)));
    }

    function testFuzz_registerDesign_firstTimeStands_whateverComesLater(bytes32 root, uint32 later, uint256 copierSeed) public {
        vm.assume(root != bytes32(0));
        address registrant = participants[bound(copierSeed, 0, participants.length - 1)];
        vm.prank(registrant);
        designs.registerDesign(root, "first", "", bytes32(0));
        uint64 first = designs.registeredAt(registrant, root);
        assertEq(first, block.timestamp, "registered at the block's time");

        vm.warp(block.timestamp + uint256(later) + 1);
        vm.expectRevert(abi.encodeWithSelector(IDesignRegistry.DesignAlreadyRegistered.selector, registrant, root, first));
        vm.prank(registrant);
        designs.registerDesign(root, "again", "", bytes32(0));
        // Another participant registering the same root makes a registration of its own, never of the first registrant.
        address other = participants[(bound(copierSeed, 0, participants.length - 1) + 1) % participants.length];
        vm.prank(other);
        designs.registerDesign(root, "copy", "", bytes32(0));
        assertEq(designs.registeredAt(registrant, root), first, "the first registration is unchanged");
        assertEq(designs.registeredAt(other, root), block.timestamp, "the copy is dated when it happened");
    }

    function testFuzz_registerDesign_outsiders_cannotRegister(address outsider, bytes32 root) public {
        (uint32 participantId,,) = registry.participant(outsider);
        vm.assume(participantId == 0 && root != bytes32(0) && outsider != address(forwarder));
        vm.expectRevert(abi.encodeWithSelector(IDesignRegistry.DesignParticipantInactive.selector, outsider));
        vm.prank(outsider);
        designs.registerDesign(root, "", "", bytes32(0));
    }

    function testFuzz_linkDesign_onlyThePrefixHolder(address caller) public {
        vm.assume(caller != manufacturer && caller != address(forwarder));
        bytes32 root = keccak256("root");
        vm.prank(carrier);
        designs.registerDesign(root, "", "", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDesignRegistry.DesignGtinNotLicensed.selector, GTIN, caller, manufacturer));
        vm.prank(caller);
        designs.linkDesign(GTIN, carrier, root);
        vm.prank(manufacturer);
        designs.linkDesign(GTIN, carrier, root);
        assertTrue(designs.isLinked(GTIN, carrier, root), "the holder links");
    }

    function testFuzz_provenAt_twoLeafTree_holdsForItsLeavesOnly(bytes32 fileA, bytes32 fileB, bytes32 salt, address owner, bytes32 otherFile)
        public
    {
        vm.assume(fileA != fileB && otherFile != fileA && otherFile != fileB);
        bytes32 leafA = designs.leafHash(fileA, owner, salt);
        bytes32 leafB = designs.leafHash(fileB, owner, salt);
        bytes32 root = leafA < leafB ? keccak256(abi.encode(leafA, leafB)) : keccak256(abi.encode(leafB, leafA));
        vm.prank(manufacturer);
        designs.registerDesign(root, "", "", bytes32(0));
        bytes32[] memory proofOfA = new bytes32[](1);
        proofOfA[0] = leafB;
        assertEq(designs.provenAt(manufacturer, root, proofOfA, fileA, owner, salt), block.timestamp, "file A proves");
        assertEq(designs.provenAt(manufacturer, root, proofOfA, otherFile, owner, salt), 0, "another file does not");
        assertEq(designs.provenAt(carrier, root, proofOfA, fileA, owner, salt), 0, "nor under a registrant who did not register");
    }
}
