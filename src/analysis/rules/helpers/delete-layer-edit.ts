/**
 * A text edit that removes a layer written as a one-line statement in call order: a list item of
 * Sequential([...]) / nn.Sequential(...) on its own line, `model.add(Layer(...))`, or
 * `x = Layer(...)(x)`. Null for anything else (subclassed models, shared lines, loops with other copies).
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { lineStarts, rangeOf } from './text-offsets';

function removableStatement(style: ModelIR['style'], before: string, after: string): boolean {
  const comment = String.raw`\s*(#.*)?$`;
  if (style === 'keras-sequential' || style === 'torch-sequential') return /^\s*$/.test(before) && new RegExp(`^\\s*,${comment}`).test(after);
  if (style === 'keras-add') return /^\s*[\w.]+\.add\($/.test(before) && new RegExp(`^\\)${comment}`).test(after);
  if (style !== 'keras-functional') return false;
  const assigned = /^\s*(\w+)\s*=\s*$/.exec(before)?.[1];
  const input = /^\((\w+)\)\s*(#.*)?$/.exec(after)?.[1];
  return assigned !== undefined && assigned === input;
}

export function deleteLayerEdit(model: ModelIR, text: string, layer: LayerIR): TextEdit | null {
  const { start, end } = layer.range;
  if (start.line !== end.line) return null;
  const starts = lineStarts(text);
  const lineStart = starts[start.line];
  const nextLine = starts[start.line + 1];
  if (lineStart === undefined || nextLine === undefined) return null;
  const line = text.slice(lineStart, nextLine - 1).replace(/\r$/, '');
  if (!removableStatement(model.style, line.slice(0, start.character), line.slice(end.character))) return null;
  return { file: model.file, range: rangeOf(starts, lineStart, nextLine), newText: '' };
}
