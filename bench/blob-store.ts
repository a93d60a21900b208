/**
 * BlobStore throughput against plain file I/O on the same machine, in the same run.
 *
 * - writeMBps:       BlobStore.put streaming from a source file (read + hash + write + fsync + rename)
 * - copyWriteMBps:   the same source file stream-copied to a plain file, plus fsync
 * - putBufferMBps:   BlobStore.put of the bytes already in memory
 * - plainWriteMBps:  fs.writeFile of the bytes in memory, plus fsync
 * - readMBps:        BlobStore.stream read to the end (read + re-hash)
 * - getMBps:         BlobStore.get (read whole file + re-hash)
 * - copyReadMBps:    plain fs.readFile of the same blob file
 * - cidMBps:         cidOf over the bytes in memory (hashing alone)
 * - sha256MBps:      one plain node:crypto sha256 over the bytes in memory (the hashing ceiling)
 *
 * Reads come from the page cache (the file was just written); so do the plain reads.
 * Prints nothing; the bench runner prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cidOf } from '../src/core/cid.ts';
import { BlobStore } from '../src/hub/blob-store.ts';

export type BlobStoreBench = {
  sizeMb: number;
  cid: string;
  writeMBps: number;
  copyWriteMBps: number;
  putBufferMBps: number;
  plainWriteMBps: number;
  readMBps: number;
  getMBps: number;
  copyReadMBps: number;
  cidMBps: number;
  sha256MBps: number;
};

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function benchBlobStore({ sizeMb = 100 }: { sizeMb?: number } = {}): Promise<BlobStoreBench> {
  const bytes = new Uint8Array(randomBytes(sizeMb * 1024 * 1024));
  const mb = bytes.length / (1024 * 1024);
  const rate = (seconds: number): number => Math.round((mb / seconds) * 10) / 10;
  const dir = await mkdtemp(join(tmpdir(), 'plumb-bench-blob-'));
  try {
    const source = join(dir, 'source.bin');
    await writeFile(source, bytes);
    await fsyncFile(source);

    // Hashing alone.
    let cid = '';
    const sha256Secs = await timed(() => createHash('sha256').update(bytes).digest());
    const cidSecs = await timed(() => {
      cid = cidOf(bytes);
    });

    // Writes: plain copy first, then the store, from the same source file.
    const copy = join(dir, 'copy.bin');
    const copyWriteSecs = await timed(async () => {
      await pipeline(createReadStream(source, { highWaterMark: 1024 * 1024 }), createWriteStream(copy));
      await fsyncFile(copy);
    });
    const store = new BlobStore({ dir: join(dir, 'store') });
    await store.start();
    let putCid = '';
    const writeSecs = await timed(async () => {
      putCid = (await store.put(createReadStream(source, { highWaterMark: 1024 * 1024 }))).cid;
    });
    if (putCid !== cid) throw new Error(`bench: put gave ${putCid}, cidOf gave ${cid}`);

    // Writes from memory.
    const plain = join(dir, 'plain.bin');
    const plainWriteSecs = await timed(async () => {
      await writeFile(plain, bytes);
      await fsyncFile(plain);
    });
    await store.delete(cid);
    const putBufferSecs = await timed(() => store.put(bytes));

    // Reads.
    const copyReadSecs = await timed(() => readFile(store.path(cid)));
    const getSecs = await timed(() => store.get(cid));
    const readSecs = await timed(async () => {
      const reader = (await store.stream(cid)).getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
    });
    await store.stop();

    return {
      sizeMb,
      cid,
      writeMBps: rate(writeSecs),
      copyWriteMBps: rate(copyWriteSecs),
      putBufferMBps: rate(putBufferSecs),
      plainWriteMBps: rate(plainWriteSecs),
      readMBps: rate(readSecs),
      getMBps: rate(getSecs),
      copyReadMBps: rate(copyReadSecs),
      cidMBps: rate(cidSecs),
      sha256MBps: rate(sha256Secs),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
