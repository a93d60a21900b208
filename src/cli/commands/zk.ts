/** `plumb model zk-report FILE`, `plumb zk vkey REF`, `plumb zk export-verifier REF -o Verifier.sol` */
import { resolve } from 'node:path';
import { zkReport } from '../../proof/zk/report.ts';
import { exportVerifier } from '../../sdk/actions/exportVerifier.ts';
import { getZkInfo } from '../../sdk/actions/getZkInfo.ts';
import { type CommandContext, openSession, print, printJson } from '../context.ts';
import { readBytes } from '../read-inputs.ts';
import { writeAtomic } from './infer.ts';

/** Say whether a model file can be proven, before any work: unsupported ops by node, cost. */
export async function modelZkReport(ctx: CommandContext, { file }: { file: string }): Promise<void> {
  const report = zkReport(await readBytes(resolve(ctx.cwd, file)));
  if (ctx.json) return printJson(ctx, report);
  print(ctx, `${file}: ${report.provable ? 'can be proven' : 'cannot be proven yet'}`);
  if (report.reason) print(ctx, `  ${report.reason}`);
  for (const u of report.unsupported) print(ctx, `  unsupported  ${u.op} at node "${u.node}"`);
  if (report.constraints !== undefined)
    print(
      ctx,
      `  constraints  ~${report.constraints.toLocaleString('en-US')} (powers of tau 2^${report.ptauPower})`,
    );
  const ops = Object.entries(report.ops).map(([op, n]) => `${op} x${n}`);
  print(ctx, `  ops          ${ops.join(', ')}`);
}

/** Print a model's verification key (JSON) and, without --json, where it is registered. */
export async function zkVkey(
  ctx: CommandContext,
  { ref, out }: { ref: string; out?: string | undefined },
): Promise<void> {
  const session = await openSession(ctx);
  try {
    const info = await getZkInfo(session.client, { ref });
    if (out) await writeAtomic(resolve(ctx.cwd, out), `${JSON.stringify(info.vkey, null, 2)}\n`);
    if (ctx.json) return printJson(ctx, info);
    if (out) {
      print(ctx, `wrote ${out}: verification key ${info.vkeyCid} of model ${info.modelCid}`);
      return;
    }
    print(ctx, JSON.stringify(info.vkey, null, 2));
  } finally {
    await session.close();
  }
}

/** Write a Solidity Groth16 verifier for the model's proofs. */
export async function zkExportVerifier(
  ctx: CommandContext,
  { ref, out }: { ref: string; out: string },
): Promise<void> {
  const session = await openSession(ctx);
  try {
    const source = await exportVerifier(session.client, { ref });
    const path = resolve(ctx.cwd, out);
    await writeAtomic(path, source);
    if (ctx.json) return printJson(ctx, { ref, path, bytes: source.length });
    print(ctx, `wrote ${out}: Groth16 verifier contract (verifyProof) for ${ref}`);
    print(
      ctx,
      "  note: verifyProof checks the pairing only; check the public inputs are yours and within the circuit's range (plumb zk vkey --json shows the layout)",
    );
  } finally {
    await session.close();
  }
}
