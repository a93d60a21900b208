// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {NodeRegistry} from "./NodeRegistry.sol";
import {Settlement} from "./Settlement.sol";
import {ZkTensors} from "./ZkTensors.sol";

/// @title FraudProofs
/// @notice Slash a node that signed a wrong output. The challenger shows the signed receipt, the
/// input and output bytes it commits to (SHA-256 of their canonical encodings), and a Groth16
/// proof of the model on those inputs whose proven outputs differ from the signed ones by more
/// than the model's tolerance. The node loses its stake and unbonding amount (half to the
/// challenger). Models without a circuit cannot be judged here (they need a validator committee).
///
/// A challenge is committed first (`commitChallenge(commitmentOf(receiptId, challenger))`) and
/// proven in a later block: a copy of the proving transaction from another sender has no
/// commitment of its own, so it cannot take the challenger's reward.
contract FraudProofs {
    NodeRegistry public immutable nodeRegistry;
    ModelRegistry public immutable modelRegistry;
    Settlement public immutable settlement;

    /// @notice Receipts (by EIP-712 digest) already proven fraudulent.
    mapping(bytes32 => bool) public challenged;
    /// @notice The block each challenge commitment was first made in (0: never).
    mapping(bytes32 => uint256) public commitBlock;

    event ChallengeCommitted(bytes32 indexed commitment, address indexed sender);
    event Challenged(bytes32 indexed receiptId, address indexed node, address challenger, uint256 distance);

    error AlreadyChallenged(bytes32 receiptId);
    error BadSignature();
    error NotStaked(address node);
    error InputsMismatch();
    error OutputsMismatch();
    error NoCircuit(bytes32 cidHash);
    error InvalidProof();
    error OutputWithinTolerance(uint256 distance, uint256 tolerance);
    error NotCommitted(bytes32 commitment);
    error CommitTooRecent(uint256 committedAt);

    constructor(NodeRegistry nodeRegistry_, ModelRegistry modelRegistry_, Settlement settlement_) {
        nodeRegistry = nodeRegistry_;
        modelRegistry = modelRegistry_;
        settlement = settlement_;
    }

    /// @notice What a challenger commits to before challenging receipt `receiptId`.
    function commitmentOf(bytes32 receiptId, address challenger) public pure returns (bytes32) {
        return keccak256(abi.encode(receiptId, challenger));
    }

    /// @notice Announce a challenge (see `commitmentOf`); its proof may follow from the next block.
    function commitChallenge(bytes32 commitment) external {
        if (commitBlock[commitment] == 0) commitBlock[commitment] = block.number;
        emit ChallengeCommitted(commitment, msg.sender);
    }

    /// @notice Prove that receipt `r` (signed by `r.node`) states a wrong output, and slash the node.
    /// The caller must have committed to it (`commitChallenge`) in an earlier block.
    /// @param r The receipt.
    /// @param signature The node's 65-byte signature of `settlement.hashReceipt(r)`.
    /// @param inputs The canonical encoding of the inputs (sha256 = r.inputHash).
    /// @param outputs The canonical encoding of the signed outputs (sha256 = r.outputHash).
    /// @param proof A Groth16 proof of the model's circuit on `inputs`.
    /// @param publicSignals The proof's public signals: the proven outputs, then the inputs.
    function challenge(
        Settlement.Receipt calldata r,
        bytes calldata signature,
        bytes calldata inputs,
        bytes calldata outputs,
        ZkTensors.Groth16Proof calldata proof,
        uint256[] calldata publicSignals
    ) external {
        bytes32 digest = _signedBy(r, signature);
        if (challenged[digest]) revert AlreadyChallenged(digest);
        _checkCommitted(digest);
        (uint256 staked, uint256 unbonding,) = nodeRegistry.stakeOf(r.node);
        if (staked == 0 && unbonding == 0) revert NotStaked(r.node);
        if (sha256(inputs) != r.inputHash) revert InputsMismatch();
        if (sha256(outputs) != r.outputHash) revert OutputsMismatch();
        uint256 distance = _provenDistance(keccak256(r.modelCid), inputs, outputs, proof, publicSignals);

        challenged[digest] = true;
        emit Challenged(digest, r.node, msg.sender, distance);
        nodeRegistry.slash(r.node, payable(msg.sender), digest);
    }

    /// @dev The caller committed to challenging `digest` in an earlier block.
    function _checkCommitted(bytes32 digest) private view {
        bytes32 commitment = commitmentOf(digest, msg.sender);
        uint256 committedAt = commitBlock[commitment];
        if (committedAt == 0) revert NotCommitted(commitment);
        if (committedAt >= block.number) revert CommitTooRecent(committedAt);
    }

    /// @dev The receipt's digest, once its signature is checked to be `r.node`'s.
    function _signedBy(Settlement.Receipt calldata r, bytes calldata signature) private view returns (bytes32 digest) {
        digest = settlement.hashReceipt(r);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != r.node) revert BadSignature();
    }

    /// @dev How far the signed outputs are from the outputs the proof proves on the signed inputs;
    /// reverts unless that exceeds the model's tolerance.
    function _provenDistance(
        bytes32 cidHash,
        bytes calldata inputs,
        bytes calldata outputs,
        ZkTensors.Groth16Proof calldata proof,
        uint256[] calldata publicSignals
    ) private view returns (uint256 distance) {
        ModelRegistry.ZkSpec memory spec = modelRegistry.zkSpecByHash(cidHash);
        if (spec.verifier == address(0)) revert NoCircuit(cidHash);
        if (!ZkTensors.verifyGroth16(spec, proof, publicSignals)) revert InvalidProof();
        ZkTensors.checkInputs(spec, inputs, publicSignals);
        distance = ZkTensors.maxOutputDistance(spec, outputs, publicSignals);
        if (distance <= spec.tolerance) revert OutputWithinTolerance(distance, spec.tolerance);
    }
}
