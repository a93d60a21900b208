/** `plumb model push | ls | show | pull` */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PlumbError } from '../../core/errors.ts';
import { formatShape } from '../../core/inputs.ts';
import type { Manifest } from '../../core/manifest.ts';
import { assertProvable } from '../../node/zk/setup.ts';
import { readPtauInfo } from '../../proof/zk/ptau-file.ts';
import { registerModelOnchain } from '../../sdk/actions/chain.ts';
import { getModel } from '../../sdk/actions/getModel.ts';
import { listModels } from '../../sdk/actions/listModels.ts';
import { pullModel } from '../../sdk/actions/pullModel.ts';
import { pushModel } from '../../sdk/actions/pushModel.ts';
import type { PushResult } from '../../sdk/types.ts';
import { type CommandContext, mb, openSession, print, printJson, progress } from '../context.ts';
import { readBytes, readJson } from '../read-inputs.ts';

export type ModelPushOptions = {
  file: string;
  name: string;
  version?: string | undefined;
  description?: string | undefined;
  /** Set up zk proving: refused before anything is stored when the model cannot be proven. */
  zk?: boolean | undefined;
  /** With zk: an input file to measure the circuit error against onnxruntime on. */
  calibrate?: string | undefined;
  /** With zk: a phase-2-prepared powers-of-tau file from a public ceremony. */
  ptau?: string | undefined;
  /** With zk: signed bit width of the circuit's inputs (`--zk-input-bits`). */
  inputBits?: string | undefined;
  /** Register it on chain too (a zk model: its verifier contract and ZkSpec as well). */
  onchain?: boolean | undefined;
  /** With onchain and a zk model: the challenge tolerance, in output units. */
  tolerance?: number | undefined;
};

export async function modelPush(ctx: CommandContext, o: ModelPushOptions): Promise<void> {
  const path = resolve(ctx.cwd, o.file);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new PlumbError('INVALID_ARGUMENT', `cannot read ${o.file}: no such file`);
  if (!o.zk && (o.calibrate !== undefined || o.ptau !== undefined || o.inputBits !== undefined))
    throw new PlumbError('INVALID_ARGUMENT', '--calibrate, --ptau and --zk-input-bits go with --zk');
  const inputBits = o.inputBits === undefined ? undefined : Number(o.inputBits);
  if (inputBits !== undefined && !(Number.isInteger(inputBits) && inputBits >= 14 && inputBits <= 64))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `--zk-input-bits: expected an integer in 14..64, got "${o.inputBits}"`,
    );
  let ptau: { path: string; size: number } | undefined;
  let calibrate: unknown;
  if (o.zk) {
    // Before anything is uploaded: can the model be proven, and are the extra files usable?
    assertProvable(await readBytes(path));
    if (o.ptau !== undefined) {
      const ptauPath = resolve(ctx.cwd, o.ptau);
      const p = await readPtauInfo(ptauPath, o.ptau);
      if (!p.prepared)
        throw new PlumbError(
          'INVALID_ARGUMENT',
          `${o.ptau} is not prepared for phase 2 (run \`snarkjs powersoftau prepare phase2\` on it)`,
        );
      ptau = { path: ptauPath, size: (await stat(ptauPath)).size };
    }
    if (o.calibrate !== undefined) calibrate = await readJson(resolve(ctx.cwd, o.calibrate));
  }
  if (o.tolerance !== undefined && !o.onchain)
    throw new PlumbError('INVALID_ARGUMENT', '--tolerance goes with --onchain');
  const session = await openSession(ctx, { chain: o.onchain === true });
  const bar = progress(ctx, `uploading ${o.file}`);
  try {
    const result = await pushModel(session.client, {
      data: createReadStream(path),
      repo: o.name,
      version: o.version,
      description: o.description,
      size: info.size,
      onProgress: (sent) => bar.update(sent, info.size),
      ...(o.zk
        ? {
            zk: {
              ...(ptau ? { ptau: createReadStream(ptau.path), ptauSize: ptau.size } : {}),
              ...(calibrate !== undefined ? { calibrate } : {}),
              ...(inputBits !== undefined ? { inputBits } : {}),
              onProgress: (p) => {
                bar.end();
                if (!ctx.json) ctx.stderr.write(`zk setup: ${p.stage}: ${p.message}\n`);
              },
            },
          }
        : {}),
    });
    bar.end();
    const onchain = o.onchain
      ? await registerModelOnchain(session.client, {
          model: result.cid,
          ...(o.tolerance !== undefined ? { tolerance: o.tolerance } : {}),
        })
      : undefined;
    if (ctx.json) return printJson(ctx, onchain ? { ...result, onchain } : result);
    print(ctx, `pushed ${result.repo}@${result.version}`);
    print(ctx, `  cid      ${result.cid}`);
    printManifest(ctx, result.manifest);
    if (result.zk) printZk(ctx, result.zk);
    if (onchain) {
      print(ctx, `on chain: owner ${onchain.owner}, manifest hash ${onchain.manifestHash}`);
      if (onchain.verifier)
        print(ctx, `  verifier ${onchain.verifier} (challenge tolerance ${onchain.tolerance})`);
    }
  } finally {
    bar.end();
    await session.close();
  }
}

