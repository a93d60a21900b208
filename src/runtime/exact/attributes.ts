/** ONNX node attribute readers and the node error shared by every op. */
import { PlumbError } from '../../core/errors.ts';
import type { AttributeProto, NodeProto } from '../../core/onnx/types.ts';

const utf8 = new TextDecoder();

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a?.i === undefined ? dflt : Number(a.i);
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  return attr(node, name)?.ints?.map(Number);
}
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  return attr(node, name)?.f ?? dflt;
}
export function attrString(node: NodeProto, name: string, dflt: string): string {
  const s = attr(node, name)?.s;
  return s === undefined ? dflt : utf8.decode(s);
}

export function nodeError(node: NodeProto, rule: string): PlumbError {
  return new PlumbError('INVALID_MODEL', `${node.opType} node "${node.name}": ${rule}`);
}
