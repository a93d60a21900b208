/** The `plumb` command in-process for tests: `run()` with argv in, exit code and output out. */
import { run } from '../../src/cli/main.ts';

export type CliResult = { code: number; stdout: string; stderr: string };

/** Run `plumb ...argv` in-process in `cwd` with `env`, capturing stdout and stderr. */
export async function runPlumb(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv,
    cwd,
    env,
    stdout: {
      write: (s) => {
        stdout += s;
      },
    },
    stderr: {
      write: (s) => {
        stderr += s;
      },
    },
  });
  return { code, stdout, stderr };
}
