/**
 * Which of a file's models the file actually builds: a call of the model's class or factory outside
 * every model class (a Block instantiated only inside Net's __init__ is a part, not a model the user
 * runs), or a model built by module-level code. The probe defaults to such a model (or to the one that
 * is trained) when a file defines several.
 */
import type { ModelIR, Range } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { enclosing } from '../python/syntax';
import { lineStarts, positionAt } from '../rules/helpers/text-offsets';

const inside = (line: number, range: Range) => range.start.line <= line && line <= range.end.line;

/** Per model (in order), whether the file builds it. Reads only names, styles and ranges: the models may be moved copies read lazily (row-shift.ts). */
export function instantiatedModels(file: PyFile, models: readonly ModelIR[]): boolean[] {
  if (models.length === 0) return [];
  const classRanges = models.filter((m) => m.style === 'torch-module' || m.style === 'keras-subclass').map((m) => m.range);
  // Calls found by text (a long file costs little): `Name(` anywhere outside a model class.
  const names = [...new Set(models.flatMap((m) => [m.name, ...m.exports]))].filter((n) => /^\w+$/.test(n));
  const called = new Set<string>();
  if (names.length > 0) {
    const text = file.text;
    const starts = lineStarts(text);
    for (const m of text.matchAll(new RegExp(`(?<![\\w.])(${names.join('|')})\\s*\\(`, 'g'))) {
      const line = positionAt(starts, m.index).line;
      const before = text.slice(starts[line], m.index);
      if (/^\s*(def|class)\s+$/.test(before)) continue; // the definition itself
      if (!classRanges.some((r) => inside(line, r))) called.add(m[1]!);
    }
  }
  return models.map((model) => {
    const byCall = model.exports.some((name) => called.has(name)) || called.has(model.name);
    const classLike = model.style === 'torch-module' || model.style === 'keras-subclass';
    const moduleLevel = !classLike && model.exports.includes(model.name) && !enclosingDefinition(file, model.range);
    return byCall || moduleLevel;
  });
}

/** Whether the model's defining code sits inside a function or class. */
function enclosingDefinition(file: PyFile, range: Range): boolean {
  const node = file.root.descendantForPosition({ row: range.start.line, column: range.start.character });
  return node !== null && enclosing(node, ['function_definition', 'class_definition']) !== null;
}
