/** The node's chain: status, stake, model registration, settlement, and challenges. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { etherAmount, stakeAction } from '../../chain/actions/stake.ts';
import { chainStatus } from '../../chain/actions/status.ts';
import { settlementProofOf } from '../../chain/verify-onchain.ts';
import { PlumbError } from '../../core/errors.ts';
import { tensorMapFromJson } from '../../core/tensor.ts';
import { challengeReceipt } from '../../node/challenge.ts';
import type { PlumbNode } from '../../node/node.ts';
import { registerModel, requireChain } from '../../node/register-model.ts';
import { jsonBody } from '../node-body.ts';
import { ReceiptSchema } from '../schemas.ts';
import { errorResponses, json, jsonRequest } from './responses.ts';

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const ether = z.string().openapi({ description: 'Ether, as a decimal string', example: '1.0' });

const ChainStatusSchema = z
  .object({
    chainId: z.number().int(),
    rpcUrl: z.string(),
    devnet: z.boolean(),
    block: z.number().int(),
    contracts: z.record(z.string(), hex),
    node: z.object({
      address: hex,
      balance: ether,
      staked: ether,
      unbonding: ether,
      unlockAt: z.number().int(),
      active: z.boolean(),
      minStake: ether,
    }),
    settlement: z.record(z.string(), z.unknown()),
  })
  .openapi('ChainStatus');

const SettlementProofSchema = z
  .object({
    status: z.enum(['settled', 'pending', 'queued', 'unknown']),
    batch: z
      .object({
        chainBatchId: z.string(),
        root: hex,
        txHash: hex,
        blockNumber: z.string(),
        count: z.number(),
      })
      .optional(),
    proof: z.array(hex).optional(),
  })
  .openapi('SettlementProof');

const RegisteredSchema = z
  .object({
    cid: z.string(),
    owner: hex,
    manifestHash: hex,
    registered: z.boolean().openapi({ description: 'false when it was registered already' }),
    verifier: hex.optional().openapi({ description: "zk models: the model's Groth16 verifier contract" }),
    tolerance: z.number().optional(),
    txHashes: z.array(hex),
  })
  .openapi('OnchainModel');

const SettleResultSchema = z
  .object({
    batches: z.array(
      z.object({
        id: z.number().int(),
        chainBatchId: z.number().int(),
        root: hex,
        count: z.number().int(),
        txHash: hex.optional(),
        blockNumber: z.number().int().optional(),
      }),
    ),
    receipts: z.number().int(),
  })
  .openapi('SettleResult');

const ChallengeResultSchema = z
  .object({
    receiptId: hex,
    node: hex,
    txHash: hex,
    distance: z.number().openapi({ description: 'largest |signed - proven| output, in output units' }),
    tolerance: z.number(),
    slashed: ether,
    reward: ether,
  })
  .openapi('ChallengeResult');

const failures = {
  400: errorResponses[400],
  404: errorResponses[404],
  409: errorResponses[409],
  422: errorResponses[422],
  503: errorResponses[503],
};

const statusRoute = createRoute({
  method: 'get',
  path: '/v1/chain',
  tags: ['chain'],
  summary: "Chain id, block, Plumb's contracts, this node's stake and settlement queue",
  responses: { 200: json(ChainStatusSchema, 'Chain status'), 503: errorResponses[503] },
});

const stakeRoute = createRoute({
  method: 'post',
  path: '/v1/chain/stake',
  tags: ['chain'],
  summary: "Stake (register), ask to unbond, or withdraw unbonded ether from the node's account",
  request: jsonRequest(
    z.object({ action: z.enum(['stake', 'unbond', 'withdraw']), amount: ether.optional() }),
  ),
  responses: { 200: json(z.object({ txHash: hex, status: ChainStatusSchema }), 'Mined'), ...failures },
});

const modelRoute = createRoute({
  method: 'post',
  path: '/v1/chain/models',
  tags: ['chain'],
  summary: 'Register a hosted model on chain (CID, owner, manifest hash; zk models: verifier and ZkSpec)',
  request: jsonRequest(
    z.object({
      model: z.string().min(1),
      tolerance: z.number().nonnegative().optional().openapi({
        description: 'zk models: how far (in output units) a signed output may be from the proven one',
      }),
    }),
  ),
  responses: { 200: json(RegisteredSchema, 'Registered'), ...failures },
});

const settleRoute = createRoute({
  method: 'post',
  path: '/v1/settle',
  tags: ['chain'],
  summary: 'Settle every queued receipt now (Merkle roots of batches on chain)',
  responses: { 200: json(SettleResultSchema, 'Batches settled'), ...failures },
});

const settlementRoute = createRoute({
  method: 'get',
  path: '/v1/receipts/{id}/settlement',
  tags: ['chain'],
  summary: 'Where a receipt was settled: its batch on chain and its Merkle proof',
  request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: { 200: json(SettlementProofSchema, 'Settlement of the receipt'), ...failures },
});

const challengeRoute = createRoute({
  method: 'post',
  path: '/v1/challenges',
  tags: ['chain'],
  summary: 'Prove a receipt signed a wrong output (zk proof of the right one) and slash its signer',
  request: jsonRequest(
    z.object({
      receipt: ReceiptSchema,
      inputs: z.record(z.string(), z.unknown()).optional().openapi({
        description: 'The inputs (Plumb tensor map), when the receipt does not carry them',
      }),
    }),
  ),
  responses: { 200: json(ChallengeResultSchema, 'The signer was slashed'), ...failures },
});

export function chainRoutes(app: OpenAPIHono, node: PlumbNode): void {
  app.use('/v1/challenges', jsonBody(node.config.maxJsonBytes));
  app.openapi(statusRoute, async (c) => c.json(await chainStatus(requireChain(node)), 200) as never);
  app.openapi(stakeRoute, async (c) => {
    const { action, amount } = c.req.valid('json');
    if (action !== 'withdraw' && amount === undefined)
      throw new PlumbError('INVALID_ARGUMENT', `body.amount: ${action} needs an amount of ether`);
    const chain = requireChain(node);
    const wei = amount === undefined ? undefined : etherAmount(amount);
    const { txHash } = await stakeAction(chain, action, wei);
    return c.json({ txHash, status: await chainStatus(chain) }, 200) as never;
  });
  app.openapi(modelRoute, async (c) => c.json(await registerModel(node, c.req.valid('json')), 200) as never);
  app.openapi(settleRoute, async (c) => c.json(await requireChain(node).settler.settle(), 200) as never);
  app.openapi(settlementRoute, (c) => {
    const id = c.req.valid('param').id.toLowerCase();
    return c.json(settlementProofOf(requireChain(node).settler.proofOf(id)), 200) as never;
  });
  app.openapi(challengeRoute, async (c) => {
    const { receipt, inputs } = c.req.valid('json');
    const result = await challengeReceipt(node, {
      receipt,
      inputs: inputs ? tensorMapFromJson(inputs, 'inputs') : undefined,
    });
    return c.json(result, 200) as never;
  });
}
