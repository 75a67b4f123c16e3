// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title GS1 identifier checks
/// @notice Syntax checks for the GS1 keys Provena stores or emits: GTIN (AI 01, as an integer), batch/lot
/// (AI 10) and GLN (AI 414/415 style party and location numbers), plus the batch id derivation.
/// @dev Pure functions with no storage, kept cheap because they run inside the gas-budgeted batch calls.
library GS1 {
    /// @dev Largest GTIN-14 as an integer: 14 nines. Shorter GTINs (8, 12, 13 digits) are the same
    /// integer as their zero-padded GTIN-14 form.
    uint64 internal constant MAX_GTIN = 99_999_999_999_999;

    /// @dev Largest GLN as an integer: 13 nines.
    uint64 internal constant MAX_GLN = 9_999_999_999_999;

    /// @dev Longest AI(10) batch/lot value.
    uint256 internal constant MAX_LOT_LENGTH = 20;

    /// @dev Bit `c` is set when ASCII byte `c` belongs to the GS1 AI encodable character set 82:
    /// ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z. No space and none of # $ [ \ ] ^ ` { | } ~ nor the at sign.
    uint256 internal constant CHARACTER_SET_82 = 0x7fffffe87fffffeffffffe600000000;

    /// @notice True when `gtin` is a non-zero GTIN of at most 14 digits whose last digit is the GS1 check digit.
    /// @dev Mod-10 check: from the rightmost data digit leftwards, weights alternate 3, 1, 3, ...
    function isValidGtin(uint64 gtin) internal pure returns (bool) {
        if (gtin == 0 || gtin > MAX_GTIN) return false;
        uint256 data = gtin / 10;
        uint256 sum;
        unchecked {
            // Two digits per round (weights 3 then 1): at most 7 rounds for 13 data digits.
            while (data != 0) {
                sum += (data % 10) * 3;
                data /= 10;
                sum += data % 10;
                data /= 10;
            }
        }
        return (10 - (sum % 10)) % 10 == gtin % 10;
    }

    /// @dev CHARACTER_SET_82 without "/" (bit 47): the characters of a lot a manufacturer registers.
    uint256 internal constant REGISTERED_LOT_CHARACTERS = CHARACTER_SET_82 & ~(uint256(1) << 47);

    /// @notice True when `lot` is 1 to 20 bytes, all from GS1 character set 82.
    function isValidLot(string calldata lot) internal pure returns (bool) {
        return _isLotOf(lot, CHARACTER_SET_82);
    }

    /// @notice True when `lot` is a valid lot without the split separator "/", which only split children use.
    function isValidRegisteredLot(string calldata lot) internal pure returns (bool) {
        return _isLotOf(lot, REGISTERED_LOT_CHARACTERS);
    }

    /// @dev True when `lot` is 1 to 20 bytes, each with its bit set in `characters`.
    function _isLotOf(string calldata lot, uint256 characters) private pure returns (bool valid) {
        uint256 length = bytes(lot).length;
        if (length == 0 || length > MAX_LOT_LENGTH) return false;
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // One calldata word holds the whole lot (at most 20 bytes), left-aligned.
            word := calldataload(lot.offset)
        }
        valid = true;
        unchecked {
            for (uint256 i; i < length; ++i) {
                uint256 character = (word >> (248 - 8 * i)) & 0xff;
                // Bytes >= 128 shift the mask to zero, so non-ASCII is rejected too.
                if ((characters >> character) & 1 == 0) return false;
            }
        }
    }

    /// @dev Separates a split child's lot from its parent's lot (`<parent lot>/<suffix>`); registered lots never
    /// contain it, so no child can take a lot name a manufacturer may register later.
    bytes1 internal constant SPLIT_SEPARATOR = "/";

    /// @notice The length of the lot before its last split separator, or zero when it has none.
    function splitParentLength(string calldata lot) internal pure returns (uint256) {
        bytes calldata raw = bytes(lot);
        for (uint256 i = raw.length; i != 0; --i) {
            if (raw[i - 1] == SPLIT_SEPARATOR) return i - 1;
        }
        return 0;
    }

    /// @dev Largest SSCC (AI 00) as an integer: 18 nines (extension digit, company prefix and serial reference,
    /// check digit); an SSCC with extension digit 0 is the same integer as its zero-padded 18-digit form.
    uint64 internal constant MAX_SSCC = 999_999_999_999_999_999;

    /// @notice True when `sscc` is a non-zero SSCC of at most 18 digits whose last digit is the GS1 check digit.
    /// @dev The same mod-10 check as a GTIN's (weights 3, 1, 3, ... from the rightmost data digit leftwards).
    function isValidSscc(uint64 sscc) internal pure returns (bool) {
        if (sscc == 0 || sscc > MAX_SSCC) return false;
        uint256 data = sscc / 10;
        uint256 sum;
        unchecked {
            // Two digits per round (weights 3 then 1): at most 9 rounds for 17 data digits.
            while (data != 0) {
                sum += (data % 10) * 3;
                data /= 10;
                sum += data % 10;
                data /= 10;
            }
        }
        return (10 - (sum % 10)) % 10 == sscc % 10;
    }

    /// @notice The number whose digits the registry's `companyPrefixOf` reads as a GTIN's company prefix, taken
    /// from an SSCC: the 12 digits after its extension digit (where its company prefix starts), then a zero.
    /// @dev `companyPrefixOf` drops a GTIN's indicator digit and check digit and matches 4..12 leading digits.
    function ssccPrefixProbe(uint64 sscc) internal pure returns (uint64) {
        return uint64((uint256(sscc) % 1e17) / 1e5) * 10;
    }

    /// @notice True when `gln` is a non-zero number of at most 13 digits.
    function isValidGln(uint64 gln) internal pure returns (bool) {
        return gln != 0 && gln <= MAX_GLN;
    }

    /// @notice The Provena batch id of a GTIN and lot: `keccak256(abi.encode(uint64 gtin, string lot))`.
    function batchId(uint64 gtin, string calldata lot) internal pure returns (bytes32) {
        return keccak256(abi.encode(gtin, lot));
    }
}
