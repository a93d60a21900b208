/**
 * The hub's metadata store on `node:sqlite`: model files by CID (with their manifests),
 * repositories, immutable semver versions, and the receipts a node has issued.
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
export type StoredReceipt = { id: string; modelCid: string; createdAt: number; body: string };

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

  putReceipt(r: StoredReceipt): void {
    this.#stmt('INSERT OR IGNORE INTO receipts (id, model_cid, created_at, body) VALUES (?, ?, ?, ?)').run(
      r.id,
      r.modelCid,
      r.createdAt,
      r.body,
    );
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

function toReceipt(row: Row): StoredReceipt {
  return {
    id: row['id'] as string,
    modelCid: row['model_cid'] as string,
    createdAt: row['created_at'] as number,
    body: row['body'] as string,
  };
}
