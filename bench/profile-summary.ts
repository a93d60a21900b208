/**
 * Summarize a V8 `.cpuprofile` (from `node --cpu-prof` or the inspector): time by component
 * of a Plumb request, self time by function and by source file or package, and inclusive
 * time of functions, as shares of the busy (not idle) sampled time.
 *
 * Components: each sample goes to the innermost frame on its stack that matches one of
 * `components` (first match in list order per frame), so the shares add up to 100%.
 * Time blocked in a synchronous call (SQLite, fsync) counts as busy: the thread is not idle.
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [--top 20]
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from './common.ts';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

export type Share = { name: string; ms: number; pct: number };
export type ProfileSummary = {
  totalMs: number;
  /** Time not spent idle. */
  busyMs: number;
  components: Share[];
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

/** V8's pseudo-frames, kept as they are. */
const pseudo = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

function isNative(f: CallFrame): boolean {
  return !f.url && !pseudo.has(f.functionName);
}

function frameKey(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/** The nearest ancestor with a source URL (the JS caller of a native frame). */
function jsCaller(
  id: number,
  byId: Map<number, ProfileNode>,
  parent: Map<number, number>,
): CallFrame | undefined {
  for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
    const f = byId.get(p)!.callFrame;
    if (f.url) return f;
  }
  return undefined;
}

type Component = [name: string, test: (f: CallFrame) => boolean];

const has = (f: CallFrame, re: RegExp) => re.test(f.url);

/** What a Plumb request spends time on; a frame takes the first component it matches. */
const components: Component[] = [
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['receipt: secp256k1 sign (signDigest, tiny-secp256k1 wasm)', (f) => f.functionName === 'signDigest'],
  ['receipt: EIP-712 digest (digestOf: keccak, encoding)', (f) => f.functionName === 'digestOf'],
  ['receipt: hashTensors (sha256 of encodings)', (f) => f.functionName === 'hashTensors'],
  ['receipt: tensorMapToJson (inputs/outputs as JSON)', (f) => f.functionName === 'tensorMapToJson'],
  ['receipt: randomNonce', (f) => f.functionName === 'randomNonce'],
  [
    'sqlite: receipt writes (putReceipt, group commit)',
    (f) => has(f, /receipt-log\.ts/) || f.functionName === 'putReceipt',
  ],
  ['sqlite: model lookup (hub.resolve)', (f) => f.functionName === 'resolve' && has(f, /src\/hub\/hub\.ts/)],
  [
    'inputs: parseInputs + checkInputs',
    (f) => /^(parseInputs|checkInputs)$/.test(f.functionName) && has(f, /inputs\.ts/),
  ],
  ['onnxruntime (session.run, tensor copies)', (f) => has(f, /onnxruntime|onnx-runtime\.ts/)],
  ['JSON.stringify / JSON.parse', (f) => !f.url && /^(stringify|parse)$/.test(f.functionName)],
  ['infer() / receipt.ts other', (f) => has(f, /src\/node\/infer\.ts|src\/core\/receipt\.ts/)],
  ['zod request validation', (f) => has(f, /node_modules\/zod\//)],
  ['hono + @hono/* (router, middleware, node-server adapter)', (f) => has(f, /node_modules\/(hono|@hono)\//)],
  ['undici Request/Response/Headers + web streams', (f) => has(f, /deps\/undici|webstreams/)],
  [
    'socket writes',
    (f) =>
      /^(writev|writeUtf8String|writeBuffer)$/.test(f.functionName) || has(f, /stream_base_commons|node:net/),
  ],
  [
    'node:http server (parser, headers, streams, events)',
    (f) => has(f, /_http_|internal\/streams|node:events/),
  ],
];

function componentOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
    const f = byId.get(p)!.callFrame;
    for (const [name, test] of components) if (test(f)) return name;
  }
  return 'other (event loop, microtasks, program)';
}

export function summarizeProfile(path: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const comp = new Map<string, number>();
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
    const c = componentOf(node.id, byId, parent);
    comp.set(c, (comp.get(c) ?? 0) + dt);
    // Native frames (sqlite's run, socket writev, ...) are named with their JS caller, and
    // their time goes to the caller's file or package.
    const f = node.callFrame;
    const caller = isNative(f) ? jsCaller(node.id, byId, parent) : undefined;
    const k = caller ? `${f.functionName || '(native)'} [native] <- ${frameKey(caller)}` : frameKey(f);
    self.set(k, (self.get(k) ?? 0) + dt);
    const fk = caller ? `${shortUrl(caller.url)} (native calls)` : f.url ? shortUrl(f.url) : f.functionName;
    file.set(fk, (file.get(fk) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const key = frameKey(byId.get(id)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  const busyUs = totalUs - idleUs;
  const shares = (m: Map<string, number>, skip?: (name: string) => boolean, n = top): Share[] =>
    [...m.entries()]
      .filter(([name]) => !skip?.(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        pct: Math.round((us / busyUs) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    components: shares(comp, undefined, Number.POSITIVE_INFINITY),
    selfByFunction: shares(self),
    selfByFile: shares(file),
    // The roots ((root), (program) wrappers, the event loop) are 100% by construction.
    inclusive: shares(incl, (name) => name.startsWith('(root)') || name.startsWith('(program)')),
  };
}

/** `full` adds self time by file and inclusive time (the CLI); the bench prints the short form. */
export function formatProfileSummary(s: ProfileSummary, full = true): string {
  const lines = [`sampled ${s.totalMs} ms, busy (not idle) ${s.busyMs} ms; shares are of busy time`];
  const section = (title: string, rows: Share[]) => {
    lines.push(`  ${title}`);
    for (const r of rows)
      lines.push(`    ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
  };
  section('by component (each sample to the innermost matching frame; adds up to 100%):', s.components);
  section('self time by function (native calls named with their JS caller):', s.selfByFunction);
  if (full) {
    section('self time by file / package:', s.selfByFile);
    section('inclusive time by function:', s.inclusive);
  }
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
