// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title ZkTensors
/// @notice Checks a model's Groth16 proof against canonical tensor encodings (src/core/encoding.ts):
///
///   map    := u32 count, then per tensor (names sorted): u32 nameLen, name, u64 tensorLen, tensor
///   tensor := u8 dtype (ONNX code, 1 = float32), u32 rank, u64 dims[rank], data
///
/// all integers little-endian. Tensors are matched to a ZkSpec by position (names are skipped).
/// Only float32 is supported. Reads never leave the encoding: malformed inputs revert with a named
/// error; malformed outputs are infinitely far from any proof. Values are quantized exactly as
/// Plumb's fixed-point executor does (src/runtime/exact/fixed.ts quantizeF32Bits): round half away
/// from zero of x * 2^scale, computed from the IEEE 754 bits. Public signals are signed integers mod the BN254 scalar
/// field, outputs first, then inputs.
library ZkTensors {
    /// @notice A Groth16 proof as the snarkjs verifier template takes it (`b` with each pair
    /// already swapped, as snarkjs's calldata export does).
    struct Groth16Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// @notice The BN254 scalar field modulus.
    uint256 internal constant P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint8 internal constant FLOAT32 = 1;

    // _quantize's outcomes
    uint8 private constant OK = 0;
    uint8 private constant NON_FINITE = 1;
    uint8 private constant OVERFLOW = 2;
    // _tensor's outcomes
    uint8 private constant PARSED = 0;
    uint8 private constant TRUNCATED = 1;
    uint8 private constant BAD_LENGTH = 2;
    uint8 private constant BAD_DTYPE = 3;
    uint8 private constant BAD_SIZE = 4;

    /// @notice The encoding ends before a field that starts at byte `offset`.
    error Truncated(uint256 offset);
    /// @notice Bytes left over after the last tensor, from byte `offset`.
    error TrailingBytes(uint256 offset);
    /// @notice Tensor `tensor`'s length field disagrees with its header and data.
    error TensorLengthMismatch(uint256 tensor);
    error UnsupportedDtype(uint256 tensor, uint8 dtype);
    error TensorCountMismatch(uint256 expected, uint256 actual);
    error TensorSizeMismatch(uint256 tensor, uint256 expected, uint256 actual);
    /// @notice The spec places a tensor beyond the public signals (at least `needed` signals).
    error SignalsTooShort(uint256 needed, uint256 length);
    error SignalNotInField(uint256 index);
    error NonFinite(uint32 bits);
    error QuantizeOverflow(uint32 bits, uint8 scale);
    error InputOutOfRange(uint256 tensor, uint256 element, int256 value);
    error InputSignalMismatch(uint256 tensor, uint256 element, uint256 expected, uint256 actual);

    /// @notice round_half_away_from_zero(x * 2^scale) for the float32 x whose bits are `bits`,
    /// exactly. Reverts NonFinite for Inf/NaN and QuantizeOverflow when |result| >= 2^255.
    function quantize(uint32 bits, uint8 scale) internal pure returns (int256) {
        (uint8 status, int256 q) = _quantize(bits, scale);
        if (status == NON_FINITE) revert NonFinite(bits);
        if (status == OVERFLOW) revert QuantizeOverflow(bits, scale);
        return q;
    }

    /// @notice Check that the canonical encoding `inputs` holds the spec's input tensors and that
    /// each element, quantized, is in the spec's input range and equals its public signal.
    /// Reverts with a named error otherwise.
    function checkInputs(ModelRegistry.ZkSpec memory spec, bytes calldata inputs, uint256[] calldata signals)
        internal
        pure
    {
        if (inputs.length < 4) revert Truncated(0);
        uint256 n = _le(inputs, 0, 4);
        if (n != spec.inputOffsets.length) revert TensorCountMismatch(spec.inputOffsets.length, n);
        uint256 pos = 4;
        for (uint256 t = 0; t < n; t++) {
            uint256 size = spec.inputSizes[t];
            (uint8 problem, uint256 detail, uint256 data, uint256 next) = _tensor(inputs, pos, size);
            if (problem != PARSED) _revertMalformed(problem, detail, t, size);
            _checkInput(spec, t, inputs[data:next], signals);
            pos = next;
        }
        if (pos != inputs.length) revert TrailingBytes(pos);
    }

    /// @notice The largest |quantize(element) - signed(signal)| over the output tensors of the
    /// canonical encoding `outputs`, where signed(v) = v > p/2 ? v - p : v. Outputs that are not
    /// the spec's tensors (malformed, another tensor count or size, not float32) or hold a value
    /// that does not quantize (non-finite, too large) are infinitely wrong: type(uint256).max.
    /// (A receipt's output bytes are fixed by the node's signature, so any of these is a false
    /// claim.) Reverts only for signals the spec does not fit (SignalsTooShort, SignalNotInField).
    function maxOutputDistance(ModelRegistry.ZkSpec memory spec, bytes calldata outputs, uint256[] calldata signals)
        internal
        pure
        returns (uint256 distance)
    {
        if (outputs.length < 4 || _le(outputs, 0, 4) != spec.outputOffsets.length) return type(uint256).max;
        uint256 pos = 4;
        for (uint256 t = 0; t < spec.outputOffsets.length; t++) {
            (uint8 problem,, uint256 data, uint256 next) = _tensor(outputs, pos, spec.outputSizes[t]);
            if (problem != PARSED) return type(uint256).max;
            uint256 d = _outputDistance(spec, t, outputs[data:next], signals);
            if (d > distance) distance = d;
            pos = next;
        }
        if (pos != outputs.length) return type(uint256).max;
    }

    /// @notice True when the spec's verifier accepts `proof` for `signals`: there must be
    /// `nPublic` signals, each below p. A reverting verifier or any answer but true is false.
    function verifyGroth16(ModelRegistry.ZkSpec memory spec, Groth16Proof calldata proof, uint256[] calldata signals)
        internal
        view
        returns (bool)
    {
        uint256 n = signals.length;
        if (n != spec.nPublic || spec.verifier == address(0)) return false;
        for (uint256 i = 0; i < n; i++) {
            if (signals[i] >= P) return false;
        }
        // snarkjs's template: verifyProof(uint[2], uint[2][2], uint[2], uint[N]) with N = nPublic.
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(n), "])"
                )
            )
        );
        bytes memory data = abi.encodePacked(selector, abi.encode(proof.a, proof.b, proof.c), signals);
        (bool ok, bytes memory ret) = spec.verifier.staticcall(data);
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    /// @dev Parse the map entry at `pos`, expected to be a float32 tensor of `size` elements.
    /// Returns PARSED, where its data starts and where the next entry starts; or what is wrong
    /// (TRUNCATED with the offset, BAD_DTYPE with the dtype, BAD_SIZE with the element count, or
    /// BAD_LENGTH). Never reads outside `enc`.
    function _tensor(bytes calldata enc, uint256 pos, uint256 size)
        private
        pure
        returns (uint8 problem, uint256 detail, uint256 data, uint256 next)
    {
        if (enc.length < pos + 4) return (TRUNCATED, pos, 0, 0);
        pos += 4 + _le(enc, pos, 4); // u32 name length, name
        if (enc.length < pos + 8) return (TRUNCATED, pos, 0, 0);
        uint256 tensorLen = _le(enc, pos, 8);
        pos += 8;
        if (tensorLen > enc.length - pos) return (TRUNCATED, pos, 0, 0);
        next = pos + tensorLen;
        if (tensorLen < 5) return (BAD_LENGTH, 0, 0, 0);
        uint256 dtype = _le(enc, pos, 1);
        if (dtype != FLOAT32) return (BAD_DTYPE, dtype, 0, 0);
        uint256 rank = _le(enc, pos + 1, 4);
        // the dims must fit inside the tensor's declared length
        if (rank > (tensorLen - 5) / 8) return (BAD_LENGTH, 0, 0, 0);
        data = pos + 5 + 8 * rank;
        // the element count, clamped at 2^64 so a product of u64 dims never overflows
        uint256 count = 1;
        for (uint256 i = 0; i < rank; i++) {
            count *= _le(enc, pos + 5 + 8 * i, 8);
            if (count > type(uint64).max) count = uint256(type(uint64).max) + 1;
        }
        if (count * 4 != next - data) return (BAD_LENGTH, 0, 0, 0);
        if (count != size) return (BAD_SIZE, count, 0, 0);
        return (PARSED, 0, data, next);
    }

    /// @dev Revert with the named error for a `_tensor` problem in tensor `t`.
    function _revertMalformed(uint8 problem, uint256 detail, uint256 t, uint256 size) private pure {
        if (problem == TRUNCATED) revert Truncated(detail);
        if (problem == BAD_DTYPE) revert UnsupportedDtype(t, uint8(detail));
        if (problem == BAD_SIZE) revert TensorSizeMismatch(t, size, detail);
        revert TensorLengthMismatch(t);
    }

    /// @dev Input tensor `t`'s elements (`data`: its float32 data) against its public signals.
    function _checkInput(ModelRegistry.ZkSpec memory spec, uint256 t, bytes calldata data, uint256[] calldata signals)
        private
        pure
    {
        uint256 size = data.length / 4;
        uint256 offset = _signalsAt(spec.inputOffsets[t], size, signals.length);
        int256 half = int256(1) << (spec.inputBits - 1);
        for (uint256 j = 0; j < size; j++) {
            int256 q = quantize(_u32(data, 4 * j), spec.scale);
            if (q < -half || q >= half) revert InputOutOfRange(t, j, q);
            uint256 field = q >= 0 ? uint256(q) : P - uint256(-q);
            if (field != signals[offset + j]) revert InputSignalMismatch(t, j, field, signals[offset + j]);
        }
    }

    /// @dev The largest distance between output tensor `t`'s elements and its public signals.
    function _outputDistance(
        ModelRegistry.ZkSpec memory spec,
        uint256 t,
        bytes calldata data,
        uint256[] calldata signals
    ) private pure returns (uint256 distance) {
        uint256 size = data.length / 4;
        uint256 offset = _signalsAt(spec.outputOffsets[t], size, signals.length);
        for (uint256 j = 0; j < size; j++) {
            uint256 signal = signals[offset + j];
            if (signal >= P) revert SignalNotInField(offset + j);
            uint256 d = _distance(_u32(data, 4 * j), spec.scale, signal);
            if (d > distance) distance = d;
        }
    }

    /// @dev `offset`, checked to leave room for `size` signals.
    function _signalsAt(uint256 offset, uint256 size, uint256 length) private pure returns (uint256) {
        if (offset + size > length) revert SignalsTooShort(offset + size, length);
        return offset;
    }

    /// @dev The little-endian unsigned integer of `len` (<= 32) bytes at `pos`; the caller has
    /// checked that they lie inside `enc`.
    function _le(bytes calldata enc, uint256 pos, uint256 len) private pure returns (uint256 v) {
        uint256 word;
        assembly ("memory-safe") {
            word := calldataload(add(enc.offset, pos))
        }
        for (uint256 i = 0; i < len; i++) {
            v |= ((word >> (248 - 8 * i)) & 0xff) << (8 * i);
        }
    }

    /// @dev The little-endian u32 at `pos`, where the caller has bounds-checked the tensor data.
    function _u32(bytes calldata enc, uint256 pos) private pure returns (uint32) {
        uint256 w;
        assembly ("memory-safe") {
            w := shr(224, calldataload(add(enc.offset, pos)))
        }
        return uint32(((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >> 8) & 0xff00) | (w >> 24));
    }

    /// @dev quantize without reverting: (OK, q), (NON_FINITE, 0) or (OVERFLOW, 0).
    function _quantize(uint32 bits, uint8 scale) private pure returns (uint8 status, int256 q) {
        uint256 e = (bits >> 23) & 0xff;
        uint256 mant = bits & 0x7fffff;
        if (e == 0xff) return (NON_FINITE, 0);
        // x = mant * 2^exp exactly: exp = e - 150 (normal, implicit leading 1) or -149 (subnormal)
        int256 exp;
        if (e == 0) {
            exp = -149;
        } else {
            mant |= 0x800000;
            exp = int256(e) - 150;
        }
        int256 shift = exp + int256(uint256(scale));
        uint256 mag;
        if (shift >= 0) {
            uint256 s = uint256(shift);
            if (mant != 0 && (s > 255 || mant >> (255 - s) != 0)) return (OVERFLOW, 0);
            mag = mant << s;
        } else {
            uint256 k = uint256(-shift); // at most 149
            mag = mant >> k;
            uint256 rem = mant - (mag << k);
            if (rem << 1 >= uint256(1) << k) mag += 1; // a tie rounds up in magnitude
        }
        q = bits >> 31 == 1 ? -int256(mag) : int256(mag);
        return (OK, q);
    }

    /// @dev |quantize(bits) - signed(signal)| for a signal below p; type(uint256).max when the
    /// float does not quantize (non-finite, or too large).
    function _distance(uint32 bits, uint8 scale, uint256 signal) private pure returns (uint256) {
        (uint8 status, int256 q) = _quantize(bits, scale);
        if (status != OK) return type(uint256).max;
        int256 proven = signal > P / 2 ? -int256(P - signal) : int256(signal);
        return _absDiff(q, proven);
    }

    /// @dev |a - b| for |a| < 2^255 and |b| < 2^254, without overflow.
    function _absDiff(int256 a, int256 b) private pure returns (uint256) {
        if ((a >= 0) == (b >= 0)) return a >= b ? uint256(a - b) : uint256(b - a);
        return _abs(a) + _abs(b);
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}
