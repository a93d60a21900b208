/** Server children: bench/plumb-server.ts and bench/bare-server.ts, started per test. */
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchDir, firstJsonLine, spawnNode, stopChild } from './common.ts';
import type { PreparedModel } from './models.ts';

export type Ready = { url: string; pid: number };
export type Running = { child: ChildProcess; ready: Ready };

/** Start bench/plumb-server.ts or bench/bare-server.ts serving `models`; wait for its URL. */
export async function startServer(
  script: 'plumb-server.ts' | 'bare-server.ts',
  models: readonly PreparedModel[],
  tmp: string,
  tag: string,
  extraArgs: readonly string[] = [],
): Promise<Running> {
  const specPath = join(tmp, `spec-${tag}.json`);
  const spec = { models: models.map(({ name, repo, path, bodyPath }) => ({ name, repo, path, bodyPath })) };
  await writeFile(specPath, JSON.stringify(spec));
  // Plumb's data dir lives in the bench's temp dir, so it goes even if the child is killed.
  const dataDir = script === 'plumb-server.ts' ? ['--data-dir', join(tmp, `data-${tag}`)] : [];
  const child = spawnNode(join(benchDir, script), ['--spec', specPath, ...dataDir, ...extraArgs]);
  try {
    return { child, ready: await firstJsonLine<Ready>(child, `${script} (${tag})`) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
