import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlumbError } from '../core/errors.ts';
import type { Hex } from '../core/hash.ts';
import { MetadataStore } from '../hub/metadata.ts';
import { ReceiptLog } from '../hub/receipt-log.ts';
import { receiptRoot, verifyReceiptProof } from './merkle.ts';
import { type SettlementChain, Settler, type SettlerOptions } from './settler.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumb-settler-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;

const randomId = (): Hex => `0x${randomBytes(32).toString('hex')}`;

function openStore(path = join(dir, `s${dbs++}.db`)): MetadataStore {
  const meta = new MetadataStore({ path });
  meta.start();
  return meta;
}

/** Store `n` receipts queued for settlement (as the receipt log does: one transaction). */
function queueReceipts(meta: MetadataStore, n: number): Hex[] {
  const ids = Array.from({ length: n }, randomId);
  meta.transaction(() => {
    for (const [i, id] of ids.entries())
      meta.putReceipt({ id, modelCid: 'bafk', createdAt: i, body: '{}', settle: true });
  });
  return ids;
}

/** A Settlement contract in memory: can be down, hang, be slow, or lose the answer of a mined tx. */
class FakeChain implements SettlementChain {
  readonly onChain = new Map<Hex, bigint>();
  readonly submitted: Hex[] = [];
  /** Every call fails (RPC down). */
  down = false;
  /** The next n submissions fail. */
  failNext = 0;
  /** Submissions never answer. */
  hang = false;
  /** Submissions are mined, then the answer is lost (the node crashed, or the RPC dropped). */
  loseAnswer = false;
  delayMs = 0;

  async submitRoot(root: Hex, count: number) {
    this.submitted.push(root);
    assert.ok(count > 0);
    if (this.delayMs) await sleep(this.delayMs);
    if (this.hang) return new Promise<never>(() => {});
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8545');
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('transaction underpriced');
    }
    if (this.onChain.has(root)) throw new Error(`RootAlreadySettled(${root}, ${this.onChain.get(root)})`);
    const chainBatchId = BigInt(this.onChain.size + 1);
    this.onChain.set(root, chainBatchId);
    if (this.loseAnswer) throw new Error('socket hang up');
    return { txHash: randomId(), chainBatchId, blockNumber: 100n + chainBatchId };
  }

  async findRoot(root: Hex) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8545');
    const chainBatchId = this.onChain.get(root);
    return chainBatchId === undefined ? undefined : { chainBatchId };
  }
}

/** Settlers a test made: stopped after it, even when it fails (nothing keeps the process alive). */
const live: Settler[] = [];
afterEach(async () => {
  for (const s of live.splice(0)) await s.stop();
});

function settler(
  meta: MetadataStore,
  chain: SettlementChain,
  options: Partial<SettlerOptions> = {},
): Settler {
  const s = new Settler({ meta, chain, retry: { baseMs: 10, maxMs: 40 }, ...options });
  live.push(s);
  return s;
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Each id is in exactly one settled batch, and its proof verifies against that batch's root. */
function assertAllSettled(meta: MetadataStore, s: Settler, chain: FakeChain, ids: Hex[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    const p = s.proofOf(id);
    assert.equal(p?.status, 'settled', id);
    if (p?.status !== 'settled') return;
    assert.ok(verifyReceiptProof(p.root, id, p.proof), `${id}'s proof verifies`);
    assert.equal(
      chain.onChain.get(p.root),
      BigInt(p.batch.chainBatchId!),
      'the root is on chain as that batch',
    );
    seen.add(id);
  }
  assert.deepEqual(meta.pendingBatches(), [], 'no batch is left pending');
  assert.equal(seen.size, ids.length);
  const counts = meta.settlementCounts();
  assert.equal(counts.queued, 0);
  assert.equal(counts.pendingBatches, 0);
  assert.equal(counts.settledReceipts, ids.length, 'no receipt settled twice');
}

test('2,500 queued receipts with maxBatch 1000: three batches, every proof verifies', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  const s = settler(meta, chain, { maxBatch: 1000 });
  const ids = queueReceipts(meta, 2500);
  assert.deepEqual(s.proofOf(ids[0]!), {
    status: 'queued',
    queuedAt: meta.batchOfReceipt(ids[0]!)!.queuedAt,
  });
  const result = await s.settle();
  assert.deepEqual(
    result.batches.map((b) => b.count),
    [1000, 1000, 500],
  );
  assert.equal(result.receipts, 2500);
  assert.deepEqual(
    result.batches.map((b) => b.chainBatchId),
    [1, 2, 3],
  );
  for (const b of result.batches) {
    assert.equal(b.root, receiptRoot(meta.batchReceiptIds(b.id)));
    assert.equal(meta.batchTreeNodes(b.id)?.length, 32 * (2 * b.count - 1), 'its tree is kept');
    assert.equal(b.blockNumber, 100 + b.chainBatchId);
    assert.match(b.txHash ?? '', /^0x[0-9a-f]{64}$/);
  }
  assertAllSettled(meta, s, chain, ids);
  // A proof from another batch does not verify against this batch's root.
  const [first, second] = [s.proofOf(ids[0]!), s.proofOf(ids[2400]!)];
  assert.ok(first?.status === 'settled' && second?.status === 'settled');
  assert.equal(verifyReceiptProof(second.root, ids[0], first.proof), false);
  assert.equal(s.proofOf(randomId()), undefined, 'a receipt this node never queued');
  assert.deepEqual(await s.settle(), { batches: [], receipts: 0 }, 'nothing left to settle');
  assert.equal(chain.submitted.length, 3);
  meta.stop();
});