export async function modelList(ctx: CommandContext): Promise<void> {
  const session = await openSession(ctx);
  try {
    const repos = await listModels(session.client);
    if (ctx.json) return printJson(ctx, repos);
    if (repos.length === 0)
      return print(ctx, 'no models yet: push one with `plumb model push FILE --name owner/name`');
    const width = Math.max(...repos.map((r) => r.name.length), 4);
    print(ctx, `${'NAME'.padEnd(width)}  LATEST     VERSIONS`);
    for (const r of repos)
      print(ctx, `${r.name.padEnd(width)}  ${(r.latest ?? '-').padEnd(9)}  ${r.versions.length}`);
  } finally {
    await session.close();
  }
}

export async function modelShow(ctx: CommandContext, { ref }: { ref: string }): Promise<void> {
  const session = await openSession(ctx);
  try {
    const file = await getModel(session.client, { ref });
    if (ctx.json) return printJson(ctx, file);
    print(ctx, `cid      ${file.cid}`);
    for (const v of file.versions)
      print(ctx, `version  ${v.repo}@${v.version}${v.description ? `  ${v.description}` : ''}`);
    printManifest(ctx, file.manifest);
  } finally {
    await session.close();
  }
}

export async function modelPull(
  ctx: CommandContext,
  { cid, out }: { cid: string; out: string },
): Promise<void> {
  const path = resolve(ctx.cwd, out);
  const tmp = `${path}.partial-${process.pid}`;
  const session = await openSession(ctx);
  const bar = progress(ctx, `downloading ${cid.slice(0, 16)}...`);
  try {
    const { stream } = await pullModel(session.client, {
      cid,
      onProgress: (n, total) => bar.update(n, total),
    });
    await pipeline(stream, createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, path);
    bar.end();
    const { size } = await stat(path);
    if (ctx.json) return printJson(ctx, { cid, path, size });
    print(ctx, `wrote ${path} (${mb(size)})`);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  } finally {
    bar.end();
    await session.close();
  }
}

function printZk(ctx: CommandContext, zk: NonNullable<PushResult['zk']>): void {
  const l = zk.layout;
  const ms = (x: number) => `${(x / 1000).toFixed(1)} s`;
  print(
    ctx,
    `  zk       Groth16 (bn128), ${l.constraints.toLocaleString('en-US')} constraints, domain 2^${l.power}, scale 2^${l.scale}, inputs within ${l.bits} bits`,
  );
  print(
    ctx,
    `  setup    ${zk.reused ? 'reused the stored setup (made in ' : ''}compile ${ms(l.timings.compileMs)}, ptau ${ms(l.timings.ptauMs)}, zkey ${ms(l.timings.zkeyMs)}${zk.reused ? ')' : ''}`,
  );
  print(ctx, `  vkey     ${zk.artifacts['zk.vkey']}`);
  if (zk.calibration)
    print(
      ctx,
      `  error    max |circuit - onnxruntime| = ${zk.calibration.maxAbsError.toPrecision(3)} over ${zk.calibration.outputs} outputs (calibration input)`,
    );
  if (l.ptau.supplied)
    print(
      ctx,
      `  note     ptau user-supplied (2^${l.ptau.power}); the phase-2 contribution is still local: ${l.warning}`,
    );
  else print(ctx, `  WARNING  ${l.warning}`);
}

function printManifest(ctx: CommandContext, m: Manifest): void {
  const opsets = Object.entries(m.opsets)
    .map(([d, v]) => `${d || 'ai.onnx'} ${v}`)
    .join(', ');
  print(
    ctx,
    `  size     ${mb(m.size)}, ${m.parameterCount.toLocaleString('en-US')} parameters, ${m.nodeCount} nodes`,
  );
  print(ctx, `  opset    ${opsets}`);
  for (const t of m.inputs) print(ctx, `  input    ${t.name}: ${t.dtype} ${formatShape(t.shape)}`);
  for (const t of m.outputs) print(ctx, `  output   ${t.name}: ${t.dtype} ${formatShape(t.shape)}`);
  print(ctx, `  ops      ${m.ops.join(', ')}`);
  if (m.producer.name) print(ctx, `  producer ${m.producer.name} ${m.producer.version}`.trimEnd());
  for (const [role, cid] of Object.entries(m.artifacts)) print(ctx, `  artifact ${role.padEnd(10)} ${cid}`);
}
