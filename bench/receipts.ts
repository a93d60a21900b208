/**
 * 3. Receipts: buildReceipt / verifyReceipt per second over a 784-float input and a 10-float
 * output, vs plain SHA-256 of the same encoded tensors, with the parts that make up a receipt.
 */
import { createHash } from 'node:crypto';
import { cidOf } from '../src/core/cid.ts';
import { encodeTensors, hashTensors } from '../src/core/encoding.ts';
import { toHex } from '../src/core/hash.ts';
import { buildReceipt, digestOf, randomNonce, verifyReceipt } from '../src/core/receipt.ts';
import { recoverAddress } from '../src/core/secp256k1.ts';
import { type TensorMap, tensorMapToJson } from '../src/core/tensor.ts';
import type { PlumbNode } from '../src/node/node.ts';
import { buildMlp, seededRandom } from '../test/fixtures/onnx-builder.ts';
import { fmt, opsPerSecond, round, table } from './common.ts';

type Rate = { opsPerSec: number; usPerOp: number; ops: number };
export type ReceiptsResult = {
  inputFloats: number;
  outputFloats: number;
  receiptBytes: number;
  sign: Rate;
  verify: Rate;
  baselineSha256: Rate;
  components: Record<string, Rate>;
  signVsBaseline: number;
  verifyVsBaseline: number;
};

export function benchReceipts(node: PlumbNode, maxMs: number): ReceiptsResult {
  const mlp = buildMlp({ sizes: [784, 128, 10], seed: 1 });
  const random = seededRandom(7);
  const x = Float32Array.from({ length: 784 }, () => random());
  const inputs: TensorMap = { input: { dtype: 'float32', shape: [1, 784], data: x } };
  const outputs: TensorMap = { output: { dtype: 'float32', shape: [1, 10], data: mlp.forward(x) } };
  const modelCid = cidOf(mlp.bytes);
  const key = node.key;
  const build = () =>
    buildReceipt({
      domain: node.domain,
      modelCid,
      model: { repo: 'bench/mlp-784-128-10', version: '1.0.0' },
      inputs,
      outputs,
      mode: 'signed',
      node: key.address,
      nonce: randomNonce(),
      timestamp: Date.now(),
      sign: key.sign,
    });
  const receipt = build();
  const receiptText = JSON.stringify(receipt);
  const receiptJson = JSON.parse(receiptText) as unknown;
  const check = verifyReceipt(receiptJson);
  if (!check.valid) throw new Error(`bench: a fresh receipt does not verify: ${check.reason}`);
  const encIn = encodeTensors(inputs);
  const encOut = encodeTensors(outputs);
  const digest = digestOf(node.domain, receipt);
  if (toHex(digest) !== receipt.id) throw new Error('bench: digestOf disagrees with the receipt id');
  const signature = receipt.evidence.signature as `0x${string}`;
  const opts = { maxMs, minIters: 20 };

  const sign = opsPerSecond(build, opts);
  const verify = opsPerSecond(() => {
    if (!verifyReceipt(receiptJson).valid) throw new Error('bench: receipt stopped verifying');
  }, opts);
  const baselineSha256 = opsPerSecond(() => {
    createHash('sha256').update(encIn).digest();
    createHash('sha256').update(encOut).digest();
  }, opts);
  const part = (fn: () => unknown) => opsPerSecond(fn, { maxMs: Math.max(200, maxMs / 4), minIters: 20 });
  const components: Record<string, Rate> = {
    'hashTensors(in)+hashTensors(out)': part(() => {
      hashTensors(inputs);
      hashTensors(outputs);
    }),
    'EIP-712 digest (digestOf)': part(() => digestOf(node.domain, receipt)),
    'secp256k1 sign (node key)': part(() => key.sign(digest)),
    'tensorMapToJson(in)+(out)': part(() => {
      tensorMapToJson(inputs);
      tensorMapToJson(outputs);
    }),
    'JSON.stringify(receipt)': part(() => JSON.stringify(receipt)),
    'JSON.parse(receipt)': part(() => JSON.parse(receiptText)),
    'recoverAddress (verify side)': part(() => recoverAddress(digest, signature)),
  };
  return {
    inputFloats: 784,
    outputFloats: 10,
    receiptBytes: Buffer.byteLength(receiptText),
    sign,
    verify,
    baselineSha256,
    components,
    signVsBaseline: round(sign.opsPerSec / baselineSha256.opsPerSec, 4),
    verifyVsBaseline: round(verify.opsPerSec / baselineSha256.opsPerSec, 4),
  };
}

export function printReceipts(r: ReceiptsResult): void {
  console.log(
    `\n== 3. Receipts: ${r.inputFloats}-float input, ${r.outputFloats}-float output, single thread ==`,
  );
  console.log(
    '   baseline = node:crypto sha256 of the canonically encoded input tensors + of the output tensors',
  );
  console.log(
    '   (2 digests per op, encodings precomputed): the floor any receipt must pay for its two hashes.',
  );
  const row = (name: string, x: Rate, vs?: number) => [
    name,
    fmt(x.opsPerSec, 1),
    fmt(x.usPerOp, 2),
    vs === undefined ? '' : `${fmt(vs * 100, 2)}%`,
  ];
  console.log(
    table(
      ['operation', 'ops/s', 'us/op', 'vs baseline'],
      [
        row('buildReceipt (hash + EIP-712 + sign + JSON form)', r.sign, r.signVsBaseline),
        row('verifyReceipt (zod + re-hash + recover)', r.verify, r.verifyVsBaseline),
        row('baseline: sha256(enc(in)) + sha256(enc(out))', r.baselineSha256),
        ...Object.entries(r.components).map(([name, x]) => row(`  part: ${name}`, x)),
      ],
    ),
  );
  console.log(`   receipt JSON size: ${r.receiptBytes} bytes (inputs included)`);
}
