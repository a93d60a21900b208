/**
 * The hub's metadata store on `node:sqlite`: model files by CID (with their manifests),
 * repositories, immutable semver versions, the receipts a node has issued, and their
 * settlement on chain (the queue of receipts to settle and the batches they were settled in).
 * Every change is one transaction.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { PlumbError } from '../core/errors.ts';
import type { Manifest } from '../core/manifest.ts';
import { compareVersions } from '../core/refs.ts';

export type ModelFile = { cid: string; size: number; manifest: Manifest; createdAt: number };
export type VersionRecord = {
  repo: string;
  version: string;
  cid: string;
  description: string;
  createdAt: number;
};
export type RepositoryRecord = {
  name: string;
  description: string;
  createdAt: number;
  latest: string | undefined;
  versions: string[];
};
export type StoredReceipt = {
  id: string;
  modelCid: string;
  createdAt: number;
  body: string;
  /** Queue the receipt for settlement on chain, in the same transaction that stores it. */
  settle?: boolean;
};
/**
 * A batch of queued receipts whose Merkle root goes on chain: `pending` from the moment it is
 * cut (before anything is sent) until its root is known to be on chain, then `settled`.
 */
export type SettlementBatch = {
  id: number;
  root: string;
  count: number;
  status: 'pending' | 'settled';
  /** The last transaction sent for it (pending), or the one that settled it (when known). */
  txHash: string | undefined;
  /** `Settlement`'s id for the batch, once settled. */
  chainBatchId: number | undefined;
  blockNumber: number | undefined;
  /** Failed submissions so far, and the last one's cause. */
  attempts: number;
  lastError: string | undefined;
  createdAt: number;
  settledAt: number | undefined;
};
export type SettlementCounts = {
  /** Queued receipts not yet in a batch. */
  queued: number;
  pendingBatches: number;
  pendingReceipts: number;
  settledBatches: number;
  settledReceipts: number;
};

const schema = `
CREATE TABLE IF NOT EXISTS files (
  cid TEXT PRIMARY KEY, size INTEGER NOT NULL, manifest TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS repositories (
  name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
  repo TEXT NOT NULL REFERENCES repositories(name), version TEXT NOT NULL,
  cid TEXT NOT NULL REFERENCES files(cid), description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL, PRIMARY KEY (repo, version));
CREATE INDEX IF NOT EXISTS versions_cid ON versions(cid);
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY, model_cid TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS receipts_created ON receipts(created_at);
CREATE TABLE IF NOT EXISTS artifacts (
  model_cid TEXT NOT NULL REFERENCES files(cid), role TEXT NOT NULL, cid TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (model_cid, role));
CREATE INDEX IF NOT EXISTS artifacts_cid ON artifacts(cid);
CREATE TABLE IF NOT EXISTS settlement_batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT, root TEXT NOT NULL UNIQUE, count INTEGER NOT NULL,
  status TEXT NOT NULL, tx_hash TEXT, chain_batch_id INTEGER, block_number INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at INTEGER NOT NULL, settled_at INTEGER);
CREATE INDEX IF NOT EXISTS settlement_batches_status ON settlement_batches(status);
CREATE TABLE IF NOT EXISTS settlement_queue (
  receipt_id TEXT PRIMARY KEY REFERENCES receipts(id), queued_at INTEGER NOT NULL,
  batch_id INTEGER REFERENCES settlement_batches(id));
CREATE INDEX IF NOT EXISTS settlement_queue_batch ON settlement_queue(batch_id, queued_at);
CREATE TABLE IF NOT EXISTS settlement_trees (
  batch_id INTEGER PRIMARY KEY REFERENCES settlement_batches(id), nodes BLOB NOT NULL);
`;

type Row = Record<string, string | number | null>;

export class MetadataStore {
  readonly #path: string;
  #db: DatabaseSync | undefined;
  #stmts = new Map<string, StatementSync>();
  #depth = 0;

  /** `path` is a file, or ":memory:". Nothing is opened until `start()`. */
  constructor({ path }: { path: string }) {
    this.#path = path;
  }

