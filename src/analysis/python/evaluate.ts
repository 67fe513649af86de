/** Constant evaluation of the conditions and shape arithmetic model code writes, over any leaf evaluator. */
import type { Node } from './syntax-tree';
import { constantCall, subscriptOf, type ConstValue } from './constants';
import { namedChildren, unparen } from './syntax';
import { arithmetic } from './constops';

/**
 * Constant evaluation with what Scope.evaluate leaves out and model code uses in conditions:
 * comparisons (`i == 0`, `i < n - 1`), `and` / `or` / `not`, and `a if cond else b`.
 * `leaf` evaluates everything else (names, literals, arithmetic).
 */
export function evaluateWith(leaf: (node: Node) => ConstValue | undefined, node: Node | null | undefined): ConstValue | undefined {
  if (!node) return undefined;
  const n = unparen(node);
  const truthy = (v: ConstValue) => (Array.isArray(v) ? v.length > 0 : Boolean(v));
  switch (n.type) {
    case 'conditional_expression': {
      const [a, cond, b] = namedChildren(n);
      const c = evaluateWith(leaf, cond);
      return c === undefined || !a || !b ? undefined : evaluateWith(leaf, truthy(c) ? a : b);
    }
    case 'not_operator': {
      const v = evaluateWith(leaf, n.childForFieldName('argument'));
      return v === undefined ? undefined : !truthy(v);
    }
    case 'boolean_operator': {
      const a = evaluateWith(leaf, n.childForFieldName('left'));
      const op = n.childForFieldName('operator')?.text;
      if (a === undefined) return undefined;
      if (op === 'and' && !truthy(a)) return a;
      if (op === 'or' && truthy(a)) return a;
      return evaluateWith(leaf, n.childForFieldName('right'));
    }
    case 'comparison_operator': {
      const operands = namedChildren(n);
      const operators = n.children.filter((c) => !c.isNamed).map((c) => c.text);
      if (operands.length !== 2 || operators.length !== 1) return undefined;
      const a = evaluateWith(leaf, operands[0]);
      const b = evaluateWith(leaf, operands[1]);
      if (a === undefined || b === undefined || Array.isArray(a) || Array.isArray(b)) return undefined;
      switch (operators[0]) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case 'is':
          return a === b;
        case '<':
          return a !== null && b !== null && a < b;
        case '<=':
          return a !== null && b !== null && a <= b;
        case '>':
          return a !== null && b !== null && a > b;
        case '>=':
          return a !== null && b !== null && a >= b;
        default:
          return undefined;
      }
    }
    case 'tuple':
    case 'list': {
      // `(shape[ROW_AXIS], shape[COL_AXIS])`: items the leaf knows beyond the scope count too.
      const plain = leaf(n);
      if (plain !== undefined) return plain;
      const items = namedChildren(n).filter((c) => c.type !== 'comment').map((c) => evaluateWith(leaf, c));
      return items.every((v) => v !== undefined) ? items : undefined;
    }
    case 'subscript': {
      // `units[i]` in a loop over `range(len(units))`, `shape[1:]`.
      const index = n.childForFieldName('subscript');
      const value = evaluateWith(leaf, n.childForFieldName('value'));
      const item = index && n.namedChildCount === 2 ? subscriptOf(value, index, (c) => evaluateWith(leaf, c)) : undefined;
      return item !== undefined ? item : leaf(n);
    }
    case 'binary_operator': {
      // `x.shape.as_list()[-1] // ratio`: operands the leaf knows though the scope alone does not.
      const plain = leaf(n);
      if (plain !== undefined) return plain;
      const op = n.childForFieldName('operator')?.text;
      return op ? arithmetic(op, evaluateWith(leaf, n.childForFieldName('left')), evaluateWith(leaf, n.childForFieldName('right'))) : undefined;
    }
    case 'call': {
      const fn = n.childForFieldName('function');
      const args = n.childForFieldName('arguments');
      if (fn?.text === 'len' && args?.namedChildCount === 1) {
        const v = evaluateWith(leaf, args.namedChild(0));
        return Array.isArray(v) || typeof v === 'string' ? v.length : undefined;
      }
      // `np.prod(self.img_shape)`: arguments the leaf knows though the scope alone does not.
      const plain = leaf(n);
      if (plain !== undefined || !args) return plain;
      return constantCall(fn?.text, namedChildren(args).map((a) => evaluateWith(leaf, a)));
    }
    default:
      return leaf(n);
  }
}

