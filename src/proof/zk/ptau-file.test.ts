import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isPlumbError } from '../../core/errors.ts';
import { checkPtau, readPtauInfo } from './ptau-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumb-ptau-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** A ptau file with a header section (1) and empty sections of the given types. */
function ptau(power: number, sections: number[], q = Q): string {
  const header = Buffer.alloc(4 + 32 + 8);
  header.writeUInt32LE(32, 0);
  for (let i = 0, x = q; i < 32; i++, x >>= 8n) header[4 + i] = Number(x & 0xffn);
  header.writeUInt32LE(power, 36);
  header.writeUInt32LE(power, 40);
  const parts = [Buffer.from('ptau'), u32(1), u32(1 + sections.length), u32(1), u64(header.length), header];
  for (const type of sections) parts.push(u32(type), u64(0));
  const path = join(dir, `p${power}-${sections.join('_')}-${q % 7n}.ptau`);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};

describe('powers-of-tau header', () => {
  it('reads power and whether phase 2 is prepared', async () => {
    assert.deepEqual(await readPtauInfo(ptau(12, [2, 3, 12, 13, 14, 15])), {
      power: 12,
      ceremonyPower: 12,
      prepared: true,
    });
    assert.equal((await readPtauInfo(ptau(12, [2, 3]))).prepared, false);
  });

  it('refuses unprepared, too small, other-curve, truncated and missing files with reasons', async () => {
    const refuses = async (p: Promise<unknown>, pattern: RegExp) =>
      assert.rejects(p, (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && pattern.test(e.shortMessage));
    await refuses(checkPtau(ptau(12, [2]), 10, 'x.ptau'), /x\.ptau .* not prepared for phase 2/);
    await refuses(
      checkPtau(ptau(9, [12, 13, 14, 15]), 11, 'x.ptau', 1500),
      /x\.ptau has power 9 .*\(1,500 constraints\) needs power 11 or more/,
    );
    await refuses(readPtauInfo(ptau(9, [], Q - 2n), 'y'), /not for the bn128/);
    const truncated = join(dir, 'truncated.ptau');
    writeFileSync(
      truncated,
      Buffer.from('ptau\x01\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00\xff', 'latin1'),
    );
    await refuses(readPtauInfo(truncated, 't'), /truncated/);
    await refuses(readPtauInfo(join(dir, 'nope.ptau'), 'nope.ptau'), /cannot read nope\.ptau: no such file/);
    writeFileSync(join(dir, 'text.ptau'), 'hello');
    await refuses(readPtauInfo(join(dir, 'text.ptau'), 'text'), /does not start with "ptau"/);
  });
});
