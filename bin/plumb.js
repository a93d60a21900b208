#!/usr/bin/env node
// `plumb` launcher. Plumb runs its TypeScript directly on Node >= 22.18 (type stripping).
// On an older system Node, re-run this command with the Node 22 the repo pins (the `node`
// package in node_modules), so `npx plumb ...` works wherever `npm ci` ran.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'src', 'cli', 'bin.ts');

if (major > 22 || (major === 22 && minor >= 18)) {
  await import(entry);
} else {
  let pinned;
  try {
    pinned = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    process.stderr.write(
      `plumb: needs Node >= 22.18 (this is ${process.version}); run \`npm ci\` to install the pinned one\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(pinned, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`plumb: cannot start ${pinned}: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
