/**
 * Groth16 setup of a model's circuit: compile the circom source with circom2 (--O1, in a child
 * Node process running the WebAssembly compiler), get a powers-of-tau file (computed directly
 * from locally sampled secrets by ptau.ts and cached by power: DEVELOPMENT ONLY, the generator
 * momentarily knows the toxic waste), then the circuit's
 * zkey (with one random phase-2 contribution) and verification key.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as snarkjs from 'snarkjs';
import { PlumbError } from '../../core/errors.ts';
import { type CircuitOptions, type CompiledCircuit, compileCircuit } from './circuit.ts';
import { writeDevPtau } from './ptau.ts';
import { checkPtau } from './ptau-file.ts';
import { MAX_SETUP_POWER, setupSizeProblem } from './size.ts';

/** A stage of a setup, as it starts: compile, ptau (generating or cached or supplied), zkey. */
export type SetupProgress = {
  stage: 'compile' | 'ptau' | 'zkey';
  message: string;
};

export type SetupOptions = CircuitOptions & {
  /** Directory for this model's artifacts (created). */
  workDir: string;
  /** Directory caching generated powers-of-tau files by power (created). */
  ptauDir: string;
  /**
   * A prepared powers-of-tau file from a public ceremony to use instead of a generated one
   * (checked for power; `ptauName` names it in errors).
   */
  ptauFile?: string | undefined;
  ptauName?: string | undefined;
  onProgress?: ((p: SetupProgress) => void) | undefined;
};

export type ZkArtifacts = {
  circuit: CompiledCircuit;
  circomPath: string;
  r1csPath: string;
  wasmPath: string;
  zkeyPath: string;
  vkey: snarkjs.VerificationKey;
  /** R1CS constraint count after circom --O1. */
  constraints: number;
  /** Power k of the 2^k domain the circuit needs. */
  power: number;
  ptauPath: string;
  /** The ptau came from the caller (a ceremony file), not from a local generator. */
  ptauSupplied: boolean;
  /** Development-only notice: the ptau and the zkey are not from a trusted ceremony. */
  warning: string;
  timings: { compileMs: number; ptauMs: number; zkeyMs: number };
};

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const DEV_SETUP_WARNING =
  'development setup only: the powers-of-tau and phase-2 contribution were generated locally by ' +
  'this process, so whoever ran it could forge proofs; use a ptau from a public ceremony ' +
  '(e.g. Hermez/Perpetual Powers of Tau) and an audited phase-2 ceremony in production';

export const SUPPLIED_PTAU_WARNING =
  'the powers-of-tau is user-supplied (from a ceremony), but the phase-2 contribution was made ' +
  'locally by this process alone, so whoever ran it could forge proofs for this circuit; run an ' +
  'audited multi-party phase-2 ceremony for production';

/** Compile circom source in `dir` (writes model.r1cs and model_js/model.wasm). */
export async function compileCircom(source: string, dir: string): Promise<{ r1cs: string; wasm: string }> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.circom'), source);
  const cli = require.resolve('circom2/cli.js');
  try {
    await run(process.execPath, [cli, 'model.circom', '--r1cs', '--wasm', '--O1', '-o', '.'], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const stdout = (error as { stdout?: string }).stdout ?? '';
    throw new PlumbError('INTERNAL', 'circom2 failed to compile the generated circuit', {
      details: `${stdout}\n${stderr}`.trim().slice(0, 2000),
      cause: error,
    });
  }
  return { r1cs: join(dir, 'model.r1cs'), wasm: join(dir, 'model_js', 'model.wasm') };
}

/** Smallest k with 2^k > constraints + public inputs + outputs (snarkjs's domain rule). */
export function requiredPower(info: { nConstraints: number; nPubInputs: number; nOutputs: number }): number {
  const n = info.nConstraints + info.nPubInputs + info.nOutputs;
  return Math.max(1, n.toString(2).length);
}

/**
 * A prepared (phase-2 ready) powers-of-tau file of power >= `power` from `dir`, generating
 * `pot<power>.ptau` when none is cached. DEVELOPMENT ONLY (see DEV_SETUP_WARNING).
 */
