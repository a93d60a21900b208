/**
 * The HTTP API's schemas: they validate requests and generate `/openapi.json`.
 */
import { z } from '@hono/zod-openapi';
import { errorCodes } from '../core/errors.ts';
import { modes, receiptSchema } from '../core/receipt.ts';
import { dtypes } from '../core/tensor.ts';
import { zkLayoutSchema } from '../proof/zk/artifacts.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(errorCodes) as [keyof typeof errorCodes, ...(keyof typeof errorCodes)[]]),
    detail: z.string().optional(),
    meta: z.array(z.string()).optional(),
  })
  .openapi('Problem');

/**
 * An array of values. Only its being an array is checked here (not element by element: a
 * tensor can hold millions); the elements are checked against the tensor's dtype and shape
 * when it is converted, with errors naming the element.
 */
const values = z
  .custom<unknown[]>((v) => Array.isArray(v), { message: 'expected an array' })
  .openapi({ type: 'array', items: {} });

export const TensorSchema = z
  .object({
    dtype: z.enum(dtypes as [string, ...string[]]),
    shape: z.array(z.number().int().nonnegative()),
    data: values.openapi({
      description: 'Row-major values, flat or nested; int64/uint64 as integers or decimal strings.',
    }),
  })
  .openapi('Tensor');

export const EzklInputSchema = z
  .object({
    input_data: z.array(values),
    input_shapes: z.array(z.array(z.number().int())).optional(),
  })
  .passthrough()
  .openapi('EzklInput');

const DimSchema = z.union([z.number().int(), z.string(), z.null()]);
const TensorInfoSchema = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(DimSchema).nullable(),
});

export const ManifestSchema = z
  .object({
    format: z.literal('onnx'),
    size: z.number().int(),
    irVersion: z.number().int(),
    opsets: z.record(z.string(), z.number().int()),
    producer: z.object({ name: z.string(), version: z.string() }),
    graphName: z.string(),
    inputs: z.array(TensorInfoSchema),
    outputs: z.array(TensorInfoSchema),
    ops: z.array(z.string()),
    nodeCount: z.number().int(),
    parameterCount: z.number().int(),
    artifacts: z.record(z.string(), z.string()),
  })
  .openapi('Manifest');

export const VersionSchema = z
  .object({
    repo: z.string(),
    version: z.string(),
    cid: z.string(),
    description: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('Version');

export const RepositorySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    createdAt: z.number().int(),
    latest: z.string().optional(),
    versions: z.array(z.string()),
  })
  .openapi('Repository');

export const ModelFileSchema = z
  .object({
    cid: z.string(),
    size: z.number().int(),
    manifest: ManifestSchema,
    createdAt: z.number().int(),
    versions: z.array(VersionSchema),
  })
  .openapi('ModelFile');

export const ZkLayoutSchema = zkLayoutSchema.meta({
  id: 'ZkLayout',
  description:
    "A model's circuit layout (artifact zk.layout): where inputs and outputs sit in the public signals (outputs first), fixed-point scale and input range, R1CS size, powers-of-tau provenance, the setup's trust warning, calibration and setup times.",
});

export const ZkPushSummarySchema = z
  .object({
    reused: z.boolean().openapi({ description: 'The model already had its zk artifacts: no new setup ran' }),
    artifacts: z.record(z.string(), z.string()),
    layout: ZkLayoutSchema,
    calibration: z
      .object({ maxAbsError: z.number(), outputs: z.number().int() })
      .optional()
      .openapi({ description: 'max |circuit output - onnxruntime output| on the calibration input' }),
  })
  .openapi('ZkPushSummary');

export const PushResultSchema = z
  .object({
    cid: z.string(),
    size: z.number().int(),
    repo: z.string(),
    version: z.string(),
    manifest: ManifestSchema,
    zk: ZkPushSummarySchema.optional(),
  })
  .openapi('PushResult');

const cidString = z.string().regex(/^b[a-z2-7]{20,}$/, 'expected a CIDv1 (base32)');

