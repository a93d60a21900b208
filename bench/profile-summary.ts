/**
 * Summarize a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by source
 * file or package, and inclusive time of functions, as shares of all sampled time.
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [--top 20]
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from './common.ts';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type Share = { name: string; ms: number; pct: number };
export type ProfileSummary = {
  totalMs: number;
  /** Time not spent idle. */
  busyMs: number;
  selfByFunction: Share[];
  selfByFile: Share[];
  inclusive: Share[];
};

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.search(/\/(src|bench|test)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function functionKey(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/** Files under src/ and bench/ by path; node_modules by package; node internals by module. */
function fileKey(f: CallFrame): string {
  if (!f.url) return f.functionName || '(native)';
  return shortUrl(f.url);
}

export function summarizeProfile(path: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const file = new Map<string, number>();
  const incl = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to sample i.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node || dt <= 0) continue;
    totalUs += dt;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const k = functionKey(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const fk = fileKey(node.callFrame);
    file.set(fk, (file.get(fk) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const key = functionKey(byId.get(id)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  const busyUs = totalUs - idleUs;
  const shares = (m: Map<string, number>, skip?: (name: string) => boolean): Share[] =>
    [...m.entries()]
      .filter(([name]) => !skip?.(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    selfByFunction: shares(self),
    selfByFile: shares(file),
    // The roots ((root), (program) wrappers, the event loop) are 100% by construction.
    inclusive: shares(incl, (name) => name.startsWith('(root)') || name.startsWith('(program)')),
  };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [`sampled ${s.totalMs} ms, busy (not idle) ${s.busyMs} ms; shares are of busy time`];
  const section = (title: string, rows: Share[]) => {
    lines.push(`  ${title}`);
    for (const r of rows) lines.push(`    ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
  };
  section('self time by file / package:', s.selfByFile);
  section('self time by function:', s.selfByFunction);
  section('inclusive time by function:', s.inclusive);
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [--top 20]\n');
    process.exit(2);
  }
  const top = Number(parseFlags(rest).get('top') ?? 20);
  process.stdout.write(`${formatProfileSummary(summarizeProfile(file, top))}\n`);
}
