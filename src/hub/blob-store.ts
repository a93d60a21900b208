/**
 * A content-addressed blob store on local disk.
 *
 * Layout under `dir`:
 *
 *   blobs/<xy>/<cid>   one read-only file per blob, named by its CIDv1 (see core/cid.ts);
 *                      <xy> is the 2 characters before the CID's last one (like IPFS flatfs
 *                      "next-to-last/2"; the leading characters are the same for every CID and
 *                      the very last one carries only 3 bits), giving up to 1024 shard dirs
 *   tmp/<pid>-<random>.tmp   uploads in progress; renamed into blobs/ once complete and fsynced
 *
 * A blob is never visible half-written: `put` streams into tmp/, computes the CID on the way,
 * fsyncs, then renames. Every read re-hashes the bytes, so corruption on disk is reported as
 * PlumbError INTEGRITY instead of being served. One store directory belongs to one process:
 * `start()` deletes what a crashed process left in tmp/: files of processes no longer running
 * (several processes may share one store: a node, and the CLI beside it).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CODEC_DAG_PB, CODEC_RAW, createCidBuilder, MULTIHASH_SHA2_256, parseCid } from '../core/cid.ts';
import { PlumbError } from '../core/errors.ts';

export type BlobStoreOptions = {
  /** Root directory of the store; created by `start()` if missing. */
  dir: string;
};

export type PutOptions = {
  /** Refuse blobs larger than this many bytes (PlumbError PAYLOAD_TOO_LARGE). */
  maxBytes?: number | undefined;
  /** Called with the total bytes received so far, after each piece. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Aborting it stops the upload; the partial file is deleted. */
  signal?: AbortSignal | undefined;
};

export type StreamOptions = {
  /** Called with the total bytes read so far, after each piece. */
  onProgress?: ((bytes: number) => void) | undefined;
};

export type PutResult = { cid: string; size: number };

/** Writes are coalesced up to this size, and larger inputs are split to it. */
const writeSize = 4 * 1024 * 1024;
/** Size of each read of a streamed blob. */
const readSize = 1024 * 1024;

/** True while process `pid` runs (another process's upload in progress). */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function notFound(cid: string, cause?: unknown): PlumbError {
  return new PlumbError('BLOB_NOT_FOUND', `blob ${cid} not found`, { cause });
}

function corrupt(cid: string, actual: string): PlumbError {
  return new PlumbError('INTEGRITY', `blob ${cid} is corrupt on disk: its bytes hash to ${actual}`);
}

/** Validates `cid` as a CID the store can hold, returning it (safe to use as a file name). */
function checkCid(cid: string): string {
  const parsed = parseCid(cid);
  if (parsed.version !== 1 || parsed.hashCode !== MULTIHASH_SHA2_256) {
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `invalid blob CID ${JSON.stringify(cid)}: not a sha2-256 CIDv1`,
      {
        metaMessages: [
          'Blobs are addressed by CIDv1 (base32, "bafk..." or "bafy...") as `ipfs add --cid-version=1` gives.',
        ],
      },
    );
  }
  if (parsed.codec !== CODEC_RAW && parsed.codec !== CODEC_DAG_PB) {
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `invalid blob CID ${JSON.stringify(cid)}: codec 0x${parsed.codec.toString(16)} is neither raw nor dag-pb`,
    );
  }
  // parseCid accepts only canonical lower-case base32, i.e. [a-z2-7]: no path separators or dots.
  return cid;
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** Iterates the source in pieces of at most `writeSize` bytes. */
async function* pieces(source: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let i = 0; i < source.length; i += writeSize) yield source.subarray(i, i + writeSize);
    return;
  }
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) {
      throw new PlumbError('INVALID_ARGUMENT', `blob source yielded a ${typeof chunk}, expected Uint8Array`);
    }
    if (chunk.length <= writeSize) yield chunk;
    else for (let i = 0; i < chunk.length; i += writeSize) yield chunk.subarray(i, i + writeSize);
  }
}

