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
  const ref = sizeReceiver(node);
  return ref && ref.node.text === receiver ? [ref.axis] : null;
}

/** A factor written as a power of one size of a tensor: `factor * receiver.size(axis) ** power`. */
export interface SizeFactor {
  receiver: Node;
  axis: number;
  power: number;
  factor: number;
}

/**
 * `1.0 / math.sqrt(k.size(-1))`, `k.size(-1) ** -0.5`, `math.sqrt(k.shape[-1])` (a divisor), `2 * x.size(1)`:
 * the size, the power it is raised to and the constant factor; null for anything else. `constant`
 * reads a constant number written in the expression.
 */
export function sizeFactor(node: Node, constant: (n: Node) => number | null): SizeFactor | null {
  const kids = node.namedChildren.filter((c) => c.type !== 'comment');
  if (node.type === 'parenthesized_expression') return kids.length === 1 ? sizeFactor(kids[0]!, constant) : null;
  if (node.type === 'call') {
    const fn = node.childForFieldName('function');
    const args = node.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    if (fn && /^(math|np|numpy|torch)\.sqrt$/.test(fn.text) && args.length === 1) {
      const inner = sizeFactor(args[0]!, constant);
      return inner ? { ...inner, power: inner.power / 2, factor: Math.sqrt(inner.factor) } : null;
    }
  }
  if (node.type === 'binary_operator') {
    const op = node.childForFieldName('operator')?.type;
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    if (!left || !right) return null;
    if (op === '**') {
      const inner = sizeFactor(left, constant);
      const p = constant(right);
      return inner && p !== null ? { ...inner, power: inner.power * p, factor: inner.factor ** p } : null;
    }
    if (op === '*' || op === '/') {
      const [a, b] = [constant(left), constant(right)];
      if (a !== null && b === null) {
        const inner = sizeFactor(right, constant);
        return inner && (op === '*' || a !== 0) ? (op === '*' ? { ...inner, factor: a * inner.factor } : { ...inner, power: -inner.power, factor: a / inner.factor }) : null;
      }
      if (b !== null && a === null && b !== 0) {
        const inner = sizeFactor(left, constant);
        return inner ? { ...inner, factor: op === '*' ? inner.factor * b : inner.factor / b } : null;
      }
    }
    return null;
  }
  const receiver = sizeReceiver(node);
  return receiver ? { receiver: receiver.node, axis: receiver.axis, power: 1, factor: 1 } : null;
}

/** `x.size(k)`, `x.shape[k]`, `x.size()[k]`: the tensor expression and k; null for anything else. */
function sizeReceiver(node: Node): { node: Node; axis: number } | null {
  if (node.type === 'call') {
    const fn = node.childForFieldName('function');
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    const object = fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'size' ? fn.childForFieldName('object') : null;
    const k = args.length === 1 ? integerOf(args[0]) : null;
    return object && k !== null ? { node: object, axis: k } : null;
  }
  if (node.type === 'subscript') {
    const of = node.childForFieldName('value');
    const k = integerOf(node.childForFieldName('subscript'));
    const target = of?.type === 'call' && (of.childForFieldName('arguments')?.namedChildren.length ?? 0) === 0 ? of.childForFieldName('function') : of;
    const name = target?.type === 'attribute' ? target.childForFieldName('attribute')?.text : null;
    const object = target?.childForFieldName('object');
    const fits = (of?.type === 'call' && name === 'size') || (of?.type === 'attribute' && name === 'shape');
    return fits && object && k !== null ? { node: object, axis: k } : null;
  }
  return null;
}

/** An integer literal, negative ones included; null for anything else. */
function integerOf(n: Node | null | undefined): number | null {
  if (!n) return null;
  if (n.type === 'integer') return Number(n.text);
  if (n.type === 'unary_operator' && n.text.startsWith('-') && n.namedChildren[0]?.type === 'integer') return -Number(n.namedChildren[0].text);
  return null;
}
