// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IInferenceConsumer} from "./IInferenceConsumer.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {NodeRegistry} from "./NodeRegistry.sol";
import {Settlement} from "./Settlement.sol";
import {ZkTensors} from "./ZkTensors.sol";

/// @title Coordinator
/// @notice On-chain inference requests. A requester (usually a contract) asks for a model's
/// output on an input, paying a fee; it is fulfilled either by an active node's signed receipt
/// ("signed" mode: trusted up to the node's stake, which FraudProofs can slash) or by anyone with
/// a Groth16 proof of the model's circuit ("zk" mode). The fee goes to the fulfiller and the
/// output to the request's callback (an IInferenceConsumer). A request nobody answers can be
/// cancelled by its requester after CANCEL_AFTER, and its fee refunded.
contract Coordinator is ReentrancyGuard {
    struct Request {
        address requester;
        address callback;
        bool fulfilled;
        bool cancelled;
        uint64 createdAt;
        bytes32 cidHash;
        bytes32 inputHash;
        bytes32 modeHash;
        uint256 fee;
    }

    /// @notice How long a request stays open before its requester may cancel it.
    uint64 public constant CANCEL_AFTER = 1 hours;
    /// @notice Gas given to a consumer's callback.
    uint256 public constant CALLBACK_GAS = 500_000;
    bytes32 public constant SIGNED = keccak256("signed");
    bytes32 public constant ZK = keccak256("zk");

    NodeRegistry public immutable nodeRegistry;
    ModelRegistry public immutable modelRegistry;
    Settlement public immutable settlement;

    /// @notice Number of requests; request ids are 1..requestCount.
    uint256 public requestCount;
    mapping(uint256 => Request) public requests;

    event InferenceRequested(
        uint256 indexed requestId, address indexed requester, bytes modelCid, bytes input, string mode, address callback
    );
    event InferenceFulfilled(uint256 indexed requestId, address indexed node, bytes32 receiptId);
    event CallbackFailed(uint256 indexed requestId, address callback);
    event InferenceCancelled(uint256 indexed requestId, uint256 refund);

    error UnsupportedMode(string mode);
    error NoCircuit(bytes32 cidHash);
    error UnknownRequest(uint256 requestId);
    error AlreadyFulfilled(uint256 requestId);
    error RequestCancelled(uint256 requestId);
    error NotRequester(address caller);
    error TooEarlyToCancel(uint64 cancellableAt);
    error WrongMode(uint256 requestId);
    error ModelMismatch();
    error InputHashMismatch();
    error ModeMismatch();
    error OutputHashMismatch();
    error BadSignature();
    error NotActiveNode(address node);
    error InvalidProof();
    error OutputMismatch(uint256 distance);
    error InsufficientGasForCallback();
    error TransferFailed(address to, uint256 amount);

    constructor(NodeRegistry nodeRegistry_, ModelRegistry modelRegistry_, Settlement settlement_) {
        nodeRegistry = nodeRegistry_;
        modelRegistry = modelRegistry_;
        settlement = settlement_;
    }

    /// @notice Ask for `modelCid`'s output on `input`; `msg.value` is the fee.
    /// @param modelCid The model's binary CID.
    /// @param input The canonical encoding of the input tensors.
    /// @param mode "signed" or "zk" (the model must then have a circuit).
    /// @param callback Receives the result (IInferenceConsumer); address(0) or an account without
    /// code gets no call.
    /// @return requestId The request's id (from 1).
    function requestInference(bytes calldata modelCid, bytes calldata input, string calldata mode, address callback)
        external
        payable
        returns (uint256 requestId)
    {
        bytes32 modeHash = keccak256(bytes(mode));
        bytes32 cidHash = keccak256(modelCid);
        if (modeHash == ZK) {
            if (!modelRegistry.hasCircuit(modelCid)) revert NoCircuit(cidHash);
        } else if (modeHash != SIGNED) {
            revert UnsupportedMode(mode);
        }
        requestId = ++requestCount;
        requests[requestId] = Request({
            requester: msg.sender,
            callback: callback,
            fulfilled: false,
            cancelled: false,
            createdAt: uint64(block.timestamp),
            cidHash: cidHash,
            inputHash: sha256(input),
            modeHash: modeHash,
            fee: msg.value
        });
        emit InferenceRequested(requestId, msg.sender, modelCid, input, mode, callback);
    }

    /// @notice Fulfil a "signed" request with an active node's receipt for it.
    /// @param r The receipt: its model, input hash and mode must be the request's.
    /// @param signature `r.node`'s signature of `settlement.hashReceipt(r)`.
    /// @param output The canonical encoding of the output (sha256 = r.outputHash).
    function fulfillSigned(
        uint256 requestId,
        Settlement.Receipt calldata r,
        bytes calldata signature,
        bytes calldata output
    ) external nonReentrant {
        Request storage q = _open(requestId);
        if (q.modeHash != SIGNED) revert WrongMode(requestId);
        if (keccak256(r.modelCid) != q.cidHash) revert ModelMismatch();
        if (r.inputHash != q.inputHash) revert InputHashMismatch();
        if (keccak256(bytes(r.mode)) != SIGNED) revert ModeMismatch();
        if (sha256(output) != r.outputHash) revert OutputHashMismatch();
        bytes32 digest = settlement.hashReceipt(r);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != r.node) revert BadSignature();
        if (!nodeRegistry.isActive(r.node)) revert NotActiveNode(r.node);
        _fulfil(requestId, q, output, r.node, digest);
    }

    /// @notice Fulfil a "zk" request with a Groth16 proof of the model on the request's input,
    /// whose proven outputs `output` quantizes to exactly. The fee goes to the caller.
    /// @param input The request's input bytes (sha256 must match the request).
    /// @param output The canonical encoding of the output tensors.
    /// @param proof The Groth16 proof.
    /// @param publicSignals Its public signals: the outputs, then the inputs.
    function fulfillZk(
        uint256 requestId,
        bytes calldata input,
        bytes calldata output,
        ZkTensors.Groth16Proof calldata proof,
        uint256[] calldata publicSignals
    ) external nonReentrant {
        Request storage q = _open(requestId);
        if (q.modeHash != ZK) revert WrongMode(requestId);
        if (sha256(input) != q.inputHash) revert InputHashMismatch();
        ModelRegistry.ZkSpec memory spec = modelRegistry.zkSpecByHash(q.cidHash);
        if (!ZkTensors.verifyGroth16(spec, proof, publicSignals)) revert InvalidProof();
        ZkTensors.checkInputs(spec, input, publicSignals);
        uint256 distance = ZkTensors.maxOutputDistance(spec, output, publicSignals);
        if (distance != 0) revert OutputMismatch(distance);
        _fulfil(requestId, q, output, msg.sender, keccak256(abi.encode(proof)));
    }

    /// @notice Close a request nobody answered and refund its fee. Only its requester, once
    /// CANCEL_AFTER has passed since it was made.
    function cancel(uint256 requestId) external nonReentrant {
        Request storage q = _open(requestId);
        if (msg.sender != q.requester) revert NotRequester(msg.sender);
        uint64 cancellableAt = q.createdAt + CANCEL_AFTER;
        if (block.timestamp < cancellableAt) revert TooEarlyToCancel(cancellableAt);
        q.cancelled = true;
        uint256 fee = q.fee;
        q.fee = 0;
        emit InferenceCancelled(requestId, fee);
        if (fee != 0) {
            (bool paid,) = payable(msg.sender).call{value: fee}("");
            if (!paid) revert TransferFailed(msg.sender, fee);
        }
    }

    function _open(uint256 requestId) private view returns (Request storage q) {
        q = requests[requestId];
        if (q.requester == address(0)) revert UnknownRequest(requestId);
        if (q.fulfilled) revert AlreadyFulfilled(requestId);
        if (q.cancelled) revert RequestCancelled(requestId);
    }

    /// @dev Mark fulfilled, pay the fee, then call back with bounded gas (a failing callback is
    /// reported, not undone).
    function _fulfil(uint256 requestId, Request storage q, bytes calldata output, address node, bytes32 receiptId)
        private
    {
        q.fulfilled = true;
        emit InferenceFulfilled(requestId, node, receiptId);
        uint256 fee = q.fee;
        if (fee != 0) {
            (bool paid,) = payable(node).call{value: fee}("");
            if (!paid) revert TransferFailed(node, fee);
        }
        address callback = q.callback;
        if (callback.code.length == 0) return;
        // The fulfiller must not be able to starve the callback: after the 1/64 the EVM keeps
        // back, it must still get CALLBACK_GAS.
        if (gasleft() < (CALLBACK_GAS * 64) / 63 + 10_000) revert InsufficientGasForCallback();
        try IInferenceConsumer(callback).onInferenceResult{gas: CALLBACK_GAS}(requestId, output, node, receiptId) {}
        catch {
            emit CallbackFailed(requestId, callback);
        }
    }
}
