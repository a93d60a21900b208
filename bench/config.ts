/** Bench command line: which sections run, and how long each one measures. */
import { numberFlag, parseFlags } from './common.ts';

const sections = ['latency', 'throughput', 'receipts', 'blobs'] as const;
type Section = (typeof sections)[number];

export type Config = {
  quick: boolean;
  only: Section[];
  latencyRequests: number;
  latencyWarmup: number;
  /** Bound on each latency sample loop, in ms. */
  latencyMaxMs: number;
  concurrency: number;
  loadSeconds: number;
  loadWarmupSeconds: number;
  receiptMs: number;
  blobMb: number;
  profile: boolean;
};

export function readConfig(argv: readonly string[]): Config {
  const flags = parseFlags(argv);
  for (const key of flags.keys())
    if (!['quick', 'only', 'concurrency', 'profile'].includes(key))
      throw new Error(`unknown option --${key} (known: --quick, --only, --concurrency, --profile)`);
  const quick = flags.has('quick');
  const onlyText = flags.get('only');
  const only = onlyText ? onlyText.split(',').map((s) => s.trim()) : [...sections];
  for (const s of only)
    if (!sections.includes(s as Section))
      throw new Error(`--only: unknown section "${s}" (known: ${sections.join(', ')})`);
  return {
    quick,
    only: only as Section[],
    latencyRequests: quick ? 100 : 300,
    latencyWarmup: quick ? 20 : 50,
    latencyMaxMs: quick ? 10_000 : 30_000,
    concurrency: Math.max(1, Math.floor(numberFlag(flags, 'concurrency', 16))),
    loadSeconds: quick ? 2 : 5,
    loadWarmupSeconds: quick ? 0.5 : 1,
    receiptMs: quick ? 700 : 2000,
    blobMb: quick ? 20 : 100,
    profile: flags.has('profile'),
  };
}