  start(): void {
    const db = new DatabaseSync(this.#path);
    // busy_timeout: another process on the same data directory (a CLI beside a running node) waits
    // for a write lock instead of failing at once.
    db.exec(
      'PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;',
    );
    db.exec(schema);
    this.#db = db;
  }

  stop(): void {
    this.#stmts.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      if (!this.#db) throw new PlumbError('UNAVAILABLE', 'metadata store is not started');
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Run `fn` in one transaction: all of its writes land, or none. Nested calls join the outer one. */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn(); // joins the enclosing transaction
    this.#stmt('BEGIN IMMEDIATE').run();
    this.#depth++;
    try {
      const result = fn();
      this.#stmt('COMMIT').run();
      return result;
    } catch (error) {
      this.#stmt('ROLLBACK').run();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /**
   * SQLite's `data_version`: changes when another connection (another process on the same
   * data directory) commits. Caches above this store compare it to know when to drop.
   */
  dataVersion(): number {
    return (this.#stmt('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  // ------------------------------------------------------------------ files

  /** A model file; its manifest's `artifacts` holds the artifacts linked to it now. */
  getFile(cid: string): ModelFile | undefined {
    const row = this.#stmt('SELECT * FROM files WHERE cid = ?').get(cid) as Row | undefined;
    if (!row) return undefined;
    const manifest = JSON.parse(row['manifest'] as string) as Manifest;
    manifest.artifacts = { ...manifest.artifacts, ...this.getArtifacts(cid) };
    return {
      cid: row['cid'] as string,
      size: row['size'] as number,
      manifest,
      createdAt: row['created_at'] as number,
    };
  }

  // ------------------------------------------------------------------ derived artifacts

  /** Artifacts derived from a model file (circuit, keys, ...): role -> CID. */
  getArtifacts(modelCid: string): Record<string, string> {
    const rows = this.#stmt('SELECT role, cid FROM artifacts WHERE model_cid = ? ORDER BY role').all(
      modelCid,
    ) as Row[];
    return Object.fromEntries(rows.map((r) => [r['role'] as string, r['cid'] as string]));
  }

  /** Link artifacts to a recorded model file (replacing a role's previous CID), in one transaction. */
  putArtifacts(modelCid: string, artifacts: Record<string, string>): void {
    this.transaction(() => {
      const now = Date.now();
      for (const [role, cid] of Object.entries(artifacts))
        this.#stmt(
          'INSERT INTO artifacts (model_cid, role, cid, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (model_cid, role) DO UPDATE SET cid = excluded.cid, created_at = excluded.created_at',
        ).run(modelCid, role, cid, now);
    });
  }

  /** True when some model links to `cid` as an artifact. */
  isArtifact(cid: string): boolean {
    return this.#stmt('SELECT 1 FROM artifacts WHERE cid = ? LIMIT 1').get(cid) !== undefined;
  }

  /** Record a model file; a file already recorded keeps its row. */
  putFile(file: { cid: string; size: number; manifest: Manifest }): void {
    this.#stmt('INSERT OR IGNORE INTO files (cid, size, manifest, created_at) VALUES (?, ?, ?, ?)').run(
      file.cid,
      file.size,
      JSON.stringify(file.manifest),
      Date.now(),
    );
  }

  // ------------------------------------------------------------------ repositories and versions

  /** Add a version to a repository (created if new). Versions are immutable. */
  addVersion(v: { repo: string; version: string; cid: string; description: string }): VersionRecord {
    return this.transaction(() => {
      const now = Date.now();
      this.#stmt('INSERT OR IGNORE INTO repositories (name, description, created_at) VALUES (?, ?, ?)').run(
        v.repo,
        v.description,
        now,
      );
      if (v.description)
        this.#stmt('UPDATE repositories SET description = ? WHERE name = ?').run(v.description, v.repo);
      const existing = this.getVersion(v.repo, v.version);
      if (existing) {
        if (existing.cid === v.cid) return existing;
        throw new PlumbError(
          'CONFLICT',
          `${v.repo}@${v.version} already exists with another file (${existing.cid})`,
          {
            metaMessages: ['Versions are immutable: push with a new --version.'],
          },
        );
      }
      this.#stmt(
        'INSERT INTO versions (repo, version, cid, description, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(v.repo, v.version, v.cid, v.description, now);
      return { ...v, createdAt: now };
    });
  }

