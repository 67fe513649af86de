/**
 * `.add()` on a receiver the file never builds: a fragment whose `feat = Sequential()` line was left
 * in another cell or file (`feat.add(Conv2D(...))`, `feat.add(Dense(10))`). When every `.add` on such
 * a name adds a Keras layer and one has weights, the name is read as a Sequential built just before its first `.add`,
 * and the file gets a note saying so. A receiver the file binds anywhere (assignment, parameter,
 * import, loop or `with` target) is left to the executor as usual.
 */
import type { Node } from '../../python/syntax-tree';
import type { PyFile } from '../../python/file';
import { rangeOf, requiredField } from '../../python/syntax';
import { isBinding } from '../assumed-imports';
import { addNote } from '../notes';
import { layerSpec } from './catalog';
import { walkStatements } from './outline';
import type { KerasSymbols } from './symbols';
import { lastSegment } from './symbols';

export interface ImplicitReceiver {
  name: string;
  /** The receiver's identifier in the first `.add` call (the model's name anchor). */
  nameNode: Node;
  /** The first `.add(...)` call. */
  firstAdd: Node;
}

const ADD_ON_NAME = /^[ \t]*([A-Za-z_]\w*)\.add\(/m;
const found = new WeakMap<PyFile, ImplicitReceiver[]>();

/** The `.add` calls of a module-level statement (`a.add(x); a.add(y)` on one line included). */
function addCalls(statement: Node): Node[] {
  if (statement.type !== 'expression_statement') return [];
  return statement.namedChildren.flatMap((expr) => {
    const fn = expr.type === 'call' ? expr.childForFieldName('function') : null;
    return fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'add' && fn.childForFieldName('object')?.type === 'identifier' ? [expr] : [];
  });
}

/** Module-level receivers of `.add(<Keras layer>)` that nothing in the file binds. */
export function implicitReceivers(file: PyFile, symbols: KerasSymbols): ImplicitReceiver[] {
  const cached = found.get(file);
  if (cached) return cached;
  const receivers: ImplicitReceiver[] = [];
  found.set(file, receivers);
  // The literal first (a native search): the line-anchored regex tries every position of a long file.
  if (!file.text.includes('.add(') || !ADD_ON_NAME.test(file.text)) return receivers;

  const adds = new Map<string, Node[]>();
  walkStatements(file.root, (n) => {
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'decorated_definition') return false;
    for (const call of addCalls(n)) {
      const name = requiredField(requiredField(call, 'function'), 'object').text;
      adds.set(name, [...(adds.get(name) ?? []), call]);
    }
    return n.type !== 'expression_statement';
  });
  const specOf = (call: Node) => {
    const arg = call.childForFieldName('arguments')?.namedChildren.find((c) => c.type !== 'comment');
    if (arg?.type !== 'call') return undefined;
    const q = symbols.qualified(arg.childForFieldName('function'));
    return q?.startsWith('keras.') ? layerSpec(lastSegment(q)) : undefined;
  };
  const addsLayer = (call: Node): boolean => specOf(call) !== undefined;
  // `model.add(layers.Dropout(0.5))` alone shows how to write one layer: no weights, no model to read.
  const addsWeights = (call: Node): boolean => (specOf(call)?.weights ?? 'none') !== 'none';
  // `model = Sequential()` written plainly: bound, and no need to walk the whole tree to know it.
  const assignedPlainly = (name: string) => new RegExp(`^[ \\t]*${name}[ \\t]*(?::[^=\\n]*)?=(?!=)`, 'm').test(file.text);
  const candidates = [...adds].filter(([name, calls]) => !file.imports.has(name) && !symbols.isLocal(name) && !assignedPlainly(name) && calls.every(addsLayer) && calls.some(addsWeights));
  if (candidates.length === 0) return receivers;

  const names = new Set(candidates.map(([name]) => name));
  const bound = new Set<string>();
  const visit = (node: Node) => {
    if (node.type === 'identifier') {
      if (names.has(node.text) && isBinding(node)) bound.add(node.text);
      return;
    }
    if (node.type === 'string' || node.type === 'comment') return;
    for (const child of node.namedChildren) visit(child);
  };
  visit(file.root);
  for (const [name, calls] of candidates) {
    if (bound.has(name)) continue;
    const firstAdd = calls[0]!;
    const nameNode = requiredField(requiredField(firstAdd, 'function'), 'object');
    receivers.push({ name, nameNode, firstAdd });
    addNote(file, { message: `An implicit Keras Sequential was assumed for '${name}': it is never built in this file`, range: rangeOf(nameNode) });
  }
  return receivers;
}
