/**
 * Read the header of a powers-of-tau file (snarkjs's binary `ptau` format) without loading it:
 * the curve, its power, and whether it is prepared for phase 2 (the Lagrange sections 12-15 that
 * `snarkjs powersoftau prepare phase2` adds). Used to check a user-supplied ceremony file before
 * a setup needs it.
 */
import { open } from 'node:fs/promises';
import { PlumbError } from '../../core/errors.ts';

export type PtauInfo = {
  /** 2^power points: circuits up to that domain size can use it. */
  power: number;
  ceremonyPower: number;
  /** Has the phase-2 Lagrange sections (required by snarkjs zkey new). */
  prepared: boolean;
};

/** BN254's base field modulus q, little-endian, as the header stores it. */
const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

function bad(what: string, why: string): PlumbError {
  return new PlumbError('INVALID_ARGUMENT', `${what} is not a usable powers-of-tau file: ${why}`, {
    metaMessages: [
      'Use a phase-2-prepared .ptau from a public ceremony (e.g. the Hermez/Perpetual Powers of Tau files, powersOfTau28_hez_final_NN.ptau).',
    ],
  });
}

/** The header of the ptau file at `path`; `what` names it in errors. */
export async function readPtauInfo(path: string, what = path): Promise<PtauInfo> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `cannot read ${what}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
  try {
    const { size } = await fh.stat();
    const read = async (position: number, length: number): Promise<Buffer> => {
      if (position + length > size) throw bad(what, 'the file is truncated');
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      if (bytesRead !== length) throw bad(what, 'the file is truncated');
      return buf;
    };
    const magic = await read(0, Math.min(4, size));
    if (magic.toString('latin1') !== 'ptau') throw bad(what, 'it does not start with "ptau"');
    const head = await read(0, 12);
    const nSections = head.readUInt32LE(8);
    const sections = new Map<number, { position: number; size: number }>();
    let position = 12;
    for (let i = 0; i < nSections; i++) {
      const h = await read(position, 12);
      const type = h.readUInt32LE(0);
      const length = Number(h.readBigUInt64LE(4));
      position += 12;
      if (!sections.has(type)) sections.set(type, { position, size: length });
      position += length;
      if (position > size) throw bad(what, `section ${type} runs past the end of the file (truncated?)`);
    }
    const header = sections.get(1);
    if (!header) throw bad(what, 'it has no header section');
    const body = await read(header.position, header.size);
    const n8 = body.readUInt32LE(0);
    if (n8 !== 32 || header.size !== 4 + n8 + 8) throw bad(what, 'its header is not for the bn128 curve');
    let q = 0n;
    for (let i = n8 - 1; i >= 0; i--) q = (q << 8n) | BigInt(body[4 + i]!);
    if (q !== BN254_Q) throw bad(what, 'it is not for the bn128 (BN254) curve');
    const power = body.readUInt32LE(4 + n8);
    const ceremonyPower = body.readUInt32LE(8 + n8);
    const prepared = [12, 13, 14, 15].every((t) => sections.has(t));
    return { power, ceremonyPower, prepared };
  } finally {
    await fh.close();
  }
}

/** Throw unless the ptau at `path` is prepared and has at least `power`. */
export async function checkPtau(
  path: string,
  power: number,
  what = path,
  constraints?: number,
): Promise<PtauInfo> {
  const info = await readPtauInfo(path, what);
  if (!info.prepared)
    throw bad(what, 'it is not prepared for phase 2 (run `snarkjs powersoftau prepare phase2` on it)');
  if (info.power < power)
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `${what} has power ${info.power} (2^${info.power} points); this circuit${constraints !== undefined ? ` (${constraints.toLocaleString('en-US')} constraints)` : ''} needs power ${power} or more`,
      {
        metaMessages: [
          `Use a ceremony file of power >= ${power} (e.g. powersOfTau28_hez_final_${String(Math.max(power, 8)).padStart(2, '0')}.ptau).`,
        ],
      },
    );
  return info;
}
