// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// @title Settlement
/// @notice Receipts on chain. A Plumb receipt is an EIP-712 message signed by the node that
/// served an inference; this contract's domain (name "Plumb", version "1", chain id, this
/// address) is the one nodes sign under. Active nodes settle receipts in batches: one Merkle
/// root (OpenZeppelin StandardMerkleTree over the receipt ids, leaf type bytes32) per batch, so
/// settlement costs the same for 1 or 10,000 receipts. `settleReceipt(s)` is the per-receipt
/// baseline (one signature check and one storage slot per receipt) kept for comparison.
///
/// Settlement is a deployment's root: it names the registries, the fraud-proof contract and the
/// coordinator, so a receipt's `verifyingContract` and an RPC URL find everything.
contract Settlement is EIP712 {
    /// @notice What a node signs (src/core/receipt-types.ts).
    struct Receipt {
        bytes modelCid;
        bytes32 inputHash;
        bytes32 outputHash;
        string mode;
        address node;
        uint64 timestamp;
        bytes32 nonce;
    }

    /// @notice One settled batch (three storage slots).
    struct Batch {
        bytes32 root;
        address node;
        uint32 count;
        uint64 settledAt;
        uint64 blockNumber;
    }

    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes modelCid,bytes32 inputHash,bytes32 outputHash,string mode,address node,uint64 timestamp,"
        "bytes32 nonce)"
    );

    NodeRegistry public immutable nodeRegistry;
    ModelRegistry public immutable modelRegistry;
    /// @notice Block number of the deployment (where event scans start).
    uint64 public immutable deployedAt;
    address private immutable deployer;

    address public fraudProofs;
    address public coordinator;

    /// @notice Number of batches settled; batch ids are 1..batchCount.
    uint256 public batchCount;
    mapping(uint256 => Batch) public batches;
    /// @notice The batch in which a node settled a root (0: none). Keyed by node too, so another
    /// node copying a root from the mempool cannot take it over.
    mapping(address => mapping(bytes32 => uint256)) public batchIdOfRoot;
    /// @notice Receipts settled one by one (by EIP-712 digest).
    mapping(bytes32 => bool) public receiptSettled;

    event ModulesSet(address fraudProofs, address coordinator);
    event BatchSettled(uint256 indexed batchId, address indexed node, bytes32 root, uint32 count);
    event ReceiptSettled(bytes32 indexed receiptId, address indexed node);

    error NotDeployer(address caller);
    error ModulesAlreadySet();
    error NotActiveNode(address node);
    error EmptyRoot();
    error EmptyBatch();
    error RootAlreadySettled(bytes32 root, uint256 batchId);
    error BadSignature();
    error ReceiptAlreadySettled(bytes32 receiptId);
    error LengthMismatch(uint256 receipts, uint256 signatures);

    constructor(NodeRegistry nodeRegistry_, ModelRegistry modelRegistry_) EIP712("Plumb", "1") {
        nodeRegistry = nodeRegistry_;
        modelRegistry = modelRegistry_;
        deployedAt = uint64(block.number);
        deployer = msg.sender;
    }

    /// @notice Record the deployment's fraud-proof and coordinator contracts. Once, by the deployer.
    function setModules(address fraudProofs_, address coordinator_) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (fraudProofs != address(0) || coordinator != address(0)) revert ModulesAlreadySet();
        fraudProofs = fraudProofs_;
        coordinator = coordinator_;
        emit ModulesSet(fraudProofs_, coordinator_);
    }

    /// @notice Settle a batch of `count` receipts by the Merkle root of their ids. Only an active
    /// node; a node settles a root once.
    /// @return batchId The new batch's id (from 1).
    function submitBatch(bytes32 root, uint32 count) external returns (uint256 batchId) {
        if (!nodeRegistry.isActive(msg.sender)) revert NotActiveNode(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (count == 0) revert EmptyBatch();
        uint256 existing = batchIdOfRoot[msg.sender][root];
        if (existing != 0) revert RootAlreadySettled(root, existing);
        batchId = ++batchCount;
        batches[batchId] = Batch({
            root: root,
            node: msg.sender,
            count: count,
            settledAt: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        batchIdOfRoot[msg.sender][root] = batchId;
        emit BatchSettled(batchId, msg.sender, root, count);
    }

    /// @notice True when `receiptId` is a leaf of batch `batchId`'s tree, by `proof` (the sibling
    /// hashes of an OpenZeppelin StandardMerkleTree of bytes32 leaves). False for unknown batches.
    function isSettled(uint256 batchId, bytes32 receiptId, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = batches[batchId].root;
        if (root == bytes32(0)) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(receiptId))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice The EIP-712 digest of `r` under this contract's domain: what its node signed.
    function hashReceipt(Receipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECEIPT_TYPEHASH,
                    keccak256(r.modelCid),
                    r.inputHash,
                    r.outputHash,
                    keccak256(bytes(r.mode)),
                    r.node,
                    r.timestamp,
                    r.nonce
                )
            )
        );
    }

    /// @notice Settle one receipt by its signature (the per-receipt baseline): the signer must be
    /// `r.node`, an active node; each receipt settles once.
    function settleReceipt(Receipt calldata r, bytes calldata signature) external {
        _settle(r, signature);
    }

    /// @notice `settleReceipt` for many receipts in one transaction.
    function settleReceipts(Receipt[] calldata rs, bytes[] calldata signatures) external {
        if (rs.length != signatures.length) revert LengthMismatch(rs.length, signatures.length);
        for (uint256 i = 0; i < rs.length; i++) {
            _settle(rs[i], signatures[i]);
        }
    }

    function _settle(Receipt calldata r, bytes calldata signature) private {
        bytes32 digest = hashReceipt(r);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != r.node) revert BadSignature();
        if (!nodeRegistry.isActive(r.node)) revert NotActiveNode(r.node);
        if (receiptSettled[digest]) revert ReceiptAlreadySettled(digest);
        receiptSettled[digest] = true;
        emit ReceiptSettled(digest, r.node);
    }
}
