// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IInferenceConsumer
/// @notice What a contract implements to receive inference results from the Coordinator.
interface IInferenceConsumer {
    /// @notice Called by the Coordinator (with bounded gas) when request `requestId` is fulfilled.
    /// @param requestId The request.
    /// @param output The canonical encoding of the output tensors (src/core/encoding.ts).
    /// @param node Who fulfilled it: the signing node, or the prover of a zk fulfillment.
    /// @param receiptId The receipt's EIP-712 digest (signed), or keccak256 of the proof (zk).
    function onInferenceResult(uint256 requestId, bytes calldata output, address node, bytes32 receiptId) external;
}