  getVersion(repo: string, version: string): VersionRecord | undefined {
    const row = this.#stmt('SELECT * FROM versions WHERE repo = ? AND version = ?').get(repo, version) as
      | Row
      | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** Versions of a repository, newest (highest semver) first. */
  listVersions(repo: string): VersionRecord[] {
    const rows = this.#stmt('SELECT * FROM versions WHERE repo = ?').all(repo) as Row[];
    return rows.map(toVersion).sort((a, b) => compareVersions(b.version, a.version));
  }

  /** Versions that point at a CID. */
  versionsOf(cid: string): VersionRecord[] {
    return (
      this.#stmt('SELECT * FROM versions WHERE cid = ? ORDER BY repo, created_at').all(cid) as Row[]
    ).map(toVersion);
  }

  getRepository(name: string): RepositoryRecord | undefined {
    const row = this.#stmt('SELECT * FROM repositories WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    const versions = this.listVersions(name).map((v) => v.version);
    return {
      name,
      description: row['description'] as string,
      createdAt: row['created_at'] as number,
      latest: versions[0],
      versions,
    };
  }

  listRepositories(): RepositoryRecord[] {
    const rows = this.#stmt('SELECT name FROM repositories ORDER BY name').all() as Row[];
    return rows.map((r) => this.getRepository(r['name'] as string)!);
  }

  // ------------------------------------------------------------------ receipts

  /**
   * Store a receipt (a receipt already stored keeps its row). With `settle`, it is also queued
   * for settlement in the same transaction (joining the caller's, as the receipt log's).
   */
  putReceipt(r: StoredReceipt): void {
    const insert = () =>
      this.#stmt('INSERT OR IGNORE INTO receipts (id, model_cid, created_at, body) VALUES (?, ?, ?, ?)').run(
        r.id,
        r.modelCid,
        r.createdAt,
        r.body,
      );
    if (!r.settle) {
      insert();
      return;
    }
    checkSettlable(r.id);
    this.transaction(() => {
      insert();
      this.#stmt('INSERT OR IGNORE INTO settlement_queue (receipt_id, queued_at) VALUES (?, ?)').run(
        r.id,
        Date.now(),
      );
    });
  }

  getReceipt(id: string): StoredReceipt | undefined {
    const row = this.#stmt('SELECT * FROM receipts WHERE id = ?').get(id) as Row | undefined;
    return row ? toReceipt(row) : undefined;
  }

  /** Most recent receipts first. */
  listReceipts({ limit = 50, before }: { limit?: number; before?: number } = {}): StoredReceipt[] {
    const rows = this.#stmt(
      'SELECT * FROM receipts WHERE created_at < ? ORDER BY created_at DESC LIMIT ?',
    ).all(before ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toReceipt);
  }

  // ------------------------------------------------------------------ settlement

  /**
   * Queue receipts stored earlier for settlement; ids already queued (or settled) are skipped.
   * All or nothing: an id with no stored receipt is RECEIPT_NOT_FOUND and queues none.
   * Returns how many were newly queued.
   */
  queueForSettlement(ids: readonly string[], now = Date.now()): number {
    return this.transaction(() => {
      let queued = 0;
      for (const id of ids) {
        checkSettlable(id);
        if (!this.#stmt('SELECT 1 FROM receipts WHERE id = ?').get(id))
          throw new PlumbError('RECEIPT_NOT_FOUND', `no receipt ${id} is stored here to settle`);
        queued += Number(
          this.#stmt('INSERT OR IGNORE INTO settlement_queue (receipt_id, queued_at) VALUES (?, ?)').run(
            id,
            now,
          ).changes,
        );
      }
      return queued;
    });
  }

  /** Up to `limit` queued receipt ids not yet in a batch, oldest first. */
  unbatchedReceiptIds(limit: number): string[] {
    const rows = this.#stmt(
      'SELECT receipt_id FROM settlement_queue WHERE batch_id IS NULL ORDER BY queued_at, rowid LIMIT ?',
    ).all(limit) as Row[];
    return rows.map((r) => r['receipt_id'] as string);
  }

  /** When the oldest receipt not yet in a batch was queued (undefined: none is). */
  oldestUnbatchedAt(): number | undefined {
    const row = this.#stmt('SELECT MIN(queued_at) AS t FROM settlement_queue WHERE batch_id IS NULL').get() as
      | Row
      | undefined;
    return (row?.['t'] as number | null | undefined) ?? undefined;
  }

  /**
   * Cut a batch, in one transaction: a `pending` batch with this root, these queued receipts
   * assigned to it, and its Merkle tree's nodes when given (proofs then need no rebuild).
   * CONFLICT when one of them is not queued or already in a batch (then nothing is written).
   */
  cutBatch(root: string, ids: readonly string[], now = Date.now(), treeNodes?: Uint8Array): SettlementBatch {
    if (ids.length === 0)
      throw new PlumbError('INVALID_ARGUMENT', 'a settlement batch needs at least one receipt');
    return this.transaction(() => {
      if (this.#stmt('SELECT 1 FROM settlement_batches WHERE root = ?').get(root))
        throw new PlumbError('CONFLICT', `a settlement batch with root ${root} already exists`);
      const id = Number(
        this.#stmt(
          "INSERT INTO settlement_batches (root, count, status, created_at) VALUES (?, ?, 'pending', ?)",
        ).run(root, ids.length, now).lastInsertRowid,
      );
      for (const receiptId of ids) {
        const { changes } = this.#stmt(
          'UPDATE settlement_queue SET batch_id = ? WHERE receipt_id = ? AND batch_id IS NULL',
        ).run(id, receiptId);
        if (Number(changes) !== 1)
          throw new PlumbError(
            'CONFLICT',
            `receipt ${receiptId} is not queued for settlement, or already in a batch`,
          );
      }
      if (treeNodes)
        this.#stmt('INSERT INTO settlement_trees (batch_id, nodes) VALUES (?, ?)').run(id, treeNodes);
      return this.getBatch(id)!;
    });
  }

  getBatch(id: number): SettlementBatch | undefined {
    const row = this.#stmt('SELECT * FROM settlement_batches WHERE id = ?').get(id) as Row | undefined;
    return row ? toBatch(row) : undefined;
  }

  /** Batches cut but not known to be on chain, oldest first. */
  pendingBatches(): SettlementBatch[] {
    const rows = this.#stmt(
      "SELECT * FROM settlement_batches WHERE status = 'pending' ORDER BY id",
    ).all() as Row[];
    return rows.map(toBatch);
  }

  /**
   * Record a submission of a pending batch: `attempts` goes up by one, `last_error` becomes
   * `error` (cleared without one), and a transaction hash, when one was sent, is kept.
   */
  recordBatchAttempt(id: number, attempt: { txHash?: string | undefined; error?: string | undefined }): void {
    this.#stmt(
      'UPDATE settlement_batches SET attempts = attempts + 1, last_error = ?, tx_hash = COALESCE(?, tx_hash) WHERE id = ?',
    ).run(attempt.error ?? null, attempt.txHash ?? null, id);
  }

  /** The batch's root is on chain as `chainBatchId`; `txHash` and `blockNumber` when known. */
  markBatchSettled(
    id: number,
    s: {
      chainBatchId: number | bigint;
      blockNumber?: number | bigint | undefined;
      txHash?: string | undefined;
      settledAt: number;
    },
  ): void {
    this.#stmt(
      "UPDATE settlement_batches SET status = 'settled', chain_batch_id = ?, block_number = COALESCE(?, block_number), tx_hash = COALESCE(?, tx_hash), settled_at = ? WHERE id = ?",
    ).run(s.chainBatchId, s.blockNumber ?? null, s.txHash ?? null, s.settledAt, id);
  }

  /**
   * Where a receipt is in settlement: undefined when it was never queued; `batch` undefined
   * while it is queued but not yet in a batch.
   */
  batchOfReceipt(receiptId: string): { queuedAt: number; batch: SettlementBatch | undefined } | undefined {
    const row = this.#stmt('SELECT queued_at, batch_id FROM settlement_queue WHERE receipt_id = ?').get(
      receiptId,
    ) as Row | undefined;
    if (!row) return undefined;
    const batchId = row['batch_id'] as number | null;
    return {
      queuedAt: row['queued_at'] as number,
      batch: batchId === null ? undefined : this.getBatch(batchId),
    };
  }

  /** A batch's Merkle tree as packed 32-byte nodes (merkle.ts `treeNodes`), when kept. */
  batchTreeNodes(batchId: number): Uint8Array | undefined {
    const row = this.#stmt('SELECT nodes FROM settlement_trees WHERE batch_id = ?').get(batchId) as
      | { nodes: Uint8Array }
      | undefined;
    return row?.nodes;
  }

  /** The receipt ids of a batch, in the order they were queued. */
  batchReceiptIds(batchId: number): string[] {
    const rows = this.#stmt(
      'SELECT receipt_id FROM settlement_queue WHERE batch_id = ? ORDER BY queued_at, rowid',
    ).all(batchId) as Row[];
    return rows.map((r) => r['receipt_id'] as string);
  }

  settlementCounts(): SettlementCounts {
    const queued = (
      this.#stmt('SELECT COUNT(*) AS n FROM settlement_queue WHERE batch_id IS NULL').get() as { n: number }
    ).n;
    const rows = this.#stmt(
      'SELECT status, COUNT(*) AS batches, COALESCE(SUM(count), 0) AS receipts FROM settlement_batches GROUP BY status',
    ).all() as Row[];
    const of = (status: string, column: string) =>
      (rows.find((r) => r['status'] === status)?.[column] as number | undefined) ?? 0;
    return {
      queued,
      pendingBatches: of('pending', 'batches'),
      pendingReceipts: of('pending', 'receipts'),
      settledBatches: of('settled', 'batches'),
      settledReceipts: of('settled', 'receipts'),
    };
  }

  counts(): { files: number; repositories: number; versions: number; receipts: number } {
    const count = (table: string) =>
      (this.#stmt(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      files: count('files'),
      repositories: count('repositories'),
      versions: count('versions'),
      receipts: count('receipts'),
    };
  }
}

