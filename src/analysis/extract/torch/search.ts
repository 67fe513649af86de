/**
 * Whole-file searches done on the text and mapped back to syntax nodes. On large files this is far
 * cheaper than visiting every node from JavaScript (each node access crosses into wasm).
 */
import type { Node } from '../../python/syntax-tree';

function* offsets(text: string, pattern: RegExp): Generator<number> {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  for (let m = re.exec(text); m; m = re.exec(text)) yield m.index + (m[1] ? m[0].indexOf(m[1]) : 0);
}

/** Every class definition (nested ones included), in source order. */
export function classDefinitions(root: Node, text: string): Node[] {
  const out: Node[] = [];
  for (const at of offsets(text, /^[ \t]*(class)[ \t]+\w/m)) {
    const keyword = root.descendantForIndex(at, at);
    if (keyword?.type === 'class' && keyword.parent?.type === 'class_definition') out.push(keyword.parent);
  }
  return out;
}

/** Calls whose callee ends in "Sequential" (`nn.Sequential(...)`, `Sequential(...)`), in source order. */
export function sequentialCalls(root: Node, text: string): Node[] {
  const out: Node[] = [];
  for (const at of offsets(text, /\b(Sequential)\s*\(/)) {
    let callee: Node | null = root.descendantForIndex(at, at);
    if (callee?.type !== 'identifier') continue;
    if (callee.parent?.type === 'attribute' && callee.parent.childForFieldName('attribute')?.id === callee.id) callee = callee.parent;
    const call = callee.parent;
    if (call?.type === 'call' && call.childForFieldName('function')?.id === callee.id) out.push(call);
  }
  return out;
}
