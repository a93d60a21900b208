// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ModelRegistry} from "../ModelRegistry.sol";
import {ZkTensors} from "../ZkTensors.sol";

/// @title ZkTensorsHarness
/// @notice Test only: ZkTensors' internal functions as external calls.
contract ZkTensorsHarness {
    function quantize(uint32 bits, uint8 scale) external pure returns (int256) {
        return ZkTensors.quantize(bits, scale);
    }

    /// @notice quantize for many values at once (one eth_call for a test's random sample).
    function quantizeMany(uint32[] calldata bits, uint8 scale) external pure returns (int256[] memory out) {
        out = new int256[](bits.length);
        for (uint256 i = 0; i < bits.length; i++) {
            out[i] = ZkTensors.quantize(bits[i], scale);
        }
    }

    function checkInputs(ModelRegistry.ZkSpec calldata spec, bytes calldata inputs, uint256[] calldata signals)
        external
        pure
        returns (bool)
    {
        ZkTensors.checkInputs(spec, inputs, signals);
        return true;
    }

    function maxOutputDistance(ModelRegistry.ZkSpec calldata spec, bytes calldata outputs, uint256[] calldata signals)
        external
        pure
        returns (uint256)
    {
        return ZkTensors.maxOutputDistance(spec, outputs, signals);
    }

    function verifyGroth16(
        ModelRegistry.ZkSpec calldata spec,
        ZkTensors.Groth16Proof calldata proof,
        uint256[] calldata signals
    ) external view returns (bool) {
        return ZkTensors.verifyGroth16(spec, proof, signals);
    }
}
