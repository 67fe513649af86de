/**
 * Which of a file's models the file actually builds: a call of the model's class or factory outside
 * every model class (a Block instantiated only inside Net's __init__ is a part, not a model the user
 * runs), or a model built by module-level code. The probe defaults to such a model (or to the one that
 * is trained) when a file defines several.
 */
import type { ModelIR, Range } from '../../shared/ir';
import { spanHolding } from '../../shared/ranges';
import type { PyFile } from '../python/file';
import { enclosing } from '../python/syntax';
import { topLevelStatements } from '../python/top-level';

/** The lines of `ranges` as disjoint spans [from, to] in order (nested and overlapping ones merged). */
function lineSpans(ranges: readonly Range[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const r of [...ranges].sort((a, b) => a.start.line - b.start.line)) {
    const last = spans[spans.length - 1];
    if (last && r.start.line <= last[1]) last[1] = Math.max(last[1], r.end.line);
    else spans.push([r.start.line, r.end.line]);
  }
  return spans;
}

/** Per model (in order), whether the file builds it. Reads only names, styles and ranges: the models may be moved copies read lazily (row-shift.ts). */
export function instantiatedModels(file: PyFile, models: readonly ModelIR[]): boolean[] {
  if (models.length === 0) return [];
  const classSpans = lineSpans(models.filter((m) => m.style === 'torch-module' || m.style === 'keras-subclass').map((m) => m.range));
  // Calls found by text (a long file costs little): `Name(` anywhere outside a model class.
  const names = new Set<string>();
  for (const model of models) {
    names.add(model.name);
    for (const name of model.exports) names.add(name);
  }
  const called = new Set<string>();
  const pattern = callPattern([...names].filter((n) => /^\w+$/.test(n)));
  if (pattern) {
    const text = file.text;
    const tree = file.root.tree;
    // exec from a reset lastIndex, not matchAll, which copies the pattern on every call.
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      const { row, column } = tree.position(m.index);
      if (/^\s*(def|class)\s+$/.test(text.slice(m.index - column, m.index))) continue; // the definition itself
      if (!spanHolding(classSpans, row, ([from]) => from, ([, to]) => to)) called.add(m[1]!);
    }
  }
  return models.map((model) => {
    const byCall = model.exports.some((name) => called.has(name)) || called.has(model.name);
    const classLike = model.style === 'torch-module' || model.style === 'keras-subclass';
    const moduleLevel = !classLike && model.exports.includes(model.name) && !enclosingDefinition(file, model.range);
    return byCall || moduleLevel;
  });
}

/** The last pattern made: an edit of a file keeps its models' names, and a pattern of hundreds of names is long to make. */
let lastPattern: { names: string; pattern: RegExp } | null = null;

/** A pattern of calls of any of `names` (words), not as attributes; null for none. */
function callPattern(names: readonly string[]): RegExp | null {
  if (names.length === 0) return null;
  const joined = names.join('|');
  if (lastPattern?.names !== joined) lastPattern = { names: joined, pattern: new RegExp(`(?<![\\w.])(${joined})\\s*\\(`, 'g') };
  return lastPattern.pattern;
}

/** Whether the model's defining code sits inside a function or class. */
function enclosingDefinition(file: PyFile, range: Range): boolean {
  // The top-level statement holding it says (a binary search over statements listed once per tree), but
  // for a decorated one, whose decorators sit outside the definition: its nodes are asked then.
  const statement = spanHolding(topLevelStatements(file.root), file.root.tree.index({ row: range.start.line, column: range.start.character }), (s) => s.startIndex, (s) => s.endIndex - 1);
  if (!statement) return false;
  if (statement.type !== 'decorated_definition') return statement.type === 'function_definition' || statement.type === 'class_definition';
  const node = file.root.descendantForPosition({ row: range.start.line, column: range.start.character });
  return node !== null && enclosing(node, ['function_definition', 'class_definition']) !== null;
}