export class BlobStore {
  readonly dir: string;
  readonly #blobsDir: string;
  readonly #tmpDir: string;
  #started = false;
  /** Aborts the uploads in flight when the store stops. */
  #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: BlobStoreOptions) {
    this.dir = options.dir;
    this.#blobsDir = join(options.dir, 'blobs');
    this.#tmpDir = join(options.dir, 'tmp');
  }

  /** Creates the directories and deletes temp files left by an earlier crash. */
  async start(): Promise<void> {
    if (this.#started) return;
    await mkdir(this.#blobsDir, { recursive: true });
    await mkdir(this.#tmpDir, { recursive: true });
    for (const name of await readdir(this.#tmpDir)) {
      if (isAlive(Number(name.split('-')[0]))) continue;
      await rm(join(this.#tmpDir, name), { force: true, recursive: true });
    }
    this.#stopping = new AbortController();
    this.#started = true;
  }

  /** Aborts uploads in flight and waits until their temp files are gone. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#stopping.abort(new PlumbError('UNAVAILABLE', 'blob store is stopping'));
    await Promise.allSettled([...this.#inFlight]);
  }

  #ensureStarted(): void {
    if (!this.#started) throw new PlumbError('UNAVAILABLE', 'blob store is not started');
  }

  /** Where the blob with this CID lives (whether or not it exists). */
  path(cid: string): string {
    checkCid(cid);
    return join(this.#blobsDir, cid.slice(-3, -1), cid);
  }

  /**
   * Stores bytes and returns their CID. Streams into a temp file while hashing, so memory
   * stays flat; storing bytes already present is a no-op that returns the same CID.
   */
  async put(source: AsyncIterable<Uint8Array> | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.#ensureStarted();
    const { maxBytes, onProgress } = options;
    if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
      throw new PlumbError('INVALID_ARGUMENT', `maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#stopping.signal])
      : this.#stopping.signal;
    signal.throwIfAborted();
    const task = this.#put(source, maxBytes, onProgress, signal);
    this.#inFlight.add(task);
    try {
      return await task;
    } finally {
      this.#inFlight.delete(task);
    }
  }

  async #put(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    maxBytes: number | undefined,
    onProgress: ((bytes: number) => void) | undefined,
    signal: AbortSignal,
  ): Promise<PutResult> {
    const tmpPath = join(this.#tmpDir, `${process.pid}-${randomBytes(12).toString('hex')}.tmp`);
    const fh = await open(tmpPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    let closed = false;
    let renamed = false;
    let writing: Promise<void> = Promise.resolve();
    try {
      const builder = createCidBuilder();
      // One write at a time is in flight on the thread pool while this thread hashes the next
      // bytes. Small pieces are gathered into one of two buffers so each write is large: one
      // buffer fills while the other is being written.
      const startWrite = (bytes: Uint8Array): void => {
        writing = writing.then(() => writeAll(fh, bytes));
        writing.catch(() => {}); // awaited later; this only keeps it from being "unhandled"
      };
      let pending = new Uint8Array(writeSize);
      let spare = new Uint8Array(writeSize);
      let pendingLength = 0;
      const flush = async (): Promise<void> => {
        if (pendingLength === 0) return;
        await writing; // the previous write, from `spare`, is done: it can be refilled
        startWrite(pending.subarray(0, pendingLength));
        [pending, spare] = [spare, pending];
        pendingLength = 0;
      };
      let size = 0;
      for await (const piece of pieces(source)) {
        signal.throwIfAborted();
        size += piece.length;
        if (maxBytes !== undefined && size > maxBytes) {
          throw new PlumbError('PAYLOAD_TOO_LARGE', `blob is larger than the limit of ${maxBytes} bytes`);
        }
        if (piece.length >= writeSize) {
          // A full write's worth: written straight from the caller's buffer (no copy), which
          // stays ours until we pull the next piece.
          await flush();
          startWrite(piece);
          builder.update(piece);
          await writing;
        } else {
          if (pendingLength + piece.length > writeSize) await flush();
          pending.set(piece, pendingLength);
          pendingLength += piece.length;
          builder.update(piece);
        }
        onProgress?.(size);
      }
      await flush();
      await writing;
      signal.throwIfAborted();
      await fh.chmod(0o444);
      await fh.sync();
      closed = true;
      await fh.close();
      const { cid } = builder.digest();
      const dest = this.path(cid);
      if (await this.#exists(dest)) return { cid, size };
      const shardDir = join(this.#blobsDir, cid.slice(-3, -1));
      await mkdir(shardDir, { recursive: true });
      await rename(tmpPath, dest);
      renamed = true;
      await syncDir(shardDir);
      return { cid, size };
    } finally {
      await writing.catch(() => {});
      if (!closed) await fh.close().catch(() => {});
      if (!renamed) await rm(tmpPath, { force: true }).catch(() => {});
    }
  }

  async #exists(file: string): Promise<boolean> {
    try {
      return (await stat(file)).isFile();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /** True when a blob with this CID is stored. */
  async has(cid: string): Promise<boolean> {
    this.#ensureStarted();
    return this.#exists(this.path(cid));
  }

  /** Size in bytes of a stored blob; PlumbError BLOB_NOT_FOUND when missing. */
  async size(cid: string): Promise<number> {
    this.#ensureStarted();
    try {
      const s = await stat(this.path(cid));
      if (!s.isFile()) throw notFound(cid);
      return s.size;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw notFound(cid, error);
      throw error;
    }
  }

  /** Open a blob for reading; BLOB_NOT_FOUND when it is not stored. */
  async #open(cid: string): Promise<FileHandle> {
    try {
      return await open(this.path(cid), 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw notFound(cid, error);
      throw error;
    }
  }

  /** The whole blob, verified against its CID (PlumbError INTEGRITY when the bytes do not match). */
  async get(cid: string): Promise<Uint8Array> {
    this.#ensureStarted();
    const fh = await this.#open(cid);
    try {
      const { size } = await fh.stat();
      // Every byte is overwritten by the reads below (or the blob is reported corrupt).
      const buffer = Buffer.allocUnsafeSlow(size);
      const out = new Uint8Array(buffer.buffer, buffer.byteOffset, size);
      const builder = createCidBuilder();
      // Hash each piece while the next one is being read.
      let position = 0;
      let hashed = 0;
      while (position < size) {
        const reading = fh.read(out, position, Math.min(readSize, size - position), position);
        builder.update(out.subarray(hashed, position));
        hashed = position;
        const { bytesRead } = await reading;
        if (bytesRead === 0) break; // the file shrank under us: the hash will not match
        position += bytesRead;
      }
      builder.update(out.subarray(hashed, position));
      const actual = builder.digest().cid;
      if (actual !== cid) throw corrupt(cid, actual);
      return position === size ? out : out.subarray(0, position);
    } finally {
      await fh.close();
    }
  }

  /**
   * A web stream of the blob (fits a Hono `new Response(stream)`). The file is opened before
   * this resolves, so a missing blob is PlumbError BLOB_NOT_FOUND here, before any byte is sent.
   * The bytes are re-hashed as they go out; if they do not match the CID, the stream ends with
   * PlumbError INTEGRITY instead of closing normally.
   */
  async stream(cid: string, options: StreamOptions = {}): Promise<ReadableStream<Uint8Array>> {
    this.#ensureStarted();
    const { onProgress } = options;
    const fh = await this.#open(cid);
    const builder = createCidBuilder();
    let position = 0;
    let isOpen = true;
    const close = async (): Promise<void> => {
      if (!isOpen) return;
      isOpen = false;
      await fh.close().catch(() => {});
    };
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const buffer = new Uint8Array(readSize);
            const { bytesRead } = await fh.read(buffer, 0, readSize, position);
            if (bytesRead === 0) {
              await close();
              const actual = builder.digest().cid;
              if (actual !== cid) controller.error(corrupt(cid, actual));
              else controller.close();
              return;
            }
            const chunk = bytesRead === readSize ? buffer : buffer.subarray(0, bytesRead);
            position += bytesRead;
            builder.update(chunk);
            controller.enqueue(chunk);
            onProgress?.(position);
          } catch (error) {
            await close();
            controller.error(error);
          }
        },
        async cancel() {
          await close();
        },
      },
      { highWaterMark: 2 },
    );
  }

  /** Deletes a blob; true if it existed. */
  async delete(cid: string): Promise<boolean> {
    this.#ensureStarted();
    try {
      await unlink(this.path(cid));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /** The CIDs of all stored blobs, shard by shard (no particular order). */
  async *list(): AsyncGenerator<string> {
    this.#ensureStarted();
    for (const shard of await readdir(this.#blobsDir, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      let names: string[];
      try {
        names = await readdir(join(this.#blobsDir, shard.name));
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue;
        throw error;
      }
      for (const name of names) {
        if (name.slice(-3, -1) !== shard.name) continue;
        try {
          checkCid(name);
        } catch {
          continue;
        }
        yield name;
      }
    }
  }
}

/** fsync a directory so a rename into it survives a power cut (best effort: not on every OS). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms cannot open or fsync directories; the data file itself is already synced.
  } finally {
    await fh?.close().catch(() => {});
  }
}
