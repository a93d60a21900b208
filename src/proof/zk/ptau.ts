/**
 * Direct single-party DEVELOPMENT powers-of-tau: sample tau, alpha and beta from the OS CSPRNG,
 * compute every point of a phase-2-ready ptau file as a known scalar times the generator, and
 * forget the secrets. The file has the layout snarkjs's newAccumulator + contribute +
 * preparePhase2 produce (header, sections 2-7 with one contribution record whose proofs of
 * knowledge and challenge hashes `snarkjs.powersOfTau.verify` accepts, and the Lagrange sections
 * 12-15 for every domain 2^0..2^power, plus 2^(power+1) for tauG1), but skips the group FFTs of
 * preparePhase2: the Lagrange scalars come from an FFT over the scalar field, then each point is
 * its scalar times the generator, computed in ffjavascript's worker threads (from 2^12 with a
 * fixed-base table: at most 32 mixed additions per point instead of a full scalar multiplication).
 * The result is byte-for-byte what preparePhase2 would write for the same tau (ptau.test.ts).
 * Timings on the 2-core dev box: 2^10 ~4 s, 2^12 ~8 s, 2^14 ~17-19 s, 2^16 ~56 s.
 *
 * DEVELOPMENT ONLY: whoever runs this could keep tau and forge proofs.
 */
import { randomBytes } from 'node:crypto';
import { type BinFile, createBinFile, endWriteSection, startWriteSection } from '@iden3/binfileutils';
import { blake2b } from '@noble/hashes/blake2.js';
import { buildBn128, ChaCha, type Curve, type FrElement, type Group, Scalar, type Task } from 'ffjavascript';

const CONTRIBUTION_NAME = 'plumb-dev';
const CHUNK = 1 << 12;
const FIXED_BASE_MIN_POWER = 12;

type Blake2b = ReturnType<typeof blake2b.create>;