test('a failing chain leaves the batch pending with its attempts and cause; a later settle loses nothing', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  const s = settler(meta, chain);
  const ids = queueReceipts(meta, 40);
  chain.down = true;
  await assert.rejects(s.settle(), (e: unknown) => {
    assert.ok(isPlumbError(e, 'UNAVAILABLE'));
    assert.match(e.shortMessage, /batch #1 \(40 receipts\) was not settled: connect ECONNREFUSED/);
    assert.match(e.message, /stays pending \(attempt 1, root 0x[0-9a-f]{64}\).*no receipt is lost/);
    return true;
  });
  const more = queueReceipts(meta, 10); // queued while the chain is down
  await assert.rejects(s.settle(), /ECONNREFUSED/);
  const [pending, ...others] = meta.pendingBatches();
  assert.equal(others.length, 0, 'while the pending batch fails, no new batch is cut');
  assert.equal(pending?.attempts, 2);
  assert.match(pending?.lastError ?? '', /ECONNREFUSED/);
  assert.equal(s.proofOf(ids[0]!)?.status, 'pending');
  assert.equal(s.proofOf(more[0]!)?.status, 'queued');
  assert.deepEqual(
    { ...meta.settlementCounts() },
    { queued: 10, pendingBatches: 1, pendingReceipts: 40, settledBatches: 0, settledReceipts: 0 },
  );
  assert.match(s.status().lastError ?? '', /ECONNREFUSED/);
  assert.equal(s.status().failures, 2);
  // A revert (not on chain) is a failure too.
  chain.down = false;
  chain.failNext = 1;
  await assert.rejects(s.settle(), /transaction underpriced/);
  assert.equal(meta.pendingBatches()[0]?.attempts, 3);
  const result = await s.settle();
  assert.deepEqual(
    result.batches.map((b) => b.count),
    [40, 10],
  );
  assertAllSettled(meta, s, chain, [...ids, ...more]);
  assert.equal(s.status().lastError, undefined);
  assert.equal(s.status().failures, 0);
  meta.stop();
});

test('restart: a batch left pending by a failed settle is settled when a new settler starts on the store', async () => {
  const path = join(dir, 'restart.db');
  let meta = openStore(path);
  const chain = new FakeChain();
  const ids = queueReceipts(meta, 25);
  chain.down = true;
  await assert.rejects(settler(meta, chain).settle(), /ECONNREFUSED/);
  meta.stop();
  chain.down = false;
  meta = openStore(path);
  assert.equal(meta.pendingBatches().length, 1);
  const s = settler(meta, chain);
  s.start(); // resumes at once
  await until('the pending batch to settle', () => meta.settlementCounts().settledBatches === 1);
  await s.stop();
  assertAllSettled(meta, s, chain, ids);
  assert.equal(chain.submitted.length, 2, 'the failed attempt and the one that settled');
  meta.stop();
});