export async function ensurePtau(
  dir: string,
  power: number,
  onGenerate?: (power: number) => void,
): Promise<string> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_SETUP_POWER)
    throw new PlumbError('INVALID_ARGUMENT', `ptau power must be in 1..${MAX_SETUP_POWER}, got ${power}`);
  mkdirSync(dir, { recursive: true });
  const cached = readdirSync(dir)
    .map((f) => /^pot(\d+)\.ptau$/.exec(f))
    .flatMap((m) => (m ? [Number(m[1])] : []))
    .filter((k) => k >= power)
    .sort((a, b) => a - b);
  if (cached[0] !== undefined) return join(dir, `pot${cached[0]}.ptau`);
  onGenerate?.(power);
  const tmp = join(dir, `tmp-${process.pid}-${randomBytes(4).toString('hex')}.ptau`);
  try {
    await writeDevPtau(tmp, power);
    const final = join(dir, `pot${power}.ptau`);
    renameSync(tmp, final); // atomic: concurrent runs never see a partial file
    return final;
  } finally {
    if (existsSync(tmp)) rmSync(tmp);
  }
}

/** Compile, get a ptau, and produce the zkey and verification key of a model. */
export async function setupModel(bytes: Uint8Array, options: SetupOptions): Promise<ZkArtifacts> {
  const circuitOptions: CircuitOptions = {};
  if (options.scale !== undefined) circuitOptions.scale = options.scale;
  if (options.bits !== undefined) circuitOptions.bits = options.bits;
  if (options.maxBits !== undefined) circuitOptions.maxBits = options.maxBits;
  const report = options.onProgress ?? (() => {});
  let t = performance.now();
  report({ stage: 'compile', message: 'compiling the circuit (circom)' });
  const circuit = compileCircuit(bytes, circuitOptions);
  const tooLarge = setupSizeProblem(circuit);
  if (tooLarge) throw new PlumbError('INVALID_MODEL', `model cannot be proven in zk mode: ${tooLarge}`);
  const { r1cs, wasm } = await compileCircom(circuit.source, options.workDir);
  const info = await snarkjs.r1cs.info(r1cs);
  const compileMs = performance.now() - t;

  t = performance.now();
  const power = requiredPower(info);
  let ptauPath: string;
  if (options.ptauFile !== undefined) {
    report({ stage: 'ptau', message: `checking the supplied powers-of-tau (needs 2^${power})` });
    await checkPtau(options.ptauFile, power, options.ptauName ?? options.ptauFile, info.nConstraints);
    ptauPath = options.ptauFile;
  } else {
    let generated = false;
    ptauPath = await ensurePtau(options.ptauDir, power, (k) => {
      generated = true;
      report({
        stage: 'ptau',
        message: `generating a DEVELOPMENT powers-of-tau of 2^${k} (cached for later setups)`,
      });
    });
    if (!generated)
      report({ stage: 'ptau', message: `using a cached development powers-of-tau (2^${power}+)` });
  }
  const ptauMs = performance.now() - t;

  t = performance.now();
  report({ stage: 'zkey', message: 'Groth16 proving key: phase-2 contribution and verification key' });
  const z0 = join(options.workDir, 'model_0000.zkey');
  const zkeyPath = join(options.workDir, 'model.zkey');
  const made = await snarkjs.zKey.newZKey(r1cs, ptauPath, z0);
  if (made === -1 || !existsSync(z0))
    throw new PlumbError('INTERNAL', 'snarkjs could not make the proving key from the powers-of-tau', {
      metaMessages: ['Is the ptau prepared for phase 2 and large enough for the circuit?'],
    });
  await snarkjs.zKey.contribute(z0, zkeyPath, 'plumb-dev', randomBytes(32).toString('hex'));
  rmSync(z0);
  const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath);
  writeFileSync(join(options.workDir, 'verification_key.json'), JSON.stringify(vkey, null, 2));
  const zkeyMs = performance.now() - t;

  return {
    circuit,
    circomPath: join(options.workDir, 'model.circom'),
    r1csPath: r1cs,
    wasmPath: wasm,
    zkeyPath,
    vkey,
    constraints: info.nConstraints,
    power,
    ptauPath,
    ptauSupplied: options.ptauFile !== undefined,
    warning: options.ptauFile !== undefined ? SUPPLIED_PTAU_WARNING : DEV_SETUP_WARNING,
    timings: { compileMs, ptauMs, zkeyMs },
  };
}

/** Stop snarkjs's worker threads (ffjavascript caches one bn128 curve per process). */
export async function releaseZk(): Promise<void> {
  // Only a curve this thread built: building one just to stop it would start its threads first.
  if (!(globalThis as { curve_bn128?: unknown }).curve_bn128) return;
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await curve.terminate();
}
