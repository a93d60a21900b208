/**
 * The node's signing key: `<dataDir>/node.key`, the 0x-hex secp256k1 private key and a
 * newline, readable by the owner only.
 *
 * Created on first start from crypto-random bytes. The key is written to a temporary file
 * (mode 0600) in the same directory, flushed, then linked into place, which fails rather
 * than overwrites if another process created the key at the same moment (in that case the
 * other process's key is loaded). On filesystems without hard links it is renamed instead.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PlumbError } from '../core/errors.ts';
import { fromHex, type Hex, toHex } from '../core/hash.ts';
import { isPrivateKey, privateKeyToAddress } from '../core/secp256k1.ts';

export const nodeKeyFileName = 'node.key';

export type NodeKey = { privateKey: Uint8Array; address: Hex; created: boolean };

const keyPattern = /^0x[0-9a-fA-F]{64}$/;

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

function generatePrivateKey(): Uint8Array {
  for (;;) {
    // A uniform 256-bit value is a valid scalar (in [1, n-1]) with probability 1 - 2^-128.
    const pk = new Uint8Array(randomBytes(32));
    if (isPrivateKey(pk)) return pk;
  }
}

/** Read and check an existing key file; undefined when there is none. */
async function readKey(file: string): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw new PlumbError(
        'INVALID_ARGUMENT',
        `node key file ${file} is a symbolic link; refusing to use it`,
      );
    }
    throw new PlumbError('INVALID_ARGUMENT', `cannot read node key file ${file}: ${String(error)}`, {
      cause: error,
    });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new PlumbError('INVALID_ARGUMENT', `node key file ${file} is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new PlumbError(
        'INVALID_ARGUMENT',
        `node key file ${file} is accessible by group or others (mode ${mode}); run \`chmod 600 ${file}\``,
        { metaMessages: ['The node key signs every receipt; only its owner may read it.'] },
      );
    }
    if (stat.size > 1024) throw malformed(file);
    const text = (await handle.readFile('utf8')).trim();
    // Never echo the contents: they may be (most of) a private key.
    if (!keyPattern.test(text)) throw malformed(file);
    const pk = fromHex(text);
    if (!isPrivateKey(pk))
      throw malformed(file, 'the value is not a valid secp256k1 private key (zero or ≥ n)');
    return pk;
  } finally {
    await handle.close();
  }
}

function malformed(file: string, why = 'expected 0x followed by 64 hex digits and a newline'): PlumbError {
  return new PlumbError('INVALID_ARGUMENT', `node key file ${file} is malformed: ${why}`, {
    metaMessages: ['Restore the key from a backup, or move the file away to have the node create a new key.'],
  });
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported everywhere (e.g. Windows); durability of the rename is best effort.
  }
}

/** Write a new key to `file`, unless one appears there first. Returns whether ours was placed. */
async function writeKey(dir: string, file: string, pk: Uint8Array): Promise<boolean> {
  const tmp = join(dir, `.${nodeKeyFileName}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    try {
      await handle.chmod(0o600); // the umask may have dropped bits; never added any
      await handle.writeFile(`${toHex(pk)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, file);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      await rename(tmp, file);
    }
    await syncDirectory(dir);
    return true;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Load the node's key from `<dataDir>/node.key`, creating the directory (mode 0700) and the
 * key (mode 0600) if missing. Throws PlumbError INVALID_ARGUMENT for a key file others can
 * read or one that does not hold a valid key.
 */
export async function loadOrCreateNodeKey(dataDir: string): Promise<NodeKey> {
  const file = join(dataDir, nodeKeyFileName);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const existing = await readKey(file);
  if (existing) return { privateKey: existing, address: privateKeyToAddress(existing), created: false };

  const pk = generatePrivateKey();
  if (await writeKey(dataDir, file, pk))
    return { privateKey: pk, address: privateKeyToAddress(pk), created: true };
  // Another process created the key between our read and our link: use theirs.
  const theirs = await readKey(file);
  if (!theirs) throw new PlumbError('INTERNAL', `node key file ${file} vanished while being created`);
  return { privateKey: theirs, address: privateKeyToAddress(theirs), created: false };
}
