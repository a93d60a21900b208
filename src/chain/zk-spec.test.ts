import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ZkLayout } from '../proof/zk/artifacts.ts';
import { groth16Calldata, toleranceFor, zkSpecOf } from './zk-spec.ts';

const verifier = '0x00000000000000000000000000000000000000aa';

function layout(extra: Partial<ZkLayout> = {}): ZkLayout {
  const t = (name: string, size: number, publicOffset: number) => ({
    name,
    signal: name,
    shape: [size],
    size,
    publicOffset,
  });
  return {
    version: 1,
    protocol: 'groth16',
    curve: 'bn128',
    scale: 12,
    bits: 24,
    // graph order, not name order: "b" before "a", "z" before "é"
    outputs: [t('z', 2, 0), t('é', 1, 2)],
    inputs: [t('b', 3, 3), t('a', 4, 6)],
    nPublic: 10,
    constraintEstimate: 1,
    constraints: 1,
    power: 8,
    ptau: { supplied: false, power: 8 },
    warning: '',
    timings: { compileMs: 0, ptauMs: 0, zkeyMs: 0 },
    ...extra,
  };
}

test('the ZkSpec lists tensors in the canonical encoding order (names by UTF-8 bytes)', () => {
  const spec = zkSpecOf(layout(), verifier, 0.5);
  assert.deepEqual(
    { io: [spec.inputOffsets, spec.inputSizes], oo: [spec.outputOffsets, spec.outputSizes] },
    {
      io: [
        [6, 3],
        [4, 3],
      ],
      oo: [
        [0, 2],
        [2, 1],
      ],
    },
  );
  assert.equal(spec.tolerance, 2048n); // 0.5 at 2^12
  assert.equal(spec.inputBits, 24);
  assert.equal(spec.nPublic, 10);
});

test('the default tolerance stays well above what calibration measured, at least 0.01', () => {
  assert.equal(toleranceFor(layout()), 0.01);
  assert.equal(toleranceFor(layout({ calibration: { maxAbsError: 1e-4, outputs: 3 } })), 0.01);
  assert.equal(toleranceFor(layout({ calibration: { maxAbsError: 0.003, outputs: 3 } })), 0.03);
  assert.equal(
    zkSpecOf(layout({ calibration: { maxAbsError: 0.003, outputs: 3 } }), verifier).tolerance,
    123n,
  );
});

test('integer tensors and bad tolerances are refused clearly', () => {
  const l = layout();
  (l.inputs[0] as { int?: boolean }).int = true;
  assert.throws(() => zkSpecOf(l, verifier), /float32 tensors only; "b" is integer/);
  assert.throws(() => zkSpecOf(layout(), verifier, -1), /non-negative/);
  assert.throws(() => zkSpecOf(layout(), verifier, Number.NaN), /non-negative/);
});

test('groth16Calldata swaps each pi_b pair as the Solidity verifier reads it, and refuses non-decimals', () => {
  const proof = {
    pi_a: ['1', '2', '1'],
    pi_b: [
      ['3', '4'],
      ['5', '6'],
      ['1', '0'],
    ],
    pi_c: ['7', '8', '1'],
  };
  assert.deepEqual(groth16Calldata(proof), {
    a: [1n, 2n],
    b: [
      [4n, 3n],
      [6n, 5n],
    ],
    c: [7n, 8n],
  });
  assert.throws(() => groth16Calldata({ ...proof, pi_c: ['0x7', '8'] }), /decimal field elements/);
  assert.throws(() => groth16Calldata({ ...proof, pi_b: [['3', '4']] }), /decimal field elements/);
});
