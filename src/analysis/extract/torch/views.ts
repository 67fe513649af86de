/**
 * The sizes passed to a tensor's `.view(...)` / `.reshape(...)`, read as torch reads them: constants,
 * sizes of the tensor itself (`x.size(0)`, `x.shape[1]`, their products), or unknown. The shared
 * shape module turns them into an output shape (src/shared/shapes.ts, viewOutput).
 */
import type { Node } from '../../python/syntax-tree';
import type { ViewDim } from '../../../shared/ir';
import { constOf, type Value } from './values';

/** The sizes of `receiver.view(...)`; null when a splat of unknown length hides which argument is which. */
export function viewDims(call: Node, sizes: Value[], partial: boolean): ViewDim[] | null {
  if (partial) return null;
  const receiver = call.childForFieldName('function')?.childForFieldName('object')?.text ?? null;
  const written = (call.childForFieldName('arguments')?.namedChildren ?? []).filter((c) => c.type !== 'comment' && c.type !== 'keyword_argument');
  // `x.view((b, -1))` and `x.view(shape)`: one tuple of sizes.
  const only = sizes[0];
  if (sizes.length === 1 && only?.t === 'list') {
    const tuple = written[0];
    const items = tuple && (tuple.type === 'tuple' || tuple.type === 'list') ? tuple.namedChildren.filter((c) => c.type !== 'comment') : [];
    return only.items.map((v, i) => dimOf(v, items.length === only.items.length ? items[i] : undefined, receiver));
  }
  const syntax = alignSyntax(written, sizes.length);
  return sizes.map((v, i) => dimOf(v, syntax[i], receiver));
}

/** The syntax node of each evaluated argument; a splat's items share none. */
function alignSyntax(written: Node[], count: number): (Node | undefined)[] {
  const splat = written.findIndex((c) => c.type === 'list_splat');
  if (splat < 0) return written;
  const expanded = count - (written.length - 1);
  return [...written.slice(0, splat), ...Array.from({ length: expanded }, () => undefined), ...written.slice(splat + 1)];
}

function dimOf(value: Value, syntax: Node | undefined, receiver: string | null): ViewDim {
  const v = constOf(value);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  const refs = syntax && receiver ? sizeRefs(syntax, receiver) : null;
  return refs ? { of: refs } : null;
}

/** `x.size(k)`, `x.shape[k]`, `x.size()[k]` and products of them -> the indices k; null for anything else. */
function sizeRefs(node: Node, receiver: string): number[] | null {
  if (node.type === 'parenthesized_expression') {
    const inner = node.namedChildren[0];
    return inner ? sizeRefs(inner, receiver) : null;
  }
  if (node.type === 'binary_operator') {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    if (node.childForFieldName('operator')?.type !== '*' || !left || !right) return null;
    const a = sizeRefs(left, receiver);
    const b = sizeRefs(right, receiver);
    return a && b ? [...a, ...b] : null;
  }
  const index = (n: Node | null | undefined): number | null => {
    if (!n) return null;
    if (n.type === 'integer') return Number(n.text);
    if (n.type === 'unary_operator' && n.text.startsWith('-') && n.namedChildren[0]?.type === 'integer') return -Number(n.namedChildren[0].text);
    return null;
  };
  if (node.type === 'call') {
    // x.size(k)
    const fn = node.childForFieldName('function');
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'size' || fn.childForFieldName('object')?.text !== receiver || args.length !== 1) return null;
    const k = index(args[0]);
    return k === null ? null : [k];
  }
  if (node.type === 'subscript') {
    // x.shape[k], x.size()[k]
    const of = node.childForFieldName('value');
    const k = index(node.childForFieldName('subscript'));
    if (!of || k === null) return null;
    const target = of.type === 'call' ? of.childForFieldName('function') : of;
    if (target?.type !== 'attribute' || target.childForFieldName('object')?.text !== receiver) return null;
    const name = target.childForFieldName('attribute')?.text;
    return (of.type === 'call' && name === 'size') || (of.type === 'attribute' && name === 'shape') ? [k] : null;
  }
  return null;
}
