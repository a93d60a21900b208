/**
 * Plumb zk bench: every model of the ezkl corpus through the zero-knowledge path, in one run.
 *
 *   npm run bench:zk [-- --max-power 17] [-- --only 1l_mlp,3l_relu_conv_fc] [-- --ptau-cache DIR]
 *
 * Per model: provable or not (and why, from zk-report), R1CS constraints (after circom --O1),
 * compile time (ONNX -> circom -> circom2 --O1), powers-of-tau time (non-zero only for the
 * first model needing that power: ptau files are generated in this run unless --ptau-cache
 * names a directory to reuse), Groth16 zkey time, prove time (median of 3, the first one cold),
 * verify time, proof size (JSON bytes, as a receipt carries it), max |circuit output -
 * onnxruntime| on the folder's input.json, and the baseline measured in the same run: a warm
 * onnxruntime session.run on the same input, with prove / plain as a ratio. Models are run
 * in increasing estimated size; a model whose circuit needs more than 2^max-power is listed as
 * skipped. Ends with `proven N/M models` and writes bench/zk-results.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prove } from '../src/proof/zk/prove.ts';
import { zkReport } from '../src/proof/zk/report.ts';
import { releaseZk } from '../src/proof/zk/setup.ts';
import { ezklModels, loadEzklCase } from '../test/helpers/ezkl.ts';
import { runZkCase } from '../test/helpers/zk-case.ts';
import { benchDir, fmt, formatJson, numberFlag, parseFlags, table } from './common.ts';

type Row = {
  model: string;
  status: 'proven' | 'unsupported' | 'skipped' | 'failed';
  reason?: string;
  constraints?: number;
  power?: number;
  compileS?: number;
  ptauS?: number;
  zkeyS?: number;
  setupS?: number;
  proveMs?: number;
  verifyMs?: number;
  proofBytes?: number;
  maxAbsError?: number;
  /** The exact executor's reported error bound on this input. */
  errorBound?: number;
  plainMs?: number;
  proveOverPlain?: number;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function benchModel(name: string, workRoot: string, ptauDir: string, maxPower: number): Promise<Row> {
  const c = loadEzklCase(name);
  const report = zkReport(c.bytes);
  if (!report.provable)
    return { model: name, status: 'unsupported', reason: report.reason ?? 'not provable' };
  if ((report.ptauPower ?? 0) > maxPower)
    return {
      model: name,
      status: 'skipped',
      constraints: report.constraints,
      reason: `needs 2^${report.ptauPower} > --max-power ${maxPower}`,
    } as Row;
  try {
    const r = await runZkCase(c, { workRoot, ptauDir });
    const a = r.artifacts;
    const proves = [r.proof.proveMs];
    for (let i = 0; i < 2; i++) proves.push((await prove(a, c.inputs)).proveMs);
    const proveMs = median(proves);
    const row: Row = {
      model: name,
      status: r.verified && r.exactMismatches.length === 0 ? 'proven' : 'failed',
      constraints: a.constraints,
      power: a.power,
      compileS: a.timings.compileMs / 1000,
      ptauS: a.timings.ptauMs / 1000,
      zkeyS: a.timings.zkeyMs / 1000,
      setupS: (a.timings.compileMs + a.timings.ptauMs + a.timings.zkeyMs) / 1000,
      proveMs,
      verifyMs: r.verifyMs,
      proofBytes: r.proofBytes,
      ...(Number.isNaN(r.maxAbsError) ? {} : { maxAbsError: r.maxAbsError }),
      ...(r.errorBound.bound !== undefined ? { errorBound: r.errorBound.bound } : {}),
      ...(Number.isNaN(r.plainMs) ? {} : { plainMs: r.plainMs, proveOverPlain: proveMs / r.plainMs }),
    };
    if (r.ortError) row.reason = `no float reference: ${r.ortError}`;
    if (!r.verified) row.reason = 'the proof did not verify';
    else if (r.exactMismatches.length > 0)
      row.reason = `outputs differ from the exact executor: ${r.exactMismatches.join(', ')}`;
    return row;
  } catch (error) {
    return { model: name, status: 'failed', reason: (error as Error).message.split('\n')[0]! };
  } finally {
    rmSync(join(workRoot, name), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  for (const key of flags.keys())
    if (!['max-power', 'only', 'ptau-cache'].includes(key))
      throw new Error(`unknown option --${key} (known: --max-power, --only, --ptau-cache)`);
  const maxPower = numberFlag(flags, 'max-power', 17);
  const all = ezklModels();
  if (all.length === 0)
    throw new Error('the ezkl corpus was not found next to the project (../shared/corpus/ezkl)');
  const only = flags
    .get('only')
    ?.split(',')
    .map((s) => s.trim());
  for (const m of only ?? []) if (!all.includes(m)) throw new Error(`--only: no corpus model "${m}"`);
  const models = only ?? all;
  const workRoot = mkdtempSync(join(tmpdir(), 'plumb-bench-zk-'));
  const ptauDir = flags.get('ptau-cache') ?? join(workRoot, 'ptau');
  process.on('exit', () => rmSync(workRoot, { recursive: true, force: true }));
  console.log(
    `Plumb bench:zk | ${models.length} ezkl models | node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}) | ` +
      `ptau ${flags.has('ptau-cache') ? `reused from ${ptauDir}` : 'generated in this run (development only)'}`,
  );
  // Smallest first: each powers-of-tau size is generated once, by the first model that needs it.
  const order = models
    .map((m) => {
      try {
        return { m, n: zkReport(loadEzklCase(m).bytes).constraints ?? Number.POSITIVE_INFINITY };
      } catch {
        return { m, n: Number.POSITIVE_INFINITY };
      }
    })
    .sort((a, b) => a.n - b.n || a.m.localeCompare(b.m))
    .map((x) => x.m);
  const rows: Row[] = [];
  const started = performance.now();
  for (const name of order) {
    const row = await benchModel(name, workRoot, ptauDir, maxPower);
    rows.push(row);
    const figs =
      row.status === 'proven'
        ? `${row.constraints} constraints, setup ${fmt(row.setupS, 1)} s, prove ${fmt(row.proveMs, 0)} ms, verify ${fmt(row.verifyMs, 0)} ms`
        : (row.reason ?? '');
    console.log(`  ${row.model}: ${row.status} ${figs}`);
  }
  await releaseZk();
  rows.sort((a, b) => a.model.localeCompare(b.model));
  const e = (v: number | undefined) => (v === undefined ? '' : v.toExponential(1));
  console.log(
    `\n${table(
      [
        'model',
        'status',
        'constraints',
        '2^k',
        'compile s',
        'ptau s',
        'zkey s',
        'prove ms',
        'verify ms',
        'proof B',
        'max |err|',
        'bound',
        'plain ms',
        'prove/plain',
        'note',
      ],
      rows.map((r) => [
        r.model,
        r.status,
        r.constraints?.toString() ?? '',
        r.power?.toString() ?? '',
        fmt(r.compileS, 1),
        fmt(r.ptauS, 1),
        fmt(r.zkeyS, 1),
        fmt(r.proveMs, 0),
        fmt(r.verifyMs, 0),
        r.proofBytes?.toString() ?? '',
        e(r.maxAbsError),
        e(r.errorBound),
        fmt(r.plainMs, 3),
        r.proveOverPlain === undefined ? '' : `${Math.round(r.proveOverPlain).toLocaleString('en-US')}x`,
        (r.reason ?? '').slice(0, 90),
      ]),
    )}`,
  );
  const proven = rows.filter((r) => r.status === 'proven').length;
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nproven ${proven}/${rows.length} models (${seconds.toFixed(0)} s)`);
  const path = join(benchDir, 'zk-results.json');
  writeFileSync(
    path,
    `${formatJson({ meta: { date: new Date().toISOString(), node: process.version, cpus: cpus().length, maxPower, seconds }, proven, total: rows.length, rows })}\n`,
  );
  console.log(`results: ${path}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:zk failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