function toVersion(row: Row): VersionRecord {
  return {
    repo: row['repo'] as string,
    version: row['version'] as string,
    cid: row['cid'] as string,
    description: row['description'] as string,
    createdAt: row['created_at'] as number,
  };
}

/** Only a receipt id (a bytes32 digest) can be a leaf of a settlement batch's Merkle tree. */
function checkSettlable(id: string): void {
  if (!/^0x[0-9a-f]{64}$/.test(id))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `receipt id ${id.slice(0, 80)} cannot be settled: not 0x and 32 bytes of lowercase hex`,
    );
}

function toBatch(row: Row): SettlementBatch {
  const optional = <T>(v: string | number | null | undefined) =>
    v === null || v === undefined ? undefined : (v as T);
  return {
    id: row['id'] as number,
    root: row['root'] as string,
    count: row['count'] as number,
    status: row['status'] === 'settled' ? 'settled' : 'pending',
    txHash: optional<string>(row['tx_hash']),
    chainBatchId: optional<number>(row['chain_batch_id']),
    blockNumber: optional<number>(row['block_number']),
    attempts: row['attempts'] as number,
    lastError: optional<string>(row['last_error']),
    createdAt: row['created_at'] as number,
    settledAt: optional<number>(row['settled_at']),
  };
}

function toReceipt(row: Row): StoredReceipt {
  return {
    id: row['id'] as string,
    modelCid: row['model_cid'] as string,
    createdAt: row['created_at'] as number,
    body: row['body'] as string,
  };
}
