/** `plumb model zk-report FILE` */
import { resolve } from 'node:path';
import { zkReport } from '../../proof/zk/report.ts';
import { type CommandContext, print, printJson } from '../context.ts';
import { readBytes } from '../read-inputs.ts';

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
