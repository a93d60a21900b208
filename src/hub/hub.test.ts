import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildMlp } from '../../test/fixtures/onnx-builder.ts';
import { isPlumbError } from '../core/errors.ts';
import { BlobStore } from './blob-store.ts';
import { ModelHub } from './hub.ts';
import { MetadataStore } from './metadata.ts';
import { ReceiptLog } from './receipt-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumb-hub-'));
const blobFiles = () =>
  readdirSync(join(dir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
after(() => rmSync(dir, { recursive: true, force: true }));

async function openHub(): Promise<ModelHub> {
  const hub = new ModelHub({
    blobs: new BlobStore({ dir: join(dir, 'blobs') }),
    meta: new MetadataStore({ path: join(dir, 'plumb.db') }),
  });
  await hub.blobs.start();
  hub.meta.start();
  return hub;
}

test('a push another process makes is seen by a running hub', async () => {
  const a = await openHub();
  const b = await openHub(); // a second connection, as a second process would have
  await a.push(buildMlp({ sizes: [2, 2], seed: 1 }).bytes, { repo: 'x/m' });
  assert.equal(b.resolve('x/m').version?.version, '1.0.0');
  await a.push(buildMlp({ sizes: [2, 2], seed: 2 }).bytes, { repo: 'x/m' });
  await sleep(ModelHub.recheckMs + 10);
  assert.equal(b.resolve('x/m').version?.version, '1.0.1');
  assert.equal(a.resolve('x/m').version?.version, '1.0.1');
  a.meta.stop();
  b.meta.stop();
});

test('a model that fails validation leaves no blob and no rows', async () => {
  const hub = await openHub();
  const before = hub.meta.counts();
  const blobsBefore = blobFiles();
  await assert.rejects(
    hub.push(buildMlp({ sizes: [2, 3], seed: 3 }).bytes, {
      repo: 'x/bad',
      validate: async () => {
        throw new Error('refused by the runtime');
      },
    }),
    /refused by the runtime/,
  );
  assert.deepEqual(hub.meta.counts(), before);
  assert.equal(blobFiles(), blobsBefore);
  assert.throws(
    () => hub.resolve('x/bad'),
    (e: unknown) => isPlumbError(e, 'MODEL_NOT_FOUND'),
  );
  hub.meta.stop();
});

test('receipts appended together are committed together, each append resolving once durable', {
  timeout: 10_000,
}, async () => {
  const meta = new MetadataStore({ path: ':memory:' });
  meta.start();
  let inflight = 1;
  // An interval longer than the test's timeout: anything that waited for it would fail the test.
  const log = new ReceiptLog(meta, { intervalMs: 60_000, inflight: () => inflight });
  const row = (i: number) => ({ id: `r${i}`, modelCid: 'bafk', createdAt: i, body: '{}' });
  await log.append(row(0)); // a lone request commits at once
  assert.equal(meta.counts().receipts, 1);
  inflight = 4; // four requests running: three append, the batch waits for the fourth
  const pending = [1, 2, 3].map((i) => log.append(row(i)));
  await new Promise((r) => setImmediate(r));
  assert.equal(meta.counts().receipts, 1, 'the batch waits for the other requests');
  await log.append(row(4)); // the fourth arrives: all four commit together at once
  await Promise.all(pending);
  assert.equal(meta.counts().receipts, 5);
  log.append(row(5));
  log.flush();
  assert.equal(meta.counts().receipts, 6, 'flush commits at once (the node flushes on stop)');
  // One of three requests never appends (it failed): the interval commits the others.
  const short = new ReceiptLog(meta, { intervalMs: 5, inflight: () => 3 });
  await Promise.all([short.append(row(6)), short.append(row(7))]);
  assert.equal(meta.counts().receipts, 8);
  meta.stop();
});
