import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { writeDevPtau } from './ptau.ts';
import { releaseZk } from './setup.ts';

const work = mkdtempSync(join(tmpdir(), 'plumb-ptau-'));

describe('writeDevPtau', () => {
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  for (const power of [8, 10]) {
    it(`writes a power-${power} ptau that snarkjs verifies`, async () => {
      const path = join(work, `dev${power}.ptau`);
      await writeDevPtau(path, power);
      assert.equal(await snarkjs.powersOfTau.verify(path), true);
    });
  }

  it("has preparePhase2's exact layout: re-preparing the file reproduces it byte for byte", async () => {
    const path = join(work, 'dev4.ptau');
    const again = join(work, 'dev4-prepared.ptau');
    await writeDevPtau(path, 4);
    await snarkjs.powersOfTau.preparePhase2(path, again);
    assert.ok(readFileSync(path).equals(readFileSync(again)));
  });

  it('samples fresh secrets each time', async () => {
    const a = join(work, 'a.ptau');
    const b = join(work, 'b.ptau');
    await writeDevPtau(a, 2);
    await writeDevPtau(b, 2);
    assert.ok(!readFileSync(a).equals(readFileSync(b)));
  });
});
