/** The op registry: ONNX op type (default domain) -> implementation. Adding an op is adding an entry. */
import { batchNormOps } from './batchnorm.ts';
import { castOps } from './cast.ts';
import { convTransposeOps } from './conv-transpose.ts';
import { elementwiseOps } from './elementwise.ts';
import { indexingOps } from './indexing.ts';
import { layoutOps } from './layout.ts';
import { linearOps } from './linear.ts';
import { logicOps } from './logic.ts';
import { mathOps } from './math.ts';
import { nonlinearOps } from './nonlinear.ts';
import type { OpImpl } from './op.ts';
import { poolOps } from './pool.ts';
import { recurrentOps } from './recurrent.ts';
import { reduceOps } from './reduce.ts';
import { shapeOps } from './shape.ts';
import { shapeOfOps } from './shape-of.ts';

export const registry: ReadonlyMap<string, OpImpl> = new Map(
  Object.entries({
    ...elementwiseOps,
    ...linearOps,
    ...convTransposeOps,
    ...poolOps,
    ...batchNormOps,
    ...shapeOps,
    ...shapeOfOps,
    ...indexingOps,
    ...layoutOps,
    ...castOps,
    ...mathOps,
    ...nonlinearOps,
    ...reduceOps,
    ...logicOps,
    ...recurrentOps,
  }),
);
