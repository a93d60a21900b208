/**
 * Node configuration, validated once where it enters (CLI flags, environment, defaults).
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { PlumbError } from '../core/errors.ts';

export const nodeConfigSchema = z.object({
  /** Where keys, blobs and the metadata database live. */
  dataDir: z.string().min(1),
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(7070),
  /** Largest model upload accepted, in bytes. */
  maxUploadBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  /** Largest JSON request body (inference, verification), in bytes. */
  maxJsonBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 ** 2),
  /** Most model sessions kept loaded. */
  maxSessions: z.number().int().positive().default(16),
  /** onnxruntime threads per operator; undefined leaves onnxruntime's default. */
  intraOpThreads: z.number().int().positive().optional(),
  /** zk setups and proofs that may run at once (each on its own worker thread); more wait. */
  zkConcurrency: z.number().int().min(1).max(64).default(1),
  /** zk jobs allowed to wait for a worker; beyond that a request is refused (503) at once. */
  zkMaxQueue: z.number().int().min(0).default(64),
  /**
   * Cache of generated DEVELOPMENT powers-of-tau files (default `<dataDir>/zk/ptau`); several
   * data directories may share one.
   */
  zkPtauDir: z.string().min(1).optional(),
  /**
   * Settle receipts on an EVM chain: `rpcUrl` names one; without it, `chain: true` runs the
   * embedded devnet (anvil) for this data directory.
   */
  chain: z.boolean().default(false),
  rpcUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Refuse an RPC on another chain. */
  chainId: z.number().int().positive().optional(),
  /** The Plumb deployment to use: its Settlement contract (default: the one this node deployed or used). */
  settlement: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x address')
    .optional(),
  /** Settle when this many receipts are queued... */
  settleBatchSize: z.number().int().min(1).max(10_000).default(1000),
  /** ...or this long after the oldest was queued. */
  settleIntervalMs: z.number().int().min(100).default(60_000),
  /** Settle on that policy in the background (a daemon); otherwise only when asked. */
  autoSettle: z.boolean().default(false),
  /** Answer the Coordinator's inference requests (a daemon). */
  serveRequests: z.boolean().default(false),
  /** Deploy Plumb's contracts when the chain has none known (always so on the devnet). */
  chainDeploy: z.boolean().default(false),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;

/** `--data-dir`, else `$PLUMB_HOME`, else `~/.plumb`; relative paths from `cwd`. */
export function resolveDataDir(options: {
  dataDir?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): string {
  const env = options.env ?? process.env;
  const dir = options.dataDir ?? env['PLUMB_HOME'] ?? resolve(homedir(), '.plumb');
  return resolve(options.cwd ?? process.cwd(), dir);
}

export function parseNodeConfig(input: NodeConfigInput): NodeConfig {
  const result = nodeConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new PlumbError('INVALID_ARGUMENT', `invalid node config: ${issue.path.join('.')}: ${issue.message}`);
}
