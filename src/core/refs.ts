/**
 * Names of things users type: repositories (`owner/name`), versions (semver), and model
 * references (`owner/name`, `owner/name@1.2.0`, or a CID).
 */
import { PlumbError } from './errors.ts';

const repoPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const semverPattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function checkRepoName(name: string): string {
  if (!repoPattern.test(name))
    throw new PlumbError('INVALID_ARGUMENT', `invalid repository name "${name}"`, {
      metaMessages: ['A repository is named owner/name: letters, digits, ".", "_" or "-", e.g. acme/mlp.'],
    });
  return name;
}

export function checkVersion(version: string): string {
  if (!semverPattern.test(version))
    throw new PlumbError('INVALID_ARGUMENT', `invalid version "${version}": expected semver such as 1.0.0`);
  return version;
}

type Parsed = { core: [number, number, number]; pre: string[] };

function parse(v: string): Parsed {
  const m = semverPattern.exec(v);
  if (!m) throw new PlumbError('INVALID_ARGUMENT', `invalid version "${v}"`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** Semver precedence: negative when a < b. Build metadata is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa.core[i] !== pb.core[i]) return pa.core[i]! - pb.core[i]!;
  if (pa.pre.length === 0 || pb.pre.length === 0) return pb.pre.length - pa.pre.length;
  for (let i = 0; i < Math.min(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i]!;
    const y = pb.pre[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.pre.length - pb.pre.length;
}

/** The next patch release after `v` (prerelease dropped): 1.2.3 -> 1.2.4, 1.3.0-rc.1 -> 1.3.0. */
export function nextPatch(v: string): string {
  const { core, pre } = parse(v);
  return pre.length ? core.join('.') : `${core[0]}.${core[1]}.${core[2] + 1}`;
}

export type ModelRef =
  | { kind: 'cid'; cid: string }
  | { kind: 'name'; repo: string; version: string | undefined };

/** Split a model reference. CIDs are recognised by shape here and validated by the hub. */
export function parseModelRef(ref: string): ModelRef {
  if (typeof ref !== 'string' || ref.length === 0)
    throw new PlumbError('INVALID_ARGUMENT', 'missing model reference: give owner/name[@version] or a CID');
  if (!ref.includes('/') && /^(b[a-z2-7]{20,}|Qm[1-9A-HJ-NP-Za-km-z]{44})$/.test(ref))
    return { kind: 'cid', cid: ref };
  const at = ref.lastIndexOf('@');
  const repo = at > 0 ? ref.slice(0, at) : ref;
  const version = at > 0 ? ref.slice(at + 1) : undefined;
  if (!repoPattern.test(repo))
    throw new PlumbError('INVALID_ARGUMENT', `invalid model reference "${ref}"`, {
      metaMessages: ['Give owner/name, owner/name@version, or a model CID (bafy...).'],
    });
  if (version !== undefined) checkVersion(version);
  return { kind: 'name', repo, version };
}
