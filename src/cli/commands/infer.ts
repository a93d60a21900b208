/** `plumb infer MODEL --input FILE [--out receipt.json]` */
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Mode } from '../../core/receipt.ts';
import { getModel } from '../../sdk/actions/getModel.ts';
import { infer as inferAction } from '../../sdk/actions/infer.ts';
import { type CommandContext, openSession, print, printJson } from '../context.ts';
import { readInputFiles } from '../read-inputs.ts';

export type InferOptions = {
  model: string;
  inputs: string[];
  out?: string | undefined;
  mode?: Mode | undefined;
  nonce?: string | undefined;
};

export async function infer(ctx: CommandContext, o: InferOptions): Promise<void> {
  const session = await openSession(ctx, { chain: 'if-used' });
  try {
    const inputs = await readInputFiles(
      ctx.cwd,
      o.inputs,
      async () => (await getModel(session.client, { ref: o.model })).manifest.inputs,
    );
    // A receipt file carries its inputs, so `plumb verify --reexecute` needs nothing else.
    const receipt = await inferAction(session.client, {
      model: o.model,
      inputs,
      mode: o.mode,
      nonce: o.nonce,
      includeInputs: true,
    });
    if (o.out) await writeAtomic(resolve(ctx.cwd, o.out), `${JSON.stringify(receipt, null, 2)}\n`);
    if (ctx.json) return printJson(ctx, receipt);
    for (const [name, t] of Object.entries(receipt.outputs)) print(ctx, `${name}: ${summarize(t)}`);
    print(ctx, `receipt ${receipt.id}`);
    print(
      ctx,
      `  model ${receipt.modelCid}${receipt.model ? ` (${receipt.model.repo}@${receipt.model.version})` : ''}`,
    );
    print(ctx, `  mode ${receipt.mode}, signed by ${receipt.node}`);
    const zk = receipt.evidence.zk;
    if (zk)
      print(
        ctx,
        `  proof ${zk.protocol} (${zk.curve}), ${zk.publicSignals.length} public signals, verification key ${zk.verificationKey}`,
      );
    if (o.out) print(ctx, `  written to ${o.out}`);
  } finally {
    await session.close();
  }
}

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function summarize(t: { dtype: string; shape: number[]; data: unknown[] }): string {
  const shown = t.data.slice(0, 10).map((v) => (typeof v === 'number' ? +v.toPrecision(6) : v));
  const more = t.data.length > 10 ? `, ... (${t.data.length} values)` : '';
  return `${t.dtype} [${t.shape.join(', ')}] ${JSON.stringify(shown).slice(0, -1)}${more}]`;
}
