/**
 * Process entry point for `plumb`: wires signals and the exit code around `run`.
 * `node:sqlite` is stable in use but still flagged experimental in Node 22; its one-time
 * warning is noise for CLI users, so it is filtered before anything loads it.
 */
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /SQLite/i.test(w.message)) return;
  process.stderr.write(`${w.name}: ${w.message}\n`);
});

const { run } = await import('./main.ts');
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
const code = await run({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = code;
if (code !== 0 || process.argv[2] !== 'node') process.exit(code);