/** Write a prepared (phase-2 ready) development ptau of `power` (1..20) to `path`. */
export async function writeDevPtau(path: string, power: number): Promise<void> {
  if (!Number.isInteger(power) || power < 1 || power > 20)
    throw new RangeError(`ptau power must be in 1..20, got ${power}`);
  const curve = await buildBn128();
  const { Fr, G1, G2 } = curve;
  const n = 2 ** power;
  const tau = randomFr(curve);
  const alpha = randomFr(curve);
  const beta = randomFr(curve);

  // tau^0 .. tau^(2n-2), Montgomery form, packed.
  const tauPowers = new Uint8Array((2 * n - 1) * Fr.n8);
  let t = Fr.one;
  for (let i = 0; i < 2 * n - 1; i++) {
    tauPowers.set(t, i * Fr.n8);
    t = Fr.mul(t, tau);
  }
  const head = (count: number): Uint8Array => tauPowers.subarray(0, count * Fr.n8);

  // Fixed-base tables (8192 points per group) pay off from about 2^12 (measured: equal at 2^11).
  const useTables = power >= FIXED_BASE_MIN_POWER;
  const t1 = useTables ? await fixedBase(curve, G1) : undefined;
  const t2 = useTables ? await fixedBase(curve, G2) : undefined;

  const challenge = firstChallengeHash(curve, power);
  const key = proofsOfKnowledge(curve, challenge, { tau, alpha, beta });

  const fd = await createBinFile(path, 'ptau', 1, 11);
  try {
    await writeHeader(fd, curve, power);

    // Sections 2-6; the response hash covers them compressed, the next challenge uncompressed.
    const response = blake2b.create({ dkLen: 64 });
    response.update(challenge);
    const uncompressed: Uint8Array[] = [];
    const emit = async (id: number, G: Group, points: Uint8Array): Promise<void> => {
      await writeSection(fd, id, points);
      response.update(await G.batchLEMtoC(points));
      uncompressed.push(await G.batchLEMtoU(points));
    };
    const tauG1 = await timesGenerator(curve, G1, head(2 * n - 1), t1);
    await emit(2, G1, tauG1);
    const tauG2 = await timesGenerator(curve, G2, head(n), t2);
    await emit(3, G2, tauG2);
    const alphaTauG1 = await timesGenerator(curve, G1, scale(curve, head(n), alpha), t1);
    await emit(4, G1, alphaTauG1);
    const betaTauG1 = await timesGenerator(curve, G1, scale(curve, head(n), beta), t1);
    await emit(5, G1, betaTauG1);
    const betaG2 = await timesGenerator(curve, G2, beta);
    await emit(6, G2, betaG2);

    const partialHash = toPartialHash(response);
    response.update(pubKeyBytes(curve, key, false));
    const next = blake2b.create({ dkLen: 64 });
    next.update(response.digest());
    for (const u of uncompressed) next.update(u);
    uncompressed.length = 0;

    // Section 7: one contribution (tauG1, tauG2, alphaG1, betaG1, betaG2 as stored in 2-6).
    const sG1 = G1.F.n8 * 2;
    const sG2 = G2.F.n8 * 2;
    const name = new TextEncoder().encode(CONTRIBUTION_NAME);
    await startWriteSection(fd, 7);
    await fd.writeULE32(1);
    await fd.write(tauG1.slice(sG1, 2 * sG1));
    await fd.write(tauG2.slice(sG2, 2 * sG2));
    await fd.write(alphaTauG1.slice(0, sG1));
    await fd.write(betaTauG1.slice(0, sG1));
    await fd.write(betaG2.slice(0, sG2));
    await fd.write(pubKeyBytes(curve, key, true));
    await fd.write(partialHash);
    await fd.write(next.digest());
    await fd.writeULE32(0); // contribution type: 0 = random, not a beacon
    await fd.writeULE32(name.length + 2);
    await fd.write(new Uint8Array([1, name.length, ...name])); // parameter 1: name
    await endWriteSection(fd);

    // Sections 12-15: section i of domain 2^p holds (1/2^p) sum_j s_j w^(-ij) G with s_j the
    // scalars of the first 2^p points of the source section (the last tauG1 one is 0 for p = power+1).
    const lagrange = async (
      id: number,
      G: Group,
      scalars: (m: number) => Uint8Array,
      maxP: number,
      table: FixedBase | undefined,
    ): Promise<void> => {
      await startWriteSection(fd, id);
      for (let p = 0; p <= maxP; p++) {
        await fd.write(await timesGenerator(curve, G, await Fr.ifft(scalars(2 ** p)), table));
      }
      await endWriteSection(fd);
    };
    const tauScalars = (m: number): Uint8Array => {
      if (m <= 2 * n - 1) return head(m);
      const padded = new Uint8Array(m * Fr.n8); // zero: the point at infinity's scalar
      padded.set(head(2 * n - 1));
      return padded;
    };
    await lagrange(12, G1, tauScalars, power + 1, t1);
    await lagrange(13, G2, tauScalars, power, t2);
    await lagrange(14, G1, (m) => scale(curve, head(m), alpha), power, t1);
    await lagrange(15, G1, (m) => scale(curve, head(m), beta), power, t1);
  } finally {
    await fd.close();
    for (const secret of [tau, alpha, beta, tauPowers]) secret.fill(0);
  }
}

/** A uniformly random nonzero scalar from node:crypto (512 bits reduced mod r). */
function randomFr(curve: Curve): FrElement {
  for (;;) {
    const x = BigInt(`0x${randomBytes(64).toString('hex')}`) % curve.r;
    if (x !== 0n) return curve.Fr.e(x);
  }
}

function scale(curve: Curve, scalars: Uint8Array, k: FrElement): Uint8Array {
  const { Fr } = curve;
  const out = new Uint8Array(scalars.length);
  for (let i = 0; i < scalars.length; i += Fr.n8) out.set(Fr.mul(scalars.subarray(i, i + Fr.n8), k), i);
  return out;
}

/**
 * s_i * generator for each packed Montgomery scalar, as affine Montgomery-LE points (ptau
 * layout), computed in ffjavascript's worker threads. With a fixed-base `table` (see
 * fixedBaseTable) each point is at most 32 mixed additions instead of a full scalar
 * multiplication.
 */
