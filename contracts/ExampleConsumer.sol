// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Coordinator} from "./Coordinator.sol";
import {IInferenceConsumer} from "./IInferenceConsumer.sol";

/// @title ExampleConsumer
/// @notice A minimal contract using Plumb inference: `ask` places a request (forwarding the fee)
/// and the Coordinator delivers the output to `onInferenceResult`, which keeps it. Whoever asked
/// can cancel an unanswered request after the Coordinator's CANCEL_AFTER and get the fee back.
contract ExampleConsumer is IInferenceConsumer {
    Coordinator public immutable coordinator;

    /// @notice The output (canonical tensor encoding) delivered for each request.
    mapping(uint256 => bytes) public results;
    /// @notice Who fulfilled each request.
    mapping(uint256 => address) public resultNode;
    /// @notice The receipt id (or proof hash) of each result.
    mapping(uint256 => bytes32) public resultReceipt;

    /// @notice Who asked each request (refunds go back to them).
    mapping(uint256 => address) public askedBy;

    event ResultReceived(uint256 indexed requestId, address indexed node, bytes32 receiptId);

    error NotCoordinator(address caller);
    error NotAsker(address caller);
    error RefundFailed(address to, uint256 amount);

    constructor(Coordinator coordinator_) {
        coordinator = coordinator_;
    }

    /// @notice Request `modelCid`'s output on `input` ("signed" or "zk" mode), paying `msg.value`.
    /// @return requestId The Coordinator's request id.
    function ask(bytes calldata modelCid, bytes calldata input, string calldata mode)
        external
        payable
        returns (uint256 requestId)
    {
        requestId = coordinator.requestInference{value: msg.value}(modelCid, input, mode, address(this));
        askedBy[requestId] = msg.sender;
    }

    /// @notice Cancel an unanswered request this contract placed for the caller; the fee goes back to them.
    function cancel(uint256 requestId) external {
        address asker = askedBy[requestId];
        if (msg.sender != asker) revert NotAsker(msg.sender);
        uint256 before = address(this).balance;
        coordinator.cancel(requestId);
        uint256 refund = address(this).balance - before;
        if (refund != 0) {
            (bool paid,) = payable(asker).call{value: refund}("");
            if (!paid) revert RefundFailed(asker, refund);
        }
    }

    /// @notice Refunds from the Coordinator arrive here.
    receive() external payable {}

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 requestId, bytes calldata output, address node, bytes32 receiptId)
        external
        override
    {
        if (msg.sender != address(coordinator)) revert NotCoordinator(msg.sender);
        results[requestId] = output;
        resultNode[requestId] = node;
        resultReceipt[requestId] = receiptId;
        emit ResultReceived(requestId, node, receiptId);
    }
}
