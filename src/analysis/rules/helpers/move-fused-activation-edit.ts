/**
 * Text edits that move a Keras fused activation (`Dense(64, activation="relu")`) to a separate
 * `Activation` layer written right after a later layer (the BatchNorm that should sit between them).
 * Only for one-line layer statements in the three call-ordered Keras styles:
 *   list item          `    layers.BatchNormalization(),`
 *   model.add          `model.add(layers.BatchNormalization())`
 *   functional         `x = layers.BatchNormalization()(x)`
 * Anything else returns null: no guessing.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { parseCallArguments } from './call-arguments';
import { leadingIndent, lineStarts, offsetAt, rangeOf } from './text-offsets';

/** The statement that applies `activationCall` in the style of `line`, where the after-layer's call spans [start, end). */
function activationStatement(style: ModelIR['style'], line: string, start: number, end: number, activationCall: string): string | null {
  const before = line.slice(0, start);
  const after = line.slice(end).replace(/\r$/, '');
  const indent = leadingIndent(before);
  if (style === 'keras-sequential') return /^\s*$/.test(before) && /^\s*,\s*(#.*)?$/.test(after) ? `${indent}${activationCall},` : null;
  if (style === 'keras-add') {
    const target = /^\s*([\w.]+)\.add\($/.exec(before)?.[1];
    return target && /^\)\s*(#.*)?$/.test(after) ? `${indent}${target}.add(${activationCall})` : null;
  }
  const assigned = /^\s*(\w+)\s*=\s*$/.exec(before)?.[1];
  const input = /^\((\w+)\)\s*(#.*)?$/.exec(after)?.[1];
  // `y = BN()(x)` would need the activation on y: only the common `x = BN()(x)` form is rewritten.
  return style === 'keras-functional' && assigned && assigned === input ? `${indent}${assigned} = ${activationCall}(${assigned})` : null;
}

/** With `replacement` (e.g. `use_bias=False`) the activation argument is replaced by it instead of removed. */
export function moveFusedActivationEdit(model: ModelIR, text: string, layer: LayerIR, after: LayerIR, replacement: string | null = null): TextEdit[] | null {
  const activation = layer.activation;
  if (model.framework !== 'keras' || activation?.source !== 'kwarg' || !activation.range) return null;
  if ((layer.unrolled?.count ?? 1) !== (after.unrolled?.count ?? 1) || after.range.start.line !== after.range.end.line) return null;
  const modulePrefix = /^(.+\.)\w+$/.exec(after.className)?.[1];
  if (!modulePrefix) return null;
  const starts = lineStarts(text);
  const call = parseCallArguments(text, offsetAt(starts, layer.range.start), offsetAt(starts, layer.range.end));
  const valueStart = offsetAt(starts, activation.range.start);
  const index = call?.args.findIndex((a) => a.keyword === 'activation' && a.valueStart === valueStart) ?? -1;
  if (!call || index < 0) return null;
  const arg = call.args[index]!;
  const [from, to] = replacement !== null ? [arg.start, arg.end] : index > 0 ? [call.args[index - 1]!.end, arg.end] : call.args[index + 1] ? [arg.start, call.args[index + 1]!.start] : [arg.start, arg.end];
  const lineIndex = after.range.start.line;
  const line = text.slice(starts[lineIndex], starts[lineIndex + 1] !== undefined ? starts[lineIndex + 1]! - 1 : text.length);
  const activationCall = `${modulePrefix}Activation(${text.slice(arg.valueStart, arg.valueEnd)})`;
  const statement = activationStatement(model.style, line, after.range.start.character, after.range.end.character, activationCall);
  const nextLine = starts[lineIndex + 1];
  if (statement === null || nextLine === undefined) return null;
  const eol = line.endsWith('\r') ? '\r\n' : '\n';
  return [
    { file: model.file, range: rangeOf(starts, from, to), newText: replacement ?? '' },
    { file: model.file, range: rangeOf(starts, nextLine, nextLine), newText: `${statement}${eol}` },
  ];
}
