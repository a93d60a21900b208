/** 4. Blob store: prints what bench/blob-store.ts measured (that file prints nothing). */
import type { BlobStoreBench } from './blob-store.ts';
import { fmt, table } from './common.ts';

export function printBlobs(b: BlobStoreBench): void {
  console.log(`\n== 4. Blob store: ${b.sizeMb} MB random file, MB/s (reads from page cache) ==`);
  const ratio = (a: number, p: number) => `${fmt(a / p, 2)}x`;
  console.log(
    table(
      ['operation', 'BlobStore', 'plain', 'store/plain'],
      [
        [
          'write, streamed from a file (+fsync)',
          fmt(b.writeMBps, 1),
          fmt(b.copyWriteMBps, 1),
          ratio(b.writeMBps, b.copyWriteMBps),
        ],
        [
          'write, bytes in memory (+fsync)',
          fmt(b.putBufferMBps, 1),
          fmt(b.plainWriteMBps, 1),
          ratio(b.putBufferMBps, b.plainWriteMBps),
        ],
        [
          'read, stream to end (+re-hash)',
          fmt(b.readMBps, 1),
          fmt(b.copyReadMBps, 1),
          ratio(b.readMBps, b.copyReadMBps),
        ],
        [
          'read, get() whole (+re-hash)',
          fmt(b.getMBps, 1),
          fmt(b.copyReadMBps, 1),
          ratio(b.getMBps, b.copyReadMBps),
        ],
        [
          'hash only: cidOf vs one sha256',
          fmt(b.cidMBps, 1),
          fmt(b.sha256MBps, 1),
          ratio(b.cidMBps, b.sha256MBps),
        ],
      ],
    ),
  );
}
