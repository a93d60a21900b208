/**
 * Plumb's Solidity contracts (`contracts/*.sol`, and the test-only `contracts/test/*.sol`)
 * compiled with the pinned solc-js: standard JSON, optimizer on (200 runs), the compiler's
 * default EVM version. `@openzeppelin/...` imports come from node_modules.
 *
 * Compiling takes seconds, so the output is cached: in memory, and on disk at
 * `node_modules/.cache/plumb-contracts/<sha256>.json`, keyed by the solc version, the settings
 * and every source text (imported OpenZeppelin files included). The cache file is written to a
 * temporary name and renamed, so parallel processes never read a partial file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, posix, resolve } from 'node:path';
import type { Abi, Hex } from 'viem';
import { PlumbError } from '../core/errors.ts';

export type ContractArtifact = {
  abi: Abi;
  /** Creation bytecode ('0x' for interfaces and abstract contracts). */
  bytecode: Hex;
  /** Source unit, e.g. `contracts/Settlement.sol`. */
  source: string;
};

/** Contract name -> its ABI and bytecode. */
export type CompiledContracts = Record<string, ContractArtifact>;

const root = resolve(import.meta.dirname, '../..');
const nodeModules = join(root, 'node_modules');
export const contractsDir = join(root, 'contracts');
const cacheDir = join(nodeModules, '.cache', 'plumb-contracts');

const settings = {
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

type Solc = { compile(input: string, callbacks?: { import(path: string): ImportResult }): string };
type ImportResult = { contents: string } | { error: string };
type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
};

const require = createRequire(import.meta.url);

function solcVersion(): string {
  const pkg = JSON.parse(readFileSync(join(nodeModules, 'solc', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The file behind a source unit name: ours under the repository root, packages under node_modules. */
function sourceFile(unit: string): string {
  return unit.startsWith('contracts/') ? join(root, unit) : join(nodeModules, unit);
}

const importPattern = /^\s*import\s+(?:[^;]*?\sfrom\s+)?["']([^"']+)["']\s*;/gm;

/** Unit names of a source's imports (relative ones resolved against the importing unit). */
function importsOf(unit: string, content: string): string[] {
  return [...content.matchAll(importPattern)].map(([, path]) =>
    path!.startsWith('.') ? posix.normalize(posix.join(posix.dirname(unit), path!)) : path!,
  );
}

/** Every `.sol` file under contracts/ (one level of subdirectories), as source unit names. */
function contractUnits(): string[] {
  const units: string[] = [];
  for (const entry of readdirSync(contractsDir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.sol')) units.push(`contracts/${entry.name}`);
    else if (entry.isDirectory())
      for (const f of readdirSync(join(contractsDir, entry.name)))
        if (f.endsWith('.sol')) units.push(`contracts/${entry.name}/${f}`);
  }
  return units.sort();
}

/** Our sources and everything they import, transitively: unit name -> text. */
function collectSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  const pending = contractUnits();
  for (let unit = pending.pop(); unit !== undefined; unit = pending.pop()) {
    if (unit in sources) continue;
    const file = sourceFile(unit);
    if (!existsSync(file)) continue; // left to the compiler's import callback, which reports it
    const content = readFileSync(file, 'utf8');
    sources[unit] = content;
    pending.push(...importsOf(unit, content));
  }
  return Object.fromEntries(Object.entries(sources).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function cacheKey(version: string, sources: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify({ version, settings, sources })).digest('hex');
}

function findImport(path: string): ImportResult {
  const file = sourceFile(path);
  try {
    return { contents: readFileSync(file, 'utf8') };
  } catch {
    return { error: `${path} not found (looked for ${file})` };
  }
}

function runSolc(sources: Record<string, string>): CompiledContracts {
  const solc = require('solc') as Solc;
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([unit, content]) => [unit, { content }])),
    settings,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length)
    throw new PlumbError('INTERNAL', `the contracts do not compile (${errors.length} error(s))`, {
      metaMessages: errors.map((e) => e.formattedMessage.trim()),
    });
  const compiled: CompiledContracts = {};
  for (const [unit, contracts] of Object.entries(output.contracts ?? {})) {
    if (!unit.startsWith('contracts/')) continue;
    for (const [name, c] of Object.entries(contracts)) {
      if (compiled[name])
        throw new PlumbError(
          'INTERNAL',
          `two contracts are named ${name} (${compiled[name].source}, ${unit})`,
        );
      compiled[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, source: unit };
    }
  }
  return compiled;
}

async function readCache(path: string): Promise<CompiledContracts | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CompiledContracts;
  } catch {
    return undefined;
  }
}

async function writeCache(path: string, compiled: CompiledContracts): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(tmp, JSON.stringify(compiled));
    await rename(tmp, path);
  } catch {
    // a cache that cannot be written only costs the next process a compile
    await rm(tmp, { force: true });
  }
}

const memo = new Map<string, Promise<CompiledContracts>>();

async function cachedCompile(key: string, sources: Record<string, string>): Promise<CompiledContracts> {
  const path = join(cacheDir, `${key}.json`);
  const cached = await readCache(path);
  if (cached) return cached;
  const compiled = runSolc(sources);
  await writeCache(path, compiled);
  return compiled;
}

/**
 * Compile every contract under contracts/ (cached). Throws PlumbError INTERNAL listing the
 * compiler's errors when a source does not compile.
 */
export function compileContracts(): Promise<CompiledContracts> {
  return memoCompile(collectSources());
}

/** Compile `sources` once per process (and once per machine, through the disk cache). */
function memoCompile(sources: Record<string, string>): Promise<CompiledContracts> {
  const key = cacheKey(solcVersion(), sources);
  let result = memo.get(key);
  if (!result) {
    result = cachedCompile(key, sources);
    memo.set(key, result);
    result.catch(() => memo.delete(key));
  }
  return result;
}

/**
 * Compile one standalone Solidity source (no imports, e.g. a snarkjs Groth16 verifier) with the
 * same compiler and settings, cached the same way, and return its contract `name`.
 */
export async function compileSource(name: string, source: string): Promise<ContractArtifact> {
  return contractArtifact(await memoCompile({ [`contracts/${name}.sol`]: source }), name);
}

/** The named contract of `compiled`, or PlumbError INTERNAL when there is none. */
export function contractArtifact(compiled: CompiledContracts, name: string): ContractArtifact {
  const c = compiled[name];
  if (!c) throw new PlumbError('INTERNAL', `contract ${name} is not compiled`);
  return c;
}

/** The contracts a deployment consists of (their ABIs are in abi.ts), in deployment order. */
export const deployableContracts = [
  'NodeRegistry',
  'ModelRegistry',
  'Settlement',
  'FraudProofs',
  'Coordinator',
  'ExampleConsumer',
] as const;