async function timesGenerator(
  curve: Curve,
  G: Group,
  scalars: Uint8Array,
  base?: FixedBase,
): Promise<Uint8Array> {
  const { Fr } = curve;
  const prefix = G === curve.G1 ? 'g1m' : 'g2m';
  const sAffine = G.F.n8 * 2;
  const sJacobian = G.F.n8 * 3;
  const count = scalars.length / Fr.n8;
  const chunk = Math.max(1, Math.min(CHUNK, Math.ceil(count / curve.tm.concurrency)));
  const jobs: Promise<Uint8Array[]>[] = [];
  for (let start = 0; start < count; start += chunk) {
    const m = Math.min(chunk, count - start);
    const task: Task = [{ cmd: 'ALLOC', var: 2, len: m * sJacobian }];
    if (base) {
      // Accumulate in var 3, then copy out: the CALL objects repeat, so postMessage's structured
      // clone sends each once per chunk and back-references after that.
      task.push({ cmd: 'ALLOCSET', var: 0, buff: base.table }, { cmd: 'ALLOC', var: 3, len: sJacobian });
      for (let i = 0; i < m; i++) {
        const at = (start + i) * Fr.n8;
        const bytes = Fr.fromMontgomery(scalars.subarray(at, at + Fr.n8));
        task.push(base.zero);
        for (let w = 0; w < Fr.n8; w++) {
          const b = bytes[w] ?? 0;
          const add = base.add[w * 256 + b];
          if (b !== 0 && add) task.push(add);
        }
        task.push({
          cmd: 'CALL',
          fnName: `${prefix}_copy`,
          params: [{ var: 3 }, { var: 2, offset: i * sJacobian }],
        });
      }
    } else {
      task.push({ cmd: 'ALLOCSET', var: 0, buff: G.oneAffine });
      task.push({ cmd: 'ALLOCSET', var: 1, buff: scalars.slice(start * Fr.n8, (start + m) * Fr.n8) });
      for (let i = 0; i < m; i++) {
        task.push({
          cmd: 'CALL',
          fnName: `${prefix}_timesFrAffine`,
          params: [{ var: 0 }, { var: 1, offset: i * Fr.n8 }, { var: 2, offset: i * sJacobian }],
        });
      }
    }
    task.push({
      cmd: 'CALL',
      fnName: `${prefix}_batchToAffine`,
      params: [{ var: 2 }, { val: m }, { var: 2 }],
    });
    task.push({ cmd: 'GET', out: 0, var: 2, len: m * sAffine });
    jobs.push(curve.tm.queueAction(task));
  }
  const out = new Uint8Array(count * sAffine);
  let pos = 0;
  for (const [part] of await Promise.all(jobs)) {
    if (!part) throw new Error('worker returned no points');
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

type FixedBase = { table: Uint8Array; zero: Task[number]; add: Task[number][] };

/**
 * Table entry 256w + b = (b * 256^w) * generator (affine), for the 32 byte positions of a scalar,
 * and the worker calls that zero the accumulator (var 3) and add an entry (var 0) to it.
 */
async function fixedBase(curve: Curve, G: Group): Promise<FixedBase> {
  const { Fr } = curve;
  const prefix = G === curve.G1 ? 'g1m' : 'g2m';
  const scalars = new Uint8Array(Fr.n8 * 256 * Fr.n8);
  const radix = Fr.e(256);
  let weight = Fr.one;
  for (let w = 0; w < Fr.n8; w++) {
    for (let b = 0; b < 256; b++) scalars.set(Fr.mul(Fr.e(b), weight), (w * 256 + b) * Fr.n8);
    weight = Fr.mul(weight, radix);
  }
  const table = await timesGenerator(curve, G, scalars);
  const sAffine = G.F.n8 * 2;
  const acc = { var: 3 };
  return {
    table,
    zero: { cmd: 'CALL', fnName: `${prefix}_zero`, params: [acc] },
    add: Array.from({ length: Fr.n8 * 256 }, (_, k) => ({
      cmd: 'CALL' as const,
      fnName: `${prefix}_addMixed`,
      params: [acc, { var: 0, offset: k * sAffine }, acc],
    })),
  };
}

async function writeSection(fd: BinFile, id: number, data: Uint8Array): Promise<void> {
  await startWriteSection(fd, id);
  await fd.write(data);
  await endWriteSection(fd);
}

/** Section 1: field element size, q, power, ceremony power. */
async function writeHeader(fd: BinFile, curve: Curve, power: number): Promise<void> {
  const n8 = curve.F1.n64 * 8;
  const q = new Uint8Array(n8);
  Scalar.toRprLE(q, 0, curve.q, n8);
  await startWriteSection(fd, 1);
  await fd.writeULE32(n8);
  await fd.write(q);
  await fd.writeULE32(power);
  await fd.writeULE32(power);
  await endWriteSection(fd);
}

/** Hash of the blank accumulator (all points the generators) that the first contribution answers. */
function firstChallengeHash(curve: Curve, power: number): Uint8Array {
  const n = 2 ** power;
  const g1 = curve.G1.toUncompressed(curve.G1.g);
  const g2 = curve.G2.toUncompressed(curve.G2.g);
  const h = blake2b.create({ dkLen: 64 });
  h.update(blake2b.create({ dkLen: 64 }).digest());
  const repeat = (p: Uint8Array, times: number): void => {
    const block = Math.min(times, 1 << 14);
    const buff = new Uint8Array(block * p.length);
    for (let i = 0; i < block; i++) buff.set(p, i * p.length);
    for (let done = 0; done < times; done += block)
      h.update(buff.subarray(0, Math.min(block, times - done) * p.length));
  };
  repeat(g1, 2 * n - 1);
  repeat(g2, n);
  repeat(g1, n);
  repeat(g1, n);
  h.update(g2);
  return h.digest();
}

type PubKeyPart = { g1s: Uint8Array; g1sx: Uint8Array; g2spx: Uint8Array };
type PubKey = { tau: PubKeyPart; alpha: PubKeyPart; beta: PubKeyPart };

/**
 * The contribution's proofs of knowledge of tau, alpha and beta (personalizations 0, 1, 2): a
 * random G1 point s, s*x, and r*x with r in G2 derived from the challenge and (s, s*x).
 */
function proofsOfKnowledge(
  curve: Curve,
  challenge: Uint8Array,
  x: { tau: FrElement; alpha: FrElement; beta: FrElement },
): PubKey {
  const { G1, G2 } = curve;
  const part = (personalization: number, secret: FrElement): PubKeyPart => {
    const g1s = G1.toAffine(G1.timesFr(G1.g, randomFr(curve)));
    const g1sx = G1.toAffine(G1.timesFr(g1s, secret));
    const h = blake2b.create({ dkLen: 64 });
    h.update(new Uint8Array([personalization]));
    h.update(challenge);
    h.update(G1.toUncompressed(g1s));
    h.update(G1.toUncompressed(g1sx));
    const digest = h.digest();
    const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
    const seed = Array.from({ length: 8 }, (_, i) => view.getUint32(i * 4));
    const g2sp = G2.toAffine(G2.fromRng(new ChaCha(seed)));
    const g2spx = G2.toAffine(G2.timesFr(g2sp, secret));
    return { g1s, g1sx, g2spx };
  };
  return { tau: part(0, x.tau), alpha: part(1, x.alpha), beta: part(2, x.beta) };
}

/** The public key as stored (Montgomery LE) or as hashed (uncompressed big-endian). */
function pubKeyBytes(curve: Curve, key: PubKey, montgomery: boolean): Uint8Array {
  const { G1, G2 } = curve;
  const g1 = [key.tau.g1s, key.tau.g1sx, key.alpha.g1s, key.alpha.g1sx, key.beta.g1s, key.beta.g1sx];
  const g2 = [key.tau.g2spx, key.alpha.g2spx, key.beta.g2spx];
  const sG1 = G1.F.n8 * 2;
  const sG2 = G2.F.n8 * 2;
  const out = new Uint8Array(g1.length * sG1 + g2.length * sG2);
  let pos = 0;
  for (const p of g1) {
    if (montgomery) G1.toRprLEM(out, pos, p);
    else G1.toRprUncompressed(out, pos, p);
    pos += sG1;
  }
  for (const p of g2) {
    if (montgomery) G2.toRprLEM(out, pos, p);
    else G2.toRprUncompressed(out, pos, p);
    pos += sG2;
  }
  return out;
}

/**
 * A BLAKE2b state in the 216-byte form snarkjs stores as a contribution's partial response hash:
 * the 128-byte block buffer, the eight 64-bit state words as LE u32 halves, then (length - pos)
 * and pos as 64-bit LE counters. Reads @noble/hashes internals (the same fields snarkjs reads).
 */
function toPartialHash(hasher: Blake2b): Uint8Array {
  const h = hasher as unknown as Record<string, number> & { buffer: Uint8Array; pos: number; length: number };
  const out = new Uint8Array(216);
  const words = new DataView(out.buffer, 128);
  out.set(h.buffer.subarray(0, 128));
  for (let i = 0; i < 8; i++) {
    words.setInt32(i * 8, h[`v${i}l`] ?? 0, true);
    words.setInt32(i * 8 + 4, h[`v${i}h`] ?? 0, true);
  }
  words.setUint32(64, h.length - h.pos, true);
  words.setUint32(72, h.pos, true);
  return out;
}