test('crash after mining: the root found on chain is marked settled without sending it again', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  const ids = queueReceipts(meta, 12);
  // What a settler leaves when it crashes after its transaction was mined: a pending batch
  // (cut here without its tree: proofs are then rebuilt from its receipt ids)...
  const root = receiptRoot(ids);
  const batch = meta.cutBatch(root, ids, Date.now());
  chain.onChain.set(root, 7n); // ...whose root is on chain.
  const s = settler(meta, chain);
  const result = await s.settle();
  assert.equal(chain.submitted.length, 0, 'no second transaction');
  assert.deepEqual(result.batches, [
    { id: batch.id, chainBatchId: 7, root, count: 12, txHash: undefined, blockNumber: undefined },
  ]);
  assertAllSettled(meta, s, chain, ids);

  // Mined, but the answer never came back: the same run finds it on chain.
  const lost = queueReceipts(meta, 5);
  chain.loseAnswer = true;
  const again = await s.settle();
  assert.equal(again.batches[0]?.count, 5);
  assert.equal(chain.submitted.length, 1);
  assertAllSettled(meta, s, chain, [...ids, ...lost]);
  meta.stop();
});

test('concurrent settle calls share one run: each batch is submitted once', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  chain.delayMs = 20;
  const s = settler(meta, chain, { maxBatch: 100 });
  const ids = queueReceipts(meta, 150);
  const a = s.settle();
  const b = s.settle();
  assert.equal(a, b);
  await sleep(5);
  const c = s.settle(); // mid-submission
  const results = await Promise.all([a, b, c]);
  assert.equal(results[0], results[2]);
  assert.equal(chain.submitted.length, 2);
  assert.equal(new Set(chain.submitted).size, 2);
  assertAllSettled(meta, s, chain, ids);
  meta.stop();
});

test('putReceipt with settle queues in the same transaction: a transaction that throws leaves neither row', async () => {
  const meta = openStore();
  const id = randomId();
  assert.throws(
    () =>
      meta.transaction(() => {
        meta.putReceipt({ id, modelCid: 'bafk', createdAt: 1, body: '{}', settle: true });
        assert.ok(meta.batchOfReceipt(id), 'queued inside the transaction');
        throw new Error('the commit fails');
      }),
    /the commit fails/,
  );
  assert.equal(meta.getReceipt(id), undefined);
  assert.equal(meta.batchOfReceipt(id), undefined);
  assert.equal(meta.settlementCounts().queued, 0);
  // Through the receipt log, as the node stores receipts; without `settle` nothing is queued.
  const log = new ReceiptLog(meta);
  const plain = randomId();
  await Promise.all([
    log.append({ id, modelCid: 'bafk', createdAt: 1, body: '{}', settle: true }),
    log.append({ id: plain, modelCid: 'bafk', createdAt: 2, body: '{}' }),
  ]);
  assert.ok(meta.getReceipt(id) && meta.getReceipt(plain));
  assert.equal(meta.batchOfReceipt(id)?.batch, undefined);
  assert.equal(meta.batchOfReceipt(plain), undefined);
  // A receipt stored earlier can be queued later; an unknown one cannot.
  assert.equal(meta.queueForSettlement([plain, id]), 1);
  assert.throws(
    () => meta.queueForSettlement([randomId()]),
    (e: unknown) => isPlumbError(e, 'RECEIPT_NOT_FOUND'),
  );
  assert.throws(
    () => meta.putReceipt({ id: 'r1', modelCid: 'bafk', createdAt: 1, body: '{}', settle: true }),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT'),
  );
  assert.equal(meta.getReceipt('r1'), undefined);
  assert.equal(meta.settlementCounts().queued, 2);
  // Cutting a receipt that is already in a batch is refused, and writes nothing.
  meta.cutBatch(receiptRoot([id]), [id]);
  assert.throws(
    () => meta.cutBatch(receiptRoot([id, plain]), [plain, id]),
    (e: unknown) => isPlumbError(e, 'CONFLICT'),
  );
  assert.equal(meta.batchOfReceipt(plain)?.batch, undefined);
  assert.equal(meta.pendingBatches().length, 1);
  meta.stop();
});

