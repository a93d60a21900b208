/**
 * The model hub: content-addressed model files (BlobStore) plus their manifests, repositories
 * and versions (MetadataStore). A push either lands whole (blob, file row, version) or leaves
 * nothing behind.
 */
import { PlumbError } from '../core/errors.ts';
import type { Manifest } from '../core/manifest.ts';
import { extractManifest } from '../core/onnx/manifest.ts';
import { checkRepoName, checkVersion, nextPatch, parseModelRef } from '../core/refs.ts';
import type { BlobStore } from './blob-store.ts';
import type { MetadataStore, ModelFile, RepositoryRecord, VersionRecord } from './metadata.ts';

export type PushModelOptions = {
  repo: string;
  /** Semver; default 1.0.0 for a new repository, else the next patch after the latest. */
  version?: string | undefined;
  description?: string | undefined;
  maxBytes?: number | undefined;
  onProgress?: ((bytes: number) => void) | undefined;
  /** Extra check of the model bytes before anything is recorded (e.g. the runtime loads it). */
  validate?: ((bytes: Uint8Array, manifest: Manifest) => Promise<void>) | undefined;
  /**
   * Derive artifacts after validation (e.g. a zk setup), before anything is recorded: the blobs
   * it stores, by role, are linked to the model in the push's transaction. If the push fails,
   * those blobs go unless something else refers to them.
   */
  derive?:
    | ((model: {
        cid: string;
        manifest: Manifest;
        read: () => Promise<Uint8Array>;
      }) => Promise<Record<string, string> | undefined>)
    | undefined;
};

export type PushModelResult = {
  cid: string;
  size: number;
  repo: string;
  version: string;
  manifest: Manifest;
};

export type ResolvedModel = { cid: string; file: ModelFile; version: VersionRecord | undefined };

export class ModelHub {
  readonly blobs: BlobStore;
  readonly meta: MetadataStore;
  /** File rows never change once written, so they are cached by CID. */
  readonly #files = new Map<string, ModelFile>();
  /**
   * Versions per repository, newest first. Dropped on a push here; a push by another process
   * on the same data directory (SQLite's data_version moves) is seen within `recheckMs`.
   */
  readonly #versions = new Map<string, VersionRecord[]>();
  #dataVersion = -1;
  #checkedAt = 0;
  static readonly recheckMs = 100;

  constructor(components: { blobs: BlobStore; meta: MetadataStore }) {
    this.blobs = components.blobs;
    this.meta = components.meta;
  }

  async push(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    opts: PushModelOptions,
  ): Promise<PushModelResult> {
    const repo = checkRepoName(opts.repo);
    if (opts.version !== undefined) checkVersion(opts.version);
    const { cid, size } = await this.blobs.put(source, {
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const known = this.meta.getFile(cid);
    let derived: Record<string, string> | undefined;
    try {
      let manifest = known?.manifest;
      let bytes: Uint8Array | undefined;
      if (!manifest) {
        if (size === 0) throw new PlumbError('INVALID_MODEL', 'not a valid ONNX model: the file is empty');
        bytes = await this.blobs.get(cid);
        manifest = extractManifest(bytes);
        await opts.validate?.(bytes, manifest);
      }
      const m = manifest;
      derived = await opts.derive?.({
        cid,
        manifest: m,
        read: async () => bytes ?? this.blobs.get(cid),
      });
      const artifacts = derived;
      const record = this.meta.transaction(() => {
        const latest = this.meta.listVersions(repo)[0];
        const version = opts.version ?? (latest ? nextPatch(latest.version) : '1.0.0');
        this.meta.putFile({ cid, size, manifest: m });
        if (artifacts && Object.keys(artifacts).length) this.meta.putArtifacts(cid, artifacts);
        return this.meta.addVersion({ repo, version, cid, description: opts.description ?? '' });
      });
      this.#versions.delete(repo);
      this.#files.delete(cid);
      const manifestNow = { ...m, artifacts: this.meta.getArtifacts(cid) };
      return { cid, size, repo, version: record.version, manifest: manifestNow };
    } catch (error) {
      // Nothing half-written: a blob no file row refers to goes, and so do derived artifacts.
      if (!known && !this.meta.getFile(cid)) await this.blobs.delete(cid).catch(() => {});
      for (const a of Object.values(derived ?? {}))
        if (!this.meta.isArtifact(a) && !this.meta.getFile(a)) await this.blobs.delete(a).catch(() => {});
      throw error;
    }
  }

  /** A stored model file by CID, or undefined. */
  file(cid: string): ModelFile | undefined {
    let file = this.#files.get(cid);
    if (!file) {
      file = this.meta.getFile(cid);
      if (file) this.#files.set(cid, file);
    }
    return file;
  }

  /** Resolve `owner/name`, `owner/name@version` or a CID to a stored model file. */
  resolve(ref: string): ResolvedModel {
    const parsed = parseModelRef(ref);
    if (parsed.kind === 'cid') {
      const file = this.file(parsed.cid);
      if (!file) throw new PlumbError('MODEL_NOT_FOUND', `no model with CID ${parsed.cid} on this node`);
      return { cid: parsed.cid, file, version: this.meta.versionsOf(parsed.cid)[0] };
    }
    const versions = this.#listVersions(parsed.repo);
    if (versions.length === 0)
      throw new PlumbError('MODEL_NOT_FOUND', `no model named ${parsed.repo} on this node`, {
        metaMessages: ['List models with `plumb model ls`.'],
      });
    const version =
      parsed.version === undefined ? versions[0] : versions.find((v) => v.version === parsed.version);
    if (!version)
      throw new PlumbError('MODEL_NOT_FOUND', `${parsed.repo} has no version ${parsed.version}`, {
        metaMessages: [`Versions: ${versions.map((v) => v.version).join(', ')}`],
      });
    return { cid: version.cid, file: this.file(version.cid)!, version };
  }

  #listVersions(repo: string): VersionRecord[] {
    const now = performance.now();
    if (now - this.#checkedAt >= ModelHub.recheckMs) {
      this.#checkedAt = now;
      const dv = this.meta.dataVersion();
      if (dv !== this.#dataVersion) {
        this.#versions.clear();
        this.#dataVersion = dv;
      }
    }
    let versions = this.#versions.get(repo);
    if (!versions) {
      versions = this.meta.listVersions(repo);
      if (versions.length > 0) this.#versions.set(repo, versions);
    }
    return versions;
  }

  listRepositories(): RepositoryRecord[] {
    return this.meta.listRepositories();
  }

  getRepository(name: string): RepositoryRecord {
    const repo = this.meta.getRepository(checkRepoName(name));
    if (!repo) throw new PlumbError('MODEL_NOT_FOUND', `no model named ${name} on this node`);
    return repo;
  }

  /** The model file's bytes, re-checked against its CID. */
  read(cid: string): Promise<Uint8Array> {
    return this.blobs.get(cid);
  }
}
