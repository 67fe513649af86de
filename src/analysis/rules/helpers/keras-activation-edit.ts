import type { ActivationName, LayerIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { parseCallArguments } from './call-arguments';
import { keywordArgumentEdit } from './keyword-argument-edit';
import { lineStarts, offsetAt } from './text-offsets';

/** `Dense(64)` -> `Dense(64, activation='relu')` (or the value written replaced), unless the activation might be passed positionally. */
export function kerasActivationEdit(file: string, text: string, layer: LayerIR, activation: ActivationName): TextEdit | null {
  const starts = lineStarts(text);
  const call = parseCallArguments(text, offsetAt(starts, layer.range.start), offsetAt(starts, layer.range.end));
  const positional = call?.args.filter((a) => a.keyword === null).length ?? 99;
  if (positional > (layer.kind === 'dense' ? 1 : 2)) return null;
  return keywordArgumentEdit(file, text, layer.range, 'activation', `'${activation}'`);
}
