/** Turn any thrown value into an `application/problem+json` response. */
import { problemContentType, toProblem } from '../core/problem.ts';

export function problemResponse(error: unknown): Response {
  const problem = toProblem(error);
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': problemContentType },
  });
}
