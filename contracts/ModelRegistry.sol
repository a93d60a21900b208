// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ModelRegistry
/// @notice Models by their CID (binary form), keyed by keccak256(cid): who registered them, their
/// manifest hash, and optionally how to check their Groth16 proofs on chain (ZkSpec). The first
/// address to register a CID owns it; only the owner sets its ZkSpec, once: receipts already
/// signed for the model are judged by the spec the node saw when it served them.
contract ModelRegistry {
    /// @notice How a model's zk proofs are checked against canonical tensor encodings. Tensors
    /// are listed in canonical order (names sorted by UTF-8 bytes) and matched by position.
    struct ZkSpec {
        // The model's Groth16 verifier (snarkjs's Solidity template).
        address verifier;
        // Fixed-point scale s: a value x is the integer round(x * 2^s).
        uint8 scale;
        // Public inputs are signed `inputBits`-bit integers: -2^(inputBits-1) <= q < 2^(inputBits-1).
        uint16 inputBits;
        // Largest output error (fixed-point units) a signed receipt may have before it is fraud.
        uint256 tolerance;
        // Number of public signals (outputs first, then inputs).
        uint32 nPublic;
        uint32[] inputOffsets;
        uint32[] inputSizes;
        uint32[] outputOffsets;
        uint32[] outputSizes;
    }

    struct Model {
        address owner;
        uint64 registeredAt;
        bytes32 manifestHash;
    }

    mapping(bytes32 => Model) private models;
    mapping(bytes32 => ZkSpec) private zkSpecs;

    event ModelRegistered(bytes32 indexed cidHash, bytes cid, address owner, bytes32 manifestHash);
    event ZkSpecSet(bytes32 indexed cidHash, address verifier, uint32 nPublic, uint256 tolerance);

    error EmptyCid();
    error NotModelOwner(bytes32 cidHash, address owner);
    error UnknownModel(bytes32 cidHash);
    error ZkSpecAlreadySet(bytes32 cidHash);
    error VerifierNotContract(address verifier);
    error LayoutLengthMismatch();
    error NoTensors();
    error TensorOutsideSignals(bool output, uint256 index);
    error InputBitsOutOfRange(uint16 inputBits);

    /// @notice Register the model `cid` (binary CID) with its manifest hash; the caller becomes its
    /// owner. The owner may register again to update the manifest hash; anyone else reverts.
    function registerModel(bytes calldata cid, bytes32 manifestHash) external {
        if (cid.length == 0) revert EmptyCid();
        bytes32 cidHash = keccak256(cid);
        Model storage m = models[cidHash];
        if (m.owner == address(0)) {
            m.owner = msg.sender;
            m.registeredAt = uint64(block.timestamp);
        } else if (m.owner != msg.sender) {
            revert NotModelOwner(cidHash, m.owner);
        }
        m.manifestHash = manifestHash;
        emit ModelRegistered(cidHash, cid, msg.sender, manifestHash);
    }

    /// @notice Set how the model's Groth16 proofs are checked. Only the model's owner, once.
    function setZkSpec(bytes calldata cid, ZkSpec calldata spec) external {
        bytes32 cidHash = keccak256(cid);
        address owner = models[cidHash].owner;
        if (owner == address(0)) revert UnknownModel(cidHash);
        if (owner != msg.sender) revert NotModelOwner(cidHash, owner);
        if (zkSpecs[cidHash].verifier != address(0)) revert ZkSpecAlreadySet(cidHash);
        _validate(spec);
        zkSpecs[cidHash] = spec;
        emit ZkSpecSet(cidHash, spec.verifier, spec.nPublic, spec.tolerance);
    }

    /// @notice The model's owner, manifest hash and registration time (zeros when unknown).
    function modelOf(bytes calldata cid)
        external
        view
        returns (address owner, bytes32 manifestHash, uint64 registeredAt)
    {
        Model storage m = models[keccak256(cid)];
        return (m.owner, m.manifestHash, m.registeredAt);
    }

    /// @notice The model's ZkSpec (all zero when it has none).
    function zkSpecOf(bytes calldata cid) external view returns (ZkSpec memory) {
        return zkSpecs[keccak256(cid)];
    }

    /// @notice The ZkSpec of the model whose CID hashes to `cidHash` (all zero when none).
    function zkSpecByHash(bytes32 cidHash) external view returns (ZkSpec memory) {
        return zkSpecs[cidHash];
    }

    /// @notice True when the model has a ZkSpec (its proofs can be checked on chain).
    function hasCircuit(bytes calldata cid) external view returns (bool) {
        return zkSpecs[keccak256(cid)].verifier != address(0);
    }

    function _validate(ZkSpec calldata spec) private view {
        if (spec.verifier.code.length == 0) revert VerifierNotContract(spec.verifier);
        uint256 nIn = spec.inputOffsets.length;
        uint256 nOut = spec.outputOffsets.length;
        if (spec.inputSizes.length != nIn || spec.outputSizes.length != nOut) revert LayoutLengthMismatch();
        if (nIn + nOut == 0) revert NoTensors();
        for (uint256 i = 0; i < nIn; i++) {
            if (uint256(spec.inputOffsets[i]) + spec.inputSizes[i] > spec.nPublic) {
                revert TensorOutsideSignals(false, i);
            }
        }
        for (uint256 i = 0; i < nOut; i++) {
            if (uint256(spec.outputOffsets[i]) + spec.outputSizes[i] > spec.nPublic) {
                revert TensorOutsideSignals(true, i);
            }
        }
        if (spec.inputBits < 2 || spec.inputBits > 253) revert InputBitsOutOfRange(spec.inputBits);
    }
}
