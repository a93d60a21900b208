import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isPlumbError } from '../core/errors.ts';
import { toHex } from '../core/hash.ts';
import { privateKeyToAddress } from '../core/secp256k1.ts';
import { loadOrCreateNodeKey } from './keystore.ts';

const posix = process.platform !== 'win32';

async function rejectsInvalid(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isPlumbError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    assert.match(error.shortMessage, pattern);
    return true;
  });
}

describe('loadOrCreateNodeKey', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'plumb-keystore-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the key once, then loads the same one', async () => {
    const dataDir = join(root, 'a', 'data');
    const first = await loadOrCreateNodeKey(dataDir);
    assert.equal(first.created, true);
    assert.equal(first.privateKey.length, 32);
    assert.equal(first.address, privateKeyToAddress(first.privateKey));

    const text = await readFile(join(dataDir, 'node.key'), 'utf8');
    assert.equal(text, `${toHex(first.privateKey)}\n`);
    assert.deepEqual(await readdir(dataDir), ['node.key'], 'no temporary file left behind');

    const second = await loadOrCreateNodeKey(dataDir);
    assert.equal(second.created, false);
    assert.equal(second.address, first.address);
    assert.deepEqual(second.privateKey, first.privateKey);

    if (posix) {
      assert.equal((await stat(join(dataDir, 'node.key'))).mode & 0o777, 0o600);
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    }
  });

  it('gives concurrent first calls one key', async () => {
    const dataDir = join(root, 'concurrent');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateNodeKey(dataDir)));
    assert.equal(new Set(keys.map((k) => k.address)).size, 1);
    assert.equal(keys.filter((k) => k.created).length, 1);
    assert.deepEqual(await readdir(dataDir), ['node.key']);
  });

  it('accepts a key file without the trailing newline', async () => {
    const dataDir = join(root, 'no-newline');
    const { privateKey } = await loadOrCreateNodeKey(dataDir);
    await writeFile(join(dataDir, 'node.key'), toHex(privateKey));
    assert.deepEqual((await loadOrCreateNodeKey(dataDir)).privateKey, privateKey);
  });

  it('refuses a malformed key file without echoing it', async () => {
    const dataDir = join(root, 'malformed');
    await loadOrCreateNodeKey(dataDir);
    const file = join(dataDir, 'node.key');
    for (const bad of [
      '0x1234\n',
      'c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4\n',
      '',
      'hello',
    ]) {
      await writeFile(file, bad, { mode: 0o600 });
      await rejectsInvalid(
        loadOrCreateNodeKey(dataDir),
        /node\.key is malformed: expected 0x followed by 64 hex/,
      );
    }
    await writeFile(file, `0x${'00'.repeat(32)}\n`);
    await rejectsInvalid(loadOrCreateNodeKey(dataDir), /malformed: .*not a valid secp256k1 private key/);
    await writeFile(file, `0x${'ff'.repeat(32)}\n`);
    await rejectsInvalid(loadOrCreateNodeKey(dataDir), /malformed/);
    // The bad file is left alone, not replaced with a new key.
    assert.equal(await readFile(file, 'utf8'), `0x${'ff'.repeat(32)}\n`);
  });

  it('refuses a key file readable by group or others', { skip: !posix }, async () => {
    const dataDir = join(root, 'perms');
    await loadOrCreateNodeKey(dataDir);
    const file = join(dataDir, 'node.key');
    for (const mode of [0o640, 0o604, 0o660, 0o644]) {
      await chmod(file, mode);
      await rejectsInvalid(
        loadOrCreateNodeKey(dataDir),
        new RegExp(
          `node\\.key is accessible by group or others \\(mode 0${mode.toString(8)}\\); run \`chmod 600 `,
        ),
      );
    }
    await chmod(file, 0o400);
    assert.equal((await loadOrCreateNodeKey(dataDir)).created, false);
  });

  it('refuses a symlinked key file and a directory in its place', { skip: !posix }, async () => {
    const target = join(root, 'link-target');
    await loadOrCreateNodeKey(target);
    const dataDir = join(root, 'link');
    await mkdir(dataDir, { mode: 0o700 });
    await symlink(join(target, 'node.key'), join(dataDir, 'node.key'));
    await rejectsInvalid(loadOrCreateNodeKey(dataDir), /node\.key is a symbolic link/);

    const dirCase = join(root, 'dir');
    await mkdir(join(dirCase, 'node.key'), { recursive: true, mode: 0o700 });
    await rejectsInvalid(loadOrCreateNodeKey(dirCase), /node\.key is not a regular file/);
  });
});