test('the automatic policy settles every batchSize receipts, and intervalMs after the oldest', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  const s = settler(meta, chain, { batchSize: 5, intervalMs: 60_000 });
  s.start();
  const first = queueReceipts(meta, 3);
  s.notify(3);
  await sleep(30);
  assert.equal(chain.submitted.length, 0, 'three of five: waits');
  const second = queueReceipts(meta, 2);
  s.notify(2);
  await until('a batch of five', () => meta.settlementCounts().settledReceipts === 5);
  await s.stop();
  assertAllSettled(meta, s, chain, [...first, ...second]);

  const t = settler(meta, chain, { batchSize: 1000, intervalMs: 60 });
  t.start();
  const started = Date.now();
  const third = queueReceipts(meta, 2);
  t.notify(2);
  await until('the interval', () => meta.settlementCounts().settledReceipts === 7);
  assert.ok(Date.now() - started >= 50, 'not before the interval');
  await t.stop();
  assertAllSettled(meta, t, chain, [...first, ...second, ...third]);
  meta.stop();
});

test('a failing chain is retried in the background with backoff until it settles', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  const lines: string[] = [];
  const s = settler(meta, chain, { batchSize: 2, log: (line) => lines.push(line) });
  chain.down = true;
  s.start();
  const ids = queueReceipts(meta, 2);
  s.notify(2);
  await until('three failed attempts', () => (meta.pendingBatches()[0]?.attempts ?? 0) >= 3);
  const status = s.status();
  assert.ok(status.failures >= 3);
  assert.match(status.lastError ?? '', /ECONNREFUSED/);
  assert.equal(status.pendingBatches, 1);
  assert.ok(lines.some((l) => /settlement failed: .*ECONNREFUSED.*retrying in (10|20|40) ms/.test(l)));
  chain.down = false;
  await until('the retry to settle it', () => meta.settlementCounts().settledBatches === 1);
  await until('the run to end', () => !s.status().running);
  assert.equal(s.status().failures, 0);
  assert.equal(s.status().nextRetryAt, undefined);
  await s.stop();
  assertAllSettled(meta, s, chain, ids);
  meta.stop();
});

test('stop waits for a submission in flight, and is bounded when the chain hangs; no timers are left', async () => {
  const meta = openStore();
  const chain = new FakeChain();
  chain.delayMs = 50;
  const s = settler(meta, chain, { batchSize: 1, stopTimeoutMs: 100 });
  s.start();
  const ids = queueReceipts(meta, 1);
  s.notify(1);
  await until('the submission', () => chain.submitted.length === 1);
  await s.stop();
  assert.equal(meta.settlementCounts().settledBatches, 1, 'the submission in flight finished');
  assertAllSettled(meta, s, chain, ids);

  chain.delayMs = 0;
  chain.hang = true;
  const h = settler(meta, chain, { batchSize: 1, stopTimeoutMs: 50 });
  h.start();
  const stuck = queueReceipts(meta, 1);
  h.notify(1);
  await until('the hanging submission', () => chain.submitted.length === 2);
  const t = Date.now();
  await h.stop();
  assert.ok(Date.now() - t < 1000, 'bounded');
  const [pending] = meta.pendingBatches();
  assert.match(pending?.lastError ?? '', /stopped/);
  assert.equal(h.proofOf(stuck[0]!)?.status, 'pending');
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer is left');
  h.notify(5);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'a stopped settler arms nothing');

  // The next start resumes it.
  chain.hang = false;
  const r = settler(meta, chain);
  r.start();
  await until('the resumed batch', () => meta.settlementCounts().pendingBatches === 0);
  await r.stop();
  assertAllSettled(meta, r, chain, [...ids, ...stuck]);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
  meta.stop();
});

test('notify never throws at its caller, even when the store is gone', async () => {
  const meta = openStore();
  const lines: string[] = [];
  const s = settler(meta, new FakeChain(), { batchSize: 2, log: (line) => lines.push(line) });
  s.start();
  meta.stop();
  s.notify(1); // arms the interval: reads the store
  s.notify(1); // reaches batchSize: a run that fails at once
  await until('the failed run, logged', () => lines.length >= 2);
  assert.ok(
    lines.every((l) => /not started|not open/.test(l)),
    lines.join('\n'),
  );
  await s.stop();
});