export const PushQuerySchema = z.object({
  repo: z.string().min(1).openapi({ example: 'acme/mlp', description: 'Repository, owner/name' }),
  version: z.string().optional().openapi({ example: '1.0.0', description: 'Semver; default next patch' }),
  description: z.string().max(10_000).optional(),
  zk: z.enum(['true', 'false']).optional().openapi({
    description:
      'Also set up zk proving (Groth16): refused with every unsupported op when the model cannot be proven. With `Accept: application/x-ndjson` the answer streams setup progress lines `{"progress":{stage,message}}` then `{"result":PushResult}` or `{"error":Problem}`.',
  }),
  ptau: cidString.optional().openapi({
    description:
      'With zk: CID of an uploaded (POST /v1/blobs) phase-2-prepared powers-of-tau file from a public ceremony',
  }),
  calibrate: cidString.optional().openapi({
    description:
      'With zk: CID of an uploaded JSON inputs document to measure the circuit error against onnxruntime on',
  }),
  inputBits: z
    .string()
    .regex(/^\d{1,2}$/, 'expected an integer')
    .refine((v) => Number(v) >= 14 && Number(v) <= 64, 'expected 14..64')
    .optional()
    .openapi({
      example: '24',
      description:
        "With zk: signed bit width of the circuit's inputs at scale 2^12 (default 24: |x| < 2048; 32: |x| < 524,288). Wider ranges cost constraints.",
    }),
});

export const BlobResultSchema = z.object({ cid: z.string(), size: z.number().int() }).openapi('BlobResult');

export const ZkInfoSchema = z
  .object({
    modelCid: z.string(),
    artifacts: z
      .record(z.string(), z.string())
      .openapi({ description: 'zk.circuit, zk.wasm, zk.zkey, zk.vkey, zk.layout CIDs' }),
    vkeyCid: z.string(),
    vkey: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'Groth16 verification key (snarkjs JSON)' }),
    layoutCid: z.string(),
    layout: ZkLayoutSchema,
  })
  .openapi('ZkInfo');

export const InferRequestSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .openapi({ example: 'acme/mlp@1.0.0', description: 'owner/name[@version] or a CID' }),
    inputs: z.union([z.record(z.string(), TensorSchema), EzklInputSchema]),
    mode: z.enum(modes).optional(),
    includeInputs: z.boolean().optional().openapi({
      description: 'Carry the inputs in the receipt (default false; the inputHash binds them either way)',
    }),
    nonce: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x followed by 64 hex digits')
      .optional(),
  })
  .openapi('InferRequest');

export const ReceiptSchema = receiptSchema.meta({ id: 'Receipt' });

export const VerifyRequestSchema = z
  .object({
    receipt: z.unknown(),
    reexecute: z.boolean().optional().openapi({ description: 'Also run the model here and compare outputs' }),
  })
  .openapi('VerifyRequest');

const CheckSchema = z.object({ check: z.string(), ok: z.boolean(), message: z.string() });
export const VerifyResultSchema = z
  .object({ valid: z.boolean(), checks: z.array(CheckSchema), reason: z.string().optional() })
  .openapi('VerifyResult');

export const ReceiptSummarySchema = z.object({
  id: z.string(),
  modelCid: z.string(),
  createdAt: z.number().int(),
});

export const NodeInfoSchema = z
  .object({
    name: z.literal('plumb'),
    version: z.string(),
    address: z.string(),
    modes: z.array(z.string()),
    runtime: z.object({ onnxruntime: z.string(), node: z.string(), sessionsLoaded: z.number().int() }),
    counts: z.object({
      files: z.number().int(),
      repositories: z.number().int(),
      versions: z.number().int(),
      receipts: z.number().int(),
    }),
    limits: z.object({ maxUploadBytes: z.number().int() }),
    zk: z
      .object({ concurrency: z.number().int(), running: z.number().int(), queued: z.number().int() })
      .openapi({ description: 'zk proving: worker bound, jobs running and waiting' }),
    chain: z
      .object({ chainId: z.number().int(), rpcUrl: z.string(), devnet: z.boolean(), settlement: z.string() })
      .optional()
      .openapi({ description: 'The chain receipts are signed for and settled on (absent: none)' }),
    startedAt: z.string(),
  })
  .openapi('NodeInfo');
